//! [`Config`]: the body limit and the policy for before-callbacks whose body cannot be read.

use crate::Stats;

/// What the [`Router`](crate::Router) and the extractor do with a body: its size limit, the
/// answer to a before-callback whose body cannot be read, and where refusals are counted.
///
/// The router takes it with [`Router::with_config`](crate::Router::with_config); the axum
/// extractor finds it in the request's extensions (`.layer(Extension(config))`), else uses
/// the defaults: 256 KiB, [`UnreadableBody::Forbid`], counters of its own.
#[derive(Clone, Debug)]
pub struct Config {
    pub(crate) body_limit: usize,
    pub(crate) unreadable: UnreadableBody,
    pub(crate) stats: Stats,
}

/// The default body limit: 256 KiB (Chat messages are at most 12 KB; group-creation bodies with
/// a full member list are the largest Tencent sends).
pub const DEFAULT_BODY_LIMIT: usize = 256 * 1024;

impl Default for Config {
    fn default() -> Self {
        Self::new()
    }
}

impl Config {
    /// 256 KiB, [`UnreadableBody::Forbid`], new counters.
    pub fn new() -> Self {
        Self {
            body_limit: DEFAULT_BODY_LIMIT,
            unreadable: UnreadableBody::Forbid,
            stats: Stats::new(),
        }
    }

    /// Bodies over `limit` bytes are refused (413; by the policy for a before-callback).
    pub fn with_body_limit(mut self, limit: usize) -> Self {
        self.body_limit = limit;
        self
    }

    /// How a before-callback whose body cannot be read is answered.
    pub fn with_unreadable_body(mut self, policy: UnreadableBody) -> Self {
        self.unreadable = policy;
        self
    }

    /// Count into `stats` (share one [`Stats`] between a router and an extractor).
    pub fn with_stats(mut self, stats: Stats) -> Self {
        self.stats = stats;
        self
    }

    /// The counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }
}

/// The answer to a before-callback (a command whose reply decides) whose body cannot be read:
/// malformed, not its command's type, over the limit, or not JSON.
///
/// Not a non-200: Tencent counts a non-200 as a failed callback, and its documented default for a
/// failed before-callback is to deliver the message as if no moderation ran. So the answer is a
/// 200 with a decision, counted per reason ([`Stats::answered_by_policy`]) and logged at most once
/// per reason per second. (A conflicting command is still refused with a 400: it is not Tencent's.)
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum UnreadableBody {
    /// `ErrorCode` 1: refuse the action (fail closed). The default.
    #[default]
    Forbid,
    /// `ErrorCode` 0: let it through unmoderated (what Tencent itself does on a timeout).
    Allow,
}
