//! What the application's tests share: the log capture.

use std::io::Write;
use std::sync::{Arc, Mutex};

/// Every line a `tracing` subscriber writes, kept in memory (clones share it).
#[derive(Clone, Default)]
pub(crate) struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    /// A plain-text subscriber (no colours) at `level` writing here.
    pub(crate) fn subscriber(
        &self,
        level: tracing::Level,
    ) -> impl tracing::Subscriber + Send + Sync {
        let writer = self.clone();
        tracing_subscriber::fmt()
            .with_max_level(level)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish()
    }

    /// Everything written so far.
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
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

/// What `f` returns, and everything logged (with this thread's default subscriber at `level`)
/// while it runs.
#[allow(dead_code)] // not every test file uses both
pub(crate) fn logs_of<T>(level: tracing::Level, f: impl FnOnce() -> T) -> (T, String) {
    let logs = Logs::default();
    let result = tracing::subscriber::with_default(logs.subscriber(level), f);
    (result, logs.text())
}
