//! [`Kind`]: what differs between refreshing tokens and refreshing address lists, plugged into the
//! one loop of [`task`](super::task). Crate-private: users name only `Refresher<TokenSnapshot>`
//! and `Refresher<IpAllowlist>`.

use std::sync::Arc;
use std::time::Duration;

use super::task::now_unix;
use super::{Settings, StatusInner};
use crate::allowlist::IpAllowlist;
use crate::cell::Cell;
#[cfg(feature = "metrics")]
use crate::error::ErrorKind;
use crate::handle::TokenHandle;
use crate::token::TokenSnapshot;

/// What one store did to the cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Change {
    /// Nothing: the same value as before.
    None,
    /// The first value was stored.
    Loaded,
    /// A new value replaced the current one (a rotated token, a changed list).
    Rotated,
    /// Authentication was switched on.
    Enabled,
    /// Authentication was switched off.
    Disabled,
}

impl Change {
    /// Whether it counts as a change of the served value after the first load.
    pub(crate) fn counts(self) -> bool {
        !matches!(self, Change::None | Change::Loaded)
    }
}

/// The value-specific parts of a refresher.
pub(crate) trait Kind: Sized + Send + Sync + 'static {
    /// For log lines and the refresher's `Debug`.
    const WHAT: &'static str;
    /// Whether the layer may ask for a fetch after a signature miss.
    const REFRESH_ON_MISS: bool;

    /// Whether `fetched`, replacing `current`, must be confirmed by a second fetch before it is
    /// applied (`confirm_disable`).
    fn needs_confirmation(settings: &Settings, current: Option<&Self>, fetched: &Self) -> bool {
        let _ = (settings, current, fetched);
        false
    }

    /// Stores `fetched` in `cell` (or not, when nothing changed) and records it in `status`.
    fn apply(
        cell: &Arc<Cell<Self>>,
        fetched: Self,
        settings: &Settings,
        status: &mut StatusInner,
    ) -> Change;

    /// Mirrors the status to the `metrics` facade (once per fetch).
    #[cfg(feature = "metrics")]
    fn emit_metrics(status: &StatusInner, app: Option<u64>, error: Option<ErrorKind>);
}

// ===== tokens =====

impl Kind for TokenSnapshot {
    const WHAT: &'static str = "callback token";
    const REFRESH_ON_MISS: bool = true;

    fn needs_confirmation(settings: &Settings, current: Option<&Self>, fetched: &Self) -> bool {
        settings.confirm_disable && !fetched.is_enabled() && current.is_some_and(Self::is_enabled)
    }

    fn apply(
        cell: &Arc<Cell<Self>>,
        fetched: Self,
        settings: &Settings,
        status: &mut StatusInner,
    ) -> Change {
        let handle = TokenHandle::from_cell(Arc::clone(cell));
        let change = apply_token(&handle, fetched, settings.grace, settings.app_id);
        status.authentication_enabled = handle.load().map(|s| s.is_enabled());
        if change == Change::Disabled {
            status.disables += 1;
        }
        change
    }

    #[cfg(feature = "metrics")]
    fn emit_metrics(status: &StatusInner, app: Option<u64>, error: Option<ErrorKind>) {
        use crate::stats::{app_label, names};
        let app = app_label(app);
        let outcome = error.map_or("ok", |kind| kind.label());
        metrics::counter!(names::REFRESHES, "app" => app.clone(), "outcome" => outcome)
            .increment(1);
        metrics::counter!(names::TOKEN_CHANGES, "app" => app.clone()).absolute(status.changes);
        metrics::gauge!(names::CONSECUTIVE_FAILURES, "app" => app.clone())
            .set(f64::from(status.consecutive_failures));
        metrics::counter!(names::AUTHENTICATION_DISABLES, "app" => app.clone())
            .absolute(status.disables);
        if let Some(enabled) = status.authentication_enabled {
            metrics::gauge!(names::AUTHENTICATION_ENABLED, "app" => app.clone()).set(if enabled {
                1.0
            } else {
                0.0
            });
        }
        if let Some(at) = status
            .last_success
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        {
            metrics::gauge!(names::LAST_SUCCESS, "app" => app).set(at.as_secs_f64());
        }
    }
}

/// Stores `fetched` unless it is the same as what the handle holds. A new token keeps the old one as
/// `previous` until now + `grace`. Authentication off (on the first load, or switched off later)
/// is logged at `WARN` once per change, with the app.
pub(crate) fn apply_token(
    handle: &TokenHandle,
    fetched: TokenSnapshot,
    grace: Duration,
    app: Option<u64>,
) -> Change {
    let Some(old) = handle.load() else {
        if !fetched.is_enabled() {
            tracing::warn!(
                app,
                "callback authentication is off at tencent: callbacks are let through unverified"
            );
        }
        handle.store(fetched);
        return Change::Loaded;
    };
    match (old.current(), fetched.current()) {
        (Some(old_current), Some(new_current)) if old_current == new_current => Change::None,
        (Some(old_current), Some(new_current)) => {
            let until = now_unix().saturating_add(grace.as_secs());
            let next = TokenSnapshot::enabled(new_current.clone());
            let next = if grace.is_zero() {
                next
            } else {
                next.with_previous(old_current.clone(), until)
            };
            tracing::info!(
                app,
                new = %new_current.fingerprint(),
                previous = %old_current.fingerprint(),
                grace_secs = grace.as_secs(),
                "callback token rotated"
            );
            handle.store(next);
            Change::Rotated
        }
        (None, None) => Change::None,
        (Some(_), None) => {
            tracing::warn!(
                app,
                "callback authentication switched off at tencent: callbacks are now let through \
                 unverified"
            );
            handle.store(fetched);
            Change::Disabled
        }
        (None, Some(_)) => {
            tracing::info!(app, "callback authentication switched on");
            handle.store(fetched);
            Change::Enabled
        }
    }
}

// ===== address lists =====

impl Kind for IpAllowlist {
    const WHAT: &'static str = "source allowlist";
    const REFRESH_ON_MISS: bool = false;

    /// Stores a changed list (logging it: the list is public).
    fn apply(
        cell: &Arc<Cell<Self>>,
        fetched: Self,
        settings: &Settings,
        status: &mut StatusInner,
    ) -> Change {
        let old = cell.load_full();
        if old.as_deref() == Some(&fetched) {
            return Change::None;
        }
        tracing::info!(
            app = settings.app_id,
            entries = fetched.len(),
            ranges = %fetched.ranges().collect::<Vec<_>>().join(","),
            "source allowlist loaded"
        );
        status.entries = Some(fetched.len());
        cell.swap(fetched);
        if old.is_some() {
            Change::Rotated
        } else {
            Change::Loaded
        }
    }

    #[cfg(feature = "metrics")]
    fn emit_metrics(status: &StatusInner, _app: Option<u64>, _error: Option<ErrorKind>) {
        use crate::stats::names;
        if let Some(entries) = status.entries {
            metrics::gauge!(names::SOURCE_ALLOWLIST_ENTRIES).set(entries as f64);
        }
        metrics::gauge!(names::SOURCE_ALLOWLIST_FAILURES)
            .set(f64::from(status.consecutive_failures));
        if let Some(at) = status
            .last_success
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        {
            metrics::gauge!(names::SOURCE_ALLOWLIST_LAST_SUCCESS).set(at.as_secs_f64());
        }
    }
}
