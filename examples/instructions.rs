//! A fixed number of verifications of one kind, for instruction counting with callgrind (stable on
//! noisy machines, unlike timings):
//!
//! ```sh
//! cargo build --release --example instructions
//! for case in none accept accept_uncached stale bad_sign disabled naive bare_sha256; do
//!   valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/examples/instructions $case 100000 2>&1 | grep Collected
//! done
//! ```
//!
//! Instructions per call = (Collected(case) − Collected(none)) / 100000.

use std::hint::black_box;

#[path = "../benches/support/naive.rs"]
mod naive;
use naive::{naive_verify, query, NOW, TOKEN};

use sha2::{Digest, Sha256};
use tim_callback_auth::{CallbackToken, TokenSnapshot, Verifier};

fn main() {
    let mut args = std::env::args().skip(1);
    let case = args.next().unwrap_or_else(|| "accept".into());
    let n: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(100_000);
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
    for i in 0..n {
        let ok = match case.as_str() {
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
                eprintln!("unknown case {other}");
                std::process::exit(2);
            }
        };
        accepted += u64::from(ok);
    }
    println!("{case}: {accepted} of {n} accepted");
}
