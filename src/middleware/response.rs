//! How a rejected callback is answered.

use http::{header, HeaderValue, Response, StatusCode};

use crate::verify::Rejection;

/// Builds the HTTP response for a rejected callback.
///
/// Implemented by [`DefaultRejection`] (401/503 with a fixed JSON body), [`ForbidCallback`]
/// (200 with Tencent's "forbid" reply) and by any `Fn(Rejection) -> Response<B>` closure. The layer
/// adds the [`Rejection`] to the response's extensions after calling it, so outer layers can log it.
///
/// The response should not echo anything from the request: the query carries the `Sign`.
pub trait RejectionResponse<B> {
    /// The response for `rejection`.
    fn response(&self, rejection: Rejection) -> Response<B>;
}

impl<B, F> RejectionResponse<B> for F
where
    F: Fn(Rejection) -> Response<B>,
{
    fn response(&self, rejection: Rejection) -> Response<B> {
        self(rejection)
    }
}

/// The default answer: `401 Unauthorized` (`403 Forbidden` for a source outside the allowlist or
/// unknown; `503 Service Unavailable` while no token or no allowlist is loaded; for TRTC events,
/// `413 Payload Too Large` for a body over the limit and `400 Bad Request` for an unreadable or
/// malformed one) with
/// `Content-Type: application/json` and a fixed body in Tencent's reply shape,
/// `{"ActionStatus":"FAIL","ErrorCode":1,"ErrorInfo":"callback authentication failed"}`.
///
/// Tencent treats a non-200 answer as a failed callback. For a before-callback that means the
/// default (delivering the message) may apply; use [`ForbidCallback`] to actively block it instead.
#[derive(Clone, Copy, Debug, Default)]
#[non_exhaustive]
pub struct DefaultRejection;

impl DefaultRejection {
    /// The default answer.
    pub const fn new() -> Self {
        Self
    }
}

const FAILED_BODY: &str =
    r#"{"ActionStatus":"FAIL","ErrorCode":1,"ErrorInfo":"callback authentication failed"}"#;
const UNAVAILABLE_BODY: &str =
    r#"{"ActionStatus":"FAIL","ErrorCode":1,"ErrorInfo":"callback authentication unavailable"}"#;
const FORBID_BODY: &str =
    r#"{"ActionStatus":"OK","ErrorCode":1,"ErrorInfo":"callback authentication failed"}"#;

/// `status` with a fixed JSON body (no allocation for bodies made from a `&'static str`).
pub(crate) fn json_response<B: From<&'static str>>(
    status: StatusCode,
    body: &'static str,
) -> Response<B> {
    let mut response = Response::new(B::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

impl<B: From<&'static str>> RejectionResponse<B> for DefaultRejection {
    fn response(&self, rejection: Rejection) -> Response<B> {
        match rejection {
            Rejection::TokenUnavailable | Rejection::AllowlistUnavailable => {
                json_response(StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE_BODY)
            }
            Rejection::SourceNotAllowed | Rejection::UnknownSource => {
                json_response(StatusCode::FORBIDDEN, FAILED_BODY)
            }
            Rejection::BodyTooLarge => json_response(StatusCode::PAYLOAD_TOO_LARGE, FAILED_BODY),
            Rejection::UnreadableBody | Rejection::MalformedEvent => {
                json_response(StatusCode::BAD_REQUEST, FAILED_BODY)
            }
            _ => json_response(StatusCode::UNAUTHORIZED, FAILED_BODY),
        }
    }
}

/// Answers `200 OK` with `{"ActionStatus":"OK","ErrorCode":1,…}`: Tencent's reply that forbids the
/// event of a before-callback (the sender sees error 20006, or 10016 in groups).
///
/// Use it for endpoints that receive `…CallbackBefore…` commands when an unauthenticated callback
/// must block the message rather than count as a failed callback (which Tencent may treat as
/// "deliver"). After-callbacks ignore the reply either way.
#[derive(Clone, Copy, Debug, Default)]
#[non_exhaustive]
pub struct ForbidCallback;

impl ForbidCallback {
    /// The "forbid" answer.
    pub const fn new() -> Self {
        Self
    }
}

impl<B: From<&'static str>> RejectionResponse<B> for ForbidCallback {
    fn response(&self, _rejection: Rejection) -> Response<B> {
        json_response(StatusCode::OK, FORBID_BODY)
    }
}
