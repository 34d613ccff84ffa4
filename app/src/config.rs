//! Configuration from environment variables (and a `TIM_APPS` JSON file), as a library: a
//! server is a few lines (`Config::from_env()?.start().await?.layer()`), and every error names the
//! variable to fix without ever printing a value (some are secrets).
//!
//! | variable | meaning |
//! |---|---|
//! | `TIM_SDKAPPID` | the app's SDKAppID (required with `TIM_SECRET_KEY`; with a static token it enables the `SdkAppid` check) |
//! | `TIM_SECRET_KEY` | the app's secret key: the token comes from Tencent's API |
//! | `TIM_ADMIN` | the App admin identifier (default `administrator`) |
//! | `TIM_REGION` | `china`, `singapore`, `korea`, `japan`, `germany`, `india`, `usa`, `indonesia` (default `china`) |
//! | `TIM_API_BASE_URL` | a custom base URL instead of the region (a proxy, or `http://127.0.0.1:PORT` for a mock) |
//! | `TIM_ALLOW_INSECURE_HTTP` | `1`: allow a plain `http://` base URL to a host that is not loopback |
//! | `TIM_CALLBACK_TOKEN` | a static token instead of the API (the IM console's token) |
//! | `TIM_REFRESH_SECS` | seconds between fetches (default 60) |
//! | `TIM_APPS` | the path of a JSON file with one entry per app (below); replaces the variables above (setting one of them too is an error) |
//! | `TIM_ALLOW_UNSIGNED` | `1`: start although an app has callback authentication off |
//! | `TIM_SOURCE_IPS` | `off` (default); `tencent`: only Tencent's webhook egress addresses, fetched with `GetIPList` and kept fresh; or a comma-separated list of addresses and CIDR ranges |
//! | `TIM_SOURCE_IPS_NETTYPE` | with `tencent`: `5` (inside China) or `6` (outside); default `5` for the `china` region, else `6` |
//! | `TIM_SOURCE_IPS_REFRESH_SECS` | with `tencent`: seconds between fetches of the list (default 600) |
//! | `TIM_TRTC_CALLBACK_KEY` | the TRTC console's callback key: TRTC event callbacks are verified too ([`Running::trtc_layer`]; needs `TIM_SDKAPPID`) |
//! | `TIM_TRTC_CALLBACK_KEY_PREVIOUS` | during a key rotation, the old TRTC key, accepted alongside the new one |
//! | `TIM_TRUSTED_PROXY_HOPS` | how many trusted reverse proxies append to `X-Forwarded-For` in front of the server (default 0: the TCP peer is the caller) |
//! | `TIM_REDIS_URL` | the fleet on Redis (`redis://[:password@]host:port/db`, `rediss://…` with TLS, or `unix:///path.sock?pass=…`): the instances share one token fetch per app, one lease holder calling Tencent ([`tim_callback_fleet`]); the URL is never shown |
//! | `TIM_REDIS_CA_FILE` | with `rediss://`: a PEM file of the CA that signed Redis's certificate, instead of the system's roots |
//! | `TIM_REDIS_PREFIX` | with `TIM_REDIS_URL`: the prefix of every key and channel (default `tim:`; one per deployment sharing a Redis) |
//! | `TIM_INSTANCE_ID` | with `TIM_REDIS_URL`: this instance's id in the fleet (default `HOSTNAME` when it is a valid id, else one made at start) |
//!
//! A `TIM_APPS` entry: `sdkappid` (required), then either the API (`secret_key_env`: the name of the
//! variable holding the key, `admin`, `region` or `api_base_url`, `refresh_secs`) or a static token
//! (`callback_token_env`), and optionally `trtc_callback_key_env` (the variable holding the app's
//! TRTC callback key). `secret_key`, `callback_token` and `trtc_callback_key` inline are accepted
//! but keep a secret in a file.
//!
//! # Mistakes it names
//!
//! Every error names the variable (or the `TIM_APPS` entry and field) and never shows a value:
//! none of a variable, nor `TIM_APPS`'s path, nor the file's text, nor a `TIM_SOURCE_IPS` entry
//! (named by its position). Names are shown only when they have the shape of one: an unknown
//! field when it is a near miss of a field (`secret_key_evn`: "did you mean `secret_key_env`?"),
//! the variable an `*_env` field names when it looks like a variable name (`TIM_TOKEN_B`); a
//! secret pasted where a name belongs rarely does, and is not shown.
//!
//! - `TIM_APPS` holding the JSON itself instead of a path is refused (the value looks like JSON;
//!   it is not shown, as it may hold a secret key): write the list to a file and give its path.
//! - Two modes at once are errors: `TIM_CALLBACK_TOKEN` with `TIM_SECRET_KEY` or
//!   `TIM_API_BASE_URL` (in an entry, a callback token with `secret_key_env` or `api_base_url`),
//!   and `TIM_APPS` with any single-app variable (except one an entry names, as
//!   `"secret_key_env": "TIM_SECRET_KEY"`).
//! - A setting that does nothing where it is, is logged at `WARN` naming it, once per load:
//!   `TIM_REGION`, `TIM_ADMIN` or `TIM_REFRESH_SECS` with a static token (in an entry, `region`,
//!   `admin` or `refresh_secs` with a callback token), `TIM_REGION` with `TIM_API_BASE_URL` (in
//!   an entry, `region` with `api_base_url`), and `TIM_TRUSTED_PROXY_HOPS` while `TIM_SOURCE_IPS`
//!   is off.
//! - A token or a key (`TIM_CALLBACK_TOKEN`, `TIM_SECRET_KEY`, the TRTC keys, the variables the
//!   entries name and their inline values) with white space before or after it is refused, not
//!   trimmed: Tencent's have none, and a trailing newline (`echo` into a Kubernetes secret) would
//!   make every signature mismatch. Set but empty, it is named as empty (`TIM_CALLBACK_TOKEN=` is
//!   not a missing `TIM_SECRET_KEY`). Other settings read blank as unset.
//! - A source allowlist that allows every address (`0.0.0.0/0`, `::/0`) is refused by
//!   [`IpAllowlist`]: to accept every source, leave `TIM_SOURCE_IPS` off.
//!
//! ```json
//! [
//!   {"sdkappid": 1400000000, "secret_key_env": "TIM_SECRET_KEY_A", "region": "singapore"},
//!   {"sdkappid": 1400000001, "callback_token_env": "TIM_CONSOLE_TOKEN_B",
//!    "trtc_callback_key_env": "TIM_TRTC_KEY_B"}
//! ]
//! ```
//!
//! [`Config::start`] loads every app (waiting for each first token) and refuses to start while an
//! app has authentication off at Tencent (`IsTokenEnable: false`, or no token: 100302), unless
//! `TIM_ALLOW_UNSIGNED=1`: such an endpoint accepts forged callbacks. A switch to off after the
//! start is followed, as the protocol says, once a second fetch confirms it
//! ([`confirm_disable`](tim_callback_auth::refresh::RefresherBuilder::confirm_disable)), and shows in the
//! health and the metrics.
//!
//! # Examples
//!
//! ```
//! use tim_callback_app::Config;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), tim_callback_app::ConfigError> {
//! // `Config::from_env()` in a server; here, the variables as a function.
//! let vars = |name: &str| match name {
//!     "TIM_CALLBACK_TOKEN" => Some("a-console-token-0123456789abcdef".to_owned()),
//!     "TIM_SDKAPPID" => Some("1400000000".to_owned()),
//!     _ => None,
//! };
//! let running = Config::from_vars(vars)?.start().await?;
//! let layer = running.layer(); // for axum's Router::layer, or tower's ServiceBuilder
//! # let _ = layer;
//! assert_eq!(running.apps().app_ids(), vec![1400000000]);
//!
//! let error = Config::from_vars(|name| (name == "TIM_SDKAPPID").then(|| "12x".to_owned())).unwrap_err();
//! assert_eq!(error.variable(), "TIM_SDKAPPID");
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::time::Duration;

