//! [`TrtcKeys`]: the callback keys of the TRTC apps an endpoint serves, rotatable while it runs.

use std::fmt;
use std::sync::Arc;

use arc_swap::ArcSwap;

use super::TrtcKey;
use crate::error::Error;
use crate::stats::{CallbackStats, Counters, Scheme};

/// The callback keys of the TRTC apps one endpoint serves, and their counters: a cheap cloneable
/// handle that the layer reads and your code changes, like an [`AppSet`](crate::AppSet).
///
/// **Each app needs its own key.** The `SdkAppId` header is not signed: only the key binds an
/// event to its app. Were two apps to share a key, an event of one could be resent as the other's,
/// and it would verify; so a key used by one app (as its current or previous key) is refused for
/// any other, at every insert and rotation (an [`Error`] of kind [`InvalidInput`](crate::ErrorKind::InvalidInput)).
///
/// Apps can be added and removed while the server runs; an event naming no app of the set is
/// rejected. A rotation keeps the old key as the *previous* one, accepted alongside the new key
/// until [`retire_previous`](Self::retire_previous): change the key here first, then in the TRTC
/// console, and retire the old one once Tencent's retries signed with it are over (Tencent
/// retries for about a minute; events are fresh for the verifier's window, 10 minutes by default).
///
/// # Examples
///
/// ```
/// use tim_callback_auth::trtc::{TrtcKey, TrtcKeys};
///
/// let keys = TrtcKeys::new();
/// keys.insert(1400000001, TrtcKey::new("FirstAppKey123")?)?;
/// keys.insert(1400000002, TrtcKey::new("SecondAppKey456")?)?;
/// assert_eq!(keys.app_ids(), [1400000001, 1400000002]);
///
/// // Rotation: both keys verify until the old one is retired.
/// keys.rotate(1400000001, TrtcKey::new("FirstAppKeyNew")?)?;
/// keys.retire_previous(1400000001)?;
/// // Another app's key, or an app that is not in the set, is refused.
/// assert!(keys.rotate(1400000001, TrtcKey::new("SecondAppKey456")?).is_err());
/// assert!(keys.insert(1400000003, TrtcKey::new("SecondAppKey456")?).is_err());
/// assert!(keys.rotate(42, TrtcKey::new("x")?).is_err());
/// assert!(keys.remove(1400000002));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct TrtcKeys {
    inner: Arc<Inner>,
}

struct Inner {
    table: ArcSwap<Table>,
    /// Counters of events that named no app of the set.
    unknown: Counters,
    /// Serialises changes of the set and rotations, so that two apps cannot both take the same
    /// new key.
    writer: std::sync::Mutex<()>,
}

/// The apps of the set at one moment, sorted by app id.
#[derive(Default)]
pub(crate) struct Table {
    apps: Vec<Arc<App>>,
}

impl Table {
    /// The app with this id.
    #[inline]
    pub(crate) fn app(&self, app_id: u64) -> Option<&App> {
        self.apps
            .binary_search_by_key(&app_id, |a| a.id)
            .ok()
            .map(|i| &*self.apps[i])
    }
}

pub(crate) struct App {
    pub(crate) id: u64,
    pub(crate) keys: ArcSwap<KeyPair>,
    pub(crate) counters: Counters,
}

impl App {
    fn new(id: u64, current: TrtcKey, previous: Option<TrtcKey>) -> Self {
        Self {
            id,
            keys: ArcSwap::from_pointee(KeyPair { current, previous }),
            counters: Counters::for_scheme(Some(id), Scheme::Trtc),
        }
    }
}

/// The keys an app's events may be signed with.
pub(crate) struct KeyPair {
    pub(crate) current: TrtcKey,
    pub(crate) previous: Option<TrtcKey>,
}

impl KeyPair {
    fn holds(&self, key: &TrtcKey) -> bool {
        self.current.same_as(key) || self.previous.as_ref().is_some_and(|p| p.same_as(key))
    }
}

impl TrtcKeys {
    /// An empty set.
    pub fn new() -> Self {
        TrtcKeys {
            inner: Arc::new(Inner {
                table: ArcSwap::from_pointee(Table::default()),
                unknown: Counters::for_scheme(None, Scheme::Trtc),
                writer: std::sync::Mutex::new(()),
            }),
        }
    }

    /// Keys for a single app.
    pub fn single(app_id: u64, key: TrtcKey) -> Self {
        let keys = Self::new();
        // Alone in the set: no other app can hold its key.
        keys.inner.table.store(Arc::new(Table {
            apps: vec![Arc::new(App::new(app_id, key, None))],
        }));
        keys
    }

