//! [`Error`]: why fetching (or changing) the callback token failed.

use std::fmt;
use std::sync::Arc;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why fetching or changing the callback token failed: a transport problem, an unexpected answer,
/// an error reported by Tencent's REST API, or a failing [`Source`](crate::refresh::Source).
///
/// Opaque, like `reqwest::Error`: inspect it with [`kind`](Error::kind),
/// [`is_retryable`](Error::is_retryable) and the accessors for Tencent's details. Cheap to clone
/// (one reference count), so the refresher hands the same error to its log line, to
/// [`refresh_now`](crate::refresh::TokenRefresher::refresh_now) and to
/// [`start`](crate::refresh::RefresherBuilder::start).
///
/// `Display` (and `Debug`, which is what `main`'s `?` prints) explain the failure on one line:
/// what failed, Tencent's code, message and request id, the API host (never the path or the query,
/// which carries the UserSig), a hint for configuration errors, and the chain of causes
/// (connection refused, DNS, timeout, TLS). Neither ever contains the secret key, a UserSig, the
/// token or a request URL; Tencent's text is scrubbed of them, escaped and capped.
///
/// # Examples
///
/// ```
/// use tim_callback_auth::{Error, ErrorKind};
///
/// let error = Error::from_source("the vault is sealed");
/// assert_eq!(error.kind(), ErrorKind::Source);
/// assert!(error.is_retryable());
/// assert_eq!(error.to_string(), "token source failed: the vault is sealed");
/// ```
#[derive(Clone)]
pub struct Error {
    inner: Arc<Inner>,
}

struct Inner {
    kind: ErrorKind,
    api: Option<ApiDetails>,
    status: Option<u16>,
    /// The API host (`adminapisgp.im.qcloud.com`, `127.0.0.1:8080`): never a path or a query.
    host: Option<String>,
    source: Option<BoxError>,
}

#[derive(Clone, Debug)]
struct ApiDetails {
    code: i64,
    info: String,
    request_id: Option<String>,
}

/// The class of an [`Error`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The connection could not be established (refused, DNS, TLS).
    Connect,
    /// The request or the connection timed out.
    Timeout,
    /// Another transport failure (connection reset, body interrupted).
    Transport,
    /// The HTTP status was not 200 (Tencent answers 200 unless a proxy or network failed).
    HttpStatus,
    /// The body was not the JSON Tencent documents.
    Decode,
    /// Tencent reported authentication as enabled with an empty token or one over 128 bytes.
    InvalidToken,
    /// Tencent asked to try again later: internal error (100001), service timeout (60008) or a
    /// rate limit (60007, 60011, 60018, 60019, 70050).
    TryLater,
    /// The UserSig was rejected (70001, 70052, 70003–70008); a fresh one is generated for the next call.
    UserSig,
    /// A configuration problem: wrong secret key, identifier, SDKAppID, region or admin account,
    /// disabled app or expired package (60006, 60010, 60016, 60020, 60021, 70009, 70013, 70014,
    /// 70016, 70020). The message says what to check.
    Configuration,
    /// No callback token configuration exists (100302).
    NotConfigured,
    /// Another error code from the API.
    Api,
    /// Invalid input given to this crate (identifier, key, base URL, token).
    InvalidInput,
    /// A plain `http://` base URL to a host that is not loopback, without
    /// [`allow_insecure_http`](crate::rest::RestClientBuilder::allow_insecure_http): the admin
    /// UserSig would cross the network in clear text.
    InsecureUrl,
    /// A user-supplied [`Source`](crate::refresh::Source) failed.
    Source,
    /// A [`Source`](crate::refresh::Source) panicked; the refresher caught it.
    SourcePanicked,
    /// The refresher is no longer running
    /// ([`Refresher::shutdown`](crate::refresh::Refresher::shutdown), or its runtime shut down).
    Stopped,
}

