//! How long a refresher refreshes: for as long as anything reads its handle (a layer, a clone,
//! the refresher itself), whatever the user dropped; until the last reader is gone, or
//! `shutdown()`. A stopped refresher says so in its handles' status and in a `WARN`, and a
//! signature miss no longer waits for it. On tokio's paused clock: instant and deterministic.

use std::time::Duration;

use axum::body::Body;
use axum::routing::post;
use axum::Router;
use http::Request;
use tim_callback_auth::allowlist::{AllowlistFilter, AllowlistHandle, ClientAddress, IpAllowlist};
use tim_callback_auth::refresh::{AllowlistRefresher, TokenRefresher};
use tim_callback_auth::{CallbackAuthLayer, CallbackToken, ErrorKind, TokenSnapshot};
use tim_callback_integration::logs::Logs;
use tim_callback_integration::source::Changing;
use tim_callback_mock::now;
use tower::ServiceExt;

const APP: u64 = 1400000000;
const INTERVAL: Duration = Duration::from_secs(60);

fn token(t: &str) -> CallbackToken {
    CallbackToken::new(t).unwrap()
}

fn router(layer: CallbackAuthLayer) -> Router {
    Router::new()
        .route("/cb", post(|| async { "ok" }))
        .layer(layer)
}

async fn callback(app: &Router, token: &CallbackToken) -> u16 {
    let t = now();
    let uri = format!("/cb?SdkAppid={APP}&Sign={}&RequestTime={t}", token.sign(t));
    let request = Request::post(uri).body(Body::empty()).unwrap();
    app.clone()
        .oneshot(request)
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(start_paused = true)]
async fn a_layer_over_a_dropped_refresher_keeps_refreshing_through_a_rotation() {
    let old = token("the-token-before-the-rotation");
    let new = token("the-token-after-the-rotation");
    let source = Changing::new(TokenSnapshot::enabled(old.clone()));
    // The one-liner: the refresher is dropped at the end of the statement.
    let layer = CallbackAuthLayer::new(
        TokenRefresher::builder(source.clone())
            .interval(INTERVAL)
            .jitter(0.0)
            // No early fetch on a miss: only the schedule may bring the new token.
            .refresh_on_miss_wait(Duration::ZERO)
            .start()
            .await
            .unwrap()
            .handle(),
    );
    let app = router(layer);
    assert_eq!(callback(&app, &old).await, 200);

    source.set(TokenSnapshot::enabled(new.clone()));
    assert_eq!(callback(&app, &new).await, 401, "not before the next fetch");
    tokio::time::sleep(INTERVAL + Duration::from_secs(1)).await;
    assert_eq!(
        callback(&app, &new).await,
        200,
        "the rotated token is served"
    );
    assert_eq!(callback(&app, &old).await, 200, "the old one in its grace");
    assert_eq!(source.fetches(), 2);

    // And it goes on: the next rotation arrives too.
    let third = token("the-token-after-two-rotations");
    source.set(TokenSnapshot::enabled(third.clone()));
    tokio::time::sleep(INTERVAL).await;
    assert_eq!(callback(&app, &third).await, 200);
}

#[tokio::test(start_paused = true)]
async fn a_dropped_allowlist_refresher_keeps_its_handle_fresh() {
    let source = Changing::new("203.0.113.0/24".parse::<IpAllowlist>().unwrap());
    let handle: AllowlistHandle = AllowlistRefresher::builder(source.clone())
        .interval(INTERVAL)
        .jitter(0.0)
        .start()
        .await
        .unwrap()
        .handle();
    let filter = AllowlistFilter::new(handle.clone(), ClientAddress::peer());
    let from = |ip: &str| {
        let mut request = Request::post("/cb").body(()).unwrap();
        request
            .extensions_mut()
            .insert(std::net::SocketAddr::new(ip.parse().unwrap(), 5555));
        request
    };
    assert_eq!(filter.check(&from("203.0.113.9")), Ok(()));

    source.set("198.51.100.0/24".parse().unwrap());
    assert!(filter.check(&from("198.51.100.7")).is_err(), "not yet");
    tokio::time::sleep(INTERVAL + Duration::from_secs(1)).await;
    assert_eq!(filter.check(&from("198.51.100.7")), Ok(()));
    assert!(filter.check(&from("203.0.113.9")).is_err());
    let status = handle.status().expect("a refreshed handle has a status");
    assert_eq!(
        (status.fetches(), status.changes(), status.entries()),
        (2, 1, Some(1))
    );
    assert!(!status.is_stopped());
}