    /// Adds `app_id` with its key. Replaces the app's keys if it is already in the set (its
    /// counters go on).
    ///
    /// # Errors
    ///
    /// An [`Error`] of kind [`InvalidInput`](crate::ErrorKind::InvalidInput) when another app of the set uses `key` (as its current or
    /// previous key); nothing changes then.
    pub fn insert(&self, app_id: u64, key: TrtcKey) -> Result<(), Error> {
        self.put(app_id, key, None)
    }

    /// Adds `app_id` in the middle of a rotation: events signed with `current` or `previous` are
    /// accepted until [`retire_previous`](Self::retire_previous). Replaces the app's keys if it is
    /// already in the set.
    ///
    /// # Errors
    ///
    /// An [`Error`] of kind [`InvalidInput`](crate::ErrorKind::InvalidInput) when another app of the set uses either key; nothing changes
    /// then.
    pub fn insert_rotating(
        &self,
        app_id: u64,
        current: TrtcKey,
        previous: TrtcKey,
    ) -> Result<(), Error> {
        self.put(app_id, current, Some(previous))
    }

    fn put(&self, app_id: u64, current: TrtcKey, previous: Option<TrtcKey>) -> Result<(), Error> {
        let _writer = self.lock();
        let table = self.inner.table.load();
        let slots: Vec<&TrtcKey> = std::iter::once(&current).chain(&previous).collect();
        refuse_shared(&table, app_id, &slots)?;
        let pair = KeyPair { current, previous };
        match table.app(app_id) {
            // Already in the set: new keys, same counters.
            Some(app) => app.keys.store(Arc::new(pair)),
            None => {
                let mut apps = table.apps.clone();
                apps.push(Arc::new(App::new(app_id, pair.current, pair.previous)));
                apps.sort_by_key(|a| a.id);
                self.inner.table.store(Arc::new(Table { apps }));
            }
        }
        Ok(())
    }

