//! Pure, synchronous verification of a callback's query string: no I/O, no allocation.

use std::fmt;
use std::time::Duration;

use subtle::ConstantTimeEq;

use crate::token::TokenSnapshot;

/// The longest `RequestTime` accepted, in digits (`u64::MAX` has 20).
const MAX_TIME_DIGITS: usize = 20;
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
/// 2. The app id may appear at most once, and `Sign` and `RequestTime` at most once while
///    authentication is enabled ([`Rejection::DuplicateParameter`]). The app id's value, when
///    present, must be canonical decimal (no sign, no leading zero, at most `u64::MAX`): a handler
///    comparing text must see the app the verifier saw, so `0888888` is not `888888`.
/// 3. `RequestTime` is 1 to 20 ASCII digits; `Sign` is exactly 64 hex digits, either case. (Both
///    rules refuse any `%` or `+` in these values, so decoded and raw values are the same.)
/// 4. The time check comes before any hashing; `|now − RequestTime| ≤ window` is accepted. When
///    `RequestTime` is the last parameter (Tencent's order), it is checked before the rest of the
///    query is scanned, so a stale request that also breaks rule 1, 2 or 3 reads
///    [`Expired`](Rejection::Expired) / [`FromFuture`](Rejection::FromFuture). Which requests are
///    accepted does not depend on this order.
/// 5. With [`with_app_id`](Verifier::with_app_id), the app id must be present and equal (checked
///    after the time, before the hash). This check also applies when authentication is disabled: it
///    is the app's own configuration, not Tencent's.
/// 6. SHA-256(token ‖ RequestTime as received) is compared in constant time with the decoded `Sign`:
///    first the current token, then the previous one while its deadline has not passed.
/// 7. A disabled snapshot lets the request through unverified (rules 1 and 2 still apply to the app
///    id), unless [`require_signature(true)`](Verifier::require_signature) is set.
///
/// An accepted request yields a [`VerifiedCallback`]: the app id and `RequestTime` the verifier
/// read, so that a handler never parses the query again for them.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use tim_callback_auth::{CallbackToken, Rejection, TokenSnapshot, Verified, Verifier};
///
/// let token = CallbackToken::new("xxxxyyyy")?;
/// let snapshot = TokenSnapshot::enabled(token);
/// let verifier = Verifier::new().with_app_id(888888);
/// let query = "SdkAppid=888888&CallbackCommand=C2C.CallbackAfterSendMsg&contenttype=json\
///     &Sign=17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061&RequestTime=1669872112";
///
/// let verified = verifier.verify(&snapshot, query, 1669872112 + 30)?;
/// assert_eq!(verified.verified(), Verified::CurrentToken);
/// assert_eq!(verified.app_id(), Some(888888));
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

/// The required app id, with its decimal digits precomputed: the usual check is one short byte
/// comparison instead of parsing the parameter.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct AppId {
    value: u64,
    digits: [u8; MAX_TIME_DIGITS],
    len: u8,
}

impl AppId {
    const fn new(value: u64) -> Self {
        let mut reversed = [0u8; MAX_TIME_DIGITS];
        let mut len = 0;
        let mut n = value;
        loop {
            reversed[len] = b'0' + (n % 10) as u8;
            len += 1;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        let mut digits = [0u8; MAX_TIME_DIGITS];
        let mut i = 0;
        while i < len {
            digits[i] = reversed[len - 1 - i];
            i += 1;
        }
        Self {
            value,
            digits,
            len: len as u8,
        }
    }

    fn digits(&self) -> &[u8] {
        &self.digits[..usize::from(self.len)]
    }

    /// `digits` names this app: exactly its canonical decimal digits (`0888888` is another string,
    /// so it is another app to a handler that compares text).
    fn matches(&self, digits: &[u8]) -> bool {
        digits == self.digits()
    }
}

impl fmt::Debug for AppId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.value, f)
    }
}

impl Default for Verifier {
    fn default() -> Self {
        Self::new()
    }
}

/// How a request passed verification.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Verified {
    /// The `Sign` matched the current token.
    CurrentToken,
    /// The `Sign` matched the previous token, inside its grace period after a rotation.
    PreviousToken,
    /// Callback authentication is disabled: the request was let through without a signature check.
    AuthenticationDisabled,
}

/// What the verifier established about an accepted callback: how it passed, the app and the
/// `RequestTime` it read.
///
/// The [`CallbackAuthLayer`](crate::CallbackAuthLayer) puts it into the extensions of every
/// request it lets through, so a handler takes it (axum: `Extension<VerifiedCallback>`) instead of
/// parsing the query again. Handlers must not trust any other query parameter (`CallbackCommand`,
/// `ClientIP`, `OptPlatform`) nor the body beyond what the protocol signs: the `Sign` covers only
/// the token and `RequestTime`.
///
/// # Examples
///
/// ```
/// use tim_callback_auth::{CallbackToken, TokenSnapshot, Verified, Verifier};
///
/// let token = CallbackToken::new("xxxxyyyy")?;
/// let query = format!("SdkAppid=888888&Sign={}&RequestTime=1669872112", token.sign(1669872112));
/// let verified = Verifier::new().verify(&TokenSnapshot::enabled(token), &query, 1669872112)?;
/// assert_eq!(verified.verified(), Verified::CurrentToken);
/// assert_eq!(verified.app_id(), Some(888888));
/// assert_eq!(verified.request_time(), Some(1669872112));
///
/// // Authentication disabled: nothing was verified, so there is no RequestTime to report.
/// let disabled = Verifier::new().verify(&TokenSnapshot::disabled(), "SdkAppid=888888", 0)?;
/// assert_eq!(disabled.request_time(), None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct VerifiedCallback {
    app_id: Option<u64>,
    request_time: Option<u64>,
    verified: Verified,
}

