//! Standard Webhooks signing (PROTOCOL.md §5): the secret, the deterministic `webhook-id` and
//! the `webhook-signature` over `{id}.{timestamp}.{body}`.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// One or two Standard Webhooks secrets (`whsec_` + base64 of 24 to 64 bytes); with two, every
/// request carries a signature by each, as during a rotation. Never shown (`Debug` says how many).
#[derive(Clone)]
pub(crate) struct Secrets(Vec<Vec<u8>>);

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secrets({} secret(s), redacted)", self.0.len())
    }
}

impl Secrets {
    /// Reads `whsec_…`, or two separated by one space. The reason never quotes the value.
    pub(crate) fn parse(value: &str) -> Result<Self, &'static str> {
        let parts: Vec<&str> = value.split(' ').collect();
        if parts.len() > 2 {
            return Err(
                "must be one whsec_ secret, or two separated by one space during a rotation",
            );
        }
        let mut keys = Vec::new();
        for part in parts {
            let Some(encoded) = part.strip_prefix("whsec_") else {
                return Err("must start with whsec_ (a Standard Webhooks secret: whsec_ and the base64 of 24 to 64 random bytes)");
            };
            let key = STANDARD
                .decode(encoded)
                .map_err(|_| "is not whsec_ followed by standard base64")?;
            if !(24..=64).contains(&key.len()) {
                return Err("must hold 24 to 64 bytes after whsec_ (base64-decoded)");
            }
            if keys.contains(&key) {
                return Err("gives the same secret twice");
            }
            keys.push(key);
        }
        Ok(Self(keys))
    }

    /// Whether the two hold a secret in common.
    pub(crate) fn overlaps(&self, other: &Secrets) -> bool {
        self.0.iter().any(|key| other.0.contains(key))
    }

    /// The `webhook-signature` value: `v1,<base64>` per secret, separated by spaces.
    pub(crate) fn sign(&self, id: &str, timestamp: u64, body: &[u8]) -> String {
        let timestamp = timestamp.to_string();
        self.0
            .iter()
            .map(|key| {
                let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
                mac.update(id.as_bytes());
                mac.update(b".");
                mac.update(timestamp.as_bytes());
                mac.update(b".");
                mac.update(body);
                format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The `webhook-id`: `msg_` and the hex SHA-256 over the app, the command and the body bytes,
/// the same on every instance and every retry of one event (TRTC's retries carry the same
/// body). A callback forwarded without verification has `msg_unverified_` instead: the id is
/// signed, so a backend that checks the prefix cannot take it for a verified one.
pub(crate) fn webhook_id(app: Option<u64>, command: &str, body: &[u8], verified: bool) -> String {
    let mut hash = Sha256::new();
    // The app in decimal and the command (`[A-Za-z0-9._]`) hold no NUL: the fields cannot run
    // into each other.
    hash.update(app.map_or_else(String::new, |a| a.to_string()).as_bytes());
    hash.update([0]);
    hash.update(command.as_bytes());
    hash.update([0]);
    hash.update(body);
    let digest = hash.finalize();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    if verified {
        format!("msg_{hex}")
    } else {
        format!("msg_unverified_{hex}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    #[test]
    fn secrets_are_read_strictly_and_never_shown() {
        assert!(Secrets::parse(SECRET).is_ok());
        let two = format!("{SECRET} whsec_{}", STANDARD.encode([7u8; 32]));
        assert_eq!(Secrets::parse(&two).unwrap().0.len(), 2);
        for bad in [
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "whsec_short",
            "whsec_!!!!",
            &format!("whsec_{}", STANDARD.encode([1u8; 23])),
            &format!("whsec_{}", STANDARD.encode([1u8; 65])),
            &format!("{SECRET} {SECRET}"),
            &format!("{SECRET}  {SECRET}"),
            &format!("{two} {SECRET}"),
        ] {
            let why = Secrets::parse(bad).unwrap_err();
            assert!(!why.contains("MfKQ"), "{why}");
        }
        let debug = format!("{:?}", Secrets::parse(&two).unwrap());
        assert!(!debug.contains("MfKQ") && debug.contains('2'), "{debug}");
    }

    #[test]
    fn the_id_is_the_events_and_tells_unverified_apart() {
        let id = webhook_id(Some(1400000001), "C2C.CallbackAfterSendMsg", b"{}", true);
        assert_eq!(
            id,
            webhook_id(Some(1400000001), "C2C.CallbackAfterSendMsg", b"{}", true)
        );
        assert!(id.starts_with("msg_") && id.len() == 4 + 64 && !id.contains('.'));
        for other in [
            webhook_id(Some(1400000002), "C2C.CallbackAfterSendMsg", b"{}", true),
            webhook_id(
                Some(1400000001),
                "C2C.CallbackAfterMsgWithDraw",
                b"{}",
                true,
            ),
            webhook_id(Some(1400000001), "C2C.CallbackAfterSendMsg", b"{ }", true),
            webhook_id(None, "C2C.CallbackAfterSendMsg", b"{}", true),
        ] {
            assert_ne!(id, other);
        }
        let unverified = webhook_id(Some(1400000001), "C2C.CallbackAfterSendMsg", b"{}", false);
        assert_eq!(unverified, id.replacen("msg_", "msg_unverified_", 1));
    }
}
