//! The background loop: the single writer of the [`TokenHandle`].

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pin_project_lite::pin_project;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

use super::miss::MissSignal;
use super::source::TokenSource;
use super::{Config, StatusInner};
use crate::error::{Error, ErrorKind};
use crate::handle::TokenHandle;
use crate::token::TokenSnapshot;

/// A request to fetch now, answered when the fetch is done.
pub(crate) type Command = oneshot::Sender<Result<(), Error>>;

pin_project! {
    /// Turns a panic while polling the source's future into an error. (A small hand-written
    /// `catch_unwind` for futures, rather than pulling in `futures-util` for one adapter.)
    pub(crate) struct CatchUnwind<F> {
        #[pin]
        pub(crate) inner: F,
    }
}

impl<T, F: Future<Output = Result<T, Error>>> Future for CatchUnwind<F> {
    type Output = Result<T, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.project().inner;
        match catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(poll) => poll,
            Err(_) => Poll::Ready(Err(Error::new(ErrorKind::SourcePanicked))),
        }
    }
}

pub(crate) fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

pub(crate) struct Task<S> {
    pub(crate) source: Arc<S>,
    pub(crate) handle: TokenHandle,
    pub(crate) miss: Arc<MissSignal>,
    pub(crate) config: Config,
    pub(crate) status: Arc<Mutex<StatusInner>>,
    pub(crate) commands: mpsc::Receiver<Command>,
    /// Sends the outcome of every fetch, for `start()` waiting on the first success.
    pub(crate) outcomes: watch::Sender<Option<Result<(), Error>>>,
    /// The jitter of the schedule, the backoff and the spacing of miss-triggered fetches.
    pub(crate) rng: Rng,
    /// Miss-triggered fetches in a row that brought no change (see [`Task::space_misses`]).
    pub(crate) fruitless_misses: u32,
    /// Miss-triggered fetches in a row that failed.
    pub(crate) refused_misses: u32,
    /// When the last miss-triggered fetch was asked for ([`MissSignal::now_ms`]).
    pub(crate) last_miss_ms: Option<u64>,
}

enum Trigger {
    Schedule,
    Miss(u64),
    Command(Command),
}

/// Closes the refresh-on-miss channel when the task ends, however it ends (its `TokenRefresher`
/// dropped, the runtime shut down, a panic): a layer must never wait for a fetch that no task will
/// make.
struct CloseOnDrop(Arc<MissSignal>);

impl Drop for CloseOnDrop {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// Far enough to mean "never", near enough for any clock arithmetic (tokio uses the same span).
const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);

/// `now + delay`, saturating at [`FAR_FUTURE`] instead of panicking on overflow.
pub(crate) fn deadline(delay: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(delay.min(FAR_FUTURE))
        .unwrap_or_else(|| now + Duration::from_secs(86_400))
}

impl<S: TokenSource> Task<S> {
    pub(crate) async fn run(mut self) {
        let _close = CloseOnDrop(Arc::clone(&self.miss));
        let mut next = Instant::now();
        loop {
            let trigger = {
                let miss = Arc::clone(&self.miss);
                tokio::select! {
                    biased;
                    command = self.commands.recv() => match command {
                        Some(reply) => Trigger::Command(reply),
                        // Every `TokenRefresher` is gone: stop.
                        None => return,
                    },
                    () = miss.wake.notified() => Trigger::Miss(miss.pending()),
                    () = tokio::time::sleep_until(next) => Trigger::Schedule,
                }
            };
            let asked_ms = self.miss.now_ms();
            let result = self.fetch_and_apply().await;
            next = deadline(self.next_delay(result.is_ok()));
            if let Trigger::Miss(_) = trigger {
                self.space_misses(asked_ms, result.as_ref().map(|c| *c).map_err(drop));
            }
            let result = result.map(drop);
            match trigger {
                Trigger::Schedule => {}
                Trigger::Miss(generation) => self.miss.complete(generation),
                Trigger::Command(reply) => {
                    let _ = reply.send(result.clone());
                }
            }
            let _ = self.outcomes.send(Some(result));
        }
    }

