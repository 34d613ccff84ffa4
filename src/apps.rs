//! [`AppSet`]: several SDKAppIDs behind one endpoint.

use std::fmt;
use std::sync::{Arc, Mutex};

use arc_swap::{ArcSwap, Guard};

use crate::handle::TokenHandle;
#[cfg(feature = "refresh")]
use crate::refresh::{RefreshStatus, TokenRefresher};
use crate::stats::{CallbackStats, Counters};
use crate::verify::{scan, AppCheck, Rejection, VerifiedCallback, Verifier};

/// The apps one endpoint serves, keyed by SDKAppID, each with its own [`TokenHandle`] (and, if
/// inserted with one, its own refresher, so one app's failing API never delays another's).
///
/// Cheap to clone; every clone sees the same set. Apps can be added and removed at any time (a
/// config reload): the layer reads the set through one `arc-swap` load per request and finds the app
/// by binary search in a sorted slice, without allocating. Removing an app drops its refresher and
/// its handle: the background task ends once no other clone of that handle is left.
///
/// Give it to [`CallbackAuthLayer::for_apps`](crate::CallbackAuthLayer::for_apps): a callback whose
/// `SdkAppid` is missing or not in the set is rejected with
/// [`Rejection::AppIdMismatch`](crate::Rejection::AppIdMismatch) (or
/// [`MissingAppId`](crate::Rejection::MissingAppId)) before any hashing.
///
/// # Examples
///
/// ```
/// use tim_callback_auth::{AppSet, CallbackToken, TokenHandle, TokenSnapshot};
///
/// let apps = AppSet::new();
/// apps.insert(1400000001, TokenHandle::new(TokenSnapshot::enabled(CallbackToken::new("token-a")?)));
/// apps.insert(1400000002, TokenHandle::new(TokenSnapshot::enabled(CallbackToken::new("token-b")?)));
/// assert_eq!(apps.app_ids(), vec![1400000001, 1400000002]);
/// assert!(apps.remove(1400000001));
/// assert!(!apps.contains(1400000001));
/// # Ok::<(), tim_callback_auth::Error>(())
/// ```
#[derive(Clone)]
pub struct AppSet {
    shared: Arc<Shared>,
}

struct Shared {
    table: ArcSwap<Vec<Arc<App>>>,
    /// Serialises read-modify-write updates of `table`.
    writer: Mutex<()>,
    /// Callbacks naming no known app.
    unknown: Counters,
}

/// One app of the set.
struct App {
    id: u64,
    handle: TokenHandle,
    counters: Counters,
}

impl AppSet {
    /// An empty set.
    pub fn new() -> Self {
        Self {
            shared: Arc::new(Shared {
                table: ArcSwap::from_pointee(Vec::new()),
                writer: Mutex::new(()),
                unknown: Counters::new(None),
            }),
        }
    }

    fn update(&self, f: impl FnOnce(&mut Vec<Arc<App>>)) {
        let _writer = self.shared.writer.lock().unwrap_or_else(|e| e.into_inner());
        let mut apps: Vec<Arc<App>> = self.shared.table.load().as_ref().clone();
        f(&mut apps);
        apps.sort_by_key(|app| app.id);
        self.shared.table.store(Arc::new(apps));
    }

    fn put(&self, app: App) {
        let app = Arc::new(app);
        self.update(|apps| {
            apps.retain(|a| a.id != app.id);
            apps.push(app);
        });
    }

    /// Adds `app_id` with a handle you keep up to date (a static token, or your own writer).
    /// Replaces the app if it is already in the set.
    pub fn insert(&self, app_id: u64, handle: TokenHandle) {
        self.put(App {
            id: app_id,
            handle,
            counters: Counters::new(Some(app_id)),
        });
    }

    /// Adds the app a refresher serves ([`TokenRefresher::app_id`]: a
    /// [`RestClient`](crate::rest::RestClient)'s app, or the builder's `app_id`); the set keeps
    /// the refresher alive until the app is removed (or replaced). Replaces the app if it is
    /// already in the set.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when the refresher serves no
    /// known app (a static source without
    /// [`RefresherBuilder::app_id`](crate::refresh::RefresherBuilder::app_id)).
    #[cfg(feature = "refresh")]
    #[cfg_attr(docsrs, doc(cfg(feature = "refresh")))]
    pub fn insert_refresher(&self, refresher: TokenRefresher) -> Result<(), crate::Error> {
        let Some(app_id) = refresher.app_id() else {
            return Err(crate::Error::new(crate::ErrorKind::InvalidInput)
                .with_source("the refresher serves no known app: set RefresherBuilder::app_id"));
        };
        self.put(App {
            id: app_id,
            handle: refresher.handle(),
            counters: Counters::new(Some(app_id)),
        });
        Ok(())
    }

    /// Removes `app_id`; its callbacks are rejected from the next request on. Returns whether it
    /// was in the set.
    pub fn remove(&self, app_id: u64) -> bool {
        let mut found = false;
        self.update(|apps| {
            let before = apps.len();
            apps.retain(|a| a.id != app_id);
            found = apps.len() != before;
        });
        found
    }

