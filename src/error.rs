//! [`Error`]: why fetching the callback token failed.

use std::fmt;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why fetching or changing the callback token failed: a transport problem, an unexpected answer,
/// or an error reported by Tencent's REST API.
///
/// The error is opaque; inspect it with [`kind`](Error::kind) and the predicates. Its `Display`,
/// `Debug` and sources never contain the secret key, the UserSig, the token or a request URL.
pub struct Error {
    kind: ErrorKind,
    api: Option<ApiDetails>,
    status: Option<u16>,
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
    /// A transient API error worth retrying: internal error (100001), service timeout (60008) or a
    /// rate limit (60007, 60011, 60018, 60019, 70050).
    Retryable,
    /// The UserSig was rejected (70001, 70052, 70003–70008); a fresh one is generated for the next call.
    UserSig,
    /// A configuration problem: wrong secret key, identifier, SDKAppID, region or admin account,
    /// disabled app or expired package (60006, 60010, 60016, 60020, 60021, 70009, 70013, 70014,
    /// 70016, 70020).
    Configuration,
    /// No callback token configuration exists (100302).
    NotConfigured,
    /// Another error code from the API.
    Api,
    /// Invalid input given to this crate (identifier, key, base URL, token).
    InvalidInput,
    /// A user-supplied [`TokenSource`](crate::refresh::TokenSource) failed.
    Source,
    /// A [`TokenSource`](crate::refresh::TokenSource) panicked; the refresher caught it.
    SourcePanicked,
    /// The refresher is no longer running.
    Stopped,
}

impl ErrorKind {
    /// A short lowercase name, stable for logs and metrics.
    pub const fn as_str(&self) -> &'static str {
        match self {
            ErrorKind::Connect => "connect",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Transport => "transport",
            ErrorKind::HttpStatus => "http status",
            ErrorKind::Decode => "decode",
            ErrorKind::InvalidToken => "invalid token",
            ErrorKind::Retryable => "retryable api error",
            ErrorKind::UserSig => "usersig rejected",
            ErrorKind::Configuration => "configuration",
            ErrorKind::NotConfigured => "not configured",
            ErrorKind::Api => "api error",
            ErrorKind::InvalidInput => "invalid input",
            ErrorKind::Source => "token source",
            ErrorKind::SourcePanicked => "token source panicked",
            ErrorKind::Stopped => "refresher stopped",
        }
    }

    /// Whether errors of this kind may go away without a configuration change (an HTTP status
    /// counts as transient here; [`Error::is_retryable`] also looks at which status).
    pub const fn is_transient(&self) -> bool {
        matches!(
            self,
            ErrorKind::Connect
                | ErrorKind::Timeout
                | ErrorKind::Transport
                | ErrorKind::HttpStatus
                | ErrorKind::Retryable
                | ErrorKind::UserSig
                | ErrorKind::Source
                | ErrorKind::SourcePanicked
        )
    }

    /// Classifies one of Tencent's `ErrorCode` values (non-zero).
    pub const fn from_api_code(code: i64) -> ErrorKind {
        match code {
            100001 | 60008 | 60007 | 60011 | 60018 | 60019 | 70050 => ErrorKind::Retryable,
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
        f.pad(self.as_str())
    }
}

impl Error {
    pub(crate) fn new(kind: ErrorKind) -> Self {
        Self {
            kind,
            api: None,
            status: None,
            source: None,
        }
    }

