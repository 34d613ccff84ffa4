//! Instruction counts of the verification paths, with callgrind: stable on noisy machines, unlike
//! timings.
//!
//! ```sh
//! cargo bench --bench instructions                # every case, 100,000 calls each, a table
//! CALLS=1000000 cargo bench --bench instructions
//! ```
//!
//! A measurement program, not a criterion benchmark (`bench = false`: plain `cargo bench` skips
//! it). It runs itself once per case under `valgrind --tool=callgrind` (valgrind must be installed)
//! and prints instructions per call: (Collected(case) − Collected(`none`)) / calls. Under valgrind
//! `sha2` uses its software SHA-256 (valgrind does not emulate SHA-NI), so hashing weighs more than
//! on the metal. See BENCHMARKS.md for the figures and their history.

use std::hint::black_box;
use std::process::Command;

mod support;
use support::{naive_verify, query, NOW, TOKEN};

use sha2::{Digest, Sha256};
use tim_callback_auth::{
    AppSet, CallbackAuthLayer, CallbackToken, TokenHandle, TokenSnapshot, Verifier,
};

/// The cases, in the order of the table. The `router_*` cases are one signed request through an
/// axum `Router` (`oneshot` on a current-thread runtime): the layer's cost is `router_layer` minus
/// `router_pass_through`.
///
/// The `source_*` cases call a layer (no `VerifiedCallback` extension) directly with a signed
/// request that carries a peer address and an `X-Forwarded-For` header: the source allowlist's
/// cost is `source_peer` or `source_forwarded` minus `source_none`.
///
/// The `trtc_*` cases verify a 300-byte TRTC event (`TrtcVerifier::verify`: headers, HMAC, the
/// serde read of its fields, window) next to a bare HMAC-SHA256 of the same bytes, keyed on each call or with the key
/// schedule computed once, and Tencent's sample translated (`trtc_naive`). `trtc_layer_accept` is
/// a new signed event each call through the TRTC layer (minus `trtc_layer_requests`, which only
/// builds and signs them: the whole accepted request in the layer).
const CASES: [&str; 22] = [
    "none",
    "accept",
    "accept_uncached",
    "stale",
    "bad_sign",
    "disabled",
    "naive",
    "bare_sha256",
    "router_pass_through",
    "router_layer",
    "router_layer_no_extension",
    "router_apps",
    "source_none",
    "source_peer",
    "source_forwarded",
    "trtc_accept",
    "trtc_reject_tampered",
    "trtc_bare_hmac",
    "trtc_bare_hmac_precomputed",
    "trtc_naive",
    "trtc_layer_requests",
    "trtc_layer_accept",
];

/// Set in the child: which case to run.
const CASE_VAR: &str = "TIM_INSTRUCTIONS_CASE";

fn main() {
    let calls: u64 = std::env::var("CALLS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    match std::env::var(CASE_VAR) {
        Ok(case) => run(&case, calls),
        Err(_) => drive(calls),
    }
}

/// Runs every case under callgrind and prints the table.
fn drive(calls: u64) {
    let exe = std::env::current_exe().expect("own path");
    let collected = |case: &str| -> u64 {
        let output = Command::new("valgrind")
            .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
            .arg(&exe)
            .env(CASE_VAR, case)
            .env("CALLS", calls.to_string())
            .output()
            .unwrap_or_else(|e| {
                eprintln!("instructions: cannot run valgrind ({e}); install it (apt-get install valgrind)");
                std::process::exit(2)
            });
        let stderr = String::from_utf8_lossy(&output.stderr);
        stderr
            .lines()
            .find_map(|l| l.split("Collected :").nth(1))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| {
                eprintln!("instructions: no callgrind total for {case}:\n{stderr}");
                std::process::exit(2)
            })
    };
    let base = collected("none");
    println!("{:<16} {:>12}", "case", "instr./call");
    for case in &CASES[1..] {
        let per_call = (collected(case).saturating_sub(base)) as f64 / calls as f64;
        println!("{case:<16} {per_call:>12.0}");
    }
}

/// A layer that does nothing but wrap: the baseline of the `router_*` cases.
#[derive(Clone, Copy)]
struct PassThrough;

