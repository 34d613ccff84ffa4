//! The gateway in front of a tiny backend, with no Tencent account and no network:
//!
//! ```sh
//! cargo run --example gateway_demo
//! ```
//!
//! Starts a backend on 127.0.0.1 that checks each request with the Standard Webhooks library
//! (`standardwebhooks`, as a backend in another language would with its own), the gateway in
//! front of it (a static token, as from the IM console), and plays Tencent and an attacker: a
//! signed callback forwarded, a forgery refused before the backend, and a slow backend answered
//! by the fallback within Tencent's deadline. Exits non-zero if any case differs from what is
//! expected. `tests/demo.rs` runs this binary.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::routing::post;
use sha2::{Digest, Sha256};
use tim_callback_app::gateway::{FallbackReason, GatewayConfig};

const APP: u64 = 1400000000;
const TOKEN: &str = "demo-console-token-7c1e9a4b";
/// The secret the gateway signs with and the backend verifies with.
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// What the backend saw: whether the signature verified, and the facts the gateway added.
#[derive(Default)]
struct Backend {
    seen: Mutex<Vec<String>>,
    slow: Mutex<bool>,
}

async fn backend(
    axum::extract::State(state): axum::extract::State<Arc<Backend>>,
    request: axum::extract::Request,
) -> axum::response::Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let verified = standardwebhooks::Webhook::new(SECRET)
        .and_then(|hook| hook.verify(&body, &parts.headers))
        .is_ok();
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
            .to_owned()
    };
    state.seen.lock().unwrap().push(format!(
        "signature {}, {} {}, id {}…, query {}",
        if verified { "verified" } else { "INVALID" },
        header("x-tim-verified"),
        header("x-tim-command"),
        &header("webhook-id")[..12.min(header("webhook-id").len())],
        parts.uri.query().unwrap_or("")
    ));
    if *state.slow.lock().unwrap() {
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    let reply = if verified {
        r#"{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}"#
    } else {
        r#"{"ActionStatus":"FAIL","ErrorCode":1,"ErrorInfo":"bad signature"}"#
    };
    axum::response::Response::new(axum::body::Body::from(reply))
}

fn signed_query(command: &str) -> String {
    let time = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let sign: String = Sha256::digest(format!("{TOKEN}{time}").as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("SdkAppid={APP}&CallbackCommand={command}&contenttype=json&ClientIP=203.0.113.7&OptPlatform=iOS&RequestTime={time}&Sign={sign}")
}

#[tokio::main]
async fn main() {
    let state = Arc::new(Backend::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream = format!("http://{}/tencent", listener.local_addr().unwrap());
    let app = axum::Router::new()
        .route("/tencent", post(backend))
        .with_state(Arc::clone(&state));
    tokio::spawn(async move { axum::serve(listener, app).await });
    println!("backend:  {upstream} (checks the Standard Webhooks signature)");

    let vars: HashMap<&str, String> = [
        ("TIM_SDKAPPID", APP.to_string()),
        ("TIM_CALLBACK_TOKEN", TOKEN.to_owned()),
        ("TIM_UPSTREAM_URL", upstream),
        ("TIM_UPSTREAM_SECRET", SECRET.to_owned()),
        ("TIM_UPSTREAM_TIMEOUT_MS", "500".to_owned()),
    ]
    .into_iter()
    .collect();
    let gateway = GatewayConfig::from_vars(|name| vars.get(name).cloned())
        .unwrap_or_else(|e| panic!("{e}"))
        .start()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let stats = gateway.stats();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(gateway.serve(listener, None, std::future::pending()));
    println!("gateway:  http://{addr}/im/callback\n");

    let client = reqwest::Client::new();
    let send = |query: String| {
        let client = client.clone();
        async move {
            let response = client
                .post(format!("http://{addr}/im/callback?{query}"))
                .header("content-type", "application/json")
                .body(r#"{"CallbackCommand":"C2C.CallbackBeforeSendMsg","From_Account":"alice","To_Account":"bob","MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hi"}}]}"#)
                .send()
                .await
                .unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    let mut failed = 0;
    let mut check = |what: &str, ok: bool, detail: String| {
        println!("{} {what}: {detail}", if ok { "✓" } else { "✗" });
        failed += usize::from(!ok);
    };

    let (status, reply) = send(signed_query("C2C.CallbackBeforeSendMsg")).await;
    let seen = state
        .seen
        .lock()
        .unwrap()
        .last()
        .cloned()
        .unwrap_or_default();
    check(
        "a signed callback is forwarded",
        status == 200
            && reply.contains(r#""ErrorCode":0"#)
            && seen.starts_with("signature verified, sign"),
        format!("{status} {reply}\n    the backend saw: {seen}"),
    );

    let before = state.seen.lock().unwrap().len();
    let forged = signed_query("C2C.CallbackBeforeSendMsg").replace("Sign=", "Sign=0");
    let (status, _) = send(forged).await;
    let reached = state.seen.lock().unwrap().len() > before;
    check(
        "a forgery is refused",
        status == 401 && !reached,
        format!(
            "{status}, the backend saw {}",
            if reached { "it" } else { "nothing" }
        ),
    );

    *state.slow.lock().unwrap() = true;
    let started = Instant::now();
    let (status, reply) = send(signed_query("C2C.CallbackBeforeSendMsg")).await;
    let elapsed = started.elapsed();
    check(
        "a slow backend gets the fallback in time",
        status == 200
            && reply.contains(r#""ErrorCode":1"#)
            && elapsed < Duration::from_secs(2)
            && stats.fallbacks(FallbackReason::Timeout) == 1,
        format!(
            "{status} {reply} after {} ms (TIM_UPSTREAM_FALLBACK=forbid; Tencent waits 2 s)",
            elapsed.as_millis()
        ),
    );

    println!("\n{} passed, {failed} failed", 3 - failed);
    println!("Next: `cargo run --release --bin tim-callback-gateway` with your variables (README, \"A backend in any language\").");
    if failed > 0 {
        std::process::exit(1);
    }
}
