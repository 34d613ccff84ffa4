//! Pure, synchronous verification of a callback's query string: no I/O, no allocation.
//!
//! [`Verifier::verify`] is below; the pieces it is made of live beside it, each with the property
//! test that pins its optimisation to the plain path: the query scan and the trailing-`RequestTime`
//! shortcut ([`scan`]), the decimal parser and formatter ([`digits`]), constant-time comparison
//! ([`ct`]); the per-thread `Sign` cache is the token's (`crate::token::cache`).

pub(crate) mod ct;
pub(crate) mod digits;
mod outcome;
mod rejection;
mod scan;

use std::fmt;
use std::time::Duration;

pub(crate) use self::outcome::Verified;
pub use self::outcome::VerifiedCallback;
pub use self::rejection::Rejection;
pub(crate) use self::scan::{scan, Scan};
use self::scan::{scan_all, Tail};

use self::ct::ct_eq;
use self::digits::Decimal;
use crate::hex;
use crate::token::TokenSnapshot;

/// The length of a `Sign`: a SHA-256 digest in hex.
const SIGN_HEX_LEN: usize = 64;

/// Checks a callback's `Sign` and `RequestTime` against a [`TokenSnapshot`].
///
/// The verifier is plain configuration: it is `Copy`, does no I/O and never allocates. The
/// [`CallbackAuthLayer`](crate::CallbackAuthLayer) calls it for every request; call it yourself when
/// you do not use tower.
///
/// # Rules
///
/// 1. **One reading of the query**, the one a decoding parser (axum's `Query`, `serde_urlencoded`,
///    `form_urlencoded`) makes: the raw query is split on `&`, each part into key and value at the
///    first `=`. A parameter *names* `Sign` or `RequestTime` when its key, percent-decoded with `+`
///    read as a space, is exactly that name, and names the app id when it equals `SdkAppid` in any
///    ASCII case (`SdkAppid`, `SdkAppId`, …). Tencent never encodes these names, so a key that
///    names one of them without spelling it literally (`Sig%6E`, `%53dkAppid`) is refused
///    ([`Rejection::DisguisedParameter`]), even when it is the only one.
/// 2. The app id must appear exactly once (Tencent always sends it: [`Rejection::MissingAppId`]
///    without it), and `Sign` and `RequestTime` at most once while authentication is enabled
///    ([`Rejection::DuplicateParameter`]). The app id's value must be canonical decimal (no sign, no
///    leading zero, at most `u64::MAX`): a handler comparing text must see the app the verifier
///    saw, so `0888888` is not `888888`.
/// 3. `RequestTime` is 1 to 20 ASCII digits; `Sign` is exactly 64 hex digits, either case. (Both
///    rules refuse any `%` or `+` in these values, so decoded and raw values are the same.)
/// 4. The time check comes before any hashing; `|now − RequestTime| ≤ window` is accepted. When
///    `RequestTime` is the last parameter (Tencent's order), it is checked before the rest of the
///    query is scanned, so a stale request that also breaks rule 1, 2 or 3 reads
///    [`Expired`](Rejection::Expired) / [`FromFuture`](Rejection::FromFuture). Which requests are
///    accepted does not depend on this order.
/// 5. With [`with_app_id`](Verifier::with_app_id) (which the layer sets from a handle that knows
///    its app), the app id must equal it (checked after the time, before the hash). This check also
///    applies when authentication is disabled: it is the app's own configuration, not Tencent's.
/// 6. SHA-256(token ‖ RequestTime as received) is compared in constant time with the decoded `Sign`:
///    first the current token, then the previous one while its deadline has not passed.
/// 7. A disabled snapshot lets the request through unverified (rules 1 and 2 still apply to the app
///    id), unless [`require_signature(true)`](Verifier::require_signature) is set.
///
/// # Performance: the per-thread `Sign` cache
///
/// Verification allocates nothing and hashes at most once per thread per second. Every callback
/// Tencent sends within one second carries the same `Sign`, so each thread keeps the `Sign` of the
/// last `(token, RequestTime)` it hashed (one entry of about 130 bytes per thread, for the life of
/// the thread). What it buys and what it cannot do:
///
/// - A callback of a second the thread has already seen is checked by one constant-time
///   comparison with the cached hex: no decoding, no hashing. A forged `Sign` for that second costs
///   no hash either.
/// - The first callback of each second pays the full path: hex decode, one SHA-256 compression
///   from the token's precomputed midstate, and the hex encoding that fills the cache (about three
///   times the cached path).
/// - One entry per thread, no eviction policy: apps that interleave on one thread (or the two tokens
///   of a rotation) evict each other, and each such callback pays the full path. Correctness never
///   depends on a hit.
/// - The key is a token id never reused within the process plus the `RequestTime`'s value and digit
///   count, which fix its exact bytes: an entry cannot answer for another token or another
///   spelling of the time.
///
/// Figures, and the cost of each path, are in `BENCHMARKS.md`.
///
/// An accepted request yields a [`VerifiedCallback`]: the app id and `RequestTime` the verifier
/// read, so that a handler never parses the query again for them.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use tim_callback_auth::{CallbackToken, Rejection, TokenSnapshot, Verifier};
///
/// let token = CallbackToken::new("xxxxyyyy")?;
/// let snapshot = TokenSnapshot::enabled(token);
/// let verifier = Verifier::new().with_app_id(888888);
/// let query = "SdkAppid=888888&CallbackCommand=C2C.CallbackAfterSendMsg&contenttype=json\
///     &Sign=17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061&RequestTime=1669872112";
///
/// let verified = verifier.verify(&snapshot, query, 1669872112 + 30)?;
/// assert!(!verified.previous_token());
/// assert_eq!(verified.app_id(), 888888);
/// assert_eq!(verified.request_time(), Some(1669872112));
/// assert_eq!(verifier.verify(&snapshot, query, 1669872112 + 61), Err(Rejection::Expired));
///
/// // A second app id, percent-encoded so that a decoding parser would read it: refused.
/// let confused = format!("SdkAppi%64=999999&{query}");
/// assert_eq!(verifier.verify(&snapshot, &confused, 1669872112), Err(Rejection::DisguisedParameter));
///
/// let strict = Verifier::new().with_window(Duration::from_secs(10)).require_signature(true);
/// assert_eq!(
///     strict.verify(&TokenSnapshot::disabled(), "", 0),
///     Err(Rejection::AuthenticationDisabled),
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verifier {
    window_secs: u64,
    app_id: Option<AppId>,
    strict: bool,
}