use crate::health::{Health, HealthState};
use tim_callback_auth::allowlist::{AllowlistFilter, AllowlistHandle, ClientAddress, IpAllowlist};
use tim_callback_auth::refresh::{AllowlistRefresher, TokenRefresher};
use tim_callback_auth::rest::{Region, RestClient, WebhookNetwork};
use tim_callback_auth::trtc::{TrtcCallbackAuthLayer, TrtcKey, TrtcKeys};
use tim_callback_auth::AppSet;
use tim_callback_auth::CallbackAuthLayer;
use tim_callback_auth::{CallbackToken, TokenSnapshot};
use tim_callback_auth::{Error, ErrorKind};

/// Where one app gets its token.
#[derive(Debug)]
enum TokenSource {
    /// A static token (the IM console's).
    Static(CallbackToken),
    /// Tencent's API, polled at this interval.
    Api(RestClient, Duration),
}

/// One app, as configured; `where_` names what to fix for it (`TIM_SECRET_KEY`, `entry 2 of
/// TIM_APPS`).
#[derive(Debug)]
struct App {
    sdk_app_id: Option<u64>,
    token: TokenSource,
    origin: Origin,
    /// The TRTC callback key, and a previous one during a rotation.
    trtc: Option<(TrtcKey, Option<TrtcKey>)>,
    /// What the gateway forwards this app's callbacks to, when its `TIM_APPS` entry says.
    upstream: AppUpstream,
}

/// An app's own upstream (`upstream`, `upstream_secret_env` in its `TIM_APPS` entry), read by the
/// gateway; a server that does not forward warns that they do nothing. `Debug` shows whether a
/// secret is set, never the secret.
#[derive(Default)]
pub(crate) struct AppUpstream {
    /// The URL, as given (the gateway checks it).
    pub(crate) url: Option<String>,
    /// The Standard Webhooks secret(s), as given (the gateway checks them).
    pub(crate) secret: Option<String>,
}

impl fmt::Debug for AppUpstream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppUpstream")
            .field("url", &self.url)
            .field("secret", &self.secret.as_ref().map(|_| "redacted"))
            .finish()
    }
}

/// Where an app's settings came from, for error messages.
#[derive(Debug, Clone)]
enum Origin {
    /// The single-app variables.
    Variables { api_base_url: bool },
    /// Entry `n` (from 1) of the `TIM_APPS` file.
    Entry(usize),
}

/// `TIM_REDIS_URL` and its companions. `Debug` never shows the URL (it may hold a password).
struct Redis {
    url: String,
    prefix: String,
    instance: Option<String>,
    /// `TIM_REDIS_CA_FILE`'s PEM.
    ca: Option<Vec<u8>>,
}

impl fmt::Debug for Redis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redis")
            .field("url", &"redacted")
            .field("prefix", &self.prefix)
            .field("instance", &self.instance)
            .field("ca", &self.ca.is_some())
            .finish()
    }
}

/// The apps of a server, read from environment variables (see the [module docs](self)).
#[derive(Debug)]
pub struct Config {
    apps: Vec<App>,
    redis: Option<Redis>,
    trtc: Option<TrtcKeys>,
    allow_unsigned: bool,
    source: Source,
    trusted_proxy_hops: usize,
}

/// `TIM_SOURCE_IPS`.
#[derive(Debug)]
enum Source {
    Off,
    Static(IpAllowlist),
    Tencent {
        network: Option<WebhookNetwork>,
        interval: Duration,
    },
}

/// A configuration that could not be read, or a server that could not start: which variable to
/// fix, and why. Never contains the value of a variable (nor the name an entry of `TIM_APPS`
/// gives, unless it has the shape of a field or variable name).
///
/// `Display` is one line: `TIM_SECRET_KEY: is required …`, with the API's error when starting
/// failed on it. `Debug` (what `main` returning `Result<(), Box<dyn Error>>` prints) reads the
/// same, with each cause of the chain once:
///
/// ```
/// let error = tim_callback_app::Config::from_vars(|name| {
///     (name == "TIM_SDKAPPID").then(|| "12x".to_owned())
/// })
/// .unwrap_err();
/// assert_eq!(error.to_string(), "TIM_SDKAPPID: must be the app's SDKAppID, a decimal number");
/// assert_eq!(format!("{error:?}"), error.to_string());
/// ```
pub struct ConfigError {
    variable: String,
    message: String,
    cause: Option<Error>,
}

impl ConfigError {
    pub(crate) fn new(variable: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            variable: variable.into(),
            message: message.into(),
            cause: None,
        }
    }

    /// The variable to fix (`TIM_SECRET_KEY`, `TIM_APPS`, …).
    pub fn variable(&self) -> &str {
        &self.variable
    }

    /// Whether the configuration could not be used at all (a missing or invalid variable; the
    /// example server exits with status 2), rather than the API failing at start (status 1).
    pub fn is_invalid(&self) -> bool {
        self.cause.as_ref().is_none_or(|e| !e.is_retryable())
    }

    /// The error of the API, when starting failed on it.
    pub fn api_error(&self) -> Option<&Error> {
        self.cause.as_ref()
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.variable, self.message)
    }
}

impl fmt::Debug for ConfigError {
    /// `Display`, then each cause of the chain whose text is not shown yet (the message already
    /// carries the API error's, which carries its own causes): every cause once, on one line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut shown = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            let text = cause.to_string();
            if !shown.contains(&text) {
                shown.push_str(": ");
                shown.push_str(&text);
            }
            source = cause.source();
        }
        f.write_str(&shown)
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause.as_ref().map(|e| e as _)
    }
}

/// How variables are read: the value as set (`Ok(None)` when unset).
pub(crate) type Lookup<'a> = dyn Fn(&str) -> Result<Option<String>, ConfigError> + 'a;

pub(crate) fn env_var(name: &str) -> Result<Option<String>, ConfigError> {
    match std::env::var(name) {
        Ok(v) => Ok(Some(v)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(ConfigError::new(name, "is not valid UTF-8")),
    }
}

/// The variables, read two ways: a setting (blank is unset) or a secret (blank is an error, and
/// so is white space around it).
#[derive(Clone, Copy)]
pub(crate) struct Vars<'a> {
    pub(crate) lookup: &'a Lookup<'a>,
}