impl ErrorKind {
    /// A stable `snake_case` name for metrics labels and log queries (`try_later`); unlike the
    /// human [`Display`](fmt::Display) text, it never changes between versions.
    pub const fn label(&self) -> &'static str {
        match self {
            ErrorKind::Connect => "connect",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Transport => "transport",
            ErrorKind::HttpStatus => "http_status",
            ErrorKind::Decode => "decode",
            ErrorKind::InvalidToken => "invalid_token",
            ErrorKind::TryLater => "try_later",
            ErrorKind::UserSig => "usersig_rejected",
            ErrorKind::Configuration => "configuration",
            ErrorKind::NotConfigured => "not_configured",
            ErrorKind::Api => "api_error",
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::InsecureUrl => "insecure_url",
            ErrorKind::Source => "token_source",
            ErrorKind::SourcePanicked => "token_source_panicked",
            ErrorKind::Stopped => "refresher_stopped",
        }
    }

    /// The human description, as [`Display`](fmt::Display) prints it.
    const fn description(&self) -> &'static str {
        match self {
            ErrorKind::Connect => "could not connect to the tencent api",
            ErrorKind::Timeout => "the tencent api request timed out",
            ErrorKind::Transport => "the tencent api connection failed",
            ErrorKind::HttpStatus => "the tencent api answered an unexpected http status",
            ErrorKind::Decode => "the tencent api answer could not be decoded",
            ErrorKind::InvalidToken => {
                "the tencent api reported an enabled callback token that is empty or longer than 128 bytes"
            }
            ErrorKind::TryLater => "the tencent api asked to try again later",
            ErrorKind::UserSig => "the tencent api rejected the usersig",
            ErrorKind::Configuration => "the tencent api refused the configuration",
            ErrorKind::NotConfigured => "no callback token is configured",
            ErrorKind::Api => "the tencent api reported an error",
            ErrorKind::InvalidInput => "invalid input",
            ErrorKind::InsecureUrl => "the base url uses plain http to a host that is not loopback",
            ErrorKind::Source => "token source failed",
            ErrorKind::SourcePanicked => "token source panicked",
            ErrorKind::Stopped => "refresher is not running",
        }
    }

    /// Classifies one of Tencent's `ErrorCode` values (non-zero).
    #[cfg(feature = "rest")]
    pub(crate) const fn from_api_code(code: i64) -> ErrorKind {
        match code {
            100001 | 60008 | 60007 | 60011 | 60018 | 60019 | 70050 => ErrorKind::TryLater,
            70001 | 70052 | 70003..=70008 => ErrorKind::UserSig,
            60006 | 60010 | 60016 | 60020 | 60021 | 70009 | 70013 | 70014 | 70016 | 70020 => {
                ErrorKind::Configuration
            }
            100302 => ErrorKind::NotConfigured,
            _ => ErrorKind::Api,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.description())
    }
}

/// What to check for a configuration error code (Tencent's error-code page).
fn hint(code: i64) -> Option<&'static str> {
    Some(match code {
        70009 | 70013 | 70014 => "check the secret key and the admin identifier",
        70016 | 70020 => "check the region: the app may live in another data center",
        60006 | 60016 => "check the SDKAppID (and that the app is not disabled)",
        60010 => "the identifier must be an App admin account",
        60020 => "the app's package has expired",
        60021 => "the caller's IP address is not on the app's allowlist",
        _ => return None,
    })
}

/// How much of Tencent's `ErrorInfo` an error keeps, in characters.
#[cfg(feature = "rest")]
const MAX_INFO_CHARS: usize = 256;
/// How much of Tencent's `RequestId` an error or log line keeps, in characters.
#[cfg(feature = "rest")]
pub(crate) const MAX_REQUEST_ID_CHARS: usize = 128;

