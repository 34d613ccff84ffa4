//! Configuration from environment variables, shared by the examples. Error messages name the
//! variable and the problem, never its value (some are secrets).
#![allow(dead_code)]

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use tim_callback_auth::rest::{Region, RestClient};
use tim_callback_auth::CallbackToken;

/// A variable that is missing or wrong.
#[derive(Debug)]
pub(crate) struct ConfigError {
    pub(crate) variable: &'static str,
    pub(crate) why: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.variable, self.why)
    }
}

fn var(name: &'static str) -> Result<Option<String>, ConfigError> {
    match std::env::var(name) {
        Ok(v) if v.trim().is_empty() => Ok(None),
        Ok(v) => Ok(Some(v)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(ConfigError {
            variable: name,
            why: "is not valid UTF-8".into(),
        }),
    }
}

fn required(name: &'static str, why: &str) -> Result<String, ConfigError> {
    var(name)?.ok_or_else(|| ConfigError {
        variable: name,
        why: format!("is required {why}"),
    })
}

/// `TIM_SDKAPPID`, if set.
pub(crate) fn sdk_app_id() -> Result<Option<u64>, ConfigError> {
    var("TIM_SDKAPPID")?
        .map(|v| {
            v.trim().parse::<u64>().map_err(|_| ConfigError {
                variable: "TIM_SDKAPPID",
                why: "must be the app's SDKAppID, a decimal number".into(),
            })
        })
        .transpose()
}

/// A REST client from `TIM_SDKAPPID`, `TIM_SECRET_KEY`, `TIM_ADMIN`, `TIM_REGION`, `TIM_API_BASE_URL`.
pub(crate) fn rest_client() -> Result<RestClient, ConfigError> {
    let sdk_app_id = sdk_app_id()?.ok_or(ConfigError {
        variable: "TIM_SDKAPPID",
        why: "is required to call Tencent's API (or set TIM_CALLBACK_TOKEN for a static token)"
            .into(),
    })?;
    let secret_key = required("TIM_SECRET_KEY", "to sign Tencent API calls")?;
    let admin = var("TIM_ADMIN")?.unwrap_or_else(|| "administrator".into());
    if let Err(e) = tim_callback_auth::usersig::validate_identifier(&admin) {
        return Err(ConfigError {
            variable: "TIM_ADMIN",
            why: e.to_string(),
        });
    }
    let region = match var("TIM_API_BASE_URL")? {
        Some(url) => Region::custom(&url).map_err(|e| ConfigError {
            variable: "TIM_API_BASE_URL",
            why: e.to_string(),
        })?,
        None => var("TIM_REGION")?
            .unwrap_or_else(|| "china".into())
            .parse()
            .map_err(|e: tim_callback_auth::rest::ParseRegionError| ConfigError {
                variable: "TIM_REGION",
                why: e.to_string(),
            })?,
    };
    build_client(sdk_app_id, &admin, &secret_key, region).map_err(|(variable, why)| ConfigError {
        variable: variable.unwrap_or("TIM_SECRET_KEY"),
        why,
    })
}

/// `TIM_ALLOW_INSECURE_HTTP=1`: a plain `http://` base URL to a host that is not loopback.
fn allow_insecure_http() -> bool {
    matches!(std::env::var("TIM_ALLOW_INSECURE_HTTP").as_deref(), Ok("1"))
}

/// `TIM_ALLOW_UNSIGNED=1`: start although an app has callback authentication off.
pub(crate) fn allow_unsigned() -> bool {
    matches!(std::env::var("TIM_ALLOW_UNSIGNED").as_deref(), Ok("1"))
}

/// Builds a client; on error, the variable to blame (when it is not the key) and why.
fn build_client(
    sdk_app_id: u64,
    admin: &str,
    secret_key: &str,
    region: Region,
) -> Result<RestClient, (Option<&'static str>, String)> {
    let insecure = region.base_url().starts_with("http://");
    RestClient::builder(sdk_app_id, admin, secret_key)
        .region(region)
        .allow_insecure_http(allow_insecure_http())
        .build()
        .map_err(|e| {
            let why =
                std::error::Error::source(&e).map_or_else(|| e.to_string(), |s| s.to_string());
            if insecure && why.contains("plain http") {
                (
                    Some("TIM_API_BASE_URL"),
                    format!("{why}; set TIM_ALLOW_INSECURE_HTTP=1 to allow it anyway"),
                )
            } else {
                (None, why)
            }
        })
}

/// `TIM_CALLBACK_TOKEN`, if set.
pub(crate) fn static_token() -> Result<Option<CallbackToken>, ConfigError> {
    var("TIM_CALLBACK_TOKEN")?
        .map(|t| {
            CallbackToken::new(&t).map_err(|e| ConfigError {
                variable: "TIM_CALLBACK_TOKEN",
                why: e.to_string(),
            })
        })
        .transpose()
}

/// `TIM_REFRESH_SECS` (default 60).
pub(crate) fn refresh_interval() -> Result<Duration, ConfigError> {
    match var("TIM_REFRESH_SECS")? {
        None => Ok(Duration::from_secs(60)),
        Some(v) => match v.trim().parse::<u64>() {
            Ok(secs) if secs > 0 => Ok(Duration::from_secs(secs)),
            _ => Err(ConfigError {
                variable: "TIM_REFRESH_SECS",
                why: "must be a whole number of seconds greater than 0".into(),
            }),
        },
    }
}

/// `LISTEN_ADDR` (default `127.0.0.1:8080`).
pub(crate) fn listen_addr() -> Result<SocketAddr, ConfigError> {
    var("LISTEN_ADDR")?
        .unwrap_or_else(|| "127.0.0.1:8080".into())
        .parse()
        .map_err(|_| ConfigError {
            variable: "LISTEN_ADDR",
            why: "must be an address and port such as 127.0.0.1:8080 or [::]:8080".into(),
        })
}

/// Logs to stdout, filtered by `RUST_LOG` (default `info`).
pub(crate) fn init_tracing() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
}