/// Why a secret is refused when white space surrounds it. The value is never shown.
const SURROUNDING_SPACE: &str = "has white space before or after it (a trailing newline, as \
    `echo` writes into a Kubernetes secret?): Tencent's tokens and keys have none, and every \
    signature made with it would mismatch; remove it (`echo -n`, `printf %s`, `kubectl create \
    secret --from-literal`)";

impl Vars<'_> {
    /// A setting: `None` when unset or blank.
    pub(crate) fn get(&self, name: &str) -> Result<Option<String>, ConfigError> {
        Ok((self.lookup)(name)?.filter(|v| !v.trim().is_empty()))
    }

    /// Whether a setting is set (and not blank).
    pub(crate) fn is_set(&self, name: &str) -> Result<bool, ConfigError> {
        Ok(self.get(name)?.is_some())
    }

    /// A secret (a token or a key): `None` when unset; set but empty, or with white space around
    /// it, is an error that says so (`empty` is what to do instead).
    pub(crate) fn secret(&self, name: &str, empty: &str) -> Result<Option<String>, ConfigError> {
        match (self.lookup)(name)? {
            None => Ok(None),
            Some(value) => check_secret(value, empty)
                .map(Some)
                .map_err(|why| ConfigError::new(name, why)),
        }
    }
}

/// A secret as given: refused when empty or surrounded by white space, never shown.
fn check_secret(value: String, empty: &str) -> Result<String, String> {
    if value.trim().is_empty() {
        Err(format!("is set but empty: {empty}"))
    } else if value.trim() != value {
        Err(SURROUNDING_SPACE.to_owned())
    } else {
        Ok(value)
    }
}

/// A configuration warning: a setting that does nothing where it is. Logged at `WARN`, naming it.
pub(crate) fn warn_unused(variable: &str, why: &str) {
    tracing::warn!(
        variable,
        "{variable} does nothing here and is ignored: {why}"
    );
}

/// The single-app variables, which `TIM_APPS` replaces.
const SINGLE_APP_VARIABLES: [&str; 9] = [
    "TIM_SDKAPPID",
    "TIM_SECRET_KEY",
    "TIM_ADMIN",
    "TIM_REGION",
    "TIM_API_BASE_URL",
    "TIM_CALLBACK_TOKEN",
    "TIM_REFRESH_SECS",
    "TIM_TRTC_CALLBACK_KEY",
    "TIM_TRTC_CALLBACK_KEY_PREVIOUS",
];

impl Config {
    /// Reads the process environment.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the first variable that is missing or invalid.
    pub fn from_env() -> Result<Config, ConfigError> {
        Self::read(Vars { lookup: &env_var })
    }

    /// Reads variables from `vars` (a name to its value, `None` when unset): for tests, or
    /// settings kept elsewhere. A blank value is an unset setting, and an error for a token or a
    /// key, as in the environment.
    ///
    /// # Errors
    ///
    /// As [`from_env`](Self::from_env).
    pub fn from_vars(vars: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        Self::read(Vars {
            lookup: &|name| Ok(vars(name)),
        })
    }

    pub(crate) fn read(vars: Vars<'_>) -> Result<Config, ConfigError> {
        let flag = |name: &str| -> Result<bool, ConfigError> {
            match vars.get(name)?.as_deref().map(str::trim) {
                None | Some("0") => Ok(false),
                Some("1") => Ok(true),
                Some(_) => Err(ConfigError::new(name, "must be 1 or 0")),
            }
        };
        let allow_unsigned = flag("TIM_ALLOW_UNSIGNED")?;
        let allow_insecure_http = flag("TIM_ALLOW_INSECURE_HTTP")?;
        let apps = match vars.get("TIM_APPS")? {
            Some(path) => {
                let (apps, named) = apps_file(vars, &path, allow_insecure_http)?;
                // A variable an entry names (`"secret_key_env": "TIM_SECRET_KEY"`) is in use.
                for name in SINGLE_APP_VARIABLES {
                    if !named.iter().any(|n| n == name) && vars.is_set(name)? {
                        return Err(ConfigError::new(
                            name,
                            "is set together with TIM_APPS, which replaces the single-app \
                             variables: unset it, or describe the app in the TIM_APPS file",
                        ));
                    }
                }
                apps
            }
            None => vec![single_app(vars, allow_insecure_http)?],
        };
        let trtc = if apps.iter().any(|a| a.trtc.is_some()) {
            let keys = TrtcKeys::new();
            for app in &apps {
                if let (Some(id), Some((current, previous))) = (app.sdk_app_id, &app.trtc) {
                    match previous {
                        Some(previous) => {
                            keys.insert_rotating(id, current.clone(), previous.clone())
                        }
                        None => keys.insert(id, current.clone()),
                    }
                    // Only `TIM_APPS` can give two apps keys: two entries with the same key.
                    .map_err(|e| ConfigError::new("TIM_APPS", e.to_string()))?;
                }
            }
            if keys.app_ids().is_empty() {
                return Err(ConfigError::new(
                    "TIM_APPS",
                    "no app has a TRTC callback key",
                ));
            }
            Some(keys)
        } else {
            None
        };
        let number = |name: &str, default: u64, max: u64| -> Result<u64, ConfigError> {
            match vars.get(name)? {
                None => Ok(default),
                Some(v) => match v.trim().parse::<u64>() {
                    Ok(n) if n <= max => Ok(n),
                    _ => Err(ConfigError::new(
                        name,
                        format!("must be a whole number up to {max}"),
                    )),
                },
            }
        };
        let trusted_proxy_hops = number("TIM_TRUSTED_PROXY_HOPS", 0, 16)? as usize;
        let mode = vars.get("TIM_SOURCE_IPS")?;
        let source = match mode.as_deref().map(str::trim) {
            None | Some("off") => Source::Off,
            Some("tencent") => {
                let network =
                    match vars
                        .get("TIM_SOURCE_IPS_NETTYPE")?
                        .as_deref()
                        .map(str::trim)
                    {
                        None => None,
                        Some("5") => Some(WebhookNetwork::China),
                        Some("6") => Some(WebhookNetwork::Outside),
                        Some(_) => return Err(ConfigError::new(
                            "TIM_SOURCE_IPS_NETTYPE",
                            "must be 5 (webhook addresses inside China) or 6 (outside); 0 to 4 \
                             are SDK access addresses, not webhooks",
                        )),
                    };
                let secs = number("TIM_SOURCE_IPS_REFRESH_SECS", 600, 86_400)?;
                if secs == 0 {
                    return Err(ConfigError::new(
                        "TIM_SOURCE_IPS_REFRESH_SECS",
                        "must be greater than 0",
                    ));
                }
                Source::Tencent {
                    network,
                    interval: Duration::from_secs(secs),
                }
            }
            Some(list) => Source::Static(source_list(list)?),
        };
        for name in ["TIM_SOURCE_IPS_NETTYPE", "TIM_SOURCE_IPS_REFRESH_SECS"] {
            if !matches!(source, Source::Tencent { .. }) && vars.is_set(name)? {
                return Err(ConfigError::new(
                    name,
                    "applies only with TIM_SOURCE_IPS=tencent",
                ));
            }
        }
        if matches!(source, Source::Off) && vars.is_set("TIM_TRUSTED_PROXY_HOPS")? {
            warn_unused(
                "TIM_TRUSTED_PROXY_HOPS",
                "the caller's address is read only to filter sources, and TIM_SOURCE_IPS is off",
            );
        }
        let redis = redis(vars)?;
        Ok(Config {
            apps,
            redis,
            trtc,
            allow_unsigned,
            source,
            trusted_proxy_hops,
        })
    }
    /// The SDKAppIDs configured (none for a static token without `TIM_SDKAPPID`).
    pub fn app_ids(&self) -> Vec<u64> {
        self.apps.iter().filter_map(|a| a.sdk_app_id).collect()
    }

