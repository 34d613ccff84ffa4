//! The cheap, cloneable cell that holds the current [`TokenSnapshot`].

use std::fmt;
use std::sync::Arc;

use crate::cell::{self, Cell};
#[cfg(feature = "refresh")]
use crate::refresh::miss::RefreshWait;
#[cfg(feature = "refresh")]
use crate::refresh::RefreshStatus;
use crate::token::TokenSnapshot;

/// A shared, lock-free cell holding the current [`TokenSnapshot`].
///
/// Cloning is cheap (one reference count) and every clone sees the same cell. Readers call
/// [`load`](TokenHandle::load) (or let the [`CallbackAuthLayer`](crate::CallbackAuthLayer) do it) once
/// per request; the single writer, usually the background refresher, calls
/// [`store`](TokenHandle::store). A handle created with [`TokenHandle::empty`] holds nothing until the
/// first store, and the layer answers 503 until then.
///
/// The handle works on its own, without tower or a refresher: store a static snapshot once, or write
/// your own update loop.
///
/// # Examples
///
/// ```
/// use tim_callback_auth::{CallbackToken, TokenHandle, TokenSnapshot};
///
/// let handle = TokenHandle::empty();
/// assert!(handle.load().is_none());
///
/// let reader = handle.clone();
/// handle.store(TokenSnapshot::enabled(CallbackToken::new("my-token")?));
/// assert!(reader.load().unwrap().is_enabled());
/// # Ok::<(), tim_callback_auth::Error>(())
/// ```
///
/// A handle given by a [`TokenRefresher`](crate::TokenRefresher) keeps it refreshing: the
/// background task runs for as long as any clone of the handle (or the refresher itself) is
/// alive, whatever else was dropped, and ends with the last one (or on
/// [`shutdown`](crate::refresh::Refresher::shutdown)). [`status`](TokenHandle::status) tells
/// whether it still runs.
#[derive(Clone)]
pub struct TokenHandle {
    cell: Arc<Cell<TokenSnapshot>>,
}

impl TokenHandle {
    /// A handle that already holds `snapshot`, for any app: a layer over it checks no `SdkAppid`
    /// unless its verifier names one. Prefer [`for_app`](Self::for_app).
    pub fn new(snapshot: TokenSnapshot) -> Self {
        let handle = Self::empty();
        handle.store(snapshot);
        handle
    }

    /// A handle that already holds `snapshot`, the token of app `app_id`: a
    /// [`CallbackAuthLayer`](crate::CallbackAuthLayer) over it accepts only callbacks whose
    /// `SdkAppid` is `app_id`, as it does over a refresher's handle.
    ///
    /// ```
    /// use tim_callback_auth::{CallbackToken, TokenHandle, TokenSnapshot};
    ///
    /// let token = CallbackToken::new("the-console-token-0123456789")?;
    /// let handle = TokenHandle::for_app(1400000000, TokenSnapshot::enabled(token));
    /// assert_eq!(handle.app_id(), Some(1400000000));
    /// # Ok::<(), tim_callback_auth::Error>(())
    /// ```
    pub fn for_app(app_id: u64, snapshot: TokenSnapshot) -> Self {
        let handle = Self {
            cell: cell::shared(Some(app_id)),
        };
        handle.store(snapshot);
        handle
    }

    /// A handle holding `token` (the IM console's callback token, which has no read API) as the
    /// token of app `app_id`: `for_app(app_id, TokenSnapshot::enabled(CallbackToken::new(token)?))`.
    ///
    /// # Errors
    ///
    /// An [`Error`](crate::Error) of kind [`InvalidInput`](crate::ErrorKind::InvalidInput) when
    /// the token is empty or longer than [`CallbackToken::MAX_LEN`](crate::CallbackToken::MAX_LEN)
    /// bytes (the error never contains the token).
    pub fn from_token(app_id: u64, token: &str) -> Result<Self, crate::Error> {
        let token = crate::CallbackToken::new(token)?;
        Ok(Self::for_app(app_id, TokenSnapshot::enabled(token)))
    }

    /// The app this handle's token belongs to: [`for_app`](Self::for_app)'s, or the app of the
    /// refresher that writes it (a [`RestClient`](crate::rest::RestClient)'s, or
    /// [`RefresherBuilder::app_id`](crate::refresh::RefresherBuilder::app_id)); `None` for
    /// [`new`](Self::new) and [`empty`](Self::empty).
    pub fn app_id(&self) -> Option<u64> {
        self.cell.app_id()
    }

