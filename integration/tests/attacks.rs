//! Attacks and lifecycle: a forged flood, cross-app replay, rotation without losing a callback,
//! verification racing with stores, and dropping the refresher mid-fetch.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tim_callback_mock::now;

use axum::body::Body;
use axum::routing::post;
use axum::Router;
use http::Request;
use tim_callback_auth::refresh::{Source, TokenRefresher};
use tim_callback_auth::rest::{Region, RestClient};
use tim_callback_auth::{
    CallbackAuthLayer, CallbackToken, Error, Rejection, TokenHandle, TokenSnapshot, Verifier,
};
use tim_callback_integration::faults::Harness;
use tim_callback_mock::mock::{MockApi, Reply, ADMIN, SDK_APP_ID, SECRET_KEY};
use tim_callback_mock::{how, How};
use tower::ServiceExt;

/// Resident memory of this process, from /proc (Linux).
fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_flood_is_rejected_at_one_api_call_per_gap_with_flat_memory() {
    let h = Harness::start_with("flood-token", |b| {
        b.interval(Duration::from_secs(3600))
            .refresh_on_miss_gap(Duration::from_secs(10))
    })
    .await;
    let calls_before = h.api.calls();
    let forged = "0123456789abcdef".repeat(4);
    let send = |t: u64| {
        let uri = format!("/cb?SdkAppid={SDK_APP_ID}&Sign={forged}&RequestTime={t}");
        h.app
            .clone()
            .oneshot(Request::post(uri).body(Body::empty()).unwrap())
    };
    // Warm up, then measure memory across 100,000 forged, fresh requests.
    for _ in 0..1_000 {
        assert_eq!(send(now()).await.unwrap().status(), 401);
    }
    let memory_before = resident_bytes();
    let started = Instant::now();
    let mut rejected = 0u32;
    for _ in 0..100_000 {
        let response = send(now()).await.unwrap();
        if response.status() == 401
            && response.extensions().get::<Rejection>() == Some(&Rejection::SignatureMismatch)
        {
            rejected += 1;
        }
    }
    let elapsed = started.elapsed();
    assert_eq!(rejected, 100_000);
    let growth = resident_bytes().saturating_sub(memory_before);
    assert!(growth < 16 << 20, "resident memory grew by {growth} bytes");
    // One miss-triggered fetch per 10 s gap (plus the first), nothing from the schedule.
    let allowed = 1 + elapsed.as_secs() / 10 + 1;
    let calls = (h.api.calls() - calls_before) as u64;
    assert!(calls <= allowed, "{calls} API calls in {elapsed:?}");
}

