//! A refresher whose runtime ends: its handles say stopped, keep the last token, and one `WARN`
//! line says so. Alone in its test binary: the log capture is a thread's default subscriber, and
//! `tracing` caches each call site's interest process-wide, so a test running beside others that
//! install and drop their own subscribers can miss its lines.

use tim_callback_auth::refresh::TokenRefresher;
use tim_callback_auth::{CallbackToken, TokenSnapshot};
use tim_callback_integration::logs::Logs;
use tim_callback_integration::source::Changing;

const APP: u64 = 1400000000;

fn token(t: &str) -> CallbackToken {
    CallbackToken::new(t).unwrap()
}

#[test]
fn a_task_ended_by_the_runtime_marks_its_handles_stopped() {
    let logs = Logs::default();
    let _guard = logs.install();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let source = Changing::new(TokenSnapshot::enabled(token(
        "a-token-outliving-its-runtime",
    )));
    let handle = runtime.block_on(async {
        TokenRefresher::builder(source.clone())
            .app_id(APP)
            .start()
            .await
            .unwrap()
            .handle()
    });
    assert!(!handle.status().unwrap().is_stopped());
    drop(runtime);
    assert!(handle.status().unwrap().is_stopped());
    assert!(
        handle.load().unwrap().is_enabled(),
        "the last token is kept"
    );
    assert_eq!(
        logs.matching("WARN", "refresher task ended").len(),
        1,
        "{:#?}",
        logs.lines()
    );
    assert!(!source.task_alive());
}