impl VerifiedCallback {
    /// The app the callback was checked for: the configured app
    /// ([`Verifier::with_app_id`], or the app an [`AppSet`](crate::AppSet) routed it to); without
    /// an app check, the query's `SdkAppid` read under the verifier's rules (unique, literal name,
    /// canonical decimal), which the `Sign` does not cover. `None` when the query has no app id and
    /// none was required.
    pub const fn app_id(&self) -> Option<u64> {
        self.app_id
    }

    /// The verified `RequestTime` (Unix seconds); `None` when no signature was checked
    /// (authentication disabled).
    pub const fn request_time(&self) -> Option<u64> {
        self.request_time
    }

    /// How the callback passed.
    pub const fn verified(&self) -> Verified {
        self.verified
    }
}

/// Why a request was rejected.
///
/// `Display` is a short lowercase reason that never contains the token, the `Sign` or the query.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rejection {
    /// No `Sign` parameter, while authentication is enabled.
    MissingSign,
    /// No `RequestTime` parameter, while authentication is enabled.
    MissingRequestTime,
    /// `Sign` is not exactly 64 hex digits.
    MalformedSign,
    /// `RequestTime` is not 1 to 20 ASCII digits.
    MalformedRequestTime,
    /// `Sign`, `RequestTime` or `SdkAppid` appears more than once.
    DuplicateParameter,
    /// A parameter name reads as `Sign`, `RequestTime` or `SdkAppid` only once percent-decoded
    /// (`Sig%6E`, `%53dkAppid`) or, for the app id, case-folded beyond ASCII: Tencent never writes
    /// these names so, and a parser in the handler would read a parameter the verifier did not
    /// check.
    DisguisedParameter,
    /// `RequestTime` is further in the past than the window allows.
    Expired,
    /// `RequestTime` is further in the future than the window allows.
    FromFuture,
    /// The `Sign` matches no token that is currently accepted.
    SignatureMismatch,
    /// `SdkAppid` is missing, not canonical decimal, or not the configured app.
    AppIdMismatch,
    /// Authentication is disabled at Tencent, but the verifier requires a signature (strict mode).
    AuthenticationDisabled,
    /// No token has been loaded yet (the refresher has not completed its first fetch).
    TokenUnavailable,
}

impl Rejection {
    /// Every reason, in declaration order (for metrics and statistics).
    pub const ALL: [Rejection; 12] = [
        Rejection::MissingSign,
        Rejection::MissingRequestTime,
        Rejection::MalformedSign,
        Rejection::MalformedRequestTime,
        Rejection::DuplicateParameter,
        Rejection::Expired,
        Rejection::FromFuture,
        Rejection::SignatureMismatch,
        Rejection::AppIdMismatch,
        Rejection::AuthenticationDisabled,
        Rejection::TokenUnavailable,
        Rejection::DisguisedParameter,
    ];

    /// The position of this reason in [`Rejection::ALL`].
    pub(crate) const fn index(&self) -> usize {
        match self {
            Rejection::MissingSign => 0,
            Rejection::MissingRequestTime => 1,
            Rejection::MalformedSign => 2,
            Rejection::MalformedRequestTime => 3,
            Rejection::DuplicateParameter => 4,
            Rejection::Expired => 5,
            Rejection::FromFuture => 6,
            Rejection::SignatureMismatch => 7,
            Rejection::AppIdMismatch => 8,
            Rejection::AuthenticationDisabled => 9,
            Rejection::TokenUnavailable => 10,
            Rejection::DisguisedParameter => 11,
        }
    }

