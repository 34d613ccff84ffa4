//! The whole job on an embedded default, with no Tencent account and no network:
//!
//! ```sh
//! cargo run --example demo
//! ```
//!
//! Starts a mock of Tencent's REST API, a refresher against it and an axum server with the layer,
//! all on 127.0.0.1 with OS-assigned ports; then plays Tencent and an attacker, and prints a table
//! with the answer and the reason the layer gave for each rejection. The crate's own log lines
//! show on the way (`RUST_LOG` overrides). Exits non-zero if any case differs from what is
//! expected. `tests/demo.rs` runs this binary.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::routing::{get, post};
use axum::{Extension, Router};
use tim_callback_auth::allowlist::{AllowlistFilter, ClientAddress};
use tim_callback_auth::refresh::{AllowlistRefresher, TokenRefresher};
use tim_callback_auth::rest::{Region, RestClient, WebhookNetwork};
use tim_callback_auth::trtc::{TrtcCallbackAuthLayer, TrtcKey, TrtcKeys, VerifiedTrtcEvent};
use tim_callback_auth::{
    AppSet, CallbackAuthLayer, CallbackToken, Rejection, Reply, TokenHandle, TokenSnapshot,
    VerifiedCallback,
};
use tim_callback_events::chat::c2c::{C2cAfterSendMsg, C2cBeforeSendMsg};
use tim_callback_events::message::MsgElement;
use tim_callback_events::{Ack, Verdict};
use tim_callback_mock::mock::{self, MockApi, ADMIN, SDK_APP_ID, SECRET_KEY};

/// A second app behind the same endpoint, with a static token (the IM console's).
const APP_B: u64 = SDK_APP_ID + 1;
/// The tokens of the run (random-looking, 16 bytes or more, as real ones should be).
const TOKEN_V1: &str = "demo-token-v1-3f9a2c7e";
const TOKEN_V2: &str = "demo-token-v2-8b1d4e6f";
const TOKEN_B: &str = "demo-app-b-token-5c2a9e1b";
/// App A's TRTC callback key (the TRTC console's "Event Callbacks" key).
const TRTC_KEY: &str = "DemoTrtcKey20261128";

/// The words the demo's moderation masks.
const BANNED: [&str; 2] = ["casino", "lottery"];

/// A before-send verdict: the message unchanged, or its text elements with every banned word
/// replaced by asterisks.
fn mask_banned_words(event: &C2cBeforeSendMsg) -> Verdict<C2cBeforeSendMsg> {
    let mut changed = false;
    let body: Vec<MsgElement> = event
        .msg_body
        .iter()
        .map(|element| match element.as_text() {
            Some(text) if BANNED.iter().any(|w| text.contains(w)) => {
                changed = true;
                let masked = BANNED
                    .iter()
                    .fold(text.to_owned(), |t, w| t.replace(w, &"*".repeat(w.len())));
                MsgElement::text(masked)
            }
            _ => element.clone(),
        })
        .collect();
    if changed {
        Verdict::allow_with_msg_body(body)
    } else {
        Verdict::allow()
    }
}

/// One line of the table.
struct Case {
    name: &'static str,
    expected: u16,
    got: u16,
    /// What the layer put in the rejected response's extensions.
    reason: Option<Rejection>,
}

