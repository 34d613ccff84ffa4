//! The callback token and the snapshot a verification checks against.

use std::fmt;
use std::sync::Arc;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The longest token Tencent accepts, in bytes.
pub const MAX_TOKEN_LEN: usize = 128;

/// A callback authentication token, ready to verify signatures.
///
/// Tencent signs each callback with `Sign = hex(SHA-256(Token ‖ RequestTime))`. A `CallbackToken`
/// absorbs the token into a SHA-256 state once, when it is created, so that each verification only
/// hashes the `RequestTime` digits (one SHA-256 block for tokens of up to 45 bytes, two blocks for the
/// longest tokens).
///
/// Cloning is cheap (one reference count). Two tokens compare equal (in constant time) when their
/// bytes are equal. `Debug` never shows the token; [`CallbackToken::fingerprint`] gives a short,
/// non-reversible identifier suitable for logs.
///
/// # Examples
///
/// ```
/// use tim_callback_auth::CallbackToken;
///
/// // The official test vector.
/// let token = CallbackToken::new("xxxxyyyy")?;
/// assert_eq!(
///     token.sign(1669872112),
///     "17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061",
/// );
/// assert!(!format!("{token:?}").contains("xxxxyyyy"));
/// # Ok::<(), tim_callback_auth::InvalidToken>(())
/// ```
#[derive(Clone)]
pub struct CallbackToken {
    inner: Arc<TokenInner>,
}

struct TokenInner {
    /// SHA-256 state after absorbing the token bytes.
    state: Sha256,
    /// The token itself, kept for equality (rotation detection) and [`CallbackToken::expose`].
    bytes: Box<[u8]>,
}

impl CallbackToken {
    /// Creates a token from its text.
    ///
    /// # Errors
    ///
    /// [`InvalidToken`] when the token is empty (an empty token would make every signature forgeable)
    /// or longer than [`MAX_TOKEN_LEN`] bytes.
    pub fn new(token: &str) -> Result<Self, InvalidToken> {
        Self::from_bytes(token.as_bytes())
    }

    /// Creates a token from raw bytes. See [`CallbackToken::new`].
    ///
    /// # Errors
    ///
    /// [`InvalidToken`] when the token is empty or longer than [`MAX_TOKEN_LEN`] bytes.
    pub fn from_bytes(token: &[u8]) -> Result<Self, InvalidToken> {
        if token.is_empty() {
            return Err(InvalidToken(InvalidTokenKind::Empty));
        }
        if token.len() > MAX_TOKEN_LEN {
            return Err(InvalidToken(InvalidTokenKind::TooLong));
        }
        let mut state = Sha256::new();
        state.update(token);
        Ok(Self {
            inner: Arc::new(TokenInner {
                state,
                bytes: token.into(),
            }),
        })
    }

    /// Computes the digest Tencent would sign for this `RequestTime`, exactly as received.
    ///
    /// This is the hot path of a verification: it clones the precomputed state and hashes only
    /// `request_time`. It does not allocate.
    #[inline]
    pub(crate) fn digest(&self, request_time: &[u8]) -> [u8; 32] {
        let mut state = self.inner.state.clone();
        state.update(request_time);
        state.finalize().into()
    }

    /// Returns the lowercase hex `Sign` Tencent would send with this `RequestTime`.
    ///
    /// Useful for tests, callback simulators and users' own test suites. It allocates the returned
    /// string; verification never calls it.
    pub fn sign(&self, request_time: u64) -> String {
        let mut buf = [0u8; 20];
        let digits = format_u64(request_time, &mut buf);
        hex::encode(self.digest(digits))
    }

    /// A short identifier of this token for logs and status output: the first 8 hex digits of
    /// SHA-256(token). It does not reveal the token.
    pub fn fingerprint(&self) -> String {
        let digest = Sha256::digest(&self.inner.bytes);
        hex::encode(&digest[..4])
    }

    /// The token's bytes, for code that must hand the token to Tencent (for example
    /// `set_callback_token`). Treat the result as a secret.
    pub fn expose(&self) -> &[u8] {
        &self.inner.bytes
    }
}

impl PartialEq for CallbackToken {
    fn eq(&self, other: &Self) -> bool {
        // `ct_eq` on slices of different lengths returns false without leaking contents.
        self.inner.bytes.ct_eq(&other.inner.bytes).into()
    }
}

impl Eq for CallbackToken {}

impl fmt::Debug for CallbackToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackToken")
            .field("token", &format_args!("Sensitive"))
            .finish()
    }
}

/// Writes `n` in decimal into `buf` and returns the digits.
pub(crate) fn format_u64(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[i..]
}

/// The error returned when a token cannot be used: empty or longer than 128 bytes.
///
/// Its messages never contain the token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidToken(InvalidTokenKind);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum InvalidTokenKind {
    Empty,
    TooLong,
}

impl InvalidToken {
    /// Whether the token was empty.
    pub fn is_empty(&self) -> bool {
        self.0 == InvalidTokenKind::Empty
    }

    /// Whether the token was longer than [`MAX_TOKEN_LEN`] bytes.
    pub fn is_too_long(&self) -> bool {
        self.0 == InvalidTokenKind::TooLong
    }
}

impl fmt::Display for InvalidToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            InvalidTokenKind::Empty => f.pad("callback token is empty"),
            InvalidTokenKind::TooLong => f.pad("callback token is longer than 128 bytes"),
        }
    }
}

impl std::error::Error for InvalidToken {}

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
/// # Ok::<(), tim_callback_auth::InvalidToken>(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn official_vector_signs() {
        let token = CallbackToken::new("xxxxyyyy").unwrap();
        assert_eq!(
            token.sign(1669872112),
            "17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061"
        );
    }

    #[test]
    fn empty_and_overlong_tokens_are_refused() {
        assert!(CallbackToken::new("").unwrap_err().is_empty());
        assert!(CallbackToken::new(&"a".repeat(129))
            .unwrap_err()
            .is_too_long());
        assert!(CallbackToken::new(&"a".repeat(128)).is_ok());
        assert!(CallbackToken::new("a").is_ok());
    }

    #[test]
    fn debug_redacts_the_token() {
        let token = CallbackToken::new("super-secret-token").unwrap();
        let snapshot = TokenSnapshot::enabled(token.clone()).with_previous(token, 5);
        let shown = format!("{snapshot:?}");
        assert!(!shown.contains("super-secret-token"), "{shown}");
        assert!(shown.contains("Sensitive"));
    }

    #[test]
    fn format_u64_matches_to_string() {
        for n in [0u64, 7, 10, 1669872112, u64::MAX] {
            let mut buf = [0u8; 20];
            assert_eq!(format_u64(n, &mut buf), n.to_string().as_bytes());
        }
    }

    #[test]
    fn tokens_compare_by_value() {
        let a = CallbackToken::new("abc").unwrap();
        assert_eq!(a, CallbackToken::new("abc").unwrap());
        assert_ne!(a, CallbackToken::new("abd").unwrap());
        assert_ne!(a, CallbackToken::new("abcd").unwrap());
    }

    #[test]
    fn fingerprint_is_short_and_stable() {
        let a = CallbackToken::new("abc").unwrap();
        assert_eq!(a.fingerprint().len(), 8);
        assert_eq!(
            a.fingerprint(),
            CallbackToken::new("abc").unwrap().fingerprint()
        );
        assert!(!a.fingerprint().contains("abc"));
    }
}