    /// A short, stable, lowercase name for the reason, for metrics labels and logs.
    pub const fn as_str(&self) -> &'static str {
        match self {
            Rejection::MissingSign => "missing sign",
            Rejection::MissingRequestTime => "missing request time",
            Rejection::MalformedSign => "malformed sign",
            Rejection::MalformedRequestTime => "malformed request time",
            Rejection::DuplicateParameter => "duplicate parameter",
            Rejection::Expired => "request time too old",
            Rejection::FromFuture => "request time in the future",
            Rejection::SignatureMismatch => "signature mismatch",
            Rejection::AppIdMismatch => "app id mismatch",
            Rejection::AuthenticationDisabled => "authentication disabled",
            Rejection::TokenUnavailable => "token unavailable",
            Rejection::DisguisedParameter => "disguised parameter name",
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl std::error::Error for Rejection {}

/// The parameters of interest, as slices of the query (the last one seen when duplicated: the flag
/// says so).
#[derive(Clone, Copy, Default)]
pub(crate) struct Scan<'q> {
    sign: Option<&'q [u8]>,
    request_time: Option<&'q [u8]>,
    app_id: Option<&'q [u8]>,
    duplicate_auth: bool,
    duplicate_app_id: bool,
    /// Some key reads as one of the three names only once decoded or case-folded
    /// ([`disguised_name`]).
    disguised: bool,
    /// The value of `request_time`, when [`Tail`] has already parsed it.
    tail_time: Option<Option<u64>>,
}

/// One pass over `a=b&c=d` (minus a [`Tail`] already split off), keeping slices into the query. No
/// allocation. Tencent sends the three names unescaped; a key that names one of them only once
/// decoded sets [`Scan::disguised`] (see [`disguised_name`]).
///
/// The `&` separators are found eight bytes at a time ([`separators`]); each segment is then
/// classified by its first byte and a prefix comparison, so unrelated parameters cost one or two
/// byte comparisons. A key whose decoded or folded form is one of the three names starts with `S`,
/// `s`, `R`, `%` or a non-ASCII byte (decoding changes only `%XX` and `+`), so no other first byte
/// needs a second look.
pub(crate) fn scan(query: &[u8]) -> Scan<'_> {
    match Tail::split(query) {
        Some(tail) => tail.scan(),
        None => scan_all(query),
    }
}

/// A query that ends with a well-formed `RequestTime=<1 to 20 digits>`, where Tencent puts it:
/// the parameters before it and its parsed value.
///
/// [`Verifier::verify`] checks the time window on the tail alone, before scanning the rest, so a
/// stale or future request costs about 240 instructions whatever its length. This never turns a
/// rejection into an acceptance, nor the reverse: a query whose last parameter is a well-formed,
/// out-of-window `RequestTime` fails the full rules too (a duplicated, missing or malformed
/// parameter is a rejection, and otherwise that `RequestTime` is the one checked). Only the reason
/// reported can differ, for a request that also breaks another rule: it then reads `Expired` or
/// `FromFuture`.
pub(crate) struct Tail<'q> {
    head: &'q [u8],
    digits: &'q [u8],
    time: Option<u64>,
}

impl<'q> Tail<'q> {
    /// Splits `…&RequestTime=<digits>` (or a query that is only that parameter); `None` for any
    /// other ending, which the full scan then handles.
    #[inline]
    pub(crate) fn split(query: &'q [u8]) -> Option<Self> {
        const KEY: &[u8; 12] = b"RequestTime=";
        // One backward pass counts and values the digits: each adds `digit × 10^position`.
        // Below the 20th position no term or sum can exceed `u64`; the 20th is checked (`None`
        // beyond `u64`, as `parse_time` answers); a 21st digit is malformed (the full scan says so).
        let mut count = 0;
        let mut value = 0u64;
        let mut fits = true;
        for &byte in query.iter().rev() {
            let digit = byte.wrapping_sub(b'0');
            if digit > 9 {
                break;
            }
            if count < POW10.len() {
                value += u64::from(digit) * POW10[count];
            } else if count == POW10.len() {
                match TEN_POW_19
                    .checked_mul(u64::from(digit))
                    .and_then(|term| value.checked_add(term))
                {
                    Some(sum) => value = sum,
                    None => fits = false,
                }
            } else {
                return None;
            }
            count += 1;
        }
        if count == 0 {
            return None;
        }
        let time = fits.then_some(value);
        let (rest, digits) = query.split_at(query.len() - count);
        let (before, key) = rest.split_last_chunk::<12>()?;
        if key != KEY {
            return None;
        }
        let head = match before.split_last() {
            None => before,
            Some((b'&', head)) => head,
            Some(_) => return None,
        };
        Some(Self { head, digits, time })
    }

    /// The scan of the whole query: the head scanned, the tail added as its `RequestTime`.
    #[inline]
    pub(crate) fn scan(self) -> Scan<'q> {
        let mut out = scan_all(self.head);
        out.duplicate_auth |= out.request_time.replace(self.digits).is_some();
        out.tail_time = Some(self.time);
        out
    }
}

/// [`scan`] without the tail shortcut.
fn scan_all(query: &[u8]) -> Scan<'_> {
    let mut out = Scan::default();
    let mut start = 0;
    let mut visit = |end: usize| {
        let segment = &query[start..end];
        start = end + 1;
        classify(segment, &mut out);
    };
    separators(query, &mut visit);
    visit(query.len());
    out
}

#[inline(always)]
fn classify<'q>(segment: &'q [u8], out: &mut Scan<'q>) {
    match segment.first() {
        Some(b'S') => {
            if let Some(value) = value_of(segment, b"Sign") {
                out.duplicate_auth |= out.sign.replace(value).is_some();
                return;
            }
        }
        Some(b'R') => {
            if let Some(value) = value_of(segment, b"RequestTime") {
                out.duplicate_auth |= out.request_time.replace(value).is_some();
                return;
            }
        }
        // `%`: maybe an encoded name; non-ASCII: maybe the app id in Unicode case (`ſdkappid`).
        Some(b's' | b'%' | 0x80..) => {}
        _ => return,
    }
    classify_app_id(segment, out);
}