    /// Starts every app: a refresher per app, each waiting for its first token (the API ones
    /// confirm a switch of authentication to off with a second fetch).
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming what to fix when an app's token cannot be loaded (the API's error
    /// is its [`api_error`](ConfigError::api_error) and source), or when an app has
    /// authentication off and `TIM_ALLOW_UNSIGNED` is not `1`.
    pub async fn start(self) -> Result<Running, ConfigError> {
        for app in &self.apps {
            if let (Origin::Entry(n), AppUpstream { url, secret }) = (&app.origin, &app.upstream) {
                for (field, set) in [
                    ("upstream", url.is_some()),
                    ("upstream_secret_env", secret.is_some()),
                ] {
                    if set {
                        warn_unused(
                            &format!("TIM_APPS entry {n}: field `{field}`"),
                            "only the gateway (tim-callback-gateway) forwards callbacks",
                        );
                    }
                }
            }
        }
        self.start_apps().await
    }

    /// Each app's upstream settings, by app (`None`: a static token without `TIM_SDKAPPID`), and
    /// the `TIM_APPS` entry that gave them (errors name it), taken out for the gateway, which
    /// then starts the apps with [`start_apps`](Self::start_apps).
    pub(crate) fn take_upstreams(&mut self) -> Vec<(Option<u64>, Option<usize>, AppUpstream)> {
        self.apps
            .iter_mut()
            .map(|app| {
                let entry = match app.origin {
                    Origin::Entry(n) => Some(n),
                    Origin::Variables { .. } => None,
                };
                (app.sdk_app_id, entry, std::mem::take(&mut app.upstream))
            })
            .collect()
    }

    /// [`start`](Self::start), without its warning about upstream settings.
    pub(crate) async fn start_apps(self) -> Result<Running, ConfigError> {
        let apps = AppSet::new();
        let mut single = None;
        let api_apps = self
            .apps
            .iter()
            .filter(|a| matches!(a.token, TokenSource::Api(..)))
            .count();
        let fleet = match &self.redis {
            Some(_) if api_apps == 0 => {
                warn_unused(
                    "TIM_REDIS_URL",
                    "no app fetches its token from Tencent's API (static tokens are not shared)",
                );
                None
            }
            Some(redis) => {
                let store = match &redis.ca {
                    Some(ca) => {
                        tim_callback_fleet::RedisStore::connect_tls(&redis.url, &redis.prefix, ca)
                            .await
                    }
                    None => {
                        tim_callback_fleet::RedisStore::connect(&redis.url, &redis.prefix).await
                    }
                }
                .map_err(|e| ConfigError::new("TIM_REDIS_URL", e.to_string()))?;
                let interval = self.apps.iter().find_map(|a| match &a.token {
                    TokenSource::Api(_, interval) => Some(*interval),
                    TokenSource::Static(_) => None,
                });
                let mut builder = tim_callback_fleet::Fleet::builder(store);
                if let Some(interval) = interval {
                    builder = builder.interval(interval);
                }
                if let Some(id) = &redis.instance {
                    builder = builder.instance_id(id);
                }
                let fleet = builder
                    .start()
                    .map_err(|e| ConfigError::new("TIM_INSTANCE_ID", e.to_string()))?;
                tracing::info!(prefix = %redis.prefix, "tokens shared through redis: one fetch per app for the fleet");
                Some(fleet)
            }
            None => None,
        };
        // The client `GetIPList` is called with: the first app that uses the API.
        let list_client = self.apps.iter().find_map(|app| match &app.token {
            TokenSource::Api(client, _) => Some(client.clone()),
            TokenSource::Static(_) => None,
        });
        for app in self.apps {
            let started = match app.token {
                TokenSource::Static(token) => {
                    tracing::info!(app = app.sdk_app_id, fingerprint = %token.fingerprint(), "static callback token");
                    let builder = TokenRefresher::builder(TokenSnapshot::enabled(token));
                    match app.sdk_app_id {
                        Some(id) => builder.app_id(id).start().await,
                        None => {
                            tracing::warn!(
                                "TIM_SDKAPPID is not set: callbacks naming any app are accepted with this token"
                            );
                            builder.start().await
                        }
                    }
                }
                TokenSource::Api(client, interval) => {
                    tracing::info!(app = app.sdk_app_id, host = %client.region().host(), "callback token from tencent's api");
                    match &fleet {
                        Some(fleet) => {
                            fleet
                                .refresher(client.sdk_app_id(), client)
                                .confirm_disable(true)
                                .start()
                                .await
                        }
                        None => {
                            TokenRefresher::builder(client)
                                .interval(interval)
                                .confirm_disable(true)
                                .start()
                                .await
                        }
                    }
                }
            };
            let refresher = started.map_err(|e| load_error(app.sdk_app_id, &app.origin, e))?;
            match refresher.app_id() {
                Some(_) => apps
                    .insert_refresher(refresher)
                    .map_err(|e| load_error(app.sdk_app_id, &app.origin, e))?,
                None => single = Some(refresher),
            }
        }
        let address = ClientAddress::x_forwarded_for(self.trusted_proxy_hops);
        let source = match self.source {
            Source::Off => None,
            Source::Static(list) => {
                tracing::info!(entries = list.len(), "static source allowlist");
                Some((
                    AllowlistFilter::new(AllowlistHandle::new(list), address),
                    None,
                ))
            }
            Source::Tencent { network, interval } => {
                let client = list_client.ok_or_else(|| {
                    ConfigError::new(
                        "TIM_SOURCE_IPS",
                        "tencent needs an app that calls Tencent's API (TIM_SECRET_KEY, or \
                         secret_key_env in TIM_APPS): the list is fetched with GetIPList",
                    )
                })?;
                let network =
                    network.unwrap_or_else(|| WebhookNetwork::for_region(client.region()));
                let lists = AllowlistRefresher::builder(client.webhook_addresses(network))
                    .interval(interval)
                    .start()
                    .await
                    .map_err(|error| ConfigError {
                        variable: "TIM_SOURCE_IPS".to_owned(),
                        message: format!(
                            "could not load Tencent's webhook addresses (nettype {}; set \
                             TIM_SOURCE_IPS to a list of addresses instead, or off): {error}",
                            network.nettype()
                        ),
                        cause: Some(error),
                    })?;
                Some((AllowlistFilter::new(lists.handle(), address), Some(lists)))
            }
        };
        if let Some(keys) = &self.trtc {
            tracing::info!(apps = ?keys.app_ids(), "trtc event callbacks verified");
        }
        let running = Running {
            apps,
            single,
            source,
            trtc: self.trtc,
            fleet,
        };
        running.refuse_unsigned(self.allow_unsigned)?;
        Ok(running)
    }
}

