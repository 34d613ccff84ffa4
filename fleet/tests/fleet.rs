//! Fleet scale, simulated: N receiver instances, each the real [`TokenRefresher`] with its default
//! settings and the real [`CallbackAuthLayer`], against one simulated Tencent that answers at most
//! 200 `get_callback_token` calls per second per app (60007 beyond), can rotate the token at a
//! chosen instant, can be down (502) for a chosen span, and counts every call.
//!
//! Everything runs on tokio's paused clock in one current-thread runtime, and every random choice
//! (the instances' start times, which instance a callback reaches, the refreshers' jitter through
//! their hidden `jitter_seed`) comes from a seed: the same figures on every run. Each test runs
//! its scenario twice and asserts that the figures agree.
//!
//! Each scenario runs in two modes: **per instance** (every instance's refresher calls Tencent,
//! the library alone) and **shared** (every instance a member of one [`tim_callback_fleet`]
//! fleet over a [`MemoryStore`], the Redis store's rules in memory: one lease holder per app
//! calls Tencent, the others read the store).
//!
//! SCALING.md holds the table these tests print (`-- --nocapture`); the rows for 2,000 to 10,000
//! instances come from the ignored tests, run in release mode:
//!
//! ```text
//! cargo test -p tim-callback-fleet --test fleet -- --nocapture
//! cargo test -p tim-callback-fleet --release --test fleet -- --ignored --nocapture
//! ```

use std::convert::Infallible;
use std::fmt;
use std::future::{ready, Ready};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use http::{Request, Response};
use tim_callback_auth::chat::CallbackAuth;
use tim_callback_auth::refresh::{Source, TokenRefresher};
use tim_callback_auth::{CallbackAuthLayer, CallbackToken, Error, TokenHandle, TokenSnapshot};
use tim_callback_fleet::MemoryStore;
use tokio::time::Instant;
use tower::{Layer, Service, ServiceExt};

/// Tencent's limit: calls per second per API and app.
const LIMIT: u32 = 200;
/// The simulated Unix time at the start of a run.
const EPOCH: u64 = 1_700_000_000;
/// How long Tencent takes to answer a call.
const LATENCY: Duration = Duration::from_millis(50);
/// The traffic generator's step.
const TICK: Duration = Duration::from_millis(10);
/// Genuine callbacks per second, fleet-wide, spread at random over the instances.
const CALLBACKS_PER_S: u32 = 200;
/// Forged callbacks per second on every instance, during a flood. One per second already makes
/// an instance fetch once per refresh-on-miss gap; a heavier flood costs Tencent nothing more.
const FORGED_PER_INSTANCE_PER_S: u32 = 1;
const SEED: u64 = 0x5eed_f1ee7;
/// The app every instance serves.
const APP: u64 = 1400000000;
/// How often the shared mode's figures sample every instance's handle.
const SAMPLE: Duration = Duration::from_millis(100);

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

// ===== randomness =====

/// SplitMix64: the test's own seeded randomness.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

// ===== the simulated Tencent =====

/// What Tencent saw in one second.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Second {
    /// Every call that arrived.
    calls: u32,
    /// Answered with the token.
    ok: u32,
    /// Refused with 60007 (over the limit).
    limited: u32,
    /// Answered 502 (outage).
    down: u32,
}

struct State {
    old: CallbackToken,
    new: CallbackToken,
    /// From this instant on, Tencent serves and signs with `new`.
    rotate_at: Option<Duration>,
    /// Tencent answers 502 within this span.
    outage: Option<(Duration, Duration)>,
    seconds: Vec<Second>,
    /// Per instance: when its first call succeeded.
    first_token: Vec<Option<Duration>>,
    /// Per instance: when it was first given the new token.
    first_new: Vec<Option<Duration>>,
    /// Per instance: its first success after the outage.
    recovered: Vec<Option<Duration>>,
}

struct Tencent {
    start: Instant,
    state: Mutex<State>,
}

impl Tencent {
    fn new(n: usize) -> Arc<Self> {
        Arc::new(Self {
            start: Instant::now(),
            state: Mutex::new(State {
                old: CallbackToken::new("fleet-token-before-rotation-0001").unwrap(),
                new: CallbackToken::new("fleet-token-after-rotation-00002").unwrap(),
                rotate_at: None,
                outage: None,
                seconds: Vec::new(),
                first_token: vec![None; n],
                first_new: vec![None; n],
                recovered: vec![None; n],
            }),
        })
    }

    fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }

    /// The token Tencent signs with now.
    fn token(&self) -> CallbackToken {
        let now = self.elapsed();
        let s = self.state();
        match s.rotate_at {
            Some(at) if now >= at => s.new.clone(),
            _ => s.old.clone(),
        }
    }

    /// One `get_callback_token` call from instance `id`, decided when it arrives.
    fn answer(&self, id: usize) -> Result<TokenSnapshot, Error> {
        let now = self.elapsed();
        let sec = now.as_secs() as usize;
        let mut s = self.state();
        if s.seconds.len() <= sec {
            s.seconds.resize(sec + 1, Second::default());
        }
        s.seconds[sec].calls += 1;
        if let Some((from, until)) = s.outage {
            if now >= from && now < until {
                s.seconds[sec].down += 1;
                return Err(Error::from_source("502 Bad Gateway (simulated outage)"));
            }
        }
        if s.seconds[sec].ok >= LIMIT {
            s.seconds[sec].limited += 1;
            return Err(Error::from_source(
                "60007 request rate limit exceeded (simulated)",
            ));
        }
        s.seconds[sec].ok += 1;
        let new = matches!(s.rotate_at, Some(at) if now >= at);
        s.first_token[id].get_or_insert(now);
        if new {
            s.first_new[id].get_or_insert(now);
        }
        if matches!(s.outage, Some((_, until)) if now >= until) {
            s.recovered[id].get_or_insert(now);
        }
        Ok(TokenSnapshot::enabled(if new {
            s.new.clone()
        } else {
            s.old.clone()
        }))
    }
}

/// One instance's view of Tencent.
struct SimSource {
    tencent: Arc<Tencent>,
    id: usize,
}

impl Source<TokenSnapshot> for SimSource {
    async fn fetch(&self) -> Result<TokenSnapshot, Error> {
        let answer = self.tencent.answer(self.id);
        tokio::time::sleep(LATENCY).await;
        answer
    }
}

// ===== the instances =====

/// The callback handler behind the layer: answers 200.
#[derive(Clone, Copy, Debug)]
struct Handler;

impl Service<Request<()>> for Handler {
    type Response = Response<String>;
    type Error = Infallible;
    type Future = Ready<Result<Response<String>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Request<()>) -> Self::Future {
        ready(Ok(Response::new(String::new())))
    }
}

struct Instance {
    /// Kept for its status; the service's handle alone would keep the refresher running.
    _refresher: TokenRefresher,
    /// The shared mode's fleet membership.
    _member: Option<tim_callback_fleet::Fleet<MemoryStore>>,
    handle: TokenHandle,
    service: CallbackAuth<Handler>,
}

/// Genuine callbacks, as their senders saw them.
#[derive(Default)]
struct Callbacks {
    sent: u64,
    rejected: u64,
    /// Rejected genuine callbacks per second.
    rejected_at: Vec<u32>,
    forged: u64,
    /// Must stay zero.
    forged_accepted: u64,
    /// Per instance: when it first rejected a genuine callback (since the last reset).
    first_rejected: Vec<Option<Duration>>,
}

impl Callbacks {
    fn record(&mut self, id: usize, at: Duration, forged: bool, accepted: bool) {
        if forged {
            self.forged += 1;
            self.forged_accepted += u64::from(accepted);
            return;
        }
        self.sent += 1;
        if !accepted {
            if self.first_rejected.len() <= id {
                self.first_rejected.resize(id + 1, None);
            }
            self.first_rejected[id].get_or_insert(at);
            self.rejected += 1;
            let sec = at.as_secs() as usize;
            if self.rejected_at.len() <= sec {
                self.rejected_at.resize(sec + 1, 0);
            }
            self.rejected_at[sec] += 1;
        }
    }
}

struct Fleet {
    n: usize,
    tencent: Arc<Tencent>,
    /// The shared mode's store.
    store: Option<MemoryStore>,
    instances: Vec<Instance>,
    /// Shared mode, per instance, sampled: when its handle first held a token, and the new one.
    held_token: Vec<Option<Duration>>,
    held_new: Vec<Option<Duration>>,
    next_sample: Duration,
    callbacks: Arc<Mutex<Callbacks>>,
    rng: Rng,
    /// Round-robin position of the forged flood.
    forged_next: usize,
    /// Fractional callbacks carried from one tick to the next.
    genuine_carry: f64,
    forged_carry: f64,
}

/// Traffic while the simulation runs.
#[derive(Clone, Copy, Debug)]
struct Traffic {
    genuine_per_s: u32,
    forged_per_instance_per_s: u32,
}

const QUIET: Traffic = Traffic {
    genuine_per_s: 0,
    forged_per_instance_per_s: 0,
};
const CALLBACKS: Traffic = Traffic {
    genuine_per_s: CALLBACKS_PER_S,
    forged_per_instance_per_s: 0,
};
const FLOOD: Traffic = Traffic {
    genuine_per_s: CALLBACKS_PER_S,
    forged_per_instance_per_s: FORGED_PER_INSTANCE_PER_S,
};

impl Fleet {
    fn new(mode: Mode, n: usize) -> Self {
        Self {
            n,
            tencent: Tencent::new(n),
            store: (mode == Mode::Shared).then(MemoryStore::new),
            instances: Vec::with_capacity(n),
            held_token: vec![None; n],
            held_new: vec![None; n],
            next_sample: Duration::ZERO,
            callbacks: Arc::default(),
            rng: Rng(SEED ^ n as u64),
            forged_next: 0,
            genuine_carry: 0.0,
            forged_carry: 0.0,
        }
    }

