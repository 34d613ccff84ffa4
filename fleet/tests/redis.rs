//! The Redis store and the fleet on a real `redis-server`: each test starts its own server in a
//! temporary directory (a unix socket, no TCP port; a free TCP port where AUTH is tested) and
//! stops it. Without `redis-server` on the PATH these tests say so on stderr and pass, unless
//! `TIM_REQUIRE_REDIS=1` (set by `.ci/run`), which fails them.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tim_callback_auth::refresh::Source;
use tim_callback_auth::{CallbackToken, Error, TokenSnapshot};
use tim_callback_fleet::testing::RedisServer as Server;
use tim_callback_fleet::{Fleet, Notice, RedisStore, Store};

const APP: u64 = 1400000000;

/// Tencent as the holder sees it: a token that can be rotated, and a count of the calls.
#[derive(Clone, Default)]
struct Tencent {
    token: Arc<Mutex<String>>,
    calls: Arc<AtomicUsize>,
}

impl Tencent {
    fn new(token: &str) -> Self {
        let tencent = Self::default();
        tencent.rotate(token);
        tencent
    }

    fn rotate(&self, token: &str) {
        *self.token.lock().unwrap() = token.to_owned();
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

impl Source<TokenSnapshot> for Tencent {
    async fn fetch(&self) -> Result<TokenSnapshot, Error> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let token = self.token.lock().unwrap().clone();
        Ok(TokenSnapshot::enabled(CallbackToken::new(&token)?))
    }
}

fn token(t: &str) -> CallbackToken {
    CallbackToken::new(t).unwrap()
}

async fn eventually(what: &str, within: Duration, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + within;
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not within {within:?}: {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn one_holder_per_app_renewed_by_it_and_taken_over_when_it_stops() {
    let Some(server) = Server::start("lease") else {
        return;
    };
    let a = RedisStore::connect(server.url(), "t:").await.unwrap();
    let b = RedisStore::connect(server.url(), "t:").await.unwrap();
    let ttl = Duration::from_millis(1_000);
    let first = a.lease(APP, "a", ttl).await.unwrap();
    assert!(first.held);
    let system_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    assert!(
        first.now_ms.abs_diff(system_ms) < 5_000,
        "the store's clock in ms"
    );
    assert!(!b.lease(APP, "b", ttl).await.unwrap().held, "one holder");
    assert!(b.lease(APP + 1, "b", ttl).await.unwrap().held, "per app");
    // Renewed by its holder past the first lease time.
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(a.lease(APP, "a", ttl).await.unwrap().held);
        assert!(!b.lease(APP, "b", ttl).await.unwrap().held);
    }
    // The holder stops renewing: another takes it within one lease time.
    tokio::time::sleep(ttl + Duration::from_millis(50)).await;
    let taken = b.lease(APP, "b", ttl).await.unwrap();
    assert!(taken.held);
    assert!(taken.now_ms > first.now_ms);
    assert!(!a.lease(APP, "a", ttl).await.unwrap().held);
    // Keys under their prefix only.
    let keys = server.command(&["KEYS", "*"]).unwrap();
    assert!(!keys.is_empty());
    for key in keys {
        assert!(key.starts_with("t:"), "{key}");
    }
}

#[tokio::test]
async fn a_paused_holders_late_write_is_refused_by_the_fencing() {
    let Some(server) = Server::start("fence") else {
        return;
    };
    let store = RedisStore::connect(server.url(), "t:").await.unwrap();
    let ttl = Duration::from_millis(300);
    let record = |at: u64, holder: &str, t: &str| format!("v1 {at} {holder} 1 {} - 0", hex(t));
    // `a` holds and fetches at t1; then pauses past its lease.
    let t1 = store.lease(APP, "a", ttl).await.unwrap().now_ms;
    assert!(store
        .publish(APP, "a", t1, &record(t1, "a", "one"))
        .await
        .unwrap());
    tokio::time::sleep(ttl + Duration::from_millis(50)).await;
    // `b` takes over and writes a newer token at t2.
    let t2 = store.lease(APP, "b", ttl).await.unwrap();
    assert!(t2.held);
    let t2 = t2.now_ms;
    assert!(store
        .publish(APP, "b", t2, &record(t2, "b", "two"))
        .await
        .unwrap());
    // `a` wakes: not the holder, refused.
    assert!(!store
        .publish(APP, "a", t1 + 1, &record(t1 + 1, "a", "stale"))
        .await
        .unwrap());
    // `b` pauses in turn; `a` takes the lease again but still holds its old fetch: refused,
    // because a newer token is stored (a counter would have restarted with a flush; the clock
    // does not).
    tokio::time::sleep(ttl + Duration::from_millis(50)).await;
    let t3 = store.lease(APP, "a", ttl).await.unwrap();
    assert!(t3.held);
    assert!(!store
        .publish(APP, "a", t1, &record(t1, "a", "stale"))
        .await
        .unwrap());
    let stored = store.read(APP).await.unwrap().record.unwrap();
    assert!(stored.contains(&hex("two")), "the newer token stays");
    // A fresh fetch by the new holder is written.
    assert!(store
        .publish(APP, "a", t3.now_ms, &record(t3.now_ms, "a", "three"))
        .await
        .unwrap());
    assert!(store
        .read(APP)
        .await
        .unwrap()
        .record
        .unwrap()
        .contains(&hex("three")));
}

fn hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn notices_reach_every_subscriber_and_early_asks_are_one_per_gap() {
    let Some(server) = Server::start("notices") else {
        return;
    };
    let a = RedisStore::connect(server.url(), "t:").await.unwrap();
    let b = RedisStore::connect(server.url(), "t:").await.unwrap();
    let other = RedisStore::connect(server.url(), "other:").await.unwrap();
    let (mut heard_a, mut heard_b, mut heard_other) = (a.notices(), b.notices(), other.notices());
    // The subscriptions are made in the background.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let gap = Duration::from_millis(300);
    assert!(a.ask_early(APP, gap).await.unwrap());
    assert!(
        !b.ask_early(APP, gap).await.unwrap(),
        "one ask per gap, fleet-wide"
    );
    let asked = a.read(APP).await.unwrap().early_ms;
    assert!(asked.is_some());
    for heard in [&mut heard_a, &mut heard_b] {
        let notice = tokio::time::timeout(Duration::from_secs(2), heard.recv())
            .await
            .unwrap();
        assert_eq!(notice, Some(Notice::Early(APP)));
    }
    tokio::time::sleep(gap + Duration::from_millis(50)).await;
    assert_eq!(
        a.read(APP).await.unwrap().early_ms,
        asked,
        "the ask's time stays past its gap, for the holder's tick"
    );
    assert!(b.ask_early(APP, gap).await.unwrap(), "a new gap, a new ask");
    assert!(a.read(APP).await.unwrap().early_ms > asked);
    let now = a
        .lease(APP, "a", Duration::from_secs(5))
        .await
        .unwrap()
        .now_ms;
    assert!(a
        .publish(APP, "a", now, &format!("v1 {now} a 1 {} - 0", hex("tok")))
        .await
        .unwrap());
    for heard in [&mut heard_a, &mut heard_b] {
        let mut notices = Vec::new();
        while let Ok(Some(n)) = tokio::time::timeout(Duration::from_millis(300), heard.recv()).await
        {
            notices.push(n);
        }
        assert_eq!(notices, [Notice::Early(APP), Notice::Changed(APP)]);
    }
    assert!(
        tokio::time::timeout(Duration::from_millis(200), heard_other.recv())
            .await
            .is_err(),
        "another prefix hears nothing"
    );
    assert_eq!(other.read(APP).await.unwrap().record, None);
}

/// Two instances of one fleet on one Redis: one holder calls Tencent; a rotation found by a
/// miss on the other instance reaches it within 2 s through one early fetch; a lost notice is
/// caught by the poll; the holder's death hands the lease over within one lease time.
#[tokio::test]
async fn a_fleet_of_two_shares_one_fetch_and_one_early_fetch_per_rotation() {
    let Some(server) = Server::start("fleet") else {
        return;
    };
    let tencent = Tencent::new("token-one");
    let fleet = |id: &'static str| {
        let url = server.url().to_owned();
        async move {
            let store = RedisStore::connect(&url, "t:").await.unwrap();
            Fleet::builder(store)
                .instance_id(id)
                .lease(Duration::from_millis(600))
                .poll(Duration::from_millis(500))
                .interval(Duration::from_secs(3600))
                .start()
                .unwrap()
        }
    };
    let a = fleet("a").await;
    let refresher_a = a.refresher(APP, tencent.clone()).start().await.unwrap();
    let b = fleet("b").await;
    let source_b = b.source(APP, tencent.clone());
    let snapshot = source_b.fetch().await.unwrap();
    assert_eq!(snapshot.current(), Some(&token("token-one")));
    assert_eq!(tencent.calls(), 1, "one fetch for the fleet");
    assert_eq!(a.status().holding(), [APP]);
    assert!(b.status().holding().is_empty());

    // Tencent rotates; `b` sees a signature it cannot verify and asks.
    tencent.rotate("token-two");
    let started = tokio::time::Instant::now();
    let snapshot = source_b.fetch_on_miss().await.unwrap();
    assert_eq!(snapshot.current(), Some(&token("token-two")));
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        snapshot.previous().map(|(t, _)| t),
        Some(&token("token-one")),
        "the grace"
    );
    assert_eq!(tencent.calls(), 2, "one early fetch");
    assert_eq!(a.status().early_fetches(), 1);
    // Its notice woke `a`'s refresher too.
    let handle_a = refresher_a.handle();
    eventually("a holds the new token", Duration::from_secs(2), || {
        handle_a.load().unwrap().current() == Some(&token("token-two"))
    })
    .await;
    // A second miss within the gap asks nothing more of Tencent.
    let _ = source_b.fetch_on_miss().await;
    assert_eq!(tencent.calls(), 2);

