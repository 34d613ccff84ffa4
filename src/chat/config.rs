//! The settings a layer is built with ([`Settings`], plain and cloneable), its runtime state
//! ([`State`]: counters and log limiter, shared by the layer and its clones), and what every service
//! of it shares ([`Config`]) and does with a request: [`Config::check`] (route, load, verify),
//! [`Config::accept`] and [`Config::reject`]. Data flows one way: layer → service → config.

use std::fmt;
use std::sync::{Arc, OnceLock};

use http::{Request, Response};
use tower_service::Service;

use crate::allowlist::AllowlistFilter;
use crate::apps::{AppSet, Routed};
use crate::handle::TokenHandle;
use crate::reject::{reject, Clock, Details, RejectionLog, RejectionResponse};
use crate::stats::Counters;
use crate::verify::{Rejection, VerifiedCallback, Verifier};

/// What the `with_*` methods set: plain values, cloned into every service the layer builds.
pub(crate) struct Settings<R> {
    pub(crate) tokens: Tokens,
    pub(crate) verifier: Verifier,
    pub(crate) clock: Clock,
    pub(crate) rejection: Arc<R>,
    /// Whether accepted requests get a [`VerifiedCallback`](crate::VerifiedCallback) extension.
    pub(crate) insert_verified: bool,
    /// The source allowlist, checked before anything else.
    pub(crate) source: Option<AllowlistFilter>,
}

impl<R> Clone for Settings<R> {
    fn clone(&self) -> Self {
        Self {
            tokens: self.tokens.clone(),
            verifier: self.verifier,
            clock: self.clock.clone(),
            rejection: Arc::clone(&self.rejection),
            insert_verified: self.insert_verified,
            source: self.source.clone(),
        }
    }
}

/// What a layer accumulates while it runs, created once with the layer and shared by its clones,
/// by the layers its `with_*` methods return, and by every service it builds.
#[derive(Debug, Default)]
pub(crate) struct State {
    /// The counters of a single-app layer (unused with an [`AppSet`]: each app has its own),
    /// labelled with the verifier's app id when first used.
    counters: OnceLock<Counters>,
    pub(crate) log: RejectionLog,
}

/// Everything a request needs, behind one `Arc` so per-connection clones (and axum's per-request
/// `Layer::layer` calls) stay cheap.
pub(crate) struct Config<R> {
    pub(crate) settings: Settings<R>,
    pub(crate) state: Arc<State>,
}

impl<R> Clone for Config<R> {
    /// The same settings and the same state (never a fresh one).
    fn clone(&self) -> Self {
        Self {
            settings: self.settings.clone(),
            state: Arc::clone(&self.state),
        }
    }
}

impl<R> Config<R> {
    /// The counters of a single-app layer.
    #[inline]
    pub(crate) fn counters(&self) -> &Counters {
        self.state.counters.get_or_init(|| {
            let app_id = self.settings.verifier.app_id();
            if app_id.is_none() {
                // Once per layer, at its first request: the settings are final by then.
                tracing::warn!(
                    "the callback layer checks no SdkAppid: callbacks naming any app are \
                     accepted; give the handle its app (TokenHandle::for_app) or the verifier one \
                     (Verifier::with_app_id)"
                );
            }
            Counters::new(app_id)
        })
    }
}

/// What the layer verifies against.
#[derive(Clone)]
pub(crate) enum Tokens {
    /// One app: one handle (and the counters of this layer).
    Single(TokenHandle),
    /// Several apps, chosen by the request's `SdkAppid`.
    Apps(AppSet),
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tokens::Single(handle) => handle.fmt(f),
            Tokens::Apps(apps) => apps.fmt(f),
        }
    }
}

/// The app a request was checked against: its counters, and its handle for refresh-on-miss.
pub(crate) enum Checked<'a> {
    Single {
        #[cfg_attr(not(feature = "refresh"), allow(dead_code))]
        handle: &'a TokenHandle,
        counters: &'a Counters,
    },
    Routed(Routed<'a>),
}

impl Checked<'_> {
    /// The counters of the app (or of callbacks that named no known app).
    #[inline]
    pub(crate) fn counters(&self) -> &Counters {
        match self {
            Checked::Single { counters, .. } => counters,
            Checked::Routed(routed) => routed.counters(),
        }
    }

    /// The app id for log lines, when the request was matched to an app.
    fn app_id(&self) -> Option<u64> {
        match self {
            Checked::Single { .. } => None,
            Checked::Routed(routed) => routed.app_id(),
        }
    }

    /// After a signature miss: a wait for the app's refresher, if it has one that is worth waiting
    /// for. Without the `refresh` feature nothing refreshes a handle, and there is none.
    pub(crate) fn refresh_on_miss(&self) -> Option<super::future::Wait> {
        #[cfg(feature = "refresh")]
        {
            let handle = match self {
                Checked::Single { handle, .. } => Some(*handle),
                Checked::Routed(routed) => routed.handle(),
            };
            handle?.refresh_on_miss()
        }
        #[cfg(not(feature = "refresh"))]
        {
            let _ = self;
            None
        }
    }
}

