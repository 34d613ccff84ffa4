//! The client for Tencent's callback-token REST API (`v4/live_config/*_callback_token`).
//!
//! Every call is `POST {base}/v4/live_config/{command}?sdkappid=…&identifier=…&usersig=…&random=…&contenttype=json`
//! with a JSON body, signed with a UserSig that the client generates and caches itself
//! (a cached UserSig from [`usersig`](crate::usersig)). One pooled HTTP client (reqwest with rustls) keeps
//! connections alive; the connect timeout is 3 s and the request timeout 5 s (Tencent's backend gives
//! up after 3 s).
//!
//! # Examples
//!
//! ```no_run
//! use tim_callback_auth::rest::{Region, RestClient};
//!
//! # #[tokio::main]
//! # async fn main() -> Result<(), tim_callback_auth::Error> {
//! let client = RestClient::builder(1400000000, "secret key from the console")
//!     .region(Region::Singapore)
//!     .build()?;
//! let snapshot = client.get_callback_token().await?;
//! println!("authentication enabled: {}", snapshot.is_enabled());
//! # Ok(())
//! # }
//! ```
//!
//! # Errors and secrets
//!
//! Failures are [`Error`]s classified by [`ErrorKind`]. No error, log
//! line or `Debug` output contains the secret key, the UserSig, the token or a request URL.

mod region;
mod wire;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use self::region::{CustomUrl, Region};
use crate::allowlist::IpAllowlist;
use crate::error::{sanitize, Error, ErrorKind, MAX_REQUEST_ID_CHARS};
use crate::token::{CallbackToken, TokenSnapshot};
use crate::usersig::Signer;

/// The largest answer body read from the API; Tencent's answers are a few hundred bytes.
const MAX_BODY: usize = 64 * 1024;
/// Which of Tencent's webhook egress address lists `GetIPList` returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WebhookNetwork {
    /// `nettype=5`: the addresses inside China (Hong Kong included).
    China,
    /// `nettype=6`: the addresses outside China.
    Outside,
}

impl WebhookNetwork {
    /// The list for apps in `region`: [`China`](Self::China) for [`Region::China`], else
    /// [`Outside`](Self::Outside).
    pub fn for_region(region: &Region) -> Self {
        match region {
            Region::China => Self::China,
            _ => Self::Outside,
        }
    }

    /// Tencent's `nettype`: 5 or 6.
    pub const fn nettype(&self) -> u8 {
        match self {
            Self::China => 5,
            Self::Outside => 6,
        }
    }
}

/// Default connect timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Default request timeout: longer than Tencent's own 3 s backend timeout.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// A client for the callback-token API of one app. Cheap to clone (one `Arc`).
///
/// # Examples
///
/// ```no_run
/// use tim_callback_auth::rest::{Region, RestClient};
///
/// # #[tokio::main]
/// # async fn main() -> Result<(), tim_callback_auth::Error> {
/// let client = RestClient::builder(1400000000, "secret key from the console")
///     .region(Region::Usa)
///     .build()?;
/// let token = tim_callback_auth::CallbackToken::new("a-new-random-token-0123456789")
///     .expect("a valid token");
/// client.set_callback_token(Some(&token), Some(true)).await?;
/// assert!(client.get_callback_token().await?.is_enabled());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct RestClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base_url: String,
    /// The host (and port) of `base_url`, for error messages: never a path or a query.
    host: String,
    region: Region,
    signer: Signer,
}

/// The App admin account [`RestClient::builder`] signs as unless told otherwise.
pub const DEFAULT_ADMIN: &str = "administrator";

/// Builds a [`RestClient`]. Created by [`RestClient::builder`].
pub struct RestClientBuilder {
    sdk_app_id: u64,
    identifier: String,
    secret_key: String,
    region: Region,
    connect_timeout: Duration,
    request_timeout: Duration,
    user_sig_lifetime: Duration,
    allow_insecure_http: bool,
}

