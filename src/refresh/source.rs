//! [`Source`]: where a refresher gets its values, and the sources this crate provides (a fixed
//! value, and Tencent's REST API for both the token and the webhook addresses).

use std::future::Future;

use crate::allowlist::IpAllowlist;
use crate::error::Error;
use crate::token::TokenSnapshot;

/// Something that can fetch the current value of `T`: a [`TokenSnapshot`] for a
/// [`TokenRefresher`](super::TokenRefresher), an [`IpAllowlist`] for an
/// [`AllowlistRefresher`](super::AllowlistRefresher).
///
/// Implemented by [`RestClient`](crate::rest::RestClient) (Tencent's token API) and
/// [`RestClient::webhook_addresses`](crate::rest::RestClient::webhook_addresses) (its webhook
/// egress addresses), by a `TokenSnapshot` and an `IpAllowlist` themselves (a fixed value, such as
/// the IM console token, which has no read API), and easily by your own store:
///
/// ```
/// use tim_callback_auth::refresh::Source;
/// use tim_callback_auth::{CallbackToken, Error, ErrorKind, TokenSnapshot};
///
/// struct FromEnv;
///
/// impl Source<TokenSnapshot> for FromEnv {
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
/// value. A panic inside `fetch` is caught and treated as an error.
pub trait Source<T>: Send + Sync + 'static {
    /// Fetches the current value.
    fn fetch(&self) -> impl Future<Output = Result<T, Error>> + Send;

    /// Fetches because the layer saw a fresh signature that no known token matches (refresh on a
    /// miss): a source shared by a fleet asks the fleet's one fetcher instead of Tencent. By
    /// default the same as [`fetch`](Self::fetch).
    fn fetch_on_miss(&self) -> impl Future<Output = Result<T, Error>> + Send {
        self.fetch()
    }

    /// Resolves when the source knows its value changed (a notice from a shared store): the
    /// refresher then fetches at once instead of at its next interval. Never, by default.
    ///
    /// The refresher asks again after every fetch, so an implementation resolves at once for a
    /// change it has not served yet (one that came while a fetch was under way).
    fn changed(&self) -> impl Future<Output = ()> + Send {
        std::future::pending()
    }

    /// The SDKAppID this source serves, when it knows it (the REST client does): the refresher's
    /// default [`app_id`](super::RefresherBuilder::app_id). `None` by default.
    fn app_id(&self) -> Option<u64> {
        None
    }
}

/// A fixed snapshot is its own source: it always returns itself.
impl Source<TokenSnapshot> for TokenSnapshot {
    async fn fetch(&self) -> Result<TokenSnapshot, Error> {
        Ok(self.clone())
    }
}

/// A fixed list is its own source: it always returns itself.
impl Source<IpAllowlist> for IpAllowlist {
    async fn fetch(&self) -> Result<IpAllowlist, Error> {
        Ok(self.clone())
    }
}

#[cfg(feature = "rest")]
mod rest {
    use super::Source;
    use crate::allowlist::IpAllowlist;
    use crate::error::Error;
    use crate::rest::{RestClient, WebhookNetwork};
    use crate::token::TokenSnapshot;

    /// The callback token, from `live_config/get_callback_token`.
    impl Source<TokenSnapshot> for RestClient {
        async fn fetch(&self) -> Result<TokenSnapshot, Error> {
            self.get_callback_token().await
        }

        fn app_id(&self) -> Option<u64> {
            Some(self.sdk_app_id())
        }
    }

    /// Tencent's webhook egress addresses for one network: made by
    /// [`RestClient::webhook_addresses`].
    #[derive(Clone, Debug)]
    struct WebhookAddresses {
        client: RestClient,
        network: WebhookNetwork,
    }

    impl Source<IpAllowlist> for WebhookAddresses {
        async fn fetch(&self) -> Result<IpAllowlist, Error> {
            self.client.get_ip_list(self.network).await
        }

        fn app_id(&self) -> Option<u64> {
            Some(self.client.sdk_app_id())
        }
    }

    impl RestClient {
        /// A source of the webhook egress addresses for `network` (`ConfigSvc/GetIPList`), for an
        /// [`AllowlistRefresher`](crate::refresh::AllowlistRefresher).
        pub fn webhook_addresses(
            &self,
            network: WebhookNetwork,
        ) -> impl Source<IpAllowlist> + Clone + std::fmt::Debug {
            WebhookAddresses {
                client: self.clone(),
                network,
            }
        }
    }
}
