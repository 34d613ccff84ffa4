//! The configuration a layer shares with every service it builds, and what a request does with it:
//! [`Config::check`] (route, load, verify), [`Config::accept`] and [`Config::reject`]. Data flows
//! one way: layer → service → config.

use std::fmt;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use http::{Request, Response};
use tower_service::Service;

use super::log::{Details, RejectionLog};
use super::response::RejectionResponse;
use crate::apps::{AppSet, Routed};
use crate::handle::TokenHandle;
use crate::source::SourceFilter;
use crate::stats::Counters;
use crate::verify::{Rejection, VerifiedCallback, Verifier};

/// Everything a request needs, behind one `Arc` so per-connection clones stay cheap.
#[derive(Clone)]
pub(crate) struct Config<R> {
    pub(crate) tokens: Tokens,
    /// The counters of a single-app layer (unused with an [`AppSet`]: each app has its own).
    pub(crate) counters: Arc<Counters>,
    pub(crate) verifier: Verifier,
    pub(crate) clock: Clock,
    pub(crate) rejection: R,
    /// Whether accepted requests get a [`VerifiedCallback`](crate::VerifiedCallback) extension.
    pub(crate) insert_verified: bool,
    /// The source allowlist, checked before anything else.
    pub(crate) source: Option<SourceFilter>,
    pub(crate) log: Arc<RejectionLog>,
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

/// Where the current Unix time comes from. Read once per request.
#[derive(Clone)]
pub(crate) enum Clock {
    System,
    Custom(Arc<dyn Fn() -> u64 + Send + Sync>),
}

impl Clock {
    #[inline]
    pub(crate) fn now_unix(&self) -> u64 {
        match self {
            // A clock before 1970 reads as 0: every request is then "from the future" and rejected.
            Clock::System => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            Clock::Custom(f) => f(),
        }
    }
}

/// The app a request was checked against: its counters, and its handle for refresh-on-miss.
pub(crate) enum Checked<'a> {
    Single {
        /// For refresh-on-miss; nothing else needs the handle after the check.
        #[cfg(feature = "refresh")]
        handle: &'a TokenHandle,
        counters: &'a Counters,
    },
    Routed(Routed<'a>),
}

impl Checked<'_> {
    pub(crate) fn record(&self, outcome: Result<VerifiedCallback, Rejection>) {
        let outcome = outcome.map(|v| v.verified());
        match self {
            Checked::Single { counters, .. } => counters.record(outcome),
            Checked::Routed(routed) => routed.counters().record(outcome),
        }
    }

    /// The app id for log lines, when the request was matched to an app.
    fn app_id(&self) -> Option<u64> {
        match self {
            Checked::Single { .. } => None,
            Checked::Routed(routed) => routed.app_id(),
        }
    }

    /// The handle to ask for a refresh on a signature miss.
    #[cfg(feature = "refresh")]
    pub(crate) fn miss_handle(&self) -> Option<&TokenHandle> {
        match self {
            Checked::Single { handle, .. } => Some(handle),
            Checked::Routed(routed) => routed.handle(),
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
        match &self.tokens {
            Tokens::Single(handle) => (
                handle.with_snapshot(|snapshot| match snapshot {
                    Some(snapshot) => self.verifier.verify(snapshot, query, now),
                    None => Err(Rejection::TokenUnavailable),
                }),
                Checked::Single {
                    #[cfg(feature = "refresh")]
                    handle,
                    counters: &self.counters,
                },
            ),
            Tokens::Apps(apps) => {
                let (result, routed) = apps.verify(&self.verifier, query, now);
                (result, Checked::Routed(routed))
            }
        }
    }

    /// The rejection response, with the reason in its extensions, and a log line that carries the
    /// reason, the app and the callback command only (rate-limited: see [`RejectionLog`]).
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
        self.log
            .record(rejection, now, checked.app_id(), || Details {
                command: callback_command(query),
                skew_secs: match rejection {
                    Rejection::Expired | Rejection::FromFuture => request_skew(query, now),
                    _ => None,
                },
                source: None,
            });
        let mut response = self.rejection.response(rejection);
        response.extensions_mut().insert(rejection);
        response
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
        let filter = self.source.as_ref()?;
        let rejection = filter.check(req).err()?;
        let query = req.uri().query().unwrap_or("");
        let checked = self.route(query);
        checked.record(Err(rejection));
        self.log
            .record(rejection, now, checked.app_id(), || Details {
                command: callback_command(query),
                skew_secs: None,
                source: filter.address_of(req),
            });
        let mut response = self.rejection.response(rejection);
        response.extensions_mut().insert(rejection);
        Some(response)
    }

    /// The app a request claims, for one refused before verification: its counters (with an
    /// [`AppSet`], those of the app the query names, or of no known app).
    fn route(&self, query: &str) -> Checked<'_> {
        match &self.tokens {
            #[cfg(feature = "refresh")]
            Tokens::Single(handle) => Checked::Single {
                handle,
                counters: &self.counters,
            },
            #[cfg(not(feature = "refresh"))]
            Tokens::Single(_) => Checked::Single {
                counters: &self.counters,
            },
            Tokens::Apps(apps) => Checked::Routed(apps.route(query)),
        }
    }

    /// Hands the request to the inner service: with the [`VerifiedCallback`] in its extensions,
    /// unless the layer was told not to insert it.
    #[inline]
    pub(crate) fn accept<S, B>(
        &self,
        inner: &mut S,
        mut req: Request<B>,
        verified: VerifiedCallback,
    ) -> S::Future
    where
        S: Service<Request<B>>,
    {
        if self.insert_verified {
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