/// Prints the error and exits with status 2.
pub(crate) fn exit_with(error: ConfigError) -> ! {
    eprintln!("configuration error: {error}");
    std::process::exit(2)
}

/// Resolves on Ctrl-C or SIGTERM.
pub(crate) async fn shutdown_signal() {
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

/// Where one app of `TIM_APPS` gets its token.
pub(crate) enum AppSource {
    /// A static token (the IM console token).
    Static(CallbackToken),
    /// Tencent's API, polled at this interval.
    Api(RestClient, Duration),
}

/// One entry of the `TIM_APPS` file.
pub(crate) struct AppConfig {
    pub(crate) sdk_app_id: u64,
    pub(crate) source: AppSource,
}

/// The fields of one `TIM_APPS` entry.
const FIELDS: [&str; 9] = [
    "sdkappid",
    "secret_key",
    "secret_key_env",
    "admin",
    "region",
    "api_base_url",
    "callback_token",
    "callback_token_env",
    "refresh_secs",
];

/// One entry of the file, its fields type-checked. Errors name the field and the expected type,
/// never the value (some are secrets).
struct AppEntry {
    sdkappid: u64,
    secret_key: Option<String>,
    secret_key_env: Option<String>,
    admin: Option<String>,
    region: Option<String>,
    api_base_url: Option<String>,
    callback_token: Option<String>,
    callback_token_env: Option<String>,
    refresh_secs: Option<u64>,
}

impl AppEntry {
    fn from_json(value: &serde_json::Value) -> Result<Self, String> {
        let object = value
            .as_object()
            .ok_or("must be a JSON object with the fields of one app")?;
        // The unknown name is not shown: a secret pasted in the wrong place must not be printed.
        if object.keys().any(|k| !FIELDS.contains(&k.as_str())) {
            return Err(format!(
                "has an unknown field (the fields are {})",
                FIELDS.join(", ")
            ));
        }
        let string = |field: &str| match object.get(field) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(format!("field `{field}` must be a string")),
        };
        let number = |field: &str| match object.get(field) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(v) => v
                .as_u64()
                .map(Some)
                .ok_or_else(|| format!("field `{field}` must be a whole number")),
        };
        Ok(Self {
            sdkappid: number("sdkappid")?
                .ok_or("field `sdkappid` is required (the app's SDKAppID, a number)")?,
            secret_key: string("secret_key")?,
            secret_key_env: string("secret_key_env")?,
            admin: string("admin")?,
            region: string("region")?,
            api_base_url: string("api_base_url")?,
            callback_token: string("callback_token")?,
            callback_token_env: string("callback_token_env")?,
            refresh_secs: number("refresh_secs")?,
        })
    }
}

