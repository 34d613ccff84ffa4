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
    assert!(stdout.contains("14 passed, 0 failed"), "{stdout}");
    assert!(!stdout.contains('✗'), "{stdout}");
}
