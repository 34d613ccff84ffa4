//! Instruction counts of the typed parse and the dispatch, with callgrind: stable on noisy
//! machines, unlike timings (the criterion bench `events` has the timings).
//!
//! ```sh
//! cargo bench -p tim-callback-events --bench instructions   # 100,000 calls a case, a table
//! ```
//!
//! A measurement program (`bench = false`): it runs itself once per case under
//! `valgrind --tool=callgrind` (valgrind must be installed) and prints instructions per call:
//! (Collected(case) − Collected(`none`)) / calls.

use std::hint::black_box;
use std::pin::pin;
use std::process::Command;
use std::task::{Context, Poll, Waker};

use http::Request;
use tim_callback_auth::{TokenSnapshot, VerifiedCallback, Verifier};
use tim_callback_events::chat::c2c::C2cBeforeSendMsg;
use tim_callback_events::{from_slice, CallbackReply, Router, Verdict};
use tower::Service as _;

const CASE_VAR: &str = "EVENTS_INSTRUCTIONS_CASE";
/// `typed` and `serde_json_value` parse the same ~400-byte body; `router` is a request through
/// the `Router` and `direct` the same handler called on the parsed body (both build the request).
const CASES: [&str; 5] = ["none", "typed", "serde_json_value", "router", "direct"];
const BODY: &str = r#"{"CallbackCommand":"C2C.CallbackBeforeSendMsg","From_Account":"user_01234","To_Account":"user_98765","MsgSeq":48374,"MsgRandom":2837546,"MsgTime":1700000000,"MsgKey":"48374_2837546_1700000000","OnlineOnlyFlag":0,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"Still on for tonight?"}},{"MsgType":"TIMTextElem","MsgContent":{"Text":"I will bring the documents."}}],"CloudCustomData":"{\"client\":\"ios\",\"v\":3}","EventTime":1700000000123}"#;
const URI: &str = "/im/callback?SdkAppid=1400000001&CallbackCommand=C2C.CallbackBeforeSendMsg&contenttype=json&ClientIP=127.0.0.1&OptPlatform=iOS";

async fn handler(
    event: C2cBeforeSendMsg,
    _verified: VerifiedCallback,
) -> Verdict<C2cBeforeSendMsg> {
    if event
        .msg_body
        .iter()
        .any(|e| e.as_text().is_some_and(|t| t.contains("casino")))
    {
        Verdict::forbid()
    } else {
        Verdict::allow()
    }
}

fn now<F: std::future::Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => unreachable!("an in-memory request does not wait"),
    }
}

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
    println!("{:<18} {:>12}", "case", "instr./call");
    for case in &CASES[1..] {
        let per_call = (collected(case).saturating_sub(base)) as f64 / calls as f64;
        println!("{case:<18} {per_call:>12.0}");
    }
}

fn run(case: &str, calls: u64) {
    let bytes = BODY.as_bytes();
    let verified = Verifier::new()
        .verify(&TokenSnapshot::disabled(), "SdkAppid=1400000001", 0)
        .unwrap();
    let mut router = Router::new().on(handler);
    let request = || {
        let mut request = Request::post(URI).body(BODY.to_owned()).unwrap();
        request.extensions_mut().insert(verified);
        request
    };
    for _ in 0..calls {
        match case {
            "none" => {
                black_box(bytes);
            }
            "typed" => drop(black_box(
                from_slice::<C2cBeforeSendMsg>(black_box(bytes)).unwrap(),
            )),
            "serde_json_value" => drop(black_box(
                serde_json::from_slice::<serde_json::Value>(black_box(bytes)).unwrap(),
            )),
            "router" => drop(black_box(now(router.call(black_box(request()))).unwrap())),
            "direct" => {
                let request = black_box(request());
                let event = from_slice::<C2cBeforeSendMsg>(request.body().as_bytes()).unwrap();
                let verified = *request.extensions().get::<VerifiedCallback>().unwrap();
                drop(black_box(http::Response::new(
                    now(handler(event, verified)).to_json(),
                )));
            }
            other => panic!("unknown case {other}"),
        }
    }
}