/// `TIM_APPS`: the path of a JSON file with one entry per app, e.g.
///
/// ```json
/// [
///   {"sdkappid": 1400000000, "secret_key_env": "TIM_SECRET_KEY_A", "region": "singapore"},
///   {"sdkappid": 1400000001, "callback_token_env": "TIM_CALLBACK_TOKEN_B"}
/// ]
/// ```
///
/// Fields: `sdkappid` (required); the token from the API with `secret_key_env` (the name of an
/// environment variable holding the key; `secret_key` inline is accepted but keeps a secret in a
/// file), `admin` (default `administrator`), `region` or `api_base_url`, `refresh_secs` (default 60);
/// or a static token with `callback_token_env` (or `callback_token`).
pub(crate) fn apps_file() -> Result<Option<Vec<AppConfig>>, ConfigError> {
    let Some(path) = var("TIM_APPS")? else {
        return Ok(None);
    };
    let bad = |why: String| ConfigError {
        variable: "TIM_APPS",
        why,
    };
    let text =
        std::fs::read_to_string(&path).map_err(|e| bad(format!("cannot read {path}: {e}")))?;
    // Syntax errors are reported by position only: serde's messages may quote the text.
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        bad(format!(
            "{path} is not a JSON list of apps (invalid JSON at line {}, column {})",
            e.line(),
            e.column()
        ))
    })?;
    let list = json
        .as_array()
        .ok_or_else(|| bad(format!("{path} is not a JSON list of apps")))?;
    if list.is_empty() {
        return Err(bad(format!("{path} lists no app")));
    }
    let mut seen = std::collections::HashSet::new();
    let mut apps = Vec::new();
    for (i, value) in list.iter().enumerate() {
        let entry =
            AppEntry::from_json(value).map_err(|why| bad(format!("entry {}: {why}", i + 1)))?;
        let id = entry.sdkappid;
        let at = |why: &str| bad(format!("entry {} (sdkappid {id}): {why}", i + 1));
        if !seen.insert(id) {
            return Err(at("this sdkappid is listed twice"));
        }
        let from_env =
            |name: &Option<String>, inline: &Option<String>, what: &str| match (name, inline) {
                (Some(name), _) => match std::env::var(name) {
                    Ok(v) if !v.is_empty() => Ok(Some(v)),
                    // The name is not shown: it may be a secret pasted into the wrong field.
                    _ => Err(at(&format!(
                        "the environment variable that {what}_env names is not set"
                    ))),
                },
                (None, Some(v)) => Ok(Some(v.clone())),
                (None, None) => Ok(None),
            };
        let token = from_env(
            &entry.callback_token_env,
            &entry.callback_token,
            "callback_token",
        )?;
        let key = from_env(&entry.secret_key_env, &entry.secret_key, "secret_key")?;
        let source = match (token, key) {
            (Some(_), Some(_)) => {
                return Err(at("give either a callback token or a secret key, not both"))
            }
            (None, None) => return Err(at("needs secret_key_env (the API) or callback_token_env")),
            (Some(token), None) => AppSource::Static(
                CallbackToken::new(&token).map_err(|e| at(&format!("callback token: {e}")))?,
            ),
            (None, Some(key)) => {
                let admin = entry.admin.unwrap_or_else(|| "administrator".into());
                let region =
                    match (&entry.api_base_url, &entry.region) {
                        (Some(url), _) => Region::custom(url).map_err(|e| at(&e.to_string()))?,
                        (None, Some(name)) => name.parse().map_err(
                            |e: tim_callback_auth::rest::ParseRegionError| at(&e.to_string()),
                        )?,
                        (None, None) => Region::China,
                    };
                let client = build_client(id, &admin, &key, region).map_err(|(_, why)| at(&why))?;
                let secs = entry.refresh_secs.unwrap_or(60);
                if secs == 0 {
                    return Err(at("refresh_secs must be greater than 0"));
                }
                AppSource::Api(client, Duration::from_secs(secs))
            }
        };
        apps.push(AppConfig {
            sdk_app_id: id,
            source,
        });
    }
    Ok(Some(apps))
}