/// Makes text from a remote server safe for an error message or a log line: control characters
/// (line breaks included), the Unicode line and paragraph separators and the invisible formatting
/// and bidirectional controls are escaped, so a hostile endpoint cannot forge or disguise log
/// lines, and the text is cut to `max_chars` characters (with `…`).
#[cfg(feature = "rest")]
pub(crate) fn sanitize(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars * 2));
    for (i, c) in text.chars().enumerate() {
        if i == max_chars {
            out.push('…');
            break;
        }
        let disguising = matches!(
            c,
            '\u{061C}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2069}'
                | '\u{FEFF}'
        );
        if c.is_control() || disguising {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

// ===== impl Error =====

impl Error {
    pub(crate) fn new(kind: ErrorKind) -> Self {
        Self::build(kind, |_| {})
    }

    fn build(kind: ErrorKind, f: impl FnOnce(&mut Inner)) -> Self {
        let mut inner = Inner {
            kind,
            api: None,
            status: None,
            host: None,
            source: None,
        };
        f(&mut inner);
        Self {
            inner: Arc::new(inner),
        }
    }

    /// Changes a freshly built error (no clone exists yet).
    fn edit(mut self, f: impl FnOnce(&mut Inner)) -> Self {
        match Arc::get_mut(&mut self.inner) {
            Some(inner) => f(inner),
            None => debug_assert!(false, "an error is edited before it is shared"),
        }
        self
    }

    /// An [`ErrorKind::InvalidInput`] error saying what is wrong (never the value: it may be a
    /// secret).
    pub(crate) fn invalid_input(what: impl Into<BoxError>) -> Self {
        Self::new(ErrorKind::InvalidInput).with_source(what)
    }

    pub(crate) fn with_source(self, source: impl Into<BoxError>) -> Self {
        let source = source.into();
        self.edit(|inner| inner.source = Some(source))
    }

    #[cfg(feature = "rest")]
    pub(crate) fn http_status(status: u16) -> Self {
        Self::build(ErrorKind::HttpStatus, |inner| inner.status = Some(status))
    }

    /// Tencent's error; `info` and `request_id` as received (see [`Error::clean_api_text`]).
    #[cfg(feature = "rest")]
    pub(crate) fn api(code: i64, info: String, request_id: Option<String>) -> Self {
        Self::build(ErrorKind::from_api_code(code), |inner| {
            inner.api = Some(ApiDetails {
                code,
                info,
                request_id,
            });
        })
    }

    /// The same error, classified as `kind` (an API code whose meaning depends on the call).
    #[cfg(feature = "rest")]
    pub(crate) fn into_kind(self, kind: ErrorKind) -> Self {
        self.edit(|inner| inner.kind = kind)
    }

    /// The API host the failed call went to (never a path or a query).
    #[cfg(feature = "rest")]
    pub(crate) fn with_host(self, host: &str) -> Self {
        let host = host.to_owned();
        self.edit(|inner| inner.host = Some(host))
    }

    /// Makes Tencent's `ErrorInfo` and `RequestId` fit for a message or a log line: `scrub`
    /// removes secrets the server might echo, *then* [`sanitize`] escapes and caps (capping first
    /// could cut a secret in two, and a cut secret escapes the scrub).
    #[cfg(feature = "rest")]
    pub(crate) fn clean_api_text(self, scrub: impl Fn(&str) -> String) -> Self {
        self.edit(|inner| {
            if let Some(api) = &mut inner.api {
                api.info = sanitize(&scrub(&api.info), MAX_INFO_CHARS);
                api.request_id = api
                    .request_id
                    .as_deref()
                    .map(|id| sanitize(&scrub(id), MAX_REQUEST_ID_CHARS));
            }
        })
    }

    /// An error for a user's own [`Source`](crate::refresh::Source), wrapping its cause.
    /// Keep secrets out of `source`: it is shown in logs and messages.
    pub fn from_source(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::new(ErrorKind::Source).with_source(source)
    }

    /// The class of this error.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// Whether the same call may succeed later without a configuration change: transport
    /// failures, timeouts, Tencent's "try later" codes, a rejected UserSig (a new one is made),
    /// server-side HTTP statuses (5xx, 429) and failing sources. The refresher retries these with
    /// backoff, and [`start`](crate::refresh::RefresherBuilder::start) keeps waiting for them.
    pub fn is_retryable(&self) -> bool {
        match self.inner.kind {
            // Only server-side statuses: a 404 or 403 will not heal by itself.
            ErrorKind::HttpStatus => self.inner.status.is_none_or(|s| s >= 500 || s == 429),
            ErrorKind::Connect
            | ErrorKind::Timeout
            | ErrorKind::Transport
            | ErrorKind::TryLater
            | ErrorKind::UserSig
            | ErrorKind::Source
            | ErrorKind::SourcePanicked => true,
            _ => false,
        }
    }

    /// Tencent's `ErrorCode`, for errors reported by the API.
    pub fn api_code(&self) -> Option<i64> {
        self.inner.api.as_ref().map(|a| a.code)
    }

    /// Tencent's `ErrorInfo` (scrubbed of secrets, control characters escaped, at most 256
    /// characters), for errors reported by the API.
    pub fn api_info(&self) -> Option<&str> {
        self.inner.api.as_ref().map(|a| a.info.as_str())
    }

    /// Tencent's `RequestId`, for errors reported by the API (quote it to Tencent support).
    pub fn request_id(&self) -> Option<&str> {
        self.inner
            .api
            .as_ref()
            .and_then(|a| a.request_id.as_deref())
    }

    /// The HTTP status, for [`ErrorKind::HttpStatus`].
    pub fn status(&self) -> Option<u16> {
        self.inner.status
    }

    /// The API host the failed call went to, for errors of the REST client.
    pub fn host(&self) -> Option<&str> {
        self.inner.host.as_deref()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.inner;
        f.write_str(inner.kind.description())?;
        if let Some(host) = &inner.host {
            write!(f, " at {host}")?;
        }
        if let Some(status) = inner.status {
            write!(f, " ({status})")?;
        }
        if let Some(api) = &inner.api {
            write!(f, ": error {}", api.code)?;
            if !api.info.is_empty() {
                write!(f, " \"{}\"", api.info)?;
            }
            if let Some(id) = &api.request_id {
                write!(f, " (request id {id})")?;
            }
            if let Some(hint) = hint(api.code) {
                write!(f, "; {hint}")?;
            }
        }
        // The causes, on the same line: what `main`'s `?` and a log line show.
        let mut source = inner.source.as_deref().map(|s| s as &dyn std::error::Error);
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

/// The same text as `Display`, so that `main`'s `?` prints the whole explanation.
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self} [{}]", self.inner.kind.label())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner
            .source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "rest")]
    #[test]
    fn api_codes_are_classified() {
        for code in [100001, 60008, 60007, 60011, 60018, 60019, 70050] {
            assert_eq!(
                ErrorKind::from_api_code(code),
                ErrorKind::TryLater,
                "{code}"
            );
        }
        for code in [70001, 70052, 70003, 70004, 70005, 70006, 70007, 70008] {
            assert_eq!(ErrorKind::from_api_code(code), ErrorKind::UserSig, "{code}");
        }
        for code in [
            60006, 60010, 60016, 60020, 60021, 70009, 70013, 70014, 70016, 70020,
        ] {
            assert_eq!(
                ErrorKind::from_api_code(code),
                ErrorKind::Configuration,
                "{code}"
            );
            assert!(hint(code).is_some(), "{code} has a hint");
        }
        assert_eq!(ErrorKind::from_api_code(100302), ErrorKind::NotConfigured);
        assert_eq!(ErrorKind::from_api_code(100002), ErrorKind::Api);
    }

    #[test]
    fn labels_are_snake_case_and_stable() {
        assert_eq!(ErrorKind::TryLater.label(), "try_later");
        assert_eq!(ErrorKind::HttpStatus.label(), "http_status");
        assert_eq!(ErrorKind::UserSig.label(), "usersig_rejected");
    }

    #[cfg(feature = "rest")]
    #[test]
    fn display_explains_code_info_request_id_host_and_hint() {
        let e = Error::api(70009, "bad sig".into(), Some("Id-1".into()))
            .with_host("console.tim.qq.com");
        assert_eq!(
            e.to_string(),
            "the tencent api refused the configuration at console.tim.qq.com: error 70009 \
             \"bad sig\" (request id Id-1); check the secret key and the admin identifier"
        );
        assert_eq!(format!("{e:?}"), format!("{e} [configuration]"));
        assert_eq!(e.request_id(), Some("Id-1"));
        assert!(!e.is_retryable());
        let e = Error::api(70001, "usersig expired".into(), None);
        assert!(e.is_retryable());
        assert_eq!(
            Error::http_status(502).to_string(),
            "the tencent api answered an unexpected http status (502)"
        );
        assert!(Error::http_status(502).is_retryable());
        assert!(!Error::http_status(404).is_retryable());
    }

    #[test]
    fn display_carries_the_chain_of_causes() {
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl fmt::Display for Outer {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("client error")
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let refused =
            std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
        let e = Error::new(ErrorKind::Connect).with_source(Outer(refused));
        assert_eq!(
            e.to_string(),
            "could not connect to the tencent api: client error: connection refused"
        );
    }

    #[cfg(feature = "rest")]
    #[test]
    fn sanitize_escapes_control_characters_and_caps_the_length() {
        assert_eq!(sanitize("plain text", 64), "plain text");
        assert_eq!(
            sanitize("bad\nWARN forged line\r\u{1b}[31m", 64),
            "bad\\nWARN forged line\\r\\u{1b}[31m"
        );
        for c in [
            '\u{2028}', '\u{2029}', '\u{202E}', '\u{200F}', '\u{2066}', '\u{FEFF}',
        ] {
            let shown = sanitize(&format!("x{c}y"), 64);
            assert!(!shown.contains(c) && shown.starts_with("x\\u{"), "{shown}");
        }
        assert_eq!(sanitize(&"é".repeat(300), 4), "éééé…");
        assert!(!sanitize("a\u{85}b\u{0}", 64).contains(['\u{85}', '\u{0}']));
    }
}