impl Case {
    fn passed(&self) -> bool {
        self.expected == self.got
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Sends callbacks the way Tencent does: POST, JSON body, query parameters.
struct Tencent {
    http: reqwest::Client,
    endpoint: String,
    /// The reason of the last rejection, recorded by an outer layer on the server.
    last_rejection: Arc<Mutex<Option<Rejection>>>,
}

impl Tencent {
    async fn callback(&self, app_id: u64, sign: Option<(&CallbackToken, u64)>) -> u16 {
        let mut url = format!(
            "{}?SdkAppid={app_id}&CallbackCommand=C2C.CallbackAfterSendMsg&contenttype=json&ClientIP=127.0.0.1&OptPlatform=RESTAPI",
            self.endpoint
        );
        if let Some((token, time)) = sign {
            url.push_str(&format!("&Sign={}&RequestTime={time}", token.sign(time)));
        }
        self.send(url).await
    }

    /// A signed URL of app A with a second, percent-encoded app id that a decoding parser in the
    /// handler would read as `SdkAppid`.
    async fn confused(&self, token: &CallbackToken, time: u64) -> u16 {
        let url = format!(
            "{}?SdkAppid={SDK_APP_ID}&SdkAppi%64={APP_B}&CallbackCommand=C2C.CallbackAfterSendMsg&Sign={}&RequestTime={time}",
            self.endpoint,
            token.sign(time)
        );
        self.send(url).await
    }

    /// A signed `C2C.CallbackBeforeSendMsg` from alice saying `text`: the status and the reply.
    async fn before_send(&self, token: &CallbackToken, time: u64, text: &str) -> (u16, String) {
        *self.last_rejection.lock().unwrap() = None;
        let url = format!(
            "{}?SdkAppid={SDK_APP_ID}&CallbackCommand=C2C.CallbackBeforeSendMsg&contenttype=json&ClientIP=127.0.0.1&OptPlatform=Android&Sign={}&RequestTime={time}",
            self.endpoint,
            token.sign(time)
        );
        let body = serde_json::json!({
            "CallbackCommand": "C2C.CallbackBeforeSendMsg",
            "From_Account": "alice",
            "To_Account": "bob",
            "MsgSeq": 48374,
            "MsgRandom": 2837546,
            "MsgTime": now(),
            "MsgKey": format!("48374_2837546_{}", now()),
            "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": text}}],
        });
        match self
            .http
            .post(url)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
        {
            Ok(response) => (
                response.status().as_u16(),
                response.text().await.unwrap_or_default(),
            ),
            Err(_) => (0, String::new()),
        }
    }

    async fn forged(&self) -> u16 {
        let url = format!(
            "{}?SdkAppid={SDK_APP_ID}&CallbackCommand=C2C.CallbackAfterSendMsg&Sign={}&RequestTime={}",
            self.endpoint,
            "0123456789abcdef".repeat(4),
            now()
        );
        self.send(url).await
    }

    /// A TRTC event: `SdkAppId` and `Sign` (base64 HMAC-SHA256 of the body) headers, signed over
    /// `signed` and sending `sent` (the same bytes, unless tampered with on the way).
    async fn trtc_event(&self, key: &TrtcKey, signed: &str, sent: &str) -> u16 {
        *self.last_rejection.lock().unwrap() = None;
        let url = self.endpoint.replace("/im/callback", "/trtc/callback");
        let response = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .header("SdkAppId", SDK_APP_ID)
            .header("Sign", key.sign(signed.as_bytes()))
            .body(sent.to_owned())
            .send()
            .await;
        match response {
            Ok(response) => {
                let status = response.status().as_u16();
                let text = response.text().await.unwrap_or_default();
                if status == 200 && text != Reply::trtc_ok().to_json() {
                    return 0;
                }
                status
            }
            Err(_) => 0,
        }
    }

    async fn health(&self) -> u16 {
        *self.last_rejection.lock().unwrap() = None;
        let url = self.endpoint.replace("/im/callback", "/healthz");
        match self.http.get(url).send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let body = response.text().await.unwrap_or_default();
                if body.contains(r#""status":"ready""#) {
                    status
                } else {
                    0
                }
            }
            Err(_) => 0,
        }
    }

    async fn send(&self, url: String) -> u16 {
        *self.last_rejection.lock().unwrap() = None;
        let body = r#"{"CallbackCommand":"C2C.CallbackAfterSendMsg","From_Account":"alice","To_Account":"bob","MsgBody":[]}"#;
        match self
            .http
            .post(url)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
        {
            Ok(response) => {
                let status = response.status().as_u16();
                let text = response.text().await.unwrap_or_default();
                if status == 200 && text != Reply::ok().to_json() {
                    return 0;
                }
                status
            }
            Err(_) => 0,
        }
    }
}

