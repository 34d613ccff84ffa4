//! Readiness of a set of apps: the transitions a load balancer sees, and what the JSON shows.

use std::time::{Duration, Instant};

use tim_callback_app::{Health, HealthState};
use tim_callback_auth::refresh::TokenRefresher;
use tim_callback_auth::rest::{Region, RestClient};
use tim_callback_auth::{AppSet, CallbackToken, TokenHandle, TokenSnapshot};
use tim_callback_mock::mock::{MockApi, Reply, ADMIN, SECRET_KEY};

const APP_A: u64 = 1400000001;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_goes_not_ready_ready_degraded_ready() {
    let apps = AppSet::new();
    assert_eq!(
        Health::of_apps(&apps, Duration::from_secs(1)).state(),
        HealthState::NotReady,
        "no app"
    );

    let api = MockApi::start_for(APP_A, ADMIN, SECRET_KEY, Some("a-1"), true).await;
    api.script([Reply::Delay(
        Duration::from_millis(300),
        Box::new(Reply::Real),
    )]);
    let client = RestClient::builder(APP_A, SECRET_KEY)
        .admin(ADMIN)
        .region(Region::custom(&api.base_url()).unwrap())
        .request_timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let refresher = TokenRefresher::builder(client)
        .interval(Duration::from_millis(100))
        .jitter(0.0)
        .backoff(Duration::from_millis(50), Duration::from_millis(100))
        .spawn();
    apps.insert_refresher(refresher).unwrap();
    let threshold = Duration::from_millis(1500);
    let health = Health::of_apps(&apps, threshold);
    assert_eq!(health.state(), HealthState::NotReady);
    assert_eq!(health.to_response::<String>().status(), 503);

    let wait_for = |state: HealthState, limit: Duration| {
        let apps = apps.clone();
        async move {
            let started = Instant::now();
            while Health::of_apps(&apps, threshold).state() != state {
                assert!(started.elapsed() < limit, "never reached {state:?}");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    wait_for(HealthState::Ready, Duration::from_secs(3)).await;
    api.set_fallback(Reply::Status(502, "<html/>"));
    // Failing, but not for longer than the threshold yet: still ready.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        Health::of_apps(&apps, threshold).state(),
        HealthState::Ready
    );
    wait_for(HealthState::Degraded, Duration::from_secs(4)).await;
    let health = Health::of_apps(&apps, threshold);
    assert_eq!(
        health.to_response::<String>().status(),
        200,
        "degraded still serves"
    );
    let json = health.to_json();
    assert!(json.contains(r#""status":"degraded""#), "{json}");
    assert!(!json.contains("a-1") && !json.contains(SECRET_KEY));
    api.set_fallback(Reply::Real);
    wait_for(HealthState::Ready, Duration::from_secs(3)).await;
}

#[test]
fn authentication_off_shows_in_the_health_of_an_app() {
    let apps = AppSet::new();
    apps.insert(APP_A, TokenHandle::new(TokenSnapshot::disabled()));
    let health = Health::of_apps(&apps, Duration::from_secs(300));
    assert_eq!(health.apps()[0].authentication_enabled(), Some(false));
    assert!(
        health
            .to_json()
            .contains(r#""authentication_enabled":false"#),
        "{}",
        health.to_json()
    );
    apps.insert(
        APP_A,
        TokenHandle::new(TokenSnapshot::enabled(
            CallbackToken::new("a-console-token-0123456789").unwrap(),
        )),
    );
    let health = Health::of_apps(&apps, Duration::from_secs(300));
    assert_eq!(health.state(), HealthState::Ready);
    assert!(health
        .to_json()
        .contains(r#""authentication_enabled":true"#));
    assert!(!health.to_json().contains("a-console-token"));
}

#[tokio::test]
async fn a_stopped_refresher_shows_as_degraded() {
    let snapshot =
        TokenSnapshot::enabled(CallbackToken::new("a-console-token-0123456789").unwrap());
    let refresher = TokenRefresher::builder(snapshot)
        .app_id(APP_A)
        .start()
        .await
        .unwrap();
    let apps = AppSet::new();
    apps.insert(APP_A, refresher.handle());
    let health = Health::of_apps(&apps, Duration::from_secs(300));
    assert_eq!(health.state(), HealthState::Ready);
    assert!(!health.apps()[0].refresh_stopped());
    refresher.shutdown();
    let health = Health::of_apps(&apps, Duration::from_secs(300));
    assert_eq!(health.state(), HealthState::Degraded);
    assert!(health.apps()[0].refresh_stopped());
    assert!(
        health.to_json().contains(r#""refresh_stopped":true"#),
        "{}",
        health.to_json()
    );
}