    /// One fetch from the source, bounded by the fetch timeout, a panic caught as an error.
    async fn fetch_once(&self) -> Result<TokenSnapshot, Error> {
        let fetch = CatchUnwind {
            inner: self.source.fetch(),
        };
        match tokio::time::timeout(self.config.fetch_timeout, fetch).await {
            Ok(result) => result,
            Err(_) => Err(Error::new(ErrorKind::Timeout)),
        }
    }

    /// A fetch, confirmed by a second one when it would switch authentication off and the
    /// builder asked for [`confirm_disable`](super::TokenRefresherBuilder::confirm_disable).
    /// Returns the result and how many fetches it took.
    async fn fetch_confirmed(&self) -> (Result<TokenSnapshot, Error>, u64) {
        let first = self.fetch_once().await;
        let downgrade = matches!(&first, Ok(s) if !s.is_enabled())
            && self.handle.load().is_some_and(|s| s.is_enabled());
        if !(downgrade && self.config.confirm_disable) {
            return (first, 1);
        }
        tracing::warn!(
            app = self.config.app_id,
            "tencent reports callback authentication off; confirming with a second fetch"
        );
        (self.fetch_once().await, 2)
    }

    /// After a miss-triggered fetch asked at `asked_ms`, spaces the next one.
    ///
    /// Misses that keep coming while the fetches they trigger bring nothing new are a forged flood
    /// (or a sender with a wrong token). From the second such fetch in a row, the next one waits
    /// `min(gap · 2^(r−1), interval) × [1, 1.5)`: the random factor makes a fleet flooded at once
    /// drift out of lockstep, and `r`, the miss-triggered fetches Tencent refused in a row (at
    /// least 1), doubles the wait while the fleet's fetches exceed its limit, and brings it back
    /// once Tencent answers. A fetch that brings a change (a rotation) adds nothing to the streak,
    /// and two intervals without a miss-triggered fetch end it. The gap itself is never shortened:
    /// at most one miss-triggered fetch per gap, as before.
    fn space_misses(&mut self, asked_ms: u64, result: Result<Change, ()>) {
        let cap = self.config.interval.max(self.config.miss_gap);
        let cap_ms = u64::try_from(cap.as_millis()).unwrap_or(u64::MAX);
        if self
            .last_miss_ms
            .is_some_and(|last| asked_ms.saturating_sub(last) > cap_ms.saturating_mul(2))
        {
            self.fruitless_misses = 0;
            self.refused_misses = 0;
        }
        self.last_miss_ms = Some(asked_ms);
        match result {
            Ok(change) => {
                self.refused_misses = 0;
                if change.counts() {
                    return;
                }
            }
            Err(()) => self.refused_misses = self.refused_misses.saturating_add(1),
        }
        self.fruitless_misses = self.fruitless_misses.saturating_add(1);
        if self.fruitless_misses < 2 {
            return;
        }
        let exponent = self.refused_misses.saturating_sub(1).min(30);
        let gap = self
            .config
            .miss_gap
            .saturating_mul(1 << exponent)
            .min(cap)
            .as_secs_f64()
            * (1.0 + 0.5 * self.rng.unit());
        let gap_ms = Duration::try_from_secs_f64(gap).map_or(u64::MAX, |gap| {
            u64::try_from(gap.as_millis()).unwrap_or(u64::MAX)
        });
        self.miss.extend(asked_ms.saturating_add(gap_ms));
    }

