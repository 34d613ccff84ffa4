//! [`AllowlistHandle`]: the cloneable cell that holds the current [`IpAllowlist`].

use std::fmt;
use std::sync::Arc;

use arc_swap::ArcSwapOption;

use super::IpAllowlist;

/// A shared, lock-free cell holding the current [`IpAllowlist`], like
/// [`TokenHandle`](crate::TokenHandle) for tokens: cheap to clone (one reference count), every
/// clone sees the same cell, readers load once per request, one writer (usually an
/// [`AllowlistRefresher`](crate::refresh::AllowlistRefresher)) stores. Give the same handle to
/// several layers to share one list.
///
/// # Examples
///
/// ```
/// use tim_callback_auth::source::{AllowlistHandle, IpAllowlist};
///
/// let handle = AllowlistHandle::empty();
/// assert!(handle.load().is_none());
/// handle.store("203.0.113.0/24".parse::<IpAllowlist>()?);
/// assert!(handle.load().unwrap().contains("203.0.113.9".parse()?));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct AllowlistHandle {
    cell: Arc<ArcSwapOption<IpAllowlist>>,
}

impl AllowlistHandle {
    /// A handle that already holds `list` (a static list, from configuration).
    pub fn new(list: IpAllowlist) -> Self {
        let handle = Self::empty();
        handle.store(list);
        handle
    }

    /// A handle that holds nothing yet: the layer answers 503 until the first list (unless told to
    /// let requests through until then).
    pub fn empty() -> Self {
        Self {
            cell: Arc::new(ArcSwapOption::empty()),
        }
    }

    /// The current list, or `None` before the first store.
    pub fn load(&self) -> Option<Arc<IpAllowlist>> {
        self.cell.load_full()
    }

    /// Runs `f` on the current list without touching its reference count (the layer's read).
    #[inline]
    pub(crate) fn with_list<T>(&self, f: impl FnOnce(Option<&IpAllowlist>) -> T) -> T {
        f(self.cell.load().as_deref())
    }

    /// Replaces the current list.
    pub fn store(&self, list: IpAllowlist) {
        self.cell.store(Some(Arc::new(list)));
    }
}

impl fmt::Debug for AllowlistHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AllowlistHandle")
            .field("list", &self.cell.load().as_deref())
            .finish()
    }
}
