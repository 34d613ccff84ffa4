//! [`CallbackAuth`]: the service that verifies each request.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use tower_service::Service;

use super::future::ResponseFuture;
use super::layer::{Config, Tokens};
use super::response::RejectionResponse;
use crate::apps::App;
use crate::handle::TokenHandle;
use crate::stats::Counters;
use crate::verify::{scan, AppCheck, Rejection, VerifiedCallback};

/// The service built by [`CallbackAuthLayer`](super::CallbackAuthLayer): verifies the callback's
/// query string, then calls the inner service with the request untouched, or answers with the
/// rejection response.
///
/// See the [module docs](crate::middleware) for details.
pub struct CallbackAuth<S, R> {
    pub(crate) inner: S,
    pub(crate) config: Arc<Config<R>>,
}

impl<S: Clone, R> Clone for CallbackAuth<S, R> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            config: Arc::clone(&self.config),
        }
    }
}

impl<S: fmt::Debug, R: fmt::Debug> fmt::Debug for CallbackAuth<S, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackAuth")
            .field("inner", &self.inner)
            .field("tokens", &self.config.tokens)
            .field("verifier", &self.config.verifier)
            .field("rejection", &self.config.rejection)
            .finish()
    }
}

/// The app a request was checked against: its counters, and its handle for refresh-on-miss.
pub(crate) enum Checked<'a> {
    Single(&'a TokenHandle, &'a Counters),
    App(Arc<App>),
    Unknown(&'a Counters),
}

impl Checked<'_> {
    pub(crate) fn record(&self, outcome: Result<VerifiedCallback, Rejection>) {
        let outcome = outcome.map(|v| v.verified());
        match self {
            Checked::Single(_, counters) | Checked::Unknown(counters) => counters.record(outcome),
            Checked::App(app) => app.counters.record(outcome),
        }
    }

    /// The app id for log lines, when the request was matched to an app.
    fn app_id(&self) -> Option<u64> {
        match self {
            Checked::Single(..) | Checked::Unknown(_) => None,
            Checked::App(app) => Some(app.id),
        }
    }

    fn handle(&self) -> Option<&TokenHandle> {
        match self {
            Checked::Single(handle, _) => Some(handle),
            Checked::App(app) => Some(&app.handle),
            Checked::Unknown(_) => None,
        }
    }
}

impl<R> Config<R> {
    /// One load of the handle (after one lookup of the app), one verification. No allocation.
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
                Checked::Single(handle, &self.counters),
            ),
            Tokens::Apps(apps) => {
                // The app id is needed before the snapshot, so the whole query is scanned first.
                let scan = scan(query.as_bytes());
                let app = match scan.parsed_app_id() {
                    Ok(Some(id)) => apps.find(id),
                    Ok(None) => None,
                    Err(rejection) => {
                        return (Err(rejection), Checked::Unknown(apps.unknown_counters()))
                    }
                };
                match app {
                    Some(app) => {
                        let result = app.handle.with_snapshot(|snapshot| match snapshot {
                            // The lookup has read SdkAppid under the verifier's rules: that app.
                            Some(snapshot) => self.verifier.verify_scanned(
                                &scan,
                                snapshot,
                                now,
                                AppCheck::Known(app.id),
                            ),
                            None => Err(Rejection::TokenUnavailable),
                        });
                        (result, Checked::App(app))
                    }
                    None => (
                        Err(Rejection::AppIdMismatch),
                        Checked::Unknown(apps.unknown_counters()),
                    ),
                }
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
            .record(rejection, now, checked.app_id(), || callback_command(query));
        let mut response = self.rejection.response(rejection);
        response.extensions_mut().insert(rejection);
        response
    }

    /// Hands the request to the inner service: with the [`VerifiedCallback`] in its extensions,
    /// unless the layer was told not to insert it.
    #[inline]
    fn accept<S, B>(
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

impl<S, R, ReqBody, ResBody> Service<Request<ReqBody>> for CallbackAuth<S, R>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
    R: RejectionResponse<ResBody> + Send + Sync + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let now = self.config.clock.now_unix();
        let (result, checked) = self.config.check(req.uri().query().unwrap_or(""), now);
        if let Err(Rejection::SignatureMismatch) = result {
            // The token may have just been rotated: wait for that app's refresher, then verify once
            // more with the same clock reading. The ready inner service moves into the future.
            if let Some(wait) = checked.handle().and_then(TokenHandle::refresh_on_miss) {
                let clone = self.inner.clone();
                let mut inner = std::mem::replace(&mut self.inner, clone);
                let config = Arc::clone(&self.config);
                return ResponseFuture::waiting(Box::pin(async move {
                    wait.await;
                    let query = req.uri().query().unwrap_or("");
                    let (result, checked) = config.check(query, now);
                    checked.record(result);
                    match result {
                        Ok(verified) => Ok(config.accept(&mut inner, req, verified)),
                        Err(rejection) => Err(config.reject(rejection, query, now, &checked)),
                    }
                }));
            }
        }
        checked.record(result);
        match result {
            Ok(verified) => {
                ResponseFuture::inner(self.config.accept(&mut self.inner, req, verified))
            }
            Err(rejection) => {
                let query = req.uri().query().unwrap_or("");
                ResponseFuture::rejected(self.config.reject(rejection, query, now, &checked))
            }
        }
    }
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
