//! Parameter confusion: a query whose app, `Sign` or `RequestTime` a decoding parser (axum's
//! `Query`) would read differently from the layer is refused, by the single-app layer with
//! `with_app_id` and by the multi-app layer, while Tencent's own queries pass and the handler gets
//! the verified facts in a `VerifiedCallback` extension.

use axum::body::Body;
use axum::routing::post;
use axum::{Extension, Router};
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use tim_callback_auth::{
    AppSet, CallbackAuthLayer, CallbackToken, Rejection, TokenHandle, TokenSnapshot,
    VerifiedCallback, Verifier,
};
use tim_callback_mock::{how, How};
use tower::ServiceExt;

const NOW: u64 = 1_700_000_000;
const A: u64 = 1400000001;
const B: u64 = 1400000002;
const C: u64 = 1400000003;

/// The handler answers with what the layer verified, so the test sees what a handler would trust.
async fn handler(Extension(verified): Extension<VerifiedCallback>) -> String {
    format!(
        "{:?} {:?} {:?}",
        verified.app_id(),
        verified.request_time(),
        how(verified)
    )
}

fn tokens() -> (CallbackToken, CallbackToken) {
    (
        CallbackToken::new("token-of-app-a").unwrap(),
        CallbackToken::new("token-of-app-b").unwrap(),
    )
}

/// Apps A and B with authentication on, C with it off (`IsTokenEnable: false`).
fn multi_app() -> Router {
    let (a, b) = tokens();
    let apps = AppSet::new();
    apps.insert(A, TokenHandle::new(TokenSnapshot::enabled(a)));
    apps.insert(B, TokenHandle::new(TokenSnapshot::enabled(b)));
    apps.insert(C, TokenHandle::new(TokenSnapshot::disabled()));
    Router::new().route("/im/callback", post(handler)).layer(
        CallbackAuthLayer::for_apps(apps)
            .with_clock(|| std::time::UNIX_EPOCH + std::time::Duration::from_secs(NOW)),
    )
}

fn single_app() -> Router {
    let (a, _) = tokens();
    Router::new().route("/im/callback", post(handler)).layer(
        CallbackAuthLayer::new(TokenHandle::new(TokenSnapshot::enabled(a)))
            .with_verifier(Verifier::new().with_app_id(A))
            .with_clock(|| std::time::UNIX_EPOCH + std::time::Duration::from_secs(NOW)),
    )
}