impl<S> tower::Layer<S> for PassThrough {
    type Service = PassThroughService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        PassThroughService(inner)
    }
}

#[derive(Clone)]
struct PassThroughService<S>(S);

impl<S: tower::Service<R>, R> tower::Service<R> for PassThroughService<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;
    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), S::Error>> {
        self.0.poll_ready(cx)
    }
    fn call(&mut self, req: R) -> S::Future {
        self.0.call(req)
    }
}

/// `calls` signed requests through an axum router built for `case`.
fn run_router(case: &str, calls: u64) {
    use axum::routing::post;
    use tower::ServiceExt;
    let token = CallbackToken::new(TOKEN).expect("valid token");
    let handle = || TokenHandle::new(TokenSnapshot::enabled(token.clone()));
    let route = || axum::Router::new().route("/im/callback", post(|| async { "ok" }));
    // The README's single-app setup: the app id checked.
    let layer = CallbackAuthLayer::new(handle())
        .with_verifier(Verifier::new().with_app_id(1_400_000_000))
        .with_clock(|| std::time::UNIX_EPOCH + std::time::Duration::from_secs(NOW));
    let app = match case {
        "router_pass_through" => route().layer(PassThrough),
        "router_layer" => route().layer(layer),
        "router_layer_no_extension" => route().layer(layer.with_verified_extension(false)),
        _ => {
            let apps = AppSet::new();
            for id in 1_400_000_000..1_400_000_010 {
                apps.insert(id, handle());
            }
            route().layer(
                CallbackAuthLayer::for_apps(apps)
                    .with_clock(|| std::time::UNIX_EPOCH + std::time::Duration::from_secs(NOW)),
            )
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let uri = format!("/im/callback?{}", query(&token.sign(NOW), NOW));
    for _ in 0..calls {
        let request = http::Request::post(uri.as_str())
            .body(axum::body::Body::empty())
            .expect("request");
        let response = runtime
            .block_on(app.clone().oneshot(request))
            .expect("infallible");
        assert_eq!(response.status(), 200);
    }
}

/// `calls` signed requests, each with a peer address and an `X-Forwarded-For` header, through a
/// layer with the source filter of `case`.
fn run_source(case: &str, calls: u64) {
    use std::future::Future;
    use tim_callback_auth::allowlist::{
        AllowlistFilter, AllowlistHandle, ClientAddress, IpAllowlist,
    };
    use tower::{Layer, Service};
    let token = CallbackToken::new(TOKEN).expect("valid token");
    // A list the size of a real one: 60 IPv4 ranges, 4 IPv6 ranges; the proxy's 10.0.0.0/8 too.
    let v4 = (0..60).map(|i| format!("{}.{}.0.0/20", 20 + i, 7 * i % 250));
    let v6 = (0..4).map(|i| format!("2402:4e{i:02x}::/32"));
    let list = IpAllowlist::new(v4.chain(v6).chain(["10.0.0.0/8".to_string()])).expect("list");
    let layer = CallbackAuthLayer::new(TokenHandle::new(TokenSnapshot::enabled(token.clone())))
        .with_clock(|| std::time::UNIX_EPOCH + std::time::Duration::from_secs(NOW))
        .with_rejection_response(|_r| http::Response::new(()))
        .with_verified_extension(false);
    let layer = match case {
        "source_none" => layer,
        "source_peer" => layer.with_allowlist(AllowlistFilter::new(
            AllowlistHandle::new(list),
            ClientAddress::peer(),
        )),
        _ => layer.with_allowlist(AllowlistFilter::new(
            AllowlistHandle::new(list),
            ClientAddress::x_forwarded_for(1),
        )),
    };
    let mut service = layer.layer(tower::service_fn(|_req: http::Request<()>| async {
        Ok::<_, std::convert::Infallible>(http::Response::new(()))
    }));
    let peer: std::net::SocketAddr = "10.1.2.3:40000".parse().expect("address");
    let uri = format!("/im/callback?{}", query(&token.sign(NOW), NOW));
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    for _ in 0..calls {
        let mut request = http::Request::post(uri.as_str())
            .header("x-forwarded-for", "198.51.100.9, 59.23.3.4")
            .body(())
            .expect("request");
        request.extensions_mut().insert(peer);
        let mut future = std::pin::pin!(service.call(request));
        match future.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(Ok(response)) => {
                assert!(response
                    .extensions()
                    .get::<tim_callback_auth::Rejection>()
                    .is_none())
            }
            _ => unreachable!("the layer and the inner service never wait"),
        }
    }
}

/// The `trtc_*` cases.
fn run_trtc(case: &str, calls: u64) {
    use base64::Engine as _;
    use hmac::{Hmac, KeyInit, Mac};
    use tim_callback_auth::trtc::{TrtcKey, TrtcKeys, TrtcVerifier};

    const KEY: &str = "N4cYbbZ4Ujb5TEnD7eUo";
    const TS: u64 = 1_700_000_000_000;
    let body = format!(
        r#"{{"EventGroupId":1,"EventType":103,"CallbackTs":{TS},"EventInfo":{{"RoomId":"room-20261128-0001","EventTs":1700000000,"EventMsTs":1700000000000,"UserId":"user_0123456789","UniqueId":1700000000123,"Role":20,"TerminalType":3,"UserType":3,"Reason":1,"Extra":"{}"}}}}"#,
        "x".repeat(34)
    );
    let tampered = body.replace("103", "104");
    let key = TrtcKey::new(KEY).expect("valid key");
    let sign = key.sign(body.as_bytes());
    let keys = TrtcKeys::single(1_400_000_001, key);
    let mut headers = http::HeaderMap::new();
    headers.insert("SdkAppId", 1_400_000_001u64.into());
    headers.insert("Sign", sign.parse().expect("header value"));
    let verifier = TrtcVerifier::new();
    let keyed = Hmac::<Sha256>::new_from_slice(KEY.as_bytes()).expect("any key length");
    if case.starts_with("trtc_layer_") {
        return run_trtc_layer(case, calls, KEY, TS);
    }
    let mut accepted = 0u64;
    for _ in 0..calls {
        let ok = match case {
            "trtc_accept" => verifier
                .verify(&keys, black_box(&headers), black_box(body.as_bytes()), TS)
                .is_ok(),
            "trtc_reject_tampered" => verifier
                .verify(
                    &keys,
                    black_box(&headers),
                    black_box(tampered.as_bytes()),
                    TS,
                )
                .is_ok(),
            "trtc_bare_hmac" => {
                let mut mac = Hmac::<Sha256>::new_from_slice(black_box(KEY.as_bytes()))
                    .expect("any key length");
                mac.update(black_box(body.as_bytes()));
                black_box(mac.finalize().into_bytes())[0] != 1
            }
            "trtc_bare_hmac_precomputed" => {
                let mut mac = keyed.clone();
                mac.update(black_box(body.as_bytes()));
                black_box(mac.finalize().into_bytes())[0] != 1
            }
            "trtc_naive" => {
                let mut mac = Hmac::<Sha256>::new_from_slice(KEY.as_bytes()).expect("any key");
                mac.update(black_box(body.as_bytes()));
                let expected =
                    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
                expected == sign && {
                    let value: serde_json::Value =
                        serde_json::from_slice(body.as_bytes()).expect("json");
                    value["CallbackTs"].as_u64() == Some(TS)
                }
            }
            other => {
                eprintln!("unknown case {other}; cases: {}", CASES.join(", "));
                std::process::exit(2);
            }
        };
        accepted += u64::from(ok);
    }
    black_box(accepted);
}

/// The `trtc_layer_*` cases: a new signed request each call (`trtc_layer_requests` only builds
/// them), through the layer to a handler answering at once.
fn run_trtc_layer(case: &str, calls: u64, key: &str, ts: u64) {
    use bytes::Bytes;
    use http::{Request, Response};
    use http_body_util::Full;
    use std::convert::Infallible;
    use std::future::Future as _;
    use std::task::{Context, Poll, Waker};
    use tim_callback_auth::trtc::{TrtcBody, TrtcCallbackAuthLayer, TrtcKey, TrtcKeys};
    use tower::Layer as _;

    let key = TrtcKey::new(key).expect("valid key");
    let layer = TrtcCallbackAuthLayer::new(TrtcKeys::single(1_400_000_001, key.clone()))
        .with_clock(move || std::time::UNIX_EPOCH + std::time::Duration::from_millis(ts));
    let mut service = layer.layer(tower::service_fn(|req: Request<TrtcBody>| {
        black_box(&req);
        std::future::ready(Ok::<_, Infallible>(Response::new(String::new())))
    }));
    let mut cx = Context::from_waker(Waker::noop());
    let mut accepted = 0u64;
    for i in 0..calls {
        let body = format!(
            r#"{{"EventGroupId":1,"EventType":103,"CallbackTs":{},"EventInfo":{{"RoomId":"room-20261128-0001","EventTs":1700000000,"EventMsTs":1700000000000,"UserId":"user_0123456789","UniqueId":{},"Role":20,"TerminalType":3,"UserType":3,"Reason":1,"Extra":"{}"}}}}"#,
            ts + i % 1000,
            1_700_000_000_000 + i % 1_000_000_000,
            "x".repeat(34)
        );
        let request = Request::post("/trtc")
            .header("SdkAppId", 1_400_000_001u64)
            .header("Sign", key.sign(body.as_bytes()))
            .body(Full::new(Bytes::from(body)))
            .expect("request");
        if case == "trtc_layer_requests" {
            black_box(request);
            accepted += 1;
            continue;
        }
        let _ = tower::Service::<Request<Full<Bytes>>>::poll_ready(&mut service, &mut cx);
        let mut future = std::pin::pin!(tower::Service::call(&mut service, request));
        if let Poll::Ready(Ok(response)) = future.as_mut().poll(&mut cx) {
            accepted += u64::from(response.status().is_success());
        }
    }
    assert_eq!(accepted, calls);
}

/// The child: `calls` verifications of one kind.
fn run(case: &str, calls: u64) {
    if case.starts_with("router_") {
        return run_router(case, calls);
    }
    if case.starts_with("source_") {
        return run_source(case, calls);
    }
    if case.starts_with("trtc_") {
        return run_trtc(case, calls);
    }
    let token = CallbackToken::new(TOKEN).expect("valid token");
    let snapshot = TokenSnapshot::enabled(token.clone());
    let verifier = Verifier::new().with_app_id(1_400_000_000);
    let good = query(&token.sign(NOW), NOW);
    let next_second = query(&token.sign(NOW + 1), NOW + 1);
    let bad = query(&"0".repeat(64), NOW);
    let stale = query(&token.sign(NOW - 3600), NOW - 3600);
    let unsigned = "SdkAppid=1400000000&CallbackCommand=C2C.CallbackAfterSendMsg&contenttype=json";
    let disabled = TokenSnapshot::disabled();
    let message = format!("{TOKEN}{NOW}");
    let mut accepted = 0u64;
    for i in 0..calls {
        let ok = match case {
            "none" => true,
            "accept" => verifier
                .verify(black_box(&snapshot), black_box(&good), NOW)
                .is_ok(),
            "accept_uncached" => {
                let q = if i % 2 == 0 { &good } else { &next_second };
                verifier
                    .verify(black_box(&snapshot), black_box(q), NOW)
                    .is_ok()
            }
            "stale" => verifier
                .verify(black_box(&snapshot), black_box(&stale), NOW)
                .is_ok(),
            "bad_sign" => verifier
                .verify(black_box(&snapshot), black_box(&bad), NOW)
                .is_ok(),
            "disabled" => verifier
                .verify(black_box(&disabled), black_box(unsigned), NOW)
                .is_ok(),
            "naive" => naive_verify(black_box(TOKEN), black_box(&good), NOW),
            "bare_sha256" => black_box(Sha256::digest(black_box(message.as_bytes())))[0] != 1,
            other => {
                eprintln!("unknown case {other}; cases: {}", CASES.join(", "));
                std::process::exit(2);
            }
        };
        accepted += u64::from(ok);
    }
    black_box(accepted);
}
