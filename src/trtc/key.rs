//! [`TrtcKey`]: the key a TRTC app signs its event callbacks with.

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::error::Error;

/// The most characters the TRTC console accepts for a callback key.
const MAX_LEN: usize = 32;

/// The callback key of a TRTC app: the one typed in the TRTC console under "Event Callbacks"
/// (1 to 32 ASCII letters and digits). No API reads it back, so it comes from configuration.
///
/// The HMAC-SHA256 key schedule is computed once here and copied for each event, so a
/// verification hashes only the body. `Debug` prints a fingerprint, never the key.
///
/// # Examples
///
/// ```
/// use tim_callback_auth::trtc::TrtcKey;
///
/// let key = TrtcKey::new("N4cYbbZ4Ujb5TEnD7eUo1234")?;
/// assert!(!format!("{key:?}").contains("N4cY"));
/// assert!(TrtcKey::new("has space").is_err());
/// # Ok::<(), tim_callback_auth::Error>(())
/// ```
#[derive(Clone)]
pub struct TrtcKey {
    mac: Hmac<Sha256>,
    /// SHA-256 of the key: tells two keys apart without keeping the key (never printed).
    digest: [u8; 32],
    /// The first 8 hex digits of SHA-256 of the key, or `None` when the key is too short for even
    /// that to be safe to print.
    fingerprint: Option<[u8; 8]>,
}

impl TrtcKey {
    /// Checks and prepares a key.
    ///
    /// # Errors
    ///
    /// An [`Error`] of kind [`InvalidInput`](crate::ErrorKind::InvalidInput) when the key is empty, longer than 32 characters, or has anything but
    /// ASCII letters and digits (the error never contains the key).
    pub fn new(key: &str) -> Result<Self, Error> {
        if key.is_empty() || key.len() > MAX_LEN || !key.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(Error::invalid_input(
                "a TRTC callback key must be 1 to 32 ASCII letters and digits",
            ));
        }
        let mac =
            Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes a key of any length");
        let digest: [u8; 32] = {
            use sha2::Digest;
            Sha256::digest(key.as_bytes()).into()
        };
        // A fingerprint of a short key would let anyone who sees logs search the key space.
        let fingerprint = (key.len() >= 16).then(|| {
            let hex = crate::hex::encode(&digest);
            let mut prefix = [0u8; 8];
            prefix.copy_from_slice(&hex[..8]);
            prefix
        });
        Ok(Self {
            mac,
            digest,
            fingerprint,
        })
    }

    /// Whether two keys are the same key (compared by digest, in constant time).
    pub(crate) fn same_as(&self, other: &TrtcKey) -> bool {
        crate::verify::ct::ct_eq(&self.digest, &other.digest)
    }

    /// `base64(HMAC-SHA256(key, body))`: the `Sign` header Tencent sends with `body` (for tests,
    /// and for tools that send signed events, like the repository's `send_callback` example).
    ///
    /// ```
    /// use tim_callback_auth::trtc::TrtcKey;
    ///
    /// let sign = TrtcKey::new("abc123")?.sign(br#"{"EventGroupId":1}"#);
    /// assert_eq!(sign.len(), 44);
    /// # Ok::<(), tim_callback_auth::Error>(())
    /// ```
    pub fn sign(&self, body: &[u8]) -> String {
        let mac = self.mac_of(body);
        let mut out = [0u8; super::base64::ENCODED_LEN];
        super::base64::encode(&mac, &mut out);
        out.iter().map(|&b| char::from(b)).collect()
    }

    /// HMAC-SHA256 of `body` under this key.
    #[inline]
    pub(crate) fn mac_of(&self, body: &[u8]) -> [u8; 32] {
        let mut mac = self.mac.clone();
        mac.update(body);
        mac.finalize().into_bytes().into()
    }
}

impl fmt::Debug for TrtcKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fingerprint = self
            .fingerprint
            .as_ref()
            .map_or("withheld", |hex| std::str::from_utf8(hex).unwrap_or("?"));
        f.debug_struct("TrtcKey")
            .field("sha256_prefix", &fingerprint)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_1_to_32_letters_and_digits() {
        assert!(TrtcKey::new("a").is_ok());
        assert!(TrtcKey::new(&"Z9".repeat(16)).is_ok());
        for bad in ["", &"a".repeat(33), "a-b", "é", "a b", "key\n"] {
            assert_eq!(
                TrtcKey::new(bad).map(drop).map_err(|e| e.kind()),
                Err(crate::ErrorKind::InvalidInput),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn debug_shows_a_fingerprint_of_long_keys_only() {
        let long = TrtcKey::new("ABCDEFGHIJKLMNOP1234").unwrap();
        let shown = format!("{long:?}");
        assert!(
            !shown.contains("ABCD") && !shown.contains("withheld"),
            "{shown}"
        );
        let short = format!("{:?}", TrtcKey::new("abc").unwrap());
        assert!(short.contains("withheld"), "{short}");
    }
}
