//! Readiness: [`Health`] (of an [`AppSet`], with the source allowlist and the TRTC apps; ready to
//! serve at `GET /healthz`), per app [`AppHealth`], and the [`HealthState`] scale.

use std::time::{Duration, SystemTime};

use tim_callback_auth::allowlist::AllowlistHandle;
use tim_callback_auth::AppSet;

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
    pub(crate) refresh_stopped: bool,
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
    /// Whether the app's refresher has stopped (shut down, or its runtime ended): the last
    /// token is served but no longer refreshed, so the app is degraded.
    pub fn refresh_stopped(&self) -> bool {
        self.refresh_stopped
    }
    /// This app's state.
    pub fn state(&self) -> HealthState {
        self.state
    }
}

/// A TRTC app of a [`Health`]: its SDKAppID, and whether a previous key is still accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrtcAppHealth {
    app_id: u64,
    previous_key_accepted: bool,
}

impl TrtcAppHealth {
    /// The app.
    pub fn app_id(&self) -> u64 {
        self.app_id
    }
    /// Whether the app still accepts its previous key (a rotation not yet retired).
    pub fn previous_key_accepted(&self) -> bool {
        self.previous_key_accepted
    }
}

/// The readiness of an [`AppSet`]; serve it at `GET /healthz` with
/// [`Health::to_response`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use tim_callback_app::{Health, HealthState};
/// use tim_callback_auth::{AppSet, CallbackToken, TokenHandle, TokenSnapshot};
///
/// let apps = AppSet::new();
/// assert_eq!(Health::of_apps(&apps, Duration::from_secs(300)).state(), HealthState::NotReady);
/// apps.insert(1400000000, TokenHandle::new(TokenSnapshot::enabled(CallbackToken::new("a-console-token-0123456789")?)));
/// let health = Health::of_apps(&apps, Duration::from_secs(300));
/// assert_eq!(health.state(), HealthState::Ready);
/// let response: http::Response<String> = health.to_response();
/// assert_eq!(response.status(), 200);
/// assert!(response.body().contains(r#""authentication_enabled":true"#));
/// # Ok::<(), tim_callback_auth::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Health {
    pub(crate) state: HealthState,
    pub(crate) apps: Vec<AppHealth>,
    pub(crate) source_allowlist: Option<ListHealth>,
    /// The TRTC apps, when added.
    pub(crate) trtc: Option<Vec<TrtcAppHealth>>,
}

/// The health of a source allowlist (see [`Health::with_source_allowlist`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListHealth {
    entries: Option<usize>,
    age_secs: Option<u64>,
    consecutive_failures: u32,
    refresh_stopped: bool,
    state: HealthState,
}

impl ListHealth {
    /// Entries of the current list (`None` before one is loaded).
    pub fn entries(&self) -> Option<usize> {
        self.entries
    }
    /// Seconds since the list was last fetched successfully (`None` for a static list, or
    /// before the first fetch).
    pub fn age_secs(&self) -> Option<u64> {
        self.age_secs
    }
    /// Failed refreshes since the last success.
    pub fn consecutive_failures(&self) -> u32 {
        self.consecutive_failures
    }
    /// Whether the list's refresher has stopped (the last list is kept, no longer refreshed).
    pub fn refresh_stopped(&self) -> bool {
        self.refresh_stopped
    }
    /// Not ready without a list; degraded while refreshes fail and the list is older than the
    /// threshold; else ready.
    pub fn state(&self) -> HealthState {
        self.state
    }
}

