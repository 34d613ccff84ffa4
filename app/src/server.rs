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

/// `ADMIN_LISTEN_ADDR` (default `127.0.0.1:9090`; `off`: no admin listener), the gateway's
/// detailed health and `/metrics`.
///
/// # Errors
///
/// A [`ConfigError`] naming `ADMIN_LISTEN_ADDR` when it is neither `off` nor an address and port.
pub fn admin_addr() -> Result<Option<SocketAddr>, ConfigError> {
    admin_addr_from(|name| std::env::var(name).ok())
}

/// [`admin_addr`] with the variables from `vars` instead of the environment.
///
/// # Errors
///
/// As [`admin_addr`].
pub fn admin_addr_from(
    vars: impl Fn(&str) -> Option<String>,
) -> Result<Option<SocketAddr>, ConfigError> {
    match vars("ADMIN_LISTEN_ADDR").as_deref().map(str::trim) {
        None | Some("") => Ok(Some(SocketAddr::from(([127, 0, 0, 1], 9090)))),
        Some("off") => Ok(None),
        Some(value) => value.parse().map(Some).map_err(|_| {
            ConfigError::new(
                "ADMIN_LISTEN_ADDR",
                "must be off, or an address and port such as 127.0.0.1:9090",
            )
        }),
    }
}

fn filter() -> tracing_subscriber::EnvFilter {
    // `hyper` would match `hyper_server` too (a target prefix): name it.
    tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        "info,hyper=warn,hyper_util=warn,reqwest=warn,rustls=warn,hyper_server=info".into()
    })
}

/// Logs to stdout, filtered by `RUST_LOG` (default `info`, with the HTTP stack's connection
/// chatter at `warn`).
pub fn init_tracing() {
    tracing_subscriber::fmt().with_env_filter(filter()).init();
}

/// [`init_tracing`], as `TIM_LOG_FORMAT` says: `text` (default) or `json` (one JSON object per
/// line).
///
/// # Errors
///
/// A [`ConfigError`] naming `TIM_LOG_FORMAT` when it is neither.
pub fn init_tracing_from_env() -> Result<(), ConfigError> {
    match std::env::var("TIM_LOG_FORMAT")
        .ok()
        .as_deref()
        .map(str::trim)
    {
        None | Some("" | "text") => init_tracing(),
        Some("json") => tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter())
            .init(),
        Some(_) => return Err(ConfigError::new("TIM_LOG_FORMAT", "must be text or json")),
    }
    Ok(())
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