#[tokio::test]
async fn a_url_signed_for_app_a_is_refused_by_app_b_sharing_the_token() {
    let shared = CallbackToken::new("token-shared-by-two-apps").unwrap();
    let endpoint = |app_id: u64| {
        Router::new().route("/cb", post(|| async { "ok" })).layer(
            CallbackAuthLayer::new(TokenHandle::new(TokenSnapshot::enabled(shared.clone())))
                .with_verifier(Verifier::new().with_app_id(app_id)),
        )
    };
    let t = now();
    // A URL captured from app A's traffic (an access log, a proxy).
    let captured = format!(
        "/cb?SdkAppid=1400000001&Sign={}&RequestTime={t}",
        shared.sign(t)
    );
    let to_a = endpoint(1400000001)
        .oneshot(Request::post(&captured).body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(to_a.status(), 200);
    let replayed = endpoint(1400000002)
        .oneshot(
            Request::post(&captured)
                .body(Body::from("{\"evil\":1}"))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(replayed.status(), 401);
    assert_eq!(
        replayed.extensions().get::<Rejection>(),
        Some(&Rejection::AppIdMismatch)
    );
    // Rewriting SdkAppid in the URL does not help: the check runs on what the request says,
    // and only the app B endpoint's own token would sign for it.
    let rewritten = captured.replace("1400000001", "1400000002");
    let to_b = endpoint(1400000002)
        .oneshot(Request::post(&rewritten).body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(
        to_b.status(),
        200,
        "same token: documented limitation, see README"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotations_lose_no_legitimate_callback() {
    let h = Harness::start_with("rotating-1", |b| {
        b.interval(Duration::from_secs(3600))
            // The smallest gap the builder allows.
            .refresh_on_miss_gap(Duration::from_secs(1))
            .grace(Duration::from_secs(300))
    })
    .await;
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let stream = {
        let (stop, sent) = (Arc::clone(&stop), Arc::clone(&sent));
        let app = h.app.clone();
        let api_token = Arc::new(std::sync::Mutex::new(String::from("rotating-1")));
        let reader = Arc::clone(&api_token);
        (
            tokio::spawn(async move {
                let mut rejected = Vec::new();
                while !stop.load(Ordering::SeqCst) {
                    // Tencent signs with whatever token it holds at that instant.
                    let current = reader.lock().unwrap().clone();
                    let token = CallbackToken::new(&current).unwrap();
                    let t = now();
                    let uri = format!(
                        "/cb?SdkAppid={SDK_APP_ID}&Sign={}&RequestTime={t}",
                        token.sign(t)
                    );
                    let status = app
                        .clone()
                        .oneshot(Request::post(uri).body(Body::empty()).unwrap())
                        .await
                        .unwrap()
                        .status();
                    sent.fetch_add(1, Ordering::SeqCst);
                    if status != 200 {
                        rejected.push(current);
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                rejected
            }),
            api_token,
        )
    };
    let (task, api_token) = stream;
    for next in ["rotating-2", "rotating-3"] {
        // Further apart than one refresh-on-miss gap (see README "Limits").
        tokio::time::sleep(Duration::from_millis(1300)).await;
        h.api.set_token(Some(next), true);
        *api_token.lock().unwrap() = next.to_string();
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    stop.store(true, Ordering::SeqCst);
    let rejected = task.await.unwrap();
    assert!(sent.load(Ordering::SeqCst) > 50);
    assert_eq!(
        rejected,
        Vec::<String>::new(),
        "legitimate callbacks rejected"
    );
    assert_eq!(h.refresher.status().changes(), 2);
}

#[test]
fn verification_racing_with_stores_always_sees_a_consistent_pair() {
    fn token(i: u64) -> CallbackToken {
        CallbackToken::new(&format!("race-token-{i}")).unwrap()
    }
    fn index(token: &CallbackToken) -> u64 {
        let text = std::str::from_utf8(token.expose()).unwrap();
        text.strip_prefix("race-token-").unwrap().parse().unwrap()
    }
    fn snapshot(i: u64) -> TokenSnapshot {
        TokenSnapshot::enabled(token(i)).with_previous(token(i - 1), u64::MAX)
    }
    let handle = TokenHandle::new(snapshot(1));
    let latest = Arc::new(AtomicU64::new(1));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (handle, latest, stop) = (handle.clone(), Arc::clone(&latest), Arc::clone(&stop));
        std::thread::spawn(move || {
            let mut i = 1;
            while !stop.load(Ordering::SeqCst) {
                i += 1;
                handle.store(snapshot(i));
                latest.store(i, Ordering::SeqCst);
            }
            i
        })
    };
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let (handle, latest) = (handle.clone(), Arc::clone(&latest));
            std::thread::spawn(move || {
                let t = 1_700_000_000;
                for _ in 0..20_000 {
                    let floor = latest.load(Ordering::SeqCst);
                    let s = handle.load().unwrap();
                    let current = s.current().unwrap();
                    let (previous, _) = s.previous().unwrap();
                    // The snapshot is at least as new as the last store announced before the load,
                    // and its previous token is exactly its current one's predecessor.
                    assert!(index(current) >= floor, "went back in time");
                    assert_eq!(index(previous), index(current) - 1, "torn pair");
                    let q = |tok: &CallbackToken| {
                        format!("SdkAppid={SDK_APP_ID}&Sign={}&RequestTime={t}", tok.sign(t))
                    };
                    assert_eq!(
                        Verifier::new().verify(&s, &q(current), t).map(how),
                        Ok(How::CurrentToken)
                    );
                    assert_eq!(
                        Verifier::new().verify(&s, &q(previous), t).map(how),
                        Ok(How::PreviousToken)
                    );
                }
            })
        })
        .collect();
    for reader in readers {
        reader.join().unwrap();
    }
    stop.store(true, Ordering::SeqCst);
    let stores = writer.join().unwrap();
    assert!(stores > 100, "{stores} stores");
}

/// A REST source that holds a probe: when the task ends, the source (and so the probe) is dropped.
struct Probed {
    client: RestClient,
    _probe: Arc<()>,
}

impl Source<TokenSnapshot> for Probed {
    async fn fetch(&self) -> Result<TokenSnapshot, Error> {
        self.client.get_callback_token().await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_refresher_mid_fetch_ends_the_task_and_all_calls() {
    let api = MockApi::start("in-flight").await;
    api.set_fallback(Reply::Delay(
        Duration::from_millis(500),
        Box::new(Reply::Real),
    ));
    let probe = Arc::new(());
    let client = RestClient::builder(SDK_APP_ID, SECRET_KEY)
        .admin(ADMIN)
        .region(Region::custom(&api.base_url()).unwrap())
        .build()
        .unwrap();
    let refresher = TokenRefresher::builder(Probed {
        client,
        _probe: Arc::clone(&probe),
    })
    .interval(Duration::from_millis(100))
    .spawn();
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(api.calls(), 1, "the first fetch is in flight");
    assert_eq!(Arc::strong_count(&probe), 2);
    drop(refresher);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        Arc::strong_count(&probe),
        1,
        "the task and its source are gone"
    );
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(api.calls(), 1, "no call after the drop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_refresher_is_dropped_misses_do_not_wait() {
    let h = Harness::start_with("dropped-token", |b| {
        b.refresh_on_miss_wait(Duration::from_secs(5))
    })
    .await;
    let handle = h.refresher.handle();
    let app = Router::new()
        .route("/cb", post(|| async { "ok" }))
        .layer(CallbackAuthLayer::new(handle));
    drop(h.refresher);
    let t = now();
    let forged = format!(
        "/cb?SdkAppid={SDK_APP_ID}&Sign={}&RequestTime={t}",
        "ab".repeat(32)
    );
    let started = Instant::now();
    let response = app
        .oneshot(Request::post(forged).body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "waited {:?}",
        started.elapsed()
    );
}