async fn send(app: Router, query: &str) -> (StatusCode, Option<Rejection>, String) {
    let request = Request::post(format!("/im/callback?{query}"))
        .body(Body::from("{}"))
        .unwrap();
    let response = app.oneshot(request).await.unwrap();
    let status = response.status();
    let rejection = response.extensions().get::<Rejection>().copied();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        rejection,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

/// The table: every query a decoding parser reads differently from the layer.
fn confusing_queries() -> Vec<(String, Rejection)> {
    let (a, _) = tokens();
    let sign = a.sign(NOW);
    let auth = format!("Sign={sign}&RequestTime={NOW}");
    let cmd = "CallbackCommand=C2C.CallbackAfterSendMsg&contenttype=json";
    vec![
        (
            format!("SdkAppid={A}&SdkAppi%64={B}&{cmd}&{auth}"),
            Rejection::DisguisedParameter,
        ),
        (
            format!("SdkAppid={A}&%53dkAppid={B}&{cmd}&{auth}"),
            Rejection::DisguisedParameter,
        ),
        (
            format!("SdkAppi%64={B}&SdkAppid={A}&{cmd}&{auth}"),
            Rejection::DisguisedParameter,
        ),
        (
            format!("SdkAppid={A}&{cmd}&{auth}&Request%54ime={}", NOW - 3600),
            Rejection::DisguisedParameter,
        ),
        (
            format!("SdkAppid={A}&{cmd}&{auth}&Sig%6E={}", "0".repeat(64)),
            Rejection::DisguisedParameter,
        ),
        // Alone, an encoded name is refused too.
        (
            format!("%53dkAppid={A}&{cmd}&{auth}"),
            Rejection::DisguisedParameter,
        ),
        // Two literal spellings of the app id.
        (
            format!("SdkAppid={A}&SdkAppId={B}&{cmd}&{auth}"),
            Rejection::DuplicateParameter,
        ),
        // The right number, written as a different string.
        (
            format!("SdkAppid=0{A}&{cmd}&{auth}"),
            Rejection::AppIdMismatch,
        ),
    ]
}

#[tokio::test]
async fn confusing_queries_are_refused_by_the_single_app_layer() {
    for (query, reason) in confusing_queries() {
        let (status, rejection, _) = send(single_app(), &query).await;
        assert_eq!(
            (status, rejection),
            (StatusCode::UNAUTHORIZED, Some(reason)),
            "{query}"
        );
    }
}

#[tokio::test]
async fn confusing_queries_are_refused_by_the_multi_app_layer() {
    let mut cases = confusing_queries();
    // App C has authentication off: a query naming C (unsigned) and, encoded, A.
    cases.push((
        format!("SdkAppid={C}&SdkAppi%64={A}&CallbackCommand=C2C.CallbackAfterSendMsg"),
        Rejection::DisguisedParameter,
    ));
    cases.push((
        format!("SdkAppid={C}&SdkAppid={A}&CallbackCommand=C2C.CallbackAfterSendMsg"),
        Rejection::DuplicateParameter,
    ));
    for (query, reason) in cases {
        let (status, rejection, _) = send(multi_app(), &query).await;
        assert_eq!(
            (status, rejection),
            (StatusCode::UNAUTHORIZED, Some(reason)),
            "{query}"
        );
    }
}

#[tokio::test]
async fn tencents_own_queries_pass_and_the_handler_gets_the_verified_facts() {
    let (a, b) = tokens();
    let tencent = |app: u64, name: &str, token: &CallbackToken| {
        format!(
            "{name}={app}&CallbackCommand=C2C.CallbackAfterSendMsg&contenttype=json\
             &ClientIP=1.2.3.4&OptPlatform=RESTAPI&Sign={}&RequestTime={NOW}",
            token.sign(NOW)
        )
    };
    let expected = |app: u64| format!("{app} Some({NOW}) CurrentToken");
    for name in ["SdkAppid", "SdkAppId"] {
        let (status, _, body) = send(single_app(), &tencent(A, name, &a)).await;
        assert_eq!((status, body), (StatusCode::OK, expected(A)), "{name}");
        for (app, token) in [(A, &a), (B, &b)] {
            let (status, _, body) = send(multi_app(), &tencent(app, name, token)).await;
            assert_eq!((status, body), (StatusCode::OK, expected(app)), "{name}");
        }
    }
    // App C (authentication off): the app is known, no RequestTime was verified.
    let (status, _, body) = send(multi_app(), &format!("SdkAppid={C}&contenttype=json")).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::OK,
            format!("{C} None {:?}", How::AuthenticationDisabled)
        )
    );
}

#[tokio::test]
async fn the_extension_can_be_turned_off() {
    let (a, _) = tokens();
    let app = Router::new()
        .route(
            "/im/callback",
            post(|verified: Option<Extension<VerifiedCallback>>| async move {
                format!("{}", verified.is_some())
            }),
        )
        .layer(
            CallbackAuthLayer::new(TokenHandle::new(TokenSnapshot::enabled(a.clone())))
                .with_clock(|| std::time::UNIX_EPOCH + std::time::Duration::from_secs(NOW))
                .with_verified_extension(false),
        );
    let query = format!("SdkAppid={A}&Sign={}&RequestTime={NOW}", a.sign(NOW));
    let (status, _, body) = send(app, &query).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "false"));
}