impl RestClient {
    /// Starts a client for app `sdk_app_id` with its `secret_key`, signing as the App admin
    /// `administrator` (Tencent's default admin account; another with
    /// [`admin`](RestClientBuilder::admin)). The key is the only string argument, so it cannot be
    /// swapped with the identifier by accident.
    pub fn builder(sdk_app_id: u64, secret_key: &str) -> RestClientBuilder {
        RestClientBuilder {
            sdk_app_id,
            identifier: DEFAULT_ADMIN.to_owned(),
            secret_key: secret_key.to_owned(),
            region: Region::China,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            user_sig_lifetime: crate::usersig::DEFAULT_LIFETIME,
            allow_insecure_http: false,
        }
    }

    /// The app this client calls for.
    pub fn sdk_app_id(&self) -> u64 {
        self.inner.signer.sdk_app_id()
    }

    /// The region (or custom base URL) this client calls.
    pub fn region(&self) -> &Region {
        &self.inner.region
    }

    /// Reads the callback token configuration: an enabled snapshot with the token, or a disabled
    /// one when `IsTokenEnable` is false or no configuration exists (100302, logged as a warning).
    ///
    /// # Errors
    ///
    /// Transport failures, a non-200 status, an undecodable body, an API error, and
    /// [`ErrorKind::InvalidToken`] when the API reports an enabled token that is empty or longer
    /// than 128 bytes (such a token is never accepted as "enabled").
    pub async fn get_callback_token(&self) -> Result<TokenSnapshot, Error> {
        self.call(
            "live_config/get_callback_token",
            "",
            b"{}".to_vec(),
            interpret_token,
        )
        .await
    }

    /// Sets the callback token and/or the `IsTokenEnable` switch. Both are required the first time;
    /// later calls may change one of them.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`] when both are `None`; otherwise as
    /// [`get_callback_token`](RestClient::get_callback_token).
    pub async fn set_callback_token(
        &self,
        token: Option<&CallbackToken>,
        enabled: Option<bool>,
    ) -> Result<(), Error> {
        if token.is_none() && enabled.is_none() {
            return Err(Error::new(ErrorKind::InvalidInput));
        }
        let mut body = serde_json::Map::new();
        if let Some(token) = token {
            let text = std::str::from_utf8(token.expose())
                .map_err(|_| Error::new(ErrorKind::InvalidInput))?;
            body.insert("Token".into(), text.into());
        }
        if let Some(enabled) = enabled {
            body.insert("IsTokenEnable".into(), enabled.into());
        }
        let body = serde_json::to_vec(&body).map_err(|_| Error::new(ErrorKind::InvalidInput))?;
        self.call("live_config/set_callback_token", "", body, check_base)
            .await
    }

    /// Deletes the callback token configuration (authentication is then not configured).
    ///
    /// # Errors
    ///
    /// As [`get_callback_token`](RestClient::get_callback_token).
    pub async fn delete_callback_token(&self) -> Result<(), Error> {
        self.call(
            "live_config/delete_callback_token",
            "",
            b"{}".to_vec(),
            check_base,
        )
        .await
    }

    /// Reads Tencent's webhook egress addresses (`v4/ConfigSvc/GetIPList`) for `network`: the
    /// addresses callbacks come from, as an [`IpAllowlist`].
    ///
    /// # Errors
    ///
    /// As [`get_callback_token`](RestClient::get_callback_token); an answer with no list, an empty
    /// one, more than [`MAX_ENTRIES`](crate::allowlist::MAX_ENTRIES) entries or an entry that is not an
    /// address or a CIDR range is [`ErrorKind::Decode`] (the last good list is kept by a
    /// refresher). An API error code that is not a known transient, UserSig or configuration one
    /// is [`ErrorKind::Configuration`]: outside the Chinese mainland, Tencent enables this API on
    /// request, and answers an error code until then.
    pub async fn get_ip_list(&self, network: WebhookNetwork) -> Result<IpAllowlist, Error> {
        let extra = format!("&nettype={}", network.nettype());
        self.call(
            "ConfigSvc/GetIPList",
            &extra,
            b"{}".to_vec(),
            interpret_ip_list,
        )
        .await
    }