impl Verifier {
    /// Verifies the raw query string of a callback (the part after `?`, not percent-decoded)
    /// against `tokens`, at Unix time `now_unix` (seconds), and returns what it established.
    ///
    /// Never allocates and never panics, whatever the query.
    ///
    /// # Errors
    ///
    /// The [`Rejection`] that explains why the request must not be trusted.
    pub fn verify(
        &self,
        tokens: &TokenSnapshot,
        query: &str,
        now_unix: u64,
    ) -> Result<VerifiedCallback, Rejection> {
        let query = query.as_bytes();
        if tokens.current().is_none() {
            return self.let_through(|| scan_all(query), AppCheck::from(&self.app_id));
        }
        let scan = match Tail::split(query) {
            Some(tail) => {
                // Early time check: a stale or future `RequestTime` in its usual place is
                // rejected before the rest of the query is read (see `Tail`).
                check_window(tail.time, now_unix, self.window_secs)?;
                tail.scan()
            }
            None => scan_all(query),
        };
        self.verify_scanned(&scan, tokens, now_unix, AppCheck::from(&self.app_id))
    }

    /// The answer while authentication is disabled: strict mode rejects; otherwise the request
    /// passes once its app id follows rules 1 and 2 (and matches, when one is required). `Sign`
    /// and `RequestTime` are not looked at.
    fn let_through<'q>(
        &self,
        scan: impl FnOnce() -> Scan<'q>,
        app: AppCheck<'_>,
    ) -> Result<VerifiedCallback, Rejection> {
        if self.strict {
            return Err(Rejection::AuthenticationDisabled);
        }
        let app_id = match app {
            // The caller has already read the app id from this query under the same rules.
            AppCheck::Known(id) => id,
            app => {
                let scan = scan();
                if scan.disguised {
                    return Err(Rejection::DisguisedParameter);
                }
                if scan.duplicate_app_id {
                    return Err(Rejection::DuplicateParameter);
                }
                app.read(&scan)?
            }
        };
        Ok(VerifiedCallback {
            app_id,
            request_time: None,
            verified: Verified::AuthenticationDisabled,
        })
    }

    /// [`verify`](Self::verify) on a query already scanned (the multi-app layer scans once to find
    /// the app, then verifies), with the app id rule `app`.
    pub(crate) fn verify_scanned(
        &self,
        scan: &Scan<'_>,
        tokens: &TokenSnapshot,
        now_unix: u64,
        app: AppCheck<'_>,
    ) -> Result<VerifiedCallback, Rejection> {
        let scan = *scan;
        let Some(current) = tokens.current() else {
            return self.let_through(|| scan, app);
        };

        if scan.disguised {
            return Err(Rejection::DisguisedParameter);
        }
        if scan.duplicate_auth || scan.duplicate_app_id {
            return Err(Rejection::DuplicateParameter);
        }
        let sign = scan.sign.ok_or(Rejection::MissingSign)?;
        let time_digits = scan.request_time.ok_or(Rejection::MissingRequestTime)?;
        let request_time = match scan.tail_time {
            // No duplicate (checked above), so `time_digits` is the tail's, already parsed.
            Some(time) => time,
            None => digits::parse(time_digits).map_err(|()| Rejection::MalformedRequestTime)?,
        };
        let sign: &[u8; SIGN_HEX_LEN] = sign.try_into().map_err(|_| Rejection::MalformedSign)?;
        // The time check comes before the app id, decoding and hashing: stale and future floods
        // cost the scan and nothing else.
        let time = check_window(request_time, now_unix, self.window_secs)?;
        let app_id = app.read(&scan)?;
        let accepted = |verified| {
            Ok(VerifiedCallback {
                app_id,
                request_time: Some(time),
                verified,
            })
        };
        // Fast path: the `Sign` of this second is usually cached, in lowercase hex; a byte-for-byte
        // match proves the Sign is well formed and right, without decoding or hashing.
        if current
            .cached_sign(time_digits, time)
            .is_some_and(|cached| ct_eq(&cached, sign))
        {
            return accepted(Verified::CurrentToken);
        }
        let expected = hex::decode(sign).ok_or(Rejection::MalformedSign)?;

        if ct_eq(&current.digest_cached(time_digits, time), &expected) {
            return accepted(Verified::CurrentToken);
        }
        if let Some((previous, valid_until)) = tokens.previous() {
            if now_unix <= valid_until
                && ct_eq(&previous.digest_cached(time_digits, time), &expected)
            {
                return accepted(Verified::PreviousToken);
            }
        }
        Err(Rejection::SignatureMismatch)
    }
}

