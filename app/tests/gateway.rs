//! The gateway end to end: a real upstream (an axum server on 127.0.0.1:0) behind the gateway,
//! real HTTP clients, and the Standard Webhooks signature checked by the spec's own Rust library
//! (`standardwebhooks`).

mod support;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use base64::Engine as _;
use http::{HeaderMap, StatusCode};
use sha2::{Digest, Sha256};
use tim_callback_app::gateway::{FallbackReason, Gateway, GatewayConfig};
use tim_callback_auth::trtc::TrtcKey;

const APP: u64 = 1400000001;
const TOKEN: &str = "gateway-test-token-0123456789abcdef";
const TRTC_KEY: &str = "GatewayTrtcKey0123456789";
/// Two Standard Webhooks secrets: a rotation.
const SECRET_NEW: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
fn secret_old() -> String {
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode([42u8; 32])
    )
}

/// What the upstream answers.
#[derive(Clone, Debug)]
enum Mode {
    Json(&'static str),
    Empty,
    Status(u16),
    Garbage,
    Slow(Duration),
}

#[derive(Clone, Debug)]
struct Seen {
    uri: String,
    headers: HeaderMap,
    body: Bytes,
}

#[derive(Clone)]
struct Upstream {
    mode: Arc<Mutex<Mode>>,
    seen: Arc<Mutex<Vec<Seen>>>,
    addr: SocketAddr,
}

impl Upstream {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let upstream = Upstream {
            mode: Arc::new(Mutex::new(Mode::Json(
                r#"{"ActionStatus":"OK","ErrorCode":0}"#,
            ))),
            seen: Arc::default(),
            addr,
        };
        async fn handle(
            State(up): State<Upstream>,
            request: axum::extract::Request,
        ) -> axum::response::Response {
            let (parts, body) = request.into_parts();
            let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
            up.seen.lock().unwrap().push(Seen {
                uri: parts.uri.to_string(),
                headers: parts.headers,
                body,
            });
            let mode = up.mode.lock().unwrap().clone();
            let respond = |status: u16, body: &'static str| {
                axum::response::Response::builder()
                    .status(status)
                    .body(axum::body::Body::from(body))
                    .unwrap()
            };
            match mode {
                Mode::Json(reply) => respond(200, reply),
                Mode::Empty => respond(200, ""),
                Mode::Status(status) => respond(status, r#"{"error":"boom"}"#),
                Mode::Garbage => respond(200, "<html>oops</html>"),
                Mode::Slow(delay) => {
                    tokio::time::sleep(delay).await;
                    respond(200, r#"{"ActionStatus":"OK","ErrorCode":0}"#)
                }
            }
        }
        let app = axum::Router::new()
            .route("/tencent", post(handle))
            .with_state(upstream.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        upstream
    }

    fn url(&self) -> String {
        format!("http://{}/tencent", self.addr)
    }

    fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

struct Running {
    addr: SocketAddr,
    admin: SocketAddr,
    stats: tim_callback_app::gateway::GatewayStats,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    async fn shutdown(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.done.await.unwrap().unwrap();
    }
}

fn vars(upstream: &str, extra: &[(&str, &str)]) -> HashMap<String, String> {
    let mut vars: HashMap<String, String> = [
        ("TIM_CALLBACK_TOKEN", TOKEN.to_owned()),
        ("TIM_SDKAPPID", APP.to_string()),
        ("TIM_TRTC_CALLBACK_KEY", TRTC_KEY.to_owned()),
        ("TIM_UPSTREAM_URL", upstream.to_owned()),
        (
            "TIM_UPSTREAM_SECRET",
            format!("{SECRET_NEW} {}", secret_old()),
        ),
        ("TIM_UPSTREAM_TIMEOUT_MS", "400".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    for (k, v) in extra {
        vars.insert((*k).to_owned(), (*v).to_owned());
    }
    vars
}

async fn start(vars: HashMap<String, String>) -> Running {
    let gateway: Gateway = GatewayConfig::from_vars(|name| vars.get(name).cloned())
        .unwrap()
        .start()
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let admin = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (addr, admin_addr) = (listener.local_addr().unwrap(), admin.local_addr().unwrap());
    let stats = gateway.stats();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let done = tokio::spawn(gateway.serve(listener, Some(admin), async move {
        let _ = stopped.await;
    }));
    Running {
        addr,
        admin: admin_addr,
        stats,
        stop: Some(stop),
        done,
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn sign(time: u64) -> String {
    let digest = Sha256::digest(format!("{TOKEN}{time}").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A signed Chat callback's query, with Tencent's other parameters.
fn chat_query(command: &str) -> String {
    let time = now();
    format!(
        "SdkAppid={APP}&CallbackCommand={command}&contenttype=json&ClientIP=203.0.113.7&OptPlatform=iOS&RequestTime={time}&Sign={}",
        sign(time)
    )
}

async fn post_chat(gw: &Running, query: &str, body: &str) -> (StatusCode, String) {
    let response = reqwest::Client::new()
        .post(format!("http://{}/im/callback?{query}", gw.addr))
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

fn trtc_body() -> String {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis();
    format!(
        r#"{{"EventGroupId":1,"EventType":103,"CallbackTs":{ms},"EventInfo":{{"RoomId":12345,"EventTs":1,"UserId":"u","Role":20}}}}"#
    )
}

async fn post_trtc(gw: &Running, body: &str, sign: &str) -> (StatusCode, String) {
    let response = reqwest::Client::new()
        .post(format!("http://{}/trtc/callback", gw.addr))
        .header("content-type", "application/json")
        .header("SdkAppId", APP.to_string())
        .header("Sign", sign)
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

/// The signature verifies with the spec's own library, under each secret of the rotation.
fn assert_signed(seen: &Seen) {
    for secret in [SECRET_NEW.to_owned(), secret_old()] {
        standardwebhooks::Webhook::new(&secret)
            .unwrap()
            .verify(&seen.body, &seen.headers)
            .unwrap_or_else(|e| panic!("signature does not verify: {e:?}"));
    }
    let other = format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode([7u8; 32])
    );
    assert!(standardwebhooks::Webhook::new(&other)
        .unwrap()
        .verify(&seen.body, &seen.headers)
        .is_err());
}

const SEND: &str = r#"{"CallbackCommand":"C2C.CallbackBeforeSendMsg","From_Account":"a","To_Account":"b","MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hi"}}]}"#;
const AFTER: &str = r#"{"CallbackCommand":"C2C.CallbackAfterSendMsg","From_Account":"a","To_Account":"b","MsgBody":[]}"#;

#[tokio::test]
async fn verified_callbacks_reach_the_upstream_resigned_without_the_sign() {
    let upstream = Upstream::start().await;
    let gw = start(vars(&upstream.url(), &[])).await;

    // Chat: a before-callback, the upstream's verdict goes back to Tencent.
    upstream.set(Mode::Json(
        r#"{"ActionStatus":"OK","ErrorCode":1,"ErrorInfo":""}"#,
    ));
    let query = chat_query("C2C.CallbackBeforeSendMsg") + "&Extra%20Name=v%2Bw";
    let (status, reply) = post_chat(&gw, &query, SEND).await;
    assert_eq!(
        (status, reply.as_str()),
        (
            StatusCode::OK,
            r#"{"ActionStatus":"OK","ErrorCode":1,"ErrorInfo":""}"#
        )
    );
    let seen = upstream.seen();
    assert_eq!(seen.len(), 1);
    let chat = &seen[0];
    assert_eq!(chat.body, SEND.as_bytes(), "the same body bytes");
    assert_eq!(
        chat.uri,
        format!("/tencent?SdkAppid={APP}&CallbackCommand=C2C.CallbackBeforeSendMsg&contenttype=json&ClientIP=203.0.113.7&OptPlatform=iOS"),
        "Tencent's parameters only: the unknown `Extra Name` is not passed on"
    );
    assert!(!chat.uri.contains("Sign") && !chat.uri.contains("RequestTime"));
    let h = &chat.headers;
    assert_eq!(h["x-tim-app-id"], APP.to_string().as_str());
    assert_eq!(h["x-tim-command"], "C2C.CallbackBeforeSendMsg");
    assert_eq!(h["x-tim-verified"], "sign");
    assert_eq!(h["x-tim-previous-key"], "0");
    assert!(
        h["x-tim-request-time"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            + 5
            >= now()
    );
    assert_eq!(h["host"], upstream.addr.to_string().as_str());
    assert_eq!(h["x-forwarded-for"], "127.0.0.1");
    assert_signed(chat);
    // The id: the event's, the same for the same app, command and body.
    let id = h["webhook-id"].to_str().unwrap().to_owned();
    assert!(id.starts_with("msg_") && !id.starts_with("msg_unverified_"));
    upstream.set(Mode::Json(r#"{"ErrorCode":0}"#));
    post_chat(&gw, &chat_query("C2C.CallbackBeforeSendMsg"), SEND).await;
    assert_eq!(upstream.seen()[1].headers["webhook-id"], id.as_str());
    post_chat(&gw, &chat_query("C2C.CallbackAfterSendMsg"), AFTER).await;
    assert_ne!(upstream.seen()[2].headers["webhook-id"], id.as_str());

    // TRTC: verified by the body HMAC, the same bytes forwarded and re-signed.
    let body = trtc_body();
    let (status, _) = post_trtc(
        &gw,
        &body,
        &TrtcKey::new(TRTC_KEY).unwrap().sign(body.as_bytes()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let seen = upstream.seen();
    let trtc = seen.last().unwrap();
    assert_eq!(trtc.body, body.as_bytes());
    assert_eq!(trtc.headers["x-tim-trtc-event"], "1.103");
    assert_eq!(trtc.headers["x-tim-verified"], "trtc-sign");
    assert!(trtc.headers.get("sign").is_none() && trtc.headers.get("sdkappid").is_none());
    assert_signed(trtc);
    assert_eq!(gw.stats.forwarded(), 4);

    // An upstream 2xx with an empty body: the kind's OK reply, never an empty answer.
    upstream.set(Mode::Empty);
    let (status, reply) = post_chat(&gw, &chat_query("C2C.CallbackAfterSendMsg"), AFTER).await;
    assert_eq!(status, StatusCode::OK);
    assert!(reply.contains(r#""ErrorCode":0"#), "{reply}");
    assert_eq!(gw.stats.empty_replies(), 1);

    // A reply that is not valid for its command is passed on, and counted.
    upstream.set(Mode::Json(r#"{"ErrorCode":7}"#));
    let (_, reply) = post_chat(&gw, &chat_query("C2C.CallbackBeforeSendMsg"), SEND).await;
    assert_eq!(reply, r#"{"ErrorCode":7}"#);
    assert_eq!(gw.stats.invalid_replies(), 1);
    gw.shutdown().await;
}

#[tokio::test]
async fn forged_stale_disguised_and_foreign_requests_never_reach_the_upstream() {
    let upstream = Upstream::start().await;
    let gw = start(vars(&upstream.url(), &[])).await;
    let time = now();
    let forged = format!(
        "SdkAppid={APP}&CallbackCommand=C2C.CallbackAfterSendMsg&RequestTime={time}&Sign={}",
        "0".repeat(64)
    );
    let stale_time = time - 600;
    let stale = format!(
        "SdkAppid={APP}&CallbackCommand=C2C.CallbackAfterSendMsg&RequestTime={stale_time}&Sign={}",
        sign(stale_time)
    );
    let duplicated = chat_query("C2C.CallbackAfterSendMsg") + "&SdkAppi%64=1400000999";
    let disguised_command = format!(
        "{}&Callback%43ommand=Group.CallbackAfterSendMsg",
        chat_query("C2C.CallbackAfterSendMsg")
    );
    let other_app = {
        let q = chat_query("C2C.CallbackAfterSendMsg");
        q.replace(&APP.to_string(), "1400000999")
    };
    for (what, query) in [
        ("forged", forged),
        ("stale", stale),
        ("duplicated app", duplicated),
        ("disguised command", disguised_command),
        ("another app", other_app),
        (
            "no sign",
            format!("SdkAppid={APP}&CallbackCommand=C2C.CallbackAfterSendMsg"),
        ),
    ] {
        let (status, _) = post_chat(&gw, &query, AFTER).await;
        assert!(status.is_client_error(), "{what}: {status}");
    }
    // The body names another command than the signed query: refused, not forwarded.
    let (status, _) = post_chat(&gw, &chat_query("C2C.CallbackAfterMsgWithDraw"), AFTER).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // TRTC: a wrong key, a modified body.
    let body = trtc_body();
    let wrong = TrtcKey::new("AnotherTrtcKey0123456")
        .unwrap()
        .sign(body.as_bytes());
    assert_eq!(
        post_trtc(&gw, &body, &wrong).await.0,
        StatusCode::UNAUTHORIZED
    );
    let right = TrtcKey::new(TRTC_KEY).unwrap().sign(body.as_bytes());
    let modified = body.replace("12345", "12346");
    assert_eq!(
        post_trtc(&gw, &modified, &right).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert!(upstream.seen().is_empty(), "{:?}", upstream.seen());
    gw.shutdown().await;

    // A source outside the allowlist.
    let gw = start(vars(&upstream.url(), &[("TIM_SOURCE_IPS", "10.0.0.0/8")])).await;
    let (status, _) = post_chat(&gw, &chat_query("C2C.CallbackAfterSendMsg"), AFTER).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(upstream.seen().is_empty());
    gw.shutdown().await;
}

#[tokio::test]
async fn an_upstream_that_cannot_answer_gets_the_fallback_within_the_deadline() {
    let upstream = Upstream::start().await;
    // A port nothing listens on.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let down = format!("http://{}/tencent", closed.local_addr().unwrap());
    drop(closed);
    for (policy, verdict) in [
        ("forbid", r#""ErrorCode":1"#),
        ("allow", r#""ErrorCode":0"#),
    ] {
        let gw = start(vars(&upstream.url(), &[("TIM_UPSTREAM_FALLBACK", policy)])).await;
        for (mode, reason, after_status) in [
            (
                Mode::Status(500),
                FallbackReason::Status,
                StatusCode::BAD_GATEWAY,
            ),
            (
                Mode::Garbage,
                FallbackReason::Garbage,
                StatusCode::BAD_GATEWAY,
            ),
            (
                Mode::Slow(Duration::from_secs(3)),
                FallbackReason::Timeout,
                StatusCode::GATEWAY_TIMEOUT,
            ),
        ] {
            upstream.set(mode.clone());
            let started = Instant::now();
            let (status, reply) =
                post_chat(&gw, &chat_query("C2C.CallbackBeforeSendMsg"), SEND).await;
            assert!(started.elapsed() < Duration::from_millis(1_900), "{mode:?}");
            assert_eq!(status, StatusCode::OK, "{mode:?}");
            assert!(reply.contains(verdict), "{policy} {mode:?}: {reply}");
            let (status, _) = post_chat(&gw, &chat_query("C2C.CallbackAfterSendMsg"), AFTER).await;
            assert_eq!(status, after_status, "{mode:?}");
            let body = trtc_body();
            let sign = TrtcKey::new(TRTC_KEY).unwrap().sign(body.as_bytes());
            let (status, _) = post_trtc(&gw, &body, &sign).await;
            assert_eq!(status, after_status, "trtc {mode:?}");
            assert_eq!(gw.stats.fallbacks(reason), 3, "{mode:?}");
        }
        assert_eq!(gw.stats.forwarded(), 0);
        assert_eq!(gw.stats.consecutive_failures(), 9);
        // The admin view shows the upstream failing; the public one says nothing of it.
        let admin = reqwest::get(format!("http://{}/healthz", gw.admin))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let admin: serde_json::Value = serde_json::from_str(&admin).unwrap();
        assert_eq!(admin["upstream"]["consecutive_failures"], 9);
        assert_eq!(admin["upstream"]["fallbacks"]["timeout"], 3);
        assert!(admin["apps"].is_array());
        let public = reqwest::get(format!("http://{}/healthz", gw.addr))
            .await
            .unwrap();
        assert_eq!(public.status(), StatusCode::OK);
        assert_eq!(public.text().await.unwrap(), "ok\n");
        gw.shutdown().await;
    }
    let gw = start(vars(&down, &[])).await;
    let (status, reply) = post_chat(&gw, &chat_query("C2C.CallbackBeforeSendMsg"), SEND).await;
    assert_eq!(status, StatusCode::OK);
    assert!(reply.contains(r#""ErrorCode":1"#), "{reply}");
    assert_eq!(
        post_chat(&gw, &chat_query("C2C.CallbackAfterSendMsg"), AFTER)
            .await
            .0,
        StatusCode::BAD_GATEWAY
    );
    assert_eq!(gw.stats.fallbacks(FallbackReason::Unreachable), 2);
    gw.shutdown().await;
}

#[tokio::test]
async fn unverified_callbacks_are_not_forwarded_unless_asked_and_then_marked() {
    let mock = tim_callback_mock::mock::MockApi::start_for(
        APP,
        tim_callback_mock::mock::ADMIN,
        tim_callback_mock::mock::SECRET_KEY,
        None,
        false,
    )
    .await;
    let upstream = Upstream::start().await;
    let api = |extra: &[(&str, &str)]| {
        let mut v = vars(&upstream.url(), extra);
        v.remove("TIM_CALLBACK_TOKEN");
        v.remove("TIM_TRTC_CALLBACK_KEY");
        v.insert(
            "TIM_SECRET_KEY".into(),
            tim_callback_mock::mock::SECRET_KEY.into(),
        );
        v.insert("TIM_API_BASE_URL".into(), mock.base_url());
        v.insert("TIM_ALLOW_UNSIGNED".into(), "1".into());
        v
    };
    let unsigned = format!("SdkAppid={APP}&CallbackCommand=C2C.CallbackBeforeSendMsg");
    let gw = start(api(&[])).await;
    let (status, reply) = post_chat(&gw, &unsigned, SEND).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        reply.contains(r#""ErrorCode":1"#),
        "forbidden by the fallback: {reply}"
    );
    assert_eq!(gw.stats.fallbacks(FallbackReason::Unverified), 1);
    assert!(upstream.seen().is_empty());
    gw.shutdown().await;

    // Opting in needs a secret of its own for unverified callbacks.
    let error =
        GatewayConfig::from_vars(|n| api(&[("TIM_FORWARD_UNVERIFIED", "1")]).get(n).cloned())
            .unwrap_err();
    assert_eq!(error.variable(), "TIM_UPSTREAM_UNVERIFIED_SECRET");
    let unverified_secret = format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode([9u8; 32])
    );
    let gw = start(api(&[
        ("TIM_FORWARD_UNVERIFIED", "1"),
        ("TIM_UPSTREAM_UNVERIFIED_SECRET", &unverified_secret),
    ]))
    .await;
    upstream.set(Mode::Json(r#"{"ErrorCode":0}"#));
    let (status, _) = post_chat(&gw, &unsigned, SEND).await;
    assert_eq!(status, StatusCode::OK);
    let seen = upstream.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].headers["x-tim-verified"], "unverified");
    let id = seen[0].headers["webhook-id"].to_str().unwrap();
    assert!(id.starts_with("msg_unverified_"), "{id}");
    // A backend that knows only the verified secrets refuses it; the unverified secret verifies.
    for secret in [SECRET_NEW.to_owned(), secret_old()] {
        assert!(standardwebhooks::Webhook::new(&secret)
            .unwrap()
            .verify(&seen[0].body, &seen[0].headers)
            .is_err());
    }
    standardwebhooks::Webhook::new(&unverified_secret)
        .unwrap()
        .verify(&seen[0].body, &seen[0].headers)
        .unwrap();
    gw.shutdown().await;
}

#[tokio::test]
async fn a_shutdown_loses_no_request_in_flight() {
    let upstream = Upstream::start().await;
    upstream.set(Mode::Slow(Duration::from_millis(300)));
    let gw = start(vars(&upstream.url(), &[])).await;
    let addr = gw.addr;
    let requests: Vec<_> = (0..8)
        .map(|_| {
            let query = chat_query("C2C.CallbackAfterSendMsg");
            tokio::spawn(async move {
                reqwest::Client::new()
                    .post(format!("http://{addr}/im/callback?{query}"))
                    .body(AFTER)
                    .send()
                    .await
                    .map(|r| r.status())
            })
        })
        .collect();
    // Once all are at the upstream (which takes 300 ms to answer), shut down.
    let waiting = Instant::now();
    while upstream.seen().len() < 8 {
        assert!(
            waiting.elapsed() < Duration::from_secs(10),
            "the requests did not arrive"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let stats = gw.stats.clone();
    gw.shutdown().await;
    let mut results = Vec::new();
    for request in requests {
        results.push(request.await.unwrap().map_err(|e| format!("{e:?}")));
    }
    for r in &results {
        assert_eq!(
            r.as_ref().ok().copied(),
            Some(StatusCode::OK),
            "{results:?} seen {}",
            upstream.seen().len()
        );
    }
    assert_eq!(stats.forwarded(), 8);
    // And nothing is accepted afterwards.
    assert!(reqwest::Client::new()
        .post(format!("http://{addr}/im/callback"))
        .send()
        .await
        .is_err());
}

#[test]
fn gateway_mistakes_are_named_and_never_echo_the_value() {
    let secret = "whsec_c2VudGluZWwtc2VjcmV0LXNlbnRpbmVsLXg=";
    let cases: [(&str, &str, &str); 19] = [
        ("TIM_MAX_IN_FLIGHT", "9sEnTiNeL", "TIM_MAX_IN_FLIGHT"),
        ("TIM_BODY_LIMIT_BYTES", "sEnTiNeL", "TIM_BODY_LIMIT_BYTES"),
        (
            "TIM_SHUTDOWN_GRACE_SECS",
            "1sEnTiNeL",
            "TIM_SHUTDOWN_GRACE_SECS",
        ),
        (
            "TIM_FORWARD_UNVERIFIED",
            "sEnTiNeL",
            "TIM_FORWARD_UNVERIFIED",
        ),
        (
            "TIM_UPSTREAM_UNVERIFIED_SECRET",
            "whsec_sEnTiNeL",
            "TIM_UPSTREAM_UNVERIFIED_SECRET",
        ),
        (
            "TIM_TRTC_CALLBACK_PATH",
            "/sEnTiNeL/../x",
            "TIM_TRTC_CALLBACK_PATH",
        ),
        ("TIM_IM_CALLBACK_PATH", "/healthz", "TIM_IM_CALLBACK_PATH"),
        (
            "TIM_TRTC_CALLBACK_PATH",
            "/healthz",
            "TIM_TRTC_CALLBACK_PATH",
        ),
        ("TIM_MAX_IN_FLIGHT", "0", "TIM_MAX_IN_FLIGHT"),
        // The unverified secret may not be a verified one.
        (
            "TIM_UPSTREAM_UNVERIFIED_SECRET",
            "whsec_c2VudGluZWwtc2VjcmV0LXNlbnRpbmVsLXg=",
            "TIM_UPSTREAM_UNVERIFIED_SECRET",
        ),
        (
            "TIM_UPSTREAM_SECRET",
            "sEnTiNeL-not-whsec",
            "TIM_UPSTREAM_SECRET",
        ),
        (
            "TIM_UPSTREAM_SECRET",
            "whsec_sEnTiNeL",
            "TIM_UPSTREAM_SECRET",
        ),
        (
            "TIM_UPSTREAM_SECRET",
            "whsec_c0VOVGlOZUw=",
            "TIM_UPSTREAM_SECRET",
        ),
        (
            "TIM_UPSTREAM_SECRET",
            "whsec_sEnTiNeLxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n",
            "TIM_UPSTREAM_SECRET",
        ),
        (
            "TIM_UPSTREAM_URL",
            "http://user:sEnTiNeL@host/",
            "TIM_UPSTREAM_URL",
        ),
        ("TIM_UPSTREAM_URL", "ftp://sEnTiNeL/", "TIM_UPSTREAM_URL"),
        (
            "TIM_UPSTREAM_TIMEOUT_MS",
            "9sEnTiNeL",
            "TIM_UPSTREAM_TIMEOUT_MS",
        ),
        ("TIM_UPSTREAM_FALLBACK", "sEnTiNeL", "TIM_UPSTREAM_FALLBACK"),
        (
            "TIM_IM_CALLBACK_PATH",
            "/../sEnTiNeL",
            "TIM_IM_CALLBACK_PATH",
        ),
    ];
    for (name, value, variable) in cases {
        let mut v = vars("http://127.0.0.1:9/tencent", &[]);
        v.insert("TIM_UPSTREAM_SECRET".into(), secret.into());
        v.insert(name.into(), value.into());
        if name == "TIM_UPSTREAM_UNVERIFIED_SECRET" {
            v.insert("TIM_FORWARD_UNVERIFIED".into(), "1".into());
        }
        let error = GatewayConfig::from_vars(|n| v.get(n).cloned()).unwrap_err();
        assert_eq!(error.variable(), variable, "{name}={value:?}");
        for text in [error.to_string(), format!("{error:?}")] {
            assert!(
                !text.contains("sEnTiNeL") && !text.contains("c2VudGluZWw"),
                "{text}"
            );
        }
    }
    let mut v = vars("http://127.0.0.1:9/tencent", &[]);
    v.remove("TIM_UPSTREAM_SECRET");
    let error = GatewayConfig::from_vars(|n| v.get(n).cloned()).unwrap_err();
    assert_eq!(error.variable(), "TIM_UPSTREAM_SECRET");
    v.remove("TIM_UPSTREAM_URL");
    let error = GatewayConfig::from_vars(|n| v.get(n).cloned()).unwrap_err();
    assert_eq!(error.variable(), "TIM_UPSTREAM_URL");
    // A static token without its app: the gateway would present the callback's own (unsigned)
    // SdkAppid as verified.
    // (Without the TRTC key, whose own check would name TIM_SDKAPPID first.)
    let mut v = vars("http://127.0.0.1:9/tencent", &[]);
    v.remove("TIM_SDKAPPID");
    v.remove("TIM_TRTC_CALLBACK_KEY");
    for app in [None, Some("0")] {
        if let Some(app) = app {
            v.insert("TIM_SDKAPPID".into(), app.into());
        }
        let error = GatewayConfig::from_vars(|n| v.get(n).cloned()).unwrap_err();
        assert_eq!(error.variable(), "TIM_SDKAPPID");
        assert!(error.to_string().contains("by the gateway"), "{error}");
    }
    // A per-app secret in TIM_APPS is never in the configuration's Debug.
    let dir = std::env::temp_dir().join(format!("tim-gw-debug-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let apps = dir.join("apps.json");
    std::fs::write(
        &apps,
        format!(
            r#"[{{"sdkappid":{APP},"callback_token_env":"GW_DEBUG_TOKEN","upstream":"http://127.0.0.1:9/a","upstream_secret_env":"GW_DEBUG_SECRET"}}]"#
        ),
    )
    .unwrap();
    let v: HashMap<String, String> = [
        ("TIM_APPS", apps.to_str().unwrap().to_owned()),
        ("GW_DEBUG_TOKEN", TOKEN.to_owned()),
        ("GW_DEBUG_SECRET", secret.to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let config = tim_callback_app::Config::from_vars(|n| v.get(n).cloned()).unwrap();
    let shown = format!("{config:?}");
    assert!(
        !shown.contains("c2VudGluZWw") && !shown.contains(TOKEN),
        "{shown}"
    );
    let gateway = GatewayConfig::from_vars(|n| v.get(n).cloned()).unwrap();
    let shown = format!("{gateway:?}");
    assert!(
        !shown.contains("c2VudGluZWw") && !shown.contains(TOKEN),
        "{shown}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Everything logged (at trace level, every target) while the gateway forwards, falls back and
/// passes an invalid reply on: no token, `Sign`, TRTC key or signature, nor Standard Webhooks
/// secret or signature.
#[tokio::test]
async fn no_secret_and_no_sign_in_any_log_line() {
    let logs = support::Logs::default();
    let subscriber = logs.subscriber(tracing::Level::TRACE);
    // The process's subscriber (the only test here that sets one): a scoped one would miss the
    // lines whose interest another test's thread cached while no subscriber was set. It sees the
    // other tests' lines too, which only adds to what is checked.
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let upstream = Upstream::start().await;
    let gw = start(vars(&upstream.url(), &[])).await;
    let query = chat_query("C2C.CallbackBeforeSendMsg");
    let chat_sign = query.rsplit("Sign=").next().unwrap().to_owned();
    post_chat(&gw, &query, SEND).await;
    let body = trtc_body();
    let trtc_sign = TrtcKey::new(TRTC_KEY).unwrap().sign(body.as_bytes());
    post_trtc(&gw, &body, &trtc_sign).await;
    for mode in [
        Mode::Json(r#"{"ErrorCode":7}"#),
        Mode::Status(500),
        Mode::Garbage,
        Mode::Slow(Duration::from_secs(1)),
    ] {
        upstream.set(mode);
        post_chat(&gw, &chat_query("C2C.CallbackBeforeSendMsg"), SEND).await;
    }
    // A forgery, refused by the layer.
    let forged = format!(
        "SdkAppid={APP}&CallbackCommand=C2C.CallbackAfterSendMsg&RequestTime={}&Sign={}",
        now(),
        "ab".repeat(32)
    );
    post_chat(&gw, &forged, AFTER).await;
    gw.shutdown().await;
    // An app whose authentication is off, its callbacks forwarded with the unverified secret.
    let mock = tim_callback_mock::mock::MockApi::start_for(
        APP,
        tim_callback_mock::mock::ADMIN,
        tim_callback_mock::mock::SECRET_KEY,
        None,
        false,
    )
    .await;
    let unverified_secret = format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode([11u8; 32])
    );
    let mut v = vars(&upstream.url(), &[]);
    v.remove("TIM_CALLBACK_TOKEN");
    v.remove("TIM_TRTC_CALLBACK_KEY");
    for (name, value) in [
        (
            "TIM_SECRET_KEY",
            tim_callback_mock::mock::SECRET_KEY.to_owned(),
        ),
        ("TIM_API_BASE_URL", mock.base_url()),
        ("TIM_ALLOW_UNSIGNED", "1".to_owned()),
        ("TIM_FORWARD_UNVERIFIED", "1".to_owned()),
        ("TIM_UPSTREAM_UNVERIFIED_SECRET", unverified_secret.clone()),
    ] {
        v.insert(name.to_owned(), value);
    }
    let gw = start(v).await;
    upstream.set(Mode::Json(r#"{"ErrorCode":0}"#));
    let before = upstream.seen().len();
    post_chat(
        &gw,
        &format!("SdkAppid={APP}&CallbackCommand=C2C.CallbackBeforeSendMsg"),
        SEND,
    )
    .await;
    assert_eq!(upstream.seen().len(), before + 1, "forwarded unverified");
    gw.shutdown().await;

    let text = logs.text();
    assert!(
        text.contains("answered tencent itself"),
        "the fallbacks were logged: {text}"
    );
    let signatures: Vec<String> = upstream
        .seen()
        .iter()
        .flat_map(|s| {
            s.headers["webhook-signature"]
                .to_str()
                .unwrap()
                .split(' ')
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(!signatures.is_empty());
    let old = secret_old();
    let mut secrets = vec![
        TOKEN,
        TRTC_KEY,
        SECRET_NEW,
        &SECRET_NEW[6..],
        old.as_str(),
        &old[6..],
        chat_sign.as_str(),
        trtc_sign.as_str(),
        unverified_secret.as_str(),
        &unverified_secret[6..],
        tim_callback_mock::mock::SECRET_KEY,
    ];
    secrets.extend(signatures.iter().map(|s| &s[3..]));
    for secret in secrets {
        assert!(!text.contains(secret), "a secret is logged: {secret}");
    }
}

/// Per-app upstreams and secrets from `TIM_APPS`: each app's callbacks reach its own backend,
/// signed with its own secret, which the other backend's secret does not verify.
#[tokio::test]
async fn each_app_of_tim_apps_reaches_its_own_upstream_with_its_own_secret() {
    const APP_B: u64 = APP + 1;
    const TOKEN_B: &str = "gateway-test-token-b-0123456789abcdef";
    let (a, b) = (Upstream::start().await, Upstream::start().await);
    let secret_b = format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode([9u8; 32])
    );
    let dir = std::env::temp_dir().join(format!("tim-gateway-apps-{}", std::process::id()));
    std::fs::write(
        &dir,
        format!(
            r#"[{{"sdkappid":{APP},"callback_token_env":"TOKEN_A","upstream":"{}"}},
               {{"sdkappid":{APP_B},"callback_token_env":"TOKEN_B","upstream":"{}","upstream_secret_env":"SECRET_B"}}]"#,
            a.url(),
            b.url()
        ),
    )
    .unwrap();
    let vars: HashMap<String, String> = [
        ("TIM_APPS", dir.display().to_string()),
        ("TOKEN_A", TOKEN.to_owned()),
        ("TOKEN_B", TOKEN_B.to_owned()),
        ("SECRET_B", secret_b.clone()),
        ("TIM_UPSTREAM_SECRET", SECRET_NEW.to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let gw = start(vars).await;
    std::fs::remove_file(&dir).unwrap();
    post_chat(&gw, &chat_query("C2C.CallbackAfterSendMsg"), AFTER).await;
    let time = now();
    let sign_b: String = Sha256::digest(format!("{TOKEN_B}{time}").as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let query_b = format!("SdkAppid={APP_B}&CallbackCommand=C2C.CallbackAfterSendMsg&RequestTime={time}&Sign={sign_b}");
    assert_eq!(post_chat(&gw, &query_b, AFTER).await.0, StatusCode::OK);
    let (seen_a, seen_b) = (a.seen(), b.seen());
    assert_eq!((seen_a.len(), seen_b.len()), (1, 1));
    assert_eq!(seen_a[0].headers["x-tim-app-id"], APP.to_string().as_str());
    assert_eq!(
        seen_b[0].headers["x-tim-app-id"],
        APP_B.to_string().as_str()
    );
    let verifies = |secret: &str, seen: &Seen| {
        standardwebhooks::Webhook::new(secret)
            .unwrap()
            .verify(&seen.body, &seen.headers)
            .is_ok()
    };
    assert!(verifies(SECRET_NEW, &seen_a[0]) && !verifies(&secret_b, &seen_a[0]));
    assert!(verifies(&secret_b, &seen_b[0]) && !verifies(SECRET_NEW, &seen_b[0]));
    // One event, two apps: two ids.
    assert_ne!(
        seen_a[0].headers["webhook-id"],
        seen_b[0].headers["webhook-id"]
    );
    gw.shutdown().await;
}

/// Live callbacks on the same path; a body over the limit; `/metrics` on the admin listener.
#[tokio::test]
async fn live_callbacks_the_body_limit_and_metrics() {
    tim_callback_app::gateway::install_metrics();
    let upstream = Upstream::start().await;
    let gw = start(vars(&upstream.url(), &[("TIM_BODY_LIMIT_BYTES", "2048")])).await;
    let live = r#"{"WebhookCommand":"Live.CallbackAfterCreateRoom","RoomInfo":{"RoomId":"r1"}}"#;
    assert_eq!(
        post_chat(&gw, &chat_query("Live.CallbackAfterCreateRoom"), live)
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        upstream.seen()[0].headers["x-tim-command"],
        "Live.CallbackAfterCreateRoom"
    );
    let big = format!(
        r#"{{"CallbackCommand":"C2C.CallbackAfterSendMsg","X":"{}"}}"#,
        "x".repeat(4096)
    );
    assert_eq!(
        post_chat(&gw, &chat_query("C2C.CallbackAfterSendMsg"), &big)
            .await
            .0,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    let big = big.replace("AfterSendMsg", "BeforeSendMsg");
    let (status, reply) = post_chat(&gw, &chat_query("C2C.CallbackBeforeSendMsg"), &big).await;
    assert_eq!(status, StatusCode::OK);
    assert!(reply.contains(r#""ErrorCode":1"#), "{reply}");
    assert_eq!(gw.stats.fallbacks(FallbackReason::Unreadable), 1);
    assert_eq!(upstream.seen().len(), 1);
    let metrics = reqwest::get(format!("http://{}/metrics", gw.admin))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("tim_gateway_forwarded_total"), "{metrics}");
    assert!(
        metrics.contains(r#"tim_gateway_fallbacks_total{reason="unreadable"}"#),
        "{metrics}"
    );
    // The public listener has neither.
    let public = reqwest::get(format!("http://{}/metrics", gw.addr))
        .await
        .unwrap();
    assert_eq!(public.status(), StatusCode::NOT_FOUND);
    gw.shutdown().await;
}

/// What a scripted upstream writes: each piece after its delay.
type Script = Vec<(Duration, Vec<u8>)>;

/// An upstream written by hand over TCP: it reads one request and answers with `parts`, each
/// written after its delay (a status line and headers at once, then a body that trickles).
async fn scripted_upstream(parts: Script) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/tencent", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let parts = parts.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                // The headers, then as much body as Content-Length says.
                loop {
                    let Ok(n) = stream.read(&mut buf).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    request.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&request).to_ascii_lowercase();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let length = text[..end]
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        if request.len() >= end + 4 + length {
                            break;
                        }
                    }
                }
                for (delay, bytes) in parts {
                    tokio::time::sleep(delay).await;
                    if stream.write_all(&bytes).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    url
}

fn head(status: &str, headers: &str) -> (Duration, Vec<u8>) {
    (
        Duration::ZERO,
        format!("HTTP/1.1 {status}\r\n{headers}connection: close\r\n\r\n").into_bytes(),
    )
}

/// Upstream answers the gateway cannot pass on, each answered by the fallback (a before-callback
/// forbidden, an after-callback 502/504): a redirect, a client error, JSON that is not an object,
/// a reply over the 64 KiB limit, a body that trickles past the budget, and a 500 whose body
/// never ends (its status decides at once, the body is not waited for).
#[tokio::test]
async fn replies_the_gateway_cannot_pass_on_get_the_fallback() {
    let huge = format!(r#"{{"ErrorCode":0,"x":"{}"}}"#, "a".repeat(70 * 1024));
    let drip: Vec<(Duration, Vec<u8>)> = std::iter::once(head(
        "200 OK",
        "content-type: application/json\r\ncontent-length: 100\r\n",
    ))
    .chain((0..40).map(|_| (Duration::from_millis(50), b"{".to_vec())))
    .collect();
    let endless_500: Vec<(Duration, Vec<u8>)> = vec![
        head("500 Internal Server Error", "content-length: 100000\r\n"),
        (Duration::from_secs(5), b"x".to_vec()),
    ];
    let cases: Vec<(&str, Script, FallbackReason, StatusCode)> = vec![
        (
            "redirect",
            vec![head(
                "302 Found",
                "location: http://127.0.0.1:9/\r\ncontent-length: 0\r\n",
            )],
            FallbackReason::Status,
            StatusCode::BAD_GATEWAY,
        ),
        (
            "client error",
            vec![head("404 Not Found", "content-length: 0\r\n")],
            FallbackReason::Status,
            StatusCode::BAD_GATEWAY,
        ),
        (
            "array",
            vec![
                head("200 OK", "content-length: 2\r\n"),
                (Duration::ZERO, b"[]".to_vec()),
            ],
            FallbackReason::Garbage,
            StatusCode::BAD_GATEWAY,
        ),
        (
            "scalar",
            vec![
                head("200 OK", "content-length: 1\r\n"),
                (Duration::ZERO, b"0".to_vec()),
            ],
            FallbackReason::Garbage,
            StatusCode::BAD_GATEWAY,
        ),
        (
            "over the limit",
            vec![
                head("200 OK", &format!("content-length: {}\r\n", huge.len())),
                (Duration::ZERO, huge.into_bytes()),
            ],
            FallbackReason::Garbage,
            StatusCode::BAD_GATEWAY,
        ),
        (
            "trickling body",
            drip,
            FallbackReason::Timeout,
            StatusCode::GATEWAY_TIMEOUT,
        ),
        (
            "500 with an endless body",
            endless_500,
            FallbackReason::Status,
            StatusCode::BAD_GATEWAY,
        ),
    ];
    for (name, script, reason, after_status) in cases {
        let url = scripted_upstream(script).await;
        let gw = start(vars(&url, &[])).await;
        let started = Instant::now();
        let (status, reply) = post_chat(&gw, &chat_query("C2C.CallbackBeforeSendMsg"), SEND).await;
        let took = started.elapsed();
        assert_eq!(status, StatusCode::OK, "{name}");
        assert!(reply.contains(r#""ErrorCode":1"#), "{name}: {reply}");
        // The budget is 400 ms: no case waits for more than that (and the status of a 500
        // decides before its body).
        assert!(took < Duration::from_millis(1_000), "{name}: {took:?}");
        let (status, _) = post_chat(&gw, &chat_query("C2C.CallbackAfterSendMsg"), AFTER).await;
        assert_eq!(status, after_status, "{name}");
        assert_eq!(gw.stats.fallbacks(reason), 2, "{name}");
        assert_eq!(gw.stats.forwarded(), 0, "{name}");
        gw.shutdown().await;
    }
}

/// However long `TIM_UPSTREAM_TIMEOUT_MS`, a Chat callback is answered before Tencent's 2 s; a
/// TRTC event may use the longer budget.
#[tokio::test]
async fn the_budget_never_outlasts_tencents_deadline() {
    let upstream = Upstream::start().await;
    upstream.set(Mode::Slow(Duration::from_secs(6)));
    let gw = start(vars(
        &upstream.url(),
        &[("TIM_UPSTREAM_TIMEOUT_MS", "4750")],
    ))
    .await;
    let started = Instant::now();
    let (status, reply) = post_chat(&gw, &chat_query("C2C.CallbackBeforeSendMsg"), SEND).await;
    let took = started.elapsed();
    assert_eq!(status, StatusCode::OK);
    assert!(reply.contains(r#""ErrorCode":1"#), "{reply}");
    assert!(
        took >= Duration::from_millis(1_500) && took < Duration::from_millis(2_000),
        "{took:?}"
    );
    let started = Instant::now();
    let body = trtc_body();
    let sign = TrtcKey::new(TRTC_KEY).unwrap().sign(body.as_bytes());
    let (status, _) = post_trtc(&gw, &body, &sign).await;
    let took = started.elapsed();
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
    assert!(
        took >= Duration::from_millis(3_900) && took < Duration::from_secs(5),
        "{took:?}"
    );
    assert_eq!(gw.stats.fallbacks(FallbackReason::Timeout), 2);
    gw.shutdown().await;
}

/// Over real HTTP: the upstream sees none of the disguised names PHP, qs or Rack would read as
/// `SdkAppid` or `CallbackCommand`, no hop-by-hop header, no underscore twin of a verified fact,
/// no caller-written address header, and an identity `Accept-Encoding`.
#[tokio::test]
async fn the_upstream_sees_only_what_the_gateway_vouches_for() {
    let upstream = Upstream::start().await;
    let gw = start(vars(&upstream.url(), &[])).await;
    let query = format!(
        "{}&%20SdkAppid=1400000999&SdkAppid[]=1400000998&+CallbackCommand=Group.CallbackBeforeSendMsg&Sign[]=x&tenant=a",
        chat_query("C2C.CallbackAfterSendMsg")
    );
    let response = reqwest::Client::new()
        .post(format!("http://{}/im/callback?{query}", gw.addr))
        .header("content-type", "application/json")
        .header("accept-encoding", "gzip")
        .header("x_tim_verified", "sign")
        .header("webhook_id", "msg_forged")
        .header("forwarded", "for=198.51.100.1")
        .header("x-real-ip", "198.51.100.1")
        .header("connection", "x-hop")
        .header("x-hop", "1")
        .header("x-kept", "1")
        .header("x-request-id", "req-1")
        .body(AFTER)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let seen = upstream.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0].uri,
        format!("/tencent?SdkAppid={APP}&CallbackCommand=C2C.CallbackAfterSendMsg&contenttype=json&ClientIP=203.0.113.7&OptPlatform=iOS")
    );
    let headers = &seen[0].headers;
    assert_eq!(headers["accept-encoding"], "identity");
    assert_eq!(headers["x-request-id"], "req-1");
    assert_eq!(headers["content-type"], "application/json");
    for gone in [
        "x_tim_verified",
        "webhook_id",
        "forwarded",
        "x-real-ip",
        "x-hop",
    ] {
        assert!(!headers.contains_key(gone), "{gone} reached the upstream");
    }
    assert_eq!(headers["x-tim-verified"], "sign");
    assert_signed(&seen[0]);
    gw.shutdown().await;
}

/// Writes a request's head and the first `sent` bytes of its body, then nothing.
async fn trickle(gw: &Running, head: &str, body: &str, sent: usize) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let mut stream = tokio::net::TcpStream::connect(gw.addr).await.unwrap();
    let request = format!(
        "{head}\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{}",
        body.len(),
        &body[..sent]
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    stream
}

/// The status line the gateway answers on `stream`, within `within`.
async fn status_line(stream: &mut tokio::net::TcpStream, within: Duration) -> String {
    let mut answer = [0u8; 64];
    let n = tokio::time::timeout(within, tokio::io::AsyncReadExt::read(stream, &mut answer))
        .await
        .expect("answered in time")
        .unwrap();
    String::from_utf8_lossy(&answer[..n])
        .lines()
        .next()
        .unwrap_or("")
        .to_owned()
}

/// A before-callback the typed list does not know yet still fails closed under `forbid`. A
/// verified Chat callback whose body trickles in is cut before Tencent's 2 s (a before-callback
/// with the fallback policy's answer, others 408); beyond `TIM_MAX_IN_FLIGHT` verified Chat
/// callbacks, a before-callback gets the policy's answer (not a failure, which Tencent would
/// count as "allow") and others 503. TRTC bodies trickling in (unverified until read) hold
/// TRTC's own slots, never Chat's.
#[tokio::test]
async fn unknown_before_callbacks_slow_bodies_and_overload() {
    let upstream = Upstream::start().await;
    upstream.set(Mode::Status(500));
    let gw = start(vars(&upstream.url(), &[("TIM_MAX_IN_FLIGHT", "1")])).await;
    let body = r#"{"CallbackCommand":"Group.CallbackBeforeSomethingNew"}"#;
    let (status, reply) =
        post_chat(&gw, &chat_query("Group.CallbackBeforeSomethingNew"), body).await;
    assert_eq!(status, StatusCode::OK);
    assert!(reply.contains(r#""ErrorCode":1"#), "{reply}");
    let (status, _) = post_chat(
        &gw,
        &chat_query("Group.CallbackAfterSomethingNew"),
        r#"{"CallbackCommand":"Group.CallbackAfterSomethingNew"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);

    // A verified after-callback whose body stops half-way holds the one Chat slot.
    let started = Instant::now();
    let mut slow = trickle(
        &gw,
        &format!(
            "POST /im/callback?{} HTTP/1.1",
            chat_query("C2C.CallbackAfterSendMsg")
        ),
        AFTER,
        10,
    )
    .await;
    // Until it holds the slot, other requests get through (and meet the upstream's 500).
    let mut overloaded = false;
    for _ in 0..100 {
        let (status, _) = post_chat(&gw, &chat_query("C2C.CallbackAfterSendMsg"), AFTER).await;
        if status == StatusCode::SERVICE_UNAVAILABLE {
            overloaded = true;
            break;
        }
        assert_eq!(status, StatusCode::BAD_GATEWAY);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(overloaded, "the trickling request holds the slot");
    assert_eq!(gw.stats.fallbacks(FallbackReason::Overloaded), 1);
    // A before-callback beyond the slots: the policy's answer, counted.
    let (status, reply) = post_chat(&gw, &chat_query("C2C.CallbackBeforeSendMsg"), SEND).await;
    assert_eq!(status, StatusCode::OK);
    assert!(reply.contains(r#""ErrorCode":1"#), "{reply}");
    assert_eq!(gw.stats.fallbacks(FallbackReason::Overloaded), 2);
    // Cut before Tencent's deadline (2 s, less the 250 ms the gateway keeps).
    let line = status_line(&mut slow, Duration::from_secs(3)).await;
    let took = started.elapsed();
    assert!(line.starts_with("HTTP/1.1 408"), "{line}");
    assert!(
        took >= Duration::from_millis(1_700) && took < Duration::from_millis(2_200),
        "{took:?}"
    );
    assert_eq!(gw.stats.fallbacks(FallbackReason::TooSlow), 1);

    // A before-callback trickling in: the policy's answer in time.
    let started = Instant::now();
    let mut slow = trickle(
        &gw,
        &format!(
            "POST /im/callback?{} HTTP/1.1",
            chat_query("C2C.CallbackBeforeSendMsg")
        ),
        SEND,
        10,
    )
    .await;
    let line = status_line(&mut slow, Duration::from_secs(3)).await;
    let took = started.elapsed();
    assert!(line.starts_with("HTTP/1.1 200"), "{line}");
    assert!(
        took >= Duration::from_millis(1_700) && took < Duration::from_millis(2_200),
        "{took:?}"
    );
    assert_eq!(gw.stats.fallbacks(FallbackReason::TooSlow), 2);

    // An unverified TRTC body trickling in holds TRTC's one slot: another TRTC event is turned
    // away, a Chat callback is not.
    let started = Instant::now();
    let body = trtc_body();
    let mut slow_trtc = trickle(
        &gw,
        &format!(
            "POST /trtc/callback HTTP/1.1\r\nsdkappid: {APP}\r\nsign: {}",
            TrtcKey::new(TRTC_KEY).unwrap().sign(b"another body")
        ),
        &body,
        10,
    )
    .await;
    let sign = TrtcKey::new(TRTC_KEY).unwrap().sign(body.as_bytes());
    let mut turned_away = false;
    for _ in 0..100 {
        let (status, _) = post_trtc(&gw, &body, &sign).await;
        if status == StatusCode::SERVICE_UNAVAILABLE {
            turned_away = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(turned_away, "the trickling TRTC request holds TRTC's slot");
    upstream.set(Mode::Json(r#"{"ActionStatus":"OK","ErrorCode":0}"#));
    let (status, reply) = post_chat(&gw, &chat_query("C2C.CallbackBeforeSendMsg"), SEND).await;
    assert_eq!(status, StatusCode::OK);
    assert!(reply.contains(r#""ErrorCode":0"#), "forwarded: {reply}");
    let line = status_line(&mut slow_trtc, Duration::from_secs(6)).await;
    let took = started.elapsed();
    assert!(line.starts_with("HTTP/1.1 408"), "{line}");
    assert!(
        took >= Duration::from_millis(4_800) && took < Duration::from_millis(5_500),
        "{took:?}"
    );
    // The slots are free again.
    let (status, _) = post_chat(&gw, &chat_query("C2C.CallbackAfterSendMsg"), AFTER).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = post_trtc(&gw, &body, &sign).await;
    assert_eq!(status, StatusCode::OK);
    gw.shutdown().await;
}
