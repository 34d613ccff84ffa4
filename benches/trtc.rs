//! TRTC event verification: ours against a bare HMAC-SHA256 of the same bytes and against a naive
//! implementation (Tencent's sample translated: HMAC keyed per call, base64 into a `String`, `==`,
//! then `serde_json` to read the fields), measured in one run so the ratios hold on a noisy
//! machine.
//!
//! The `trtc_layer` group is the whole accepted request through the layer (a new event each
//! time, so none is a retry the layer answers itself).
//!
//! Run: `cargo bench --bench trtc` (`-- trtc_layer` for the layer alone)

use std::future::Future as _;
use std::hint::black_box;

use base64::Engine as _;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use tim_callback_auth::trtc::{TrtcKey, TrtcKeys, TrtcVerifier};

const KEY: &str = "N4cYbbZ4Ujb5TEnD7eUo";
const APP: u64 = 1_400_000_001;
const TS: u64 = 1_700_000_000_000;

/// A typical 300-byte event (a user entering a room).
fn event() -> String {
    let body = format!(
        r#"{{"EventGroupId":1,"EventType":103,"CallbackTs":{TS},"EventInfo":{{"RoomId":"room-20261128-0001","EventTs":1700000000,"EventMsTs":1700000000000,"UserId":"user_0123456789","UniqueId":1700000000123,"Role":20,"TerminalType":3,"UserType":3,"Reason":1,"Extra":"{}"}}}}"#,
        "x".repeat(34)
    );
    assert!((280..=320).contains(&body.len()), "{}", body.len());
    body
}

/// Tencent's sample, translated: a new HMAC per call, the base64 text compared with `==`, the
/// fields read with a JSON parser.
fn naive_verify(key: &str, sign: &str, body: &[u8], now_ms: u64) -> bool {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(body);
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    if expected != sign {
        return false;
    }
    let value: serde_json::Value = serde_json::from_slice(body).unwrap();
    let ts = value["CallbackTs"].as_u64().unwrap();
    now_ms.abs_diff(ts) <= 600_000
}

fn trtc(c: &mut Criterion) {
    let body = event();
    let key = TrtcKey::new(KEY).unwrap();
    let sign = key.sign(body.as_bytes());
    let keys = TrtcKeys::single(APP, key);
    let mut headers = http::HeaderMap::new();
    headers.insert("SdkAppId", APP.into());
    headers.insert("Sign", sign.parse().unwrap());
    let verifier = TrtcVerifier::new();
    assert!(verifier
        .verify(&keys, &headers, body.as_bytes(), TS)
        .is_ok());
    assert!(naive_verify(KEY, &sign, body.as_bytes(), TS));
    let tampered = body.replace("103", "104");

    let mut group = c.benchmark_group("trtc");
    group.bench_function(BenchmarkId::new("ours", "accept"), |b| {
        b.iter(|| verifier.verify(&keys, black_box(&headers), black_box(body.as_bytes()), TS))
    });
    group.bench_function(BenchmarkId::new("ours", "reject_tampered"), |b| {
        b.iter(|| {
            verifier.verify(
                &keys,
                black_box(&headers),
                black_box(tampered.as_bytes()),
                TS,
            )
        })
    });
    group.bench_function(BenchmarkId::new("naive", "accept"), |b| {
        b.iter(|| naive_verify(KEY, black_box(&sign), black_box(body.as_bytes()), TS))
    });
    // The floor: HMAC-SHA256 of the same bytes, keyed on each call as a plain `Hmac::new` does…
    group.bench_function(BenchmarkId::new("bare_hmac", "keyed_per_call"), |b| {
        b.iter(|| {
            let mut mac = Hmac::<Sha256>::new_from_slice(black_box(KEY.as_bytes())).unwrap();
            mac.update(black_box(body.as_bytes()));
            mac.finalize().into_bytes()
        })
    });
    // …and with the key schedule computed once, as `TrtcKey` does.
    let keyed = Hmac::<Sha256>::new_from_slice(KEY.as_bytes()).unwrap();
    group.bench_function(BenchmarkId::new("bare_hmac", "key_precomputed"), |b| {
        b.iter(|| {
            let mut mac = keyed.clone();
            mac.update(black_box(body.as_bytes()));
            mac.finalize().into_bytes()
        })
    });
    group.finish();
}

/// A new ~300-byte event for each request (so none is a retry the layer answers itself).
fn numbered_event(i: u64) -> String {
    format!(
        r#"{{"EventGroupId":1,"EventType":103,"CallbackTs":{},"EventInfo":{{"RoomId":"room-20261128-0001","EventTs":1700000000,"EventMsTs":1700000000000,"UserId":"user_0123456789","UniqueId":{},"Role":20,"TerminalType":3,"UserType":3,"Reason":1,"Extra":"{}"}}}}"#,
        TS + i % 1000,
        1_700_000_000_000 + i % 1_000_000_000,
        "x".repeat(34)
    )
}

/// The whole accepted request through the layer, as hyper hands it over (headers parsed, the body
/// in one frame): `call`, the body read, verification, the retry memory, the extension, a
/// handler that answers at once. The request is built (and signed) outside the timing.
fn layer(c: &mut Criterion) {
    use bytes::Bytes;
    use http::{Request, Response};
    use http_body_util::Full;
    use std::convert::Infallible;
    use std::task::{Context, Poll, Waker};
    use tim_callback_auth::trtc::{TrtcBody, TrtcCallbackAuthLayer};
    use tower::{Layer as _, Service as _};

    let key = TrtcKey::new(KEY).unwrap();
    let layer = TrtcCallbackAuthLayer::new(TrtcKeys::single(APP, key.clone()))
        .with_clock(|| std::time::UNIX_EPOCH + std::time::Duration::from_millis(TS));
    let mut service = layer.layer(tower::service_fn(|req: Request<TrtcBody>| {
        black_box(&req);
        std::future::ready(Ok::<_, Infallible>(Response::new(String::new())))
    }));
    let mut cx = Context::from_waker(Waker::noop());
    let mut n = 0u64;
    let mut group = c.benchmark_group("trtc_layer");
    group.bench_function("accept", |b| {
        b.iter_batched(
            || {
                n += 1;
                let body = numbered_event(n);
                Request::post("/trtc")
                    .header("SdkAppId", APP)
                    .header("Sign", key.sign(body.as_bytes()))
                    .body(Full::new(Bytes::from(body)))
                    .unwrap()
            },
            |request| {
                assert!(
                    tower::Service::<Request<Full<Bytes>>>::poll_ready(&mut service, &mut cx)
                        .is_ready()
                );
                let mut future = std::pin::pin!(service.call(request));
                match future.as_mut().poll(&mut cx) {
                    Poll::Ready(Ok(response)) => {
                        debug_assert!(response.status().is_success());
                        response
                    }
                    _ => unreachable!("a ready body and handler"),
                }
            },
            criterion::BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, trtc, layer);
criterion_main!(benches);