/// The rest of [`classify`], out of line so that the common case stays small enough to inline
/// into the scan loop: `SdkAppid` in any case, else (rarely; never from Tencent) a disguised name.
#[inline(never)]
fn classify_app_id<'q>(segment: &'q [u8], out: &mut Scan<'q>) {
    // Every byte of the name is a letter, so OR-ing in the ASCII case bit and comparing eight
    // bytes at once is exact.
    const SDKAPPID: u64 = u64::from_le_bytes(*b"sdkappid");
    const CASE: u64 = 0x2020_2020_2020_2020;
    if let Some((name, rest)) = segment.split_first_chunk::<8>() {
        if u64::from_le_bytes(*name) | CASE == SDKAPPID && rest.first().is_none_or(|&b| b == b'=') {
            out.duplicate_app_id |= out.app_id.replace(rest.get(1..).unwrap_or(&[])).is_some();
            return;
        }
    }
    out.disguised |= disguised_name(segment);
}

/// The longest raw key that can read as one of the three names: `RequestTime` with every byte
/// written as `%XX`.
const MAX_DISGUISED_KEY: usize = 3 * b"RequestTime".len();

/// Whether the key of `segment` reads as one of the three names to a handler's parser although it
/// is not written the way Tencent writes it (the literal `Sign`, `RequestTime`, or `SdkAppid` in
/// any ASCII case, which [`classify`] has already matched):
///
/// - `Sign` or `RequestTime` once percent-decoded as `form_urlencoded` decodes (`%XX` with two hex
///   digits of either case is that byte, any other `%` stays literal, `+` is a space): `Sig%6E`.
///   Other case spellings (`sign`) are other parameters to such a parser, and left alone: a callback
///   URL may carry a parameter of its own by that name;
/// - the app id, which handlers are told to match case-insensitively, once decoded and case-folded,
///   ASCII or Unicode (`to_lowercase`/`to_uppercase`): `%53dkAppid`, `SdKAppid` with a Kelvin sign.
///   The only non-ASCII characters that case-map onto its letters are `ſ` (→ `S`), `ı` and `İ`
///   (→ `I`/`i`) and the Kelvin sign (→ `k`).
///
/// Rare (Tencent never writes a name any other way), so kept out of line. Allocation-free: at most
/// [`MAX_DISGUISED_KEY`] bytes are read and decoded on the stack.
#[cold]
#[inline(never)]
fn disguised_name(segment: &[u8]) -> bool {
    let key = match segment.iter().position(|&b| b == b'=') {
        Some(end) => &segment[..end],
        None => segment,
    };
    if key.len() > MAX_DISGUISED_KEY {
        return false;
    }
    // Percent-decode, `+` as a space.
    let mut decoded = [0u8; MAX_DISGUISED_KEY];
    let mut len = 0;
    let mut i = 0;
    while i < key.len() {
        let byte = match key[i] {
            b'%' => match (key.get(i + 1), key.get(i + 2)) {
                (Some(&hi), Some(&lo)) if HEX[hi as usize] < 16 && HEX[lo as usize] < 16 => {
                    i += 2;
                    (HEX[hi as usize] << 4) | HEX[lo as usize]
                }
                _ => b'%',
            },
            b'+' => b' ',
            other => other,
        };
        decoded[len] = byte;
        len += 1;
        i += 1;
    }
    let decoded = &decoded[..len];
    if decoded == b"Sign" || decoded == b"RequestTime" {
        return true;
    }
    // Fold to ASCII lowercase; any other non-ASCII character cannot read as the app id.
    let mut folded = [0u8; MAX_DISGUISED_KEY];
    let mut out = 0;
    let mut rest = decoded;
    while let Some(&first) = rest.first() {
        let (ascii, used): (&[u8], usize) = if first.is_ascii() {
            (std::slice::from_ref(&first), 1)
        } else {
            match rest {
                [0xC5, 0xBF, ..] => (b"s", 2), // ſ LATIN SMALL LETTER LONG S
                [0xC4, 0xB1, ..] | [0xC4, 0xB0, ..] => (b"i", 2), // ı, İ
                [0xE2, 0x84, 0xAA, ..] => (b"k", 3), // K KELVIN SIGN
                _ => return false,
            }
        };
        for &b in ascii {
            let Some(slot) = folded.get_mut(out) else {
                return false;
            };
            *slot = b.to_ascii_lowercase();
            out += 1;
        }
        rest = &rest[used..];
    }
    &folded[..out] == b"sdkappid"
}

/// Calls `f` with the index of every `&`, in order. SWAR, sixteen bytes per step (two words,
/// one branch when neither holds a `&`): XOR with `&&&…` turns each `&` into a zero byte, and the
/// exact zero-byte test [`amp_mask`] marks each one with its high bit. Written here rather than
/// with `memchr`, whose per-call setup dominates on ~200-byte queries with a separator every ~25
/// bytes.
#[inline]
fn separators(query: &[u8], f: &mut impl FnMut(usize)) {
    let mut emit = |base: usize, mut found: u64| {
        while found != 0 {
            f(base + (found.trailing_zeros() / 8) as usize);
            found &= found - 1;
        }
    };
    let (words, bytes) = query.as_chunks::<8>();
    let (pairs, last) = words.as_chunks::<2>();
    for (i, [lo, hi]) in pairs.iter().enumerate() {
        let lo = amp_mask(u64::from_le_bytes(*lo));
        let hi = amp_mask(u64::from_le_bytes(*hi));
        if lo | hi != 0 {
            emit(i * 16, lo);
            emit(i * 16 + 8, hi);
        }
    }
    let mut base = pairs.len() * 16;
    if let Some(word) = last.first() {
        emit(base, amp_mask(u64::from_le_bytes(*word)));
        base += 8;
    }
    for (j, &b) in bytes.iter().enumerate() {
        if b == b'&' {
            f(base + j);
        }
    }
}