    /// Starts the whole fleet, each instance at a random instant within `within` (a deploy).
    async fn start(&mut self, within: Duration) {
        let mut offsets: Vec<Duration> = (0..self.n)
            .map(|_| within.mul_f64((self.rng.next() >> 11) as f64 / (1u64 << 53) as f64))
            .collect();
        offsets.sort();
        for (id, offset) in offsets.into_iter().enumerate() {
            tokio::time::sleep_until(self.tencent.start + offset).await;
            let source = SimSource {
                tencent: Arc::clone(&self.tencent),
                id,
            };
            let seed = SEED ^ ((self.n as u64) << 32) ^ id as u64;
            let (refresher, member) = match &self.store {
                None => (
                    TokenRefresher::builder(source).jitter_seed(seed).spawn(),
                    None,
                ),
                Some(store) => {
                    let member = tim_callback_fleet::Fleet::builder(store.clone())
                        .instance_id(format!("i{id}"))
                        .start()
                        .unwrap();
                    let refresher = member.refresher(APP, source).jitter_seed(seed).spawn();
                    (refresher, Some(member))
                }
            };
            let start = self.tencent.start;
            let service = CallbackAuthLayer::new(refresher.handle())
                .with_clock(move || {
                    std::time::UNIX_EPOCH
                        + std::time::Duration::from_secs(EPOCH + start.elapsed().as_secs())
                })
                .layer(Handler);
            self.instances.push(Instance {
                handle: refresher.handle(),
                _refresher: refresher,
                _member: member,
                service,
            });
        }
    }

    /// Shared mode: when each instance's handle first held a token, and the new one.
    fn sample(&mut self) {
        let now = self.tencent.elapsed();
        if self.store.is_none() || now < self.next_sample {
            return;
        }
        self.next_sample = now + SAMPLE;
        let new = self.tencent.state().new.clone();
        for (id, instance) in self.instances.iter().enumerate() {
            if let Some(snapshot) = instance.handle.load() {
                self.held_token[id].get_or_insert(now);
                if snapshot.current() == Some(&new) {
                    self.held_new[id].get_or_insert(now);
                }
            }
        }
    }

    /// Runs until `until` (time since the start) with `traffic`.
    async fn run(&mut self, until: Duration, traffic: Traffic) {
        let end = self.tencent.start + until;
        if traffic.genuine_per_s == 0 && traffic.forged_per_instance_per_s == 0 {
            while self.store.is_some() && Instant::now() + SAMPLE < end {
                self.sample();
                tokio::time::sleep(SAMPLE).await;
            }
            tokio::time::sleep_until(end).await;
            return;
        }
        let per_tick = TICK.as_secs_f64();
        while Instant::now() < end {
            self.sample();
            self.genuine_carry += f64::from(traffic.genuine_per_s) * per_tick;
            while self.genuine_carry >= 1.0 {
                self.genuine_carry -= 1.0;
                let id = self.rng.below(self.n);
                self.send(id, false);
            }
            self.forged_carry +=
                f64::from(traffic.forged_per_instance_per_s) * self.n as f64 * per_tick;
            while self.forged_carry >= 1.0 {
                self.forged_carry -= 1.0;
                let id = self.forged_next;
                self.forged_next = (self.forged_next + 1) % self.n;
                self.send(id, true);
            }
            tokio::time::sleep(TICK).await;
        }
    }

    /// One callback to instance `id`: signed as Tencent signs now, or forged with a fresh
    /// `RequestTime`. Its outcome is recorded when the layer answers (after a refresh-on-miss
    /// wait, at most one second).
    fn send(&self, id: usize, forged: bool) {
        let at = self.tencent.elapsed();
        let time = EPOCH + at.as_secs();
        let sign = if forged {
            "0".repeat(64)
        } else {
            self.tencent.token().sign(time).to_string()
        };
        let request = Request::post(format!(
            "/cb?SdkAppid=1400000000&CallbackCommand=C2C.CallbackAfterSendMsg&Sign={sign}&RequestTime={time}"
        ))
        .body(())
        .unwrap();
        let service = self.instances[id].service.clone();
        let callbacks = Arc::clone(&self.callbacks);
        tokio::spawn(async move {
            let response = service.oneshot(request).await.unwrap();
            let accepted = response.status().is_success();
            callbacks.lock().unwrap().record(id, at, forged, accepted);
        });
    }
}

// ===== figures =====

/// What a scenario measured over its window.
#[derive(Clone, Debug, PartialEq)]
struct Figures {
    scenario: &'static str,
    mode: Mode,
    n: usize,
    /// Calls to Tencent in the window, and the busiest second.
    calls: u64,
    peak_calls_per_s: u32,
    mean_calls_per_s: f64,
    /// Seconds in which more calls arrived than Tencent answers (some were refused with 60007).
    seconds_over_limit: u32,
    /// Calls refused with 60007.
    limited: u64,
    /// Genuine callbacks sent in the window and rejected, and the seconds with a rejection.
    callbacks: u64,
    rejected: u64,
    seconds_rejecting: u32,
    /// Time from the event until 99 % and 100 % of the instances were served (a token, the new
    /// token, a success after the outage).
    p99: Served,
    p100: Served,
    /// Shared mode, after a rotation: the longest an instance took from the first genuine
    /// callback it rejected to holding the new token (sampled every 100 ms).
    worst_after_rejection: Option<Duration>,
}

