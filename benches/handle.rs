//! `TokenHandle::load` uncontended, and while another thread stores new snapshots continuously
//! (a far higher write rate than any refresher produces).
//!
//! Run: `cargo bench --bench handle`

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use tim_callback_auth::{CallbackToken, TokenHandle, TokenSnapshot};

fn snapshot(i: u32) -> TokenSnapshot {
    TokenSnapshot::enabled(CallbackToken::new(&format!("token-{i}")).unwrap())
}

fn load(c: &mut Criterion) {
    let mut group = c.benchmark_group("handle");
    let handle = TokenHandle::new(snapshot(0));
    group.bench_function(BenchmarkId::new("load", "uncontended"), |b| {
        b.iter(|| black_box(handle.load()))
    });

    for (label, pause) in [
        ("writer_1000_per_s", Some(Duration::from_millis(1))),
        ("writer_flat_out", None),
    ] {
        let stop = Arc::new(AtomicBool::new(false));
        let writer = {
            let handle = handle.clone();
            let stop = Arc::clone(&stop);
            // Snapshots are built ahead so the writer thread measures stores, not token setup.
            let prepared: Vec<TokenSnapshot> = (0..64).map(snapshot).collect();
            thread::spawn(move || {
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    handle.store(prepared[i % prepared.len()].clone());
                    i += 1;
                    if let Some(pause) = pause {
                        thread::sleep(pause);
                    }
                }
            })
        };
        group.bench_function(BenchmarkId::new("load", label), |b| {
            b.iter(|| black_box(handle.load()))
        });
        stop.store(true, Ordering::Relaxed);
        writer.join().unwrap();
    }
    group.finish();
}

criterion_group!(benches, load);
criterion_main!(benches);
