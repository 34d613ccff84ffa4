//! The background loop, one for every kind of value: the single writer of its cell.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pin_project_lite::pin_project;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

use super::kind::{Change, Kind};
use super::source::Source;
use super::{Link, Settings, Stop};
use crate::cell::Cell;
use crate::error::{Error, ErrorKind};

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

pub(crate) struct Task<S, T> {
    pub(crate) source: S,
    /// Never a strong reference: the task must not keep its readers' cell alive.
    pub(crate) cell: Weak<Cell<T>>,
    pub(crate) link: Arc<Link>,
    pub(crate) settings: Settings,
    /// `None` once every `Refresher` is gone (which does not stop the task).
    pub(crate) commands: Option<mpsc::Receiver<Command>>,
    /// Sends the outcome of every fetch, for `start()` waiting on the first success.
    pub(crate) outcomes: watch::Sender<Option<Result<(), Error>>>,
    /// The jitter of the schedule, the backoff and the spacing of miss-triggered fetches.
    pub(crate) rng: Rng,
    /// Miss-triggered fetches in a row that brought no change (see [`Task::space_misses`]).
    pub(crate) fruitless_misses: u32,
    /// Miss-triggered fetches in a row that failed.
    pub(crate) refused_misses: u32,
    /// When the last miss-triggered fetch was asked for ([`MissSignal::now_ms`](super::miss::MissSignal::now_ms)).
    pub(crate) last_miss_ms: Option<u64>,
}

enum Trigger {
    Schedule,
    Miss(u64),
    Command(Command),
}

