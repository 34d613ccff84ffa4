//! The single pass over the query string: which parameters name `Sign`, `RequestTime` and the
//! app id, and the shortcut for a trailing `RequestTime`. Allocation-free; each shortcut is pinned
//! to the plain path by a property test below.

use super::digits;
use crate::hex;

/// The parameters of interest, as slices of the query (the last one seen when duplicated: the flag
/// says so).
#[derive(Clone, Copy, Default)]
pub(crate) struct Scan<'q> {
    pub(super) sign: Option<&'q [u8]>,
    pub(super) request_time: Option<&'q [u8]>,
    pub(super) app_id: Option<&'q [u8]>,
    pub(super) duplicate_auth: bool,
    pub(super) duplicate_app_id: bool,
    /// Some key reads as one of the three names only once decoded or case-folded
    /// ([`disguised_name`]).
    pub(super) disguised: bool,
    /// The value of `request_time`, when [`Tail`] has already parsed it.
    pub(super) tail_time: Option<Option<u64>>,
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
    pub(super) time: Option<u64>,
}

impl<'q> Tail<'q> {
    /// Splits `…&RequestTime=<digits>` (or a query that is only that parameter); `None` for any
    /// other ending, which the full scan then handles.
    #[inline]
    pub(crate) fn split(query: &'q [u8]) -> Option<Self> {
        const KEY: &[u8; 12] = b"RequestTime=";
        let (count, time) = digits::trailing(query);
        if count == 0 || count > digits::MAX_DIGITS {
            // Nothing to split, or a 21st digit: malformed, which the full scan reports.
            return None;
        }
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
pub(super) fn scan_all(query: &[u8]) -> Scan<'_> {
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

/// More decoded bytes than any disguise has: `RequestTime` is 11, and the longest Unicode spelling
/// of the app id (`ſdKappıd`: ſ, K and ı take 2, 3 and 2 bytes in UTF-8) is 12. A key that decodes
/// to more cannot be one of the names; decoding stops there, whatever the raw length.
const MAX_DECODED_KEY: usize = 16;

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
/// [`MAX_DECODED_KEY`] decoded bytes, on the stack.
#[cold]
#[inline(never)]
fn disguised_name(segment: &[u8]) -> bool {
    let key = match segment.iter().position(|&b| b == b'=') {
        Some(end) => &segment[..end],
        None => segment,
    };
    // Percent-decode, `+` as a space.
    let mut decoded = [0u8; MAX_DECODED_KEY];
    let mut len = 0;
    let mut i = 0;
    while i < key.len() {
        let byte = match key[i] {
            b'%' => match (key.get(i + 1), key.get(i + 2)) {
                (Some(&hi), Some(&lo))
                    if hex::VALUE[usize::from(hi)] < 16 && hex::VALUE[usize::from(lo)] < 16 =>
                {
                    i += 2;
                    (hex::VALUE[usize::from(hi)] << 4) | hex::VALUE[usize::from(lo)]
                }
                _ => b'%',
            },
            b'+' => b' ',
            other => other,
        };
        let Some(slot) = decoded.get_mut(len) else {
            return false;
        };
        *slot = byte;
        len += 1;
        i += 1;
    }
    let decoded = &decoded[..len];
    if decoded == b"Sign" || decoded == b"RequestTime" {
        return true;
    }
    // Fold to ASCII lowercase; any other non-ASCII character cannot read as the app id.
    let mut folded = [0u8; MAX_DECODED_KEY];
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::{CallbackToken, TokenSnapshot};
    use crate::verify::{check_window, AppCheck, Rejection, Verified, Verifier};

    const VECTOR_SIGN: &str = "17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061";
    const VECTOR_TIME: u64 = 1669872112;

    fn snapshot() -> TokenSnapshot {
        TokenSnapshot::enabled(CallbackToken::new("xxxxyyyy").unwrap())
    }

    fn query(sign: &str, time: u64) -> String {
        format!("SdkAppid=888888&CallbackCommand=C2C.CallbackAfterSendMsg&Sign={sign}&RequestTime={time}")
    }

    #[test]
    fn scan_splits_pairs_without_values() {
        let s = scan(b"Sign&RequestTime=&x=1&SDKAPPID=5");
        assert_eq!(s.sign, Some(&b""[..]));
        assert_eq!(s.request_time, Some(&b""[..]));
        assert_eq!(s.app_id, Some(&b"5"[..]));
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
            // Every byte of the longest Unicode spelling encoded: 36 raw bytes.
            "%C5%BF%64%E2%84%AA%61%70%70%C4%B1%64",
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
        assert!(!disguised_name(
            format!("Sign{}=1", "+".repeat(1000)).as_bytes()
        ));
    }

    #[test]
    fn scan_ignores_keys_that_only_share_a_prefix() {
        let s = scan(b"Signature=1&RequestTimes=2&SdkAppidX=3&S&R&s");
        assert!(s.sign.is_none() && s.request_time.is_none() && s.app_id.is_none());
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
