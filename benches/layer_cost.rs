//! The layer's cost where users pay it, as paired measurements:
//!
//! 1. **In an axum router**: the time the layer adds to an accepted request (an axum `Router`,
//!    `oneshot` of a signed request) over the same router behind a do-nothing pass-through layer,
//!    in units of one bare SHA-256 block measured in the same round.
//! 2. **Across threads**: how much of the pass-through layer's two-thread speed-up the layer keeps,
//!    each worker thread calling its own clone of the service.
//!
//! Variants: pass-through, the single-app layer with and without the `VerifiedCallback`
//! extension, and the multi-app layer (ten apps).
//!
//! ```sh
//! cargo bench --bench layer_cost                  # 30 rounds
//! cargo bench --bench layer_cost -- --rounds 60 --millis 300
//! ```
//!
//! A measurement program (`bench = false`: plain `cargo bench` skips it). This machine's noise is
//! larger than the effects, so every round measures every variant back to back, in an order that
//! alternates between rounds, and each figure is a mean over rounds of a per-round ratio, with its
//! 95 % confidence interval. The criterion groups of `benches/layer.rs` measure the same services
//! with criterion's statistics, one benchmark after another.

use std::convert::Infallible;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Barrier;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::routing::post;
use axum::Router;
use http::{Request, Response};
use sha2::{Digest, Sha256};
use tim_callback_auth::{
    AppSet, CallbackAuthLayer, CallbackToken, TokenHandle, TokenSnapshot, Verifier,
};
use tower::{Layer, Service, ServiceExt};

const NOW: u64 = 1_700_000_000;
const APP: u64 = 1_400_000_000;

#[derive(Clone, Copy)]
struct PassThrough;

impl<S> Layer<S> for PassThrough {
    type Service = PassThroughService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        PassThroughService(inner)
    }
}

#[derive(Clone)]
struct PassThroughService<S>(S);

impl<S: Service<R>, R> Service<R> for PassThroughService<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.0.poll_ready(cx)
    }
    fn call(&mut self, req: R) -> S::Future {
        self.0.call(req)
    }
}

fn ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

/// Requests per second of `threads` threads, each calling its own clone of `service` for `span`.
fn throughput<S>(service: &S, uri: &str, threads: usize, span: Duration) -> f64
where
    S: Service<Request<()>, Response = Response<()>, Error = Infallible> + Clone + Send,
{
    let stop = AtomicBool::new(false);
    let done = AtomicU64::new(0);
    let barrier = Barrier::new(threads + 1);
    let mut elapsed = Duration::ZERO;
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let mut service = service.clone();
            let (stop, done, barrier) = (&stop, &done, &barrier);
            scope.spawn(move || {
                barrier.wait();
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    for _ in 0..64 {
                        let request = Request::post(uri).body(()).unwrap();
                        let _ = ready(std::future::poll_fn(|cx| service.poll_ready(cx)));
                        let response = ready(service.call(request)).unwrap();
                        assert_eq!(response.status(), 200);
                    }
                    n += 64;
                }
                done.fetch_add(n, Ordering::Relaxed);
            });
        }
        barrier.wait();
        let started = Instant::now();
        std::thread::sleep(span);
        stop.store(true, Ordering::Relaxed);
        elapsed = started.elapsed();
    });
    done.load(Ordering::Relaxed) as f64 / elapsed.as_secs_f64()
}

/// Seconds per request through `app` (one thread, a current-thread runtime), over `n` requests.
fn router_time(runtime: &tokio::runtime::Runtime, app: &Router, uri: &str, n: u32) -> f64 {
    let started = Instant::now();
    for _ in 0..n {
        let request = Request::post(uri).body(Body::empty()).unwrap();
        let response = runtime.block_on(app.clone().oneshot(request)).unwrap();
        assert_eq!(response.status(), 200);
    }
    started.elapsed().as_secs_f64() / f64::from(n)
}

/// Seconds per bare SHA-256 of one block (token ‖ RequestTime, 41 bytes), over `n` digests.
fn sha_time(message: &[u8], n: u32) -> f64 {
    let started = Instant::now();
    for _ in 0..n {
        std::hint::black_box(Sha256::digest(std::hint::black_box(message)));
    }
    started.elapsed().as_secs_f64() / f64::from(n)
}

/// Mean and half-width of the 95 % confidence interval (normal approximation).
fn mean_ci(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, 1.96 * (var / n).sqrt())
}

