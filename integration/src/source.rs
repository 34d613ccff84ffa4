//! [`Changing`]: a refresher's source whose value a test changes.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tim_callback_auth::refresh::Source;
use tim_callback_auth::Error;

/// A source whose value the test changes; counts its fetches. Cloning shares the value and the
/// count; the count's `Arc` also tells when the task (which owns one clone) is gone.
#[derive(Clone, Debug)]
pub struct Changing<T> {
    value: Arc<Mutex<T>>,
    fetches: Arc<AtomicUsize>,
}

impl<T> Changing<T> {
    /// A source that answers `value`.
    pub fn new(value: T) -> Self {
        Self {
            value: Arc::new(Mutex::new(value)),
            fetches: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Answers `value` from the next fetch on.
    pub fn set(&self, value: T) {
        *self.value.lock().unwrap() = value;
    }

    /// How many fetches were made.
    pub fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }

    /// Whether a clone other than this one is alive (the task's).
    pub fn task_alive(&self) -> bool {
        Arc::strong_count(&self.fetches) > 1
    }
}

impl<T: Clone + Send + Sync + 'static> Source<T> for Changing<T> {
    async fn fetch(&self) -> Result<T, Error> {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        Ok(self.value.lock().unwrap().clone())
    }
}