impl Verifier {
    /// A verifier with a 60-second window in both directions, no app id check and no strict mode.
    pub const fn new() -> Self {
        Self {
            window_secs: 60,
            app_id: None,
            strict: false,
        }
    }

    /// Sets how far `RequestTime` may be from the current time, in either direction. Sub-second
    /// parts are ignored (`RequestTime` has whole seconds).
    #[must_use]
    pub const fn with_window(mut self, window: Duration) -> Self {
        self.window_secs = window.as_secs();
        self
    }

    /// Requires the `SdkAppid` parameter to be present and equal to `app_id`. Tencent's docs tell
    /// receivers to check it; it stops callbacks signed for another app that shares the token.
    #[must_use]
    pub const fn with_app_id(mut self, app_id: u64) -> Self {
        self.app_id = Some(AppId::new(app_id));
        self
    }

    /// Strict mode: when `true`, a request is rejected with
    /// [`Rejection::AuthenticationDisabled`] while Tencent reports authentication as disabled,
    /// instead of being let through unverified.
    #[must_use]
    pub const fn require_signature(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }

    /// The configured window.
    pub const fn window(&self) -> Duration {
        Duration::from_secs(self.window_secs)
    }

    /// The app id the verifier requires, if any.
    pub const fn app_id(&self) -> Option<u64> {
        match self.app_id {
            Some(app) => Some(app.value),
            None => None,
        }
    }
}

impl Default for Verifier {
    fn default() -> Self {
        Self::new()
    }
}

/// The required app id, with its canonical decimal digits precomputed: the check is one short
/// byte comparison instead of parsing the parameter.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct AppId {
    value: u64,
    digits: Decimal,
}

impl AppId {
    const fn new(value: u64) -> Self {
        Self {
            value,
            digits: Decimal::new(value),
        }
    }

    /// `digits` names this app: exactly its canonical decimal digits (`0888888` is another string,
    /// so it is another app to a handler that compares text).
    fn matches(&self, digits: &[u8]) -> bool {
        digits == self.digits.as_bytes()
    }
}

impl fmt::Debug for AppId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.value, f)
    }
}