    /// Ends the grace period of `app_id`'s previous token at once, for an emergency rotation away
    /// from a leaked token (see [`TokenHandle::revoke_previous`]). Returns whether a previous
    /// token was dropped (`false` also when the app is not in the set).
    pub fn revoke_previous(&self, app_id: u64) -> bool {
        self.find(app_id)
            .is_some_and(|app| app.handle.revoke_previous())
    }

    /// Whether `app_id` is in the set.
    pub fn contains(&self, app_id: u64) -> bool {
        self.find(app_id).is_some()
    }

    /// The SDKAppIDs in the set, ascending.
    pub fn app_ids(&self) -> Vec<u64> {
        self.shared.table.load().iter().map(|a| a.id).collect()
    }

    /// The handle of `app_id`, if it is in the set.
    pub fn handle(&self, app_id: u64) -> Option<TokenHandle> {
        self.find(app_id).map(|a| a.handle.clone())
    }

    fn find(&self, app_id: u64) -> Option<Arc<App>> {
        let table = self.shared.table.load();
        table
            .binary_search_by_key(&app_id, |a| a.id)
            .ok()
            .map(|i| Arc::clone(&table[i]))
    }

    /// Verifies a callback for the app its `SdkAppid` names. The whole query is scanned first (the
    /// app is needed before its snapshot); the app id is read under the verifier's rules (unique,
    /// literal name, canonical decimal); a missing or unknown app is an
    /// [`AppIdMismatch`](Rejection::AppIdMismatch) before any hashing. The verifier's own
    /// `with_app_id` is ignored: the set decides.
    ///
    /// One load of the table and one of the app's handle; no allocation and no reference count
    /// written (the returned [`Routed`] borrows the table through its guard).
    #[inline]
    pub(crate) fn verify(
        &self,
        verifier: &Verifier,
        query: &str,
        now: u64,
    ) -> (Result<VerifiedCallback, Rejection>, Routed<'_>) {
        let table = self.shared.table.load();
        let scan = scan(query.as_bytes());
        let index = match scan.parsed_app_id() {
            Ok(id) => table.binary_search_by_key(&id, |a| a.id).ok(),
            Err(rejection) => {
                let routed = Routed {
                    set: self,
                    table,
                    index: None,
                };
                return (Err(rejection), routed);
            }
        };
        let result = match index {
            Some(i) => {
                let app = &table[i];
                app.handle.with_snapshot(|snapshot| match snapshot {
                    // The lookup read SdkAppid under the verifier's rules: that app.
                    Some(s) => verifier.verify_scanned(&scan, s, now, AppCheck::Known(app.id)),
                    None => Err(Rejection::TokenUnavailable),
                })
            }
            None => Err(Rejection::AppIdMismatch),
        };
        let routed = Routed {
            set: self,
            table,
            index,
        };
        (result, routed)
    }

    /// The layer's counters: one entry per app (ascending), then one with `app_id() == None` for
    /// callbacks that named no known app.
    pub fn stats(&self) -> Vec<CallbackStats> {
        let table = self.shared.table.load();
        table
            .iter()
            .map(|a| a.counters.snapshot(Some(&a.handle)))
            .chain(std::iter::once(self.shared.unknown.snapshot(None)))
            .collect()
    }

    /// The refresher status of `app_id`, if a refresher writes its handle.
    #[cfg(feature = "refresh")]
    #[cfg_attr(docsrs, doc(cfg(feature = "refresh")))]
    pub fn refresh_status(&self, app_id: u64) -> Option<RefreshStatus> {
        self.find(app_id)?.handle.status()
    }
}

impl AppSet {
    /// The app the query names, read as [`verify`](Self::verify) reads it (or none): for requests
    /// refused before verification (the source check), so that they are counted and logged under
    /// the app they claim, like a forged signature is.
    pub(crate) fn route(&self, query: &str) -> Routed<'_> {
        let table = self.shared.table.load();
        let index = match scan(query.as_bytes()).parsed_app_id() {
            Ok(id) => table.binary_search_by_key(&id, |a| a.id).ok(),
            _ => None,
        };
        Routed {
            set: self,
            table,
            index,
        }
    }
}

/// The app a callback was routed to (or none), borrowed from the table it was found in.
pub(crate) struct Routed<'a> {
    set: &'a AppSet,
    table: Guard<Arc<Vec<Arc<App>>>>,
    index: Option<usize>,
}

impl Routed<'_> {
    fn app(&self) -> Option<&App> {
        self.index.map(|i| &*self.table[i])
    }

    /// The app's counters, or those of callbacks that named no known app.
    pub(crate) fn counters(&self) -> &Counters {
        self.app()
            .map_or(&self.set.shared.unknown, |app| &app.counters)
    }

    pub(crate) fn app_id(&self) -> Option<u64> {
        self.app().map(|app| app.id)
    }

    #[cfg(feature = "refresh")]
    pub(crate) fn handle(&self) -> Option<&TokenHandle> {
        self.app().map(|app| &app.handle)
    }
}

impl Default for AppSet {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for AppSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppSet")
            .field("apps", &self.app_ids())
            .finish()
    }
}
