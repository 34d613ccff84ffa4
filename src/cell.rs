//! [`Cell`]: the one shared cell behind [`TokenHandle`](crate::TokenHandle) and
//! [`AllowlistHandle`](crate::allowlist::AllowlistHandle).
//!
//! An arc-swap slot for the current value, and (with the `refresh` feature) the link to the
//! refresher that writes it: its status, its refresh-on-miss channel, whether it still runs. Every
//! handle holds the cell by a strong `Arc`; the refresh task holds only a `Weak`, so the cell (and
//! the refreshing) lives exactly as long as something reads from it.

use std::sync::Arc;
#[cfg(feature = "refresh")]
use std::sync::OnceLock;

use arc_swap::ArcSwapOption;

pub(crate) struct Cell<T> {
    value: ArcSwapOption<T>,
    /// The SDKAppID the value belongs to, when known (a refresher's app, or given to the handle).
    app_id: Option<u64>,
    /// The refresher that writes this cell; unset for a static handle.
    #[cfg(feature = "refresh")]
    link: OnceLock<Arc<crate::refresh::Link>>,
}

impl<T> Cell<T> {
    pub(crate) fn empty(app_id: Option<u64>) -> Self {
        Self {
            value: ArcSwapOption::empty(),
            app_id,
            #[cfg(feature = "refresh")]
            link: OnceLock::new(),
        }
    }

    /// The SDKAppID the value belongs to, when known.
    pub(crate) fn app_id(&self) -> Option<u64> {
        self.app_id
    }

    /// The current value as an owned `Arc` (safe across `.await`).
    pub(crate) fn load_full(&self) -> Option<Arc<T>> {
        self.value.load_full()
    }

    /// Runs `f` on the current value without touching its reference count.
    #[inline]
    pub(crate) fn with<R>(&self, f: impl FnOnce(Option<&T>) -> R) -> R {
        f(self.value.load().as_deref())
    }

    /// Replaces the value; returns the old one.
    pub(crate) fn swap(&self, value: T) -> Option<Arc<T>> {
        self.value.swap(Some(Arc::new(value)))
    }

    /// An atomic read-modify-write of the value (see `ArcSwap::rcu`).
    pub(crate) fn rcu(&self, f: impl FnMut(&Option<Arc<T>>) -> Option<Arc<T>>) {
        self.value.rcu(f);
    }
}

#[cfg(feature = "refresh")]
impl<T> Cell<T> {
    /// Connects the refresher that writes this cell. Returns whether it was attached (`false` when
    /// the cell already has one).
    pub(crate) fn attach(&self, link: Arc<crate::refresh::Link>) -> bool {
        self.link.set(link).is_ok()
    }

    /// The refresher that writes this cell, if any.
    pub(crate) fn link(&self) -> Option<&Arc<crate::refresh::Link>> {
        self.link.get()
    }
}

/// The last reader is gone: tell the refresh task at once (it holds only a `Weak`, and would
/// otherwise notice at its next wake-up).
#[cfg(feature = "refresh")]
impl<T> Drop for Cell<T> {
    fn drop(&mut self) {
        if let Some(link) = self.link.get() {
            link.readers_gone();
        }
    }
}

/// A new cell behind an `Arc`, the form every handle holds.
pub(crate) fn shared<T>(app_id: Option<u64>) -> Arc<Cell<T>> {
    Arc::new(Cell::empty(app_id))
}
