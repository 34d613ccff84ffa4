//! The user's handler in API mode, offline: a `RestClient` pointed at the published mock, a
//! `TokenRefresher` fetching the token from it, the user's router, and callbacks signed as Tencent
//! signs them (`tim_callback_mock::callback_uri`).

use axum::body::Body;
use downstream_handler::router;
use http::{Request, StatusCode};
use tim_callback_auth::refresh::TokenRefresher;
use tim_callback_auth::rest::{Region, RestClient};
use tim_callback_auth::CallbackToken;
use tim_callback_mock::mock::{MockApi, ADMIN, SDK_APP_ID, SECRET_KEY};
use tim_callback_mock::{callback_uri, now};
use tower::ServiceExt;

async fn send(app: &axum::Router, token: &CallbackToken, app_id: u64) -> (StatusCode, String) {
    let uri = callback_uri(
        "/im/callback",
        app_id,
        "C2C.CallbackAfterSendMsg",
        token,
        now(),
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
async fn my_handler_runs_for_callbacks_signed_with_the_token_fetched_from_the_api() {
    let api = MockApi::start("downstream-token-0123456789").await;
    let client = RestClient::builder(SDK_APP_ID, SECRET_KEY)
        .admin(ADMIN)
        .region(Region::custom(&api.base_url()).unwrap())
        .build()
        .unwrap();
    let refresher = TokenRefresher::builder(client).start().await.unwrap();
    let app = router(refresher.handle());

    let token = CallbackToken::new("downstream-token-0123456789").unwrap();
    let (status, body) = send(&app, &token, SDK_APP_ID).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        format!(r#"{{"ActionStatus":"OK","ErrorCode":0,"App":{SDK_APP_ID}}}"#)
    );

    // Another token, or another app's callback, never reaches the handler.
    let wrong = CallbackToken::new("not-the-token-0123456789").unwrap();
    let (status, body) = send(&app, &wrong, SDK_APP_ID).await;
    assert_ne!(status, StatusCode::OK);
    assert!(!body.contains("App"), "{body}");
    let (status, body) = send(&app, &token, SDK_APP_ID + 1).await;
    assert_ne!(status, StatusCode::OK);
    assert!(!body.contains("App"), "{body}");

    // The console rotates the token: after a refresh, the new one is accepted.
    api.set_token(Some("rotated-token-0123456789"), true);
    refresher.refresh_now().await.unwrap();
    let rotated = CallbackToken::new("rotated-token-0123456789").unwrap();
    let (status, body) = send(&app, &rotated, SDK_APP_ID).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    assert!(api.violations().is_empty(), "{:?}", api.violations());
    refresher.shutdown();
}
