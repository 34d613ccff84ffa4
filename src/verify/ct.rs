//! Constant-time equality for digests and `Sign`s.

use subtle::ConstantTimeEq;

/// Constant-time equality of two fixed-size arrays: XOR-accumulates 64-bit words (no early exit),
/// then lets `subtle` turn the single difference word into a `Choice`, so the compiler cannot
/// shortcut the comparison. Faster than `subtle`'s byte-wise slice comparison on 32 and 64 bytes.
#[inline]
pub(crate) fn ct_eq<const N: usize>(a: &[u8; N], b: &[u8; N]) -> bool {
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

    #[test]
    fn arrays_differing_in_any_bit_do_not_match() {
        let base = [0x5au8; 32];
        assert!(ct_eq(&base, &base));
        for i in 0..32 {
            for bit in 0..8 {
                let mut other = base;
                other[i] ^= 1 << bit;
                assert!(!ct_eq(&base, &other), "{i}:{bit}");
            }
        }
        let odd = [7u8; 13];
        let mut other = odd;
        other[12] = 8;
        assert!(ct_eq(&odd, &odd) && !ct_eq(&odd, &other));
    }
}
