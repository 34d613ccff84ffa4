//! [`TrtcKeys`]: the callback keys of the TRTC apps an endpoint serves, rotatable while it runs.

use std::fmt;
use std::sync::Arc;

use arc_swap::ArcSwap;

use super::TrtcKey;
use crate::stats::{CallbackStats, Counters, Scheme};

/// The callback keys of one or more TRTC apps, and their counters: a cheap cloneable handle that
/// the layer reads and your code rotates.
///
/// **Each app needs its own key.** The `SdkAppId` header is not signed: only the key binds an
/// event to its app. Were two apps to share a key, an event of one could be resent as the other's,
/// and it would verify; so a key used by one app (as its current or previous key) is refused for
/// any other, when the set is built and at every rotation ([`TrtcKeysError`]).
///
/// The set of apps is fixed when it is built; each app's key can be rotated while the server runs.
/// A rotation keeps the old key as the *previous* one, accepted alongside the new key until
/// [`retire_previous`](Self::retire_previous): change the key here first, then in the TRTC
/// console, and retire the old one once Tencent's retries signed with it are over (Tencent
/// retries for about a minute; events are fresh for the verifier's window, 10 minutes by default).
///
/// # Examples
///
/// ```
/// use tim_callback_auth::trtc::{TrtcKey, TrtcKeys};
///
/// let keys = TrtcKeys::builder()
///     .app(1400000001, TrtcKey::new("FirstAppKey123")?)
///     .app(1400000002, TrtcKey::new("SecondAppKey456")?)
///     .build()?;
/// assert_eq!(keys.app_ids(), [1400000001, 1400000002]);
///
/// // Rotation: both keys verify until the old one is retired.
/// keys.rotate(1400000001, TrtcKey::new("FirstAppKeyNew")?)?;
/// keys.retire_previous(1400000001)?;
/// // Another app's key, or an app that is not in the set, is refused.
/// assert!(keys.rotate(1400000001, TrtcKey::new("SecondAppKey456")?).is_err());
/// assert!(keys.rotate(42, TrtcKey::new("x")?).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct TrtcKeys {
    inner: Arc<Inner>,
}

struct Inner {
    /// Sorted by app id.
    apps: Box<[App]>,
    /// Counters of events that named no app of the set.
    unknown: Counters,
    /// Serialises rotations, so that two rotating apps cannot both take the same new key.
    rotating: std::sync::Mutex<()>,
}

pub(crate) struct App {
    pub(crate) id: u64,
    pub(crate) keys: ArcSwap<KeyPair>,
    pub(crate) counters: Counters,
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
    /// Keys for a single app.
    pub fn single(app_id: u64, key: TrtcKey) -> Self {
        Self::from_apps(vec![(app_id, key, None)])
    }

    /// Starts a set of apps.
    pub fn builder() -> TrtcKeysBuilder {
        TrtcKeysBuilder { apps: Vec::new() }
    }

    fn from_apps(mut apps: Vec<(u64, TrtcKey, Option<TrtcKey>)>) -> Self {
        apps.sort_by_key(|(id, ..)| *id);
        let apps = apps
            .into_iter()
            .map(|(id, current, previous)| App {
                id,
                keys: ArcSwap::from_pointee(KeyPair { current, previous }),
                counters: Counters::for_scheme(Some(id), Scheme::Trtc),
            })
            .collect();
        TrtcKeys {
            inner: Arc::new(Inner {
                apps,
                unknown: Counters::for_scheme(None, Scheme::Trtc),
                rotating: std::sync::Mutex::new(()),
            }),
        }
    }

    /// The app with this id.
    #[inline]
    pub(crate) fn app(&self, app_id: u64) -> Option<&App> {
        let apps = &self.inner.apps;
        apps.binary_search_by_key(&app_id, |a| a.id)
            .ok()
            .map(|i| &apps[i])
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
    /// [`TrtcKeysError`] when the app is not in the set, or when another app of the set uses
    /// `key` (as its current or previous key); nothing changes then.
    pub fn rotate(&self, app_id: u64, key: TrtcKey) -> Result<(), TrtcKeysError> {
        let app = self.app(app_id).ok_or(TrtcKeysError::UnknownApp(app_id))?;
        let _rotating = self
            .inner
            .rotating
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(other) = self
            .inner
            .apps
            .iter()
            .find(|a| a.id != app_id && a.keys.load().holds(&key))
        {
            return Err(TrtcKeysError::SharedKey(
                app_id.min(other.id),
                app_id.max(other.id),
            ));
        }
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
    /// [`TrtcKeysError::UnknownApp`] when the app is not in the set.
    pub fn retire_previous(&self, app_id: u64) -> Result<(), TrtcKeysError> {
        let app = self.app(app_id).ok_or(TrtcKeysError::UnknownApp(app_id))?;
        let _rotating = self
            .inner
            .rotating
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let old = app.keys.load_full();
        app.keys.store(Arc::new(KeyPair {
            current: old.current.clone(),
            previous: None,
        }));
        Ok(())
    }

    /// Whether the app currently has a previous key (a rotation not yet retired).
    pub fn has_previous(&self, app_id: u64) -> bool {
        self.app(app_id)
            .is_some_and(|a| a.keys.load().previous.is_some())
    }

    /// The apps of the set, in increasing order.
    pub fn app_ids(&self) -> Vec<u64> {
        self.inner.apps.iter().map(|a| a.id).collect()
    }

    /// Counters of every app, then one entry (app id `None`) for events that named no app of the
    /// set. Accepted events count as [`accepted_current`](CallbackStats::accepted_current) or
    /// [`accepted_previous`](CallbackStats::accepted_previous) by the key that verified them.
    pub fn stats(&self) -> Vec<CallbackStats> {
        self.inner
            .apps
            .iter()
            .map(|a| a.counters.snapshot(None))
            .chain(std::iter::once(self.inner.unknown.snapshot(None)))
            .collect()
    }
}

impl fmt::Debug for TrtcKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrtcKeys")
            .field("app_ids", &self.app_ids())
            .finish_non_exhaustive()
    }
}