/// `TIM_SOURCE_IPS` as a list of addresses and ranges. An entry is named by its position, never
/// shown: a value in the wrong variable may be a secret.
fn source_list(list: &str) -> Result<IpAllowlist, ConfigError> {
    const WHAT: &str = "must be off, tencent, or addresses and CIDR ranges separated by commas";
    let entries: Vec<&str> = list
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|e| !e.is_empty())
        .collect();
    IpAllowlist::new(&entries).map_err(|error| {
        // The library's reason (empty, too long, allows everyone, entry N is not an address):
        // it names entries by position, never by value.
        let why =
            std::error::Error::source(&error).map_or_else(|| error.to_string(), |s| s.to_string());
        ConfigError::new("TIM_SOURCE_IPS", format!("{WHAT}: {why}"))
    })
}

/// `TIM_REDIS_URL`, `TIM_REDIS_PREFIX`, `TIM_INSTANCE_ID`.
fn redis(vars: Vars<'_>) -> Result<Option<Redis>, ConfigError> {
    // Checked whether or not TIM_REDIS_URL is set: a mistake is named either way. A prefix has
    // an instance id's characters.
    let prefix = match vars.get("TIM_REDIS_PREFIX")? {
        None => None,
        Some(p) if tim_callback_fleet::valid_instance_id(p.trim()) => Some(p.trim().to_owned()),
        Some(_) => {
            return Err(ConfigError::new(
                "TIM_REDIS_PREFIX",
                "must be 1 to 64 ASCII letters, digits, ':', '.', '_' or '-'",
            ))
        }
    };
    let instance = match vars.get("TIM_INSTANCE_ID")? {
        None => None,
        Some(id) if tim_callback_fleet::valid_instance_id(id.trim()) => Some(id.trim().to_owned()),
        Some(_) => {
            return Err(ConfigError::new(
                "TIM_INSTANCE_ID",
                "must be 1 to 64 ASCII letters, digits, '.', '_', ':' or '-'",
            ))
        }
    };
    let ca = match vars.get("TIM_REDIS_CA_FILE")? {
        None => None,
        Some(path) => match std::fs::read(path.trim()) {
            Ok(pem) if pem.starts_with(b"-----BEGIN CERTIFICATE-----") => Some(pem),
            Ok(_) => {
                return Err(ConfigError::new(
                    "TIM_REDIS_CA_FILE",
                    "is not a PEM certificate file (-----BEGIN CERTIFICATE-----)",
                ))
            }
            Err(_) => {
                return Err(ConfigError::new(
                    "TIM_REDIS_CA_FILE",
                    "could not be read: give the path of the CA's PEM file",
                ))
            }
        },
    };
    let url = vars.secret(
        "TIM_REDIS_URL",
        "give the Redis URL the fleet shares its tokens through, or unset it",
    )?;
    let Some(url) = url else {
        for (name, set) in [
            ("TIM_REDIS_PREFIX", prefix.is_some()),
            ("TIM_INSTANCE_ID", instance.is_some()),
            ("TIM_REDIS_CA_FILE", ca.is_some()),
        ] {
            if set {
                warn_unused(name, "TIM_REDIS_URL is not set");
            }
        }
        return Ok(None);
    };
    if !["redis://", "rediss://", "unix://"]
        .iter()
        .any(|scheme| url.starts_with(scheme))
    {
        return Err(ConfigError::new(
            "TIM_REDIS_URL",
            "must start with redis:// (redis://[:password@]host:port/db), rediss:// (TLS) or \
             unix:// (a socket)",
        ));
    }
    if ca.is_some() && !url.starts_with("rediss://") {
        warn_unused(
            "TIM_REDIS_CA_FILE",
            "TIM_REDIS_URL is not a rediss:// (TLS) URL",
        );
    }
    let instance = match instance {
        Some(id) => Some(id),
        None => vars
            .get("HOSTNAME")?
            .filter(|h| tim_callback_fleet::valid_instance_id(h)),
    };
    Ok(Some(Redis {
        url,
        prefix: prefix.unwrap_or_else(|| "tim:".to_owned()),
        instance,
        ca,
    }))
}

/// `TIM_SDKAPPID`, when set.
fn sdk_app_id(vars: Vars<'_>) -> Result<Option<u64>, ConfigError> {
    vars.get("TIM_SDKAPPID")?
        .map(|v| {
            v.trim().parse::<u64>().map_err(|_| {
                ConfigError::new(
                    "TIM_SDKAPPID",
                    "must be the app's SDKAppID, a decimal number",
                )
            })
        })
        .transpose()
}

/// The variables of one app (no `TIM_APPS`).
fn single_app(vars: Vars<'_>, allow_insecure_http: bool) -> Result<App, ConfigError> {
    let sdk_app_id = sdk_app_id(vars)?;
    let origin = Origin::Variables {
        api_base_url: vars.is_set("TIM_API_BASE_URL")?,
    };
    let trtc = single_trtc_keys(vars, sdk_app_id)?;
    let token = vars.secret(
        "TIM_CALLBACK_TOKEN",
        "give the IM console's callback token, or unset it to fetch the token from Tencent's API \
         (TIM_SECRET_KEY)",
    )?;
    if let Some(token) = token {
        // The API's settings: a conflict when they say where the token comes from, a warning
        // when they would only tune the API.
        for name in ["TIM_SECRET_KEY", "TIM_API_BASE_URL"] {
            if vars.is_set(name)? {
                return Err(ConfigError::new(
                    "TIM_CALLBACK_TOKEN",
                    format!(
                        "is set together with {name}: give either a static token \
                         (TIM_CALLBACK_TOKEN) or Tencent's API (TIM_SECRET_KEY, TIM_REGION or \
                         TIM_API_BASE_URL), not both"
                    ),
                ));
            }
        }
        for name in ["TIM_REGION", "TIM_ADMIN", "TIM_REFRESH_SECS"] {
            if vars.is_set(name)? {
                warn_unused(
                    name,
                    "it applies to Tencent's API, and the token is static (TIM_CALLBACK_TOKEN)",
                );
            }
        }
        let token = CallbackToken::new(&token)
            .map_err(|e| ConfigError::new("TIM_CALLBACK_TOKEN", e.to_string()))?;
        return Ok(App {
            sdk_app_id,
            token: TokenSource::Static(token),
            origin,
            trtc,
            upstream: AppUpstream::default(),
        });
    }
    let (sdk_app_id, client, interval) = api_client(vars, sdk_app_id, allow_insecure_http)?;
    Ok(App {
        sdk_app_id: Some(sdk_app_id),
        token: TokenSource::Api(client, interval),
        origin,
        trtc,
        upstream: AppUpstream::default(),
    })
}