    async fn fetch_and_apply(&mut self) -> Result<Change, Error> {
        let started = std::time::Instant::now();
        let (result, fetches) = self.fetch_confirmed().await;
        let elapsed_ms = started.elapsed().as_millis() as u64;
        let mut status = self.status.lock().unwrap_or_else(|e| e.into_inner());
        status.fetches += fetches;
        // Every fetch but a failed last one succeeded (a confirmation follows a good answer).
        status.successes += fetches - u64::from(result.is_err());
        let outcome = match result {
            Ok(snapshot) => {
                let change = apply(
                    &self.handle,
                    snapshot,
                    self.config.grace,
                    self.config.app_id,
                );
                status.last_success = Some(SystemTime::now());
                status.consecutive_failures = 0;
                status.authentication_enabled = self.handle.load().map(|s| s.is_enabled());
                if change.counts() {
                    status.token_changes += 1;
                }
                if change == Change::Disabled {
                    status.disables += 1;
                }
                tracing::debug!(
                    app = self.config.app_id,
                    elapsed_ms,
                    changed = change.counts(),
                    "callback token refreshed"
                );
                Ok(change)
            }
            Err(error) => {
                status.consecutive_failures = status.consecutive_failures.saturating_add(1);
                status.last_error = Some(error.clone());
                if self.handle.load().is_some() {
                    tracing::warn!(
                        app = self.config.app_id,
                        error = %error,
                        consecutive_failures = status.consecutive_failures,
                        elapsed_ms,
                        "callback token refresh failed; serving the last good token"
                    );
                } else {
                    tracing::warn!(
                        app = self.config.app_id,
                        error = %error,
                        consecutive_failures = status.consecutive_failures,
                        elapsed_ms,
                        "callback token refresh failed; no token loaded yet"
                    );
                }
                Err(error)
            }
        };
        #[cfg(feature = "metrics")]
        self.emit_metrics(&status, outcome.as_ref().err().map(Error::kind));
        outcome
    }

    /// Mirrors the status to the `metrics` facade (once per fetch; allocation here is fine).
    #[cfg(feature = "metrics")]
    fn emit_metrics(&self, status: &StatusInner, error: Option<ErrorKind>) {
        use crate::stats::{app_label, names};
        let app = app_label(self.config.app_id);
        let outcome = error.map_or("ok", |kind| kind.label());
        metrics::counter!(names::REFRESHES, "app" => app.clone(), "outcome" => outcome)
            .increment(1);
        metrics::counter!(names::TOKEN_CHANGES, "app" => app.clone())
            .absolute(status.token_changes);
        metrics::gauge!(names::CONSECUTIVE_FAILURES, "app" => app.clone())
            .set(f64::from(status.consecutive_failures));
        metrics::counter!(names::AUTHENTICATION_DISABLES, "app" => app.clone())
            .absolute(status.disables);
        if let Some(enabled) = status.authentication_enabled {
            metrics::gauge!(names::AUTHENTICATION_ENABLED, "app" => app.clone()).set(if enabled {
                1.0
            } else {
                0.0
            });
        }
        if let Some(at) = status
            .last_success
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        {
            metrics::gauge!(names::LAST_SUCCESS, "app" => app).set(at.as_secs_f64());
        }
    }

    fn next_delay(&mut self, ok: bool) -> Duration {
        let failures = self
            .status
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .consecutive_failures;
        if ok {
            jittered(self.config.interval, self.config.jitter, &mut self.rng)
        } else if self.handle.load().is_none() {
            first_token_backoff(
                failures,
                self.config.backoff_min,
                self.config.backoff_max,
                &mut self.rng,
            )
        } else {
            backoff(
                failures,
                self.config.backoff_min,
                self.config.backoff_max,
                &mut self.rng,
            )
        }
    }
}

/// What [`apply`] did to the handle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Change {
    /// Nothing: the same configuration as before.
    None,
    /// The first snapshot was stored.
    Loaded,
    /// A new token replaced the current one.
    Rotated,
    /// Authentication was switched on.
    Enabled,
    /// Authentication was switched off.
    Disabled,
}

impl Change {
    /// Whether it counts as a change of the effective configuration after the first load.
    pub(crate) fn counts(self) -> bool {
        !matches!(self, Change::None | Change::Loaded)
    }
}