    /// One signed call, its answer read and handed to `interpret`. API errors are scrubbed of
    /// secrets and invalidate the UserSig when it was the problem. One `tracing` span per call with
    /// the outcome, the duration and Tencent's `RequestId`.
    async fn call<T>(
        &self,
        command: &'static str,
        extra_query: &str,
        body: Vec<u8>,
        interpret: fn(&[u8]) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let span = tracing::info_span!(
            "tim_rest_call",
            command,
            outcome = tracing::field::Empty,
            duration_ms = tracing::field::Empty,
            request_id = tracing::field::Empty,
        );
        let started = Instant::now();
        let answer = self.exchange(command, extra_query, body).await;
        let result = answer.and_then(|bytes| {
            if let Some(id) = wire::request_id(&bytes) {
                let id = sanitize(&self.inner.signer.scrub(&id), MAX_REQUEST_ID_CHARS);
                span.record("request_id", id.as_str());
            }
            interpret(&bytes)
        });
        let result = result.map_err(|error| {
            // Scrub while the signer still holds the UserSig the answer may echo.
            let error = error
                .clean_api_text(|text| self.inner.signer.scrub(text))
                .with_host(&self.inner.host);
            if error.kind() == ErrorKind::UserSig {
                self.inner.signer.invalidate();
            }
            error
        });
        span.record("duration_ms", started.elapsed().as_millis() as u64);
        match &result {
            Ok(_) => {
                span.record("outcome", "ok");
            }
            Err(e) => {
                span.record("outcome", e.kind().label());
                span.in_scope(|| tracing::debug!(error = %e, "tencent api call failed"));
            }
        }
        result
    }

    /// The HTTP exchange: the body of a 200 answer, at most [`MAX_BODY`] bytes.
    async fn exchange(
        &self,
        command: &'static str,
        extra_query: &str,
        body: Vec<u8>,
    ) -> Result<Vec<u8>, Error> {
        let inner = &self.inner;
        let user_sig = inner.signer.user_sig();
        let url = format!(
            "{}/v4/{command}?sdkappid={}&identifier={}&usersig={user_sig}&random={}&contenttype=json{extra_query}",
            inner.base_url,
            inner.signer.sdk_app_id(),
            inner.signer.identifier(),
            crate::random::random_u64() as u32,
        );
        let response = inner
            .http
            .post(url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(transport_error)?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(Error::http_status(status));
        }
        read_capped(response).await
    }
}

/// Interprets a `GetIPList` answer: the base fields, then `IPList` at the top level.
fn interpret_ip_list(body: &[u8]) -> Result<IpAllowlist, Error> {
    let base: wire::Base<serde::de::IgnoredAny> =
        wire::parse(body).ok_or_else(|| Error::new(ErrorKind::Decode))?;
    if let Err(error) = api_result(base) {
        return Err(match error.kind() {
            // Not a code this API is known to answer: most likely it is not enabled yet.
            ErrorKind::Api => error.into_kind(ErrorKind::Configuration).with_source(
                "GetIPList refused: outside the Chinese mainland Tencent enables this API on \
                 request; ask Tencent support to enable it, or configure the addresses yourself",
            ),
            _ => error,
        });
    }
    let list = wire::ip_list(body)
        .ok_or_else(|| Error::new(ErrorKind::Decode).with_source("the answer has no IPList"))?;
    IpAllowlist::new(list).map_err(|e| Error::new(ErrorKind::Decode).with_source(e))
}