    /// Removes `app_id`; its events are rejected from the next request on. Returns whether it was
    /// in the set.
    pub fn remove(&self, app_id: u64) -> bool {
        let _writer = self.lock();
        let table = self.inner.table.load();
        if table.app(app_id).is_none() {
            return false;
        }
        let apps = table
            .apps
            .iter()
            .filter(|a| a.id != app_id)
            .cloned()
            .collect();
        self.inner.table.store(Arc::new(Table { apps }));
        true
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ()> {
        self.inner.writer.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The apps of the set now (one `arc-swap` load; no reference count written).
    #[inline]
    pub(crate) fn table(&self) -> arc_swap::Guard<Arc<Table>> {
        self.inner.table.load()
    }

    /// Counters of events naming no app of the set (or none at all).
    pub(crate) fn unknown_counters(&self) -> &Counters {
        &self.inner.unknown
    }

    /// Makes `key` the app's current key and its current key the previous one (replacing any
    /// previous key).
    ///
    /// # Errors
    ///
    /// An [`Error`] of kind [`InvalidInput`](crate::ErrorKind::InvalidInput) when the app is not in the set, or when another app of the set uses
    /// `key` (as its current or previous key); nothing changes then.
    pub fn rotate(&self, app_id: u64, key: TrtcKey) -> Result<(), Error> {
        let _writer = self.lock();
        let table = self.inner.table.load();
        let app = table.app(app_id).ok_or(unknown_app(app_id))?;
        refuse_shared(&table, app_id, &[&key])?;
        let old = app.keys.load_full();
        app.keys.store(Arc::new(KeyPair {
            current: key,
            previous: Some(old.current.clone()),
        }));
        Ok(())
    }

    /// Stops accepting the app's previous key.
    ///
    /// # Errors
    ///
    /// An [`Error`] of kind [`InvalidInput`](crate::ErrorKind::InvalidInput) when the app is not in the set.
    pub fn retire_previous(&self, app_id: u64) -> Result<(), Error> {
        let _writer = self.lock();
        let table = self.inner.table.load();
        let app = table.app(app_id).ok_or(unknown_app(app_id))?;
        let old = app.keys.load_full();
        app.keys.store(Arc::new(KeyPair {
            current: old.current.clone(),
            previous: None,
        }));
        Ok(())
    }

    /// Whether the app currently has a previous key (a rotation not yet retired).
    pub fn has_previous(&self, app_id: u64) -> bool {
        self.table()
            .app(app_id)
            .is_some_and(|a| a.keys.load().previous.is_some())
    }

    /// The apps of the set, in increasing order.
    pub fn app_ids(&self) -> Vec<u64> {
        self.table().apps.iter().map(|a| a.id).collect()
    }

    /// Counters of every app, then one entry (app id `None`) for events that named no app of the
    /// set. Accepted events count as [`accepted_current`](CallbackStats::accepted_current) or
    /// [`accepted_previous`](CallbackStats::accepted_previous) by the key that verified them.
    pub fn stats(&self) -> Vec<CallbackStats> {
        self.table()
            .apps
            .iter()
            .map(|a| a.counters.snapshot(None))
            .chain(std::iter::once(self.inner.unknown.snapshot(None)))
            .collect()
    }
}

/// [`shared_key`] when an app other than `app_id` holds one of `keys`.
fn refuse_shared(table: &Table, app_id: u64, keys: &[&TrtcKey]) -> Result<(), Error> {
    let shared = table.apps.iter().find(|a| {
        a.id != app_id && {
            let held = a.keys.load();
            keys.iter().any(|k| held.holds(k))
        }
    });
    match shared {
        Some(other) => Err(shared_key(app_id.min(other.id), app_id.max(other.id))),
        None => Ok(()),
    }
}

impl Default for TrtcKeys {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for TrtcKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrtcKeys")
            .field("app_ids", &self.app_ids())
            .finish_non_exhaustive()
    }
}

/// The app is not in the set.
fn unknown_app(app_id: u64) -> Error {
    Error::invalid_input(format!("app {app_id} has no TRTC key configured"))
}

/// These two apps would share a key: the unsigned `SdkAppId` header could then move an event of
/// one to the other. Names apps, never keys.
fn shared_key(a: u64, b: u64) -> Error {
    Error::invalid_input(format!(
        "apps {a} and {b} would share a TRTC callback key: each app needs its own (the SdkAppId \
         header is not signed, so a shared key lets one app's events pass as the other's)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> TrtcKey {
        TrtcKey::new(k).unwrap()
    }

    #[test]
    fn no_two_apps_share_a_key_in_any_slot() {
        let shared = TrtcKeys::new();
        shared.insert(2, key("SameKey")).unwrap();
        assert_eq!(
            shared.insert(1, key("SameKey")).map_err(|e| e.to_string()),
            Err(shared_key(1, 2).to_string())
        );
        assert_eq!(shared.app_ids(), [2], "a refused insert changes nothing");
        let previous = TrtcKeys::new();
        previous.insert(1, key("KeyA")).unwrap();
        assert_eq!(
            previous
                .insert_rotating(2, key("KeyB"), key("KeyA"))
                .map_err(|e| e.to_string()),
            Err(shared_key(1, 2).to_string())
        );
        assert_eq!(TrtcKeys::new().app_ids(), Vec::<u64>::new());

        let keys = TrtcKeys::new();
        keys.insert(1, key("KeyA")).unwrap();
        keys.insert_rotating(2, key("KeyB"), key("OldB")).unwrap();
        assert_eq!(
            keys.rotate(1, key("KeyB")).map_err(|e| e.to_string()),
            Err(shared_key(1, 2).to_string())
        );
        assert_eq!(
            keys.rotate(1, key("OldB")).map_err(|e| e.to_string()),
            Err(shared_key(1, 2).to_string())
        );
        assert_eq!(
            keys.rotate(3, key("KeyC")).map_err(|e| e.to_string()),
            Err(unknown_app(3).to_string())
        );
        assert!(!keys.has_previous(1), "a refused rotation changes nothing");
        // An app may take back its own previous key (a rotation undone).
        keys.rotate(2, key("OldB")).unwrap();
        // Once retired, a key is free for another app.
        keys.retire_previous(2).unwrap();
        keys.rotate(1, key("KeyB")).unwrap();
        let shown = format!("{} {:?}", shared_key(1, 2), keys);
        for secret in ["KeyA", "KeyB", "OldB"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }

    #[test]
    fn apps_come_and_go_and_an_app_inserted_again_keeps_its_counters() {
        let keys = TrtcKeys::single(5, key("KeyFive"));
        keys.insert(3, key("KeyThree")).unwrap();
        assert_eq!(keys.app_ids(), [3, 5]);
        keys.table()
            .app(5)
            .unwrap()
            .counters
            .record_retry_answered();
        // New keys for an app in the set: its counters go on, and its own old key may stay.
        keys.insert_rotating(5, key("KeyFiveNew"), key("KeyFive"))
            .unwrap();
        assert!(keys.has_previous(5));
        assert_eq!(keys.stats()[1].retries_answered(), 1);
        assert!(keys.remove(3));
        assert!(!keys.remove(3));
        assert_eq!(keys.app_ids(), [5]);
        // A removed app's key is free again.
        keys.insert(4, key("KeyThree")).unwrap();
        assert_eq!(
            keys.retire_previous(3).map_err(|e| e.to_string()),
            Err(unknown_app(3).to_string())
        );
    }
}
