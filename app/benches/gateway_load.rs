//! The gateway under load, on loopback: the gateway in front of a trivial upstream, against the
//! same gateway forwarding the same callbacks with verification turned off (an app whose
//! authentication is off, `TIM_ALLOW_UNSIGNED=1` and `TIM_FORWARD_UNVERIFIED=1`: the layer passes
//! every request through, and the forwarding, the signing and the upstream are the same). The two
//! alternate over several rounds so that machine noise hits both alike; it reports requests/s
//! and p99 latency for each, the throughput ratio and the latency the verification adds.
//!
//! ```sh
//! cargo bench -p tim-callback-app --bench gateway_load                 # 20 rounds × 2 × 1 s
//! cargo bench -p tim-callback-app --bench gateway_load -- --rounds 10 --secs 2 --connections 32
//! ```
//!
//! A measurement program (`bench = false`); the figures are in BENCHMARKS.md.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use sha2::{Digest, Sha256};
use tim_callback_app::gateway::GatewayConfig;
use tim_callback_mock::mock::{MockApi, ADMIN, SECRET_KEY};

const APP: u64 = 1400000000;
const TOKEN: &str = "loadtest-gateway-token-0123456789";
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const BODY: &str = r#"{"CallbackCommand":"C2C.CallbackAfterSendMsg","From_Account":"alice","To_Account":"bob","MsgSeq":1,"MsgRandom":2,"MsgTime":1700000000,"MsgKey":"1_2_3","MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hello"}}]}"#;

fn option(name: &str, default: f64) -> f64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn gateway(vars: HashMap<&'static str, String>) -> SocketAddr {
    let gateway = GatewayConfig::from_vars(|name| vars.get(name).cloned())
        .unwrap_or_else(|e| panic!("{e}"))
        .start()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(gateway.serve(listener, None, std::future::pending()));
    addr
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Drives `addr` for `secs` with `connections` keep-alive clients: (requests/s, p99, errors).
async fn drive(addr: SocketAddr, secs: f64, connections: usize) -> (f64, Duration, u64) {
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(connections)
        .build_http();
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(secs);
    let workers: Vec<_> = (0..connections)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                let (mut latencies, mut errors) = (Vec::new(), 0u64);
                while Instant::now() < deadline {
                    let t = now();
                    let sign: String = Sha256::digest(format!("{TOKEN}{t}").as_bytes())
                        .iter()
                        .map(|b| format!("{b:02x}"))
                        .collect();
                    let uri = format!("http://{addr}/im/callback?SdkAppid={APP}&CallbackCommand=C2C.CallbackAfterSendMsg&contenttype=json&ClientIP=1.2.3.4&OptPlatform=RESTAPI&Sign={sign}&RequestTime={t}");
                    let request = http::Request::post(uri)
                        .header("content-type", "application/json")
                        .body(Full::new(Bytes::from_static(BODY.as_bytes())))
                        .unwrap();
                    let sent = Instant::now();
                    match client.request(request).await {
                        Ok(response) if response.status() == 200 => {
                            let _ = response.into_body().collect().await;
                            latencies.push(sent.elapsed());
                        }
                        _ => errors += 1,
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let (mut latencies, mut errors) = (Vec::new(), 0);
    for worker in workers {
        let (l, e) = worker.await.unwrap();
        latencies.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let p99 = latencies
        .get(latencies.len().saturating_sub(1) * 99 / 100)
        .copied()
        .unwrap_or_default();
    (latencies.len() as f64 / elapsed, p99, errors)
}

#[tokio::main]
async fn main() {
    let rounds = option("--rounds", 20.0).max(2.0) as u32;
    let secs = option("--secs", 1.0).max(0.1);
    let connections = option("--connections", 16.0).max(1.0) as usize;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream = format!("http://{}/tencent", listener.local_addr().unwrap());
    let app = axum::Router::new().route(
        "/tencent",
        axum::routing::post(|| async { r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}"# }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });

    let common = |extra: &[(&'static str, String)]| {
        let mut vars: HashMap<&'static str, String> = [
            ("TIM_SDKAPPID", APP.to_string()),
            ("TIM_UPSTREAM_URL", upstream.clone()),
            ("TIM_UPSTREAM_SECRET", SECRET.to_owned()),
        ]
        .into_iter()
        .collect();
        vars.extend(extra.iter().cloned());
        vars
    };
    let verified = gateway(common(&[("TIM_CALLBACK_TOKEN", TOKEN.to_owned())])).await;
    // The same gateway, its app's authentication off at (the mock of) Tencent's API.
    let mock = MockApi::start_for(APP, ADMIN, SECRET_KEY, None, false).await;
    let unverified = gateway(common(&[
        ("TIM_SECRET_KEY", SECRET_KEY.to_owned()),
        ("TIM_API_BASE_URL", mock.base_url()),
        ("TIM_ALLOW_UNSIGNED", "1".to_owned()),
        ("TIM_FORWARD_UNVERIFIED", "1".to_owned()),
        (
            "TIM_UPSTREAM_UNVERIFIED_SECRET",
            "whsec_CwsLCwsLCwsLCwsLCwsLCwsLCwsLCwsLCwsLCwsLCws=".to_owned(),
        ),
    ]))
    .await;
    println!(
        "{rounds} rounds × {secs} s per gateway, {connections} keep-alive connections, {} cores",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let (mut with, mut without) = (Vec::new(), Vec::new());
    for round in 1..=rounds {
        let order = if round % 2 == 1 {
            [(false, unverified), (true, verified)]
        } else {
            [(true, verified), (false, unverified)]
        };
        for (verifying, addr) in order {
            let result = drive(addr, secs, connections).await;
            println!(
                "round {round} {:<22} {:>9.0} req/s  p99 {:>7.0} µs  errors {}",
                if verifying {
                    "gateway"
                } else {
                    "verification off"
                },
                result.0,
                result.1.as_secs_f64() * 1e6,
                result.2
            );
            if verifying { &mut with } else { &mut without }.push(result);
        }
    }
    let mean = |v: &[(f64, Duration, u64)]| v.iter().map(|r| r.0).sum::<f64>() / v.len() as f64;
    let p99 = |v: &[(f64, Duration, u64)]| {
        v.iter().map(|r| r.1.as_secs_f64()).sum::<f64>() / v.len() as f64 * 1e6
    };
    let mut ratios: Vec<f64> = with.iter().zip(&without).map(|(w, o)| w.0 / o.0).collect();
    ratios.sort_by(f64::total_cmp);
    println!();
    println!(
        "verification off: {:>9.0} req/s, p99 {:>7.0} µs",
        mean(&without),
        p99(&without)
    );
    println!(
        "gateway:          {:>9.0} req/s, p99 {:>7.0} µs",
        mean(&with),
        p99(&with)
    );
    println!(
        "throughput: {:.1} % of verification off (ratio of the means; per-round median {:.1} %); p99 added: {:.0} µs",
        100.0 * mean(&with) / mean(&without),
        100.0 * ratios[ratios.len() / 2],
        p99(&with) - p99(&without)
    );
    let errors: u64 = with.iter().chain(&without).map(|r| r.2).sum();
    if errors > 0 {
        eprintln!("{errors} requests failed");
        std::process::exit(1);
    }
}
