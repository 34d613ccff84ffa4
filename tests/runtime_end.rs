//! A refresher whose runtime ends: its handles say stopped, keep the last token, and one `WARN`
//! line says so. Alone in its test binary: the log capture is a thread's default subscriber, and
//! `tracing` caches each call site's interest process-wide, so a test running beside others that
//! install and drop their own subscribers can miss its lines.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tim_callback_auth::refresh::{Source, TokenRefresher};
use tim_callback_auth::{CallbackToken, Error, TokenSnapshot};

const APP: u64 = 1400000000;

fn token(t: &str) -> CallbackToken {
    CallbackToken::new(t).unwrap()
}

/// A fixed source that counts its clones: the task owns one.
#[derive(Clone)]
struct Changing<T> {
    value: Arc<Mutex<T>>,
    fetches: Arc<AtomicUsize>,
}

impl<T> Changing<T> {
    fn new(value: T) -> Self {
        Self {
            value: Arc::new(Mutex::new(value)),
            fetches: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Whether a clone other than this one is alive (the task's).
    fn task_alive(&self) -> bool {
        Arc::strong_count(&self.fetches) > 1
    }
}

impl<T: Clone + Send + Sync + 'static> Source<T> for Changing<T> {
    async fn fetch(&self) -> Result<T, Error> {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        Ok(self.value.lock().unwrap().clone())
    }
}

/// Everything logged while it is the thread's default subscriber.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    fn install(&self) -> tracing::subscriber::DefaultGuard {
        let logs = self.clone();
        tracing::subscriber::set_default(
            tracing_subscriber::fmt()
                .with_max_level(tracing::Level::DEBUG)
                .with_ansi(false)
                .with_writer(move || logs.clone())
                .finish(),
        )
    }

    fn lines(&self) -> Vec<String> {
        String::from_utf8_lossy(&self.0.lock().unwrap())
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn matching(&self, level: &str, text: &str) -> Vec<String> {
        self.lines()
            .into_iter()
            .filter(|l| l.contains(level) && l.contains(text))
            .collect()
    }
}

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
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