impl<R> Config<R> {
    /// One lookup of the app (with an [`AppSet`]), one load of its handle, one verification. No
    /// allocation, and no reference count written.
    #[inline]
    pub(crate) fn check(
        &self,
        query: &str,
        now: u64,
    ) -> (Result<VerifiedCallback, Rejection>, Checked<'_>) {
        match &self.settings.tokens {
            Tokens::Single(handle) => (
                handle.with_snapshot(|snapshot| match snapshot {
                    Some(snapshot) => self.settings.verifier.verify(snapshot, query, now),
                    None => Err(Rejection::TokenUnavailable),
                }),
                Checked::Single {
                    handle,
                    counters: self.counters(),
                },
            ),
            Tokens::Apps(apps) => {
                let (result, routed) = apps.verify(&self.settings.verifier, query, now);
                (result, Checked::Routed(routed))
            }
        }
    }

    /// Counts the rejection, logs it with the reason, the app and the callback command only
    /// (rate-limited: see [`RejectionLog`]) and answers it, the reason in the response's extensions.
    pub(crate) fn reject<B>(
        &self,
        rejection: Rejection,
        query: &str,
        now: u64,
        checked: &Checked<'_>,
    ) -> Response<B>
    where
        R: RejectionResponse<B>,
    {
        reject(
            &*self.settings.rejection,
            &self.state.log,
            checked.counters(),
            rejection,
            now,
            checked.app_id(),
            || Details {
                command: callback_command(query),
                skew_secs: match rejection {
                    Rejection::Expired | Rejection::FromFuture => request_skew(query, now),
                    _ => None,
                },
                source: None,
            },
        )
    }

    /// The source check, before anything else: `None` to go on, or the rejection response (the
    /// address is logged: it is public, unlike the query).
    #[inline]
    pub(crate) fn check_source<ReqBody, B>(
        &self,
        req: &Request<ReqBody>,
        now: u64,
    ) -> Option<Response<B>>
    where
        R: RejectionResponse<B>,
    {
        let filter = self.settings.source.as_ref()?;
        let rejection = filter.check(req).err()?;
        let query = req.uri().query().unwrap_or("");
        let checked = self.route(query);
        Some(reject(
            &*self.settings.rejection,
            &self.state.log,
            checked.counters(),
            rejection,
            now,
            checked.app_id(),
            || Details {
                command: callback_command(query),
                skew_secs: None,
                source: filter.address_of(req),
            },
        ))
    }

    /// The app a request claims, for one refused before verification: its counters (with an
    /// [`AppSet`], those of the app the query names, or of no known app).
    fn route(&self, query: &str) -> Checked<'_> {
        match &self.settings.tokens {
            Tokens::Single(handle) => Checked::Single {
                handle,
                counters: self.counters(),
            },
            Tokens::Apps(apps) => Checked::Routed(apps.route(query)),
        }
    }

    /// Counts the acceptance and hands the request to the inner service: with the
    /// [`VerifiedCallback`] in its extensions, unless the layer was told not to insert it.
    #[inline]
    pub(crate) fn accept<S, B>(
        &self,
        inner: &mut S,
        mut req: Request<B>,
        verified: VerifiedCallback,
        checked: &Checked<'_>,
    ) -> S::Future
    where
        S: Service<Request<B>>,
    {
        checked.counters().record(Ok(verified.verified()));
        if self.settings.insert_verified {
            req.extensions_mut().insert(verified);
        }
        inner.call(req)
    }
}

/// `RequestTime` minus `now`, in seconds, for the log line of a stale or future request (how far
/// off the sender's clock, or the replay, is). `None` when it cannot be read.
fn request_skew(query: &str, now: u64) -> Option<i64> {
    let time = crate::verify::request_time(query)?;
    let skew = i128::from(time) - i128::from(now);
    i64::try_from(skew).ok()
}

/// The `CallbackCommand` (or `WebhookCommand`) of a query, for logs: only if it looks like a command
/// name (`[A-Za-z0-9._]`, at most 64 bytes), so that nothing an attacker sends reaches the logs raw.
fn callback_command(query: &str) -> &str {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == "CallbackCommand" || *key == "WebhookCommand")
        .map_or("-", |(_, value)| {
            let plausible = !value.is_empty()
                && value.len() <= 64
                && value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_');
            if plausible {
                value
            } else {
                "<invalid>"
            }
        })
}

#[cfg(test)]
mod tests {
    use super::callback_command;

    #[test]
    fn command_is_taken_from_either_name() {
        assert_eq!(
            callback_command("a=b&CallbackCommand=C2C.CallbackAfterSendMsg"),
            "C2C.CallbackAfterSendMsg"
        );
        assert_eq!(
            callback_command("WebhookCommand=Live.CallbackAfterCreateRoom"),
            "Live.CallbackAfterCreateRoom"
        );
        assert_eq!(callback_command("Sign=abc"), "-");
    }

    #[test]
    fn implausible_commands_are_not_logged() {
        assert_eq!(
            callback_command("CallbackCommand=%0Afake%20log"),
            "<invalid>"
        );
        assert_eq!(
            callback_command(&format!("CallbackCommand={}", "A".repeat(65))),
            "<invalid>"
        );
    }
}
