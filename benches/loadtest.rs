//! End-to-end throughput: the same axum server with and without the layer, on loopback, driven by
//! keep-alive POSTs that carry signed queries. The two servers alternate over several rounds so that
//! machine noise hits both alike; it reports requests/s and p99 latency for each, and the ratio.
//!
//! ```sh
//! cargo bench --bench loadtest                   # 40 rounds × 2 servers × 0.5 s
//! cargo bench --bench loadtest -- --rounds 20 --secs 2 --connections 32
//! ```
//!
//! A measurement program, not a criterion benchmark (`bench = false`: plain `cargo bench` skips
//! it); see BENCHMARKS.md.
//!
//! Each round measures both servers back to back (in alternating order), so drift between rounds
//! hits both alike; the headline figure is the mean of the per-round ratios with its 95 %
//! confidence interval, next to their median and the ratio of the overall means.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::routing::post;
use axum::Router;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tim_callback_auth::{CallbackAuthLayer, CallbackToken, TokenHandle, TokenSnapshot, Verifier};

const TENCENT_OK: &str = r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}"#;
const BODY: &str = r#"{"CallbackCommand":"C2C.CallbackAfterSendMsg","From_Account":"alice","To_Account":"bob","MsgSeq":1,"MsgRandom":2,"MsgTime":1700000000,"MsgKey":"1_2_3","MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hello"}}]}"#;

struct Options {
    rounds: u32,
    secs: f64,
    connections: usize,
}

fn options() -> Options {
    let mut o = Options {
        rounds: 40,
        secs: 0.5,
        connections: 16,
    };
    // `cargo bench` passes `--bench`; it carries no value.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    for pair in args.chunks(2) {
        let value = pair.get(1).and_then(|v| v.parse::<f64>().ok());
        match (pair[0].as_str(), value) {
            ("--rounds", Some(v)) if v >= 2.0 => o.rounds = v as u32,
            ("--secs", Some(v)) if v >= 0.1 => o.secs = v,
            ("--connections", Some(v)) if v >= 1.0 => o.connections = v as usize,
            _ => {
                eprintln!("usage: loadtest [--rounds N] [--secs S] [--connections C]");
                std::process::exit(2);
            }
        }
    }
    o
}

async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Drives `addr` for `secs` with `connections` concurrent keep-alive clients.
/// Returns (requests/s, p99 latency, errors).
async fn drive(addr: SocketAddr, token: &CallbackToken, o: &Options) -> (f64, Duration, u64) {
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(o.connections)
        .build_http();
    let deadline = Instant::now() + Duration::from_secs_f64(o.secs);
    let token = Arc::new(token.clone());
    let started = Instant::now();
    let workers: Vec<_> = (0..o.connections)
        .map(|_| {
            let client = client.clone();
            let token = Arc::clone(&token);
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(100_000);
                let mut errors = 0u64;
                while Instant::now() < deadline {
                    let t = now();
                    let uri = format!(
                        "http://{addr}/im/callback?SdkAppid=1400000000&CallbackCommand=C2C.CallbackAfterSendMsg&contenttype=json&ClientIP=1.2.3.4&OptPlatform=RESTAPI&Sign={}&RequestTime={t}",
                        token.sign(t)
                    );
                    let request = http::Request::post(uri)
                        .header("content-type", "application/json")
                        .body(Full::new(Bytes::from_static(BODY.as_bytes())))
                        .expect("valid request");
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
    let mut latencies = Vec::new();
    let mut errors = 0;
    for worker in workers {
        let (l, e) = worker.await.expect("worker");
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
    let o = options();
    let token = CallbackToken::new("loadtest-token").expect("valid token");
    let handler = || async { TENCENT_OK };
    let plain = serve(Router::new().route("/im/callback", post(handler))).await;
    let guarded = serve(
        Router::new().route("/im/callback", post(handler)).layer(
            CallbackAuthLayer::new(TokenHandle::new(TokenSnapshot::enabled(token.clone())))
                .with_verifier(Verifier::new().with_app_id(1400000000)),
        ),
    )
    .await;
    println!(
        "{} rounds × {} s per server, {} keep-alive connections, {} cores",
        o.rounds,
        o.secs,
        o.connections,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let (mut with, mut without) = (Vec::new(), Vec::new());
    for round in 1..=o.rounds {
        // Alternate which server goes first.
        let order: [(bool, SocketAddr); 2] = if round % 2 == 1 {
            [(false, plain), (true, guarded)]
        } else {
            [(true, guarded), (false, plain)]
        };
        for (layered, addr) in order {
            let (rps, p99, errors) = drive(addr, &token, &o).await;
            println!(
                "round {round} {:<14} {rps:>10.0} req/s  p99 {:>7.1} µs  errors {errors}",
                if layered {
                    "with layer"
                } else {
                    "without layer"
                },
                p99.as_secs_f64() * 1e6
            );
            if layered { &mut with } else { &mut without }.push((rps, p99, errors));
        }
    }
    let mean = |v: &[(f64, Duration, u64)]| v.iter().map(|r| r.0).sum::<f64>() / v.len() as f64;
    let p99 = |v: &[(f64, Duration, u64)]| {
        v.iter().map(|r| r.1.as_secs_f64()).sum::<f64>() / v.len() as f64 * 1e6
    };
    let errors: u64 = with.iter().chain(&without).map(|r| r.2).sum();
    println!();
    println!(
        "without layer: {:>10.0} req/s, p99 {:>7.1} µs",
        mean(&without),
        p99(&without)
    );
    println!(
        "with layer:    {:>10.0} req/s, p99 {:>7.1} µs",
        mean(&with),
        p99(&with)
    );
    let mut ratios: Vec<f64> = with.iter().zip(&without).map(|(w, o)| w.0 / o.0).collect();
    ratios.sort_by(f64::total_cmp);
    let median = ratios[ratios.len() / 2];
    let n = ratios.len() as f64;
    let paired_mean = ratios.iter().sum::<f64>() / n;
    let variance = ratios
        .iter()
        .map(|r| (r - paired_mean).powi(2))
        .sum::<f64>()
        / (n - 1.0).max(1.0);
    // Normal approximation; with 20 rounds Student's t (2.09) would widen it by 7 %.
    let half_width = 1.96 * (variance / n).sqrt();
    println!(
        "throughput ratio of the means (with / without): {:.1} %",
        100.0 * mean(&with) / mean(&without)
    );
    println!(
        "per-round ratios (with / without): mean {:.1} % (95 % CI {:.1}–{:.1} %), median {:.1} %",
        100.0 * paired_mean,
        100.0 * (paired_mean - half_width),
        100.0 * (paired_mean + half_width),
        100.0 * median
    );
    if errors > 0 {
        eprintln!("{errors} requests failed");
        std::process::exit(1);
    }
}
