//! Secret hygiene: run a tour of every path (rotation, forged, stale and unsigned callbacks,
//! authentication switched off and on, an outage) and the whole fault matrix under a `tracing`
//! subscriber that captures every event and span field at every level (from every crate), run the
//! demo binary with every log line on, format every public type and every error with `Debug` and
//! `Display`, and find no token, secret key, UserSig or Sign.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tim_callback_mock::now;

use tim_callback_auth::refresh::TokenRefresher;
use tim_callback_auth::rest::{Region, RestClient};
use tim_callback_auth::usersig;
use tim_callback_auth::{
    CallbackAuthLayer, CallbackToken, Rejection, TokenHandle, TokenSnapshot, Verifier,
};
use tim_callback_integration::faults::{run_fault, Fault, Harness};
use tim_callback_mock::mock::{Reply, ADMIN, SDK_APP_ID, SECRET_KEY};
use tower::Layer as _;
use tracing::field::{Field, Visit};
use tracing::{span, Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;

/// Everything any span or event recorded, as text.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<String>>);

struct Fields<'a>(&'a mut String);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={value:?}", field.name());
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        let _ = write!(self.0, " {}={value}", field.name());
    }
}

impl<S: Subscriber> Layer<S> for Capture {
    fn on_new_span(&self, attrs: &span::Attributes<'_>, _: &span::Id, _: Context<'_, S>) {
        let mut text = self.0.lock().unwrap();
        let _ = write!(text, "\nspan {}", attrs.metadata().name());
        attrs.record(&mut Fields(&mut text));
    }
    fn on_record(&self, _: &span::Id, values: &span::Record<'_>, _: Context<'_, S>) {
        values.record(&mut Fields(&mut self.0.lock().unwrap()));
    }
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let mut text = self.0.lock().unwrap();
        let _ = write!(
            text,
            "\n{} {}",
            event.metadata().level(),
            event.metadata().target()
        );
        event.record(&mut Fields(&mut text));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_logs_debug_output_or_errors() {
    let capture = Capture::default();
    tracing_subscriber::registry().with(capture.clone()).init();
    let started = now();

    // 1. A tour: rotation, forged/stale/unsigned callbacks, disabling, an outage.
    tour().await;

    // 2. The whole fault matrix, collecting every error the crate produced.
    let mut errors = Vec::new();
    for fault in Fault::all() {
        errors.extend(run_fault(&fault).await);
    }
    // TRTC events: accepted, tampered, malformed, for an unknown app (the rejections are logged).
    let trtc_shown = trtc_tour().await;
    let finished = now();

    // 3. Every public type, formatted.
    let token = CallbackToken::new(tim_callback_integration::faults::TOKEN).unwrap();
    let snapshot = TokenSnapshot::enabled(token.clone()).with_previous(token.clone(), 1);
    let handle = TokenHandle::new(snapshot.clone());
    let layer = CallbackAuthLayer::new(handle.clone());
    let service = layer.layer(tower::service_fn(|_: http::Request<String>| async {
        Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
    }));
    let client_builder = RestClient::builder(SDK_APP_ID, SECRET_KEY).admin(ADMIN);
    let client = RestClient::builder(SDK_APP_ID, SECRET_KEY)
        .admin(ADMIN)
        .region(Region::custom("http://127.0.0.1:9").unwrap())
        .build()
        .unwrap();
    let source = snapshot.clone();
    let refresher_builder = TokenRefresher::builder(source.clone());
    let refresher = TokenRefresher::builder(source.clone())
        .start()
        .await
        .unwrap();
    let mut shown = vec![
        format!("{token:?}"),
        format!("{snapshot:?}"),
        format!("{handle:?}"),
        format!("{layer:?}"),
        format!("{:?}", Verifier::new().with_app_id(SDK_APP_ID)),
        format!("{client_builder:?}"),
        format!("{client:?}"),
        format!("{source:?}"),
        format!("{refresher_builder:?}"),
        format!("{refresher:?}"),
        format!("{:?}", refresher.status()),
        format!(
            "{:?} {}",
            Rejection::SignatureMismatch,
            Rejection::SignatureMismatch
        ),
        format!("{:?}", CallbackToken::new("").unwrap_err()),
    ];
    let _ = &service;
    shown.extend(trtc_shown.shown);
    for error in &errors {
        shown.push(format!("{error} {error:?}"));
        let mut source = std::error::Error::source(error);
        while let Some(s) = source {
            shown.push(format!("{s} {s:?}"));
            source = s.source();
        }
    }

    // The secrets of this run.
    let tokens = [TOUR_V1, TOUR_V2, tim_callback_integration::faults::TOKEN];
    let mut secrets: Vec<String> = tokens.iter().map(|t| t.to_string()).collect();
    secrets.push(SECRET_KEY.to_string());
    secrets.push(TRTC_KEY.to_string());
    secrets.extend(trtc_shown.signs);
    for t in started.saturating_sub(2)..=finished + 2 {
        let lifetime = usersig::DEFAULT_LIFETIME.as_secs();
        secrets.push(usersig::generate(SDK_APP_ID, ADMIN, SECRET_KEY, t, lifetime).unwrap());
    }
    let mut signs = HashSet::new();
    for t in started.saturating_sub(3600 + 5)..=finished + 5 {
        for token in tokens {
            signs.insert(CallbackToken::new(token).unwrap().sign(t));
        }
    }

    let logs = capture.0.lock().unwrap().clone();
    // The capture works: it saw our own events and those of the HTTP stack.
    assert!(
        logs.contains("rejected tencent callback"),
        "capture is empty"
    );
    assert!(logs.contains("callback token rotated"));
    assert!(logs.contains("tim_rest_call"));
    assert!(logs.contains("reason=signature mismatch"));
    assert!(
        logs.contains("trtc event"),
        "the TRTC rejections are logged"
    );
    assert!(
        logs.contains("hyper") || logs.contains("reqwest"),
        "the HTTP stack's events too"
    );
    let find_leak = |text: &str| -> Option<String> {
        for secret in &secrets {
            if text.contains(secret.as_str()) {
                return Some(excerpt(text, secret));
            }
        }
        let lower = text.to_ascii_lowercase();
        let mut run = 0;
        for (i, b) in lower.bytes().enumerate() {
            run = if b.is_ascii_hexdigit() { run + 1 } else { 0 };
            if run >= 64 && signs.contains(&lower[i + 1 - 64..=i]) {
                return Some(excerpt(text, &lower[i + 1 - 64..=i]));
            }
        }
        None
    };
    // The detector itself works (negative controls).
    let planted_sign = CallbackToken::new(TOUR_V2).unwrap().sign(started);
    assert!(find_leak(&format!("x Sign={} y", planted_sign.to_uppercase())).is_some());
    assert!(find_leak(&format!("key={SECRET_KEY}")).is_some());
    for text in std::iter::once(&logs).chain(&shown) {
        if let Some(leak) = find_leak(text) {
            panic!("a secret leaked into: {leak}");
        }
    }
    drop(refresher);
    tokio::time::sleep(Duration::from_millis(10)).await;
}

const TRTC_KEY: &str = "SecretTrtcKey0123456789abcdef";

/// What the TRTC tour showed, and the `Sign`s it sent.
struct TrtcShown {
    shown: Vec<String>,
    signs: Vec<String>,
}

/// TRTC events through the layer, and every TRTC type formatted.
async fn trtc_tour() -> TrtcShown {
    use tim_callback_auth::trtc::{
        TrtcCallbackAuthLayer, TrtcKey, TrtcKeys, TrtcVerifier, VerifiedTrtcEvent,
    };
    use tower::ServiceExt;

    let key = TrtcKey::new(TRTC_KEY).unwrap();
    let keys = TrtcKeys::new();
    keys.insert_rotating(SDK_APP_ID, key.clone(), TrtcKey::new("OldTrtcKey").unwrap())
        .unwrap();
    let layer = TrtcCallbackAuthLayer::new(keys.clone());
    let service = layer.clone().layer(tower::service_fn(
        |req: http::Request<tim_callback_auth::trtc::TrtcBody>| async move {
            let event = req.extensions().get::<VerifiedTrtcEvent>().copied();
            Ok::<_, std::convert::Infallible>(http::Response::new(format!("{event:?}")))
        },
    ));
    let ts = now() * 1000;
    let body =
        format!(r#"{{"EventGroupId":1,"EventType":103,"CallbackTs":{ts},"EventInfo":{{}}}}"#);
    let sign = key.sign(body.as_bytes());
    let mut shown = vec![
        format!("{key:?}"),
        format!("{keys:?}"),
        format!("{layer:?}"),
        format!("{service:?}"),
        format!("{:?}", TrtcVerifier::new()),
        format!("{:?}", TrtcKey::new(&format!("{TRTC_KEY}-")).unwrap_err()),
    ];
    for (app, sign, sent) in [
        (SDK_APP_ID, sign.as_str(), body.clone()),
        (SDK_APP_ID, sign.as_str(), body.replace("103", "104")),
        (SDK_APP_ID, "not-base64", body.clone()),
        (SDK_APP_ID + 7, sign.as_str(), body.clone()),
    ] {
        let request = http::Request::post("/trtc")
            .header("SdkAppId", app)
            .header("Sign", sign)
            .body(axum::body::Body::from(sent))
            .unwrap();
        let response = service.clone().oneshot(request).await.unwrap();
        shown.push(format!("{response:?}"));
    }
    shown.push(format!("{:?}", keys.stats()));
    TrtcShown {
        shown,
        signs: vec![sign],
    }
}

const TOUR_V1: &str = "tour-token-v1";
const TOUR_V2: &str = "tour-token-v2";

/// Every path a secret could leak on, through the real refresher, client and layer.
async fn tour() {
    let h = Harness::start_with(TOUR_V1, |b| {
        b.refresh_on_miss_gap(Duration::from_secs(1))
            .grace(Duration::from_secs(300))
    })
    .await;
    let v1 = CallbackToken::new(TOUR_V1).unwrap();
    let v2 = CallbackToken::new(TOUR_V2).unwrap();
    assert_eq!(h.callback(&v1).await, 200);
    let forged = CallbackToken::new("forged-token").unwrap();
    assert_eq!(h.callback(&forged).await, 401);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    h.api.set_token(Some(TOUR_V2), true);
    assert_eq!(h.callback(&v2).await, 200, "refresh on miss");
    assert_eq!(h.callback(&v1).await, 200, "grace");
    h.api.set_token(Some(TOUR_V2), false);
    h.refresher.refresh_now().await.unwrap();
    h.api.set_token(Some(TOUR_V2), true);
    h.refresher.refresh_now().await.unwrap();
    h.api.set_fallback(Reply::Status(502, "<html>502</html>"));
    assert!(h.refresher.refresh_now().await.is_err());
    assert_eq!(h.callback(&v2).await, 200, "last good token");
}

#[test]
fn the_demo_logs_no_secret_with_every_log_line_on() {
    let mut exe = std::env::current_exe().unwrap();
    exe.pop();
    if exe.ends_with("deps") {
        exe.pop();
    }
    let demo = exe.join("examples").join("demo");
    assert!(demo.exists(), "{} is not built", demo.display());
    let started = now();
    let output = std::process::Command::new(demo)
        .env("RUST_LOG", "trace")
        .output()
        .unwrap();
    let finished = now();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{text}");
    assert!(
        text.contains("TRACE") && text.contains("tim_rest_call"),
        "every level is on"
    );
    let mut secrets = vec![SECRET_KEY.to_string(), "DemoTrtcKey20261128".to_string()];
    for t in started.saturating_sub(3600 + 5)..=finished + 5 {
        for token in [
            "demo-token-v1-3f9a2c7e",
            "demo-token-v2-8b1d4e6f",
            "demo-app-b-token-5c2a9e1b",
        ] {
            secrets.push(CallbackToken::new(token).unwrap().sign(t));
        }
    }
    for t in started.saturating_sub(2)..=finished + 2 {
        let lifetime = usersig::DEFAULT_LIFETIME.as_secs();
        secrets.push(usersig::generate(SDK_APP_ID, ADMIN, SECRET_KEY, t, lifetime).unwrap());
    }
    secrets.extend(
        [
            "demo-token-v1-3f9a2c7e",
            "demo-token-v2-8b1d4e6f",
            "demo-app-b-token-5c2a9e1b",
        ]
        .map(String::from),
    );
    let lower = text.to_ascii_lowercase();
    for secret in &secrets {
        assert!(
            !lower.contains(&secret.to_ascii_lowercase()),
            "a secret leaked: {}",
            excerpt(&text, secret)
        );
    }
}

fn excerpt(text: &str, needle: &str) -> String {
    let at = text.find(needle).unwrap_or(0);
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let from = chars.iter().position(|&(i, _)| i + 200 >= at).unwrap_or(0);
    chars[from..]
        .iter()
        .take_while(|&&(i, _)| i < at + needle.len() + 50)
        .map(|&(_, c)| c)
        .collect()
}