#[tokio::test(start_paused = true)]
async fn the_task_ends_when_the_last_reader_is_gone() {
    let logs = Logs::default();
    let _guard = logs.install();
    let source = Changing::new(TokenSnapshot::enabled(token("a-token-read-by-a-clone")));
    let refresher = TokenRefresher::builder(source.clone())
        .interval(INTERVAL)
        .jitter(0.0)
        .start()
        .await
        .unwrap();
    let handle = refresher.handle();
    let clone = handle.clone();
    drop(refresher);
    drop(handle);
    tokio::time::sleep(INTERVAL * 3 + Duration::from_secs(1)).await;
    assert_eq!(source.fetches(), 4, "a clone alone keeps it refreshing");
    assert!(source.task_alive());

    drop(clone);
    tokio::time::sleep(INTERVAL * 10).await;
    assert_eq!(
        source.fetches(),
        4,
        "no fetch after the last reader is gone"
    );
    assert!(!source.task_alive(), "the task and its source are gone");
    // Nobody is left to warn: a quiet end.
    assert_eq!(
        logs.matching("WARN", "refresher"),
        Vec::<String>::new(),
        "{:#?}",
        logs.lines()
    );
}

#[tokio::test(start_paused = true)]
async fn after_shutdown_the_handle_says_stopped_a_warning_is_logged_and_misses_do_not_wait() {
    let logs = Logs::default();
    let _guard = logs.install();
    let good = token("the-good-token-0123456789");
    let source = Changing::new(TokenSnapshot::enabled(good.clone()));
    let refresher = TokenRefresher::builder(source.clone())
        .interval(INTERVAL)
        .app_id(APP)
        .refresh_on_miss_wait(Duration::from_secs(30))
        .refresh_on_miss_gap(Duration::from_secs(1))
        .start()
        .await
        .unwrap();
    let handle = refresher.handle();
    let app = router(CallbackAuthLayer::new(handle.clone()));
    assert!(!handle.status().unwrap().is_stopped());

    // Control: while it runs, a miss makes the refresher fetch.
    let forged = token("a-forged-token-0123456789");
    assert_eq!(callback(&app, &forged).await, 401);
    assert_eq!(source.fetches(), 2, "the miss asked for a fetch");

    refresher.shutdown();
    let status = handle.status().unwrap();
    assert!(status.is_stopped());
    assert!(refresher.status().is_stopped());
    let warnings = logs.matching("WARN", "refresher shut down");
    assert_eq!(warnings.len(), 1, "{:#?}", logs.lines());
    assert!(warnings[0].contains(&APP.to_string()), "{}", warnings[0]);
    refresher.shutdown();
    assert_eq!(logs.matching("WARN", "refresher").len(), 1, "warned once");
    assert_eq!(
        refresher.refresh_now().await.map_err(|e| e.kind()),
        Err(ErrorKind::Stopped)
    );

    // A miss no longer waits (the 30 s wait would show on the paused clock), nor fetches.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let started = tokio::time::Instant::now();
    assert_eq!(callback(&app, &forged).await, 401);
    assert_eq!(started.elapsed(), Duration::ZERO, "the miss waited");
    // The last token is still served, and nothing fetches any more.
    assert_eq!(callback(&app, &good).await, 200);
    tokio::time::sleep(INTERVAL * 5).await;
    assert_eq!(source.fetches(), 2, "no fetch after the shutdown");
}

#[test]
fn a_static_handle_has_no_refresher_status() {
    let handle = tim_callback_auth::TokenHandle::new(TokenSnapshot::enabled(token("static")));
    assert!(handle.status().is_none());
    assert!(AllowlistHandle::empty().status().is_none());
}
