//! UserSig (TLSSigAPIv2): the signature that authenticates the App admin on REST calls.
//!
//! [`generate`] is the pure algorithm. The REST client keeps one UserSig for its admin account
//! and renews it before it expires (and at once after Tencent rejects it): you rarely need this.
//!
//! # Examples
//!
//! ```
//! let sig = tim_callback_auth::usersig::generate(1400000000, "administrator", "secret-key", 1_700_000_000, 86_400)?;
//! // URL-safe as is: base64 with `+/=` replaced by `*-_`.
//! assert!(sig.bytes().all(|b| b.is_ascii_alphanumeric() || b"*-_".contains(&b)));
//! # Ok::<(), tim_callback_auth::Error>(())
//! ```

use std::fmt;
use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use flate2::write::ZlibEncoder;
use flate2::Compression;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::error::Error;

/// The longest identifier Tencent accepts, in bytes.
pub const MAX_IDENTIFIER_LEN: usize = 32;

/// The default lifetime of the UserSigs the REST client generates: one day.
pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(86_400);

/// Checks an admin identifier: 1 to 32 bytes of `[A-Za-z0-9_-]`.
///
/// # Errors
///
/// An [`Error`] of kind [`InvalidInput`](crate::ErrorKind::InvalidInput) naming the problem.
pub fn validate_identifier(identifier: &str) -> Result<(), Error> {
    if identifier.is_empty() {
        return Err(Error::invalid_input("admin identifier is empty"));
    }
    if identifier.len() > MAX_IDENTIFIER_LEN {
        return Err(Error::invalid_input(
            "admin identifier is longer than 32 bytes",
        ));
    }
    if !identifier
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(Error::invalid_input(
            "admin identifier may only contain A-Z, a-z, 0-9, '_' and '-'",
        ));
    }
    Ok(())
}