/// Builds a [`TrtcKeys`]: [`TrtcKeys::builder`].
#[derive(Debug)]
pub struct TrtcKeysBuilder {
    apps: Vec<(u64, TrtcKey, Option<TrtcKey>)>,
}

impl TrtcKeysBuilder {
    /// Adds an app with its key (a second call for the same app replaces its keys).
    pub fn app(mut self, app_id: u64, key: TrtcKey) -> Self {
        self.apps.retain(|(id, ..)| *id != app_id);
        self.apps.push((app_id, key, None));
        self
    }

    /// Adds an app in the middle of a rotation: events signed with `current` or `previous` are
    /// accepted until [`TrtcKeys::retire_previous`].
    pub fn app_rotating(mut self, app_id: u64, current: TrtcKey, previous: TrtcKey) -> Self {
        self.apps.retain(|(id, ..)| *id != app_id);
        self.apps.push((app_id, current, Some(previous)));
        self
    }

    /// The set.
    ///
    /// # Errors
    ///
    /// [`TrtcKeysError::NoApp`] for an empty set (it would refuse every event), and
    /// [`TrtcKeysError::SharedKey`] when two apps share a key.
    pub fn build(self) -> Result<TrtcKeys, TrtcKeysError> {
        if self.apps.is_empty() {
            return Err(TrtcKeysError::NoApp);
        }
        fn slots(app: &(u64, TrtcKey, Option<TrtcKey>)) -> impl Iterator<Item = &TrtcKey> {
            std::iter::once(&app.1).chain(&app.2)
        }
        for (i, a) in self.apps.iter().enumerate() {
            for b in &self.apps[i + 1..] {
                if slots(a).any(|k| slots(b).any(|l| k.same_as(l))) {
                    return Err(TrtcKeysError::SharedKey(a.0.min(b.0), a.0.max(b.0)));
                }
            }
        }
        Ok(TrtcKeys::from_apps(self.apps))
    }
}

/// Why a [`TrtcKeys`] could not be built or changed. Names apps, never keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TrtcKeysError {
    /// The app is not in the set (the set of apps is fixed when it is built).
    UnknownApp(u64),
    /// These two apps would share a key: the unsigned `SdkAppId` header could then move an event
    /// of one to the other.
    SharedKey(u64, u64),
    /// The builder has no app.
    NoApp,
}

impl fmt::Display for TrtcKeysError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrtcKeysError::UnknownApp(id) => write!(f, "app {id} has no TRTC key configured"),
            TrtcKeysError::SharedKey(a, b) => write!(
                f,
                "apps {a} and {b} would share a TRTC callback key: each app needs its own (the \
                 SdkAppId header is not signed, so a shared key lets one app's events pass as the \
                 other's)"
            ),
            TrtcKeysError::NoApp => f.pad("no app has a TRTC callback key"),
        }
    }
}

impl std::error::Error for TrtcKeysError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> TrtcKey {
        TrtcKey::new(k).unwrap()
    }

    #[test]
    fn no_two_apps_share_a_key_in_any_slot() {
        let shared = TrtcKeys::builder()
            .app(2, key("SameKey"))
            .app(1, key("SameKey"))
            .build();
        assert_eq!(shared.err(), Some(TrtcKeysError::SharedKey(1, 2)));
        let previous = TrtcKeys::builder()
            .app(1, key("KeyA"))
            .app_rotating(2, key("KeyB"), key("KeyA"))
            .build();
        assert_eq!(previous.err(), Some(TrtcKeysError::SharedKey(1, 2)));
        assert_eq!(
            TrtcKeys::builder().build().err(),
            Some(TrtcKeysError::NoApp)
        );

        let keys = TrtcKeys::builder()
            .app(1, key("KeyA"))
            .app_rotating(2, key("KeyB"), key("OldB"))
            .build()
            .unwrap();
        assert_eq!(
            keys.rotate(1, key("KeyB")),
            Err(TrtcKeysError::SharedKey(1, 2))
        );
        assert_eq!(
            keys.rotate(1, key("OldB")),
            Err(TrtcKeysError::SharedKey(1, 2))
        );
        assert_eq!(
            keys.rotate(3, key("KeyC")),
            Err(TrtcKeysError::UnknownApp(3))
        );
        assert!(!keys.has_previous(1), "a refused rotation changes nothing");
        // An app may take back its own previous key (a rotation undone).
        keys.rotate(2, key("OldB")).unwrap();
        // Once retired, a key is free for another app.
        keys.retire_previous(2).unwrap();
        keys.rotate(1, key("KeyB")).unwrap();
        let shown = format!("{} {:?}", TrtcKeysError::SharedKey(1, 2), keys);
        for secret in ["KeyA", "KeyB", "OldB"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }
}
