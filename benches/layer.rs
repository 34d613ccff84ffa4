//! The layer's cost where users pay it, measured in one run against baselines:
//!
//! - `router`: an axum `Router` in process (`oneshot` of a signed request), with the layer
//!   (single-app, single-app without the `VerifiedCallback` extension, multi-app) and behind a
//!   do-nothing pass-through layer (the baseline), next to one bare SHA-256 block;
//! - `threads`: each of one or two threads calls its own clone of a service (pass-through,
//!   single-app layer, multi-app layer); the two-thread figure is the time per request with both
//!   threads at work, so the speed-up is `1 thread / 2 threads`;
//! - `source`: the source allowlist's cost per request, next to an accepted verification's: the
//!   layer (no extension) with no filter, with a filter on the TCP peer and on `X-Forwarded-For`
//!   behind one proxy (a 64-range list), every request carrying the peer address and the header;
//!   the filter's cost is the difference, compared with `Verifier::verify` of the same request,
//!   with its per-thread digest cache hit (`verify_cached`) and missed (`verify_uncached`).
//!
//! Run: `cargo bench --bench layer` (BENCHMARKS.md has the figures and the ratios).

use std::convert::Infallible;
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::sync::Barrier;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::routing::post;
use axum::Router;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use http::{Request, Response};
use sha2::{Digest, Sha256};
use tim_callback_auth::allowlist::{AllowlistFilter, AllowlistHandle, ClientAddress, IpAllowlist};
use tim_callback_auth::{
    AppSet, CallbackAuthLayer, CallbackToken, TokenHandle, TokenSnapshot, Verifier,
};
use tower::{Layer, Service, ServiceExt};

const NOW: u64 = 1_700_000_000;
const APP: u64 = 1_400_000_000;
const TOKEN: &str = "bench-callback-token-0123456789";

/// A layer that does nothing but wrap: the same service indirection, no work.
#[derive(Clone, Copy, Debug)]
struct PassThrough;

impl<S> Layer<S> for PassThrough {
    type Service = PassThroughService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        PassThroughService(inner)
    }
}

#[derive(Clone, Debug)]
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

fn uri(token: &CallbackToken) -> String {
    format!(
        "/im/callback?SdkAppid={APP}&CallbackCommand=C2C.CallbackAfterSendMsg&contenttype=json\
         &ClientIP=1.2.3.4&OptPlatform=RESTAPI&Sign={}&RequestTime={NOW}",
        token.sign(NOW)
    )
}

fn handle(token: &CallbackToken) -> TokenHandle {
    TokenHandle::new(TokenSnapshot::enabled(token.clone()))
}

fn apps(token: &CallbackToken) -> AppSet {
    let apps = AppSet::new();
    for id in APP..APP + 10 {
        apps.insert(id, handle(token));
    }
    apps
}

fn route() -> Router {
    Router::new().route("/im/callback", post(|| async { "ok" }))
}

fn router_cases(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let token = CallbackToken::new(TOKEN).unwrap();
    let uri = uri(&token);
    let layer = CallbackAuthLayer::new(handle(&token))
        .with_clock(|| std::time::UNIX_EPOCH + std::time::Duration::from_secs(NOW));
    let cases: [(&str, Router); 4] = [
        ("pass_through", route().layer(PassThrough)),
        ("layer", route().layer(layer.clone())),
        (
            "layer_without_extension",
            route().layer(layer.with_verified_extension(false)),
        ),
        (
            "layer_apps",
            route().layer(
                CallbackAuthLayer::for_apps(apps(&token))
                    .with_clock(|| std::time::UNIX_EPOCH + std::time::Duration::from_secs(NOW)),
            ),
        ),
    ];
    let mut group = c.benchmark_group("router");
    let block = format!("{TOKEN}{NOW}");
    group.bench_function(BenchmarkId::new("bare_sha256", "one_block"), |b| {
        b.iter(|| Sha256::digest(black_box(block.as_bytes())))
    });
    for (name, app) in cases {
        group.bench_function(BenchmarkId::new(name, "accept"), |b| {
            b.iter(|| {
                let request = Request::post(uri.as_str()).body(Body::empty()).unwrap();
                let response = runtime.block_on(app.clone().oneshot(request)).unwrap();
                assert_eq!(response.status(), 200);
                response
            })
        });
    }
    group.finish();
}

