//! [`retry_key`]: the fleet-wide retry memory's key for a TRTC event.

use sha2::{Digest, Sha256};

/// The key under which a verified TRTC event is remembered once answered
/// ([`Store::remember`](crate::Store::remember)), the same on every instance and every Rust
/// release: the hex SHA-256 over the app, the event's verified `Sign` header, the method and the
/// path, separated by NUL bytes. Only Tencent can make a valid `Sign` for a body, so two events
/// share a key only if they are one event; the route keeps a copy of an event replayed to
/// another route from standing for Tencent's delivery to this one.
///
/// ```
/// let key = tim_callback_fleet::retry_key(1400000000, b"c2lnbg==", "POST", "/trtc/callback");
/// assert_eq!(key.len(), 64);
/// assert_ne!(key, tim_callback_fleet::retry_key(1400000000, b"c2lnbg==", "POST", "/other"));
/// ```
pub fn retry_key(app: u64, sign: &[u8], method: &str, path: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(app.to_string().as_bytes());
    hash.update([0]);
    hash.update(sign);
    hash.update([0]);
    hash.update(method.as_bytes());
    hash.update([0]);
    hash.update(path.as_bytes());
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_pinned() {
        // A fixed vector: the key must not change between releases (instances of two releases
        // share the memory during a deploy).
        assert_eq!(
            retry_key(1400000000, b"c2lnbg==", "POST", "/trtc/callback"),
            "46c6a6c5d486e0e2dc56ed0356818796386ae38b81133642011ace6680b29d80"
        );
        assert_ne!(
            retry_key(1, b"a", "POST", "/x"),
            retry_key(1, b"a\0POST", "", "/x")
        );
    }
}