/// Whether the instances share the token through a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    PerInstance,
    Shared,
}

/// When the instances were served, from the scenario's event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Served {
    After(Duration),
    /// Not within the window.
    Never,
    /// The scenario has no such event (steady state).
    NotMeasured,
}

impl Served {
    fn within(self, limit: Duration) -> bool {
        matches!(self, Served::After(d) if d <= limit)
    }
}

impl fmt::Display for Served {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Served::After(d) => write!(f, "{:.1} s", d.as_secs_f64()),
            Served::Never => f.write_str("never"),
            Served::NotMeasured => f.write_str("–"),
        }
    }
}

impl fmt::Display for Figures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = match self.mode {
            Mode::PerInstance => "per instance",
            Mode::Shared => "shared",
        };
        write!(
            f,
            "| {} | {mode} | {} | {} | {:.1} | {} | {} | {} / {} | {} | {} | {} |",
            self.scenario,
            self.n,
            self.peak_calls_per_s,
            self.mean_calls_per_s,
            self.seconds_over_limit,
            self.limited,
            self.rejected,
            self.callbacks,
            self.seconds_rejecting,
            self.p99,
            self.p100,
        )?;
        if let Some(worst) = self.worst_after_rejection {
            write!(
                f,
                " worst from a rejection to the new token: {:.1} s",
                worst.as_secs_f64()
            )?;
        }
        Ok(())
    }
}

/// Time from `event` until the 99th and 100th percentile of `served` (every instance counted).
fn convergence(served: &[Option<Duration>], event: Duration) -> (Served, Served) {
    let mut times: Vec<Duration> = served
        .iter()
        .map(|t| t.map_or(Duration::MAX, |t| t.saturating_sub(event)))
        .collect();
    times.sort();
    let at = |fraction: f64| {
        let index = ((times.len() as f64 * fraction).ceil() as usize).max(1) - 1;
        match times[index] {
            Duration::MAX => Served::Never,
            t => Served::After(t),
        }
    };
    (at(0.99), at(1.0))
}

impl Fleet {
    /// The figures of `[from, to)`, with convergence measured from `event` over `served` (when
    /// given).
    fn figures(
        &self,
        scenario: &'static str,
        from: Duration,
        to: Duration,
        event: Duration,
        served: Option<ServedAt>,
    ) -> Figures {
        let s = self.tencent.state();
        let window = from.as_secs() as usize..to.as_secs() as usize;
        let seconds: Vec<Second> = window
            .clone()
            .map(|i| s.seconds.get(i).copied().unwrap_or_default())
            .collect();
        let calls: u64 = seconds.iter().map(|s| u64::from(s.calls)).sum();
        let c = self.callbacks.lock().unwrap();
        assert_eq!(c.forged_accepted, 0, "a forged callback was accepted");
        let mode = if self.store.is_some() {
            Mode::Shared
        } else {
            Mode::PerInstance
        };
        let (p99, p100) = match (served, mode) {
            (None, _) => (Served::NotMeasured, Served::NotMeasured),
            (Some(served), Mode::PerInstance) => convergence(served.of(&s), event),
            // Shared: the instances' handles, sampled (Tencent sees only the holder).
            (Some(ServedAt::FirstToken), Mode::Shared) => convergence(&self.held_token, event),
            (Some(ServedAt::FirstNew), Mode::Shared) => convergence(&self.held_new, event),
            (Some(ServedAt::Recovered), Mode::Shared) => (Served::NotMeasured, Served::NotMeasured),
        };
        let worst_after_rejection = (mode == Mode::Shared && s.rotate_at.is_some()).then(|| {
            c.first_rejected
                .iter()
                .enumerate()
                .filter_map(|(id, rejected)| {
                    let rejected = (*rejected)?;
                    let held = self.held_new[id].unwrap_or(Duration::MAX);
                    Some(held.saturating_sub(rejected))
                })
                .max()
                .unwrap_or(Duration::ZERO)
        });
        Figures {
            scenario,
            mode,
            worst_after_rejection,
            n: self.n,
            calls,
            peak_calls_per_s: seconds.iter().map(|s| s.calls).max().unwrap_or(0),
            mean_calls_per_s: calls as f64 / window.len() as f64,
            seconds_over_limit: seconds.iter().filter(|s| s.calls > LIMIT).count() as u32,
            limited: seconds.iter().map(|s| u64::from(s.limited)).sum(),
            callbacks: c.sent,
            rejected: c.rejected,
            seconds_rejecting: c.rejected_at.iter().filter(|&&r| r > 0).count() as u32,
            p99,
            p100,
        }
    }
}

// ===== scenarios =====

/// What "served" means for a scenario's convergence (see [`Figures::p100`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ServedAt {
    /// Its first token.
    FirstToken,
    /// The new token, after a rotation.
    FirstNew,
    /// Its first success after Tencent's outage (per instance only: in the shared mode only the
    /// holder calls Tencent).
    Recovered,
}

impl ServedAt {
    /// Per instance, from Tencent's view (the per-instance mode).
    fn of(self, s: &State) -> &[Option<Duration>] {
        match self {
            ServedAt::FirstToken => &s.first_token,
            ServedAt::FirstNew => &s.first_new,
            ServedAt::Recovered => &s.recovered,
        }
    }
}