    /// A handle that holds nothing yet: verification answers
    /// [`Rejection::TokenUnavailable`](crate::Rejection::TokenUnavailable) until the first store.
    pub fn empty() -> Self {
        Self {
            cell: cell::shared(None),
        }
    }

    /// The handle on `cell` (the refresher's, once it upgraded its `Weak`).
    #[cfg(feature = "refresh")]
    pub(crate) fn from_cell(cell: Arc<Cell<TokenSnapshot>>) -> Self {
        Self { cell }
    }

    /// The current snapshot, or `None` before the first store.
    ///
    /// The result is an owned `Arc`, safe to keep across `.await`. Load once per unit of work: two
    /// loads may see two different snapshots.
    pub fn load(&self) -> Option<Arc<TokenSnapshot>> {
        self.cell.load_full()
    }

    /// Runs `f` on the current snapshot without touching its reference count: the fastest read, used
    /// by the layer on every request.
    pub(crate) fn with_snapshot<T>(&self, f: impl FnOnce(Option<&TokenSnapshot>) -> T) -> T {
        self.cell.with(f)
    }

    /// Replaces the current snapshot. Readers see either the old or the new one, never a mix.
    ///
    /// A token shorter than 16 bytes is logged once at `WARN` (by fingerprint) when it first
    /// arrives: a captured `Sign` lets anyone brute-force a short token offline.
    pub fn store(&self, snapshot: TokenSnapshot) {
        let old = self.cell.swap(snapshot);
        self.warn_if_weak(old.as_deref());
    }

    /// Ends the grace period of the previous token at once (an emergency rotation away from a
    /// leaked token): from the next request on, only the current token is accepted. Returns whether
    /// there was a previous token to drop.
    ///
    /// An atomic read-modify-write of the cell, safe beside a refresher: the refresher never
    /// re-creates a dropped previous token (after a rotation, the previous token is always the one
    /// that was current). Call it once the handle holds the new token (for example after
    /// [`TokenRefresher::refresh_now`](crate::refresh::TokenRefresher::refresh_now)). Should a
    /// rotation be stored in the same instant, the token it just replaced is dropped too: that
    /// fails closed (its late callbacks are refused), never open.
    pub fn revoke_previous(&self) -> bool {
        let mut revoked = false;
        self.cell.rcu(|current| {
            revoked = false;
            match current.as_deref() {
                Some(snapshot) if snapshot.previous().is_some() => {
                    revoked = true;
                    Some(Arc::new(snapshot.clone().without_previous()))
                }
                _ => current.clone(),
            }
        });
        if revoked {
            tracing::warn!("previous callback token revoked: its grace period ended now");
        }
        revoked
    }

    fn warn_if_weak(&self, old: Option<&TokenSnapshot>) {
        let weak = self.cell.with(|now| {
            let Some(token) = now.and_then(TokenSnapshot::current) else {
                return false;
            };
            let seen = old.and_then(TokenSnapshot::current) == Some(token);
            !seen && token.is_weak()
        });
        // Neither the length nor a fingerprint: both narrow the search for a short token.
        if weak {
            tracing::warn!(
                "the callback token is shorter than 16 bytes: one captured Sign lets anyone \
                 brute-force it offline; use a random token of at least 128 bits"
            );
        }
    }

    /// Whether both handles share one cell.
    pub fn ptr_eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.cell, &other.cell)
    }
}

#[cfg(feature = "refresh")]
impl TokenHandle {
    /// The status of the refresher that writes this handle, `None` for a static handle (one
    /// made with [`new`](Self::new) or [`empty`](Self::empty) and written by your own code).
    /// [`RefreshStatus::is_stopped`] says when nothing refreshes it any more (after
    /// [`shutdown`](crate::refresh::Refresher::shutdown), or the runtime's end): the handle then
    /// serves its last token until it is replaced.
    pub fn status(&self) -> Option<RefreshStatus> {
        self.cell.link().map(|link| link.status())
    }

    /// Called by the layer when a fresh-looking signature failed against every known token. Never
    /// blocks and never does I/O: it may wake the refresher, and returns a future that completes
    /// when the refresh it waits for is done (or after the configured wait), or `None` when there is
    /// nothing worth waiting for.
    pub(crate) fn refresh_on_miss(&self) -> Option<RefreshWait> {
        self.cell.link()?.miss()?.request()
    }
}

impl fmt::Debug for TokenHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (loaded, enabled) = self
            .cell
            .with(|snapshot| (snapshot.is_some(), snapshot.map(TokenSnapshot::is_enabled)));
        f.debug_struct("TokenHandle")
            .field("loaded", &loaded)
            .field("enabled", &enabled)
            .finish()
    }
}
