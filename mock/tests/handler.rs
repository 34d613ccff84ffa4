//! The test a user copies: their own handler behind the layer, in API mode, against the mock
//! (a `RestClient` pointed at it, a `TokenRefresher`, a callback signed as Tencent signs it).

use axum::body::Body;
use axum::routing::post;
use axum::{Extension, Router};
use http::{Request, StatusCode};
use tim_callback_auth::refresh::TokenRefresher;
use tim_callback_auth::rest::{Region, RestClient};
use tim_callback_auth::{CallbackAuthLayer, CallbackToken, VerifiedCallback};
use tim_callback_mock::mock::{MockApi, ADMIN, SDK_APP_ID, SECRET_KEY};
use tim_callback_mock::{callback_uri, now, rest_client};
use tower::ServiceExt;

/// The handler under test: it runs only for callbacks the layer verified.
async fn on_callback(Extension(verified): Extension<VerifiedCallback>) -> String {
    format!(
        r#"{{"ActionStatus":"OK","ErrorCode":0,"App":{}}}"#,
        verified.app_id()
    )
}

fn router(refresher: &TokenRefresher) -> Router {
    Router::new()
        .route("/im/callback", post(on_callback))
        .layer(CallbackAuthLayer::new(refresher.handle()))
}

async fn send(app: &Router, token: &CallbackToken, time: u64) -> (StatusCode, String) {
    let uri = callback_uri(
        "/im/callback",
        SDK_APP_ID,
        "C2C.CallbackAfterSendMsg",
        token,
        time,
    );
    let request = Request::post(uri)
        .body(Body::from(r#"{"From_Account":"a"}"#))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 1 << 16)
        .await
        .unwrap();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn my_handler_answers_callbacks_signed_with_the_fetched_token() {
    let api = MockApi::start("my-test-token-0123456789").await;
    let client = RestClient::builder(SDK_APP_ID, SECRET_KEY)
        .admin(ADMIN)
        .region(Region::custom(&api.base_url()).unwrap())
        .build()
        .unwrap();
    let refresher = TokenRefresher::builder(client).start().await.unwrap();
    let app = router(&refresher);

    let token = CallbackToken::new("my-test-token-0123456789").unwrap();
    let (status, body) = send(&app, &token, now()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        format!(r#"{{"ActionStatus":"OK","ErrorCode":0,"App":{SDK_APP_ID}}}"#)
    );

    let wrong = CallbackToken::new("another-token-0123456789").unwrap();
    let (status, body) = send(&app, &wrong, now()).await;
    assert_ne!(status, StatusCode::OK);
    assert!(!body.contains("App"), "the handler did not run: {body}");

    assert!(api.violations().is_empty(), "{:?}", api.violations());
    refresher.shutdown();
}

#[tokio::test]
async fn a_rotated_token_reaches_my_handler_after_a_refresh() {
    let api = MockApi::start("first-token-0123456789").await;
    let refresher = TokenRefresher::builder(rest_client(&api.base_url()))
        .start()
        .await
        .unwrap();
    let app = router(&refresher);

    // The console rotates the token; the refresher fetches the new one.
    api.set_token(Some("second-token-0123456789"), true);
    refresher.refresh_now().await.unwrap();

    let second = CallbackToken::new("second-token-0123456789").unwrap();
    let (status, body) = send(&app, &second, now()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // A Sign from ten minutes ago is outside the layer's window, whatever the token.
    let (status, _) = send(&app, &second, now() - 600).await;
    assert_ne!(status, StatusCode::OK);
    refresher.shutdown();
}
