//! [`AllowlistHandle`]: the cloneable cell that holds the current [`IpAllowlist`].

use std::fmt;
use std::sync::Arc;

use super::IpAllowlist;
use crate::cell::{self, Cell};
#[cfg(feature = "refresh")]
use crate::refresh::RefreshStatus;

/// A shared, lock-free cell holding the current [`IpAllowlist`], like
/// [`TokenHandle`](crate::TokenHandle) for tokens: cheap to clone (one reference count), every
/// clone sees the same cell, readers load once per request, one writer (usually an
/// [`AllowlistRefresher`](crate::refresh::AllowlistRefresher)) stores. Give the same handle to
/// several layers to share one list. Like a token handle, a handle given by a refresher keeps
/// it refreshing for as long as any clone is alive.
///
/// # Examples
///
/// ```
/// use tim_callback_auth::allowlist::{AllowlistHandle, IpAllowlist};
///
/// let handle = AllowlistHandle::empty();
/// assert!(handle.load().is_none());
/// handle.store("203.0.113.0/24".parse::<IpAllowlist>()?);
/// assert!(handle.load().unwrap().contains("203.0.113.9".parse()?));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct AllowlistHandle {
    cell: Arc<Cell<IpAllowlist>>,
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
            cell: cell::shared(None),
        }
    }

    /// The handle on `cell` (the refresher's).
    #[cfg(feature = "refresh")]
    pub(crate) fn from_cell(cell: Arc<Cell<IpAllowlist>>) -> Self {
        Self { cell }
    }

    /// The status of the refresher that writes this handle, `None` for a static handle; see
    /// [`TokenHandle::status`](crate::TokenHandle::status).
    #[cfg(feature = "refresh")]
    pub fn status(&self) -> Option<RefreshStatus> {
        self.cell.link().map(|link| link.status())
    }

    /// The current list, or `None` before the first store.
    pub fn load(&self) -> Option<Arc<IpAllowlist>> {
        self.cell.load_full()
    }

    /// Runs `f` on the current list without touching its reference count (the layer's read).
    #[inline]
    pub(crate) fn with_list<T>(&self, f: impl FnOnce(Option<&IpAllowlist>) -> T) -> T {
        self.cell.with(f)
    }

    /// Replaces the current list.
    pub fn store(&self, list: IpAllowlist) {
        self.cell.swap(list);
    }
}

impl fmt::Debug for AllowlistHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AllowlistHandle")
            .field("list", &self.cell.load_full().as_deref())
            .finish()
    }
}
