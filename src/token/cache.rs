//! The per-thread `Sign` cache: the last digest this thread computed, and its hex.
//!
//! Every callback Tencent sends within one second carries the same `RequestTime` and so the same
//! `Sign`: under load, most verifications find this entry and skip the hash. The trade-offs are
//! public documentation (`Verifier`, "Performance"): one entry per thread, no eviction policy, no
//! growth.

use std::cell::Cell;

use crate::hex;

/// What an entry was computed for. The token id is never reused within a process (a token's
/// address could be), and the `RequestTime`'s value and number of digits together fix its exact
/// bytes (a fixed-width decimal spelling is unique, leading zeros included): the lookup is three
/// integer comparisons, no `memcmp`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Key {
    pub(crate) token_id: u64,
    pub(crate) time: u64,
    pub(crate) time_len: usize,
}

struct Entry {
    key: Cell<Key>,
    digest: Cell<[u8; 32]>,
    /// `digest` in lowercase hex: the `Sign` Tencent sends for this second.
    sign: Cell<[u8; 64]>,
}

thread_local! {
    static LAST: Entry = const {
        Entry {
            // Token id 0 is never issued: the empty entry matches nothing.
            key: Cell::new(Key { token_id: 0, time: 0, time_len: 0 }),
            digest: Cell::new([0; 32]),
            sign: Cell::new([0; 64]),
        }
    };
}

#[cfg(test)]
thread_local! {
    /// How many digests this thread computed: lets unit tests prove which paths never hash.
    pub(crate) static HASHES: Cell<u64> = const { Cell::new(0) };
}

/// The cached `Sign` for `key`, if this thread's last digest was computed for it.
#[inline]
pub(crate) fn sign(key: Key) -> Option<[u8; 64]> {
    LAST.with(|last| (last.key.get() == key).then(|| last.sign.get()))
}

/// The cached digest for `key`, if this thread's last digest was computed for it.
#[inline]
pub(crate) fn digest(key: Key) -> Option<[u8; 32]> {
    LAST.with(|last| (last.key.get() == key).then(|| last.digest.get()))
}

/// Replaces this thread's entry (the first callback of each second pays the hex encoding).
#[inline]
pub(crate) fn store(key: Key, digest: [u8; 32]) {
    let sign = hex::encode(&digest);
    LAST.with(|last| {
        last.key.set(key);
        last.digest.set(digest);
        last.sign.set(sign);
    });
}
