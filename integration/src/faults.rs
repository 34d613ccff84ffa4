//! The fault matrix against the mock API, shared by `tests/faults.rs` (one test per fault),
//! `tests/attacks.rs` (the harness) and `tests/secrets.rs` (every fault under a capturing
//! `tracing` subscriber).
//!
//! Each run asserts that (a) callbacks signed with the last good token keep being accepted
//! throughout, (b) nothing panics, (c) the refresher's fetches stay within the backoff schedule,
//! and (d) it recovers within one backoff step once the API heals.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::routing::post;
use axum::Router;
use http::Request;
use tim_callback_auth::refresh::TokenRefresher;
use tim_callback_auth::rest::{Region, RestClient};
use tim_callback_auth::{CallbackAuthLayer, CallbackToken, Error, ErrorKind};
use tower::ServiceExt;

use tim_callback_mock::mock::{MockApi, Reply, ADMIN, SDK_APP_ID, SECRET_KEY};
use tim_callback_mock::now;

/// The token the mock serves in every fault run.
pub const TOKEN: &str = "fault-matrix-token";
const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_millis(800);
const REQUEST_TIMEOUT: Duration = Duration::from_millis(250);

/// One fault: how to break the API, and the error kind the refresher must report.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Connections refused (the listener is closed).
    Refused,
    /// The request is accepted and never answered.
    Hang,
    /// Headers and half a body, then nothing.
    StallBody,
    /// A proxy's 502 HTML page.
    BadGatewayHtml,
    /// JSON cut in the middle.
    TruncatedJson,
    /// A success answer without its `Response` object.
    NoResponse,
    /// `Token` of the wrong JSON type.
    TokenWrongType,
    /// This error code, which must be classified as this kind.
    Code(i64, ErrorKind),
    /// "Enabled" with an empty token.
    EmptyToken,
    /// "Enabled" with a token over 128 bytes.
    OversizedToken,
}

impl Fault {
    /// The whole matrix, each fault once.
    pub fn all() -> Vec<Fault> {
        vec![
            Fault::Refused,
            Fault::Hang,
            Fault::StallBody,
            Fault::BadGatewayHtml,
            Fault::TruncatedJson,
            Fault::NoResponse,
            Fault::TokenWrongType,
            Fault::Code(100001, ErrorKind::TryLater),
            Fault::Code(60018, ErrorKind::TryLater),
            Fault::Code(70001, ErrorKind::UserSig),
            Fault::Code(70050, ErrorKind::TryLater),
            Fault::Code(60006, ErrorKind::Configuration),
            Fault::EmptyToken,
            Fault::OversizedToken,
        ]
    }

    fn expected(&self) -> ErrorKind {
        match self {
            Fault::Refused => ErrorKind::Connect,
            Fault::Hang | Fault::StallBody => ErrorKind::Timeout,
            Fault::BadGatewayHtml => ErrorKind::HttpStatus,
            Fault::TruncatedJson | Fault::NoResponse | Fault::TokenWrongType => ErrorKind::Decode,
            Fault::Code(_, kind) => *kind,
            Fault::EmptyToken | Fault::OversizedToken => ErrorKind::InvalidToken,
        }
    }

    /// How to break the API for this fault (`None` for [`Fault::Refused`], which closes the listener).
    pub fn reply(&self) -> Option<Reply> {
        let enabled = |token: &str| {
            Reply::Body(format!(
                r#"{{"ErrorCode":0,"ActionStatus":"OK","Response":{{"Token":"{token}","IsTokenEnable":true}}}}"#
            ))
        };
        Some(match self {
            Fault::Refused => return None,
            Fault::Hang => Reply::Hang,
            Fault::StallBody => Reply::StallBody,
            Fault::BadGatewayHtml => Reply::Status(502, "<html><body><h1>502 Bad Gateway</h1></body></html>"),
            Fault::TruncatedJson => Reply::Body(r#"{"ErrorCode":0,"ActionStatus":"OK","Response":{"Tok"#.into()),
            Fault::NoResponse => Reply::Body(r#"{"ErrorCode":0,"ActionStatus":"OK","ErrorInfo":""}"#.into()),
            Fault::TokenWrongType => Reply::Body(
                r#"{"ErrorCode":0,"ActionStatus":"OK","Response":{"Token":["x"],"IsTokenEnable":true}}"#.into(),
            ),
            Fault::Code(code, _) => Reply::Code(*code),
            Fault::EmptyToken => enabled(""),
            Fault::OversizedToken => enabled(&"t".repeat(129)),
        })
    }
}

/// The mock, a refresher against it, and a router behind the layer.
pub struct Harness {
    /// The mock API.
    pub api: MockApi,
    /// The refresher against it (hourly polls, 100–800 ms backoff).
    pub refresher: TokenRefresher,
    /// `POST /cb` behind the layer over the refresher's handle.
    pub app: Router,
}

impl std::fmt::Debug for Harness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Harness")
            .field("api", &self.api)
            .field("refresher", &self.refresher)
            .finish_non_exhaustive()
    }
}

