//! Plumbing of the example servers (listen address, logs, shutdown): what every server binary
//! needs and the library leaves to the application.

use std::net::SocketAddr;

use crate::ConfigError;

/// `LISTEN_ADDR` (default `127.0.0.1:8080`).
///
/// # Errors
///
/// A [`ConfigError`] naming `LISTEN_ADDR` when it is not an address and port (the value is not
/// echoed).
pub fn listen_addr() -> Result<SocketAddr, ConfigError> {
    listen_addr_from(|name| std::env::var(name).ok())
}

/// [`listen_addr`] with the variables from `vars` instead of the environment.
///
/// # Errors
///
/// As [`listen_addr`].
pub fn listen_addr_from(vars: impl Fn(&str) -> Option<String>) -> Result<SocketAddr, ConfigError> {
    let Some(value) = vars("LISTEN_ADDR") else {
        return Ok(SocketAddr::from(([127, 0, 0, 1], 8080)));
    };
    value.trim().parse().map_err(|_| {
        ConfigError::new(
            "LISTEN_ADDR",
            "must be an address and port such as 127.0.0.1:8080 or [::]:8080",
        )
    })
}

/// Logs to stdout, filtered by `RUST_LOG` (default `info`, with the HTTP stack's connection
/// chatter at `warn`).
pub fn init_tracing() {
    tracing_subscriber::fmt()
        .with_env_filter(
            // `hyper` would match `hyper_server` too (a target prefix): name it.
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                "info,hyper=warn,hyper_util=warn,reqwest=warn,rustls=warn,hyper_server=info".into()
            }),
        )
        .init();
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