    // A record written without its notice (a lost notice): the poll finds it.
    let at: u64 = {
        let store = RedisStore::connect(server.url(), "t:").await.unwrap();
        store
            .lease(APP, "a", Duration::from_millis(600))
            .await
            .unwrap()
            .now_ms
            + 1
    };
    server
        .command(&[
            "SET",
            &format!("t:{APP}:token"),
            &format!("v1 {at} a 1 {} - 0", hex("token-three")),
        ])
        .unwrap();
    eventually(
        "the poll reads the new record",
        Duration::from_secs(2),
        || handle_a.load().unwrap().current() == Some(&token("token-three")),
    )
    .await;

    // The holder stops (its fleet and refresher gone): `b` takes the lease within one lease
    // time (plus one renewal tick).
    drop(refresher_a);
    drop(handle_a);
    drop(a);
    eventually("b holds the lease", Duration::from_secs(3), || {
        b.status().holding() == [APP]
    })
    .await;
}

/// Redis flushed mid-run: the holder writes the token again at once; Redis restarted: the
/// instances keep their token meanwhile and share again when it is back; Redis unreachable: the
/// fallback (the last token served, Tencent only on a miss, jittered) and the return.
#[tokio::test]
async fn flush_restart_and_outage() {
    let Some(mut server) = Server::start("outage") else {
        return;
    };
    let tencent = Tencent::new("token-one");
    let store = RedisStore::connect(server.url(), "t:").await.unwrap();
    let fleet = Fleet::builder(store)
        .instance_id("a")
        .lease(Duration::from_millis(600))
        .poll(Duration::from_millis(300))
        .early_gap(Duration::from_millis(200))
        .fallback_rate(0.5)
        .start()
        .unwrap();
    let refresher = fleet.refresher(APP, tencent.clone()).start().await.unwrap();
    let handle = refresher.handle();
    let reader = fleet.source(APP, tencent.clone());
    assert_eq!(tencent.calls(), 1);

    server.command(&["FLUSHALL"]).unwrap();
    eventually(
        "the holder writes the token again",
        Duration::from_secs(2),
        || tencent.calls() == 2,
    )
    .await;
    assert!(reader.fetch().await.is_ok());

    // Down: reads fail, the last token is served, the status says so.
    server.stop();
    assert!(reader.fetch().await.is_err());
    eventually(
        "the status shows the fallback",
        Duration::from_secs(2),
        || !fleet.status().is_shared(),
    )
    .await;
    assert_eq!(handle.load().unwrap().current(), Some(&token("token-one")));
    // A miss: the first fallback turn is drawn over one spacing (a fleet of 1 at 0.5 calls/s:
    // 2 s), so this one may wait; within one spacing one reaches Tencent.
    tencent.rotate("token-two");
    let calls = tencent.calls();
    let mut got = None;
    for _ in 0..40 {
        if let Ok(snapshot) = reader.fetch_on_miss().await {
            got = Some(snapshot);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(got.unwrap().current(), Some(&token("token-two")));
    assert_eq!(tencent.calls(), calls + 1, "one fallback fetch");
    assert_eq!(fleet.status().fallback_fetches(), 1);
    // An immediate second miss is spaced (by 1 to 3 s).
    assert!(reader.fetch_on_miss().await.is_err());
    assert_eq!(tencent.calls(), calls + 1);

    // Back: shared again, the holder writes, readers read.
    server.restart();
    eventually("shared again", Duration::from_secs(5), || {
        fleet.status().is_shared() && fleet.status().holding() == [APP]
    })
    .await;
    let mut read = false;
    for _ in 0..50 {
        if reader.fetch().await.is_ok() {
            read = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(read, "the store serves the token again");
}

#[tokio::test]
async fn auth_is_required_and_the_password_never_shows() {
    const PASSWORD: &str = "sEnTiNeL-redis-password";
    let Some(server) = Server::start_with_password("auth", PASSWORD) else {
        return;
    };
    let wrong = server
        .url()
        .replacen("redis://", "redis://:wrong-password@", 1);
    let error = RedisStore::connect(&wrong, "t:").await.unwrap_err();
    let missing = RedisStore::connect(server.url(), "t:").await.err();
    let right = server
        .url()
        .replacen("redis://", &format!("redis://:{PASSWORD}@"), 1);
    let store = RedisStore::connect(&right, "t:").await.unwrap();
    assert!(
        store
            .lease(APP, "a", Duration::from_secs(1))
            .await
            .unwrap()
            .held
    );
    let mut texts = vec![
        error.to_string(),
        format!("{error:?}"),
        format!("{store:?}"),
    ];
    // Without a password the connection may succeed and the first command fail: either way,
    // typed and clean.
    match missing {
        Some(e) => texts.push(e.to_string()),
        None => {
            let store = RedisStore::connect(server.url(), "t:").await.unwrap();
            texts.push(
                store
                    .lease(APP, "b", Duration::from_secs(1))
                    .await
                    .unwrap_err()
                    .to_string(),
            );
        }
    }
    for text in texts {
        assert!(
            !text.contains("sEnTiNeL") && !text.contains("wrong-password"),
            "{text}"
        );
    }
    let bad_url = RedisStore::connect("redis://:sEnTiNeL@[::1", "t:")
        .await
        .unwrap_err();
    assert!(!bad_url.to_string().contains("sEnTiNeL"), "{bad_url}");
}

/// `rediss://`: the store over TLS to a server whose certificate a private CA signed, with AUTH;
/// without that CA (the system's roots) the connection is refused, and no error shows the
/// password.
#[tokio::test]
async fn tls_with_a_private_ca_and_auth() {
    const PASSWORD: &str = "tls-sEnTiNeL-password";
    let Some(server) = Server::start_tls("tls", PASSWORD) else {
        return;
    };
    let ca = server.ca_pem().unwrap().to_vec();
    let url = server
        .url()
        .replacen("rediss://", &format!("rediss://:{PASSWORD}@"), 1);
    let store = RedisStore::connect_tls(&url, "t:", &ca).await.unwrap();
    let lease = store.lease(APP, "a", Duration::from_secs(1)).await.unwrap();
    assert!(lease.held);
    let now = lease.now_ms;
    assert!(store
        .publish(APP, "a", now, &format!("v1 {now} a 1 {} - 0", hex("tls")))
        .await
        .unwrap());
    assert!(store.read(APP).await.unwrap().record.is_some());
    // The system's roots do not know the test's CA.
    let untrusted = RedisStore::connect(&url, "t:").await.unwrap_err();
    let plain = RedisStore::connect(
        &server
            .url()
            .replacen("rediss://", &format!("redis://:{PASSWORD}@"), 1),
        "t:",
    )
    .await
    .err();
    let mut texts = vec![untrusted.to_string(), format!("{store:?}")];
    texts.extend(plain.map(|e| e.to_string()));
    for text in texts {
        assert!(!text.contains("sEnTiNeL"), "{text}");
    }
}
