//! A production-style callback receiver on axum, configured by environment variables.
//!
//! ```sh
//! TIM_SDKAPPID=1400000000 TIM_SECRET_KEY=... TIM_REGION=singapore cargo run --example axum_server
//! TIM_CALLBACK_TOKEN=console-token TIM_SDKAPPID=1400000000 cargo run --example axum_server
//! TIM_APPS=apps.json cargo run --example axum_server         # several apps (README)
//! ```
//!
//! Every variable is in `tim_callback_app::Config`'s docs (and README "Running the example
//! server"); `LISTEN_ADDR` (default `127.0.0.1:8080`) is the server's own. A configuration error
//! names the variable and exits with status 2; a token that cannot be loaded, status 1.
//! `GET /healthz` answers readiness; Ctrl-C or SIGTERM shut down gracefully. With
//! `TIM_TRTC_CALLBACK_KEY` (or `trtc_callback_key_env` in `TIM_APPS`), TRTC event callbacks are
//! verified on `POST /trtc/callback` too.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::routing::{get, post};
use axum::{Extension, Router};
use tim_callback_app::server::{init_tracing, listen_addr, shutdown_signal};
use tim_callback_app::{Config, ConfigError};
use tim_callback_auth::trtc::VerifiedTrtcEvent;
use tim_callback_auth::{Reply, VerifiedCallback};

async fn callback(Extension(verified): Extension<VerifiedCallback>, body: String) -> Reply {
    // Your business logic goes here. Take the app and the time from `verified`, never from the
    // query; the body and the other parameters are not covered by the Sign (README, security).
    tracing::info!(
        app = verified.app_id(),
        time = verified.request_time(),
        bytes = body.len(),
        "verified callback"
    );
    Reply::ok()
}

async fn trtc_event(Extension(event): Extension<VerifiedTrtcEvent>, body: String) -> Reply {
    // `body` is the very bytes whose Sign was verified: parse `EventInfo` from it. Keep side
    // effects idempotent: a late answer makes Tencent send the event again (README, TRTC).
    let (group, kind) = (event.event_group_id(), event.event_type());
    tracing::info!(
        app = event.app_id(),
        group,
        kind,
        bytes = body.len(),
        "verified trtc event"
    );
    Reply::trtc_ok()
}

fn exit(error: ConfigError) -> ! {
    eprintln!("configuration error: {error}");
    std::process::exit(if error.is_invalid() { 2 } else { 1 })
}

#[tokio::main]
async fn main() {
    init_tracing();
    let listen = listen_addr().unwrap_or_else(|e| exit(e));
    let config = Config::from_env().unwrap_or_else(|e| exit(e));
    let running = config.start().await.unwrap_or_else(|e| exit(e));

    let layer = running.layer();
    let trtc_layer = running.trtc_layer();
    // `running` keeps the refreshers alive: the health route owns it as long as the server runs.
    let running = Arc::new(running);
    let health = move || {
        let running = Arc::clone(&running);
        async move {
            running
                .health(Duration::from_secs(300))
                .to_response::<Body>()
        }
    };
    let mut app = Router::new()
        .route("/im/callback", post(callback))
        .layer(layer);
    if let Some(trtc_layer) = trtc_layer {
        // On this route only: the Chat layer above does not see TRTC events, nor this one the
        // other routes.
        app = app.route("/trtc/callback", post(trtc_event).layer(trtc_layer));
        tracing::info!("trtc event callbacks on POST /trtc/callback");
    }
    let app = app.route("/healthz", get(health));

    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .unwrap_or_else(|e| {
            eprintln!("could not listen on {listen} (LISTEN_ADDR): {e}");
            std::process::exit(1)
        });
    tracing::info!(addr = %listener.local_addr().map_or(listen, |a| a), "listening on POST /im/callback");
    // With the peer address in each request (`ConnectInfo`): the source allowlist reads it.
    let app = app.into_make_service_with_connect_info::<SocketAddr>();
    if let Err(error) = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
    {
        eprintln!("server error: {error}");
        std::process::exit(1);
    }
    tracing::info!("shut down");
}
