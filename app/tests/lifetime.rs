//! What keeps refreshing when a server keeps only the layer: `Running` dropped at once.

use std::time::Duration;

use axum::body::Body;
use axum::routing::post;
use axum::Router;
use http::Request;
use tim_callback_app::Config;
use tim_callback_auth::CallbackToken;
use tim_callback_mock::mock::{MockApi, SDK_APP_ID, SECRET_KEY};
use tim_callback_mock::now;
use tower::ServiceExt;

fn token(t: &str) -> CallbackToken {
    CallbackToken::new(t).unwrap()
}

fn router(layer: tim_callback_auth::CallbackAuthLayer) -> Router {
    Router::new()
        .route("/cb", post(|| async { "ok" }))
        .layer(layer)
}

/// `Config::from_env()?.start().await?.layer()`: `Running` is dropped at once, its layer keeps
/// both the token and the source allowlist refreshed. On the real clock (the mock is real HTTP),
/// with the shortest intervals the configuration takes (1 s), polling up to a generous deadline.
#[tokio::test]
async fn the_configuration_one_liner_keeps_the_token_and_the_allowlist_refreshed() {
    let api = MockApi::start("the-configured-token-before").await;
    api.set_ip_lists(Some((
        vec!["198.51.100.1".into()],
        vec!["198.51.100.1".into()],
    )));
    let base = api.base_url();
    let vars = move |name: &str| match name {
        "TIM_SDKAPPID" => Some(SDK_APP_ID.to_string()),
        "TIM_SECRET_KEY" => Some(SECRET_KEY.to_owned()),
        "TIM_API_BASE_URL" => Some(base.clone()),
        "TIM_REFRESH_SECS" => Some("1".to_owned()),
        "TIM_SOURCE_IPS" => Some("tencent".to_owned()),
        "TIM_SOURCE_IPS_REFRESH_SECS" => Some("1".to_owned()),
        "TIM_TRUSTED_PROXY_HOPS" => Some("1".to_owned()),
        _ => None,
    };
    let layer = Config::from_vars(vars)
        .unwrap()
        .start()
        .await
        .unwrap()
        .layer();
    let app = router(layer);
    let send = |token: CallbackToken, from: &'static str| {
        let app = app.clone();
        async move {
            let t = now();
            let uri = format!(
                "/cb?SdkAppid={SDK_APP_ID}&Sign={}&RequestTime={t}",
                token.sign(t)
            );
            let request = Request::post(uri)
                .header("x-forwarded-for", from)
                .body(Body::empty())
                .unwrap();
            app.oneshot(request).await.unwrap().status().as_u16()
        }
    };
    let before = token("the-configured-token-before");
    let after = token("the-configured-token-after");
    assert_eq!(send(before.clone(), "198.51.100.1").await, 200);
    assert_eq!(send(before.clone(), "203.0.113.7").await, 403);

    api.set_token(Some("the-configured-token-after"), true);
    api.set_ip_lists(Some((
        vec!["203.0.113.7".into()],
        vec!["203.0.113.7".into()],
    )));
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while send(after.clone(), "203.0.113.7").await != 200 {
        assert!(
            std::time::Instant::now() < deadline,
            "the rotated token and the new list never arrived"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        send(after, "198.51.100.1").await,
        403,
        "the old list is gone"
    );
}
