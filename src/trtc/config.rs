//! The settings a TRTC layer is built with ([`Settings`], plain and cloneable), its runtime state
//! ([`State`]: the log limiter and the memory of answered events, shared by the layer and its
//! clones), and what every service of it shares ([`Config`]), with the one way a rejection is
//! answered ([`Config::reject`]).

use std::sync::{Arc, OnceLock};

use http::Response;

use super::dedupe::RecentEvents;
use super::{TrtcKeys, TrtcVerifier};
use crate::reject::{reject, Clock, Details, RejectionLog, RejectionResponse};
use crate::stats::Counters;
use crate::verify::Rejection;

/// The default body limit: TRTC events are a few hundred bytes.
pub(crate) const DEFAULT_BODY_LIMIT: usize = 64 * 1024;
/// The default number of answered events remembered for retries.
pub(crate) const DEFAULT_RECENT_EVENTS: usize = 4096;

/// What the `with_*` methods set.
pub(crate) struct Settings<R> {
    pub(crate) keys: TrtcKeys,
    pub(crate) verifier: TrtcVerifier,
    pub(crate) body_limit: usize,
    pub(crate) clock: Clock,
    pub(crate) rejection: Arc<R>,
    pub(crate) insert_verified: bool,
    /// How many answered events to remember (0: none).
    pub(crate) recent_events: usize,
}

impl<R> Clone for Settings<R> {
    fn clone(&self) -> Self {
        Self {
            keys: self.keys.clone(),
            verifier: self.verifier,
            body_limit: self.body_limit,
            clock: self.clock.clone(),
            rejection: Arc::clone(&self.rejection),
            insert_verified: self.insert_verified,
            recent_events: self.recent_events,
        }
    }
}

/// What a layer accumulates while it runs, created once with the layer and shared by its clones,
/// the layers its `with_*` methods return and every service it builds.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) log: RejectionLog,
    /// The answered events, sized by the settings when first used.
    recent: OnceLock<Option<RecentEvents>>,
}

/// What every service of a layer shares, behind one `Arc`.
pub(crate) struct Config<R> {
    pub(crate) settings: Settings<R>,
    pub(crate) state: Arc<State>,
}

impl<R> Clone for Config<R> {
    /// The same settings and the same state (never a fresh one).
    fn clone(&self) -> Self {
        Self {
            settings: self.settings.clone(),
            state: Arc::clone(&self.state),
        }
    }
}

impl<R> Config<R> {
    /// The memory of answered events, unless turned off.
    #[inline]
    pub(crate) fn recent(&self) -> Option<&RecentEvents> {
        let capacity = self.settings.recent_events;
        self.state
            .recent
            .get_or_init(|| (capacity > 0).then(|| RecentEvents::new(capacity)))
            .as_ref()
    }

    /// Counts, logs and answers a rejection (the shared rejection path).
    pub(crate) fn reject<ResBody>(
        &self,
        rejection: Rejection,
        app_id: Option<u64>,
        counters: &Counters,
        now_ms: u64,
    ) -> Response<ResBody>
    where
        R: RejectionResponse<ResBody>,
    {
        reject(
            &*self.settings.rejection,
            &self.state.log,
            counters,
            rejection,
            now_ms / 1000,
            app_id,
            || Details {
                command: "trtc event",
                skew_secs: None,
                source: None,
            },
        )
    }
}
