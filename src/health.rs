//! Readiness of an [`AppSet`](crate::AppSet): [`Health`] (what `AppSet::health` returns, ready to
//! serve at `GET /healthz`), per app [`AppHealth`], and the [`HealthState`] scale.

/// Overall readiness, from best to worst.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum HealthState {
    /// Every app has a snapshot and no refresher has been failing for long.
    Ready,
    /// Serving, but some app's token could not be refreshed for longer than the threshold.
    Degraded,
    /// Some app has no snapshot yet (callbacks for it are answered 503), or there is no app.
    NotReady,
}

impl HealthState {
    /// `ready`, `degraded` or `not_ready`.
    pub const fn as_str(&self) -> &'static str {
        match self {
            HealthState::Ready => "ready",
            HealthState::Degraded => "degraded",
            HealthState::NotReady => "not_ready",
        }
    }
}

/// The health of one app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppHealth {
    pub(crate) app_id: u64,
    pub(crate) loaded: bool,
    pub(crate) authentication_enabled: Option<bool>,
    pub(crate) consecutive_failures: u32,
    pub(crate) seconds_since_success: Option<u64>,
    pub(crate) state: HealthState,
}

impl AppHealth {
    /// The app.
    pub fn app_id(&self) -> u64 {
        self.app_id
    }
    /// Whether a snapshot is loaded.
    pub fn loaded(&self) -> bool {
        self.loaded
    }
    /// Whether callback authentication is on (`None` before a snapshot is loaded). `Some(false)`:
    /// Tencent reports it off and callbacks are let through unverified; the app is still "ready".
    pub fn authentication_enabled(&self) -> Option<bool> {
        self.authentication_enabled
    }
    /// Failed refreshes since the last success (0 without a refresher).
    pub fn consecutive_failures(&self) -> u32 {
        self.consecutive_failures
    }
    /// Seconds since the last successful refresh (`None` without a refresher or before the first).
    pub fn seconds_since_success(&self) -> Option<u64> {
        self.seconds_since_success
    }
    /// This app's state.
    pub fn state(&self) -> HealthState {
        self.state
    }
}

/// The readiness of an [`AppSet`](crate::AppSet); serve it at `GET /healthz` with
/// [`Health::to_response`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use tim_callback_auth::health::HealthState;
/// use tim_callback_auth::{AppSet, CallbackToken, TokenHandle, TokenSnapshot};
///
/// let apps = AppSet::new();
/// assert_eq!(apps.health(Duration::from_secs(300)).state(), HealthState::NotReady);
/// apps.insert(1400000000, TokenHandle::new(TokenSnapshot::enabled(CallbackToken::new("a-console-token-0123456789")?)));
/// let health = apps.health(Duration::from_secs(300));
/// assert_eq!(health.state(), HealthState::Ready);
/// let response: http::Response<String> = health.to_response();
/// assert_eq!(response.status(), 200);
/// assert!(response.body().contains(r#""authentication_enabled":true"#));
/// # Ok::<(), tim_callback_auth::InvalidToken>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Health {
    pub(crate) state: HealthState,
    pub(crate) apps: Vec<AppHealth>,
}

impl Health {
    /// The overall state: the worst of the apps'.
    pub fn state(&self) -> HealthState {
        self.state
    }

    /// Each app's health, by ascending SDKAppID.
    pub fn apps(&self) -> &[AppHealth] {
        &self.apps
    }

    /// A JSON document without any secret:
    /// `{"status":"ready","apps":[{"sdkappid":1400000000,"status":"ready","loaded":true,"authentication_enabled":true,"consecutive_failures":0,"seconds_since_success":12}]}`
    /// (`authentication_enabled` is `null` before a snapshot is loaded).
    pub fn to_json(&self) -> String {
        let apps: Vec<String> = self
            .apps
            .iter()
            .map(|a| {
                format!(
                    r#"{{"sdkappid":{},"status":"{}","loaded":{},"authentication_enabled":{},"consecutive_failures":{},"seconds_since_success":{}}}"#,
                    a.app_id,
                    a.state.as_str(),
                    a.loaded,
                    a.authentication_enabled
                        .map_or_else(|| "null".to_owned(), |e| e.to_string()),
                    a.consecutive_failures,
                    a.seconds_since_success
                        .map_or_else(|| "null".to_owned(), |s| s.to_string())
                )
            })
            .collect();
        format!(
            r#"{{"status":"{}","apps":[{}]}}"#,
            self.state.as_str(),
            apps.join(",")
        )
    }

    /// An HTTP response for a health endpoint: 200 when ready or degraded (still serving), 503 when
    /// not ready; `Content-Type: application/json`; the body is [`to_json`](Health::to_json).
    /// Works with any body type built from a `String` (axum's `Body`, `Full<Bytes>`, `String`).
    pub fn to_response<B: From<String>>(&self) -> http::Response<B> {
        let status = match self.state {
            HealthState::Ready | HealthState::Degraded => http::StatusCode::OK,
            HealthState::NotReady => http::StatusCode::SERVICE_UNAVAILABLE,
        };
        let mut response = http::Response::new(B::from(self.to_json()));
        *response.status_mut() = status;
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        response
    }
}
