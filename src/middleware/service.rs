//! [`CallbackAuth`]: the service that verifies each request.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use tower_service::Service;

use super::future::ResponseFuture;
use super::layer::Config;
use super::response::RejectionResponse;
use crate::verify::{Rejection, Verified};

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
            .field("handle", &self.config.handle)
            .field("verifier", &self.config.verifier)
            .field("rejection", &self.config.rejection)
            .finish()
    }
}

impl<R> Config<R> {
    /// One load of the handle, one verification. No allocation.
    #[inline]
    pub(crate) fn check(&self, query: &str, now: u64) -> Result<Verified, Rejection> {
        self.handle.with_snapshot(|snapshot| match snapshot {
            Some(snapshot) => self.verifier.verify(snapshot, query, now),
            None => Err(Rejection::TokenUnavailable),
        })
    }

    /// The rejection response, with the reason in its extensions, and a log line that carries the
    /// reason and the callback command only.
    pub(crate) fn reject<B>(&self, rejection: Rejection, query: &str) -> Response<B>
    where
        R: RejectionResponse<B>,
    {
        tracing::warn!(
            reason = rejection.as_str(),
            command = callback_command(query),
            "rejected tencent callback"
        );
        let mut response = self.rejection.response(rejection);
        response.extensions_mut().insert(rejection);
        response
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
        let query = req.uri().query().unwrap_or("");
        let now = self.config.clock.now_unix();
        match self.config.check(query, now) {
            Ok(_) => ResponseFuture::inner(self.inner.call(req)),
            Err(Rejection::SignatureMismatch) => match self.config.handle.refresh_on_miss() {
                // The token may have just been rotated: wait for the refresher, then verify once
                // more with the same clock reading. The ready inner service moves into the future.
                Some(wait) => {
                    let clone = self.inner.clone();
                    let mut inner = std::mem::replace(&mut self.inner, clone);
                    let config = Arc::clone(&self.config);
                    ResponseFuture::waiting(Box::pin(async move {
                        wait.await;
                        let query = req.uri().query().unwrap_or("");
                        match config.check(query, now) {
                            Ok(_) => Ok(inner.call(req)),
                            Err(rejection) => Err(config.reject(rejection, query)),
                        }
                    }))
                }
                None => ResponseFuture::rejected(
                    self.config.reject(Rejection::SignatureMismatch, query),
                ),
            },
            Err(rejection) => ResponseFuture::rejected(self.config.reject(rejection, query)),
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