/// The whole fleet starts within one second; callbacks from the first second on. The window is
/// the first two minutes; convergence is every instance holding a token.
async fn cold_start(mode: Mode, n: usize) -> Figures {
    let mut fleet = Fleet::new(mode, n);
    fleet.start(secs(1)).await;
    fleet.run(secs(1), QUIET).await;
    fleet.run(secs(120), CALLBACKS).await;
    fleet.run(secs(122), QUIET).await;
    fleet.figures(
        "cold start",
        secs(0),
        secs(120),
        secs(0),
        Some(ServedAt::FirstToken),
    )
}

/// Minutes 1 to 11 after a cold start: the schedule alone.
async fn steady(mode: Mode, n: usize) -> Figures {
    let mut fleet = Fleet::new(mode, n);
    fleet.start(secs(1)).await;
    fleet.run(secs(60), QUIET).await;
    fleet.run(secs(660), CALLBACKS).await;
    fleet.run(secs(662), QUIET).await;
    fleet.figures("steady, 10 min", secs(60), secs(660), secs(0), None)
}

/// Ten minutes after a cold start, Tencent rotates the token. Window: the two minutes after.
async fn rotation(mode: Mode, n: usize) -> Figures {
    let mut fleet = Fleet::new(mode, n);
    fleet.tencent.state().rotate_at = Some(secs(600));
    fleet.start(secs(1)).await;
    fleet.run(secs(600), QUIET).await;
    fleet.run(secs(720), CALLBACKS).await;
    fleet.run(secs(722), QUIET).await;
    fleet.figures(
        "rotation",
        secs(600),
        secs(720),
        secs(600),
        Some(ServedAt::FirstNew),
    )
}

/// The same rotation while every instance receives forged callbacks with a fresh `RequestTime`
/// (from 25 s before the rotation to the end of the window: the rotation falls halfway between
/// two of the flood's refresh-on-miss gaps of 10 s, neither on a fetch nor just after one).
async fn rotation_under_flood(mode: Mode, n: usize) -> Figures {
    let mut fleet = Fleet::new(mode, n);
    fleet.tencent.state().rotate_at = Some(secs(600));
    fleet.start(secs(1)).await;
    fleet.run(secs(575), QUIET).await;
    fleet.run(secs(600), FLOOD).await;
    // Only the callbacks from the rotation on count.
    *fleet.callbacks.lock().unwrap() = Callbacks::default();
    fleet.run(secs(720), FLOOD).await;
    fleet.run(secs(722), QUIET).await;
    fleet.figures(
        "rotation + forged flood",
        secs(600),
        secs(720),
        secs(600),
        Some(ServedAt::FirstNew),
    )
}

/// The same rotation while a forged flood on every instance has been going on for three minutes
/// (long enough for the refresh-on-miss spacing to reach its longest).
async fn rotation_under_long_flood(mode: Mode, n: usize) -> Figures {
    let mut fleet = Fleet::new(mode, n);
    fleet.tencent.state().rotate_at = Some(secs(600));
    fleet.start(secs(1)).await;
    fleet.run(secs(425), QUIET).await;
    fleet.run(secs(600), FLOOD).await;
    *fleet.callbacks.lock().unwrap() = Callbacks::default();
    fleet.run(secs(720), FLOOD).await;
    fleet.run(secs(722), QUIET).await;
    fleet.figures(
        "rotation + flood for 3 min",
        secs(600),
        secs(720),
        secs(600),
        Some(ServedAt::FirstNew),
    )
}

/// Tencent down (502) from minute 5 to minute 15. Callbacks from the last minute of the outage
/// on (when every instance has been failing longest; the token does not change, so earlier
/// minutes are the same case). Window: from the end of the outage, six minutes (the longest
/// backoff is five).
async fn outage(mode: Mode, n: usize) -> Figures {
    let mut fleet = Fleet::new(mode, n);
    fleet.tencent.state().outage = Some((secs(300), secs(900)));
    fleet.start(secs(1)).await;
    fleet.run(secs(840), QUIET).await;
    fleet.run(secs(1260), CALLBACKS).await;
    fleet.run(secs(1262), QUIET).await;
    fleet.figures(
        "10 min outage, recovery",
        secs(900),
        secs(1260),
        secs(900),
        Some(ServedAt::Recovered),
    )
}

/// Shared mode: the store down for five minutes (from 30 s before a rotation), callbacks all
/// along. Window: the rotation and the 5 min after it (270 s of outage, 30 s after).
async fn store_outage_rotation(mode: Mode, n: usize) -> Figures {
    let mut fleet = Fleet::new(mode, n);
    fleet.tencent.state().rotate_at = Some(secs(600));
    fleet.start(secs(1)).await;
    fleet.run(secs(540), QUIET).await;
    fleet.run(secs(570), CALLBACKS).await;
    if let Some(store) = &fleet.store {
        store.set_down(true);
    }
    fleet.run(secs(600), CALLBACKS).await;
    *fleet.callbacks.lock().unwrap() = Callbacks::default();
    fleet.run(secs(870), CALLBACKS).await;
    if let Some(store) = &fleet.store {
        store.set_down(false);
    }
    fleet.run(secs(900), CALLBACKS).await;
    fleet.run(secs(902), QUIET).await;
    fleet.figures(
        "store down 5 min over a rotation",
        secs(600),
        secs(900),
        secs(600),
        Some(ServedAt::FirstNew),
    )
}