/// `TIM_TRTC_CALLBACK_KEY` and `TIM_TRTC_CALLBACK_KEY_PREVIOUS`.
#[allow(clippy::type_complexity)]
fn single_trtc_keys(
    vars: Vars<'_>,
    sdk_app_id: Option<u64>,
) -> Result<Option<(TrtcKey, Option<TrtcKey>)>, ConfigError> {
    let key = |name: &str| -> Result<Option<TrtcKey>, ConfigError> {
        vars.secret(
            name,
            "give the TRTC console's callback key, or unset it to leave TRTC events unverified",
        )?
        .map(|k| TrtcKey::new(&k).map_err(|e| ConfigError::new(name, e.to_string())))
        .transpose()
    };
    let current = key("TIM_TRTC_CALLBACK_KEY")?;
    let previous = key("TIM_TRTC_CALLBACK_KEY_PREVIOUS")?;
    match (current, previous) {
        (None, None) => Ok(None),
        (None, Some(_)) => Err(ConfigError::new(
            "TIM_TRTC_CALLBACK_KEY_PREVIOUS",
            "applies only with TIM_TRTC_CALLBACK_KEY (the new key)",
        )),
        (Some(_), _) if sdk_app_id.is_none() => Err(ConfigError::new(
            "TIM_SDKAPPID",
            "is required with TIM_TRTC_CALLBACK_KEY: TRTC events name their app in the SdkAppId \
             header, and only that app's events are accepted",
        )),
        (Some(current), previous) => Ok(Some((current, previous))),
    }
}

/// The API client the single-app variables describe.
fn api_client(
    vars: Vars<'_>,
    sdk_app_id: Option<u64>,
    allow_insecure_http: bool,
) -> Result<(u64, RestClient, Duration), ConfigError> {
    let Some(sdk_app_id) = sdk_app_id else {
        return Err(ConfigError::new(
            "TIM_SDKAPPID",
            "is required to call Tencent's API (or set TIM_CALLBACK_TOKEN for a static token)",
        ));
    };
    let secret_key = vars
        .secret(
            "TIM_SECRET_KEY",
            "give the app's secret key (the IM console, app configuration), or set \
             TIM_CALLBACK_TOKEN for a static token",
        )?
        .ok_or_else(|| {
            ConfigError::new(
                "TIM_SECRET_KEY",
                "is required to sign Tencent API calls (or set TIM_CALLBACK_TOKEN for a static token)",
            )
        })?;
    let admin = vars
        .get("TIM_ADMIN")?
        .unwrap_or_else(|| "administrator".into());
    tim_callback_auth::usersig::validate_identifier(&admin)
        .map_err(|e| ConfigError::new("TIM_ADMIN", e.to_string()))?;
    let region = match vars.get("TIM_API_BASE_URL")? {
        Some(url) => {
            if vars.is_set("TIM_REGION")? {
                warn_unused(
                    "TIM_REGION",
                    "TIM_API_BASE_URL is set, and the API is called there",
                );
            }
            Region::custom(&url).map_err(|e| ConfigError::new("TIM_API_BASE_URL", e.to_string()))?
        }
        None => vars
            .get("TIM_REGION")?
            .unwrap_or_else(|| "china".into())
            .parse()
            .map_err(|e: tim_callback_auth::Error| ConfigError::new("TIM_REGION", e.to_string()))?,
    };
    let interval = match vars.get("TIM_REFRESH_SECS")? {
        None => Duration::from_secs(60),
        Some(v) => match v.trim().parse::<u64>() {
            Ok(secs) if secs > 0 => Duration::from_secs(secs),
            _ => {
                return Err(ConfigError::new(
                    "TIM_REFRESH_SECS",
                    "must be a whole number of seconds greater than 0",
                ))
            }
        },
    };
    let client = build_client(sdk_app_id, &admin, &secret_key, region, allow_insecure_http)
        .map_err(|(field, why)| {
            let variable = match field {
                Field::BaseUrl => "TIM_API_BASE_URL",
                Field::Key => "TIM_SECRET_KEY",
            };
            ConfigError::new(variable, why)
        })?;
    Ok((sdk_app_id, client, interval))
}

/// Which setting a client build error is about.
enum Field {
    BaseUrl,
    Key,
}

fn build_client(
    sdk_app_id: u64,
    admin: &str,
    secret_key: &str,
    region: Region,
    allow_insecure_http: bool,
) -> Result<RestClient, (Field, String)> {
    RestClient::builder(sdk_app_id, secret_key)
        .admin(admin)
        .region(region)
        .allow_insecure_http(allow_insecure_http)
        .build()
        .map_err(|e| {
            let why =
                std::error::Error::source(&e).map_or_else(|| e.to_string(), |s| s.to_string());
            if e.kind() == ErrorKind::InsecureUrl {
                (
                    Field::BaseUrl,
                    format!("{why}; set TIM_ALLOW_INSECURE_HTTP=1 to allow it anyway"),
                )
            } else {
                (Field::Key, why)
            }
        })
}

/// The fields of one `TIM_APPS` entry.
const FIELDS: [&str; 14] = [
    "sdkappid",
    "secret_key",
    "secret_key_env",
    "admin",
    "region",
    "api_base_url",
    "callback_token",
    "callback_token_env",
    "refresh_secs",
    "trtc_callback_key",
    "trtc_callback_key_env",
    "upstream",
    "upstream_secret",
    "upstream_secret_env",
];

/// The apps of the `TIM_APPS` file, and the variables its entries name. Neither the path nor the
/// file's text is shown in an error: the value may be the JSON itself, secret keys included.
fn apps_file(
    vars: Vars<'_>,
    path: &str,
    allow_insecure_http: bool,
) -> Result<(Vec<App>, Vec<String>), ConfigError> {
    let bad = |why: String| ConfigError::new("TIM_APPS", why);
    if path.trim_start().starts_with(['[', '{']) {
        return Err(bad(
            "must be the path of a JSON file, and this value looks like the JSON itself (not \
             shown: it may hold a secret key). Write the list to a file (a mounted ConfigMap or \
             secret) and give its path"
                .to_owned(),
        ));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| bad(format!("cannot read the file it names: {e}")))?;
    // Syntax errors are reported by position only: serde's messages may quote the text.
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        bad(format!(
            "the file is not a JSON list of apps (invalid JSON at line {}, column {})",
            e.line(),
            e.column()
        ))
    })?;
    let list = json
        .as_array()
        .ok_or_else(|| bad("the file is not a JSON list of apps".to_owned()))?;
    if list.is_empty() {
        return Err(bad("the file lists no app".to_owned()));
    }
    let mut seen = std::collections::HashSet::new();
    let mut apps = Vec::new();
    let mut named = Vec::new();
    for (i, value) in list.iter().enumerate() {
        let at = |why: &str| bad(format!("entry {}: {why}", i + 1));
        let app =
            entry(vars, value, allow_insecure_http, i + 1, &mut named).map_err(|why| at(&why))?;
        if !seen.insert(app.sdk_app_id) {
            return Err(at("this sdkappid is listed twice"));
        }
        apps.push(app);
    }
    Ok((apps, named))
}

/// Whether `name` has the shape of an environment variable's name, and can be shown: upper case
/// letters, digits and `_`, with at least one `_` (`TIM_TOKEN_B`), at most 64 characters. A
/// secret pasted where its variable's name belongs rarely has that shape; anything else is not
/// shown.
fn looks_like_variable(name: &str) -> bool {
    name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_uppercase())
        && name.contains('_')
        && name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// The field `name` is a typo of, when it has a field's shape (lower case, digits, `_`, at most
