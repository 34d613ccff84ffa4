//! [`Store`]: what the fleet shares, and the rules every store keeps ([`RedisStore`] on a real
//! Redis, [`MemoryStore`] in memory for tests and simulations).
//!
//! [`RedisStore`]: crate::RedisStore
//! [`MemoryStore`]: crate::MemoryStore

use std::fmt;
use std::future::Future;
use std::time::Duration;

/// The answer to a [`Store::lease`] call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lease {
    /// Whether the caller holds the lease now (it took it, or renewed its own).
    pub held: bool,
    /// The store's clock, in milliseconds since the Unix epoch: every fetch time the fleet
    /// compares is on this one clock, whatever the instances' clocks say.
    pub now_ms: u64,
}

/// What a [`Store::read`] finds for an app. `Debug` does not show the record (it holds the
/// token).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Stored {
    /// The token record, as the holder wrote it (a line that starts `v1 <fetched_ms> `).
    pub record: Option<String>,
    /// When an instance last asked for an early fetch (the store's clock, milliseconds), kept
    /// past the ask's gap so that the holder's tick catches an ask whose notice it missed.
    pub early_ms: Option<u64>,
}

impl fmt::Debug for Stored {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stored")
            .field("record", &self.record.as_ref().map(|_| "redacted"))
            .field("early_ms", &self.early_ms)
            .finish()
    }
}

/// A notice every instance hears.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notice {
    /// The app's token record was replaced: read it now.
    Changed(u64),
    /// An instance asked for an early fetch of the app's token (a signature miss): the lease
    /// holder fetches.
    Early(u64),
}

/// A store could not be reached or answered something unexpected. The message never holds a
/// token, a password or the store's URL.
#[derive(Clone, Debug)]
pub struct StoreError {
    message: String,
}

impl StoreError {
    /// An error with `message` (keep secrets and URLs out of it: it is logged).
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the fleet's store: {}", self.message)
    }
}

impl std::error::Error for StoreError {}

/// Where the fleet keeps each app's lease, token record and early-fetch ask, and how it tells
/// every instance. The fleet's correctness rests on these rules, which
/// [`RedisStore`](crate::RedisStore) keeps in Lua scripts and [`MemoryStore`](crate::MemoryStore)
/// under a lock (the Redis tests pin the one, the fleet simulation uses the other):
///
/// - **one holder per app at a time**: [`lease`](Self::lease) takes a free lease or renews the
///   caller's own, for `ttl`; an expired lease is free;
/// - **fenced writes**: [`publish`](Self::publish) writes only while the writer holds the lease
///   *and* its fetch time is later than the stored record's, so a paused ex-holder, whose lease
///   another took, or which took it again after its pause with an old token in hand, cannot
///   overwrite a newer token. The times are the store's own clock ([`Lease::now_ms`]): a counter
///   would restart when the store is flushed, a clock does not;
/// - **at most one early ask per gap**: [`ask_early`](Self::ask_early) succeeds for the first
///   caller in each `gap`, fleet-wide;
/// - **retries answered once**: [`remember`](Self::remember) after a handler answered 2xx (never
///   before: a claim before the handler runs would lose the event when that handler fails and
///   Tencent's retry reaches another instance), [`answered`](Self::answered) before the next
///   delivery, on whichever instance;
/// - a successful `publish` sends [`Notice::Changed`], a successful `ask_early`
///   [`Notice::Early`], to every instance's [`notices`](Self::notices). Notices may be lost (a
///   reconnection): every instance also reads on an interval.
pub trait Store: Send + Sync + 'static {
    /// Takes the lease on `app` for `holder` when it is free, or renews it when `holder` has it.
    fn lease(
        &self,
        app: u64,
        holder: &str,
        ttl: Duration,
    ) -> impl Future<Output = Result<Lease, StoreError>> + Send;

    /// The app's record and pending early ask.
    fn read(&self, app: u64) -> impl Future<Output = Result<Stored, StoreError>> + Send;

    /// Writes `record` (fetched at `fetched_ms`, the store's clock) when `holder` holds the lease
    /// and no record fetched at `fetched_ms` or later is stored; then sends
    /// [`Notice::Changed`]. Whether it wrote.
    fn publish(
        &self,
        app: u64,
        holder: &str,
        fetched_ms: u64,
        record: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Asks the holder for an early fetch, unless someone asked within `gap`; then sends
    /// [`Notice::Early`]. Whether this call asked.
    fn ask_early(
        &self,
        app: u64,
        gap: Duration,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Records that `instance` is alive and returns how many instances were within `window`
    /// (the fleet's size, which scales the fallback's rate).
    fn join(
        &self,
        instance: &str,
        window: Duration,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Whether an event with this key was answered (and remembered within its time to live):
    /// the fleet-wide retry memory, looked up before a TRTC event reaches the handler.
    fn answered(&self, key: &str) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Remembers that the event with this key was answered (2xx), for `ttl`: Tencent's retry of
    /// it on any instance is then answered without calling the handler again.
    fn remember(
        &self,
        key: &str,
        ttl: Duration,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// A new subscription to the notices (the store keeps it alive, reconnecting, until the
    /// receiver is dropped). Called from within a tokio runtime.
    fn notices(&self) -> tokio::sync::mpsc::Receiver<Notice>;
}
