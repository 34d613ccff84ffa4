//! The REST client and the refresher against the in-process mock of Tencent's API.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tim_callback_mock::{mock, now};

use axum::body::Body;
use axum::routing::post;
use axum::Router;
use http::Request;
use tim_callback_auth::refresh::{Source, TokenRefresher};
use tim_callback_auth::rest::{Region, RestClient};
use tim_callback_auth::{
    CallbackAuthLayer, CallbackToken, Error, ErrorKind, Rejection, TokenSnapshot, Verifier,
};
use tim_callback_mock::mock::{MockApi, Reply, ADMIN, SDK_APP_ID, SECRET_KEY};
use tim_callback_mock::{how, How};
use tower::ServiceExt;

const TOKEN: &str = "mock-callback-token";

fn client(base_url: &str) -> RestClient {
    RestClient::builder(SDK_APP_ID, SECRET_KEY)
        .admin(ADMIN)
        .region(Region::custom(base_url).unwrap())
        .request_timeout(Duration::from_millis(500))
        .connect_timeout(Duration::from_millis(500))
        .build()
        .unwrap()
}

fn token(t: &str) -> CallbackToken {
    CallbackToken::new(t).unwrap()
}

/// Nothing secret shows in an error's Display, Debug or source chain.
fn assert_no_secret(error: &Error, mock: &MockApi) {
    let mut texts = vec![error.to_string(), format!("{error:?}")];
    let mut source = std::error::Error::source(error);
    while let Some(s) = source {
        texts.push(s.to_string());
        texts.push(format!("{s:?}"));
        source = s.source();
    }
    for text in texts {
        assert!(!text.contains(SECRET_KEY), "{text}");
        assert!(!text.contains(TOKEN), "{text}");
        assert!(!text.contains("usersig="), "{text}");
        for sig in mock.user_sigs() {
            assert!(!text.contains(&sig), "{text}");
        }
    }
}

async fn started(mock: &MockApi) -> TokenRefresher {
    TokenRefresher::builder(client(&mock.base_url()))
        .backoff(Duration::from_millis(10), Duration::from_millis(50))
        .start()
        .await
        .unwrap()
}

#[tokio::test]
async fn enabled_token_is_fetched_with_a_request_tencent_accepts() {
    let mock = MockApi::start(TOKEN).await;
    let snapshot = client(&mock.base_url()).get_callback_token().await.unwrap();
    assert_eq!(snapshot.current(), Some(&token(TOKEN)));
    assert_eq!(mock.violations(), Vec::<String>::new());
    assert_eq!(mock.calls(), 1);
}

#[tokio::test]
async fn disabled_token_gives_a_disabled_snapshot() {
    let mock = MockApi::start(TOKEN).await;
    mock.set_token(Some(TOKEN), false);
    let snapshot = client(&mock.base_url()).get_callback_token().await.unwrap();
    assert!(!snapshot.is_enabled());
}

#[tokio::test]
async fn not_configured_100302_means_disabled() {
    let mock = MockApi::start(TOKEN).await;
    mock.set_token(None, false);
    let snapshot = client(&mock.base_url()).get_callback_token().await.unwrap();
    assert!(!snapshot.is_enabled());
    assert_eq!(mock.violations(), Vec::<String>::new());
}

#[tokio::test]
async fn enabled_with_an_empty_or_overlong_token_is_an_error() {
    let mock = MockApi::start(TOKEN).await;
    for bad in [String::new(), "x".repeat(129)] {
        mock.script([Reply::Body(format!(
            r#"{{"ErrorCode":0,"ActionStatus":"OK","Response":{{"Token":"{bad}","IsTokenEnable":true}}}}"#
        ))]);
        let error = client(&mock.base_url())
            .get_callback_token()
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidToken);
    }
    mock.script([Reply::Body(
        r#"{"ErrorCode":0,"ActionStatus":"OK","Response":{"IsTokenEnable":true}}"#.into(),
    )]);
    let error = client(&mock.base_url())
        .get_callback_token()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidToken);
}