/// Polls a future that never waits (the services here are synchronous inside).
fn ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

/// `iters` calls on each of `threads` threads, each with its own clone of `service`, started
/// together; returns the wall time divided by `threads` (the time per request of the pool).
fn run_threads<S>(service: &S, uri: &str, threads: u32, iters: u64) -> Duration
where
    S: Service<Request<()>, Response = Response<()>, Error = Infallible> + Clone + Send,
    S::Future: Send,
{
    let barrier = Barrier::new(threads as usize + 1);
    let mut started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let mut service = service.clone();
            let barrier = &barrier;
            scope.spawn(move || {
                barrier.wait();
                for _ in 0..iters {
                    let request = Request::post(uri).body(()).unwrap();
                    let _ = ready(std::future::poll_fn(|cx| service.poll_ready(cx)));
                    let response = ready(service.call(request)).unwrap();
                    assert_eq!(response.status(), 200);
                }
            });
        }
        barrier.wait();
        started = Instant::now();
    });
    started.elapsed() / threads
}

fn thread_cases(c: &mut Criterion) {
    let token = CallbackToken::new(TOKEN).unwrap();
    let uri = uri(&token);
    let inner =
        tower::service_fn(|_req: Request<()>| async { Ok::<_, Infallible>(Response::new(())) });
    let no_response = |_r| Response::new(());
    let single = CallbackAuthLayer::new(handle(&token))
        .with_clock(|| std::time::UNIX_EPOCH + std::time::Duration::from_secs(NOW))
        .with_rejection_response(no_response)
        .layer(inner);
    let bare = CallbackAuthLayer::new(handle(&token))
        .with_clock(|| std::time::UNIX_EPOCH + std::time::Duration::from_secs(NOW))
        .with_rejection_response(no_response)
        .with_verified_extension(false)
        .layer(inner);
    let multi = CallbackAuthLayer::for_apps(apps(&token))
        .with_clock(|| std::time::UNIX_EPOCH + std::time::Duration::from_secs(NOW))
        .with_rejection_response(no_response)
        .layer(inner);
    let pass = PassThrough.layer(inner);
    let mut group = c.benchmark_group("threads");
    for threads in [1, 2] {
        let id = |name: &str| BenchmarkId::new(name, format!("{threads}_threads"));
        group.bench_function(id("pass_through"), |b| {
            b.iter_custom(|iters| run_threads(&pass, &uri, threads, iters))
        });
        group.bench_function(id("layer"), |b| {
            b.iter_custom(|iters| run_threads(&single, &uri, threads, iters))
        });
        group.bench_function(id("layer_without_extension"), |b| {
            b.iter_custom(|iters| run_threads(&bare, &uri, threads, iters))
        });
        group.bench_function(id("layer_apps"), |b| {
            b.iter_custom(|iters| run_threads(&multi, &uri, threads, iters))
        });
    }
    group.finish();
}

/// A list the size of a real one: 60 IPv4 ranges and 4 IPv6 ranges, none adjacent.
fn list() -> IpAllowlist {
    let v4 = (0..60).map(|i| format!("{}.{}.0.0/20", 20 + i, 7 * i % 250));
    let v6 = (0..4).map(|i| format!("2402:4e{i:02x}::/32"));
    IpAllowlist::new(v4.chain(v6)).unwrap()
}