fn main() {
    let mut rounds = 30;
    let mut millis = 200;
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    for pair in args.chunks(2) {
        match (pair[0].as_str(), pair.get(1).and_then(|v| v.parse().ok())) {
            ("--rounds", Some(v)) if v >= 2 => rounds = v,
            ("--millis", Some(v)) if v >= 10 => millis = v,
            _ => {
                eprintln!("usage: layer_cost [--rounds N] [--millis MS]");
                std::process::exit(2);
            }
        }
    }
    let span = Duration::from_millis(millis);
    let token = CallbackToken::new("bench-callback-token-0123456789").unwrap();
    let uri = format!(
        "/im/callback?SdkAppid={APP}&CallbackCommand=C2C.CallbackAfterSendMsg&contenttype=json\
         &ClientIP=1.2.3.4&OptPlatform=RESTAPI&Sign={}&RequestTime={NOW}",
        token.sign(NOW)
    );
    let handle = || TokenHandle::new(TokenSnapshot::enabled(token.clone()));
    let apps = AppSet::new();
    for id in APP..APP + 10 {
        apps.insert(id, handle());
    }
    let inner =
        tower::service_fn(|_req: Request<()>| async { Ok::<_, Infallible>(Response::new(())) });
    let answer = |_r| Response::new(());
    let single = CallbackAuthLayer::new(handle())
        .with_clock(|| std::time::UNIX_EPOCH + std::time::Duration::from_secs(NOW))
        .with_rejection_response(answer);
    type Measure<'a> = Box<dyn Fn(usize) -> f64 + 'a>;
    let uri = uri.as_str();
    let variants: Vec<(&str, Measure<'_>)> = vec![
        ("pass-through", {
            let s = PassThrough.layer(inner);
            Box::new(move |t| throughput(&s, uri, t, span))
        }),
        ("layer", {
            let s = single.clone().layer(inner);
            Box::new(move |t| throughput(&s, uri, t, span))
        }),
        ("layer, no extension", {
            let s = single.clone().with_verified_extension(false).layer(inner);
            Box::new(move |t| throughput(&s, uri, t, span))
        }),
        ("multi-app layer", {
            let s = CallbackAuthLayer::for_apps(apps.clone())
                .with_clock(|| std::time::UNIX_EPOCH + std::time::Duration::from_secs(NOW))
                .with_rejection_response(answer)
                .layer(inner);
            Box::new(move |t| throughput(&s, uri, t, span))
        }),
    ];
    // 1. In an axum router.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let route = || Router::new().route("/im/callback", post(|| async { "ok" }));
    // The README's single-app setup: the app id checked.
    let routed = CallbackAuthLayer::new(handle())
        .with_verifier(Verifier::new().with_app_id(APP))
        .with_clock(|| std::time::UNIX_EPOCH + std::time::Duration::from_secs(NOW));
    let routers: Vec<(&str, Router)> = vec![
        ("pass-through", route().layer(PassThrough)),
        ("layer", route().layer(routed.clone())),
        (
            "layer, no extension",
            route().layer(routed.with_verified_extension(false)),
        ),
        (
            "multi-app layer",
            route().layer(
                CallbackAuthLayer::for_apps(apps.clone())
                    .with_clock(|| std::time::UNIX_EPOCH + std::time::Duration::from_secs(NOW)),
            ),
        ),
    ];
    let message = format!("bench-callback-token-0123456789{NOW}");
    // Requests per variant and round: about `millis` of the pass-through router.
    let probe = router_time(&runtime, &routers[0].1, uri, 2000);
    let n = ((span.as_secs_f64() / probe) as u32).max(1000);
    let mut costs: Vec<Vec<f64>> = vec![Vec::new(); routers.len()];
    for round in 0..rounds {
        let sha = sha_time(message.as_bytes(), 200_000);
        let mut times = vec![0.0; routers.len()];
        let order: Vec<usize> = if round % 2 == 0 {
            (0..routers.len()).collect()
        } else {
            (0..routers.len()).rev().collect()
        };
        for i in order {
            times[i] = router_time(&runtime, &routers[i].1, uri, n);
        }
        for (i, t) in times.iter().enumerate() {
            costs[i].push((t - times[0]) / sha);
        }
    }
    println!("in an axum router: {rounds} rounds of {n} requests per variant");
    println!(
        "{:<22} {:>40}",
        "variant", "added per request, in SHA-256 blocks (95 % CI)"
    );
    for (i, (name, _)) in routers.iter().enumerate().skip(1) {
        let (mean, half) = mean_ci(&costs[i]);
        println!(
            "{name:<22} {:>22.2} ({:.2}–{:.2})",
            mean,
            mean - half,
            mean + half
        );
    }
    println!();

    // 2. Across threads.
    let mut speedups: Vec<Vec<f64>> = vec![Vec::new(); variants.len()];
    for round in 0..rounds {
        let order: Vec<usize> = if round % 2 == 0 {
            (0..variants.len()).collect()
        } else {
            (0..variants.len()).rev().collect()
        };
        for i in order {
            let one = (variants[i].1)(1);
            let two = (variants[i].1)(2);
            speedups[i].push(two / one);
        }
    }
    println!("across threads: {rounds} rounds of {millis} ms per variant and thread count");
    println!(
        "{:<22} {:>18} {:>34}",
        "variant", "2-thread speed-up", "kept of pass-through's (95 % CI)"
    );
    for (i, (name, _)) in variants.iter().enumerate() {
        let (speedup, _) = mean_ci(&speedups[i]);
        let ratios: Vec<f64> = speedups[i]
            .iter()
            .zip(&speedups[0])
            .map(|(v, p)| v / p)
            .collect();
        let (ratio, half) = mean_ci(&ratios);
        println!(
            "{name:<22} {speedup:>17.3}× {:>17.1} % ({:.1}–{:.1} %)",
            ratio * 100.0,
            (ratio - half) * 100.0,
            (ratio + half) * 100.0
        );
    }
}