impl Health {
    /// Readiness of `apps`: [`HealthState::Ready`] once every app has a snapshot;
    /// [`HealthState::Degraded`] (still serving the last good token) while some app's refresher
    /// has been failing and its last success is older than `degraded_after`, or has stopped;
    /// [`HealthState::NotReady`] while some app has no snapshot yet, or the set is empty.
    pub fn of_apps(apps: &AppSet, degraded_after: Duration) -> Health {
        let now = SystemTime::now();
        let apps: Vec<AppHealth> = apps
            .app_ids()
            .into_iter()
            .map(|app_id| {
                let snapshot = apps.handle(app_id).and_then(|h| h.load());
                let loaded = snapshot.is_some();
                let (failures, since, stopped) = match apps.refresh_status(app_id) {
                    Some(status) => (
                        status.consecutive_failures(),
                        status
                            .last_success()
                            .map(|t| now.duration_since(t).unwrap_or_default()),
                        status.is_stopped(),
                    ),
                    None => (0, None, false),
                };
                let stale = stopped || failures > 0 && since.is_none_or(|s| s > degraded_after);
                AppHealth {
                    app_id,
                    loaded,
                    authentication_enabled: snapshot.map(|s| s.is_enabled()),
                    consecutive_failures: failures,
                    seconds_since_success: since.map(|s| s.as_secs()),
                    refresh_stopped: stopped,
                    state: if !loaded {
                        HealthState::NotReady
                    } else if stale {
                        HealthState::Degraded
                    } else {
                        HealthState::Ready
                    },
                }
            })
            .collect();
        let state = if apps.is_empty() {
            HealthState::NotReady
        } else {
            apps.iter()
                .map(|a| a.state)
                .max()
                .unwrap_or(HealthState::Ready)
        };
        Health {
            state,
            apps,
            source_allowlist: None,
            trtc: None,
        }
    }

    /// The overall state: the worst of the apps'.
    pub fn state(&self) -> HealthState {
        self.state
    }

    /// Each app's health, by ascending SDKAppID.
    pub fn apps(&self) -> &[AppHealth] {
        &self.apps
    }

    /// The source allowlist's health, when one was added.
    pub fn source_allowlist(&self) -> Option<&ListHealth> {
        self.source_allowlist.as_ref()
    }

    /// The TRTC apps, when added ([`with_trtc_keys`](Self::with_trtc_keys)): each SDKAppID with
    /// whether its previous key is still accepted (a rotation not yet retired).
    pub fn trtc_apps(&self) -> Option<&[TrtcAppHealth]> {
        self.trtc.as_deref()
    }

    /// Adds the TRTC apps of `keys`: their keys are configuration, always loaded, so the state
    /// does not change; the JSON shows which apps still accept a previous key, so a rotation left
    /// unretired is visible.
    #[must_use]
    pub fn with_trtc_keys(mut self, keys: &tim_callback_auth::trtc::TrtcKeys) -> Self {
        self.trtc = Some(
            keys.app_ids()
                .into_iter()
                .map(|app_id| TrtcAppHealth {
                    app_id,
                    previous_key_accepted: keys.has_previous(app_id),
                })
                .collect(),
        );
        self
    }

    /// Adds the source allowlist `list` holds: not ready without a list (callbacks are refused
    /// with 503); for a refreshed list, degraded while its refresher has been failing for longer
    /// than `degraded_after`, or has stopped. The overall state becomes the worse of the two.
    #[must_use]
    pub fn with_source_allowlist(self, list: &AllowlistHandle, degraded_after: Duration) -> Self {
        let status = list.status();
        self.with_list_figures(
            list.load().map(|l| l.len()),
            status.as_ref().and_then(|s| s.age()),
            status.as_ref().map_or(0, |s| s.consecutive_failures()),
            status.as_ref().is_some_and(|s| s.is_stopped()),
            degraded_after,
        )
    }

    /// [`with_source_allowlist`](Self::with_source_allowlist) from the list's figures.
    fn with_list_figures(
        mut self,
        entries: Option<usize>,
        age: Option<Duration>,
        consecutive_failures: u32,
        stopped: bool,
        degraded_after: Duration,
    ) -> Self {
        let stale = stopped || consecutive_failures > 0 && age.is_none_or(|a| a > degraded_after);
        let state = match (entries, stale) {
            (None, _) => HealthState::NotReady,
            (Some(_), true) => HealthState::Degraded,
            (Some(_), false) => HealthState::Ready,
        };
        self.state = self.state.max(state);
        self.source_allowlist = Some(ListHealth {
            entries,
            age_secs: age.map(|a| a.as_secs()),
            consecutive_failures,
            refresh_stopped: stopped,
            state,
        });
        self
    }

