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
//! SCALING.md holds the table these tests print (`-- --nocapture`); the 10,000-instance rows come
//! from the ignored test, run in release mode:
//!
//! ```text
//! cargo test --test fleet -- --nocapture
//! cargo test --release --test fleet -- --ignored --nocapture
//! ```

use std::convert::Infallible;
use std::fmt;
use std::future::{ready, Ready};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use http::{Request, Response};
use tim_callback_auth::middleware::CallbackAuth;
use tim_callback_auth::refresh::{TokenRefresher, TokenSource};
use tim_callback_auth::{CallbackAuthLayer, CallbackToken, Error, TokenSnapshot};
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

impl TokenSource for SimSource {
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
    /// Kept alive: dropping it stops the refresher.
    _refresher: TokenRefresher,
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
}

impl Callbacks {
    fn record(&mut self, at: Duration, forged: bool, accepted: bool) {
        if forged {
            self.forged += 1;
            self.forged_accepted += u64::from(accepted);
            return;
        }
        self.sent += 1;
        if !accepted {
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
    instances: Vec<Instance>,
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
    fn new(n: usize) -> Self {
        Self {
            n,
            tencent: Tencent::new(n),
            instances: Vec::with_capacity(n),
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
            let refresher = TokenRefresher::builder(SimSource {
                tencent: Arc::clone(&self.tencent),
                id,
            })
            .jitter_seed(SEED ^ ((self.n as u64) << 32) ^ id as u64)
            .spawn();
            let start = self.tencent.start;
            let service = CallbackAuthLayer::new(refresher.handle())
                .with_clock(move || EPOCH + start.elapsed().as_secs())
                .layer(Handler);
            self.instances.push(Instance {
                _refresher: refresher,
                service,
            });
        }
    }

    /// Runs until `until` (time since the start) with `traffic`.
    async fn run(&mut self, until: Duration, traffic: Traffic) {
        let end = self.tencent.start + until;
        if traffic.genuine_per_s == 0 && traffic.forged_per_instance_per_s == 0 {
            tokio::time::sleep_until(end).await;
            return;
        }
        let per_tick = TICK.as_secs_f64();
        while Instant::now() < end {
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
            callbacks.lock().unwrap().record(at, forged, accepted);
        });
    }
}

// ===== figures =====

/// What a scenario measured over its window.
#[derive(Clone, Debug, PartialEq)]
struct Figures {
    scenario: &'static str,
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
    /// token, a success after the outage); `None`: not within the window.
    p99: Option<Duration>,
    p100: Option<Duration>,
}

impl fmt::Display for Figures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = |d: Option<Duration>| {
            d.map_or("never".to_owned(), |d| format!("{:.1} s", d.as_secs_f64()))
        };
        write!(
            f,
            "| {} | {} | {} | {:.1} | {} | {} | {} / {} | {} | {} | {} |",
            self.scenario,
            self.n,
            self.peak_calls_per_s,
            self.mean_calls_per_s,
            self.seconds_over_limit,
            self.limited,
            self.rejected,
            self.callbacks,
            self.seconds_rejecting,
            t(self.p99),
            t(self.p100),
        )
    }
}

/// Time from `event` until the 99th and 100th percentile of `served` (every instance counted).
fn convergence(
    served: &[Option<Duration>],
    event: Duration,
) -> (Option<Duration>, Option<Duration>) {
    let mut times: Vec<Duration> = served
        .iter()
        .map(|t| t.map_or(Duration::MAX, |t| t.saturating_sub(event)))
        .collect();
    times.sort();
    let at = |fraction: f64| {
        let index = ((times.len() as f64 * fraction).ceil() as usize).max(1) - 1;
        Some(times[index]).filter(|t| *t != Duration::MAX)
    };
    (at(0.99), at(1.0))
}

