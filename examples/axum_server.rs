//! A production-style callback receiver on axum, configured by environment variables.
//!
//! ```sh
//! TIM_SDKAPPID=1400000000 TIM_SECRET_KEY=... TIM_REGION=singapore cargo run --example axum_server
//! TIM_CALLBACK_TOKEN=console-token TIM_SDKAPPID=1400000000 cargo run --example axum_server
//! ```
//!
//! See README.md ("Running the example server") for every variable. Invalid configuration prints
//! which variable is wrong and why, and exits with status 2.

#[path = "support/config.rs"]
mod config;

use axum::routing::post;
use axum::Router;
use tim_callback_auth::refresh::{StaticSource, TokenRefresher};
use tim_callback_auth::{CallbackAuthLayer, TokenSnapshot, Verifier};

const TENCENT_OK: &str = r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}"#;

async fn callback(body: String) -> &'static str {
    // Your business logic goes here. The body is untrusted beyond the Sign: see README's security notes.
    tracing::info!(bytes = body.len(), "verified callback");
    TENCENT_OK
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();

    let listen = config::listen_addr().unwrap_or_else(|e| config::exit_with(e));
    let interval = config::refresh_interval().unwrap_or_else(|e| config::exit_with(e));
    let app_id = config::sdk_app_id().unwrap_or_else(|e| config::exit_with(e));
    let static_token = config::static_token().unwrap_or_else(|e| config::exit_with(e));

    let started = match static_token {
        Some(token) => {
            tracing::info!(fingerprint = %token.fingerprint(), "using the static callback token");
            TokenRefresher::builder(StaticSource::new(TokenSnapshot::enabled(token)))
                .start()
                .await
        }
        None => {
            let client = config::rest_client().unwrap_or_else(|e| config::exit_with(e));
            tracing::info!(region = %client.region(), "fetching the callback token from tencent's api");
            TokenRefresher::builder(client)
                .interval(interval)
                .start()
                .await
        }
    };
    let refresher = match started {
        Ok(refresher) => refresher,
        Err(error) => {
            eprintln!("could not load the callback token: {error}");
            std::process::exit(1);
        }
    };

    let mut verifier = Verifier::new();
    if let Some(app_id) = app_id {
        verifier = verifier.with_app_id(app_id);
    }
    let app = Router::new()
        .route("/im/callback", post(callback))
        .layer(CallbackAuthLayer::new(refresher.handle()).with_verifier(verifier));

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
