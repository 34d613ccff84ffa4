//! The whole job on an embedded default, with no Tencent account and no network:
//!
//! ```sh
//! cargo run --example demo
//! ```
//!
//! Starts a mock of Tencent's REST API, a refresher against it and an axum server with the layer,
//! all on 127.0.0.1 with OS-assigned ports; then plays Tencent and an attacker, and prints a table.
//! Exits non-zero if any case differs from what is expected. `tests/demo.rs` runs this binary.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::routing::{get, post};
use axum::{Extension, Router};
use tim_callback_auth::refresh::TokenRefresher;
use tim_callback_auth::rest::{Region, RestClient};
use tim_callback_auth::{
    AppSet, CallbackAuthLayer, CallbackToken, TokenHandle, TokenSnapshot, VerifiedCallback,
};
use tim_callback_auth_testkit::mock::{MockApi, Reply, ADMIN, SDK_APP_ID, SECRET_KEY};

/// A second app behind the same endpoint, with a static token (the IM console's).
const APP_B: u64 = SDK_APP_ID + 1;

const TENCENT_OK: &str = r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}"#;

/// One line of the table.
struct Case {
    name: &'static str,
    expected: u16,
    got: u16,
}

impl Case {
    fn passed(&self) -> bool {
        self.expected == self.got
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Sends callbacks the way Tencent does: POST, JSON body, query parameters.
struct Tencent {
    http: reqwest::Client,
    endpoint: String,
}

impl Tencent {
    async fn callback(&self, app_id: u64, sign: Option<(&CallbackToken, u64)>) -> u16 {
        let mut url = format!(
            "{}?SdkAppid={app_id}&CallbackCommand=C2C.CallbackAfterSendMsg&contenttype=json&ClientIP=127.0.0.1&OptPlatform=RESTAPI",
            self.endpoint
        );
        if let Some((token, time)) = sign {
            url.push_str(&format!("&Sign={}&RequestTime={time}", token.sign(time)));
        }
        self.send(url).await
    }

    /// A signed URL of app A with a second, percent-encoded app id that a decoding parser in the
    /// handler would read as `SdkAppid`.
    async fn confused(&self, token: &CallbackToken, time: u64) -> u16 {
        let url = format!(
            "{}?SdkAppid={SDK_APP_ID}&SdkAppi%64={APP_B}&CallbackCommand=C2C.CallbackAfterSendMsg&Sign={}&RequestTime={time}",
            self.endpoint,
            token.sign(time)
        );
        self.send(url).await
    }

    async fn forged(&self) -> u16 {
        let url = format!(
            "{}?SdkAppid={SDK_APP_ID}&CallbackCommand=C2C.CallbackAfterSendMsg&Sign={}&RequestTime={}",
            self.endpoint,
            "0123456789abcdef".repeat(4),
            now()
        );
        self.send(url).await
    }

    async fn health(&self) -> u16 {
        let url = self.endpoint.replace("/im/callback", "/healthz");
        match self.http.get(url).send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let body = response.text().await.unwrap_or_default();
                if body.contains(r#""status":"ready""#) {
                    status
                } else {
                    0
                }
            }
            Err(_) => 0,
        }
    }

    async fn send(&self, url: String) -> u16 {
        let body = r#"{"CallbackCommand":"C2C.CallbackAfterSendMsg","From_Account":"alice","To_Account":"bob","MsgBody":[]}"#;
        match self
            .http
            .post(url)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
        {
            Ok(response) => {
                let status = response.status().as_u16();
                let text = response.text().await.unwrap_or_default();
                if status == 200 && text != TENCENT_OK {
                    return 0;
                }
                status
            }
            Err(_) => 0,
        }
    }
}