impl Fleet {
    /// The figures of `[from, to)`, with convergence measured from `event` over `served`.
    fn figures(
        &self,
        scenario: &'static str,
        from: Duration,
        to: Duration,
        event: Duration,
        served: impl Fn(&State) -> &[Option<Duration>],
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
        let (p99, p100) = convergence(served(&s), event);
        Figures {
            scenario,
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

/// The whole fleet starts within one second; callbacks from the first second on. The window is
/// the first two minutes; convergence is every instance holding a token.
async fn cold_start(n: usize) -> Figures {
    let mut fleet = Fleet::new(n);
    fleet.start(secs(1)).await;
    fleet.run(secs(1), QUIET).await;
    fleet.run(secs(120), CALLBACKS).await;
    fleet.run(secs(122), QUIET).await;
    fleet.figures("cold start", secs(0), secs(120), secs(0), |s| {
        &s.first_token
    })
}

/// Minutes 1 to 11 after a cold start: the schedule alone.
async fn steady(n: usize) -> Figures {
    let mut fleet = Fleet::new(n);
    fleet.start(secs(1)).await;
    fleet.run(secs(60), QUIET).await;
    fleet.run(secs(660), CALLBACKS).await;
    fleet.run(secs(662), QUIET).await;
    fleet.figures("steady, 10 min", secs(60), secs(660), secs(0), |s| {
        &s.first_token
    })
}

/// Ten minutes after a cold start, Tencent rotates the token. Window: the two minutes after.
async fn rotation(n: usize) -> Figures {
    let mut fleet = Fleet::new(n);
    fleet.tencent.state().rotate_at = Some(secs(600));
    fleet.start(secs(1)).await;
    fleet.run(secs(600), QUIET).await;
    fleet.run(secs(720), CALLBACKS).await;
    fleet.run(secs(722), QUIET).await;
    fleet.figures("rotation", secs(600), secs(720), secs(600), |s| {
        &s.first_new
    })
}

/// The same rotation while every instance receives forged callbacks with a fresh `RequestTime`
/// (from 27 s before the rotation to the end of the window: not a multiple of the 10 s
/// refresh-on-miss gap, so that the rotation does not fall on a wave of flood-triggered fetches).
async fn rotation_under_flood(n: usize) -> Figures {
    let mut fleet = Fleet::new(n);
    fleet.tencent.state().rotate_at = Some(secs(600));
    fleet.start(secs(1)).await;
    fleet.run(secs(573), QUIET).await;
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
        |s| &s.first_new,
    )
}

/// Tencent down (502) from minute 5 to minute 15; callbacks all along. Window: from the end of
/// the outage, six minutes (the longest backoff is five).
async fn outage(n: usize) -> Figures {
    let mut fleet = Fleet::new(n);
    fleet.tencent.state().outage = Some((secs(300), secs(900)));
    fleet.start(secs(1)).await;
    fleet.run(secs(300), QUIET).await;
    fleet.run(secs(1260), CALLBACKS).await;
    fleet.run(secs(1262), QUIET).await;
    fleet.figures(
        "10 min outage, recovery",
        secs(900),
        secs(1260),
        secs(900),
        |s| &s.recovered,
    )
}

// ===== tests =====

/// Runs `scenario` twice on fresh runtimes and asserts the same figures: paused time and seeded
/// randomness make the simulation deterministic.
fn deterministic<F>(scenario: fn(usize) -> F, n: usize) -> Figures
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
            .block_on(scenario(n));
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

#[test]
fn cold_start_100() {
    deterministic(cold_start, 100);
}

#[test]
fn cold_start_1000() {
    deterministic(cold_start, 1000);
}

#[test]
fn steady_100() {
    deterministic(steady, 100);
}

#[test]
fn steady_1000() {
    deterministic(steady, 1000);
}

#[test]
fn rotation_100() {
    deterministic(rotation, 100);
}

#[test]
fn rotation_1000() {
    deterministic(rotation, 1000);
}

#[test]
fn rotation_under_flood_100() {
    deterministic(rotation_under_flood, 100);
}

#[test]
fn rotation_under_flood_1000() {
    deterministic(rotation_under_flood, 1000);
}

#[test]
fn outage_100() {
    deterministic(outage, 100);
}

#[test]
fn outage_1000() {
    deterministic(outage, 1000);
}

#[test]
#[ignore = "10,000 instances: run in release mode, `cargo test --release --test fleet -- --ignored`"]
fn fleet_of_10000() {
    deterministic(cold_start, 10_000);
    deterministic(steady, 10_000);
    deterministic(rotation, 10_000);
    deterministic(rotation_under_flood, 10_000);
    deterministic(outage, 10_000);
}

#[test]
#[ignore = "exploration: FLEET_SIZES=3000,5000 cargo test --release --test fleet -- --ignored sizes_from_env"]
fn sizes_from_env() {
    let sizes = std::env::var("FLEET_SIZES").unwrap_or_default();
    for n in sizes.split(',').filter_map(|s| s.trim().parse().ok()) {
        deterministic(cold_start, n);
        deterministic(steady, n);
        deterministic(rotation, n);
        deterministic(rotation_under_flood, n);
        deterministic(outage, n);
    }
}