// ===== tests =====

/// Runs `scenario` twice on fresh runtimes and asserts the same figures: paused time and seeded
/// randomness make the simulation deterministic.
fn deterministic<F>(scenario: fn(Mode, usize) -> F, mode: Mode, n: usize) -> Figures
where
    F: std::future::Future<Output = Figures>,
{
    let run = || {
        let started = std::time::Instant::now();
        let figures = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap()
            .block_on(scenario(mode, n));
        eprintln!(
            "{figures}    ({:.1} s real)",
            started.elapsed().as_secs_f64()
        );
        figures
    };
    let first = run();
    let second = run();
    assert_eq!(first, second, "the simulation is not deterministic");
    first
}

// The limits README "Scaling" states, for the fleets CI simulates (100 and 1,000 instances). The
// figures themselves are in SCALING.md; these assertions are what the README may claim.

/// Callbacks rejected at most: one in a thousand.
fn few_rejected(f: &Figures) -> bool {
    f.rejected * 1000 <= f.callbacks
}

#[test]
fn cold_start_100() {
    let f = deterministic(cold_start, Mode::PerInstance, 100);
    assert!(f.p100.within(secs(2)), "{f:?}");
    assert_eq!(f.seconds_over_limit, 0, "{f:?}");
}

#[test]
fn cold_start_1000() {
    // 1,000 fetches in the first second: 800 are refused, and retried within seconds.
    let f = deterministic(cold_start, Mode::PerInstance, 1000);
    assert!(f.p100.within(secs(10)), "{f:?}");
    assert!(f.seconds_over_limit <= 3, "{f:?}");
}

/// The schedule alone: N / 60 calls per second on average, never over the limit.
fn assert_steady(f: &Figures) {
    let expected = f.n as f64 / 60.0;
    assert!(
        (f.mean_calls_per_s - expected).abs() <= expected * 0.05,
        "{f:?}"
    );
    assert!(f.peak_calls_per_s <= LIMIT, "{f:?}");
    assert_eq!(f.rejected, 0, "{f:?}");
}

#[test]
fn steady_100() {
    assert_steady(&deterministic(steady, Mode::PerInstance, 100));
}

#[test]
fn steady_1000() {
    assert_steady(&deterministic(steady, Mode::PerInstance, 1000));
}

/// Every instance takes the new token within one interval (60 s + 10 % jitter), refresh-on-miss
/// first; hardly a callback is rejected.
fn assert_rotation(f: &Figures) {
    assert!(f.p100.within(secs(67)), "{f:?}");
    assert!(few_rejected(f), "{f:?}");
    assert!(f.seconds_over_limit <= 1, "{f:?}");
}

#[test]
fn rotation_100() {
    assert_rotation(&deterministic(rotation, Mode::PerInstance, 100));
}

#[test]
fn rotation_1000() {
    assert_rotation(&deterministic(rotation, Mode::PerInstance, 1000));
}

/// Under a forged flood on every instance, a rotation is found by the next miss-triggered fetch:
/// within 1.5 gaps (15 s) and the next request. The flood costs at most one fetch per instance
/// per gap on top of the schedule, and from the rotation on the limit holds (the flood's first
/// second, when every instance misses at once, is before the window). No forged callback is
/// ever accepted (checked in `figures`).
fn assert_rotation_under_flood(f: &Figures) {
    assert!(f.p100.within(secs(17)), "{f:?}");
    let n = f.n as f64;
    assert!(f.mean_calls_per_s <= n / 10.0 + n / 60.0, "{f:?}");
    assert_eq!(f.seconds_over_limit, 0, "{f:?}");
}

#[test]
fn rotation_under_flood_100() {
    assert_rotation_under_flood(&deterministic(rotation_under_flood, Mode::PerInstance, 100));
}

#[test]
fn rotation_under_flood_1000() {
    assert_rotation_under_flood(&deterministic(
        rotation_under_flood,
        Mode::PerInstance,
        1000,
    ));
}

#[test]
fn rotation_under_long_flood_100() {
    assert_rotation_under_flood(&deterministic(
        rotation_under_long_flood,
        Mode::PerInstance,
        100,
    ));
}

#[test]
fn rotation_under_long_flood_1000() {
    assert_rotation_under_flood(&deterministic(
        rotation_under_long_flood,
        Mode::PerInstance,
        1000,
    ));
}

/// The last good token is served all through the outage; every instance fetches again within
/// the longest backoff (5 min) of its end, well under the limit.
fn assert_outage(f: &Figures) {
    assert_eq!(f.rejected, 0, "{f:?}");
    assert!(f.p100.within(secs(301)), "{f:?}");
    assert!(f.peak_calls_per_s <= LIMIT / 4, "{f:?}");
}

