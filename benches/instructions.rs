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
use tim_callback_auth::{CallbackToken, TokenSnapshot, Verifier};

/// The cases, in the order of the table.
const CASES: [&str; 8] = [
    "none",
    "accept",
    "accept_uncached",
    "stale",
    "bad_sign",
    "disabled",
    "naive",
    "bare_sha256",
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

/// The child: `calls` verifications of one kind.
fn run(case: &str, calls: u64) {
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