/// Stores `fetched` unless it is the same as what the handle holds. A new token keeps the old one as
/// `previous` until now + `grace`. Authentication off (on the first load, or switched off later)
/// is logged at `WARN` once per change, with the app.
pub(crate) fn apply(
    handle: &TokenHandle,
    fetched: TokenSnapshot,
    grace: Duration,
    app: Option<u64>,
) -> Change {
    let Some(old) = handle.load() else {
        if !fetched.is_enabled() {
            tracing::warn!(
                app,
                "callback authentication is off at tencent: callbacks are let through unverified"
            );
        }
        handle.store(fetched);
        return Change::Loaded;
    };
    match (old.current(), fetched.current()) {
        (Some(old_current), Some(new_current)) if old_current == new_current => Change::None,
        (Some(old_current), Some(new_current)) => {
            let until = now_unix().saturating_add(grace.as_secs());
            let next = TokenSnapshot::enabled(new_current.clone());
            let next = if grace.is_zero() {
                next
            } else {
                next.with_previous(old_current.clone(), until)
            };
            tracing::info!(
                app,
                new = %new_current.fingerprint(),
                previous = %old_current.fingerprint(),
                grace_secs = grace.as_secs(),
                "callback token rotated"
            );
            handle.store(next);
            Change::Rotated
        }
        (None, None) => Change::None,
        (Some(_), None) => {
            tracing::warn!(
                app,
                "callback authentication switched off at tencent: callbacks are now let through \
                 unverified"
            );
            handle.store(fetched);
            Change::Disabled
        }
        (None, Some(_)) => {
            tracing::info!(app, "callback authentication switched on");
            handle.store(fetched);
            Change::Enabled
        }
    }
}

/// Where a refresher's jitter comes from.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Rng {
    /// The process's randomness ([`crate::rand`]), seeded by the operating system: what every
    /// refresher uses unless told otherwise.
    System,
    /// A SplitMix64 sequence, for deterministic simulations
    /// ([`jitter_seed`](super::TokenRefresherBuilder::jitter_seed)): the state is a counter.
    Seeded(u64),
}

impl Rng {
    /// A sequence from `seed`. The counter starts at the seed's mix, not at the seed: sequences
    /// from neighbouring seeds (one per instance of a simulated fleet) are then unrelated rather
    /// than shifted copies of each other.
    pub(crate) fn seeded(seed: u64) -> Self {
        Rng::Seeded(mix(seed))
    }

    /// A uniform value in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        match self {
            Rng::System => crate::rand::random_unit(),
            Rng::Seeded(state) => {
                *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
                (mix(*state) >> 11) as f64 / (1u64 << 53) as f64
            }
        }
    }
}

/// SplitMix64's output function.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `base` scaled by a uniform factor in `[1 − jitter, 1 + jitter]`, saturating at
/// `Duration::MAX` (never a panic, whatever the configuration).
pub(crate) fn jittered(base: Duration, jitter: f64, rng: &mut Rng) -> Duration {
    let factor = 1.0 + jitter * (2.0 * rng.unit() - 1.0);
    Duration::try_from_secs_f64(base.as_secs_f64() * factor.max(0.0)).unwrap_or(Duration::MAX)
}

/// Exponential backoff with ±20 % jitter: `min · 2^(failures−1)`, capped at `max`, never below `min`.
pub(crate) fn backoff(failures: u32, min: Duration, max: Duration, rng: &mut Rng) -> Duration {
    let exponent = failures.saturating_sub(1).min(30);
    let base = min.saturating_mul(1u32 << exponent).min(max);
    jittered(base, 0.2, rng).clamp(min, max.max(min))
}

