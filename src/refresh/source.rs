//! [`TokenSource`]: where the refresher gets its snapshots.

use std::future::Future;

use crate::error::Error;
use crate::token::TokenSnapshot;

/// Something that can fetch the current callback token configuration.
///
/// Implemented by [`RestClient`](crate::rest::RestClient) (Tencent's API), by [`StaticSource`] (a
/// fixed token, such as the IM console token, which has no read API), and easily by your own store:
///
/// ```
/// use tim_callback_auth::refresh::TokenSource;
/// use tim_callback_auth::{CallbackToken, Error, ErrorKind, TokenSnapshot};
///
/// struct FromEnv;
///
/// impl TokenSource for FromEnv {
///     async fn fetch(&self) -> Result<TokenSnapshot, Error> {
///         let token = std::env::var("MY_CALLBACK_TOKEN").map_err(Error::from_source)?;
///         let token = CallbackToken::new(&token).map_err(Error::from_source)?;
///         Ok(TokenSnapshot::enabled(token))
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// // Unset variable: the refresher would keep its last good snapshot and retry.
/// let error = FromEnv.fetch().await.unwrap_err();
/// assert_eq!(error.kind(), ErrorKind::Source);
/// # }
/// ```
///
/// The refresher only stores what `fetch` returns when it succeeds; an error keeps the last good
/// snapshot. A panic inside `fetch` is caught and treated as an error.
pub trait TokenSource: Send + Sync + 'static {
    /// Fetches the current configuration.
    fn fetch(&self) -> impl Future<Output = Result<TokenSnapshot, Error>> + Send;

    /// The SDKAppID this source serves, when it knows it (the REST client does): the refresher's
    /// default [`app_id`](super::TokenRefresherBuilder::app_id). `None` by default.
    fn app_id(&self) -> Option<u64> {
        None
    }
}

/// A source that always returns the same snapshot.
#[derive(Clone, Debug)]
pub struct StaticSource {
    snapshot: TokenSnapshot,
}

impl StaticSource {
    /// A source that always returns `snapshot`.
    pub fn new(snapshot: TokenSnapshot) -> Self {
        Self { snapshot }
    }
}

impl TokenSource for StaticSource {
    async fn fetch(&self) -> Result<TokenSnapshot, Error> {
        Ok(self.snapshot.clone())
    }
}

#[cfg(feature = "rest")]
impl TokenSource for crate::rest::RestClient {
    async fn fetch(&self) -> Result<TokenSnapshot, Error> {
        self.get_callback_token().await
    }

    fn app_id(&self) -> Option<u64> {
        Some(self.sdk_app_id())
    }
}