/// 32 characters) and is at most 3 edits away from one: then it is safe to show.
fn typo_of(name: &str) -> Option<&'static str> {
    let shaped = !name.is_empty()
        && name.len() <= 32
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !shaped {
        return None;
    }
    FIELDS
        .iter()
        .map(|field| (edit_distance(name, field), *field))
        .filter(|&(d, _)| d <= 3)
        .min()
        .map(|(_, field)| field)
}

/// Levenshtein distance, over bytes (the names compared are ASCII).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, &x) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &y) in b.iter().enumerate() {
            let next = (diagonal + usize::from(x != y))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            diagonal = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// One entry, type-checked field by field: errors name the field and the expected type, never a
/// value (a secret may sit in the wrong field). The variables the entry names are added to
/// `named`.
fn entry(
    vars: Vars<'_>,
    value: &serde_json::Value,
    allow_insecure_http: bool,
    n: usize,
    named: &mut Vec<String>,
) -> Result<App, String> {
    let object = value
        .as_object()
        .ok_or("must be a JSON object with the fields of one app")?;
    if let Some(unknown) = object.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        let fields = FIELDS.join(", ");
        return Err(match typo_of(unknown) {
            Some(field) => {
                format!("has an unknown field `{unknown}`: did you mean `{field}`? (the fields are {fields})")
            }
            // Not shown: it is like no field, and may be a secret pasted in the wrong place.
            None => format!(
                "has an unknown field, not shown as it is like none of the fields (the fields are \
                 {fields})"
            ),
        });
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
    let id =
        number("sdkappid")?.ok_or("field `sdkappid` is required (the app's SDKAppID, a number)")?;
    let mut secret = |env_field: &str, inline_field: &str| -> Result<Option<String>, String> {
        match (string(env_field)?, string(inline_field)?) {
            (Some(_), Some(_)) => Err(format!(
                "give either {env_field} or {inline_field}, not both"
            )),
            (Some(name), None) => {
                // The name is shown only when it has a variable's shape: a secret pasted into
                // this field rarely has one.
                let shown = looks_like_variable(&name).then_some(name.as_str());
                let variable = match shown {
                    Some(name) => {
                        format!("the environment variable {name}, that {env_field} names,")
                    }
                    None => format!("the environment variable that {env_field} names"),
                };
                let value = (vars.lookup)(&name).map_err(|e| match shown {
                    Some(_) => e.to_string(),
                    None => format!("{variable} {}", e.message),
                })?;
                named.push(name.clone());
                match value {
                    Some(value) => check_secret(value, "set it, or remove the field")
                        .map(Some)
                        .map_err(|why| format!("{variable} {why}")),
                    None if shown.is_some() => Err(format!("{variable} is not set")),
                    None => Err(format!(
                        "{variable} is not set (its name is not shown: it does not look like a \
                         variable name, such as TIM_TOKEN_B; is it the secret itself? Put the \
                         secret in a variable and give the variable's name)"
                    )),
                }
            }
            (None, Some(inline)) => check_secret(inline, "give the value, or remove the field")
                .map(Some)
                .map_err(|why| format!("field `{inline_field}` {why}")),
            (None, None) => Ok(None),
        }
    };
    let token = secret("callback_token_env", "callback_token")?;
    let key = secret("secret_key_env", "secret_key")?;
    let trtc = secret("trtc_callback_key_env", "trtc_callback_key")?
        .map(|k| TrtcKey::new(&k).map_err(|e| format!("trtc callback key: {e}")))
        .transpose()?
        .map(|k| (k, None));
    let token = match (token, key) {
        (Some(_), Some(_)) => {
            return Err("give either a callback token or a secret key, not both".into())
        }
        (None, None) => return Err("needs secret_key_env (the API) or callback_token_env".into()),
        (Some(token), None) => {
            if object.get("api_base_url").is_some_and(|v| !v.is_null()) {
                return Err(
                    "give either a callback token or the API (secret_key_env, region or \
                     api_base_url), not both: api_base_url is set with a callback token"
                        .into(),
                );
            }
            for field in ["region", "admin", "refresh_secs"] {
                if object.get(field).is_some_and(|v| !v.is_null()) {
                    warn_unused(
                        &format!("TIM_APPS entry {n}: field `{field}`"),
                        "it applies to Tencent's API, and this app's token is static \
                         (callback_token_env)",
                    );
                }
            }
            TokenSource::Static(
                CallbackToken::new(&token).map_err(|e| format!("callback token: {e}"))?,
            )
        }
        (None, Some(key)) => {
            let admin = string("admin")?.unwrap_or_else(|| "administrator".into());
            tim_callback_auth::usersig::validate_identifier(&admin)
                .map_err(|e| format!("admin: {e}"))?;
            let region = match (string("api_base_url")?, string("region")?) {
                (Some(url), region) => {
                    if region.is_some() {
                        warn_unused(
                            &format!("TIM_APPS entry {n}: field `region`"),
                            "api_base_url is set, and the API is called there",
                        );
                    }
                    Region::custom(&url).map_err(|e| format!("api_base_url: {e}"))?
                }
                (None, Some(name)) => name
                    .parse()
                    .map_err(|e: tim_callback_auth::Error| format!("region: {e}"))?,
                (None, None) => Region::China,
            };
            let secs = number("refresh_secs")?.unwrap_or(60);
            if secs == 0 {
                return Err("refresh_secs must be greater than 0".into());
            }
            let client = build_client(id, &admin, &key, region, allow_insecure_http)
                .map_err(|(_, why)| why)?;
            TokenSource::Api(client, Duration::from_secs(secs))
        }
    };
    let upstream = AppUpstream {
        url: string("upstream")?,
        secret: secret("upstream_secret_env", "upstream_secret")?,
    };
    Ok(App {
        sdk_app_id: Some(id),
        token,
        origin: Origin::Entry(n),
        trtc,
        upstream,
    })
}
/// Why an app's first token could not be loaded, naming what to check.
fn load_error(app: Option<u64>, origin: &Origin, error: Error) -> ConfigError {
    let (variable, check) = match origin {
        Origin::Variables { api_base_url } => {
            let endpoint = if *api_base_url {
                "TIM_API_BASE_URL"
            } else {
                "TIM_REGION"
            };
            match (error.kind(), error.api_code()) {
                (ErrorKind::Configuration, Some(70016 | 70020)) => (
                    "TIM_REGION",
                    "check TIM_REGION (or TIM_API_BASE_URL)".to_owned(),
                ),
                (ErrorKind::Configuration, Some(60006 | 60016)) => {
                    ("TIM_SDKAPPID", "check TIM_SDKAPPID".to_owned())
                }
                (ErrorKind::Configuration | ErrorKind::UserSig, _) => (
                    "TIM_SECRET_KEY",
                    "check TIM_SECRET_KEY and TIM_ADMIN".to_owned(),
                ),
                _ => (endpoint, format!("check {endpoint} and the network")),
            }
        }
        Origin::Entry(n) => (
            "TIM_APPS",
            format!("check entry {n}: its key, admin, region or api_base_url"),
        ),
    };
    let app = app.map_or_else(|| "the app".to_owned(), |id| format!("app {id}"));
    ConfigError {
        variable: variable.to_owned(),
        message: format!("could not load the callback token of {app} ({check}): {error}"),
        cause: Some(error),
    }
}