fn source_cases(c: &mut Criterion) {
    let token = CallbackToken::new(TOKEN).unwrap();
    let snapshot = TokenSnapshot::enabled(token.clone());
    let verifier = Verifier::new();
    let uris = [
        uri(&token),
        uri(&token)
            .replace(&token.sign(NOW), &token.sign(NOW + 1))
            .replace(
                &format!("RequestTime={NOW}"),
                &format!("RequestTime={}", NOW + 1),
            ),
    ];
    let queries = uris
        .clone()
        .map(|u| u.split_once('?').unwrap().1.to_string());
    // The peer is a proxy in 10.0.0.0/8; the address before it is in the list.
    let peer: std::net::SocketAddr = "10.1.2.3:40000".parse().unwrap();
    let forwarded = "198.51.100.9, 59.23.3.4";
    let allowed = list();
    assert!(allowed.contains("59.23.3.4".parse().unwrap()));
    let peer_list = IpAllowlist::new(allowed.ranges().chain(["10.0.0.0/8".to_string()])).unwrap();
    let inner =
        tower::service_fn(|_req: Request<()>| async { Ok::<_, Infallible>(Response::new(())) });
    let layer = CallbackAuthLayer::new(handle(&token))
        .with_clock(|| std::time::UNIX_EPOCH + std::time::Duration::from_secs(NOW))
        .with_rejection_response(|_r| Response::new(()))
        .with_verified_extension(false);
    let mut cases = [
        ("layer_no_filter", layer.clone().layer(inner)),
        (
            "layer_peer_filter",
            layer
                .clone()
                .with_allowlist(AllowlistFilter::new(
                    AllowlistHandle::new(peer_list.clone()),
                    ClientAddress::peer(),
                ))
                .layer(inner),
        ),
        (
            "layer_forwarded_filter",
            layer
                .with_allowlist(AllowlistFilter::new(
                    AllowlistHandle::new(allowed.clone()),
                    ClientAddress::x_forwarded_for(1),
                ))
                .layer(inner),
        ),
    ];
    let mut group = c.benchmark_group("source");
    let mut request = Request::post(uris[0].as_str())
        .header("x-forwarded-for", forwarded)
        .body(())
        .unwrap();
    request.extensions_mut().insert(peer);
    let filters = [
        (
            "check_peer",
            AllowlistFilter::new(
                AllowlistHandle::new(peer_list.clone()),
                ClientAddress::peer(),
            ),
        ),
        (
            "check_forwarded",
            AllowlistFilter::new(
                AllowlistHandle::new(allowed.clone()),
                ClientAddress::x_forwarded_for(1),
            ),
        ),
    ];
    // Its parts: finding the address, and searching the list.
    for (name, address) in [
        ("address_peer", ClientAddress::peer()),
        ("address_forwarded", ClientAddress::x_forwarded_for(1)),
    ] {
        group.bench_function(BenchmarkId::new(name, "found"), |b| {
            b.iter(|| address.of(black_box(&request)))
        });
    }
    let ip: std::net::IpAddr = "59.23.3.4".parse().unwrap();
    group.bench_function(BenchmarkId::new("list_contains", "64_ranges"), |b| {
        b.iter(|| allowed.contains(black_box(ip)))
    });
    for (name, filter) in &filters {
        group.bench_function(BenchmarkId::new(*name, "allowed"), |b| {
            b.iter(|| filter.check(black_box(&request)))
        });
    }
    group.bench_function(BenchmarkId::new("verify_cached", "accept"), |b| {
        b.iter(|| verifier.verify(black_box(&snapshot), black_box(&queries[0]), NOW))
    });
    group.bench_function(BenchmarkId::new("verify_uncached", "accept"), |b| {
        let mut i = 0;
        b.iter(|| {
            i ^= 1;
            verifier.verify(black_box(&snapshot), black_box(&queries[i]), NOW)
        })
    });
    for (name, service) in &mut cases {
        for (cache, alternate) in [("cached", false), ("uncached", true)] {
            group.bench_function(BenchmarkId::new(*name, cache), |b| {
                let mut i = 0;
                b.iter_batched(
                    || {
                        if alternate {
                            i ^= 1;
                        }
                        let mut request = Request::post(uris[i].as_str())
                            .header("x-forwarded-for", forwarded)
                            .body(())
                            .unwrap();
                        request.extensions_mut().insert(peer);
                        request
                    },
                    |request| {
                        let response = ready(service.call(request)).unwrap();
                        assert!(response
                            .extensions()
                            .get::<tim_callback_auth::Rejection>()
                            .is_none());
                        response
                    },
                    criterion::BatchSize::SmallInput,
                )
            });
        }
    }
    group.finish();
}

criterion_group!(benches, router_cases, thread_cases, source_cases);
criterion_main!(benches);