#[test]
fn outage_100() {
    assert_outage(&deterministic(outage, Mode::PerInstance, 100));
}

#[test]
fn outage_1000() {
    assert_outage(&deterministic(outage, Mode::PerInstance, 1000));
}

// ===== the shared mode: one token per app through the store =====

/// Every scenario of the shared mode at `n` instances, with the bounds it must keep (Redis up):
/// Tencent's 200 calls/s never exceeded in any second; the steady state at most one scheduled
/// call per interval, fleet-wide; after a rotation, with or without a forged flood, every
/// instance holds the new token within 2 s of the first genuine callback it rejected, and at
/// most one early fetch per one-second gap (with the scheduled one, two calls in a second);
/// with the store down over a rotation, never a forged callback accepted, and the fallback's
/// calls per second printed.
fn shared_fleet(n: usize) -> Vec<Figures> {
    let under_limit = |f: &Figures| {
        assert_eq!(f.seconds_over_limit, 0, "{f}");
        assert!(f.peak_calls_per_s <= LIMIT, "{f}");
    };
    let mut all = Vec::new();
    let f = deterministic(cold_start, Mode::Shared, n);
    under_limit(&f);
    assert!(f.p100.within(secs(3)), "{f}");
    all.push(f);
    let f = deterministic(steady, Mode::Shared, n);
    under_limit(&f);
    assert!(
        f.calls <= 10 + 1,
        "one scheduled call per 60 s interval: {f}"
    );
    assert_eq!(f.rejected, 0, "{f}");
    all.push(f);
    let rotations = [
        deterministic(rotation, Mode::Shared, n),
        deterministic(rotation_under_flood, Mode::Shared, n),
        deterministic(rotation_under_long_flood, Mode::Shared, n),
    ];
    for f in rotations {
        under_limit(&f);
        assert!(
            f.worst_after_rejection.is_some_and(|w| w <= secs(2)),
            "every instance within 2 s of its first rejection: {f}"
        );
        assert!(f.peak_calls_per_s <= 2, "one early fetch per gap: {f}");
        all.push(f);
    }
    let f = deterministic(outage, Mode::Shared, n);
    under_limit(&f);
    assert_eq!(f.rejected, 0, "{f}");
    all.push(f);
    // The store down over a rotation: the fallback stays under Tencent's limit, and up to 1,000
    // instances it loses no callback (every instance's turn has come round by the rotation).
    let f = deterministic(store_outage_rotation, Mode::Shared, n);
    assert_eq!(f.seconds_over_limit, 0, "{f}");
    if n <= 1000 {
        assert_eq!(f.rejected, 0, "{f}");
    }
    all.push(f);
    all
}

#[test]
fn shared_100() {
    shared_fleet(100);
}

/// The shared mode at 1,000 and 10,000 instances (or `FLEET_SIZES=…`), in release mode (the
/// debug build takes five minutes for 1,000). `.ci/run` runs it for 1,000.
#[test]
#[ignore = "large fleets: cargo test -p tim-callback-fleet --release --test fleet -- --ignored --nocapture shared"]
fn shared_large_fleets() {
    let sizes = std::env::var("FLEET_SIZES").unwrap_or_else(|_| "1000,10000".into());
    for n in sizes
        .split(',')
        .map(|s| s.trim().parse().expect("a fleet size"))
    {
        shared_fleet(n);
    }
}

/// Every scenario for the fleet sizes beyond CI's: 2,000, 3,000, 5,000 and 10,000 instances by
/// default, or `FLEET_SIZES=…` (comma-separated). Prints SCALING.md's rows; asserts only
/// determinism, since these sizes are where the per-instance design stops holding its limits.
#[test]
#[ignore = "large fleets: cargo test -p tim-callback-fleet --release --test fleet -- --ignored --nocapture"]
fn large_fleets() {
    let sizes = std::env::var("FLEET_SIZES").unwrap_or_else(|_| "2000,3000,5000,10000".into());
    for n in sizes
        .split(',')
        .map(|s| s.trim().parse().expect("a fleet size"))
    {
        deterministic(cold_start, Mode::PerInstance, n);
        deterministic(steady, Mode::PerInstance, n);
        deterministic(rotation, Mode::PerInstance, n);
        deterministic(rotation_under_flood, Mode::PerInstance, n);
        deterministic(rotation_under_long_flood, Mode::PerInstance, n);
        deterministic(outage, Mode::PerInstance, n);
    }
}

// ===== the spacing of miss-triggered fetches, on one instance =====

/// A source that counts its calls and when they came, answers with a token that can be rotated,
/// and can refuse every call.
#[derive(Clone)]
struct Counting {
    calls: Arc<Mutex<Vec<Instant>>>,
    token: Arc<Mutex<CallbackToken>>,
    refuse: Arc<std::sync::atomic::AtomicBool>,
}

impl Counting {
    fn new(token: &CallbackToken) -> Self {
        Self {
            calls: Arc::default(),
            token: Arc::new(Mutex::new(token.clone())),
            refuse: Arc::default(),
        }
    }

    fn calls(&self) -> Vec<Instant> {
        self.calls.lock().unwrap().clone()
    }
}

