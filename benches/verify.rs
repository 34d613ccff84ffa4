//! Verification cost: ours against a naive implementation and a bare SHA-256 of the same bytes,
//! measured in one run so the ratios hold on a noisy machine.
//!
//! Run: `cargo bench --bench verify` (the layer's own cost: `cargo bench --bench layer`)

use std::hint::black_box;

mod support;
use support::{naive_verify, query, NOW, TOKEN};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use sha2::{Digest, Sha256};
use tim_callback_auth::{CallbackToken, TokenSnapshot, Verifier};

fn verify(c: &mut Criterion) {
    let token = CallbackToken::new(TOKEN).unwrap();
    let snapshot = TokenSnapshot::enabled(token.clone());
    let verifier = Verifier::new().with_app_id(1_400_000_000);
    let good = query(&token.sign(NOW), NOW);
    let bad = query(&"0".repeat(64), NOW);
    let stale = query(&token.sign(NOW - 3600), NOW - 3600);
    let unsigned = "SdkAppid=1400000000&CallbackCommand=C2C.CallbackAfterSendMsg&contenttype=json";
    let message = format!("{TOKEN}{NOW}");

    let mut group = c.benchmark_group("verify");
    group.bench_function(BenchmarkId::new("ours", "accept"), |b| {
        b.iter(|| verifier.verify(black_box(&snapshot), black_box(&good), black_box(NOW)))
    });
    // Two requests from different seconds, alternating: every call misses the per-thread cache of
    // the last digest, so this is the cost of the first callback of each second.
    let other_second = query(&token.sign(NOW + 1), NOW + 1);
    let alternating = [good.as_str(), other_second.as_str()];
    group.bench_function(BenchmarkId::new("ours", "accept_uncached"), |b| {
        let mut i = 0;
        b.iter(|| {
            i ^= 1;
            verifier.verify(
                black_box(&snapshot),
                black_box(alternating[i]),
                black_box(NOW),
            )
        })
    });
    group.bench_function(BenchmarkId::new("naive", "accept"), |b| {
        b.iter(|| naive_verify(black_box(TOKEN), black_box(&good), black_box(NOW)))
    });
    group.bench_function(BenchmarkId::new("bare_sha256", "token+time"), |b| {
        b.iter(|| Sha256::digest(black_box(message.as_bytes())))
    });
    group.bench_function(BenchmarkId::new("ours", "reject_bad_sign"), |b| {
        b.iter(|| verifier.verify(black_box(&snapshot), black_box(&bad), black_box(NOW)))
    });
    group.bench_function(BenchmarkId::new("ours", "reject_stale"), |b| {
        b.iter(|| verifier.verify(black_box(&snapshot), black_box(&stale), black_box(NOW)))
    });
    group.bench_function(BenchmarkId::new("ours", "disabled"), |b| {
        let disabled = TokenSnapshot::disabled();
        b.iter(|| verifier.verify(black_box(&disabled), black_box(unsigned), black_box(NOW)))
    });
    group.finish();
}

criterion_group!(benches, verify);
criterion_main!(benches);