/// How the app id parameter is judged, once rules 1 and 2 (no disguised name, no duplicate) hold.
#[derive(Clone, Copy)]
pub(crate) enum AppCheck<'a> {
    /// It must be this app's canonical digits ([`Verifier::with_app_id`]).
    Required(&'a AppId),
    /// The caller has already read it from this query under the same rules: this app.
    Known(u64),
    /// Any app: it must be present and canonical decimal, and is reported.
    Read,
}

impl<'a> From<&'a Option<AppId>> for AppCheck<'a> {
    #[inline(always)]
    fn from(app: &'a Option<AppId>) -> Self {
        app.as_ref().map_or(AppCheck::Read, AppCheck::Required)
    }
}

impl AppCheck<'_> {
    /// The app id to report for a scan without disguised names or duplicates.
    #[inline(always)]
    fn read(self, scan: &Scan<'_>) -> Result<u64, Rejection> {
        match self {
            AppCheck::Required(expected) => match scan.app_id {
                Some(digits) if expected.matches(digits) => Ok(expected.value),
                Some(_) => Err(Rejection::AppIdMismatch),
                None => Err(Rejection::MissingAppId),
            },
            AppCheck::Known(id) => Ok(id),
            AppCheck::Read => match scan.app_id {
                None => Err(Rejection::MissingAppId),
                Some(digits) => digits::parse_canonical(digits).ok_or(Rejection::AppIdMismatch),
            },
        }
    }
}

impl Scan<'_> {
    /// The app id parameter, read under rules 1 and 2: an error when it is absent, a name is
    /// disguised or duplicated, or the value is not canonical decimal.
    pub(crate) fn parsed_app_id(&self) -> Result<u64, Rejection> {
        if self.disguised {
            return Err(Rejection::DisguisedParameter);
        }
        if self.duplicate_app_id {
            return Err(Rejection::DuplicateParameter);
        }
        AppCheck::Read.read(self)
    }
}

/// The `RequestTime` of a query, read under the verifier's rules (for log lines; `None` when it is
/// missing, duplicated or malformed).
pub(crate) fn request_time(query: &str) -> Option<u64> {
    let scan = scan(query.as_bytes());
    if scan.duplicate_auth {
        return None;
    }
    digits::parse(scan.request_time?).ok().flatten()
}

