//! Decimal numbers in the query: one parser and one formatter, for `RequestTime` and the app id.

/// The most digits a `u64` has (`u64::MAX` has 20): the longest `RequestTime` and app id accepted.
pub(crate) const MAX_DIGITS: usize = 20;

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

/// The run of ASCII digits at the end of `bytes`: how many there are (counting stops after
/// `MAX_DIGITS + 1`, which is malformed anyway) and their value, `None` beyond `u64`.
///
/// The crate's one decimal parser. It reads backwards, adding `digit × 10^position`, so that the
/// verifier can find and value a trailing `RequestTime` in one pass ([`Tail`](super::scan::Tail));
/// a forward parse of a known slice is [`parse`]. Below the 20th position no term or sum can
/// overflow; the 20th is checked.
#[inline]
pub(crate) fn trailing(bytes: &[u8]) -> (usize, Option<u64>) {
    let mut count = 0;
    let mut value = 0u64;
    let mut fits = true;
    for &byte in bytes.iter().rev() {
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
            // A 21st digit: malformed, whatever follows.
            return (MAX_DIGITS + 1, None);
        }
        count += 1;
    }
    (count, fits.then_some(value))
}

/// Parses 1 to 20 ASCII digits: `Err(())` when malformed, `Ok(None)` when well formed but beyond
/// `u64`.
#[inline]
pub(crate) fn parse(digits: &[u8]) -> Result<Option<u64>, ()> {
    match trailing(digits) {
        (count, value) if count == digits.len() && (1..=MAX_DIGITS).contains(&count) => Ok(value),
        _ => Err(()),
    }
}

/// Parses a canonical decimal: digits only, no leading zero (but `0` itself), at most `u64::MAX`.
/// Any other spelling of a number is another string to a handler that compares text.
#[inline]
pub(crate) fn parse_canonical(digits: &[u8]) -> Option<u64> {
    if digits.len() > 1 && digits[0] == b'0' {
        return None;
    }
    parse(digits).ok().flatten()
}

/// A `u64` written in canonical decimal, on the stack.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Decimal {
    digits: [u8; MAX_DIGITS],
    len: u8,
}

impl Decimal {
    /// The crate's one formatter (`const`, so a verifier's app id is formatted at compile time).
    pub(crate) const fn new(mut n: u64) -> Self {
        let mut reversed = [0u8; MAX_DIGITS];
        let mut len = 0;
        loop {
            reversed[len] = b'0' + (n % 10) as u8;
            len += 1;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        let mut digits = [0u8; MAX_DIGITS];
        let mut i = 0;
        while i < len {
            digits[i] = reversed[len - 1 - i];
            i += 1;
        }
        Self {
            digits,
            len: len as u8,
        }
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.digits[..usize::from(self.len)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_handles_every_length_and_the_u64_limit() {
        assert_eq!(parse(b"0"), Ok(Some(0)));
        assert_eq!(parse(b"1669872112"), Ok(Some(1669872112)));
        assert_eq!(parse(b"9999999999999999999"), Ok(Some(9999999999999999999)));
        assert_eq!(parse(b"18446744073709551615"), Ok(Some(u64::MAX)));
        assert_eq!(parse(b"18446744073709551616"), Ok(None));
        assert_eq!(parse(b"99999999999999999999"), Ok(None));
        for bad in [
            &b""[..],
            b"x",
            b"1844674407370955161x",
            b"+1",
            b"-1",
            b" 1",
            b"1 ",
            &[b'1'; 21],
        ] {
            assert_eq!(parse(bad), Err(()), "{bad:?}");
        }
    }

    #[test]
    fn canonical_means_no_leading_zero() {
        assert_eq!(parse_canonical(b"0"), Some(0));
        assert_eq!(parse_canonical(b"888888"), Some(888888));
        assert_eq!(parse_canonical(b"0888888"), None);
        assert_eq!(parse_canonical(b"00"), None);
        assert_eq!(parse_canonical(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_canonical(b"99999999999999999999"), None);
        assert_eq!(parse_canonical(b"+1"), None);
    }

    #[test]
    fn trailing_counts_only_the_final_digits() {
        assert_eq!(trailing(b"a=1&RequestTime=42"), (2, Some(42)));
        assert_eq!(trailing(b"x"), (0, Some(0)));
        assert_eq!(trailing(b"x99999999999999999999"), (20, None));
        assert_eq!(trailing(&[b'1'; 30]), (MAX_DIGITS + 1, None));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]

        /// The backward valuation against the standard library's parser (the plain path), on
        /// every digit string up to 21 digits, the `u64` limit and beyond.
        #[test]
        fn parse_agrees_with_the_standard_parser(
            digits in "[0-9]{1,21}|1844674407370955161[0-9]|[2-9][0-9]{19}|[0-9]{0,5}[^0-9][0-9]{0,5}",
        ) {
            let expected = if digits.is_empty() || digits.len() > 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                Err(())
            } else {
                Ok(digits.parse::<u64>().ok())
            };
            proptest::prop_assert_eq!(parse(digits.as_bytes()), expected);
        }

        /// The formatter against `to_string`, and the canonical parser as its inverse.
        #[test]
        fn decimal_round_trips(n in proptest::prelude::any::<u64>()) {
            let decimal = Decimal::new(n);
            let expected = n.to_string();
            proptest::prop_assert_eq!(decimal.as_bytes(), expected.as_bytes());
            proptest::prop_assert_eq!(parse_canonical(decimal.as_bytes()), Some(n));
        }
    }
}
