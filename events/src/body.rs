//! Reading a callback's body: its media type, its size, its bytes; and the answers when that
//! fails. Shared by the [`Router`](crate::Router) and the extractor.

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Response, StatusCode};
use http_body::Body;
use http_body_util::{BodyExt, Limited};

use crate::stats::may_log;
use tim_callback_auth::Reply;

use crate::{Config, Error, ErrorKind, UnreadableBody};

/// The `Content-Type` is absent or `application/json` (any case, any parameters: Tencent's is
/// not documented), given once; a declared `Content-Length` is within `limit`.
pub(crate) fn check_headers(headers: &HeaderMap, limit: usize) -> Result<(), Error> {
    let mut types = headers.get_all(CONTENT_TYPE).iter();
    if let Some(value) = types.next() {
        if types.next().is_some() || !is_json(value) {
            return Err(Error::new(ErrorKind::UnsupportedMediaType));
        }
    }
    if let Some(length) = headers.get(CONTENT_LENGTH) {
        let declared = length.to_str().ok().and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit as u64) {
            return Err(Error::new(ErrorKind::TooLarge));
        }
    }
    Ok(())
}

fn is_json(value: &HeaderValue) -> bool {
    let Ok(value) = value.to_str() else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("application/json")
}

/// A request's body under the rules of [`check_headers`], then its bytes, at most `limit`.
pub(crate) async fn read<B>(headers: &HeaderMap, body: B, limit: usize) -> Result<Bytes, Error>
where
    B: Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    check_headers(headers, limit)?;
    collect(body, limit).await
}

/// The body's bytes, at most `limit` of them.
pub(crate) async fn collect<B>(body: B, limit: usize) -> Result<Bytes, Error>
where
    B: Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            Err(Error::new(ErrorKind::TooLarge))
        }
        Err(_) => Err(Error::new(ErrorKind::BodyRead)),
    }
}

/// HTTP 200 with a JSON reply.
pub(crate) fn json(body: String) -> Response<String> {
    let mut response = Response::new(body);
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// The answer to a callback refused for `error`: for a command whose reply decides and a body
/// that could not be read, the policy's 200; else the kind's status. Counted, and logged at most
/// once per reason per second (the command only: it is a checked command name; never the body).
pub(crate) fn refuse(
    error: &Error,
    command: Option<&str>,
    decides: bool,
    config: &Config,
) -> Response<String> {
    let kind = error.kind();
    let unreadable = matches!(
        kind,
        ErrorKind::Malformed
            | ErrorKind::Mismatch
            | ErrorKind::TooLarge
            | ErrorKind::UnsupportedMediaType
            | ErrorKind::BodyRead
            | ErrorKind::HandlerPanicked
    );
    let command = command.unwrap_or("-");
    if decides && unreadable {
        config.stats.count_by_policy(kind);
        let (answer, reply) = match config.unreadable {
            UnreadableBody::Forbid => ("forbid", Reply::forbid()),
            UnreadableBody::Allow => ("allow", Reply::ok()),
        };
        if may_log(kind) {
            tracing::warn!(
                reason = kind.as_str(),
                command,
                answer,
                "{error}: a before-callback answered by the unreadable-body policy"
            );
        }
        return reply.into_response();
    }
    config.stats.count_refused(kind);
    if may_log(kind) {
        tracing::warn!(
            reason = kind.as_str(),
            command,
            status = kind.status().as_u16(),
            "callback refused: {error}"
        );
    }
    let mut response = Response::new(format!("{error}\n"));
    *response.status_mut() = kind.status();
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    debug_assert_ne!(kind.status(), StatusCode::OK);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK_JSON: &str = r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}"#;
    const FORBID_JSON: &str = r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":1}"#;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        map
    }

    #[test]
    fn json_or_no_content_type_is_fine_and_nothing_else() {
        for ok in [
            &[][..],
            &[("content-type", "application/json")],
            &[("content-type", "Application/JSON; charset=utf-8")],
            &[("content-type", " application/json ")],
        ] {
            assert!(check_headers(&headers(ok), 10).is_ok(), "{ok:?}");
        }
        for bad in [
            &[("content-type", "application/x-www-form-urlencoded")][..],
            &[("content-type", "multipart/form-data; boundary=x")],
            &[("content-type", "text/plain")],
            &[("content-type", "application/jsonx")],
            &[
                ("content-type", "application/json"),
                ("content-type", "application/json"),
            ],
        ] {
            assert_eq!(
                check_headers(&headers(bad), 10).unwrap_err().kind(),
                ErrorKind::UnsupportedMediaType,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_declared_length_over_the_limit_is_too_large() {
        assert!(check_headers(&headers(&[("content-length", "10")]), 10).is_ok());
        assert_eq!(
            check_headers(&headers(&[("content-length", "11")]), 10)
                .unwrap_err()
                .kind(),
            ErrorKind::TooLarge
        );
    }

    #[tokio::test]
    async fn bodies_are_collected_up_to_the_limit() {
        let body = http_body_util::Full::new(Bytes::from_static(b"0123456789"));
        assert_eq!(
            collect(body.clone(), 10).await.unwrap(),
            Bytes::from_static(b"0123456789")
        );
        assert_eq!(
            collect(body, 9).await.unwrap_err().kind(),
            ErrorKind::TooLarge
        );
    }

    #[test]
    fn refusals_are_counted_and_the_policy_answers_before_callbacks() {
        let config = Config::new();
        let malformed = Error::new(ErrorKind::Malformed);
        let r = refuse(&malformed, Some("C2C.CallbackBeforeSendMsg"), true, &config);
        assert_eq!(
            (r.status(), r.body().as_str()),
            (StatusCode::OK, FORBID_JSON)
        );
        let allow = Config::new().with_unreadable_body(UnreadableBody::Allow);
        assert_eq!(refuse(&malformed, None, true, &allow).body(), OK_JSON);
        let r = refuse(&malformed, None, false, &config);
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        // A conflicting command is refused even for a before-callback.
        let conflict = Error::new(ErrorKind::CommandConflict);
        assert_eq!(
            refuse(&conflict, None, true, &config).status(),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            refuse(&Error::new(ErrorKind::TooLarge), None, false, &config).status(),
            StatusCode::PAYLOAD_TOO_LARGE
        );
        assert_eq!(
            refuse(
                &Error::new(ErrorKind::UnsupportedMediaType),
                None,
                false,
                &config
            )
            .status(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE
        );
        assert_eq!(
            refuse(&Error::new(ErrorKind::NotVerified), None, true, &config).status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
        let stats = config.stats();
        assert_eq!(
            (
                stats.answered_by_policy(ErrorKind::Malformed),
                stats.refused(ErrorKind::Malformed)
            ),
            (1, 1)
        );
        assert_eq!(
            (
                stats.refused(ErrorKind::CommandConflict),
                stats.refused(ErrorKind::NotVerified)
            ),
            (1, 1)
        );
        assert_eq!(allow.stats().answered_by_policy(ErrorKind::Malformed), 1);
    }
}
