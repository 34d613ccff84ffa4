//! Controls that keep verification on, or make it visible when it is off: the switch to "disabled"
//! logged, counted and shown; `confirm_disable`; `revoke_previous`; and the hardening of the
//! refresher and the layer against configuration extremes and floods.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tim_callback_mock::now;

use axum::body::Body;
use axum::routing::post;
use axum::Router;
use http::Request;
use tim_callback_auth::refresh::{Source, TokenRefresher};
use tim_callback_auth::{
    AppSet, CallbackAuthLayer, CallbackToken, Error, ErrorKind, Rejection, TokenHandle,
    TokenSnapshot,
};
use tim_callback_integration::logs::Logs;
use tower::ServiceExt;

const APP: u64 = 1400000000;

fn token(t: &str) -> CallbackToken {
    CallbackToken::new(t).unwrap()
}

fn enabled(t: &str) -> TokenSnapshot {
    TokenSnapshot::enabled(token(t))
}

/// A source that answers from a script, then repeats its last answer; counts its calls.
#[derive(Clone, Default)]
struct Scripted {
    answers: Arc<Mutex<VecDeque<Option<TokenSnapshot>>>>,
    last: Arc<Mutex<Option<TokenSnapshot>>>,
    calls: Arc<AtomicUsize>,
}

impl Scripted {
    /// `None` in the script is a failed fetch.
    fn new(script: impl IntoIterator<Item = Option<TokenSnapshot>>) -> Self {
        let s = Self::default();
        s.then(script);
        s
    }