/// The backoff before the first token: drawn uniformly between `min` and the step [`backoff`]
/// would take (`min · 2^(failures−1)`, capped at `max`), "full jitter". A fleet started at once
/// (a deploy) is in lockstep, and its fetches beyond Tencent's limit are refused together: ±20 %
/// would bring the retries back in waves, a uniform draw spreads them (SCALING.md, cold start).
pub(crate) fn first_token_backoff(
    failures: u32,
    min: Duration,
    max: Duration,
    rng: &mut Rng,
) -> Duration {
    let exponent = failures.saturating_sub(1).min(30);
    let step = min.saturating_mul(1u32 << exponent).min(max).max(min);
    let spread = (step - min).as_secs_f64() * rng.unit();
    min.saturating_add(Duration::try_from_secs_f64(spread).unwrap_or(Duration::MAX))
        .min(max.max(min))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::CallbackToken;

    #[test]
    fn backoff_grows_and_stays_within_bounds() {
        let min = Duration::from_secs(1);
        let max = Duration::from_secs(300);
        let rng = &mut Rng::System;
        for failures in 0..100 {
            let d = backoff(failures, min, max, rng);
            assert!(d >= min && d <= max, "{failures}: {d:?}");
        }
        assert!(backoff(1, min, max, rng) <= Duration::from_millis(1200));
        assert!(backoff(6, min, max, rng) >= Duration::from_millis(25_600));
        assert!(backoff(50, min, max, rng) >= Duration::from_secs(240));
    }

    #[test]
    fn the_first_token_backoff_spreads_between_the_minimum_and_the_step() {
        let (min, max) = (Duration::from_secs(1), Duration::from_secs(300));
        let rng = &mut Rng::seeded(1);
        assert_eq!(first_token_backoff(1, min, max, rng), min);
        let draws: Vec<Duration> = (0..1000)
            .map(|_| first_token_backoff(4, min, max, rng))
            .collect();
        assert!(draws
            .iter()
            .all(|d| (min..=Duration::from_secs(8)).contains(d)));
        // Uniform over [1 s, 8 s], not ±20 % around 8 s: both ends are drawn.
        assert!(draws.iter().any(|d| *d < Duration::from_secs(2)));
        assert!(draws.iter().any(|d| *d > Duration::from_secs(7)));
        for failures in [0, 9, 10, 50, u32::MAX] {
            let d = first_token_backoff(failures, min, max, rng);
            assert!(d >= min && d <= max, "{failures}: {d:?}");
        }
        let huge = Duration::MAX;
        assert_eq!(first_token_backoff(3, huge, huge, rng), huge);
    }

    #[test]
    fn a_seed_gives_the_same_sequence_and_neighbouring_seeds_unrelated_ones() {
        let draw = |seed| {
            let mut rng = Rng::seeded(seed);
            (0..8).map(|_| rng.unit()).collect::<Vec<f64>>()
        };
        assert_eq!(draw(7), draw(7));
        let (a, b) = (draw(7), draw(8));
        assert!(a.iter().zip(&b).all(|(x, y)| x != y));
        // Not a shifted copy either (SplitMix64 counters one step apart would be).
        assert!(a[1..].iter().zip(&b).all(|(x, y)| x != y));
        assert!(a.iter().all(|u| (0.0..1.0).contains(u)));
    }

    #[test]
    fn jitter_stays_within_its_fraction() {
        for _ in 0..1000 {
            let d = jittered(Duration::from_secs(60), 0.1, &mut Rng::System);
            assert!(
                d >= Duration::from_secs(54) && d <= Duration::from_secs(66),
                "{d:?}"
            );
        }
    }

    #[test]
    fn apply_keeps_the_previous_token_after_a_rotation() {
        let a = CallbackToken::new("a").unwrap();
        let b = CallbackToken::new("b").unwrap();
        let c = CallbackToken::new("c").unwrap();
        let handle = TokenHandle::empty();
        let grace = Duration::from_secs(300);
        assert!(!apply(&handle, TokenSnapshot::enabled(a.clone()), grace, None).counts());
        assert!(!apply(&handle, TokenSnapshot::enabled(a.clone()), grace, None).counts());
        assert!(apply(&handle, TokenSnapshot::enabled(b.clone()), grace, None).counts());
        let s = handle.load().unwrap();
        assert_eq!(s.current(), Some(&b));
        let (prev, until) = s.previous().unwrap();
        assert_eq!(prev, &a);
        assert!(until >= now_unix() + 299);
        // A second rotation within the grace period keeps the two newest.
        assert!(apply(&handle, TokenSnapshot::enabled(c.clone()), grace, None).counts());
        let s = handle.load().unwrap();
        assert_eq!(s.current(), Some(&c));
        assert_eq!(s.previous().unwrap().0, &b);
        // Disabling drops both.
        assert_eq!(
            apply(&handle, TokenSnapshot::disabled(), grace, None),
            Change::Disabled
        );
        assert!(!handle.load().unwrap().is_enabled());
    }
}
