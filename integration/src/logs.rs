//! [`Logs`]: what the crate logged while a test ran, captured as the thread's default subscriber.

use std::io::Write;
use std::sync::{Arc, Mutex};

/// Everything logged while it is the thread's default subscriber, at every level from `DEBUG`.
///
/// A thread's default subscriber sees only that thread's events (a current-thread runtime's tasks
/// included), and `tracing` caches each call site's interest process-wide: a test whose lines must
/// not be missed while other tests install their own subscribers runs alone in its binary.
#[derive(Clone, Debug, Default)]
pub struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    /// Makes this capture the thread's default subscriber until the guard is dropped.
    pub fn install(&self) -> tracing::subscriber::DefaultGuard {
        let logs = self.clone();
        tracing::subscriber::set_default(
            tracing_subscriber::fmt()
                .with_max_level(tracing::Level::DEBUG)
                .with_ansi(false)
                .with_writer(move || logs.clone())
                .finish(),
        )
    }

    /// The captured lines.
    pub fn lines(&self) -> Vec<String> {
        String::from_utf8_lossy(&self.0.lock().unwrap())
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// The lines that contain both `level` and `text`.
    pub fn matching(&self, level: &str, text: &str) -> Vec<String> {
        self.lines()
            .into_iter()
            .filter(|l| l.contains(level) && l.contains(text))
            .collect()
    }

    /// How many lines contain both `level` and `text`.
    pub fn count(&self, level: &str, text: &str) -> usize {
        self.matching(level, text).len()
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