    fn then(&self, script: impl IntoIterator<Item = Option<TokenSnapshot>>) {
        self.answers.lock().unwrap().extend(script);
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

impl Source<TokenSnapshot> for Scripted {
    async fn fetch(&self) -> Result<TokenSnapshot, Error> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let next = self.answers.lock().unwrap().pop_front();
        let answer = match next {
            Some(answer) => {
                *self.last.lock().unwrap() = answer.clone();
                answer
            }
            None => self.last.lock().unwrap().clone(),
        };
        answer.ok_or_else(|| Error::from_source("scripted failure"))
    }
}

#[tokio::test(start_paused = true)]
async fn a_switch_to_disabled_is_warned_once_counted_and_shown_per_app() {
    let logs = Logs::default();
    let _guard = logs.install();
    let source = Scripted::new([Some(enabled("token-before-disable"))]);
    let refresher = TokenRefresher::builder(source.clone())
        .app_id(APP)
        .interval(Duration::from_secs(1))
        .jitter(0.0)
        .start()
        .await
        .unwrap();
    assert_eq!(refresher.status().authentication_enabled(), Some(true));
    let handle = refresher.handle();
    let apps = AppSet::new();
    apps.insert_refresher(refresher).unwrap();
    let layer = CallbackAuthLayer::for_apps(apps.clone());
    assert_eq!(layer.stats()[0].authentication_enabled(), Some(true));

    source.then([Some(TokenSnapshot::disabled())]);
    // Three polls: the first switches, the next ones see the same configuration.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    assert!(source.calls() >= 4);
    assert!(!handle.load().unwrap().is_enabled());
    let status = apps.refresh_status(APP).unwrap();
    assert_eq!(status.authentication_enabled(), Some(false));
    assert_eq!(status.disables(), 1);
    assert_eq!(layer.stats()[0].authentication_enabled(), Some(false));
    assert_eq!(logs.count("WARN", "switched off"), 1, "{:#?}", logs.lines());
    assert!(logs
        .lines()
        .iter()
        .any(|l| l.contains("switched off") && l.contains(&format!("app={APP}"))));
}

#[tokio::test]
async fn confirm_disable_needs_two_answers_in_a_row() {
    let source = Scripted::new([Some(enabled("kept-on")), Some(TokenSnapshot::disabled())]);
    let refresher = TokenRefresher::builder(source.clone())
        .confirm_disable(true)
        .start()
        .await
        .unwrap();
    // One "off" answer, then "on" again: nothing changes.
    source.then([Some(enabled("kept-on"))]);
    refresher.refresh_now().await.unwrap();
    assert!(refresher.handle().load().unwrap().is_enabled());
    assert_eq!(source.calls(), 3, "the 'off' answer was confirmed at once");
    assert_eq!(refresher.status().disables(), 0);

    // "Off", then the confirmation fails: the enabled token is kept, the attempt failed.
    source.then([Some(TokenSnapshot::disabled()), None]);
    assert!(refresher.refresh_now().await.is_err());
    assert!(refresher.handle().load().unwrap().is_enabled());
    assert_eq!(refresher.status().consecutive_failures(), 1);
    assert_eq!(
        refresher.status().fetches() - refresher.status().successes(),
        1
    );

    // Two "off" answers in a row: applied.
    source.then([
        Some(TokenSnapshot::disabled()),
        Some(TokenSnapshot::disabled()),
    ]);
    refresher.refresh_now().await.unwrap();
    assert!(!refresher.handle().load().unwrap().is_enabled());
    assert_eq!(refresher.status().disables(), 1);

    // Without the option one answer is enough.
    let source = Scripted::new([Some(enabled("one-answer")), Some(TokenSnapshot::disabled())]);
    let plain = TokenRefresher::builder(source.clone())
        .start()
        .await
        .unwrap();
    plain.refresh_now().await.unwrap();
    assert!(!plain.handle().load().unwrap().is_enabled());
    assert_eq!(source.calls(), 2);
}

fn signed(t: &CallbackToken, time: u64) -> Request<Body> {
    Request::post(format!(
        "/cb?SdkAppid={APP}&Sign={}&RequestTime={time}",
        t.sign(time)
    ))
    .body(Body::empty())
    .unwrap()
}

fn router(layer: CallbackAuthLayer) -> Router {
    Router::new()
        .route("/cb", post(|| async { "ok" }))
        .layer(layer)
}

#[tokio::test]
async fn revoke_previous_ends_the_grace_period_at_once() {
    let leaked = token("leaked-token-0001");
    let fresh = token("fresh-token-00001");
    let source = Scripted::new([Some(TokenSnapshot::enabled(leaked.clone()))]);
    let refresher = TokenRefresher::builder(source.clone())
        .grace(Duration::from_secs(600))
        .start()
        .await
        .unwrap();
    source.then([Some(TokenSnapshot::enabled(fresh.clone()))]);
    refresher.refresh_now().await.unwrap();
    let app = router(CallbackAuthLayer::new(refresher.handle()));
    let t = now();
    assert_eq!(
        app.clone()
            .oneshot(signed(&leaked, t))
            .await
            .unwrap()
            .status(),
        200
    );

    assert!(refresher.revoke_previous());
    assert!(!refresher.revoke_previous(), "nothing left to revoke");
    let response = app.clone().oneshot(signed(&leaked, t)).await.unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.extensions().get::<Rejection>(),
        Some(&Rejection::SignatureMismatch)
    );
    assert_eq!(
        app.clone()
            .oneshot(signed(&fresh, t))
            .await
            .unwrap()
            .status(),
        200
    );
    // The next poll (same token) does not bring the leaked one back.
    refresher.refresh_now().await.unwrap();
    assert_eq!(app.oneshot(signed(&leaked, t)).await.unwrap().status(), 401);

    // The AppSet equivalent, on a static handle.
    let apps = AppSet::new();
    apps.insert(
        APP,
        TokenHandle::new(
            TokenSnapshot::enabled(fresh.clone()).with_previous(leaked.clone(), t + 600),
        ),
    );
    let app = router(CallbackAuthLayer::for_apps(apps.clone()));
    assert_eq!(
        app.clone()
            .oneshot(signed(&leaked, t))
            .await
            .unwrap()
            .status(),
        200
    );
    assert!(apps.revoke_previous(APP));
    assert!(!apps.revoke_previous(APP + 1));
    assert_eq!(app.oneshot(signed(&leaked, t)).await.unwrap().status(), 401);
}

