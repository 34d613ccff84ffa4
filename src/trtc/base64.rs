//! Strict base64 (RFC 4648, standard alphabet, padded) for the 32-byte `Sign` of a TRTC event,
//! with the `base64` crate's strict standard engine.
//!
//! Tencent's `Sign` header is `base64(HMAC-SHA256(…))`: always 44 characters, the last one `=`.
//! Only that exact spelling is accepted: no whitespace, no URL-safe alphabet, no missing padding,
//! and no "non-canonical" trailing bits (the last digit before `=` encodes 4 bits of data and 2
//! zero bits; a digit with those bits set decodes to the same bytes in lenient decoders, so two
//! spellings would verify). `STANDARD` requires canonical padding and refuses trailing bits.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

/// Characters of a padded base64 encoding of 32 bytes.
pub(crate) const ENCODED_LEN: usize = 44;

/// Encodes 32 bytes as 44 characters.
pub(crate) fn encode(bytes: &[u8; 32], out: &mut [u8; ENCODED_LEN]) {
    let written = STANDARD.encode_slice(bytes, out);
    debug_assert_eq!(written.ok(), Some(ENCODED_LEN));
}

/// Decodes exactly the canonical 44-character encoding of 32 bytes; anything else is `None`.
pub(crate) fn decode(text: &[u8]) -> Option<[u8; 32]> {
    if text.len() != ENCODED_LEN {
        return None;
    }
    // The crate wants room for its estimate (33 bytes for 44 characters) before it decodes.
    let mut out = [0u8; 33];
    let n = STANDARD.decode_slice(text, &mut out).ok()?;
    let (sign, _) = out.split_first_chunk::<32>()?;
    (n == 32).then_some(*sign)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    fn value(c: u8) -> usize {
        ALPHABET.iter().position(|&a| a == c).unwrap()
    }

    proptest! {
        #[test]
        fn any_valid_sign_with_one_character_changed_is_refused_or_decodes_differently(
            bytes in any::<[u8; 32]>(), at in 0..ENCODED_LEN, to in any::<u8>(),
        ) {
            let mut text = [0u8; ENCODED_LEN];
            encode(&bytes, &mut text);
            prop_assert_eq!(decode(&text), Some(bytes));
            prop_assume!(text[at] != to);
            text[at] = to;
            prop_assert_ne!(decode(&text), Some(bytes));
        }
    }

    #[test]
    fn wrong_lengths_padding_and_alphabets_are_refused() {
        let mut good = [0u8; ENCODED_LEN];
        encode(&[0xfb; 32], &mut good);
        assert!(decode(&good).is_some());
        // Unpadded, doubly padded, with whitespace, URL-safe alphabet.
        assert_eq!(decode(&good[..43]), None);
        let mut long = good.to_vec();
        long.push(b'=');
        assert_eq!(decode(&long), None);
        let mut spaced = good.to_vec();
        spaced.insert(10, b' ');
        assert_eq!(decode(&spaced[..44]), None);
        let url_safe: Vec<u8> = good
            .iter()
            .map(|&c| match c {
                b'+' => b'-',
                b'/' => b'_',
                c => c,
            })
            .collect();
        assert_ne!(url_safe, good, "the sample must contain + or /");
        assert_eq!(decode(&url_safe), None);
        // Non-canonical trailing bits: same bytes to a lenient decoder, refused here.
        let mut loose = good;
        loose[42] = ALPHABET[value(good[42]) | 1];
        assert_eq!(decode(&loose), None);
        // 44 characters that are 31 bytes (`==`), or 33 (no `=`).
        let mut short = good;
        short[42] = b'=';
        assert_eq!(decode(&short), None);
        let mut unpadded = good;
        unpadded[43] = b'A';
        assert_eq!(decode(&unpadded), None);
    }
}
