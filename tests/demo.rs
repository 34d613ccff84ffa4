//! `cargo run --example demo` works: the same scenario, run as a test.

#[path = "../examples/demo.rs"]
mod demo;

#[tokio::test]
async fn demo_scenario_passes_every_case() {
    let cases = demo::scenario().await;
    assert_eq!(cases.len(), 14);
    for case in &cases {
        assert!(
            case.passed(),
            "{}: expected {}, got {}",
            case.name,
            case.expected,
            case.got
        );
    }
}