#[tokio::test(start_paused = true)]
async fn a_zero_refresh_on_miss_gap_still_means_one_fetch_per_second() {
    let source = Scripted::new([Some(enabled("flooded-token"))]);
    let refresher = TokenRefresher::builder(source.clone())
        .interval(Duration::from_secs(3600))
        .refresh_on_miss_gap(Duration::ZERO)
        .refresh_on_miss_wait(Duration::from_millis(1))
        .start()
        .await
        .unwrap();
    let app = router(CallbackAuthLayer::new(refresher.handle()));
    let before = source.calls();
    let forged = token("not-the-token");
    // 3 seconds of a forged flood, 100 requests every 10 ms of (paused) time.
    for _ in 0..300 {
        for _ in 0..100 {
            let response = app.clone().oneshot(signed(&forged, now())).await.unwrap();
            assert_eq!(response.status(), 401);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let fetches = source.calls() - before;
    assert!((1..=4).contains(&fetches), "{fetches} fetches in 3 s");
}

#[tokio::test(start_paused = true)]
async fn extreme_durations_never_stop_the_task() {
    let old = token("extreme-old-token");
    let new = token("extreme-new-token");
    let source = Scripted::new([None]);
    let refresher = TokenRefresher::builder(source.clone())
        .interval(Duration::MAX)
        .jitter(0.5)
        .backoff(Duration::MAX, Duration::MAX)
        .grace(Duration::MAX)
        .fetch_timeout(Duration::MAX)
        .refresh_on_miss_gap(Duration::MAX)
        .refresh_on_miss_wait(Duration::MAX)
        .initial_timeout(Duration::MAX)
        .spawn();
    // The first fetch fails and schedules the next one "never"; the task must still serve.
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(refresher.status().consecutive_failures(), 1);
    // Each failure schedules a jittered "never" (the jitter draws a new factor every time).
    source.then(std::iter::repeat_n(None, 30));
    for _ in 0..30 {
        let error = refresher.refresh_now().await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Source, "{error}");
    }
    source.then([Some(TokenSnapshot::enabled(old.clone()))]);
    refresher.refresh_now().await.unwrap();
    source.then([Some(TokenSnapshot::enabled(new.clone()))]);
    refresher.refresh_now().await.unwrap();
    let snapshot = refresher.handle().load().unwrap();
    assert_eq!(snapshot.current(), Some(&new));
    assert_eq!(
        snapshot.previous().map(|(t, until)| (t.clone(), until)),
        Some((old, u64::MAX))
    );
    tokio::time::sleep(Duration::from_secs(86_400 * 365)).await;
    refresher.refresh_now().await.unwrap();
}

#[test]
fn a_task_that_ends_without_its_refresher_closes_the_miss_signal() {
    // The refresher's runtime shuts down while a layer elsewhere keeps its handle.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let handle = runtime.block_on(async {
        let refresher = TokenRefresher::builder(Scripted::new([Some(enabled("orphaned-token"))]))
            .refresh_on_miss_wait(Duration::from_secs(30))
            .start()
            .await
            .unwrap();
        let handle = refresher.handle();
        // Its `Drop` never runs: only the task's end can close the signal.
        std::mem::forget(refresher);
        handle
    });
    drop(runtime);
    let other = tokio::runtime::Runtime::new().unwrap();
    let started = Instant::now();
    let status = other.block_on(async {
        let app = router(CallbackAuthLayer::new(handle));
        app.oneshot(signed(&token("forged"), now()))
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, 401);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "waited {:?} for a refresher that is gone",
        started.elapsed()
    );
}

