//! The refresh handle without tower: a refresher, its status, and your own verification call.
//!
//! ```sh
//! cargo run --example standalone_refresher                       # against an embedded mock API
//! TIM_SDKAPPID=1400000000 TIM_SECRET_KEY=... cargo run --example standalone_refresher
//! ```
//!
//! It prints each status change and shows tokens only as fingerprints (8 hex digits of SHA-256).
//! With no `TIM_SECRET_KEY` it starts the same mock as the demo, rotates the token twice and stops.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tim_callback_app::rest_client_from_env;
use tim_callback_auth::refresh::TokenRefresher;
use tim_callback_auth::rest::{Region, RestClient};
use tim_callback_auth::{TokenSnapshot, Verifier};

fn describe(snapshot: Option<&TokenSnapshot>) -> String {
    match snapshot {
        None => "no token yet".into(),
        Some(s) => match (s.current(), s.previous()) {
            (None, _) => "authentication disabled".into(),
            (Some(c), None) => format!("token {}", c.fingerprint()),
            (Some(c), Some((p, until))) => {
                format!(
                    "token {} (previous {} until {until})",
                    c.fingerprint(),
                    p.fingerprint()
                )
            }
        },
    }
}

#[tokio::main]
async fn main() {
    let embedded = std::env::var_os("TIM_SECRET_KEY").is_none();
    let (client, api) = if embedded {
        let api = tim_callback_mock::mock::MockApi::start("standalone-token-1").await;
        let client = RestClient::builder(
            tim_callback_mock::mock::SDK_APP_ID,
            tim_callback_mock::mock::SECRET_KEY,
        )
        .admin(tim_callback_mock::mock::ADMIN)
        .region(Region::custom(&api.base_url()).expect("local url"))
        .build()
        .expect("valid client");
        println!(
            "using an embedded mock of Tencent's API at {}",
            api.base_url()
        );
        (client, Some(api))
    } else {
        let client = rest_client_from_env().unwrap_or_else(|e| {
            eprintln!("configuration error: {e}");
            std::process::exit(2)
        });
        (client, None)
    };
    let interval = Duration::from_secs(if embedded { 1 } else { 60 });

    let refresher = TokenRefresher::builder(client).interval(interval).spawn();
    let handle = refresher.handle();
    let app = refresher.app_id().expect("a REST client names its app");
    let mut last = String::new();
    for tick in 0u32.. {
        let snapshot = handle.load();
        let now_desc = describe(snapshot.as_deref());
        if now_desc != last {
            let status = refresher.status();
            println!(
                "{now_desc}; fetches {}, failures {}, changes {}",
                status.fetches(),
                status.consecutive_failures(),
                status.changes()
            );
            last = now_desc;
        }
        // Verification without tower: one load, one call.
        if let (Some(snapshot), Some(token)) =
            (&snapshot, snapshot.as_ref().and_then(|s| s.current()))
        {
            let t = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let query = format!("SdkAppid={app}&Sign={}&RequestTime={t}", token.sign(t));
            assert!(Verifier::new().verify(snapshot, &query, t).is_ok());
        }
        if let Some(api) = &api {
            match tick {
                15 => api.set_token(Some("standalone-token-2"), true),
                30 => api.set_token(Some("standalone-token-3"), true),
                45 => break,
                _ => {}
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