/// Marks the refresher stopped when the task ends, however it ends (the runtime shut down, a
/// panic, its readers gone): a layer must never wait for a fetch that no task will make, and the
/// handles' status must say that nothing refreshes them.
struct StopOnDrop(Arc<Link>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.stop(Stop::TaskEnded);
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

/// The next command, or never once every `Refresher` is gone.
async fn next_command(commands: &mut Option<mpsc::Receiver<Command>>) -> Option<Command> {
    match commands {
        Some(receiver) => receiver.recv().await,
        None => std::future::pending().await,
    }
}

/// The next refresh-on-miss request, or never for a kind without one.
async fn next_miss(link: &Link) -> u64 {
    match link.miss() {
        Some(miss) => {
            miss.wake.notified().await;
            miss.pending()
        }
        None => std::future::pending().await,
    }
}

impl<S: Source<T>, T: Kind> Task<S, T> {
    pub(crate) async fn run(mut self) {
        let link = Arc::clone(&self.link);
        let _stop = StopOnDrop(Arc::clone(&link));
        let mut next = Instant::now();
        loop {
            let trigger = tokio::select! {
                biased;
                () = link.readers_gone.notified() => break,
                command = next_command(&mut self.commands) => match command {
                    Some(reply) => Trigger::Command(reply),
                    // Every `Refresher` is gone; its handles still read: go on.
                    None => {
                        self.commands = None;
                        continue;
                    }
                },
                generation = next_miss(&link) => Trigger::Miss(generation),
                // The source says its value changed (a notice from a shared store): fetch now,
                // as on the schedule.
                () = self.source.changed() => Trigger::Schedule,
                () = tokio::time::sleep_until(next) => Trigger::Schedule,
            };
            if self.cell.strong_count() == 0 {
                break;
            }
            let asked_ms = link.miss().map_or(0, |miss| miss.now_ms());
            let miss = matches!(trigger, Trigger::Miss(_));
            let Some(result) = self.fetch_and_apply(miss).await else {
                break;
            };
            next = deadline(self.next_delay(result.is_ok()));
            if let Trigger::Miss(_) = trigger {
                self.space_misses(asked_ms, result.as_ref().map(|c| *c).map_err(drop));
            }
            let result = result.map(drop);
            match trigger {
                Trigger::Schedule => {}
                Trigger::Miss(generation) => {
                    if let Some(miss) = link.miss() {
                        miss.complete(generation);
                    }
                }
                Trigger::Command(reply) => {
                    let _ = reply.send(result.clone());
                }
            }
            let _ = self.outcomes.send(Some(result));
        }
        // Nothing reads the cell any more: end quietly.
        link.stop(Stop::ReadersGone);
    }

    /// One fetch from the source (its [`fetch_on_miss`](Source::fetch_on_miss) when a signature
    /// miss asked for it), bounded by the fetch timeout, a panic caught as an error.
    async fn fetch_once(&self, miss: bool) -> Result<T, Error> {
        let timeout = self.settings.fetch_timeout;
        let result = if miss {
            let fetch = CatchUnwind {
                inner: self.source.fetch_on_miss(),
            };
            tokio::time::timeout(timeout, fetch).await
        } else {
            let fetch = CatchUnwind {
                inner: self.source.fetch(),
            };
            tokio::time::timeout(timeout, fetch).await
        };
        result.unwrap_or_else(|_| Err(Error::new(ErrorKind::Timeout)))
    }

    /// A fetch, confirmed by a second one when the kind asks for it (a token switching
    /// authentication off, with [`confirm_disable`](super::RefresherBuilder::confirm_disable)).
    /// Returns the result and how many fetches it took; `None` when the cell is gone.
    async fn fetch_confirmed(&self, miss: bool) -> Option<(Result<T, Error>, u64)> {
        let first = self.fetch_once(miss).await;
        let confirm = match &first {
            Ok(fetched) => {
                let current = self.cell.upgrade()?.load_full();
                T::needs_confirmation(&self.settings, current.as_deref(), fetched)
            }
            Err(_) => false,
        };
        if !confirm {
            return Some((first, 1));
        }
        tracing::warn!(
            app = self.settings.app_id,
            "tencent reports callback authentication off; confirming with a second fetch"
        );
        Some((self.fetch_once(false).await, 2))
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
        let cap = self.settings.interval.max(self.settings.miss_gap);
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
            .settings
            .miss_gap
            .saturating_mul(1 << exponent)
            .min(cap)
            .as_secs_f64()
            * (1.0 + 0.5 * self.rng.unit());
        let gap_ms = Duration::try_from_secs_f64(gap).map_or(u64::MAX, |gap| {
            u64::try_from(gap.as_millis()).unwrap_or(u64::MAX)
        });
        if let Some(miss) = self.link.miss() {
            miss.extend(asked_ms.saturating_add(gap_ms));
        }
    }

    /// A fetch, applied to the cell; `None` when the cell is gone (nothing reads it any more).
    async fn fetch_and_apply(&mut self, miss: bool) -> Option<Result<Change, Error>> {
        let started = std::time::Instant::now();
        // A fetch under way is abandoned when the last reader goes: nobody would see its result.
        let (result, fetches) = tokio::select! {
            biased;
            () = self.link.readers_gone.notified() => return None,
            fetched = self.fetch_confirmed(miss) => fetched?,
        };
        let elapsed_ms = started.elapsed().as_millis() as u64;
        // Held only for the store: a strong reference across a fetch would keep the cell alive.
        let cell = self.cell.upgrade()?;
        let app = self.settings.app_id;
        let what = T::WHAT;
        let mut status = self.link.lock();
        status.fetches += fetches;
        // Every fetch but a failed last one succeeded (a confirmation follows a good answer).
        status.successes += fetches - u64::from(result.is_err());
        let outcome = match result {
            Ok(fetched) => {
                let change = T::apply(&cell, fetched, &self.settings, &mut status);
                status.last_success = Some(SystemTime::now());
                status.consecutive_failures = 0;
                if change.counts() {
                    status.changes += 1;
                }
                tracing::debug!(
                    app,
                    what,
                    elapsed_ms,
                    changed = change.counts(),
                    "refreshed"
                );
                Ok(change)
            }
            Err(error) => {
                status.consecutive_failures = status.consecutive_failures.saturating_add(1);
                status.last_error = Some(error.clone());
                if cell.load_full().is_some() {
                    tracing::warn!(
                        app,
                        what,
                        error = %error,
                        consecutive_failures = status.consecutive_failures,
                        elapsed_ms,
                        "refresh failed; serving the last good value"
                    );
                } else {
                    tracing::warn!(
                        app,
                        what,
                        error = %error,
                        consecutive_failures = status.consecutive_failures,
                        elapsed_ms,
                        "refresh failed; nothing loaded yet"
                    );
                }
                Err(error)
            }
        };
        #[cfg(feature = "metrics")]
        T::emit_metrics(&status, app, outcome.as_ref().err().map(Error::kind));
        drop(status);
        drop(cell);
        Some(outcome)
    }

    fn next_delay(&mut self, ok: bool) -> Duration {
        let failures = self.link.lock().consecutive_failures;
        let loaded = self
            .cell
            .upgrade()
            .is_some_and(|cell| cell.load_full().is_some());
        if ok {
            jittered(self.settings.interval, self.settings.jitter, &mut self.rng)
        } else if !loaded {
            first_token_backoff(
                failures,
                self.settings.backoff_min,
                self.settings.backoff_max,
                &mut self.rng,
            )
        } else {
            backoff(
                failures,
                self.settings.backoff_min,
                self.settings.backoff_max,
                &mut self.rng,
            )
        }
    }
}

/// Where a refresher's jitter comes from.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Rng {
    /// The process's randomness ([`crate::random`]), seeded by the operating system: what every
    /// refresher uses unless told otherwise.
    System,
    /// A SplitMix64 sequence, for deterministic simulations
    /// ([`jitter_seed`](super::RefresherBuilder::jitter_seed)): the state is a counter.
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
            Rng::System => crate::random::random_unit(),
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
    use crate::handle::TokenHandle;
    use crate::refresh::kind::apply_token as apply;
    use crate::token::{CallbackToken, TokenSnapshot};

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