#[test]
fn a_short_token_is_warned_about_once() {
    let logs = Logs::default();
    let _guard = logs.install();
    let short = token("short-token");
    let handle = TokenHandle::new(TokenSnapshot::enabled(short.clone()));
    handle.store(TokenSnapshot::enabled(short.clone()));
    handle.store(TokenSnapshot::enabled(short.clone()).with_previous(token("x"), 0));
    assert_eq!(
        logs.count("WARN", "shorter than 16 bytes"),
        1,
        "{:#?}",
        logs.lines()
    );
    handle.store(enabled("a-long-enough-random-token-0123456789"));
    assert_eq!(logs.count("WARN", "shorter than 16 bytes"), 1);
    handle.store(enabled("short-again"));
    assert_eq!(logs.count("WARN", "shorter than 16 bytes"), 2);
    assert!(logs
        .lines()
        .iter()
        .all(|l| !l.contains("short-token") && !l.contains("short-again")));
    // Neither the length nor a digest of a short token is logged: both narrow a search.
    let warning = logs
        .lines()
        .into_iter()
        .find(|l| l.contains("shorter than 16 bytes"))
        .unwrap();
    assert!(
        !warning.contains("fingerprint") && !warning.contains("bytes="),
        "{warning}"
    );
    assert_eq!(short.fingerprint(), "withheld");
}

#[tokio::test]
async fn a_forged_flood_logs_one_warning_per_reason_per_second_and_counts_every_request() {
    let logs = Logs::default();
    let _guard = logs.install();
    let clock = Arc::new(AtomicUsize::new(1_700_000_000));
    let read = Arc::clone(&clock);
    let good = token("the-real-token-0001");
    let layer = CallbackAuthLayer::new(TokenHandle::new(TokenSnapshot::enabled(good))).with_clock(
        move || {
            std::time::UNIX_EPOCH
                + std::time::Duration::from_secs(read.load(Ordering::SeqCst) as u64)
        },
    );
    let app = router(layer.clone());
    let forged = token("the-forged-token-01");
    for second in 0..3u64 {
        let t = 1_700_000_000 + second;
        clock.store(t as usize, Ordering::SeqCst);
        for _ in 0..100 {
            let response = app.clone().oneshot(signed(&forged, t)).await.unwrap();
            assert_eq!(response.status(), 401);
        }
        // And one stale request: another reason, its own line.
        app.clone()
            .oneshot(signed(&forged, t - 3600))
            .await
            .unwrap();
    }
    assert_eq!(
        logs.count("WARN", "signature mismatch"),
        3,
        "{:#?}",
        logs.lines()
    );
    assert_eq!(logs.count("WARN", "expired"), 3);
    // A stale request's line says how far off it was.
    assert_eq!(
        logs.count("expired", "skew_secs=-3600"),
        3,
        "{:#?}",
        logs.lines()
    );
    assert_eq!(logs.count("DEBUG", "signature mismatch"), 297);
    // Each warning after the first says how many it stood for.
    assert_eq!(
        logs.lines()
            .iter()
            .filter(|l| l.contains("WARN") && l.contains("suppressed=99"))
            .count(),
        2
    );
    let stats = &layer.stats()[0];
    assert_eq!(stats.rejected(Rejection::SignatureMismatch), 300);
    assert_eq!(stats.rejected(Rejection::Expired), 3);
}

#[tokio::test]
async fn a_layer_that_checks_no_app_says_so_once() {
    let logs = Logs::default();
    let _guard = logs.install();
    let t = token("a-token-of-some-app-0123");
    let any_app = router(CallbackAuthLayer::new(TokenHandle::new(enabled(
        "a-token-of-some-app-0123",
    ))));
    for _ in 0..3 {
        let response = any_app.clone().oneshot(signed(&t, now())).await.unwrap();
        assert_eq!(response.status(), 200);
    }
    assert_eq!(
        logs.count("WARN", "callbacks naming any app are accepted"),
        1
    );
    let checked = router(CallbackAuthLayer::new(TokenHandle::for_app(
        APP,
        enabled("a-token-of-some-app-0123"),
    )));
    let response = checked.oneshot(signed(&t, now())).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        logs.count("WARN", "callbacks naming any app are accepted"),
        1,
        "a layer that checks its app does not warn"
    );
}