impl Harness {
    /// A harness whose mock serves `token`.
    pub async fn start(token: &str) -> Harness {
        Self::start_with(token, |b| b).await
    }

    /// [`Harness::start`], with the refresher's builder adjusted by `configure`.
    pub async fn start_with(
        token: &str,
        configure: impl FnOnce(
            tim_callback_auth::refresh::RefresherBuilder<
                RestClient,
                tim_callback_auth::TokenSnapshot,
            >,
        ) -> tim_callback_auth::refresh::RefresherBuilder<
            RestClient,
            tim_callback_auth::TokenSnapshot,
        >,
    ) -> Harness {
        let api = MockApi::start(token).await;
        let client = RestClient::builder(SDK_APP_ID, SECRET_KEY)
            .admin(ADMIN)
            .region(Region::custom(&api.base_url()).unwrap())
            .request_timeout(REQUEST_TIMEOUT)
            .connect_timeout(REQUEST_TIMEOUT)
            .build()
            .unwrap();
        let builder = TokenRefresher::builder(client)
            .interval(Duration::from_secs(3600))
            .backoff(BACKOFF_MIN, BACKOFF_MAX);
        let refresher = configure(builder).start().await.unwrap();
        let app = Router::new()
            .route("/cb", post(|| async { "ok" }))
            .layer(CallbackAuthLayer::new(refresher.handle()));
        Harness {
            api,
            refresher,
            app,
        }
    }

    /// Sends a callback signed with `token` at the current second; returns the status.
    pub async fn callback(&self, token: &CallbackToken) -> u16 {
        let t = now();
        let uri = format!(
            "/cb?SdkAppid={SDK_APP_ID}&Sign={}&RequestTime={t}",
            token.sign(t)
        );
        let request = Request::post(uri).body(Body::empty()).unwrap();
        self.app
            .clone()
            .oneshot(request)
            .await
            .unwrap()
            .status()
            .as_u16()
    }
}

/// Runs one fault through the whole cycle. Returns the errors seen, for secret checks.
pub async fn run_fault(fault: &Fault) -> Vec<Error> {
    let h = Harness::start(TOKEN).await;
    let token = CallbackToken::new(TOKEN).unwrap();
    let sigs_before = h.api.user_sigs().len();
    match fault.reply() {
        Some(reply) => h.api.set_fallback(reply),
        None => h.api.refuse_connections().await,
    }
    let fetches_before = h.refresher.status().fetches();

    // The first failure, now; then the refresher's own backoff schedule.
    let first = h.refresher.refresh_now().await.unwrap_err();
    if let Fault::Refused = fault {
        // The pooled keep-alive connection dies with the server: the first attempt may fail on it
        // ("transport") before new connections are refused ("connect").
        assert!(
            matches!(first.kind(), ErrorKind::Connect | ErrorKind::Transport),
            "{first}"
        );
    } else {
        assert_eq!(first.kind(), fault.expected(), "{fault:?}: {first}");
    }
    let started = Instant::now();
    let window = Duration::from_millis(1500);
    while started.elapsed() < window {
        assert_eq!(
            h.callback(&token).await,
            200,
            "{fault:?}: last good token refused"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let status = h.refresher.status();
    let attempts = status.fetches() - fetches_before;
    // Backoff from 100 ms doubling to 800 ms (±20 %) after the first failure: attempts at about
    // 0, 0.1, 0.3, 0.7 and 1.5 s, fewer when each attempt itself waits for a timeout.
    assert!(
        (2..=6).contains(&attempts),
        "{fault:?}: {attempts} attempts in 1.5 s"
    );
    assert_eq!(status.consecutive_failures() as u64, attempts, "{fault:?}");
    assert_eq!(
        status.last_error().map(Error::kind),
        Some(fault.expected()),
        "{fault:?}"
    );
    assert!(
        h.api.calls() as u64 <= 1 + attempts + 1,
        "{fault:?}: {} calls",
        h.api.calls()
    );
    if let Fault::Code(70001, _) = fault {
        let sigs = h.api.user_sigs()[sigs_before..].to_vec();
        assert!(sigs.len() >= 2);
        for pair in sigs.windows(2) {
            assert_ne!(pair[0], pair[1], "a fresh UserSig after every 70001");
        }
    }

    // Heal: recovered within one backoff step (800 ms + 20 % + a timeout), serving all along.
    h.api.set_fallback(Reply::Real);
    h.api.accept_connections().await;
    let healed = Instant::now();
    while h.refresher.status().consecutive_failures() != 0 {
        assert!(
            healed.elapsed()
                < BACKOFF_MAX.mul_f64(1.2) + REQUEST_TIMEOUT + Duration::from_millis(700),
            "{fault:?}: no recovery within one backoff step"
        );
        assert_eq!(h.callback(&token).await, 200);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(h.callback(&token).await, 200);
    assert_eq!(h.api.violations(), Vec::<String>::new());
    vec![first]
}