/// The high bit of each byte of `word` (little-endian) that is a `&`, and no other bit. Exact: the
/// addition cannot carry between bytes, so there are no false positives.
#[inline]
fn amp_mask(word: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const AMP: u64 = 0x2626_2626_2626_2626;
    let y = word ^ AMP;
    !((((y & LOW7) + LOW7) | y) | LOW7)
}

/// The value of `segment` when its key is exactly `key` (`key=value`, or a bare `key`).
#[inline]
fn value_of<'q>(segment: &'q [u8], key: &[u8]) -> Option<&'q [u8]> {
    let rest = segment.strip_prefix(key)?;
    match rest.split_first() {
        None => Some(rest),
        Some((b'=', value)) => Some(value),
        Some(_) => None,
    }
}

/// Hex digit values; 0xff marks a byte that is not a hex digit.
const HEX: [u8; 256] = {
    let mut table = [0xff; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        table[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

/// Decodes 64 hex digits (either case) into 32 bytes, without branching per digit.
/// (A lookup table beats `hex::decode_to_slice` here by several times; the input is fixed-size.)
#[inline]
fn decode_sign(sign: &[u8; SIGN_HEX_LEN]) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    let mut invalid = 0u8;
    for (byte, pair) in out.iter_mut().zip(sign.chunks_exact(2)) {
        let hi = HEX[pair[0] as usize];
        let lo = HEX[pair[1] as usize];
        invalid |= hi | lo;
        *byte = (hi << 4) | (lo & 0x0f);
    }
    // Every valid digit is < 16, so the high bit is set only if some byte was not a digit.
    (invalid & 0x80 == 0).then_some(out)
}

/// `10^0` to `10^18`: the place values that cannot overflow a `u64` whatever the digits.
const POW10: [u64; 19] = {
    let mut table = [1u64; 19];
    let mut i = 1;
    while i < table.len() {
        table[i] = table[i - 1] * 10;
        i += 1;
    }
    table
};
const TEN_POW_19: u64 = 10_000_000_000_000_000_000;

/// Parses 1 to 20 ASCII digits. `Ok(None)` when the value is well formed but exceeds `u64`.
fn parse_time(digits: &[u8]) -> Result<Option<u64>, Rejection> {
    if digits.is_empty() || digits.len() > MAX_TIME_DIGITS {
        return Err(Rejection::MalformedRequestTime);
    }
    // Up to 19 digits cannot overflow a u64; only the 20th needs checked arithmetic.
    let (head, last) = digits.split_at(digits.len().min(19));
    let mut n: u64 = 0;
    for &d in head {
        let v = d.wrapping_sub(b'0');
        if v > 9 {
            return Err(Rejection::MalformedRequestTime);
        }
        n = n * 10 + u64::from(v);
    }
    if let Some(&d) = last.first() {
        let v = d.wrapping_sub(b'0');
        if v > 9 {
            return Err(Rejection::MalformedRequestTime);
        }
        return Ok(n.checked_mul(10).and_then(|n| n.checked_add(u64::from(v))));
    }
    Ok(Some(n))
}

/// Parses a canonical decimal SDKAppID: digits only, no leading zero (but `0` itself), at most
/// `u64::MAX`; `None` otherwise.
fn parse_app_id(digits: &[u8]) -> Option<u64> {
    if digits.len() > 1 && digits[0] == b'0' {
        return None;
    }
    parse_time(digits).ok().flatten()
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
            AppCheck::Known(id) => Some(id),
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
            None => parse_time(time_digits)?,
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
        let expected = decode_sign(sign).ok_or(Rejection::MalformedSign)?;

        if digest_matches(current.digest_cached(time_digits, time), &expected) {
            return accepted(Verified::CurrentToken);
        }
        if let Some((previous, valid_until)) = tokens.previous() {
            if now_unix <= valid_until
                && digest_matches(previous.digest_cached(time_digits, time), &expected)
            {
                return accepted(Verified::PreviousToken);
            }
        }
        Err(Rejection::SignatureMismatch)
    }
}

/// How the app id parameter is judged, once rules 1 and 2 (no disguised name, no duplicate) hold.
#[derive(Clone, Copy)]
pub(crate) enum AppCheck<'a> {
    /// It must be this app's canonical digits ([`Verifier::with_app_id`]).
    Required(&'a AppId),
    /// The caller has already read it from this query under the same rules: this app.
    Known(u64),
    /// Nothing is required: it is reported when present, and must be canonical decimal then.
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
    fn read(self, scan: &Scan<'_>) -> Result<Option<u64>, Rejection> {
        match self {
            AppCheck::Required(expected) => match scan.app_id {
                Some(digits) if expected.matches(digits) => Ok(Some(expected.value)),
                _ => Err(Rejection::AppIdMismatch),
            },
            AppCheck::Known(id) => Ok(Some(id)),
            AppCheck::Read => match scan.app_id {
                None => Ok(None),
                Some(digits) => parse_app_id(digits)
                    .map(Some)
                    .ok_or(Rejection::AppIdMismatch),
            },
        }
    }
}

impl Scan<'_> {
    /// The app id parameter, read under rules 1 and 2: `Ok(None)` when absent, an error when a
    /// name is disguised or duplicated or the value is not canonical decimal.
    pub(crate) fn parsed_app_id(&self) -> Result<Option<u64>, Rejection> {
        if self.disguised {
            return Err(Rejection::DisguisedParameter);
        }
        if self.duplicate_app_id {
            return Err(Rejection::DuplicateParameter);
        }
        AppCheck::Read.read(self)
    }
}

