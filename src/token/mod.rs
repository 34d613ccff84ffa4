//! The callback token ([`CallbackToken`]: a precomputed SHA-256 midstate) and the snapshot a
//! verification checks against ([`TokenSnapshot`]); the per-thread `Sign` cache is in `cache`.

mod cache;
mod snapshot;

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use sha2::block_api::compress256;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

#[cfg(test)]
pub(crate) use self::cache::HASHES;
pub use self::snapshot::TokenSnapshot;
use crate::error::Error;
use crate::hex;
use crate::verify::digits::Decimal;

/// Tokens shorter than this (128 bits of text) are logged at `WARN` when loaded: one captured
/// `Sign`/`RequestTime` pair lets anyone test guesses offline, so a short or guessable token can
/// be recovered.
pub(crate) const WEAK_TOKEN_LEN: usize = 16;

/// A callback authentication token, ready to verify signatures.
///
/// Tencent signs each callback with `Sign = hex(SHA-256(Token ‖ RequestTime))`. A `CallbackToken`
/// absorbs the token's full 64-byte blocks into a SHA-256 midstate once, when it is created, so each
/// verification compresses only the final block: the token's last `len % 64` bytes, the
/// `RequestTime` digits and the padding. That is one SHA-256 compression whenever
/// `len % 64 + digits ≤ 55` (every token of up to 45 bytes, and the 64- and 128-byte ones), two
/// otherwise.
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
/// # Ok::<(), tim_callback_auth::Error>(())
/// ```
#[derive(Clone)]
pub struct CallbackToken {
    inner: Arc<TokenInner>,
}

struct TokenInner {
    /// Unique per token value created in this process: the key of the per-thread digest cache
    /// (an address could be reused after a token is dropped; this id never is).
    id: u64,
    /// SHA-256 state after the token's full 64-byte blocks.
    midstate: [u32; 8],
    /// How many full blocks `midstate` absorbed.
    full_blocks: usize,
    /// The token itself: its tail (after the full blocks) goes into every final block; also kept
    /// for equality (rotation detection) and [`CallbackToken::expose`].
    bytes: Box<[u8]>,
}

/// Source of [`TokenInner::id`]; starts at 1 so that 0 marks an empty cache entry.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// SHA-256's initial state (FIPS 180-4, 5.3.3).
const SHA256_IV: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

impl CallbackToken {
    /// The longest token Tencent accepts, in bytes.
    pub const MAX_LEN: usize = 128;

    /// Creates a token from its text.
    ///
    /// # Errors
    ///
    /// An [`Error`] of kind [`InvalidInput`](crate::ErrorKind::InvalidInput) when the token is empty (an empty token would make every signature forgeable)
    /// or longer than [`CallbackToken::MAX_LEN`] bytes.
    pub fn new(token: &str) -> Result<Self, Error> {
        Self::from_bytes(token.as_bytes())
    }

    /// Creates a token from raw bytes. See [`CallbackToken::new`].
    ///
    /// # Errors
    ///
    /// An [`Error`] of kind [`InvalidInput`](crate::ErrorKind::InvalidInput) when the token is empty or longer than [`CallbackToken::MAX_LEN`] bytes.
    pub fn from_bytes(token: &[u8]) -> Result<Self, Error> {
        if token.is_empty() {
            return Err(Error::invalid_input("the callback token is empty"));
        }
        if token.len() > Self::MAX_LEN {
            return Err(Error::invalid_input(
                "the callback token is longer than 128 bytes",
            ));
        }
        let (blocks, _) = token.as_chunks::<64>();
        let mut midstate = SHA256_IV;
        compress256(&mut midstate, blocks);
        Ok(Self {
            inner: Arc::new(TokenInner {
                id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
                midstate,
                full_blocks: blocks.len(),
                bytes: token.into(),
            }),
        })
    }

    /// The cache key of `(self, request_time)`; `request_time` holds the digits of `value`.
    #[inline]
    fn cache_key(&self, request_time: &[u8], value: u64) -> cache::Key {
        debug_assert!(
            crate::verify::digits::parse(request_time) == Ok(Some(value)),
            "request_time must be the digits of value"
        );
        cache::Key {
            token_id: self.inner.id,
            time: value,
            time_len: request_time.len(),
        }
    }

    /// The lowercase hex `Sign` for `request_time` (the digits of `value`), when this thread
    /// computed it last (the common case: every callback of one second carries the same `Sign`).
    /// `None` means "compute it".
    #[inline]
    pub(crate) fn cached_sign(&self, request_time: &[u8], value: u64) -> Option<[u8; 64]> {
        cache::sign(self.cache_key(request_time, value))
    }

    /// [`digest`](Self::digest) through the per-thread cache of the last `(token, RequestTime)`;
    /// `request_time` holds the digits of `value`.
    #[inline]
    pub(crate) fn digest_cached(&self, request_time: &[u8], value: u64) -> [u8; 32] {
        let key = self.cache_key(request_time, value);
        cache::digest(key).unwrap_or_else(|| {
            let digest = self.digest(request_time);
            cache::store(key, digest);
            digest
        })
    }