/// The started apps. Their refreshers run for as long as this, or a layer or handle made from it,
/// is alive (`Config::from_env()?.start().await?.layer()` keeps refreshing).
#[derive(Debug)]
pub struct Running {
    apps: AppSet,
    /// A static token without an app id: one handle, no routing.
    single: Option<TokenRefresher>,
    /// The source filter, and the refresher that keeps Tencent's list fresh.
    source: Option<(AllowlistFilter, Option<AllowlistRefresher>)>,
    /// The TRTC callback keys, when any app has one.
    trtc: Option<TrtcKeys>,
    /// The fleet on Redis (`TIM_REDIS_URL`).
    fleet: Option<tim_callback_fleet::Fleet<tim_callback_fleet::RedisStore>>,
}

impl Running {
    /// The layer for TRTC event callbacks, when an app has a TRTC callback key
    /// (`TIM_TRTC_CALLBACK_KEY`, or `trtc_callback_key_env` in `TIM_APPS`). Serve it on its own
    /// route (TRTC events are a different request from Chat callbacks). The source allowlist
    /// applies to Chat callbacks only: `GetIPList` lists Chat's webhook addresses, not TRTC's.
    pub fn trtc_layer(&self) -> Option<TrtcCallbackAuthLayer> {
        self.trtc.clone().map(TrtcCallbackAuthLayer::new)
    }

    /// The fleet this instance shares its tokens with (`TIM_REDIS_URL`): its
    /// [`status`](tim_callback_fleet::Fleet::status) says whether the store is reachable, the
    /// fleet's size and the apps this instance fetches for.
    pub fn fleet(&self) -> Option<&tim_callback_fleet::Fleet<tim_callback_fleet::RedisStore>> {
        self.fleet.as_ref()
    }

    /// The TRTC callback keys (to rotate them while the server runs), when an app has one.
    pub fn trtc_keys(&self) -> Option<&TrtcKeys> {
        self.trtc.as_ref()
    }

    /// The layer for every app: routed by `SdkAppid` with an [`AppSet`], or, for a static token
    /// without `TIM_SDKAPPID`, the single handle with no app check.
    pub fn layer(&self) -> CallbackAuthLayer {
        let layer = match &self.single {
            Some(refresher) => CallbackAuthLayer::new(refresher.handle()),
            None => CallbackAuthLayer::for_apps(self.apps.clone()),
        };
        match &self.source {
            Some((filter, _)) => layer.with_allowlist(filter.clone()),
            None => layer,
        }
    }

    /// The apps (empty for a static token without `TIM_SDKAPPID`).
    pub fn apps(&self) -> &AppSet {
        &self.apps
    }

    /// Readiness, as [`Health::of_apps`]; a static token without an app id is always ready.
    pub fn health(&self, degraded_after: Duration) -> Health {
        let health = match &self.single {
            Some(_) => Health {
                state: HealthState::Ready,
                apps: Vec::new(),
                source_allowlist: None,
                trtc: None,
            },
            None => Health::of_apps(&self.apps, degraded_after),
        };
        let health = match &self.source {
            None => health,
            Some((filter, _)) => health.with_source_allowlist(filter.list(), degraded_after),
        };
        match &self.trtc {
            Some(keys) => health.with_trtc_keys(keys),
            None => health,
        }
    }

    fn refuse_unsigned(&self, allowed: bool) -> Result<(), ConfigError> {
        let off: Vec<String> = self
            .apps
            .app_ids()
            .into_iter()
            .filter(|&id| {
                self.apps
                    .handle(id)
                    .and_then(|h| h.load())
                    .is_some_and(|s| !s.is_enabled())
            })
            .map(|id| id.to_string())
            .collect();
        if off.is_empty() {
            return Ok(());
        }
        if allowed {
            tracing::warn!(
                apps = off.join(","),
                "callback authentication is off: unsigned callbacks are accepted (TIM_ALLOW_UNSIGNED=1)"
            );
            return Ok(());
        }
        Err(ConfigError::new(
            "TIM_ALLOW_UNSIGNED",
            format!(
                "callback authentication is off at Tencent for app {} (IsTokenEnable is false, or no \
                 token is configured: 100302), so this server would accept unsigned callbacks that \
                 anyone can forge. Turn it on: set a token with set_callback_token (`cargo run \
                 --example rotate_token` makes a strong one), or give the IM console's callback \
                 token in TIM_CALLBACK_TOKEN. To start anyway, set TIM_ALLOW_UNSIGNED=1.",
                off.join(", ")
            ),
        ))
    }
}

/// A REST client from `TIM_SDKAPPID`, `TIM_SECRET_KEY`, `TIM_ADMIN`, `TIM_REGION` or
/// `TIM_API_BASE_URL` (and `TIM_ALLOW_INSECURE_HTTP`), for tools that call the token API
/// themselves (set or rotate the token).
///
/// # Errors
///
/// A [`ConfigError`] naming the variable that is missing or invalid.
pub fn rest_client_from_env() -> Result<RestClient, ConfigError> {
    let vars = Vars { lookup: &env_var };
    let allow_insecure_http = matches!(
        vars.get("TIM_ALLOW_INSECURE_HTTP")?
            .as_deref()
            .map(str::trim),
        Some("1")
    );
    api_client(vars, sdk_app_id(vars)?, allow_insecure_http).map(|(_, client, _)| client)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cause with a cause of its own.
    #[derive(Debug)]
    struct Outer(Inner);
    #[derive(Debug)]
    struct Inner;
    impl fmt::Display for Outer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("the outer cause")
        }
    }
    impl fmt::Display for Inner {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("the inner cause")
        }
    }
    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }
    impl std::error::Error for Inner {}

    #[test]
    fn debug_is_display_with_each_cause_of_the_chain_once() {
        let error = load_error(
            Some(1400000000),
            &Origin::Entry(2),
            Error::from_source(Outer(Inner)),
        );
        let (display, debug) = (error.to_string(), format!("{error:?}"));
        assert_eq!(debug, display);
        for cause in ["the outer cause", "the inner cause"] {
            assert_eq!(debug.matches(cause).count(), 1, "{debug}");
        }
        assert!(debug.starts_with("TIM_APPS: could not load the callback token of app 1400000000"));
        // A message that does not carry its cause's text: the chain is appended, once each.
        let error = ConfigError {
            variable: "TIM_SOURCE_IPS".to_owned(),
            message: "could not load the list".to_owned(),
            cause: Some(Error::from_source(Outer(Inner))),
        };
        let debug = format!("{error:?}");
        assert!(
            debug.starts_with("TIM_SOURCE_IPS: could not load the list: "),
            "{debug}"
        );
        for cause in ["the outer cause", "the inner cause"] {
            assert_eq!(debug.matches(cause).count(), 1, "{debug}");
        }
        assert!(
            !debug.contains("ConfigError") && !debug.contains('\n'),
            "{debug}"
        );
    }
}
