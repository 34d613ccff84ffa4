//! Hex for 32-byte digests: a branch-free table decode (the `Sign`) and a table encode (the cached
//! `Sign`, [`CallbackToken::sign`](crate::CallbackToken::sign)). The `hex` crate's iterator-based
//! code costs several times more on these fixed sizes (measured; BENCHMARKS.md).

/// Hex digit values; 0xff marks a byte that is not a hex digit (either case is a digit).
pub(crate) const VALUE: [u8; 256] = {
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

/// Lowercase hex of each byte value, two ASCII digits per entry.
const PAIRS: [[u8; 2]; 256] = {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut table = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = [DIGITS[i >> 4], DIGITS[i & 0xf]];
        i += 1;
    }
    table
};

/// Decodes 64 hex digits (either case) into 32 bytes, without branching per digit.
#[inline]
pub(crate) fn decode(hex: &[u8; 64]) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    let mut invalid = 0u8;
    for (byte, pair) in out.iter_mut().zip(hex.as_chunks::<2>().0) {
        let hi = VALUE[usize::from(pair[0])];
        let lo = VALUE[usize::from(pair[1])];
        invalid |= hi | lo;
        *byte = (hi << 4) | (lo & 0x0f);
    }
    // Every valid digit is < 16, so the high bit is set only if some byte was not a digit.
    (invalid & 0x80 == 0).then_some(out)
}

/// Lowercase hex of a digest, one table lookup per byte.
#[inline]
pub(crate) fn encode(digest: &[u8; 32]) -> [u8; 64] {
    let mut out = [0u8; 64];
    for (pair, &byte) in out.as_chunks_mut::<2>().0.iter_mut().zip(digest) {
        *pair = PAIRS[usize::from(byte)];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_accepts_both_cases_and_nothing_else() {
        let mixed: [u8; 64] = *b"00ff10a5b6c7d8e9f0123456789abcdefABCDEF0123456789000000000000000";
        let decoded = decode(&mixed).unwrap();
        assert_eq!(
            ::hex::encode(decoded),
            String::from_utf8(mixed.to_vec()).unwrap().to_lowercase()
        );
        for bad in [b'g', b'G', b' ', b'%', 0x80, 0xff, b'/', b':', b'@', b'`'] {
            let mut s = mixed;
            s[17] = bad;
            assert_eq!(decode(&s), None, "{bad}");
        }
    }

    proptest::proptest! {
        /// Both tables against the `hex` crate (the plain path).
        #[test]
        fn tables_agree_with_the_hex_crate(bytes in proptest::prelude::any::<[u8; 32]>()) {
            let encoded = encode(&bytes);
            let expected = ::hex::encode(bytes);
            proptest::prop_assert_eq!(&encoded[..], expected.as_bytes());
            proptest::prop_assert_eq!(decode(&encoded), Some(bytes));
            let upper: [u8; 64] = encoded.map(|b| b.to_ascii_uppercase());
            proptest::prop_assert_eq!(decode(&upper), Some(bytes));
        }
    }
}