    /// Computes SHA-256(token ‖ request_time), the digest Tencent signs, from the midstate.
    ///
    /// This is the hot path of a verification: it pads the token's tail and `request_time` into one
    /// or two blocks on the stack and compresses only those. It does not allocate.
    #[inline]
    pub(crate) fn digest(&self, request_time: &[u8]) -> [u8; 32] {
        #[cfg(test)]
        cache::HASHES.with(|n| n.set(n.get() + 1));
        let inner = &*self.inner;
        let tail = &inner.bytes[inner.full_blocks * 64..];
        let len = tail.len() + request_time.len();
        if len + 9 > 128 {
            // Only for inputs longer than any RequestTime the verifier lets through.
            let mut hasher = Sha256::new();
            hasher.update(&inner.bytes);
            hasher.update(request_time);
            return hasher.finalize().into();
        }
        let mut buf = [0u8; 128];
        buf[..tail.len()].copy_from_slice(tail);
        buf[tail.len()..len].copy_from_slice(request_time);
        buf[len] = 0x80;
        let end = if len + 9 <= 64 { 64 } else { 128 };
        let bits = ((inner.bytes.len() + request_time.len()) as u64) * 8;
        buf[end - 8..end].copy_from_slice(&bits.to_be_bytes());
        let mut state = inner.midstate;
        compress256(&mut state, buf[..end].as_chunks::<64>().0);
        let mut out = [0u8; 32];
        for (chunk, word) in out.chunks_exact_mut(4).zip(state) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
        out
    }

    /// Returns the lowercase hex `Sign` Tencent would send with this `RequestTime`.
    ///
    /// Useful for tests, callback simulators and users' own test suites. It allocates the returned
    /// string; verification never calls it.
    pub fn sign(&self, request_time: u64) -> String {
        let digits = Decimal::new(request_time);
        let hex = hex::encode(&self.digest(digits.as_bytes()));
        String::from_utf8_lossy(&hex).into_owned()
    }

    /// A short identifier of this token for logs and status output: the first 8 hex digits of
    /// SHA-256(token), the same in every process, so that two instances (or `rotate_token` and a
    /// server) can be compared.
    ///
    /// For a token shorter than 16 bytes it is `withheld`: any stable digest of a short token lets
    /// an offline search recover it, so such a token has no fingerprint in logs (and is warned
    /// about when loaded).
    pub fn fingerprint(&self) -> String {
        if self.is_weak() {
            return "withheld".to_owned();
        }
        let digest: [u8; 32] = Sha256::digest(&self.inner.bytes).into();
        String::from_utf8_lossy(&hex::encode(&digest)[..8]).into_owned()
    }

    /// Shorter than [`WEAK_TOKEN_LEN`]: recoverable offline from one captured `Sign`.
    pub(crate) fn is_weak(&self) -> bool {
        self.inner.bytes.len() < WEAK_TOKEN_LEN
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_overlong_tokens_are_refused() {
        let empty = CallbackToken::new("").unwrap_err();
        assert_eq!(empty.kind(), crate::ErrorKind::InvalidInput);
        assert!(empty.to_string().contains("empty"), "{empty}");
        let long = CallbackToken::new(&"a".repeat(129)).unwrap_err();
        assert_eq!(long.kind(), crate::ErrorKind::InvalidInput);
        assert!(long.to_string().contains("longer than 128 bytes"), "{long}");
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
    fn midstate_digest_matches_plain_sha256_for_every_length() {
        for token_len in 1..=CallbackToken::MAX_LEN {
            let text: String = (0..token_len)
                .map(|i| (b'a' + (i % 26) as u8) as char)
                .collect();
            let token = CallbackToken::new(&text).unwrap();
            for time in ["0", "1669872112", "18446744073709551615", &"9".repeat(70)] {
                let expected: [u8; 32] = Sha256::digest(format!("{text}{time}")).into();
                assert_eq!(
                    token.digest(time.as_bytes()),
                    expected,
                    "{token_len} + {time}"
                );
            }
        }
    }

    #[test]
    fn cached_digest_is_keyed_by_token_and_exact_time_bytes() {
        let a = CallbackToken::new("token-a").unwrap();
        let b = CallbackToken::new("token-b").unwrap();
        for (token, time) in [
            (&a, "100"),
            (&a, "100"),
            (&b, "100"),
            (&a, "0100"),
            (&a, "101"),
        ] {
            let value = time.parse().unwrap();
            assert_eq!(
                token.digest_cached(time.as_bytes(), value),
                token.digest(time.as_bytes())
            );
            let sign = token.cached_sign(time.as_bytes(), value).unwrap();
            assert_eq!(
                sign.as_slice(),
                ::hex::encode(token.digest(time.as_bytes())).as_bytes()
            );
        }
        assert_eq!(
            a.cached_sign(b"100", 100),
            None,
            "only the latest entry is kept"
        );
        assert_eq!(
            a.cached_sign(b"0101", 101),
            None,
            "the same value spelled otherwise"
        );
        // A token dropped and another created: ids are never reused.
        drop(b);
        let c = CallbackToken::new("token-c").unwrap();
        assert_eq!(c.digest_cached(b"100", 100), c.digest(b"100"));
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
        let text = "a-random-looking-token-0123456789";
        let a = CallbackToken::new(text).unwrap();
        assert_eq!(a.fingerprint().len(), 8);
        assert_eq!(
            a.fingerprint(),
            CallbackToken::new(text).unwrap().fingerprint()
        );
        let digest = ::hex::encode(Sha256::digest(text));
        assert_eq!(a.fingerprint(), digest[..8]);
    }

    #[test]
    fn a_short_token_has_no_fingerprint() {
        // Any stable digest of a short token can be inverted by search: none is shown.
        for short in ["abc", "qzvk", "fifteen-bytes-x"] {
            assert_eq!(CallbackToken::new(short).unwrap().fingerprint(), "withheld");
        }
        assert_ne!(
            CallbackToken::new("sixteen-bytes-xy")
                .unwrap()
                .fingerprint(),
            "withheld"
        );
    }
}