impl Source<TokenSnapshot> for Counting {
    async fn fetch(&self) -> Result<TokenSnapshot, Error> {
        self.calls.lock().unwrap().push(Instant::now());
        if self.refuse.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(Error::from_source("60007 (simulated)"));
        }
        Ok(TokenSnapshot::enabled(self.token.lock().unwrap().clone()))
    }
}

/// One refresher (default settings but for the interval) and its layer, on the paused clock.
struct One {
    source: Counting,
    refresher: TokenRefresher,
    service: CallbackAuth<Handler>,
    start: Instant,
}

impl One {
    async fn start(token: &CallbackToken, interval: Duration) -> Self {
        let source = Counting::new(token);
        let refresher = TokenRefresher::builder(source.clone())
            .interval(interval)
            .jitter_seed(SEED)
            .start()
            .await
            .unwrap();
        let start = Instant::now();
        let service = CallbackAuthLayer::new(refresher.handle())
            .with_clock(move || {
                std::time::UNIX_EPOCH
                    + std::time::Duration::from_secs(EPOCH + start.elapsed().as_secs())
            })
            .layer(Handler);
        Self {
            source,
            refresher,
            service,
            start,
        }
    }

    /// For `span`, every second a forged request and, when `token` is given, one signed with it.
    /// Returns how many of the signed ones were accepted (forged ones never are).
    async fn requests(&self, span: Duration, token: Option<&CallbackToken>) -> usize {
        let mut accepted = 0;
        for _ in 0..span.as_secs() {
            let time = EPOCH + self.start.elapsed().as_secs();
            let forged = "0".repeat(64);
            let signed = token.map(|t| t.sign(time).to_string());
            for sign in std::iter::once(&forged).chain(signed.as_ref()) {
                let request = Request::post(format!(
                    "/cb?SdkAppid=1400000000&Sign={sign}&RequestTime={time}"
                ))
                .body(())
                .unwrap();
                let response = self.service.clone().oneshot(request).await.unwrap();
                let ok = response.status().is_success();
                assert!(!(ok && *sign == forged), "a forged request was accepted");
                accepted += usize::from(ok);
            }
            tokio::time::sleep(secs(1)).await;
        }
        accepted
    }

    /// The time between consecutive calls to the source.
    fn spacing(&self) -> Vec<Duration> {
        let calls = self.source.calls();
        calls.windows(2).map(|w| w[1] - w[0]).collect()
    }
}

#[tokio::test(start_paused = true)]
async fn fruitless_misses_are_spread_and_a_rotation_is_still_found_within_one_and_a_half_gaps() {
    let old = CallbackToken::new("single-instance-token-0001").unwrap();
    let new = CallbackToken::new("single-instance-token-0002").unwrap();
    // An interval of an hour: every fetch below is miss-triggered.
    let one = One::start(&old, secs(3600)).await;
    assert_eq!(one.requests(secs(300), None).await, 0);
    let spacing = one.spacing();
    // The first fetch (at start) is not a miss; then one per gap: the first two gaps as
    // configured, then between 1 and 1.5 gaps (and the next request, one second later at most).
    assert_eq!(spacing[1], secs(10), "{spacing:?}");
    assert!(
        spacing[2..].iter().all(|&d| d >= secs(10) && d <= secs(16)),
        "{spacing:?}"
    );
    assert!(
        spacing[2..].iter().any(|&d| d > secs(11)),
        "no spread: {spacing:?}"
    );
    // Tencent rotates during the flood, just after a miss-triggered fetch (the worst moment):
    // the genuine callbacks are rejected until the next one, at most 1.5 gaps later.
    let fetched = one.source.calls().len();
    while one.source.calls().len() == fetched {
        one.requests(secs(1), None).await;
    }
    *one.source.token.lock().unwrap() = new.clone();
    let rejected = 20 - one.requests(secs(20), Some(&new)).await;
    assert!((9..=16).contains(&rejected), "{rejected} rejected");
    assert_eq!(one.refresher.handle().load().unwrap().current(), Some(&new));
}

#[tokio::test(start_paused = true)]
async fn refused_miss_fetches_back_off_to_the_interval_and_keep_the_last_good_token() {
    let token = CallbackToken::new("single-instance-token-0003").unwrap();
    let one = One::start(&token, secs(60)).await;
    one.source
        .refuse
        .store(true, std::sync::atomic::Ordering::SeqCst);
    // Twenty minutes of a forged flood while Tencent refuses every call. At one miss-triggered
    // fetch per 10 s gap that would be 120 calls; spaced out to the interval (60 to 90 s), with
    // the schedule's own backoff beside it (1 s doubling to 5 min), it is a few dozen.
    assert_eq!(one.requests(secs(1200), None).await, 0);
    let calls = one.source.calls().len() - 1;
    assert!((15..=40).contains(&calls), "{calls} calls in 20 minutes");
    let spacing = one.spacing();
    let longest = spacing.iter().max().unwrap();
    assert!(*longest >= secs(60), "{spacing:?}");
    // The last good token is still served.
    assert!(one.refresher.handle().load().unwrap().is_enabled());
}