/// The time check: `request_time` (`None` when beyond `u64`) within `window` seconds of `now`.
fn check_window(request_time: Option<u64>, now: u64, window: u64) -> Result<u64, Rejection> {
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

#[inline]
fn digest_matches(digest: [u8; 32], expected: &[u8; 32]) -> bool {
    ct_eq(&digest, expected)
}

/// Constant-time equality: XOR-accumulates 64-bit words (no early exit), then lets `subtle` turn
/// the single difference word into a `Choice`.
#[inline]
fn ct_eq<const N: usize>(a: &[u8; N], b: &[u8; N]) -> bool {
    let (a_words, a_rest) = a.as_chunks::<8>();
    let (b_words, b_rest) = b.as_chunks::<8>();
    let mut diff = 0u64;
    for (x, y) in a_words.iter().zip(b_words) {
        diff |= u64::from_ne_bytes(*x) ^ u64::from_ne_bytes(*y);
    }
    for (x, y) in a_rest.iter().zip(b_rest) {
        diff |= u64::from(x ^ y);
    }
    diff.ct_eq(&0).into()
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
    fn official_vector_is_accepted() {
        let q = query(VECTOR_SIGN, VECTOR_TIME);
        assert_eq!(
            Verifier::new()
                .verify(&snapshot(), &q, VECTOR_TIME)
                .map(|v| v.verified()),
            Ok(Verified::CurrentToken)
        );
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
    fn rejection_index_matches_all() {
        for (i, r) in Rejection::ALL.iter().enumerate() {
            assert_eq!(r.index(), i);
        }
    }

    #[test]
    fn scan_splits_pairs_without_values() {
        let s = scan(b"Sign&RequestTime=&x=1&SDKAPPID=5");
        assert_eq!(s.sign, Some(&b""[..]));
        assert_eq!(s.request_time, Some(&b""[..]));
        assert_eq!(s.app_id, Some(&b"5"[..]));
    }

    #[test]
    fn decode_sign_accepts_both_cases_and_nothing_else() {
        let lower: [u8; 64] = *b"00ff10a5b6c7d8e9f0123456789abcdefABCDEF0123456789000000000000000";
        let decoded = decode_sign(&lower).unwrap();
        assert_eq!(
            hex::encode(decoded),
            String::from_utf8(lower.to_vec()).unwrap().to_lowercase()
        );
        for bad in [b'g', b'G', b' ', b'%', 0x80, 0xff, b'/', b':', b'@', b'`'] {
            let mut s = lower;
            s[17] = bad;
            assert_eq!(decode_sign(&s), None, "{bad}");
        }
    }

    #[test]
    fn parse_time_handles_every_length() {
        assert_eq!(parse_time(b"0"), Ok(Some(0)));
        assert_eq!(parse_time(b"1669872112"), Ok(Some(1669872112)));
        assert_eq!(
            parse_time(b"9999999999999999999"),
            Ok(Some(9999999999999999999))
        );
        assert_eq!(parse_time(b"18446744073709551615"), Ok(Some(u64::MAX)));
        assert_eq!(parse_time(b"18446744073709551616"), Ok(None));
        assert_eq!(
            parse_time(b"1844674407370955161x"),
            Err(Rejection::MalformedRequestTime)
        );
        assert_eq!(parse_time(b"x"), Err(Rejection::MalformedRequestTime));
        assert_eq!(parse_time(b""), Err(Rejection::MalformedRequestTime));
        assert_eq!(
            parse_time(&[b'1'; 21]),
            Err(Rejection::MalformedRequestTime)
        );
    }

    #[test]
    fn digests_differing_in_any_byte_do_not_match() {
        let base = [0x5au8; 32];
        assert!(digest_matches(base, &base));
        for i in 0..32 {
            let mut other = base;
            other[i] ^= 1;
            assert!(!digest_matches(base, &other), "{i}");
        }
    }

    #[test]
    fn separators_are_found_exactly() {
        let inputs: [&[u8]; 6] = [
            b"",
            b"&",
            b"a&b&&c",
            b"\x01&\x00\x01&&\xff\x27\x25&x",
            b"0123456&89abcde&&ghijklmnopqrstuvwxyz&",
            &[b'&'; 37],
        ];
        for input in inputs {
            let mut found = Vec::new();
            separators(input, &mut |i| found.push(i));
            let expected: Vec<usize> = (0..input.len()).filter(|&i| input[i] == b'&').collect();
            assert_eq!(found, expected, "{input:?}");
        }
        for byte in 0..=255u8 {
            let input = [byte, b'&', byte, b'&', b'\'', 0, byte, b'&', byte];
            let mut found = Vec::new();
            separators(&input, &mut |i| found.push(i));
            let expected: Vec<usize> = (0..input.len()).filter(|&i| input[i] == b'&').collect();
            assert_eq!(found, expected, "{byte}");
        }
    }

    #[test]
    fn disguised_names_are_recognised_and_nothing_else() {
        for key in [
            "Sig%6E",
            "Sig%6e",
            "%53ign",
            "%53%69%67%6E",
            "Request%54ime",
            "%52%65%71%75%65%73%74%54%69%6d%65",
            "%53dkAppid",
            "SdkAppi%64",
            "sdkapp%49d",
            "%73%64%6B%61%70%70%69%64",
            "Sd\u{212A}Appid",
            "Sd%E2%84%AAAppid",
            "\u{17F}dkappid",
            "SdkApp\u{131}d",
            "SdkApp\u{130}d",
        ] {
            let segment = format!("{key}=1");
            assert!(disguised_name(segment.as_bytes()), "{key}");
            assert!(scan(segment.as_bytes()).disguised, "{key} through the scan");
        }
        for key in [
            "Sign",
            "RequestTime",
            "SdkAppid",
            "sign",
            "SIGN",
            "requesttime",
            "%2553ign",
            "Sig%6",
            "Sig%",
            "Sign+",
            "+Sign",
            "Sig%6E%00",
            "Signature",
            "Sdk%41ppidx",
            "x%53ign",
            "Sd\u{212B}Appid",
            "\u{17F}ign",
            "",
            "%",
        ] {
            // Through the scan: the literal names are matched before the slow path.
            assert!(!scan(format!("{key}=1").as_bytes()).disguised, "{key}");
        }
        // Longer than any disguise can be: not read at all.
        let long = format!("%53{}", "%41".repeat(20));
        assert!(!disguised_name(long.as_bytes()));
    }

    #[test]
    fn scan_ignores_keys_that_only_share_a_prefix() {
        let s = scan(b"Signature=1&RequestTimes=2&SdkAppidX=3&S&R&s");
        assert!(s.sign.is_none() && s.request_time.is_none() && s.app_id.is_none());
    }

    #[test]
    fn app_id_is_matched_by_its_canonical_digits_only() {
        for value in [0, 7, 888888, 1_400_000_000, u64::MAX] {
            let app = AppId::new(value);
            assert_eq!(app.digits(), value.to_string().as_bytes());
            assert!(app.matches(value.to_string().as_bytes()));
            // Leading zeros spell the same number but another string: a handler comparing text
            // would see another app.
            let padded = format!("0{value}");
            assert!(!app.matches(padded.as_bytes()), "{padded}");
            assert_eq!(parse_app_id(padded.as_bytes()), None, "{padded}");
            assert_eq!(parse_app_id(value.to_string().as_bytes()), Some(value));
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
        assert_eq!(parse_app_id(b"99999999999999999999"), None);
        assert_eq!(parse_app_id(b"18446744073709551615"), Some(u64::MAX));
    }

    #[test]
    fn tail_is_split_only_when_the_query_ends_with_a_well_formed_request_time() {
        let split = |q: &'static str| Tail::split(q.as_bytes()).map(|t| (t.head, t.digits, t.time));
        assert_eq!(
            split("a=1&RequestTime=42"),
            Some((&b"a=1"[..], &b"42"[..], Some(42)))
        );
        assert_eq!(split("RequestTime=7"), Some((&b""[..], &b"7"[..], Some(7))));
        assert_eq!(
            split("&RequestTime=7"),
            Some((&b""[..], &b"7"[..], Some(7)))
        );
        assert_eq!(
            split("RequestTime=99999999999999999999"),
            Some((&b""[..], &b"99999999999999999999"[..], None))
        );
        for q in [
            "",
            "RequestTime=",
            "RequestTime=123456789012345678901",
            "xRequestTime=1",
            "a=1&requesttime=1",
            "a=1&RequestTime=1&b=2",
            "a=1&RequestTime=+1",
            "a=1&RequestTime=1%30",
            "Sign=1&RequestTim=1",
            "1234567890",
        ] {
            assert!(split(q).is_none(), "{q}");
        }
    }

    #[test]
    fn a_stale_tail_is_reported_before_other_faults_and_nothing_is_accepted() {
        let v = Verifier::new().with_app_id(888888);
        let s = snapshot();
        let stale = VECTOR_TIME + 3600;
        // RequestTime last (Tencent's order): the early time check answers first.
        let dup = format!("Sign={VECTOR_SIGN}&{}", query(VECTOR_SIGN, VECTOR_TIME));
        assert_eq!(
            v.verify(&s, &dup, stale).map(|v| v.verified()),
            Err(Rejection::Expired)
        );
        assert_eq!(
            v.verify(&s, &format!("RequestTime={VECTOR_TIME}"), stale)
                .map(|v| v.verified()),
            Err(Rejection::Expired)
        );
        // Fresh, the same queries are judged by the full rules.
        assert_eq!(
            v.verify(&s, &dup, VECTOR_TIME).map(|v| v.verified()),
            Err(Rejection::DuplicateParameter)
        );
        // RequestTime elsewhere: the full rules, in their order.
        let moved = format!(
            "RequestTime={VECTOR_TIME}&Sign={VECTOR_SIGN}&Sign={VECTOR_SIGN}&SdkAppid=888888"
        );
        assert_eq!(
            v.verify(&s, &moved, stale).map(|v| v.verified()),
            Err(Rejection::DuplicateParameter)
        );
        // A disabled snapshot never looks at the time.
        assert_eq!(
            v.verify(
                &TokenSnapshot::disabled(),
                &query(VECTOR_SIGN, VECTOR_TIME),
                stale
            )
            .map(|v| v.verified()),
            Ok(Verified::AuthenticationDisabled)
        );
    }

    /// Queries built from the parameters that matter, in any order and number, with valid, stale,
    /// malformed and overflowing values.
    fn segments() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let time = prop_oneof![
            Just(VECTOR_TIME.to_string()),
            (0u64..200).prop_map(|d| (VECTOR_TIME - 100 + d).to_string()),
            Just("1".to_string()),
            Just("99999999999999999999".to_string()),
            Just("123456789012345678901".to_string()),
            Just(String::new()),
            Just("+1669872112".to_string()),
        ];
        let segment = prop_oneof![
            Just(format!("Sign={VECTOR_SIGN}")),
            Just(format!("Sign={}", VECTOR_SIGN.to_uppercase())),
            Just(format!("Sign={}", "0".repeat(64))),
            Just("Sign=zz".to_string()),
            time.clone().prop_map(|t| format!("RequestTime={t}")),
            time.prop_map(|t| format!("xRequestTime={t}")),
            Just("SdkAppid=888888".to_string()),
            Just("sdkappid=1".to_string()),
            "[a-zA-Z]{0,6}=[a-z0-9%&]{0,6}",
        ];
        proptest::collection::vec(segment, 0..6).prop_map(|parts| parts.join("&"))
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]

        /// The tail's backward valuation agrees with `parse_time` on every digit string.
        #[test]
        fn tail_values_digits_like_parse_time(digits in "[0-9]{1,21}|1844674407370955161[0-9]|[2-9][0-9]{19}") {
            let query = format!("a=b&RequestTime={digits}");
            let tail = Tail::split(query.as_bytes());
            match parse_time(digits.as_bytes()) {
                Ok(value) => {
                    let tail = tail.expect("well-formed tail");
                    proptest::prop_assert_eq!(tail.time, value);
                    proptest::prop_assert_eq!(tail.digits, digits.as_bytes());
                    proptest::prop_assert_eq!(tail.head, b"a=b");
                }
                Err(_) => proptest::prop_assert!(tail.is_none()),
            }
        }

        /// Every length (pairs of words, a last word, trailing bytes) and every byte around a `&`.
        #[test]
        fn separators_match_a_byte_by_byte_search(
            input in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::prelude::Just(b'&'),
                    proptest::prelude::Just(b'\''),
                    proptest::prelude::any::<u8>(),
                ],
                0..80,
            )
        ) {
            let mut found = Vec::new();
            separators(&input, &mut |i| found.push(i));
            let expected: Vec<usize> = (0..input.len()).filter(|&i| input[i] == b'&').collect();
            proptest::prop_assert_eq!(found, expected);
        }

        /// The early time check and the tail shortcut of the scan change no verdict: the same
        /// acceptance as the plain scan-everything path, the same reason unless the early check
        /// answered `Expired`/`FromFuture` for a query that breaks another rule too.
        #[test]
        fn the_tail_shortcut_changes_no_verdict(
            q in segments(),
            now in (VECTOR_TIME - 120)..(VECTOR_TIME + 120),
            app_check in proptest::bool::ANY,
            disabled in proptest::bool::ANY,
        ) {
            let s = if disabled { TokenSnapshot::disabled() } else { snapshot() };
            let v = if app_check { Verifier::new().with_app_id(888888) } else { Verifier::new() };
            let fast = v.verify(&s, &q, now);
            let full = v.verify_scanned(&scan_all(q.as_bytes()), &s, now, AppCheck::from(&v.app_id));
            if disabled {
                proptest::prop_assert_eq!(fast, full, "{}", q);
            } else if fast != full {
                proptest::prop_assert!(fast.is_err() && full.is_err(), "{q}: {fast:?} vs {full:?}");
                let early = Tail::split(q.as_bytes()).and_then(|t| check_window(t.time, now, 60).err());
                proptest::prop_assert_eq!(fast.err(), early, "{}", q);
            }
            let (a, b) = (scan(q.as_bytes()), scan_all(q.as_bytes()));
            proptest::prop_assert_eq!(
                (a.sign, a.request_time, a.app_id, a.duplicate_auth, a.duplicate_app_id),
                (b.sign, b.request_time, b.app_id, b.duplicate_auth, b.duplicate_app_id),
                "{}", q
            );
        }
    }
}
