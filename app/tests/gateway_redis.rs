//! The gateway with `TIM_REDIS_URL`: two instances on one real `redis-server` (started by the
//! test, `tim_callback_fleet::testing`) and one mock of Tencent's API. Without `redis-server`
//! these tests say so on stderr and pass, unless `TIM_REQUIRE_REDIS=1`.

mod support;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use http::StatusCode;
use sha2::{Digest, Sha256};
use tim_callback_app::gateway::GatewayConfig;
use tim_callback_fleet::testing::RedisServer;
use tim_callback_mock::mock::{MockApi, ADMIN, SECRET_KEY};

const APP: u64 = 1400000007;
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn vars(api: &str, redis: &str, upstream: &str, id: &str) -> HashMap<String, String> {
    [
        ("TIM_SDKAPPID", APP.to_string()),
        ("TIM_SECRET_KEY", SECRET_KEY.to_owned()),
        ("TIM_API_BASE_URL", api.to_owned()),
        ("TIM_UPSTREAM_URL", upstream.to_owned()),
        ("TIM_UPSTREAM_SECRET", SECRET.to_owned()),
        ("TIM_REDIS_URL", redis.to_owned()),
        ("TIM_REDIS_PREFIX", "gw-test:".to_owned()),
        ("TIM_INSTANCE_ID", id.to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

struct Running {
    addr: SocketAddr,
    admin: SocketAddr,
}

async fn start(vars: HashMap<String, String>) -> Running {
    let gateway = GatewayConfig::from_vars(|name| vars.get(name).cloned())
        .unwrap()
        .start()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let admin = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let running = Running {
        addr: listener.local_addr().unwrap(),
        admin: admin.local_addr().unwrap(),
    };
    tokio::spawn(gateway.serve(listener, Some(admin), std::future::pending()));
    running
}

async fn upstream() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/tencent", listener.local_addr().unwrap());
    let app = axum::Router::new().route(
        "/tencent",
        axum::routing::post(|| async { r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}"# }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

async fn callback(gw: &Running, token: &str) -> StatusCode {
    let time = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let sign: String = Sha256::digest(format!("{token}{time}").as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    reqwest::Client::new()
        .post(format!(
            "http://{}/im/callback?SdkAppid={APP}&CallbackCommand=C2C.CallbackAfterSendMsg&RequestTime={time}&Sign={sign}",
            gw.addr
        ))
        .header("content-type", "application/json")
        .body(r#"{"CallbackCommand":"C2C.CallbackAfterSendMsg"}"#)
        .send()
        .await
        .unwrap()
        .status()
}

async fn fleet_health(gw: &Running) -> serde_json::Value {
    let text = reqwest::get(format!("http://{}/healthz", gw.admin))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let health: serde_json::Value = serde_json::from_str(&text).unwrap();
    health["fleet"].clone()
}

/// Two gateways, one fetch from Tencent; a rotation found by a callback on the instance that
/// does not hold the lease is fetched once, early, by the one that does, and both accept the
/// new token; the detailed health shows the fleet.
#[tokio::test]
async fn two_gateways_share_one_fetch_and_one_early_fetch() {
    let Some(redis) = RedisServer::start("gateway") else {
        return;
    };
    let mock = MockApi::start_for(APP, ADMIN, SECRET_KEY, Some("shared-token-one"), true).await;
    let upstream = upstream().await;
    let a = start(vars(&mock.base_url(), redis.url(), &upstream, "gw-a")).await;
    let b = start(vars(&mock.base_url(), redis.url(), &upstream, "gw-b")).await;
    assert_eq!(mock.calls(), 1, "one fetch for the two");
    assert_eq!(callback(&a, "shared-token-one").await, StatusCode::OK);
    assert_eq!(callback(&b, "shared-token-one").await, StatusCode::OK);
    let (fa, fb) = (fleet_health(&a).await, fleet_health(&b).await);
    assert_eq!(fa["shared"], true);
    assert_eq!(fa["holding"], serde_json::json!([APP]), "{fa}");
    assert_eq!(fb["holding"], serde_json::json!([]), "{fb}");

    mock.set_token(Some("shared-token-two"), true);
    // `b` misses, asks; `a` fetches once; `b` accepts within its refresh-on-miss wait.
    assert_eq!(callback(&b, "shared-token-two").await, StatusCode::OK);
    assert_eq!(mock.calls(), 2, "one early fetch");
    assert_eq!(fleet_health(&a).await["early_fetches"], 1);
    assert_eq!(callback(&a, "shared-token-two").await, StatusCode::OK);
    assert_eq!(mock.calls(), 2);
    // The token is in Redis under the prefix, as Tencent gave it (hex): documented.
    let keys = redis.command(&["KEYS", "*"]).unwrap();
    assert!(keys.iter().all(|k| k.starts_with("gw-test:")), "{keys:?}");
}

/// A wrong password or an unreachable Redis: the start names `TIM_REDIS_URL`, never the
/// password.
#[tokio::test]
async fn redis_mistakes_are_named_and_never_echo_the_password() {
    const PASSWORD: &str = "gw-sEnTiNeL-password";
    let Some(redis) = RedisServer::start_with_password("gateway-auth", PASSWORD) else {
        return;
    };
    // Every line logged in this process (the only test here that sets a subscriber), at trace
    // level: the password and the token must be in none.
    let logs = support::Logs::default();
    tracing::subscriber::set_global_default(logs.subscriber(tracing::Level::TRACE)).unwrap();
    let mock = MockApi::start_for(APP, ADMIN, SECRET_KEY, Some("shared-token-one"), true).await;
    let upstream = upstream().await;
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let nowhere = format!("redis://:{PASSWORD}@{}", closed.local_addr().unwrap());
    drop(closed);
    let wrong = redis
        .url()
        .replacen("redis://", "redis://:gw-sEnTiNeL-wrong@", 1);
    for url in [wrong, nowhere, "http://gw-sEnTiNeL@host/".to_owned()] {
        let v = vars(&mock.base_url(), &url, &upstream, "gw-a");
        let error = match GatewayConfig::from_vars(|n| v.get(n).cloned()) {
            Err(e) => e,
            Ok(config) => config.start().await.unwrap_err(),
        };
        assert_eq!(error.variable(), "TIM_REDIS_URL");
        for text in [error.to_string(), format!("{error:?}")] {
            assert!(!text.contains("sEnTiNeL"), "{text}");
        }
    }
    let right = redis
        .url()
        .replacen("redis://", &format!("redis://:{PASSWORD}@"), 1);
    let v = vars(&mock.base_url(), &right, &upstream, "gw-a");
    let config = GatewayConfig::from_vars(|n| v.get(n).cloned()).unwrap();
    assert!(!format!("{config:?}").contains("sEnTiNeL"));
    let gw = start(v).await;
    assert_eq!(callback(&gw, "shared-token-one").await, StatusCode::OK);
    // A rotation found by a miss: the fleet's early fetch, logged.
    mock.set_token(Some("shared-token-two"), true);
    assert_eq!(callback(&gw, "shared-token-two").await, StatusCode::OK);
    let text = logs.text();
    assert!(
        text.contains("redis"),
        "the fleet's lines were captured: {text}"
    );
    for secret in [
        "sEnTiNeL",
        "shared-token-one",
        "shared-token-two",
        &hex("shared-token-one"),
        &hex("shared-token-two"),
        SECRET_KEY,
    ] {
        assert!(!text.contains(secret), "logged: {secret}");
    }
}

fn hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

/// An upstream that counts what reaches it and answers 500 while `failing`.
#[derive(Clone, Default)]
struct Counting {
    seen: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    failing: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Counting {
    async fn start(&self) -> String {
        use std::sync::atomic::Ordering;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/tencent", listener.local_addr().unwrap());
        let state = self.clone();
        let app = axum::Router::new().route(
            "/tencent",
            axum::routing::post(move || {
                let state = state.clone();
                async move {
                    state.seen.fetch_add(1, Ordering::SeqCst);
                    if state.failing.load(Ordering::SeqCst) {
                        (StatusCode::INTERNAL_SERVER_ERROR, "")
                    } else {
                        (StatusCode::OK, r#"{"code":0}"#)
                    }
                }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    }

    fn seen(&self) -> usize {
        self.seen.load(std::sync::atomic::Ordering::SeqCst)
    }
}

async fn trtc(gw: &Running, body: &str, key: &str) -> (StatusCode, String) {
    let sign = tim_callback_auth::trtc::TrtcKey::new(key)
        .unwrap()
        .sign(body.as_bytes());
    let response = reqwest::Client::new()
        .post(format!("http://{}/trtc/callback", gw.addr))
        .header("content-type", "application/json")
        .header("SdkAppId", APP.to_string())
        .header("Sign", sign)
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

/// Tencent's retry of a TRTC event reaching another instance: answered from the fleet's memory
/// once an upstream answered it 2xx, and passed on to the upstream again when it had failed.
#[tokio::test]
async fn trtc_retries_are_answered_fleet_wide_after_a_2xx_only() {
    const KEY: &str = "GatewayFleetTrtcKey0123456789";
    let Some(redis) = RedisServer::start("gateway-retry") else {
        return;
    };
    let mock = MockApi::start_for(APP, ADMIN, SECRET_KEY, Some("shared-token-one"), true).await;
    let upstream = Counting::default();
    let url = upstream.start().await;
    let with_key = |id: &str| {
        let mut v = vars(&mock.base_url(), redis.url(), &url, id);
        v.insert("TIM_TRTC_CALLBACK_KEY".into(), KEY.into());
        v
    };
    let a = start(with_key("gw-a")).await;
    let b = start(with_key("gw-b")).await;
    let event = |room: u32| {
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis();
        format!(
            r#"{{"EventGroupId":1,"EventType":103,"CallbackTs":{ms},"EventInfo":{{"RoomId":{room},"EventTs":1,"UserId":"u","Role":20}}}}"#
        )
    };
    // Answered by the upstream on `a`; its retry on `b` does not reach the upstream.
    let first = event(1);
    assert_eq!(trtc(&a, &first, KEY).await.0, StatusCode::OK);
    assert_eq!(upstream.seen(), 1);
    // Remembered off the response's path: wait until it is stored.
    for _ in 0..200 {
        if !redis
            .command(&["KEYS", "gw-test:answered:*"])
            .unwrap()
            .is_empty()
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let (status, reply) = trtc(&b, &first, KEY).await;
    assert_eq!((status, reply.as_str()), (StatusCode::OK, r#"{"code":0}"#));
    assert_eq!(
        upstream.seen(),
        1,
        "the retry was answered from the fleet's memory"
    );
    // Failed upstream on `a`: not remembered, so the retry on `b` reaches the upstream.
    upstream
        .failing
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let second = event(2);
    assert_eq!(trtc(&a, &second, KEY).await.0, StatusCode::BAD_GATEWAY);
    upstream
        .failing
        .store(false, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(trtc(&b, &second, KEY).await.0, StatusCode::OK);
    assert_eq!(upstream.seen(), 3);
    let retried = reqwest::get(format!("http://{}/healthz", b.admin))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let retried: serde_json::Value = serde_json::from_str(&retried).unwrap();
    assert_eq!(retried["upstream"]["retries_answered"], 1);
}

/// `rediss://` with `TIM_REDIS_CA_FILE`: the gateway shares its token over TLS; a file that is
/// not a certificate is named, not shown.
#[tokio::test]
async fn tls_redis_with_a_ca_file() {
    const PASSWORD: &str = "gw-tls-password";
    let Some(redis) = RedisServer::start_tls("gateway-tls", PASSWORD) else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("tim-gw-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, redis.ca_pem().unwrap()).unwrap();
    let not_pem = dir.join("not.pem");
    std::fs::write(&not_pem, "gw-sEnTiNeL").unwrap();
    let mock = MockApi::start_for(APP, ADMIN, SECRET_KEY, Some("shared-token-one"), true).await;
    let upstream = upstream().await;
    let url = redis
        .url()
        .replacen("rediss://", &format!("rediss://:{PASSWORD}@"), 1);
    let mut v = vars(&mock.base_url(), &url, &upstream, "gw-tls");
    v.insert("TIM_REDIS_CA_FILE".into(), not_pem.display().to_string());
    let error = GatewayConfig::from_vars(|n| v.get(n).cloned()).unwrap_err();
    assert_eq!(error.variable(), "TIM_REDIS_CA_FILE");
    assert!(!error.to_string().contains("sEnTiNeL"), "{error}");
    v.insert("TIM_REDIS_CA_FILE".into(), ca.display().to_string());
    let gw = start(v).await;
    assert_eq!(callback(&gw, "shared-token-one").await, StatusCode::OK);
    assert_eq!(fleet_health(&gw).await["holding"], serde_json::json!([APP]));
    std::fs::remove_dir_all(&dir).unwrap();
}
