//! Several apps behind one endpoint: cross-app replay, independent refreshers, runtime changes,
//! exact counters.

use std::time::Duration;
use tim_callback_mock::now;

use axum::body::Body;
use axum::routing::post;
use axum::Router;
use http::Request;
use tim_callback_auth::refresh::TokenRefresher;
use tim_callback_auth::rest::{Region, RestClient};
use tim_callback_auth::{
    AppSet, CallbackAuthLayer, CallbackToken, Rejection, TokenHandle, TokenSnapshot,
};
use tim_callback_mock::mock::{MockApi, Reply, ADMIN, SECRET_KEY};
use tower::ServiceExt;

const APP_A: u64 = 1400000001;
const APP_B: u64 = 1400000002;

fn token(t: &str) -> CallbackToken {
    CallbackToken::new(t).unwrap()
}

fn static_handle(t: &str) -> TokenHandle {
    TokenHandle::new(TokenSnapshot::enabled(token(t)))
}

fn router(apps: &AppSet) -> Router {
    Router::new()
        .route("/cb", post(|| async { "ok" }))
        .layer(CallbackAuthLayer::for_apps(apps.clone()))
}

async fn send(
    app: &Router,
    app_id: Option<u64>,
    signer: Option<&CallbackToken>,
    time: u64,
) -> (u16, Option<Rejection>) {
    let mut uri = String::from("/cb?CallbackCommand=C2C.CallbackAfterSendMsg");
    if let Some(id) = app_id {
        uri.push_str(&format!("&SdkAppid={id}"));
    }
    if let Some(t) = signer {
        uri.push_str(&format!("&Sign={}&RequestTime={time}", t.sign(time)));
    }
    let response = app
        .clone()
        .oneshot(Request::post(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    (
        response.status().as_u16(),
        response.extensions().get::<Rejection>().copied(),
    )
}

async fn api_app(app_id: u64, initial: &str) -> (MockApi, TokenRefresher) {
    let api = MockApi::start_for(app_id, ADMIN, SECRET_KEY, Some(initial), true).await;
    let client = RestClient::builder(app_id, SECRET_KEY)
        .admin(ADMIN)
        .region(Region::custom(&api.base_url()).unwrap())
        .request_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let refresher = TokenRefresher::builder(client)
        .interval(Duration::from_millis(200))
        .jitter(0.0)
        .backoff(Duration::from_millis(50), Duration::from_millis(100))
        .start()
        .await
        .unwrap();
    (api, refresher)
}

#[tokio::test]
async fn a_callback_signed_for_app_a_is_rejected_when_it_claims_app_b() {
    let apps = AppSet::new();
    apps.insert(APP_A, static_handle("token-a"));
    apps.insert(APP_B, static_handle("token-b"));
    let app = router(&apps);
    let t = now();
    assert_eq!(
        send(&app, Some(APP_A), Some(&token("token-a")), t).await.0,
        200
    );
    assert_eq!(
        send(&app, Some(APP_B), Some(&token("token-b")), t).await.0,
        200
    );
    assert_eq!(
        send(&app, Some(APP_B), Some(&token("token-a")), t).await,
        (401, Some(Rejection::SignatureMismatch))
    );
    assert_eq!(
        send(&app, Some(1400000009), Some(&token("token-a")), t).await,
        (401, Some(Rejection::AppIdMismatch))
    );
    // No SdkAppid at all: reported as missing, not as a mismatch.
    assert_eq!(
        send(&app, None, Some(&token("token-a")), t).await,
        (401, Some(Rejection::MissingAppId))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_apps_failing_api_does_not_hold_back_the_other() {
    let (api_a, refresher_a) = api_app(APP_A, "a-1").await;
    let (api_b, refresher_b) = api_app(APP_B, "b-1").await;
    let apps = AppSet::new();
    apps.insert_refresher(refresher_a).unwrap();
    apps.insert_refresher(refresher_b).unwrap();
    let app = router(&apps);

    api_a.set_fallback(Reply::Status(502, "<html>502</html>"));
    api_b.set_token(Some("b-2"), true);
    tokio::time::sleep(Duration::from_millis(800)).await;
    let (a, b) = (
        apps.refresh_status(APP_A).unwrap(),
        apps.refresh_status(APP_B).unwrap(),
    );
    assert!(a.consecutive_failures() >= 2, "{a:?}");
    assert_eq!(b.consecutive_failures(), 0);
    assert_eq!(b.changes(), 1);
    assert!(b.successes() >= 3, "{b:?}");
    let t = now();
    assert_eq!(
        send(&app, Some(APP_A), Some(&token("a-1")), t).await.0,
        200,
        "A serves its last good token"
    );
    assert_eq!(send(&app, Some(APP_B), Some(&token("b-2")), t).await.0, 200);
    assert_eq!(api_a.violations(), Vec::<String>::new());
    assert_eq!(api_b.violations(), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apps_can_be_added_and_removed_while_serving() {
    let apps = AppSet::new();
    apps.insert(APP_A, static_handle("token-a"));
    let app = router(&apps);
    let t = now();
    assert_eq!(
        send(&app, Some(APP_B), Some(&token("b-1")), t).await,
        (401, Some(Rejection::AppIdMismatch))
    );

    let (api_b, refresher_b) = api_app(APP_B, "b-1").await;
    apps.insert_refresher(refresher_b).unwrap();
    assert_eq!(send(&app, Some(APP_B), Some(&token("b-1")), t).await.0, 200);

    assert!(apps.remove(APP_B));
    assert_eq!(
        send(&app, Some(APP_B), Some(&token("b-1")), t).await,
        (401, Some(Rejection::AppIdMismatch))
    );
    assert_eq!(
        send(&app, Some(APP_A), Some(&token("token-a")), t).await.0,
        200
    );
    // Removing the app dropped its refresher: its API sees no more calls.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let calls = api_b.calls();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(api_b.calls(), calls);
    assert_eq!(apps.app_ids(), vec![APP_A]);
}

#[tokio::test]
async fn counters_match_a_scripted_sequence_exactly() {
    let apps = AppSet::new();
    let a = token("token-a");
    let old = token("token-a-old");
    apps.insert(
        APP_A,
        TokenHandle::new(TokenSnapshot::enabled(a.clone()).with_previous(old.clone(), u64::MAX)),
    );
    apps.insert(APP_B, TokenHandle::new(TokenSnapshot::disabled()));
    let app = router(&apps);
    let t = now();
    for _ in 0..3 {
        send(&app, Some(APP_A), Some(&a), t).await;
    }
    send(&app, Some(APP_A), Some(&old), t).await;
    send(&app, Some(APP_A), Some(&token("forged")), t).await;
    send(&app, Some(APP_A), Some(&a), t - 3600).await;
    send(&app, Some(APP_A), None, t).await;
    send(&app, Some(APP_B), None, t).await;
    send(&app, Some(APP_B), None, t).await;
    send(&app, Some(1), Some(&a), t).await;
    send(&app, None, None, t).await;

    let stats = apps.stats();
    assert_eq!(stats.len(), 3);
    let (sa, sb, unknown) = (&stats[0], &stats[1], &stats[2]);
    assert_eq!(sa.app_id(), Some(APP_A));
    assert_eq!(
        (
            sa.accepted_current(),
            sa.accepted_previous(),
            sa.accepted_disabled()
        ),
        (3, 1, 0)
    );
    assert_eq!(sa.rejected(Rejection::SignatureMismatch), 1);
    assert_eq!(sa.rejected(Rejection::Expired), 1);
    assert_eq!(sa.rejected(Rejection::MissingSign), 1);
    assert_eq!(sa.rejected_total(), 3);
    assert_eq!(sb.app_id(), Some(APP_B));
    assert_eq!(
        (
            sb.accepted_disabled(),
            sb.accepted_total(),
            sb.rejected_total()
        ),
        (2, 2, 0)
    );
    assert_eq!(unknown.app_id(), None);
    // One callback named an unknown app, one named none.
    assert_eq!(unknown.rejected(Rejection::AppIdMismatch), 1);
    assert_eq!(unknown.rejected(Rejection::MissingAppId), 1);
    assert_eq!(unknown.accepted_total(), 0);
    // The same numbers through the layer.
    assert_eq!(CallbackAuthLayer::for_apps(apps.clone()).stats(), stats);
}

#[tokio::test]
async fn single_app_layer_counts_too() {
    let a = token("token-a");
    let layer = CallbackAuthLayer::new(TokenHandle::new(TokenSnapshot::enabled(a.clone())));
    let app = Router::new()
        .route("/cb", post(|| async { "ok" }))
        .layer(layer.clone());
    let t = now();
    send(&app, Some(APP_A), Some(&a), t).await;
    send(&app, Some(APP_A), Some(&token("forged")), t).await;
    let stats = layer.stats();
    assert_eq!(stats.len(), 1);
    assert_eq!(stats[0].accepted_current(), 1);
    assert_eq!(stats[0].rejected(Rejection::SignatureMismatch), 1);
}

#[tokio::test]
async fn a_refresher_without_an_app_cannot_join_a_set() {
    let source = TokenSnapshot::enabled(token("static-token-0123456789"));
    let refresher = TokenRefresher::builder(source.clone())
        .start()
        .await
        .unwrap();
    assert_eq!(refresher.app_id(), None);
    let error = AppSet::new().insert_refresher(refresher).unwrap_err();
    assert_eq!(error.kind(), tim_callback_auth::ErrorKind::InvalidInput);
    assert!(error.to_string().contains("app_id"), "{error}");
    // With the app named on the builder it can; a REST client names its own.
    let named = TokenRefresher::builder(source)
        .app_id(APP_A)
        .start()
        .await
        .unwrap();
    let apps = AppSet::new();
    apps.insert_refresher(named).unwrap();
    assert_eq!(apps.app_ids(), vec![APP_A]);
}
