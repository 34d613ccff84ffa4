//! [`TrtcKeys`]: the callback keys of the TRTC apps an endpoint serves, rotatable while it runs.

use std::fmt;
use std::sync::Arc;

use arc_swap::ArcSwap;

use super::TrtcKey;
use crate::stats::{CallbackStats, Counters, Scheme};

/// The callback keys of one or more TRTC apps, and their counters: a cheap cloneable handle that
/// the layer reads and your code rotates.
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
///     .build();
/// assert_eq!(keys.app_ids(), [1400000001, 1400000002]);
///
/// // Rotation: both keys verify until the old one is retired.
/// assert!(keys.rotate(1400000001, TrtcKey::new("FirstAppKeyNew")?));
/// assert!(keys.retire_previous(1400000001));
/// assert!(!keys.rotate(42, TrtcKey::new("x")?), "an app that is not in the set");
/// # Ok::<(), tim_callback_auth::trtc::InvalidTrtcKey>(())
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

impl TrtcKeys {
    /// Keys for a single app.
    pub fn single(app_id: u64, key: TrtcKey) -> Self {
        Self::builder().app(app_id, key).build()
    }

    /// Starts a set of apps.
    pub fn builder() -> TrtcKeysBuilder {
        TrtcKeysBuilder { apps: Vec::new() }
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
    /// previous key). Returns `false`, changing nothing, when the app is not in the set.
    pub fn rotate(&self, app_id: u64, key: TrtcKey) -> bool {
        let Some(app) = self.app(app_id) else {
            return false;
        };
        app.keys.rcu(|old| KeyPair {
            current: key.clone(),
            previous: Some(old.current.clone()),
        });
        true
    }

    /// Stops accepting the app's previous key. Returns `false` when the app is not in the set.
    pub fn retire_previous(&self, app_id: u64) -> bool {
        let Some(app) = self.app(app_id) else {
            return false;
        };
        app.keys.rcu(|old| KeyPair {
            current: old.current.clone(),
            previous: None,
        });
        true
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
    pub fn build(mut self) -> TrtcKeys {
        self.apps.sort_by_key(|(id, ..)| *id);
        let apps = self
            .apps
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
            }),
        }
    }
}