/// Runs the scenario and returns every case. Needs a tokio runtime with time and I/O.
async fn scenario() -> Vec<Case> {
    let mut cases = Vec::new();
    let v1 = CallbackToken::new(TOKEN_V1).expect("valid token");
    let v2 = CallbackToken::new(TOKEN_V2).expect("valid token");

    // 1. The mock Tencent API, a refresher against it, and our callback server.
    let api = MockApi::start(TOKEN_V1).await;
    let client = RestClient::builder(SDK_APP_ID, SECRET_KEY)
        .admin(ADMIN)
        .region(Region::custom(&api.base_url()).expect("local url"))
        .build()
        .expect("valid client");
    // Tencent's webhook egress addresses, from the mock's GetIPList: only they may call.
    let lists = AllowlistRefresher::builder(client.webhook_addresses(WebhookNetwork::China))
        .start()
        .await
        .expect("the mock answers");
    let refresher = TokenRefresher::builder(client)
        .grace(Duration::from_secs(300))
        .backoff(Duration::from_millis(100), Duration::from_secs(5))
        // The forged request below triggers a refresh-on-miss; a 1 s gap (default 10 s) keeps the
        // demo short before the rotation needs the next one.
        .refresh_on_miss_gap(Duration::from_secs(1))
        .start()
        .await
        .expect("the mock answers");
    let app_b = CallbackToken::new(TOKEN_B).expect("valid token");
    let apps = AppSet::new();
    apps.insert(SDK_APP_ID, refresher.handle());
    apps.insert(
        APP_B,
        TokenHandle::new(TokenSnapshot::enabled(app_b.clone())),
    );
    let health = apps.clone();
    // An outer layer reads the `Rejection` the auth layer puts in rejected responses (where a
    // server's own logging or metrics would).
    let last_rejection = Arc::new(Mutex::new(None));
    let recorder = Arc::clone(&last_rejection);
    let record = tower::util::MapResponseLayer::new(move |response: axum::response::Response| {
        *recorder.lock().unwrap() = response.extensions().get::<Rejection>().copied();
        response
    });
    // TRTC event callbacks of app A, on their own route: HMAC over the body, retries of answered
    // events answered by the layer (the handler counts its calls).
    let trtc_key = TrtcKey::new(TRTC_KEY).expect("valid TRTC key");
    let trtc_layer = TrtcCallbackAuthLayer::new(TrtcKeys::single(SDK_APP_ID, trtc_key.clone()));
    let trtc_stats = trtc_layer.clone();
    let trtc_calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let calls = Arc::clone(&trtc_calls);
    let trtc_handler = move |Extension(event): Extension<VerifiedTrtcEvent>, body: String| {
        let calls = Arc::clone(&calls);
        async move {
            calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            tracing::info!(
                app = event.app_id(),
                group = event.event_group_id(),
                event = event.event_type(),
                bytes = body.len(),
                "verified trtc event"
            );
            Reply::trtc_ok()
        }
    };
    // Verified callbacks by command (tim-callback-events): one-to-one messages moderated before
    // they are sent (a banned word masked), the after-send callback acknowledged; any other
    // command is answered `ErrorCode` 0 by default.
    let callbacks = tim_callback_events::Router::new()
        .on(|event: C2cBeforeSendMsg, verified: VerifiedCallback| async move {
            tracing::debug!(app = verified.app_id(), from = %event.from_account, "moderating");
            mask_banned_words(&event)
        })
        .on(|event: C2cAfterSendMsg, verified: VerifiedCallback| async move {
            tracing::debug!(app = verified.app_id(), to = %event.to_account, "verified callback");
            Ack
        });
    let app = Router::new()
        // The handlers take the app and time the layer verified; they never re-parse the query.
        .route_service("/im/callback", callbacks)
        .layer(
            CallbackAuthLayer::for_apps(apps)
                .with_allowlist(AllowlistFilter::new(lists.handle(), ClientAddress::peer())),
        )
        .route("/trtc/callback", post(trtc_handler).layer(trtc_layer))
        .layer(record)
        .route(
            "/healthz",
            get(move || async move {
                tim_callback_app::Health::of_apps(&health, Duration::from_secs(300))
                    .to_response::<axum::body::Body>()
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    // With the peer address in each request, for the source allowlist.
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let tencent = Tencent {
        http: reqwest::Client::new(),
        endpoint: format!("http://{addr}/im/callback"),
        last_rejection,
    };
    println!("mock Tencent API:  {} (app {SDK_APP_ID})", api.base_url());
    println!(
        "callback endpoint: {} (apps {SDK_APP_ID}, {APP_B})",
        tencent.endpoint
    );
    println!(
        "token fetched from the mock: fingerprint {}",
        refresher
            .handle()
            .load()
            .and_then(|s| s.current().map(CallbackToken::fingerprint))
            .unwrap_or_default()
    );
    println!(
        "source allowlist from the mock's GetIPList: {} entries ({})",
        lists.status().entries().unwrap_or_default(),
        lists
            .handle()
            .load()
            .map(|l| l.ranges().collect::<Vec<_>>().join(", "))
            .unwrap_or_default()
    );
    println!(
        "trtc endpoint:     {} (app {SDK_APP_ID}, {trtc_key:?})",
        tencent.endpoint.replace("/im/callback", "/trtc/callback")
    );
    println!();

    let reason = || *tencent.last_rejection.lock().unwrap();
    let mut case = |name, expected, got, reason| {
        cases.push(Case {
            name,
            expected,
            got,
            reason,
        })
    };

    // 1. A correctly signed callback.
    let t = now();
    case(
        "signed callback",
        200,
        tencent.callback(SDK_APP_ID, Some((&v1, t))).await,
        reason(),
    );

    // 2. The attacker.
    case("forged Sign", 401, tencent.forged().await, reason());
    let stale = t - 3600;
    case(
        "stale RequestTime (1 h old)",
        401,
        tencent.callback(SDK_APP_ID, Some((&v1, stale))).await,
        reason(),
    );
    case(
        "missing Sign",
        401,
        tencent.callback(SDK_APP_ID, None).await,
        reason(),
    );
    case(
        "second SdkAppid, percent-encoded",
        401,
        tencent.confused(&v1, t).await,
        reason(),
    );
    case(
        "unknown SdkAppid",
        401,
        tencent.callback(SDK_APP_ID + 9, Some((&v1, t))).await,
        reason(),
    );

    // Tencent's addresses change and no longer include ours: refused before anything else.
    api.set_ip_lists(Some((
        vec!["183.192.202.0/25".into()],
        vec!["43.132.0.0/16".into()],
    )));
    let _ = lists.refresh_now().await;
    case(
        "signed, but from outside Tencent's addresses",
        403,
        tencent.callback(SDK_APP_ID, Some((&v1, t))).await,
        reason(),
    );
    api.set_ip_lists(Some((vec!["127.0.0.1".into()], vec!["127.0.0.1".into()])));
    let _ = lists.refresh_now().await;

    // Two apps behind one endpoint: each with its own token; no replay across them.
    case(
        "app B, its own token",
        200,
        tencent.callback(APP_B, Some((&app_b, t))).await,
        reason(),
    );
    case(
        "signed for app A, claims app B",
        401,
        tencent.callback(APP_B, Some((&v1, t))).await,
        reason(),
    );
    case(
        "GET /healthz (ready)",
        200,
        tencent.health().await,
        reason(),
    );

    // 3. Rotation at Tencent: the new token works at once (refresh on miss), the old one during grace.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    api.set_token(Some(TOKEN_V2), true);
    let t = now();
    case(
        "new token right after rotation",
        200,
        tencent.callback(SDK_APP_ID, Some((&v2, t))).await,
        reason(),
    );
    case(
        "old token during grace period",
        200,
        tencent.callback(SDK_APP_ID, Some((&v1, t))).await,
        reason(),
    );

    // 4. Authentication switched off at Tencent.
    api.set_token(Some(TOKEN_V2), false);
    let _ = refresher.refresh_now().await;
    case(
        "unsigned callback, auth disabled",
        200,
        tencent.callback(SDK_APP_ID, None).await,
        reason(),
    );

    // 5. Back on, then the API breaks: the last good token keeps working.
    api.set_token(Some(TOKEN_V2), true);
    let _ = refresher.refresh_now().await;
    case(
        "missing Sign, auth re-enabled",
        401,
        tencent.callback(SDK_APP_ID, None).await,
        reason(),
    );
    api.set_fallback(mock::Reply::Status(
        502,
        "<html><body>502 Bad Gateway</body></html>",
    ));
    let failed = refresher.refresh_now().await.is_err();
    let t = now();
    let got = tencent.callback(SDK_APP_ID, Some((&v2, t))).await;
    case(
        "signed callback while API fails (502)",
        200,
        if failed { got } else { 0 },
        reason(),
    );

    // 6. Moderation: a one-to-one message with a banned word is delivered with the word masked.
    let t = now();
    let (status, reply) = tencent
        .before_send(&v2, t, "meet me at the casino tonight")
        .await;
    println!("moderation: \"meet me at the casino tonight\" -> {reply}");
    let masked = reply.contains(r#""Text":"meet me at the ****** tonight""#);
    case(
        "before-send with a banned word, masked",
        200,
        if masked { status } else { 0 },
        reason(),
    );

    // 7. TRTC event callbacks: the HMAC covers the body, so a changed byte is refused; Tencent's
    // retry of an event the handler already answered is answered by the layer.
    let ts = now() * 1000;
    let event = format!(
        "{{\n\t\"EventGroupId\":\t1,\n\t\"EventType\":\t103,\n\t\"CallbackTs\":\t{ts},\n\t\"EventInfo\":\t{{\"RoomId\":\t12345,\"UserId\":\t\"test\",\"Role\":\t20}}\n}}"
    );
    case(
        "TRTC event, signed",
        200,
        tencent.trtc_event(&trtc_key, &event, &event).await,
        reason(),
    );
    let tampered = event.replace("\"test\"", "\"evil\"");
    case(
        "TRTC event, body changed on the way",
        401,
        tencent.trtc_event(&trtc_key, &event, &tampered).await,
        reason(),
    );
    let got = tencent.trtc_event(&trtc_key, &event, &event).await;
    let handled_once = trtc_calls.load(std::sync::atomic::Ordering::Relaxed) == 1;
    case(
        "TRTC retry, answered by the layer",
        200,
        if handled_once { got } else { 0 },
        reason(),
    );
    let trtc = &trtc_stats.stats()[0];
    println!(
        "trtc events: {} accepted, {} rejected, {} retries answered without the handler",
        trtc.accepted_total(),
        trtc.rejected_total(),
        trtc.retries_answered()
    );

    server.abort();
    cases
}

#[tokio::main]
async fn main() {
    // The crate's own lines (refresher, rejections), not the HTTP stack's connection chatter.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "warn,tim_callback_auth=info".into()),
        )
        .init();

    let cases = scenario().await;
    let width = cases.iter().map(|c| c.name.len()).max().unwrap_or(4);
    println!();
    println!("{:<width$}  expected  got  reason the layer gave", "case");
    println!("{}", "-".repeat(width + 46));
    for c in &cases {
        let mark = if c.passed() { "✓" } else { "✗" };
        let reason = c.reason.map_or("-", |r| r.label());
        println!(
            "{:<width$}  {:>8}  {:>3}  {reason:<24} {mark}",
            c.name, c.expected, c.got
        );
    }
    let failed = cases.iter().filter(|c| !c.passed()).count();
    println!();
    println!("{} passed, {failed} failed", cases.len() - failed);
    println!();
    println!("Next: run the example server and sign callbacks for it yourself:");
    println!("  TIM_CALLBACK_TOKEN=your-console-token-0123456789 TIM_SDKAPPID=1400000000 \\");
    println!("    cargo run --example axum_server");
    println!("  TIM_CALLBACK_TOKEN=your-console-token-0123456789 cargo run --example send_callback -- \\");
    println!("    --url http://127.0.0.1:8080/im/callback --sdkappid 1400000000");
    println!("Tencent's API instead of a static token: TIM_SECRET_KEY and TIM_REGION (README).");
    println!("TRTC events too: add TIM_TRTC_CALLBACK_KEY=your-trtc-key to both, and");
    println!("  --trtc --url http://127.0.0.1:8080/trtc/callback to send_callback.");
    if failed > 0 {
        std::process::exit(1);
    }
}
