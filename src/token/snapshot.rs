//! [`TokenSnapshot`]: what one verification checks against.

use super::CallbackToken;

/// What a verification checks against: the current token, the previous one during a grace period,
/// or the fact that callback authentication is disabled.
///
/// A snapshot is immutable; a [`TokenHandle`](crate::TokenHandle) swaps whole snapshots, so one load
/// always sees a consistent current/previous pair.
///
/// # Examples
///
/// ```
/// use tim_callback_auth::{CallbackToken, TokenSnapshot};
///
/// let old = CallbackToken::new("old-token")?;
/// let new = CallbackToken::new("new-token")?;
/// // After a rotation: accept the old token until Unix time 1_700_000_300.
/// let snapshot = TokenSnapshot::enabled(new.clone()).with_previous(old, 1_700_000_300);
/// assert_eq!(snapshot.current(), Some(&new));
/// assert!(snapshot.is_enabled());
/// assert!(!TokenSnapshot::disabled().is_enabled());
/// # Ok::<(), tim_callback_auth::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenSnapshot {
    state: SnapshotState,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum SnapshotState {
    Disabled,
    Enabled {
        current: CallbackToken,
        previous: Option<(CallbackToken, u64)>,
    },
}

impl TokenSnapshot {
    /// Authentication is on and callbacks must be signed with `current`.
    pub fn enabled(current: CallbackToken) -> Self {
        Self {
            state: SnapshotState::Enabled {
                current,
                previous: None,
            },
        }
    }

    /// Authentication is off (`IsTokenEnable: false`, or not configured): callbacks are let through
    /// unverified, unless the [`Verifier`](crate::Verifier) is in strict mode.
    pub fn disabled() -> Self {
        Self {
            state: SnapshotState::Disabled,
        }
    }

    /// Also accepts `previous` until Unix time `valid_until` (inclusive), for the period after a
    /// rotation in which Tencent may still sign with the old token.
    ///
    /// Has no effect on a disabled snapshot.
    #[must_use]
    pub fn with_previous(mut self, previous: CallbackToken, valid_until: u64) -> Self {
        if let SnapshotState::Enabled { previous: slot, .. } = &mut self.state {
            *slot = Some((previous, valid_until));
        }
        self
    }

    /// The same snapshot without its previous token: the grace period ends now.
    #[must_use]
    pub fn without_previous(mut self) -> Self {
        if let SnapshotState::Enabled { previous, .. } = &mut self.state {
            *previous = None;
        }
        self
    }

    /// Whether callback authentication is enabled.
    pub fn is_enabled(&self) -> bool {
        matches!(self.state, SnapshotState::Enabled { .. })
    }

    /// The current token, when authentication is enabled.
    pub fn current(&self) -> Option<&CallbackToken> {
        match &self.state {
            SnapshotState::Enabled { current, .. } => Some(current),
            SnapshotState::Disabled => None,
        }
    }

    /// The previous token and the Unix time until which it is accepted, if any.
    pub fn previous(&self) -> Option<(&CallbackToken, u64)> {
        match &self.state {
            SnapshotState::Enabled {
                previous: Some((token, until)),
                ..
            } => Some((token, *until)),
            _ => None,
        }
    }
}