    /// A JSON document without any secret:
    /// `{"status":"ready","apps":[{"sdkappid":1400000000,"status":"ready","loaded":true,"authentication_enabled":true,"consecutive_failures":0,"seconds_since_success":12,"refresh_stopped":false}]}`
    /// (`authentication_enabled` is `null` before a snapshot is loaded), with
    /// `"source_allowlist":{"status":"ready","entries":14,"age_secs":30,"consecutive_failures":0,"refresh_stopped":false}`
    /// when one was added, and `"trtc":[{"sdkappid":1400000000,"previous_key_accepted":false}]` with
    /// TRTC apps.
    pub fn to_json(&self) -> String {
        let apps: Vec<String> = self
            .apps
            .iter()
            .map(|a| {
                format!(
                    r#"{{"sdkappid":{},"status":"{}","loaded":{},"authentication_enabled":{},"consecutive_failures":{},"seconds_since_success":{},"refresh_stopped":{}}}"#,
                    a.app_id,
                    a.state.as_str(),
                    a.loaded,
                    a.authentication_enabled
                        .map_or_else(|| "null".to_owned(), |e| e.to_string()),
                    a.consecutive_failures,
                    a.seconds_since_success
                        .map_or_else(|| "null".to_owned(), |s| s.to_string()),
                    a.refresh_stopped
                )
            })
            .collect();
        let list = self.source_allowlist.as_ref().map_or_else(String::new, |l| {
            let or_null = |v: Option<String>| v.unwrap_or_else(|| "null".to_owned());
            format!(
                r#","source_allowlist":{{"status":"{}","entries":{},"age_secs":{},"consecutive_failures":{},"refresh_stopped":{}}}"#,
                l.state.as_str(),
                or_null(l.entries.map(|e| e.to_string())),
                or_null(l.age_secs.map(|a| a.to_string())),
                l.consecutive_failures,
                l.refresh_stopped
            )
        });
        let trtc = self.trtc.as_ref().map_or_else(String::new, |apps| {
            let apps: Vec<String> = apps
                .iter()
                .map(|app| {
                    format!(
                        r#"{{"sdkappid":{},"previous_key_accepted":{}}}"#,
                        app.app_id, app.previous_key_accepted
                    )
                })
                .collect();
            format!(r#","trtc":[{}]"#, apps.join(","))
        });
        format!(
            r#"{{"status":"{}","apps":[{}]{list}{trtc}}}"#,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ready() -> Health {
        Health {
            state: HealthState::Ready,
            apps: Vec::new(),
            source_allowlist: None,
            trtc: None,
        }
    }

    #[test]
    fn a_source_allowlist_makes_the_state_worse_never_better() {
        let threshold = Duration::from_secs(300);
        let fresh =
            ready().with_list_figures(Some(3), Some(Duration::from_secs(30)), 0, false, threshold);
        assert_eq!(fresh.state(), HealthState::Ready);
        assert!(fresh.to_json().ends_with(
            r#","source_allowlist":{"status":"ready","entries":3,"age_secs":30,"consecutive_failures":0,"refresh_stopped":false}}"#
        ));
        let failing_recent =
            ready().with_list_figures(Some(3), Some(Duration::from_secs(30)), 2, false, threshold);
        assert_eq!(failing_recent.state(), HealthState::Ready);
        let stale =
            ready().with_list_figures(Some(3), Some(Duration::from_secs(900)), 2, false, threshold);
        assert_eq!(stale.state(), HealthState::Degraded);
        let stopped =
            ready().with_list_figures(Some(3), Some(Duration::from_secs(30)), 0, true, threshold);
        assert_eq!(stopped.state(), HealthState::Degraded);
        assert!(stopped.to_json().contains(r#""refresh_stopped":true"#));
        let none = ready().with_list_figures(None, None, 1, false, threshold);
        assert_eq!(none.state(), HealthState::NotReady);
        assert!(none.to_json().contains(r#""entries":null"#));
        let mut not_ready = ready();
        not_ready.state = HealthState::NotReady;
        assert_eq!(
            not_ready
                .with_list_figures(Some(1), None, 0, false, threshold)
                .state(),
            HealthState::NotReady
        );
    }
}
