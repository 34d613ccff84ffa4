//! `cargo run --example demo` works: the demo binary, run as a newcomer runs it, passes every case.

#[test]
fn the_demo_passes_every_case() {
    let mut exe = std::env::current_exe().unwrap();
    exe.pop();
    if exe.ends_with("deps") {
        exe.pop();
    }
    let demo = exe.join("examples").join("demo");
    assert!(demo.exists(), "{} is not built", demo.display());
    let output = std::process::Command::new(demo)
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("19 passed, 0 failed"), "{stdout}");
    assert!(!stdout.contains('✗'), "{stdout}");
    // It teaches: where things listen, the token it fetched, why each request was refused, the
    // crate's own log lines (and not the HTTP stack's), and what to try next.
    for needle in [
        "mock Tencent API:  http://127.0.0.1:",
        "callback endpoint: http://127.0.0.1:",
        "token fetched from the mock: fingerprint ",
        "signature_mismatch",
        "expired",
        "disguised_parameter",
        "source_not_allowed",
        "source allowlist from the mock's GetIPList: 2 entries",
        "callback token rotated",
        "trtc endpoint:     http://127.0.0.1:",
        "trtc events: 1 accepted, 1 rejected, 1 retries answered without the handler",
        r#"moderation: "meet me at the casino tonight" -> {"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"meet me at the ****** tonight"}}]}"#,
        "Next: run the example server",
        "cargo run --example send_callback",
    ] {
        assert!(stdout.contains(needle), "{needle} missing from:\n{stdout}");
    }
    // The stale request is an hour old when sent; the layer reads its clock a moment later,
    // possibly in the next second.
    assert!(
        stdout.contains("skew_secs=-3600") || stdout.contains("skew_secs=-3601"),
        "the skew of the stale request is missing from:\n{stdout}"
    );
    assert!(
        !stdout.contains("hyper_util"),
        "no connection-pool chatter:\n{stdout}"
    );
}

/// `cargo run --example gateway_demo` works: forwarded and verified by the backend's Standard
/// Webhooks library, a forgery refused, a slow backend answered by the fallback in time.
#[test]
fn the_gateway_demo_passes_every_case() {
    let mut exe = std::env::current_exe().unwrap();
    exe.pop();
    if exe.ends_with("deps") {
        exe.pop();
    }
    let demo = exe.join("examples").join("gateway_demo");
    assert!(demo.exists(), "{} is not built", demo.display());
    let output = std::process::Command::new(demo).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    for needle in [
        "3 passed, 0 failed",
        "the backend saw: signature verified, sign C2C.CallbackBeforeSendMsg, id msg_",
        "a forgery is refused: 401, the backend saw nothing",
        r#"a slow backend gets the fallback in time: 200 {"ActionStatus":"OK","ErrorInfo":"","ErrorCode":1}"#,
    ] {
        assert!(stdout.contains(needle), "{needle} missing from:\n{stdout}");
    }
    assert!(
        !stdout.contains("Sign=") && !stdout.contains('✗'),
        "{stdout}"
    );
}
