//! A production-style callback receiver on axum, configured by environment variables.
//!
//! ```sh
//! TIM_SDKAPPID=1400000000 TIM_SECRET_KEY=... TIM_REGION=singapore cargo run --example axum_server
//! TIM_CALLBACK_TOKEN=console-token TIM_SDKAPPID=1400000000 cargo run --example axum_server
//! ```
//!
//! Several apps behind the one endpoint: `TIM_APPS=apps.json` (see README.md).
//!
//! See README.md ("Running the example server") for every variable. Invalid configuration prints
//! which variable is wrong and why, and exits with status 2. So does an app whose callback
//! authentication is off at Tencent, unless `TIM_ALLOW_UNSIGNED=1`. `GET /healthz` answers
//! readiness.

#[path = "support/config.rs"]
mod config;

use std::time::Duration;

use axum::body::Body;
use axum::routing::{get, post};
use axum::{Extension, Router};
use tim_callback_auth::refresh::{StaticSource, TokenRefresher};
use tim_callback_auth::{AppSet, CallbackAuthLayer, TokenHandle, TokenSnapshot, VerifiedCallback};

const TENCENT_OK: &str = r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}"#;

async fn callback(Extension(verified): Extension<VerifiedCallback>, body: String) -> &'static str {
    // Your business logic goes here. Take the app and the time from `verified`, never from the
    // query; the body and the other parameters are not covered by the Sign (README, security).
    tracing::info!(
        app = verified.app_id(),
        time = verified.request_time(),
        bytes = body.len(),
        "verified callback"
    );
    TENCENT_OK
}

/// Refuses to serve while some app has authentication off, unless `TIM_ALLOW_UNSIGNED=1`: such
/// an endpoint accepts forged callbacks.
fn refuse_unsigned(apps: &AppSet) {
    let off: Vec<String> = apps
        .app_ids()
        .into_iter()
        .filter(|&id| {
            apps.handle(id)
                .and_then(|h| h.load())
                .is_some_and(|s| !s.is_enabled())
        })
        .map(|id| id.to_string())
        .collect();
    if off.is_empty() {
        return;
    }
    if config::allow_unsigned() {
        tracing::warn!(
            apps = off.join(","),
            "callback authentication is off: unsigned callbacks are accepted (TIM_ALLOW_UNSIGNED=1)"
        );
        return;
    }
    eprintln!(
        "configuration error: TIM_ALLOW_UNSIGNED: callback authentication is off at Tencent for app {} \
         (IsTokenEnable is false, or no token is configured: 100302), so this server would accept \
         unsigned callbacks that anyone can forge. Turn it on: set a token with set_callback_token \
         (`cargo run --example rotate_token` makes a strong one), or give the IM console's callback \
         token in TIM_CALLBACK_TOKEN. To start anyway, set TIM_ALLOW_UNSIGNED=1.",
        off.join(", ")
    );
    std::process::exit(2)
}

fn exit_load(app: u64, error: tim_callback_auth::Error) -> ! {
    eprintln!("could not load the callback token of app {app}: {error}");
    std::process::exit(1)
}

#[tokio::main]
async fn main() {
    config::init_tracing();

    let listen = config::listen_addr().unwrap_or_else(|e| config::exit_with(e));
    let apps_file = config::apps_file().unwrap_or_else(|e| config::exit_with(e));
    let app_id = config::sdk_app_id().unwrap_or_else(|e| config::exit_with(e));

    // One AppSet for every mode with an SDKAppID: it routes by `SdkAppid`, keeps each app's
    // refresher, and answers /healthz.
    let apps = AppSet::new();
    let mut single = None;
    if let Some(entries) = apps_file {
        for entry in entries {
            let id = entry.sdk_app_id;
            match entry.source {
                config::AppSource::Static(token) => {
                    tracing::info!(app = id, fingerprint = %token.fingerprint(), "static callback token");
                    apps.insert(id, TokenHandle::new(TokenSnapshot::enabled(token)));
                }
                config::AppSource::Api(client, interval) => {
                    tracing::info!(app = id, region = %client.region(), "callback token from tencent's api");
                    let refresher = TokenRefresher::builder(client)
                        .app_id(id)
                        .interval(interval)
                        .confirm_disable(true)
                        .start();
                    apps.insert_refresher(id, refresher.await.unwrap_or_else(|e| exit_load(id, e)));
                }
            }
        }
    } else {
        let interval = config::refresh_interval().unwrap_or_else(|e| config::exit_with(e));
        let static_token = config::static_token().unwrap_or_else(|e| config::exit_with(e));
        let refresher = match static_token {
            Some(token) => {
                tracing::info!(fingerprint = %token.fingerprint(), "using the static callback token");
                if app_id.is_none() {
                    tracing::warn!(
                        "TIM_SDKAPPID is not set: callbacks naming any app are accepted with this token"
                    );
                }
                let builder =
                    TokenRefresher::builder(StaticSource::new(TokenSnapshot::enabled(token)));
                match app_id {
                    Some(id) => builder.app_id(id).start().await,
                    None => builder.start().await,
                }
            }
            None => {
                let client = config::rest_client().unwrap_or_else(|e| config::exit_with(e));
                tracing::info!(region = %client.region(), "fetching the callback token from tencent's api");
                let id = client.sdk_app_id();
                TokenRefresher::builder(client)
                    .app_id(id)
                    .interval(interval)
                    // One glitched answer cannot switch verification off.
                    .confirm_disable(true)
                    .start()
                    .await
            }
        }
        .unwrap_or_else(|e| exit_load(app_id.unwrap_or(0), e));
        match app_id {
            Some(id) => apps.insert_refresher(id, refresher),
            None => single = Some(refresher),
        }
    }

    refuse_unsigned(&apps);

    let auth = match &single {
        // A static token without TIM_SDKAPPID: no app to route by, no SdkAppid check.
        Some(refresher) => CallbackAuthLayer::new(refresher.handle()),
        None => CallbackAuthLayer::for_apps(apps.clone()),
    };
    let health = apps.clone();
    let any_app = single.is_some();
    let app = Router::new()
        .route("/im/callback", post(callback))
        .layer(auth)
        .route(
            "/healthz",
            get(move || async move {
                if any_app {
                    // A static token is always loaded.
                    let body = Body::from(r#"{"status":"ready","apps":[]}"#);
                    return http::Response::builder()
                        .header("content-type", "application/json")
                        .body(body)
                        .unwrap_or_default();
                }
                health
                    .health(Duration::from_secs(300))
                    .to_response::<Body>()
            }),
        );

    let listener = match tokio::net::TcpListener::bind(listen).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("could not listen on {listen}: {error}");
            std::process::exit(1);
        }
    };
    tracing::info!(addr = %listener.local_addr().map_or(listen, |a| a), "listening on POST /im/callback");
    if let Err(error) = axum::serve(listener, app)
        .with_graceful_shutdown(config::shutdown_signal())
        .await
    {
        eprintln!("server error: {error}");
        std::process::exit(1);
    }
    tracing::info!("shut down");
}