#[tokio::test]
async fn api_errors_are_classified_and_carry_tencent_details() {
    let mock = MockApi::start(TOKEN).await;
    let c = client(&mock.base_url());
    for (code, kind) in [
        (100001, ErrorKind::TryLater),
        (60018, ErrorKind::TryLater),
        (70050, ErrorKind::TryLater),
        (60006, ErrorKind::Configuration),
        (70020, ErrorKind::Configuration),
        (100002, ErrorKind::Api),
    ] {
        mock.script([Reply::Code(code)]);
        let error = c.get_callback_token().await.unwrap_err();
        assert_eq!(error.kind(), kind, "{code}");
        assert_eq!(error.api_code(), Some(code));
        assert_eq!(error.request_id(), Some(format!("Id-mock-{code}").as_str()));
        assert_no_secret(&error, &mock);
    }
}

#[tokio::test]
async fn transport_and_decode_failures_are_typed() {
    let mock = MockApi::start(TOKEN).await;
    let c = client(&mock.base_url());
    let cases = [
        (Reply::Status(502, "<html><body>502 Bad Gateway</body></html>"), ErrorKind::HttpStatus),
        (Reply::Body("not json".into()), ErrorKind::Decode),
        (Reply::Body(r#"{"ErrorCode":0,"ActionStatus":"OK","Resp"#.into()), ErrorKind::Decode),
        (Reply::Body(r#"{"ErrorCode":0,"ActionStatus":"OK"}"#.into()), ErrorKind::Decode),
        (
            Reply::Body(r#"{"ErrorCode":0,"ActionStatus":"OK","Response":{"Token":7,"IsTokenEnable":true}}"#.into()),
            ErrorKind::Decode,
        ),
        (Reply::Delay(Duration::from_secs(3), Box::new(Reply::Real)), ErrorKind::Timeout),
        (Reply::Hang, ErrorKind::Timeout),
        (Reply::StallBody, ErrorKind::Timeout),
    ];
    for (reply, kind) in cases {
        let shown = format!("{reply:?}");
        mock.script([reply]);
        let error = c.get_callback_token().await.unwrap_err();
        assert_eq!(error.kind(), kind, "{shown}: {error}");
        assert_no_secret(&error, &mock);
    }
    let refused = client(&mock::refused_base_url().await)
        .get_callback_token()
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Connect);
    assert!(refused.is_retryable());
    assert_no_secret(&refused, &mock);
}

#[tokio::test]
async fn set_and_delete_change_what_get_returns() {
    let mock = MockApi::start(TOKEN).await;
    let c = client(&mock.base_url());
    let fresh = token("rotated-token");
    c.set_callback_token(Some(&fresh), None).await.unwrap();
    assert_eq!(
        c.get_callback_token().await.unwrap().current(),
        Some(&fresh)
    );
    c.set_callback_token(None, Some(false)).await.unwrap();
    assert!(!c.get_callback_token().await.unwrap().is_enabled());
    c.delete_callback_token().await.unwrap();
    assert_eq!(mock.token(), None);
    assert!(!c.get_callback_token().await.unwrap().is_enabled());
    let error = c.set_callback_token(None, None).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    assert_eq!(mock.violations(), Vec::<String>::new());
}

#[tokio::test]
async fn usersig_rejection_makes_the_next_call_carry_a_new_usersig() {
    let mock = MockApi::start(TOKEN).await;
    let c = client(&mock.base_url());
    c.get_callback_token().await.unwrap();
    c.get_callback_token().await.unwrap();
    let sigs = mock.user_sigs();
    assert_eq!(sigs[0], sigs[1], "the UserSig is cached between calls");
    mock.script([Reply::Code(70001)]);
    assert_eq!(
        c.get_callback_token().await.unwrap_err().kind(),
        ErrorKind::UserSig
    );
    // A UserSig has one-second resolution: the regenerated one differs once the second has turned.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    c.get_callback_token().await.unwrap();
    let sigs = mock.user_sigs();
    assert_eq!(sigs[2], sigs[1]);
    assert_ne!(sigs[3], sigs[2], "a new UserSig after 70001");
}

#[tokio::test]
async fn start_waits_for_the_first_token_and_the_layer_accepts() {
    let mock = MockApi::start(TOKEN).await;
    let refresher = started(&mock).await;
    let snapshot = refresher.handle().load().unwrap();
    assert_eq!(snapshot.current(), Some(&token(TOKEN)));
    let status = refresher.status();
    assert!(status.last_success().is_some());
    assert_eq!(status.consecutive_failures(), 0);
    assert_eq!(status.fetches(), 1);
}

#[tokio::test]
async fn start_retries_transient_errors_then_succeeds() {
    let mock = MockApi::start(TOKEN).await;
    mock.script([
        Reply::Code(100001),
        Reply::Code(60018),
        Reply::Status(502, "<html/>"),
    ]);
    let refresher = started(&mock).await;
    assert!(refresher.handle().load().unwrap().is_enabled());
    assert_eq!(mock.calls(), 4);
}

#[tokio::test]
async fn start_fails_fast_on_a_configuration_error() {
    let mock = MockApi::start(TOKEN).await;
    let c = RestClient::builder(SDK_APP_ID, "wrong-key")
        .admin(ADMIN)
        .region(Region::custom(&mock.base_url()).unwrap())
        .build()
        .unwrap();
    let error = TokenRefresher::builder(c).start().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Configuration);
    assert_eq!(mock.calls(), 1);
    assert!(!error.to_string().contains("wrong-key"));
}

#[tokio::test]
async fn start_gives_up_after_the_initial_timeout() {
    let refused = mock::refused_base_url().await;
    let error = TokenRefresher::builder(client(&refused))
        .backoff(Duration::from_millis(10), Duration::from_millis(20))
        .initial_timeout(Duration::from_millis(300))
        .start()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Connect);
}

#[tokio::test]
async fn failed_refreshes_keep_the_last_good_token() {
    let mock = MockApi::start(TOKEN).await;
    let refresher = started(&mock).await;
    for (reply, kind) in [
        (
            Reply::Status(502, "<html>bad gateway</html>"),
            ErrorKind::HttpStatus,
        ),
        (Reply::Body("{".into()), ErrorKind::Decode),
        (Reply::Code(100001), ErrorKind::TryLater),
        (Reply::Hang, ErrorKind::Timeout),
    ] {
        mock.script([reply]);
        let error = refresher.refresh_now().await.unwrap_err();
        assert_eq!(error.kind(), kind);
        assert_no_secret(&error, &mock);
        assert_eq!(
            refresher.handle().load().unwrap().current(),
            Some(&token(TOKEN))
        );
        assert_eq!(refresher.status().last_error().map(Error::kind), Some(kind));
    }
    assert_eq!(refresher.status().consecutive_failures(), 4);
    refresher.refresh_now().await.unwrap();
    assert_eq!(refresher.status().consecutive_failures(), 0);
}

#[tokio::test]
async fn spawn_serves_503_until_the_first_token() {
    let mock = MockApi::start(TOKEN).await;
    mock.script([Reply::Delay(
        Duration::from_millis(300),
        Box::new(Reply::Real),
    )]);
    let refresher = TokenRefresher::builder(client(&mock.base_url())).spawn();
    let app = Router::new()
        .route("/cb", post(|| async { "ok" }))
        .layer(CallbackAuthLayer::new(refresher.handle()));
    let t = now();
    let uri = format!(
        "/cb?SdkAppid={SDK_APP_ID}&Sign={}&RequestTime={t}",
        token(TOKEN).sign(t)
    );
    let first = app
        .clone()
        .oneshot(Request::post(&uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(first.status(), 503);
    for _ in 0..100 {
        if refresher.handle().load().is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let later = app
        .oneshot(Request::post(&uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(later.status(), 200);
}

#[tokio::test]
async fn rotation_keeps_the_old_token_for_the_grace_period() {
    let mock = MockApi::start("token-one").await;
    let refresher = TokenRefresher::builder(client(&mock.base_url()))
        .grace(Duration::from_secs(120))
        .start()
        .await
        .unwrap();
    mock.set_token(Some("token-two"), true);
    refresher.refresh_now().await.unwrap();
    let snapshot = refresher.handle().load().unwrap();
    assert_eq!(snapshot.current(), Some(&token("token-two")));
    let (previous, until) = snapshot.previous().unwrap();
    assert_eq!(previous, &token("token-one"));
    let t = now();
    assert!(until >= t + 119 && until <= t + 121, "{until} vs {t}");
    assert_eq!(refresher.status().changes(), 1);

    let old = token("token-one");
    let v = Verifier::new();
    let at = |time: u64| {
        format!(
            "SdkAppid={SDK_APP_ID}&Sign={}&RequestTime={time}",
            old.sign(time)
        )
    };
    assert_eq!(
        v.verify(&snapshot, &at(until), until).map(how),
        Ok(How::PreviousToken)
    );
    assert_eq!(
        v.verify(&snapshot, &at(until + 1), until + 1).map(how),
        Err(Rejection::SignatureMismatch)
    );
}

#[tokio::test]
async fn refresh_on_miss_follows_a_rotation_and_a_forged_flood_costs_one_call() {
    let mock = MockApi::start("token-one").await;
    let refresher = started(&mock).await;
    let app = Router::new()
        .route("/cb", post(|| async { "ok" }))
        .layer(CallbackAuthLayer::new(refresher.handle()));
    let send = |app: Router, sign: String, time: u64| async move {
        let uri = format!("/cb?SdkAppid={SDK_APP_ID}&Sign={sign}&RequestTime={time}");
        app.oneshot(Request::post(uri).body(Body::empty()).unwrap())
            .await
            .unwrap()
            .status()
    };
    let calls_before = mock.calls();

    // Tencent starts signing with a new token before our next scheduled refresh.
    mock.set_token(Some("token-two"), true);
    let t = now();
    assert_eq!(send(app.clone(), token("token-two").sign(t), t).await, 200);
    assert_eq!(
        mock.calls(),
        calls_before + 1,
        "one fetch, triggered by the miss"
    );
    // The old token still passes during the grace period.
    assert_eq!(send(app.clone(), token("token-one").sign(t), t).await, 200);

    // A flood of forged, fresh requests: all rejected, at most one more API call per gap.
    let forged = "0".repeat(64);
    for _ in 0..10_000 {
        assert_eq!(send(app.clone(), forged.clone(), t).await, 401);
    }
    assert!(
        mock.calls() <= calls_before + 2,
        "{} calls",
        mock.calls() - calls_before
    );
    assert_eq!(mock.violations(), Vec::<String>::new());
}

#[tokio::test]
async fn shutting_the_refresher_down_stops_all_calls() {
    let mock = MockApi::start(TOKEN).await;
    let refresher = TokenRefresher::builder(client(&mock.base_url()))
        .interval(Duration::from_millis(100))
        .jitter(0.0)
        .start()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(350)).await;
    let running = mock.calls();
    assert!(running >= 3, "{running} calls while running");
    let handle = refresher.handle();
    refresher.shutdown();
    drop(refresher);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(mock.calls(), running, "no call after the shutdown");
    assert!(
        handle.load().unwrap().is_enabled(),
        "the handle keeps the last snapshot"
    );
    assert!(handle.status().unwrap().is_stopped());
}

#[tokio::test]
async fn dropping_the_refresher_and_every_handle_stops_all_calls() {
    let mock = MockApi::start(TOKEN).await;
    let refresher = TokenRefresher::builder(client(&mock.base_url()))
        .interval(Duration::from_millis(100))
        .jitter(0.0)
        .start()
        .await
        .unwrap();
    let handle = refresher.handle();
    drop(refresher);
    tokio::time::sleep(Duration::from_millis(350)).await;
    let running = mock.calls();
    assert!(running >= 3, "{running} calls while only a handle is alive");
    drop(handle);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        mock.calls(),
        running,
        "no call after the last handle is gone"
    );
}

/// A source that counts fetches and answers from a script (no I/O), for schedule tests.
#[derive(Clone, Default)]
struct Scripted {
    fetches: Arc<AtomicUsize>,
    fail_from: Arc<AtomicUsize>,
    panic: bool,
}

impl Source<TokenSnapshot> for Scripted {
    async fn fetch(&self) -> Result<TokenSnapshot, Error> {
        let n = self.fetches.fetch_add(1, Ordering::SeqCst) + 1;
        if self.panic && n == 2 {
            panic!("source bug");
        }
        let fail_from = self.fail_from.load(Ordering::SeqCst);
        if fail_from != 0 && n >= fail_from {
            return Err(Error::from_source("store unavailable"));
        }
        Ok(TokenSnapshot::enabled(token(TOKEN)))
    }
}

#[tokio::test(start_paused = true)]
async fn schedule_is_the_interval_with_jitter() {
    let source = Scripted::default();
    let fetches = Arc::clone(&source.fetches);
    let _refresher = TokenRefresher::builder(source)
        .interval(Duration::from_secs(60))
        .start()
        .await
        .unwrap();
    assert_eq!(fetches.load(Ordering::SeqCst), 1);
    tokio::time::sleep(Duration::from_secs(53)).await;
    assert_eq!(fetches.load(Ordering::SeqCst), 1, "not before 60 s − 10 %");
    tokio::time::sleep(Duration::from_secs(14)).await;
    assert_eq!(fetches.load(Ordering::SeqCst), 2, "by 60 s + 10 %");
    tokio::time::sleep(Duration::from_secs(600)).await;
    let n = fetches.load(Ordering::SeqCst);
    assert!((11..=13).contains(&n), "{n} fetches in 667 s");
}

#[tokio::test(start_paused = true)]
async fn failures_back_off_exponentially_and_serve_the_last_token() {
    let source = Scripted::default();
    let fetches = Arc::clone(&source.fetches);
    source.fail_from.store(2, Ordering::SeqCst);
    let refresher = TokenRefresher::builder(source.clone())
        .interval(Duration::from_secs(60))
        .start()
        .await
        .unwrap();
    // From 66 s on every fetch fails: 1, 2, 4, 8, … s (±20 %), capped at 300 s.
    tokio::time::sleep(Duration::from_secs(67 + 200)).await;
    let n = fetches.load(Ordering::SeqCst);
    // 1+2+4+8+16+32+64 = 127 s → 8 failures within 200 s at most, 6 at least with jitter.
    assert!((7..=10).contains(&n), "{n} fetches");
    assert!(refresher.handle().load().unwrap().is_enabled());
    let failures = refresher.status().consecutive_failures();
    assert_eq!(failures as usize, n - 1);
    tokio::time::sleep(Duration::from_secs(3600)).await;
    let after_an_hour = fetches.load(Ordering::SeqCst) - n;
    assert!(
        (10..=16).contains(&after_an_hour),
        "capped at 5 min: {after_an_hour}"
    );
    // Recovery within one backoff step once the source heals.
    source.fail_from.store(0, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(361)).await;
    assert_eq!(refresher.status().consecutive_failures(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_panicking_source_does_not_stop_the_task() {
    let source = Scripted {
        panic: true,
        ..Scripted::default()
    };
    let fetches = Arc::clone(&source.fetches);
    let refresher = TokenRefresher::builder(source)
        .interval(Duration::from_secs(10))
        .start()
        .await
        .unwrap();
    let error = refresher.refresh_now().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::SourcePanicked);
    assert!(refresher.handle().load().unwrap().is_enabled());
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert!(fetches.load(Ordering::SeqCst) >= 3);
    assert_eq!(refresher.status().consecutive_failures(), 0);
}

#[tokio::test]
async fn static_source_serves_the_console_token() {
    let refresher = TokenRefresher::builder(TokenSnapshot::enabled(token("console")))
        .start()
        .await
        .unwrap();
    assert_eq!(
        refresher.handle().load().unwrap().current(),
        Some(&token("console"))
    );
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let mock = MockApi::start(TOKEN).await;
    // A redirect to a URL that would answer: following it would resend the signed call.
    let target = format!(
        "{}/v4/live_config/get_callback_token?elsewhere=1",
        mock.base_url()
    );
    mock.script([Reply::Redirect(target)]);
    let error = client(&mock.base_url())
        .get_callback_token()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::HttpStatus);
    assert_eq!(error.status(), Some(302));
    assert_eq!(mock.calls(), 1);
}

#[tokio::test]
async fn hostile_error_info_and_request_id_cannot_forge_log_lines() {
    let mock = MockApi::start(TOKEN).await;
    let info = format!(
        "bad key\n2026-01-01T00:00:00Z  INFO forged: all good{}",
        "x".repeat(5000)
    );
    let body = serde_json::json!({
        "ActionStatus": "FAIL",
        "ErrorCode": 70009,
        "ErrorInfo": info,
        "RequestId": "Id-1\r\nforged\u{1b}[2J",
    });
    mock.script([Reply::Body(body.to_string())]);
    let error = client(&mock.base_url())
        .get_callback_token()
        .await
        .unwrap_err();
    for text in [error.to_string(), format!("{error:?}")] {
        assert!(
            !text.contains('\n') && !text.contains('\r') && !text.contains('\u{1b}'),
            "{text}"
        );
        assert!(text.len() < 1000, "{} bytes", text.len());
    }
    assert!(error.api_info().unwrap().starts_with("bad key\\n2026"));
    assert_eq!(error.request_id(), Some("Id-1\\r\\nforged\\u{1b}[2J"));
}

#[test]
fn plain_http_is_refused_unless_loopback_or_allowed() {
    let build = |url: &str, allow: bool| {
        RestClient::builder(SDK_APP_ID, SECRET_KEY)
            .admin(ADMIN)
            .region(Region::custom(url).unwrap())
            .allow_insecure_http(allow)
            .build()
    };
    let error = build("http://203.0.113.7:8080", false).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InsecureUrl);
    let chain = format!("{error} {:?}", std::error::Error::source(&error));
    assert!(chain.contains("plain http"), "{chain}");
    assert!(build("http://203.0.113.7:8080", true).is_ok());
    assert!(build("http://127.0.0.1:8080", false).is_ok());
    assert!(build("https://proxy.example.com", false).is_ok());
}

#[tokio::test]
async fn a_secret_echoed_at_the_truncation_point_is_still_scrubbed() {
    let mock = MockApi::start(TOKEN).await;
    let client = client(&mock.base_url());
    client.get_callback_token().await.unwrap();
    let user_sig = mock.user_sigs().pop().unwrap();
    // The cap is 256 characters: a secret that starts just before it would be cut in two.
    for (code, secret, pad) in [(70009, SECRET_KEY, 230), (70003, user_sig.as_str(), 100)] {
        let info = format!("{}{secret}", "x".repeat(pad));
        let body = serde_json::json!({
            "ActionStatus": "FAIL", "ErrorCode": code, "ErrorInfo": info, "RequestId": secret,
        });
        mock.script([Reply::Body(body.to_string())]);
        let error = client.get_callback_token().await.unwrap_err();
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains(&secret[..16]), "{shown}");
    }
}

#[tokio::test]
async fn unicode_line_separators_and_bidi_controls_are_escaped() {
    let mock = MockApi::start(TOKEN).await;
    mock.script([Reply::Body(
        r#"{"ActionStatus":"FAIL","ErrorCode":100002,"ErrorInfo":"x\u2028 INFO forged\u2029\u202Eorez","RequestId":"Id\u2028-1"}"#.to_string(),
    )]);
    let error = client(&mock.base_url())
        .get_callback_token()
        .await
        .unwrap_err();
    let shown = format!("{error} {error:?} {:?}", error.request_id());
    for c in ['\u{2028}', '\u{2029}', '\u{202E}'] {
        assert!(!shown.contains(c), "{shown:?}");
    }
}

/// A source that tells a miss-triggered fetch from a scheduled one, and says when its value
/// changed: the hooks a fleet-shared source is built on.
#[tokio::test]
async fn a_source_hears_which_fetch_a_miss_asked_for_and_can_say_it_changed() {
    use std::sync::Mutex;
    #[derive(Default)]
    struct Shared {
        token: Mutex<String>,
        fetches: AtomicUsize,
        miss_fetches: AtomicUsize,
        /// Changes announced, and those served.
        announced: tokio::sync::watch::Sender<u64>,
        served: std::sync::atomic::AtomicU64,
    }
    #[derive(Clone)]
    struct Announcing(Arc<Shared>);
    impl Announcing {
        fn snapshot(&self) -> TokenSnapshot {
            self.0
                .served
                .store(*self.0.announced.borrow(), Ordering::SeqCst);
            TokenSnapshot::enabled(token(&self.0.token.lock().unwrap()))
        }
    }
    impl Source<TokenSnapshot> for Announcing {
        async fn fetch(&self) -> Result<TokenSnapshot, Error> {
            self.0.fetches.fetch_add(1, Ordering::SeqCst);
            Ok(self.snapshot())
        }
        async fn fetch_on_miss(&self) -> Result<TokenSnapshot, Error> {
            self.0.miss_fetches.fetch_add(1, Ordering::SeqCst);
            Ok(self.snapshot())
        }
        async fn changed(&self) {
            let mut announced = self.0.announced.subscribe();
            let served = self.0.served.load(Ordering::SeqCst);
            let _ = announced.wait_for(|a| *a > served).await;
        }
    }
    let shared = Arc::new(Shared::default());
    *shared.token.lock().unwrap() = "token-one".into();
    let source = Announcing(Arc::clone(&shared));
    let refresher = TokenRefresher::builder(source)
        .app_id(SDK_APP_ID)
        .interval(Duration::from_secs(3600))
        .start()
        .await
        .unwrap();
    let handle = refresher.handle();
    assert_eq!(
        (
            shared.fetches.load(Ordering::SeqCst),
            shared.miss_fetches.load(Ordering::SeqCst)
        ),
        (1, 0)
    );

    // A change announced: fetched at once, not at the hour's interval.
    *shared.token.lock().unwrap() = "token-two".into();
    shared.announced.send_modify(|a| *a += 1);
    tokio::time::timeout(Duration::from_secs(5), async {
        while handle.load().unwrap().current() != Some(&token("token-two")) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the announced change is fetched");
    assert_eq!(shared.fetches.load(Ordering::SeqCst), 2);
    assert_eq!(shared.miss_fetches.load(Ordering::SeqCst), 0);

    // A fresh signature no token matches: the source's miss fetch, not its plain one.
    *shared.token.lock().unwrap() = "token-three".into();
    let app = Router::new()
        .route("/cb", post(|| async { "ok" }))
        .layer(CallbackAuthLayer::new(handle.clone()));
    let t = now();
    let uri = format!(
        "/cb?SdkAppid={SDK_APP_ID}&Sign={}&RequestTime={t}",
        token("token-three").sign(t)
    );
    let status = app
        .oneshot(Request::post(uri).body(Body::empty()).unwrap())
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200);
    assert_eq!(shared.miss_fetches.load(Ordering::SeqCst), 1);
    assert_eq!(shared.fetches.load(Ordering::SeqCst), 2);
    // Nothing announced since: no further fetch.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(shared.fetches.load(Ordering::SeqCst), 2);
}