    pub(crate) fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }

    #[cfg_attr(not(feature = "rest"), allow(dead_code))]
    pub(crate) fn http_status(status: u16) -> Self {
        let mut error = Self::new(ErrorKind::HttpStatus);
        error.status = Some(status);
        error
    }

    /// `info` must already be scrubbed of secrets.
    #[cfg_attr(not(feature = "rest"), allow(dead_code))]
    pub(crate) fn api(code: i64, info: String, request_id: Option<String>) -> Self {
        let mut error = Self::new(ErrorKind::from_api_code(code));
        error.api = Some(ApiDetails {
            code,
            info,
            request_id,
        });
        error
    }

    /// Makes Tencent's `ErrorInfo` and `RequestId` fit for a message or a log line: `scrub`
    /// removes secrets the server might echo, *then* [`sanitize`] escapes and caps (capping first
    /// could cut a secret in two, and a cut secret escapes the scrub).
    #[cfg_attr(not(feature = "rest"), allow(dead_code))]
    pub(crate) fn clean_api_text(&mut self, scrub: impl Fn(&str) -> String) {
        if let Some(api) = &mut self.api {
            api.info = sanitize(&scrub(&api.info), MAX_INFO_CHARS);
            api.request_id = api
                .request_id
                .as_deref()
                .map(|id| sanitize(&scrub(id), MAX_REQUEST_ID_CHARS));
        }
    }

    /// An error for a user's own [`TokenSource`](crate::refresh::TokenSource), wrapping its cause.
    /// Keep secrets out of `source`: it is shown in logs.
    pub fn from_source(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::new(ErrorKind::Source).with_source(source)
    }

    /// The class of this error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Tencent's `ErrorCode`, for errors reported by the API.
    pub fn api_code(&self) -> Option<i64> {
        self.api.as_ref().map(|a| a.code)
    }

    /// Tencent's `ErrorInfo`, for errors reported by the API.
    pub fn api_info(&self) -> Option<&str> {
        self.api.as_ref().map(|a| a.info.as_str())
    }

    /// Tencent's `RequestId`, for errors reported by the API (quote it to Tencent support).
    pub fn request_id(&self) -> Option<&str> {
        self.api.as_ref().and_then(|a| a.request_id.as_deref())
    }

    /// The HTTP status, for [`ErrorKind::HttpStatus`].
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// Whether the same call may succeed later without a configuration change.
    pub fn is_retryable(&self) -> bool {
        match self.kind {
            // Only server-side statuses: a 404 or 403 will not heal by itself.
            ErrorKind::HttpStatus => self.status.is_none_or(|s| s >= 500 || s == 429),
            kind => kind.is_transient(),
        }
    }

    /// Whether the error is a timeout.
    pub fn is_timeout(&self) -> bool {
        self.kind == ErrorKind::Timeout
    }

    /// Whether the connection could not be established.
    pub fn is_connect(&self) -> bool {
        self.kind == ErrorKind::Connect
    }
}

/// How much of Tencent's `ErrorInfo` an error keeps, in characters.
const MAX_INFO_CHARS: usize = 256;
/// How much of Tencent's `RequestId` an error or log line keeps, in characters.
pub(crate) const MAX_REQUEST_ID_CHARS: usize = 128;

/// Makes text from a remote server safe for an error message or a log line: control characters
/// (line breaks included), the Unicode line and paragraph separators and the invisible formatting
/// and bidirectional controls are escaped, so a hostile endpoint cannot forge or disguise log
/// lines, and the text is cut to `max_chars` characters (with `…`).
#[cfg_attr(not(feature = "rest"), allow(dead_code))]
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

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.kind);
        if let Some(api) = &self.api {
            d.field("code", &api.code)
                .field("info", &api.info)
                .field("request_id", &api.request_id);
        }
        if let Some(status) = self.status {
            d.field("status", &status);
        }
        if let Some(source) = &self.source {
            d.field("source", source);
        }
        d.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.api, self.status) {
            (Some(api), _) => {
                write!(f, "tencent api error {} ({})", api.code, self.kind)?;
                if !api.info.is_empty() {
                    write!(f, ": {}", api.info)?;
                }
                Ok(())
            }
            (None, Some(status)) => write!(f, "unexpected http status {status}"),
            (None, None) => match self.kind {
                ErrorKind::Connect => f.write_str("could not connect to the tencent api"),
                ErrorKind::Timeout => f.write_str("tencent api request timed out"),
                ErrorKind::Transport => f.write_str("tencent api transport error"),
                ErrorKind::Decode => f.write_str("tencent api answer could not be decoded"),
                ErrorKind::InvalidToken => f.write_str(
                    "tencent api reported an enabled callback token that is empty or longer than 128 bytes",
                ),
                ErrorKind::Source => f.write_str("token source failed"),
                ErrorKind::SourcePanicked => f.write_str("token source panicked"),
                ErrorKind::Stopped => f.write_str("token refresher is not running"),
                kind => f.pad(kind.as_str()),
            },
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_codes_are_classified() {
        for code in [100001, 60008, 60007, 60011, 60018, 60019, 70050] {
            assert_eq!(
                ErrorKind::from_api_code(code),
                ErrorKind::Retryable,
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
        }
        assert_eq!(ErrorKind::from_api_code(100302), ErrorKind::NotConfigured);
        assert_eq!(ErrorKind::from_api_code(100002), ErrorKind::Api);
    }

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

    #[test]
    fn display_names_code_and_info() {
        let e = Error::api(70001, "usersig expired".into(), Some("Id-1".into()));
        assert_eq!(
            e.to_string(),
            "tencent api error 70001 (usersig rejected): usersig expired"
        );
        assert_eq!(e.request_id(), Some("Id-1"));
        assert!(e.is_retryable());
        assert!(!Error::api(70009, String::new(), None).is_retryable());
        assert_eq!(
            Error::http_status(502).to_string(),
            "unexpected http status 502"
        );
        assert!(Error::http_status(502).is_retryable());
        assert!(!Error::http_status(404).is_retryable());
    }
}