/// Checks the fields every answer carries (`set_callback_token`, `delete_callback_token`).
fn check_base(body: &[u8]) -> Result<(), Error> {
    let base: wire::Base<serde::de::IgnoredAny> =
        wire::parse(body).ok_or_else(|| Error::new(ErrorKind::Decode))?;
    api_result(base).map(drop)
}

fn api_result<R>(base: wire::Base<R>) -> Result<Option<R>, Error> {
    if base.error_code != 0 {
        // Raw: the caller scrubs secrets, then escapes and caps (`Error::clean_api_text`).
        let info = base.error_info.unwrap_or_default();
        return Err(Error::api(base.error_code, info, base.request_id));
    }
    if base.action_status.as_deref().is_some_and(|s| s != "OK") {
        return Err(Error::new(ErrorKind::Decode));
    }
    Ok(base.response)
}

/// Interprets the body of a `get_callback_token` answer, exactly as [`RestClient`] does: pure, no
/// I/O, so it also serves callers with their own HTTP client.
///
/// - `IsTokenEnable: true` with a 1 to 128 byte token: an enabled snapshot;
/// - `IsTokenEnable: false`, or error 100302 (no configuration exists; logged as a warning): a
///   disabled snapshot.
///
/// # Errors
///
/// [`ErrorKind::Decode`] when the body is not the documented JSON (missing `ErrorCode`, missing
/// `Response`, wrong types), [`ErrorKind::InvalidToken`] for an enabled token that is empty or longer
/// than 128 bytes, and the classified API error for any other non-zero `ErrorCode`.
///
/// # Examples
///
/// ```
/// use tim_callback_auth::rest::parse_get_callback_token;
///
/// let body = br#"{"ErrorCode":0,"ErrorInfo":"","ActionStatus":"OK","RequestId":"Id-1",
///     "Response":{"Token":"abc","IsTokenEnable":true}}"#;
/// assert!(parse_get_callback_token(body)?.is_enabled());
/// let garbage = parse_get_callback_token(b"<html>502</html>").unwrap_err();
/// assert_eq!(garbage.kind(), tim_callback_auth::ErrorKind::Decode);
/// # Ok::<(), tim_callback_auth::Error>(())
/// ```
pub fn parse_get_callback_token(body: &[u8]) -> Result<TokenSnapshot, Error> {
    // No signer here to scrub with: escape and cap only.
    interpret_token(body).map_err(|e| e.clean_api_text(str::to_owned))
}

/// [`parse_get_callback_token`] before the API text is cleaned (the client scrubs it first).
fn interpret_token(body: &[u8]) -> Result<TokenSnapshot, Error> {
    let base: wire::Base<wire::TokenConfig> =
        wire::parse(body).ok_or_else(|| Error::new(ErrorKind::Decode))?;
    let config = match api_result(base) {
        Ok(Some(config)) => config,
        Ok(None) => return Err(Error::new(ErrorKind::Decode)),
        Err(e) if e.kind() == ErrorKind::NotConfigured => {
            // The refresher logs the switch to "off" once, at WARN; this is every poll.
            tracing::debug!(
                "no callback token is configured (100302): callback authentication is off"
            );
            return Ok(TokenSnapshot::disabled());
        }
        Err(e) => return Err(e),
    };
    if !config.is_token_enable {
        return Ok(TokenSnapshot::disabled());
    }
    CallbackToken::new(config.token.as_deref().unwrap_or_default())
        .map(TokenSnapshot::enabled)
        .map_err(|_| Error::new(ErrorKind::InvalidToken))
}

/// Reads at most [`MAX_BODY`] bytes; a larger body is a decode error.
async fn read_capped(mut response: reqwest::Response) -> Result<Vec<u8>, Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(Error::new(ErrorKind::Decode));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Maps a reqwest error, dropping the URL (it carries the UserSig).
fn transport_error(e: reqwest::Error) -> Error {
    let kind = if e.is_timeout() {
        ErrorKind::Timeout
    } else if e.is_connect() {
        ErrorKind::Connect
    } else if e.is_decode() {
        ErrorKind::Decode
    } else {
        ErrorKind::Transport
    };
    Error::new(kind).with_source(e.without_url())
}

