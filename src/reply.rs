//! [`Reply`]: what a handler answers Tencent.

/// Tencent's answer to a callback, ready to become an HTTP response: no JSON to type by hand.
///
/// | constructor | body | meaning |
/// |---|---|---|
/// | [`Reply::ok`] | `{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}` | handled; for a before-callback, allow |
/// | [`Reply::forbid`] | `ErrorCode` 1 | before-callbacks: refuse (the sender sees 20006, or 10016 in groups) |
/// | [`Reply::discard`] | `ErrorCode` 2 | before-callbacks: drop silently (the sender is told it was sent) |
/// | [`Reply::forbid_with`] | `ErrorCode` 120001–130000 and your `ErrorInfo` | before-callbacks: refuse, and pass code and text to the client |
/// | [`Reply::trtc_ok`] | `{"code":0}` | TRTC event callbacks: received |
///
/// Every reply is HTTP 200 with `Content-Type: application/json`: Tencent reads the outcome from
/// the body, and a non-200 answer counts as a failed callback. After-callbacks ignore the body.
///
/// [`into_response`](Reply::into_response) builds an `http::Response` with any body type that
/// can be made from a `String` (axum's `Body`, `Full<Bytes>`, `String`); with the `axum` feature a
/// `Reply` is also an axum `IntoResponse`.
///
/// # Examples
///
/// ```
/// use tim_callback_auth::Reply;
///
/// let response: http::Response<String> = Reply::ok().into_response();
/// assert_eq!(response.status(), 200);
/// assert_eq!(response.body(), r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}"#);
///
/// // A before-callback refused with a code and a message the client will see.
/// let reply = Reply::forbid_with(120001, "links are not allowed \"here\"")?;
/// assert_eq!(
///     reply.to_json(),
///     r#"{"ActionStatus":"OK","ErrorInfo":"links are not allowed \"here\"","ErrorCode":120001}"#
/// );
/// assert!(Reply::forbid_with(42, "no").is_err());
/// # Ok::<(), tim_callback_auth::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply(Kind);

#[derive(Clone, Debug, PartialEq, Eq)]
enum Kind {
    Ok,
    Forbid,
    Discard,
    ForbidWith { code: u32, info: String },
    TrtcOk,
}

/// The answer to a TRTC event callback.
pub(crate) const TRTC_OK: &str = r#"{"code":0}"#;

/// The codes a before-callback may return to have them passed to the client.
const CLIENT_CODES: std::ops::RangeInclusive<u32> = 120_001..=130_000;

impl Reply {
    /// `ErrorCode` 0: handled (for a before-callback: allow, unchanged).
    pub const fn ok() -> Self {
        Self(Kind::Ok)
    }

    /// `ErrorCode` 1: a before-callback refused; the sender sees error 20006 (10016 in groups).
    pub const fn forbid() -> Self {
        Self(Kind::Forbid)
    }

    /// `ErrorCode` 2: a before-callback dropped silently; the sender is told it was sent.
    pub const fn discard() -> Self {
        Self(Kind::Discard)
    }

    /// A before-callback refused with `code` (120001 to 130000) and `info`, both passed to the
    /// client.
    ///
    /// # Errors
    ///
    /// An [`Error`](crate::Error) of kind [`InvalidInput`](crate::ErrorKind::InvalidInput) for a code outside 120001–130000 (Tencent would not pass it on).
    pub fn forbid_with(code: u32, info: &str) -> Result<Self, crate::Error> {
        if !CLIENT_CODES.contains(&code) {
            return Err(crate::Error::invalid_input(
                "a before-callback error code passed to the client must be 120001 to 130000",
            ));
        }
        Ok(Self(Kind::ForbidWith {
            code,
            info: info.to_owned(),
        }))
    }

    /// `{"code":0}`: the answer to a TRTC event callback.
    pub const fn trtc_ok() -> Self {
        Self(Kind::TrtcOk)
    }

    /// The JSON body.
    pub fn to_json(&self) -> String {
        let (code, info) = match &self.0 {
            Kind::TrtcOk => return TRTC_OK.to_owned(),
            Kind::Ok => (0, ""),
            Kind::Forbid => (1, ""),
            Kind::Discard => (2, ""),
            Kind::ForbidWith { code, info } => (*code, info.as_str()),
        };
        let mut json = String::with_capacity(64 + info.len());
        json.push_str(r#"{"ActionStatus":"OK","ErrorInfo":""#);
        push_json_string(&mut json, info);
        json.push_str(r#"","ErrorCode":"#);
        json.push_str(&code.to_string());
        json.push('}');
        json
    }

    /// HTTP 200, `Content-Type: application/json`, the JSON body.
    pub fn into_response<B: From<String>>(self) -> http::Response<B> {
        let mut response = http::Response::new(B::from(self.to_json()));
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        response
    }
}

/// Appends `text` as the inside of a JSON string (quotes, backslashes and control characters
/// escaped).
fn push_json_string(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
}

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
impl axum::response::IntoResponse for Reply {
    fn into_response(self) -> axum::response::Response {
        Reply::into_response(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reply_is_the_documented_json() {
        let cases = [
            (
                Reply::ok(),
                r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}"#,
            ),
            (
                Reply::forbid(),
                r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":1}"#,
            ),
            (
                Reply::discard(),
                r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":2}"#,
            ),
            (Reply::trtc_ok(), r#"{"code":0}"#),
        ];
        for (reply, json) in cases {
            assert_eq!(reply.to_json(), json);
            let response: http::Response<String> = reply.into_response();
            assert_eq!(response.status(), 200);
            assert_eq!(response.headers()["content-type"], "application/json");
            assert_eq!(response.body(), json);
        }
    }

    #[test]
    fn client_codes_are_bounded_and_info_is_escaped() {
        assert!(Reply::forbid_with(120000, "x").is_err());
        assert!(Reply::forbid_with(130001, "x").is_err());
        assert!(Reply::forbid_with(130000, "x").is_ok());
        let reply = Reply::forbid_with(120001, "a\"b\\c\nd\u{1}é").unwrap();
        let json = reply.to_json();
        assert_eq!(
            json,
            r#"{"ActionStatus":"OK","ErrorInfo":"a\"b\\c\nd\u0001é","ErrorCode":120001}"#
        );
        let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(parsed["ErrorInfo"], "a\"b\\c\nd\u{1}é");
        assert_eq!(parsed["ErrorCode"], 120001);
    }
}
