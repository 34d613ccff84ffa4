//! Allow only Tencent's webhook egress addresses: defense in depth where the protocol is weak.
//!
//! The `Sign` covers only the token and `RequestTime`: whoever sees one callback URL can send any
//! body with it for about a minute. Tencent's answer is an allowlist: `v4/ConfigSvc/GetIPList`
//! returns "the egress addresses used by Chat for webhooks" (`nettype` 5 inside China, Hong Kong
//! included; 6 outside), and its docs ask the business server to allow only those. A
//! [`AllowlistFilter`] does it in the layer, before anything else (it is the cheapest check):
//!
//! - an [`IpAllowlist`] (sorted, merged IPv4 and IPv6 ranges; membership by binary search, no
//!   allocation per request), held in an [`AllowlistHandle`] like the token, static or kept fresh
//!   by an [`AllowlistRefresher`](crate::refresh::AllowlistRefresher) (`rest` feature);
//! - a [`ClientAddress`] rule, chosen explicitly: the TCP peer, or `X-Forwarded-For`/`Forwarded`
//!   behind a known number of trusted proxies, or your own.
//!
//! A request from outside the list is rejected with
//! [`Rejection::SourceNotAllowed`] (403 by default); one whose
//! address cannot be determined with [`UnknownSource`](crate::Rejection::UnknownSource) (403);
//! until a first list is loaded, with
//! [`AllowlistUnavailable`](crate::Rejection::AllowlistUnavailable) (503), unless
//! [`allow_until_loaded`](AllowlistFilter::allow_until_loaded). All are counted and logged like the
//! other rejections.
//!
//! # Examples
//!
//! A static list and the TCP peer (axum: serve with
//! `into_make_service_with_connect_info::<SocketAddr>()`):
//!
//! ```
//! use std::net::SocketAddr;
//! use tim_callback_auth::allowlist::{AllowlistHandle, ClientAddress, AllowlistFilter};
//! use tim_callback_auth::{CallbackAuthLayer, CallbackToken, Rejection, TokenHandle, TokenSnapshot};
//! use tower::{Layer, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let token = CallbackToken::new("a-console-token-0123456789")?;
//! let list = AllowlistHandle::new("183.192.202.0/25, 2402:4e00::/32".parse()?);
//! let layer = CallbackAuthLayer::new(TokenHandle::new(TokenSnapshot::enabled(token.clone())))
//!     .with_allowlist(AllowlistFilter::new(list, ClientAddress::peer()));
//! let service = layer.layer(tower::service_fn(|_req: http::Request<String>| async {
//!     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
//! }));
//!
//! let signed = format!("/cb?Sign={}&RequestTime=1700000000", token.sign(1700000000));
//! let mut request = http::Request::post(signed).body(String::new())?;
//! request.extensions_mut().insert("198.51.100.7:5555".parse::<SocketAddr>()?);
//! let response = service.oneshot(request).await?;
//! assert_eq!(response.status(), 403);
//! assert_eq!(response.extensions().get::<Rejection>(), Some(&Rejection::SourceNotAllowed));
//! # Ok(())
//! # }
//! ```
//!
//! Behind one reverse proxy that appends to `X-Forwarded-For`, with the list from Tencent:
//!
//! ```no_run
//! use tim_callback_auth::refresh::AllowlistRefresher;
//! use tim_callback_auth::rest::{RestClient, WebhookNetwork};
//! use tim_callback_auth::allowlist::{ClientAddress, AllowlistFilter};
//!
//! # #[tokio::main]
//! # async fn main() -> Result<(), tim_callback_auth::Error> {
//! let client = RestClient::builder(1400000000, "secret key").build()?;
//! let lists = AllowlistRefresher::builder(client.webhook_addresses(WebhookNetwork::China))
//!     .start()
//!     .await?; // waits for the first list; refreshes every 10 minutes
//! let filter = AllowlistFilter::new(lists.handle(), ClientAddress::x_forwarded_for(1));
//! # let _ = filter;
//! # Ok(())
//! # }
//! ```
//!
//! # Security considerations
//!
//! The address rule decides what the filter is worth. [`ClientAddress::peer`] behind a proxy sees
//! only the proxy; `X-Forwarded-For` without a trusted proxy in front is whatever the client
//! wrote. Count your proxies: each must append the address it received from.

mod address;
mod handle;
mod list;

use std::net::IpAddr;

use http::Request;

pub use self::address::ClientAddress;
pub use self::handle::AllowlistHandle;
pub use self::list::{IpAllowlist, MAX_ENTRIES};
use crate::verify::Rejection;

/// The source check of a layer: which list, whose address, and what to do before a first list.
///
/// Give it to [`CallbackAuthLayer::with_allowlist`](crate::CallbackAuthLayer::with_allowlist).
/// See the [module docs](self).
#[derive(Clone, Debug)]
pub struct AllowlistFilter {
    list: AllowlistHandle,
    address: ClientAddress,
    allow_until_loaded: bool,
}

impl AllowlistFilter {
    /// Requests must come from an address in `list`, as `address` finds it.
    pub fn new(list: AllowlistHandle, address: ClientAddress) -> Self {
        Self {
            list,
            address,
            allow_until_loaded: false,
        }
    }

    /// Lets requests through while no list is loaded yet (default `false`: they are answered 503,
    /// like a missing token).
    #[must_use]
    pub fn allow_until_loaded(mut self, allow: bool) -> Self {
        self.allow_until_loaded = allow;
        self
    }

    /// The list's handle.
    pub fn list(&self) -> &AllowlistHandle {
        &self.list
    }

    /// Whether `request` may go on: what the layer asks first, for use without tower too. One
    /// address lookup, one load of the list, one binary search; no allocation.
    ///
    /// # Errors
    ///
    /// [`Rejection::SourceNotAllowed`] for an address outside the list,
    /// [`Rejection::UnknownSource`] when the address cannot be determined,
    /// [`Rejection::AllowlistUnavailable`] before a first list (unless
    /// [`allow_until_loaded`](Self::allow_until_loaded)).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::SocketAddr;
    /// use tim_callback_auth::allowlist::{AllowlistHandle, ClientAddress, AllowlistFilter};
    /// use tim_callback_auth::Rejection;
    ///
    /// let filter = AllowlistFilter::new(AllowlistHandle::empty(), ClientAddress::peer());
    /// let mut request = http::Request::post("/cb").body(())?;
    /// request.extensions_mut().insert("203.0.113.9:5555".parse::<SocketAddr>()?);
    /// assert_eq!(filter.check(&request), Err(Rejection::AllowlistUnavailable));
    ///
    /// filter.list().store("203.0.113.0/24".parse()?);
    /// assert_eq!(filter.check(&request), Ok(()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn check<B>(&self, request: &Request<B>) -> Result<(), Rejection> {
        self.list.with_list(|list| match list {
            None if self.allow_until_loaded => Ok(()),
            None => Err(Rejection::AllowlistUnavailable),
            Some(list) => match self.address.of(request) {
                None => Err(Rejection::UnknownSource),
                Some(ip) if list.contains(ip) => Ok(()),
                Some(_) => Err(Rejection::SourceNotAllowed),
            },
        })
    }

    /// The address `request` came from, for a log line (public information, unlike a token).
    pub(crate) fn address_of<B>(&self, request: &Request<B>) -> Option<IpAddr> {
        self.address.of(request)
    }
}