impl RestClientBuilder {
    /// The App admin account the UserSig is made for (default [`DEFAULT_ADMIN`]): 1 to 32 bytes
    /// of `[A-Za-z0-9_-]`, checked by [`build`](Self::build).
    #[must_use]
    pub fn admin(mut self, identifier: &str) -> Self {
        self.identifier = identifier.to_owned();
        self
    }

    /// The region to call (default [`Region::China`]), or [`Region::custom`] for a base URL.
    #[must_use]
    pub fn region(mut self, region: Region) -> Self {
        self.region = region;
        self
    }

    /// Connect timeout (default 3 s).
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Whole-request timeout (default 5 s; keep it above Tencent's 3 s).
    #[must_use]
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Lifetime of the admin UserSigs (default one day).
    #[must_use]
    pub fn user_sig_lifetime(mut self, lifetime: Duration) -> Self {
        self.user_sig_lifetime = lifetime;
        self
    }

    /// Allows a [`Region::custom`] base URL with plain `http://` to a host other than loopback
    /// (default `false`). Every call carries the admin UserSig in its URL, so plain HTTP shows it
    /// to the network; `http://127.0.0.1:…`, `http://[::1]:…` and `http://localhost:…` (a local
    /// mock or sidecar) are allowed without this.
    #[must_use]
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`] for an invalid identifier or an empty secret key,
    /// [`ErrorKind::InsecureUrl`] for a plain `http://` base URL to a host other than loopback
    /// without [`allow_insecure_http`](Self::allow_insecure_http),
    /// [`ErrorKind::Transport`] when the HTTP client cannot be created.
    pub fn build(self) -> Result<RestClient, Error> {
        if self.region.is_insecure_remote() && !self.allow_insecure_http {
            return Err(Error::new(ErrorKind::InsecureUrl).with_source(
                "the base url uses plain http to a host that is not loopback: the admin usersig \
                 would cross the network in clear text (use https, or allow_insecure_http)",
            ));
        }
        let signer = Signer::new(self.sdk_app_id, &self.identifier, &self.secret_key)?
            .with_lifetime(self.user_sig_lifetime);
        let http = reqwest::Client::builder()
            .connect_timeout(self.connect_timeout)
            .timeout(self.request_timeout)
            .pool_idle_timeout(Duration::from_secs(90))
            // Tencent's API never redirects; following one would resend a signed request elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(transport_error)?;
        Ok(RestClient {
            inner: Arc::new(Inner {
                http,
                host: self.region.host(),
                base_url: self.region.base_url(),
                region: self.region,
                signer,
            }),
        })
    }
}

impl fmt::Debug for RestClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RestClient")
            .field("region", &self.inner.region)
            .field("signer", &self.inner.signer)
            .finish()
    }
}

impl fmt::Debug for RestClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RestClientBuilder")
            .field("sdk_app_id", &self.sdk_app_id)
            .field("identifier", &self.identifier)
            .field("secret_key", &format_args!("Sensitive"))
            .field("region", &self.region)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_admin_defaults_to_administrator_and_is_set_by_name() {
        let default = format!("{:?}", RestClient::builder(1400000000, "the-secret-key"));
        assert!(
            default.contains(r#"identifier: "administrator""#),
            "{default}"
        );
        assert!(!default.contains("the-secret-key"), "{default}");
        let named = format!(
            "{:?}",
            RestClient::builder(1400000000, "the-secret-key").admin("ops_admin")
        );
        assert!(named.contains(r#"identifier: "ops_admin""#), "{named}");
        let refused = RestClient::builder(1400000000, "the-secret-key")
            .admin("not an identifier")
            .build()
            .unwrap_err();
        assert_eq!(refused.kind(), ErrorKind::InvalidInput);
    }
}
