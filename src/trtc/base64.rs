//! Strict base64 (RFC 4648, standard alphabet, padded) for the 32-byte `Sign` of a TRTC event.
//!
//! Tencent's `Sign` header is `base64(HMAC-SHA256(…))`: always 44 characters, the last one `=`.
//! Only that exact spelling is accepted: no whitespace, no URL-safe alphabet, no missing padding,
//! and no "non-canonical" trailing bits (the last digit before `=` encodes 4 bits of data and 2
//! zero bits; a digit with those bits set decodes to the same bytes in lenient decoders, so two
//! spellings would verify). Checked against the `base64` crate by a property test.

/// Characters of a padded base64 encoding of 32 bytes.
pub(crate) const ENCODED_LEN: usize = 44;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// The value of each base64 digit, or 0xff.
const VALUES: [u8; 256] = {
    let mut table = [0xffu8; 256];
    let mut i = 0;
    while i < 64 {
        table[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// Encodes 32 bytes as 44 characters.
pub(crate) fn encode(bytes: &[u8; 32], out: &mut [u8; ENCODED_LEN]) {
    let (groups, rest) = bytes.as_chunks::<3>();
    for (group, o) in groups.iter().zip(out.chunks_exact_mut(4)) {
        let n = u32::from(group[0]) << 16 | u32::from(group[1]) << 8 | u32::from(group[2]);
        o[0] = ALPHABET[(n >> 18) as usize & 63];
        o[1] = ALPHABET[(n >> 12) as usize & 63];
        o[2] = ALPHABET[(n >> 6) as usize & 63];
        o[3] = ALPHABET[n as usize & 63];
    }
    // 32 = 10 × 3 + 2: the last two bytes make three digits and one `=`.
    let n = u32::from(rest[0]) << 16 | u32::from(rest[1]) << 8;
    out[40] = ALPHABET[(n >> 18) as usize & 63];
    out[41] = ALPHABET[(n >> 12) as usize & 63];
    out[42] = ALPHABET[(n >> 6) as usize & 63];
    out[43] = b'=';
}

/// Decodes exactly the canonical 44-character encoding of 32 bytes; anything else is `None`.
pub(crate) fn decode(text: &[u8]) -> Option<[u8; 32]> {
    let text: &[u8; ENCODED_LEN] = text.try_into().ok()?;
    if text[43] != b'=' {
        return None;
    }
    let mut out = [0u8; 32];
    let mut invalid = 0u8;
    let (groups, _) = text[..40].as_chunks::<4>();
    for (group, o) in groups.iter().zip(out.chunks_exact_mut(3)) {
        let d = group.map(|c| VALUES[usize::from(c)]);
        invalid |= d[0] | d[1] | d[2] | d[3];
        let n = u32::from(d[0] & 63) << 18
            | u32::from(d[1] & 63) << 12
            | u32::from(d[2] & 63) << 6
            | u32::from(d[3] & 63);
        o[0] = (n >> 16) as u8;
        o[1] = (n >> 8) as u8;
        o[2] = n as u8;
    }
    let d = [text[40], text[41], text[42]].map(|c| VALUES[usize::from(c)]);
    invalid |= d[0] | d[1] | d[2];
    // Valid digits are below 64: any 0xff sets bit 7. The last digit's two low bits carry no data
    // and must be zero.
    if invalid & 0x80 != 0 || d[2] & 0b11 != 0 {
        return None;
    }
    let n = u32::from(d[0]) << 18 | u32::from(d[1]) << 12 | u32::from(d[2]) << 6;
    out[30] = (n >> 16) as u8;
    out[31] = (n >> 8) as u8;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use proptest::prelude::*;

    const STRICT: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

    proptest! {
        #[test]
        fn encoding_matches_the_base64_crate(bytes in any::<[u8; 32]>()) {
            let mut ours = [0u8; ENCODED_LEN];
            encode(&bytes, &mut ours);
            let theirs = STRICT.encode(bytes);
            prop_assert_eq!(&ours[..], theirs.as_bytes());
            prop_assert_eq!(decode(&ours), Some(bytes));
        }

        /// Whatever we accept, the base64 crate's strict standard engine decodes to the same 32
        /// bytes; whatever 44-character text it decodes to 32 bytes, we accept.
        #[test]
        fn decoding_agrees_with_the_base64_crate(
            text in proptest::collection::vec(
                prop_oneof![
                    8 => proptest::sample::select(ALPHABET.to_vec()),
                    1 => Just(b'='),
                    1 => any::<u8>(),
                ],
                40..48,
            ),
        ) {
            let theirs = STRICT
                .decode(&text)
                .ok()
                .and_then(|v| <[u8; 32]>::try_from(v).ok());
            prop_assert_eq!(decode(&text), theirs);
        }

        #[test]
        fn any_valid_sign_with_one_character_changed_is_refused_or_decodes_differently(
            bytes in any::<[u8; 32]>(), at in 0..ENCODED_LEN, to in any::<u8>(),
        ) {
            let mut text = [0u8; ENCODED_LEN];
            encode(&bytes, &mut text);
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
        loose[42] = ALPHABET[usize::from(VALUES[usize::from(good[42])] | 1)];
        assert_eq!(decode(&loose), None);
    }
}
