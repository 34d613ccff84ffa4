//! The fleet's holder over a `MemoryStore`, on tokio's paused clock: a disable confirmed before
//! the fleet lets callbacks through, a failing holder resigning, a record stamped in the store's
//! future replaced.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tim_callback_auth::refresh::Source;
use tim_callback_auth::{CallbackToken, Error, TokenSnapshot};
use tim_callback_fleet::{Fleet, MemoryStore, Store};

const APP: u64 = 1400000000;

/// Tencent answering from a script (then repeating its last answer), counting its calls.
#[derive(Clone, Default)]
struct Scripted {
    answers: Arc<Mutex<VecDeque<Option<bool>>>>,
    calls: Arc<Mutex<usize>>,
}

impl Scripted {
    /// `Some(true)`: the token, enabled; `Some(false)`: authentication off; `None`: an error.
    fn new(answers: &[Option<bool>]) -> Self {
        Self {
            answers: Arc::new(Mutex::new(answers.iter().copied().collect())),
            calls: Arc::default(),
        }
    }

    fn calls(&self) -> usize {
        *self.calls.lock().unwrap()
    }
}

impl Source<TokenSnapshot> for Scripted {
    async fn fetch(&self) -> Result<TokenSnapshot, Error> {
        *self.calls.lock().unwrap() += 1;
        let mut answers = self.answers.lock().unwrap();
        let answer = if answers.len() > 1 {
            answers.pop_front().unwrap()
        } else {
            answers.front().copied().flatten().map(Some).unwrap_or(None)
        };
        match answer {
            Some(true) => Ok(TokenSnapshot::enabled(CallbackToken::new("memory-token")?)),
            Some(false) => Ok(TokenSnapshot::disabled()),
            None => Err(Error::from_source("simulated failure")),
        }
    }
}

fn fleet(store: &MemoryStore, id: &str) -> Fleet<MemoryStore> {
    Fleet::builder(store.clone())
        .instance_id(id)
        .lease(Duration::from_secs(3))
        .interval(Duration::from_secs(5))
        .start()
        .unwrap()
}

fn enabled(store: &MemoryStore) -> Option<bool> {
    store
        .record(APP)
        .map(|line| line.split(' ').nth(3) == Some("1"))
}

#[tokio::test(start_paused = true)]
async fn a_disable_is_confirmed_by_a_second_answer_before_it_is_shared() {
    let store = MemoryStore::new();
    // Enabled; then one stray "off" answer, contradicted by the next.
    let tencent = Scripted::new(&[Some(true), Some(false), Some(true)]);
    let a = fleet(&store, "a");
    let _source = a.source(APP, tencent.clone());
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(enabled(&store), Some(true));
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(tencent.calls(), 3, "the off answer was checked");
    assert_eq!(enabled(&store), Some(true), "not shared on one answer");
    // Two answers in a row: shared.
    *tencent.answers.lock().unwrap() = [Some(false)].into_iter().collect();
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(enabled(&store), Some(false));
}

#[tokio::test(start_paused = true)]
async fn a_holder_whose_fetches_fail_resigns_and_another_takes_over() {
    let store = MemoryStore::new();
    let failing = Scripted::new(&[Some(true), None]);
    let a = fleet(&store, "a");
    let _a = a.source(APP, failing.clone());
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(a.status().holding(), [APP]);
    let working = Scripted::new(&[Some(true)]);
    let b = fleet(&store, "b");
    let _b = b.source(APP, working.clone());
    // `a`'s scheduled fetches fail (every tick once the record is an interval old): after
    // three, it resigns, its lease lapses and `b` takes it.
    tokio::time::sleep(Duration::from_secs(20)).await;
    assert!(failing.calls() >= 4, "{}", failing.calls());
    assert_eq!(b.status().holding(), [APP]);
    assert!(working.calls() >= 1);
    assert!(store.record(APP).unwrap().contains(" b."), "written by b");
}

#[tokio::test(start_paused = true)]
async fn a_record_stamped_in_the_stores_future_is_replaced() {
    let store = MemoryStore::new();
    // A clock that stepped back, or a hostile record: a fetch time a day ahead.
    let now = store
        .lease(APP, "x", Duration::from_millis(1))
        .await
        .unwrap()
        .now_ms;
    let ahead = now + 86_400_000;
    let line = format!("v1 {ahead} x 1 {} - 0", "74".repeat(8));
    assert!(store.publish(APP, "x", ahead, &line).await.unwrap());
    tokio::time::sleep(Duration::from_millis(5)).await;
    let tencent = Scripted::new(&[Some(true)]);
    let a = fleet(&store, "a");
    let _a = a.source(APP, tencent.clone());
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(tencent.calls(), 1);
    let record = store.record(APP).unwrap();
    assert!(!record.contains(&ahead.to_string()), "replaced: {record}");
}