/// The time check: `request_time` (`None` when beyond `u64`) within `window` seconds of `now`.
pub(crate) fn check_window(
    request_time: Option<u64>,
    now: u64,
    window: u64,
) -> Result<u64, Rejection> {
    // `None`: more digits than fit in a u64, which is beyond any window.
    let request_time = request_time.ok_or(Rejection::FromFuture)?;
    if now > request_time && now - request_time > window {
        return Err(Rejection::Expired);
    }
    if request_time > now && request_time - now > window {
        return Err(Rejection::FromFuture);
    }
    Ok(request_time)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::CallbackToken;

    const VECTOR_SIGN: &str = "17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061";
    const VECTOR_TIME: u64 = 1669872112;

    fn snapshot() -> TokenSnapshot {
        TokenSnapshot::enabled(CallbackToken::new("xxxxyyyy").unwrap())
    }

    fn query(sign: &str, time: u64) -> String {
        format!("SdkAppid=888888&CallbackCommand=C2C.CallbackAfterSendMsg&Sign={sign}&RequestTime={time}")
    }

    #[test]
    fn uppercase_hex_is_accepted() {
        let q = query(&VECTOR_SIGN.to_uppercase(), VECTOR_TIME);
        assert_eq!(
            Verifier::new()
                .verify(&snapshot(), &q, VECTOR_TIME)
                .map(|v| v.verified()),
            Ok(Verified::CurrentToken)
        );
    }

    #[test]
    fn window_edges_are_inclusive_in_both_directions() {
        let v = Verifier::new();
        let q = query(VECTOR_SIGN, VECTOR_TIME);
        let s = snapshot();
        assert!(v
            .verify(&s, &q, VECTOR_TIME + 60)
            .map(|v| v.verified())
            .is_ok());
        assert!(v
            .verify(&s, &q, VECTOR_TIME - 60)
            .map(|v| v.verified())
            .is_ok());
        assert_eq!(
            v.verify(&s, &q, VECTOR_TIME + 61).map(|v| v.verified()),
            Err(Rejection::Expired)
        );
        assert_eq!(
            v.verify(&s, &q, VECTOR_TIME - 61).map(|v| v.verified()),
            Err(Rejection::FromFuture)
        );
    }

    #[test]
    fn time_beyond_u64_is_from_the_future() {
        let q = "Sign=17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061&RequestTime=99999999999999999999";
        assert_eq!(
            Verifier::new()
                .verify(&snapshot(), q, VECTOR_TIME)
                .map(|v| v.verified()),
            Err(Rejection::FromFuture)
        );
    }

    fn hashes_during(f: impl FnOnce()) -> u64 {
        let before = crate::token::HASHES.with(|n| n.get());
        f();
        crate::token::HASHES.with(|n| n.get()) - before
    }

    #[test]
    fn stale_future_and_malformed_requests_are_rejected_without_hashing() {
        let s = snapshot();
        let v = Verifier::new().with_app_id(888888);
        let cases = [
            (
                query(VECTOR_SIGN, VECTOR_TIME),
                VECTOR_TIME + 3600,
                Rejection::Expired,
            ),
            (
                query(VECTOR_SIGN, VECTOR_TIME),
                VECTOR_TIME - 3600,
                Rejection::FromFuture,
            ),
            (
                query(&"0".repeat(64), VECTOR_TIME),
                VECTOR_TIME + 61,
                Rejection::Expired,
            ),
            (
                query("zz", VECTOR_TIME),
                VECTOR_TIME,
                Rejection::MalformedSign,
            ),
            (
                query(&"g".repeat(64), VECTOR_TIME),
                VECTOR_TIME,
                Rejection::MalformedSign,
            ),
            (
                query(VECTOR_SIGN, VECTOR_TIME).replace("888888", "1"),
                VECTOR_TIME,
                Rejection::AppIdMismatch,
            ),
        ];
        for (q, now, expected) in cases {
            let hashes = hashes_during(|| {
                assert_eq!(v.verify(&s, &q, now).map(|v| v.verified()), Err(expected))
            });
            assert_eq!(hashes, 0, "{expected:?}");
        }
    }

    #[test]
    fn callbacks_of_one_second_share_one_hash() {
        let s = TokenSnapshot::enabled(CallbackToken::new("one-hash-per-second").unwrap());
        let token = s.current().unwrap().clone();
        let q = query(&token.sign(VECTOR_TIME + 7), VECTOR_TIME + 7);
        let hashes = hashes_during(|| {
            for _ in 0..100 {
                assert_eq!(
                    Verifier::new()
                        .verify(&s, &q, VECTOR_TIME)
                        .map(|v| v.verified()),
                    Ok(Verified::CurrentToken)
                );
            }
        });
        assert_eq!(hashes, 1);
        // A forged Sign in the same second costs no hash either once the second is cached.
        let forged = query(&"ab".repeat(32), VECTOR_TIME + 7);
        let hashes = hashes_during(|| {
            assert_eq!(
                Verifier::new()
                    .verify(&s, &forged, VECTOR_TIME)
                    .map(|v| v.verified()),
                Err(Rejection::SignatureMismatch)
            );
        });
        assert_eq!(hashes, 0);
    }

    #[test]
    fn app_id_is_matched_by_its_canonical_digits_only() {
        for value in [0, 7, 888888, 1_400_000_000, u64::MAX] {
            let app = AppId::new(value);
            assert_eq!(app.digits.as_bytes(), value.to_string().as_bytes());
            assert!(app.matches(value.to_string().as_bytes()));
            // Leading zeros spell the same number but another string: a handler comparing text
            // would see another app.
            let padded = format!("0{value}");
            assert!(!app.matches(padded.as_bytes()), "{padded}");
            assert_eq!(digits::parse_canonical(padded.as_bytes()), None, "{padded}");
            assert_eq!(
                digits::parse_canonical(value.to_string().as_bytes()),
                Some(value)
            );
            assert!(!app.matches(format!("{value}1").as_bytes()));
            assert!(!app.matches(b""));
            assert!(!app.matches(format!("+{value}").as_bytes()));
        }
        let v = Verifier::new().with_app_id(888888);
        assert_eq!(v.app_id(), Some(888888));
        assert_eq!(
            format!("{v:?}"),
            "Verifier { window_secs: 60, app_id: Some(888888), strict: false }"
        );
    }

    #[test]
    fn app_id_overflow_is_a_mismatch() {
        assert_eq!(digits::parse_canonical(b"99999999999999999999"), None);
        assert_eq!(
            digits::parse_canonical(b"18446744073709551615"),
            Some(u64::MAX)
        );
    }
}