/// Generates a UserSig for `identifier`, issued at `issued_at_unix` and valid for `expire_secs`.
///
/// HMAC-SHA256 over the `TLS.*` lines with the secret key, a JSON document, zlib, then base64 with
/// `+/=` replaced by `*-_`. The result is URL-safe as is.
///
/// # Errors
///
/// An [`Error`] of kind [`InvalidInput`](crate::ErrorKind::InvalidInput) for an empty, overlong or ill-formed identifier, an empty key or a zero lifetime.
pub fn generate(
    sdk_app_id: u64,
    identifier: &str,
    secret_key: &str,
    issued_at_unix: u64,
    expire_secs: u64,
) -> Result<String, Error> {
    validate_identifier(identifier)?;
    if secret_key.is_empty() {
        return Err(Error::invalid_input("secret key is empty"));
    }
    if expire_secs == 0 {
        return Err(Error::invalid_input("usersig lifetime is zero"));
    }
    let content = format!(
        "TLS.identifier:{identifier}\nTLS.sdkappid:{sdk_app_id}\nTLS.time:{issued_at_unix}\nTLS.expire:{expire_secs}\n"
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(secret_key.as_bytes())
        .map_err(|_| Error::invalid_input("secret key is empty"))?;
    mac.update(content.as_bytes());
    let sig = STANDARD.encode(mac.finalize().into_bytes());
    let document = serde_json::json!({
        "TLS.ver": "2.0",
        "TLS.identifier": identifier,
        "TLS.sdkappid": sdk_app_id,
        "TLS.expire": expire_secs,
        "TLS.time": issued_at_unix,
        "TLS.sig": sig,
    });
    let json = serde_json::to_vec(&document)
        .map_err(|_| Error::invalid_input("admin identifier is empty"))?;
    let mut encoder = ZlibEncoder::new(Vec::with_capacity(json.len()), Compression::default());
    // Writing into a Vec cannot fail.
    let compressed = encoder
        .write_all(&json)
        .and_then(|()| encoder.finish())
        .unwrap_or_default();
    let encoded = STANDARD.encode(compressed);
    Ok(encoded
        .chars()
        .map(|c| match c {
            '+' => '*',
            '/' => '-',
            '=' => '_',
            c => c,
        })
        .collect())
}

/// Caches one UserSig for the App admin and renews it when less than 10 % of its lifetime is left,
/// or at once after [`invalidate`](Signer::invalidate) (call it after a 70001 or 70052 answer).
///
/// `Debug` shows the app and identifier, never the key or the UserSig.
pub(crate) struct Signer {
    sdk_app_id: u64,
    identifier: String,
    secret_key: String,
    lifetime: u64,
    cached: Mutex<SignerState>,
}

#[derive(Default)]
struct SignerState {
    current: Option<Cached>,
    /// The issue time of the latest UserSig, kept across `invalidate`.
    last_issued: Option<u64>,
}

struct Cached {
    sig: String,
    renew_at: u64,
}

impl Signer {
    /// A signer with the [`DEFAULT_LIFETIME`] (one day).
    ///
    /// # Errors
    ///
    /// An [`Error`] of kind [`InvalidInput`](crate::ErrorKind::InvalidInput) for an invalid identifier or an empty key.
    pub(crate) fn new(sdk_app_id: u64, identifier: &str, secret_key: &str) -> Result<Self, Error> {
        validate_identifier(identifier)?;
        if secret_key.is_empty() {
            return Err(Error::invalid_input("secret key is empty"));
        }
        Ok(Self {
            sdk_app_id,
            identifier: identifier.to_owned(),
            secret_key: secret_key.to_owned(),
            lifetime: DEFAULT_LIFETIME.as_secs(),
            cached: Mutex::new(SignerState::default()),
        })
    }

    /// Sets the lifetime of the UserSigs it generates (whole seconds, at least one).
    #[must_use]
    pub(crate) fn with_lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime.as_secs().max(1);
        self
    }

    /// The SDKAppID it signs for.
    pub(crate) fn sdk_app_id(&self) -> u64 {
        self.sdk_app_id
    }

    /// The admin identifier it signs for.
    pub(crate) fn identifier(&self) -> &str {
        &self.identifier
    }

    /// The cached UserSig at Unix time `now_unix`, generated anew when missing, invalidated or
    /// within the last 10 % of its lifetime.
    ///
    /// A UserSig has one-second resolution: one regenerated within the second of the previous one
    /// would be identical, so it is issued one second earlier instead (still valid, and different).
    pub(crate) fn user_sig_at(&self, now_unix: u64) -> String {
        let mut state = self.cached.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = state.current.as_ref() {
            if now_unix < c.renew_at {
                return c.sig.clone();
            }
        }
        let issued_at = if state.last_issued == Some(now_unix) {
            now_unix.saturating_sub(1)
        } else {
            now_unix
        };
        // The inputs were validated in `new`, so this cannot fail.
        let sig = generate(
            self.sdk_app_id,
            &self.identifier,
            &self.secret_key,
            issued_at,
            self.lifetime,
        )
        .unwrap_or_default();
        let renew_at = issued_at.saturating_add(self.lifetime - self.lifetime / 10);
        state.current = Some(Cached {
            sig: sig.clone(),
            renew_at,
        });
        state.last_issued = Some(issued_at);
        sig
    }

    /// The cached UserSig now (system clock). See [`user_sig_at`](Signer::user_sig_at).
    pub(crate) fn user_sig(&self) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        self.user_sig_at(now)
    }

    /// Drops the cached UserSig: the next call generates a new one.
    pub(crate) fn invalidate(&self) {
        self.cached
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .current = None;
    }

    /// Whether `text` contains the secret key or the cached UserSig (for scrubbing messages).
    pub(crate) fn scrub(&self, text: &str) -> String {
        let mut out = text.replace(&self.secret_key, "<redacted>");
        if let Some(c) = self
            .cached
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .current
            .as_ref()
        {
            if !c.sig.is_empty() {
                out = out.replace(&c.sig, "<redacted>");
            }
        }
        out
    }
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("sdk_app_id", &self.sdk_app_id)
            .field("identifier", &self.identifier)
            .field("secret_key", &format_args!("Sensitive"))
            .field("lifetime", &self.lifetime)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The error is `InvalidInput` and says `why`.
    #[track_caller]
    fn assert_invalid<T: std::fmt::Debug>(result: Result<T, Error>, why: &str) {
        let error = result.unwrap_err();
        assert_eq!(error.kind(), crate::ErrorKind::InvalidInput);
        assert_eq!(error.to_string(), format!("invalid input: {why}"));
    }

    #[test]
    fn debug_shows_neither_the_key_nor_the_user_sig() {
        let signer = Signer::new(1400000000, "administrator", "the-secret-key-0123").unwrap();
        let sig = signer.user_sig();
        let shown = format!("{signer:?}");
        assert!(!shown.contains("the-secret-key-0123"), "{shown}");
        assert!(!shown.contains(&sig), "{shown}");
        assert!(shown.contains("administrator"), "{shown}");
    }
    use flate2::read::ZlibDecoder;
    use std::io::Read;

    fn decode(sig: &str) -> serde_json::Value {
        let b64: String = sig
            .chars()
            .map(|c| match c {
                '*' => '+',
                '-' => '/',
                '_' => '=',
                c => c,
            })
            .collect();
        let compressed = STANDARD.decode(b64).unwrap();
        let mut json = Vec::new();
        ZlibDecoder::new(&compressed[..])
            .read_to_end(&mut json)
            .unwrap();
        serde_json::from_slice(&json).unwrap()
    }

    #[test]
    fn generated_sig_decodes_and_its_hmac_verifies() {
        let sig = generate(
            1400000000,
            "administrator",
            "the-key",
            1_700_000_000,
            86_400,
        )
        .unwrap();
        assert!(!sig.contains(['+', '/', '=']));
        let doc = decode(&sig);
        assert_eq!(doc["TLS.ver"], "2.0");
        assert_eq!(doc["TLS.identifier"], "administrator");
        assert_eq!(doc["TLS.sdkappid"], 1400000000u64);
        assert_eq!(doc["TLS.time"], 1_700_000_000u64);
        assert_eq!(doc["TLS.expire"], 86_400u64);
        let content = "TLS.identifier:administrator\nTLS.sdkappid:1400000000\nTLS.time:1700000000\nTLS.expire:86400\n";
        let mut mac = Hmac::<Sha256>::new_from_slice(b"the-key").unwrap();
        mac.update(content.as_bytes());
        let expected = STANDARD.encode(mac.finalize().into_bytes());
        assert_eq!(doc["TLS.sig"], expected.as_str());
    }

    #[test]
    fn bad_inputs_are_explained() {
        assert_invalid(generate(1, "", "k", 0, 1), "admin identifier is empty");
        assert_invalid(
            generate(1, &"a".repeat(33), "k", 0, 1),
            "admin identifier is longer than 32 bytes",
        );
        assert_invalid(
            generate(1, "admin user", "k", 0, 1),
            "admin identifier may only contain A-Z, a-z, 0-9, '_' and '-'",
        );
        assert_invalid(generate(1, "admin", "", 0, 1), "secret key is empty");
        assert_invalid(generate(1, "admin", "k", 0, 0), "usersig lifetime is zero");
        assert!(generate(1, &"a".repeat(32), "k", 0, 1).is_ok());
        assert!(generate(1, "A-z_0", "k", 0, 1).is_ok());
    }

    #[test]
    fn signer_caches_then_renews_in_the_last_tenth() {
        let signer = Signer::new(1, "admin", "key")
            .unwrap()
            .with_lifetime(Duration::from_secs(1000));
        let first = signer.user_sig_at(10_000);
        assert_eq!(signer.user_sig_at(10_899), first);
        let renewed = signer.user_sig_at(10_900);
        assert_ne!(renewed, first);
        assert_eq!(decode(&renewed)["TLS.time"], 10_900u64);
    }

    #[test]
    fn invalidate_forces_a_new_sig() {
        let signer = Signer::new(1, "admin", "key").unwrap();
        let first = signer.user_sig_at(10_000);
        signer.invalidate();
        // Within the same second: a different UserSig all the same.
        let second = signer.user_sig_at(10_000);
        assert_ne!(first, second);
        assert_eq!(decode(&second)["TLS.time"], 9_999u64);
        signer.invalidate();
        let third = signer.user_sig_at(10_000);
        assert_ne!(third, second);
    }

    #[test]
    fn debug_hides_the_key() {
        let signer = Signer::new(1, "admin", "very-secret-key").unwrap();
        let _ = signer.user_sig_at(5);
        let shown = format!("{signer:?}");
        assert!(!shown.contains("very-secret-key"));
    }
}