/// Runs the scenario and returns every case. Needs a tokio runtime with time and I/O.
async fn scenario() -> Vec<Case> {
    let mut cases = Vec::new();
    let v1 = CallbackToken::new("demo-token-v1").expect("valid token");
    let v2 = CallbackToken::new("demo-token-v2").expect("valid token");

    // 1. The mock Tencent API, a refresher against it, and our callback server.
    let api = MockApi::start("demo-token-v1").await;
    let client = RestClient::builder(SDK_APP_ID, ADMIN, SECRET_KEY)
        .region(Region::custom(&api.base_url()).expect("local url"))
        .build()
        .expect("valid client");
    let refresher = TokenRefresher::builder(client)
        .grace(Duration::from_secs(300))
        .backoff(Duration::from_millis(100), Duration::from_secs(5))
        // The forged request below triggers a refresh-on-miss; a 1 s gap (default 10 s) keeps the
        // demo short before the rotation needs the next one.
        .refresh_on_miss_gap(Duration::from_secs(1))
        .start()
        .await
        .expect("the mock answers");
    let app_b = CallbackToken::new("demo-app-b-token").expect("valid token");
    let apps = AppSet::new();
    apps.insert(SDK_APP_ID, refresher.handle());
    apps.insert(
        APP_B,
        TokenHandle::new(TokenSnapshot::enabled(app_b.clone())),
    );
    let health = apps.clone();
    let app = Router::new()
        // The handler takes the app and time the layer verified; it never re-parses the query.
        .route(
            "/im/callback",
            post(
                |Extension(verified): Extension<VerifiedCallback>| async move {
                    tracing::info!(app = verified.app_id(), "verified callback");
                    TENCENT_OK
                },
            ),
        )
        .layer(CallbackAuthLayer::for_apps(apps))
        .route(
            "/healthz",
            get(move || async move {
                health
                    .health(Duration::from_secs(300))
                    .to_response::<axum::body::Body>()
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let tencent = Tencent {
        http: reqwest::Client::new(),
        endpoint: format!("http://{addr}/im/callback"),
    };

    let mut case = |name, expected, got| {
        cases.push(Case {
            name,
            expected,
            got,
        })
    };

    // 1. A correctly signed callback.
    let t = now();
    case(
        "signed callback",
        200,
        tencent.callback(SDK_APP_ID, Some((&v1, t))).await,
    );

    // 2. The attacker.
    case("forged Sign", 401, tencent.forged().await);
    let stale = t - 3600;
    case(
        "stale RequestTime (1 h old)",
        401,
        tencent.callback(SDK_APP_ID, Some((&v1, stale))).await,
    );
    case(
        "missing Sign",
        401,
        tencent.callback(SDK_APP_ID, None).await,
    );
    case(
        "second SdkAppid, percent-encoded",
        401,
        tencent.confused(&v1, t).await,
    );
    case(
        "unknown SdkAppid",
        401,
        tencent.callback(SDK_APP_ID + 9, Some((&v1, t))).await,
    );

    // Two apps behind one endpoint: each with its own token; no replay across them.
    case(
        "app B, its own token",
        200,
        tencent.callback(APP_B, Some((&app_b, t))).await,
    );
    case(
        "signed for app A, claims app B",
        401,
        tencent.callback(APP_B, Some((&v1, t))).await,
    );
    case("GET /healthz (ready)", 200, tencent.health().await);

    // 3. Rotation at Tencent: the new token works at once (refresh on miss), the old one during grace.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    api.set_token(Some("demo-token-v2"), true);
    let t = now();
    case(
        "new token right after rotation",
        200,
        tencent.callback(SDK_APP_ID, Some((&v2, t))).await,
    );
    case(
        "old token during grace period",
        200,
        tencent.callback(SDK_APP_ID, Some((&v1, t))).await,
    );

    // 4. Authentication switched off at Tencent.
    api.set_token(Some("demo-token-v2"), false);
    let _ = refresher.refresh_now().await;
    case(
        "unsigned callback, auth disabled",
        200,
        tencent.callback(SDK_APP_ID, None).await,
    );

    // 5. Back on, then the API breaks: the last good token keeps working.
    api.set_token(Some("demo-token-v2"), true);
    let _ = refresher.refresh_now().await;
    case(
        "missing Sign, auth re-enabled",
        401,
        tencent.callback(SDK_APP_ID, None).await,
    );
    api.set_fallback(Reply::Status(
        502,
        "<html><body>502 Bad Gateway</body></html>",
    ));
    let failed = refresher.refresh_now().await.is_err();
    let t = now();
    let got = tencent.callback(SDK_APP_ID, Some((&v2, t))).await;
    case(
        "signed callback while API fails (502)",
        200,
        if failed { got } else { 0 },
    );

    server.abort();
    cases
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "off".into()),
        )
        .init();

    let cases = scenario().await;
    let width = cases.iter().map(|c| c.name.len()).max().unwrap_or(4);
    println!("{:<width$}  expected  got  ", "case");
    println!("{}", "-".repeat(width + 18));
    for c in &cases {
        let mark = if c.passed() { "✓" } else { "✗" };
        println!(
            "{:<width$}  {:>8}  {:>3}  {mark}",
            c.name, c.expected, c.got
        );
    }
    let failed = cases.iter().filter(|c| !c.passed()).count();
    println!();
    println!("{} passed, {failed} failed", cases.len() - failed);
    if failed > 0 {
        std::process::exit(1);
    }
}
