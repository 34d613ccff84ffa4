//! The gateway: verified Tencent callbacks forwarded to your backend, re-signed in the Standard
//! Webhooks format. Every variable is in `tim_callback_app::gateway`'s docs (README, "The
//! gateway").
//!
//! ```sh
//! TIM_CALLBACK_TOKEN=… TIM_SDKAPPID=1400000000 TIM_UPSTREAM_URL=http://127.0.0.1:3000/tencent \
//! TIM_UPSTREAM_SECRET=whsec_… cargo run --release --bin tim-callback-gateway
//! ```
//!
//! A configuration error names the variable and exits with status 2; a token that cannot be
//! loaded, status 1; SIGTERM or Ctrl-C drain in-flight requests and exit 0.

use tim_callback_app::gateway::{install_metrics, GatewayConfig};
use tim_callback_app::server::{admin_addr, init_tracing_from_env, listen_addr, shutdown_signal};
use tim_callback_app::ConfigError;

fn exit(error: ConfigError) -> ! {
    eprintln!("configuration error: {error}");
    std::process::exit(if error.is_invalid() { 2 } else { 1 })
}

async fn bind(addr: std::net::SocketAddr, variable: &str) -> tokio::net::TcpListener {
    tokio::net::TcpListener::bind(addr)
        .await
        .unwrap_or_else(|e| {
            eprintln!("could not listen on {addr} ({variable}): {e}");
            std::process::exit(1)
        })
}

#[tokio::main]
async fn main() {
    init_tracing_from_env().unwrap_or_else(|e| exit(e));
    install_metrics();
    let listen = listen_addr().unwrap_or_else(|e| exit(e));
    let admin = admin_addr().unwrap_or_else(|e| exit(e));
    let config = GatewayConfig::from_env().unwrap_or_else(|e| exit(e));
    let gateway = config.start().await.unwrap_or_else(|e| exit(e));
    let listener = bind(listen, "LISTEN_ADDR").await;
    let admin = match admin {
        Some(addr) => Some(bind(addr, "ADMIN_LISTEN_ADDR").await),
        None => None,
    };
    tracing::info!(
        addr = %listener.local_addr().map_or(listen, |a| a),
        admin = ?admin.as_ref().and_then(|a| a.local_addr().ok()),
        "gateway listening"
    );
    if let Err(error) = gateway.serve(listener, admin, shutdown_signal()).await {
        eprintln!("server error: {error}");
        std::process::exit(1);
    }
    tracing::info!("shut down");
}
