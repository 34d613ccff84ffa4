//! The gateway's variables, read beside [`Config`]'s: every mistake named, no value shown.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crate::config::{env_var, Vars};
use crate::{Config, ConfigError};

use super::sign::Secrets;

/// Where one app's callbacks go, and the secret(s) they are signed with.
#[derive(Debug)]
pub(crate) struct Upstream {
    pub(crate) url: http::Uri,
    pub(crate) secrets: Secrets,
}

/// What a before-callback gets when the upstream cannot answer it (`TIM_UPSTREAM_FALLBACK`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fallback {
    /// Tencent's own default for a failed before-callback: the message goes through.
    Allow,
    /// Fail closed: the message is refused.
    Forbid,
}

/// The gateway's settings (see the [module docs](super) for each variable): the apps as
/// [`Config`] reads them, and where and how their callbacks are forwarded.
#[derive(Debug)]
pub struct GatewayConfig {
    pub(crate) apps: Config,
    pub(crate) default_upstream: Option<Arc<Upstream>>,
    pub(crate) upstreams: HashMap<u64, Arc<Upstream>>,
    pub(crate) timeout: Duration,
    pub(crate) fallback: Fallback,
    pub(crate) forward_unverified: bool,
    /// With `TIM_FORWARD_UNVERIFIED=1`: the secret unverified callbacks are signed with
    /// (`TIM_UPSTREAM_UNVERIFIED_SECRET`), never one of the verified ones.
    pub(crate) unverified: Option<Secrets>,
    pub(crate) max_in_flight: usize,
    pub(crate) im_path: String,
    pub(crate) trtc_path: String,
    pub(crate) body_limit: usize,
    pub(crate) grace: Duration,
}

/// The longest upstream budget: TRTC's 5 s less the headroom.
const MAX_TIMEOUT_MS: u64 = 4_750;
/// The longest budget of a Chat or Live callback: 2 s less the headroom.
const CHAT_BUDGET_MS: u64 = 1_750;

impl GatewayConfig {
    /// Reads the process environment: [`Config`]'s variables and the gateway's.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the first variable (or `TIM_APPS` entry and field) that is missing
    /// or invalid; no value is shown.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::read(Vars { lookup: &env_var })
    }

    /// Reads variables from `vars` (a name to its value, `None` when unset), as
    /// [`Config::from_vars`].
    ///
    /// # Errors
    ///
    /// As [`from_env`](Self::from_env).
    pub fn from_vars(vars: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Self::read(Vars {
            lookup: &|name| Ok(vars(name)),
        })
    }

    fn read(vars: Vars<'_>) -> Result<Self, ConfigError> {
        let mut apps = Config::read(vars)?;
        let default_url = vars
            .get("TIM_UPSTREAM_URL")?
            .map(|url| {
                upstream_url(url.trim()).map_err(|why| ConfigError::new("TIM_UPSTREAM_URL", why))
            })
            .transpose()?;
        let default_secrets = vars
            .secret(
                "TIM_UPSTREAM_SECRET",
                "give the Standard Webhooks secret (whsec_…) the backend verifies with",
            )?
            .map(|s| Secrets::parse(&s).map_err(|why| ConfigError::new("TIM_UPSTREAM_SECRET", why)))
            .transpose()?;
        let mut default_used = false;
        let mut upstreams = HashMap::new();
        for (app, entry, own) in apps.take_upstreams() {
            let in_entry = |field: &str, why: &str| match entry {
                Some(n) => {
                    ConfigError::new("TIM_APPS", format!("entry {n}: field `{field}` {why}"))
                }
                None => ConfigError::new("TIM_UPSTREAM_URL", why),
            };
            // The gateway presents the app as verified: it must be known, not read from the
            // callback's own (unsigned) `SdkAppid`.
            let Some(app) = app.filter(|&a| a != 0) else {
                let why = "is required by the gateway (a nonzero SDKAppID) with a static token: \
                           the app it forwards as verified must be configured, not read from \
                           the callback's unsigned query";
                return Err(match entry {
                    Some(n) => {
                        ConfigError::new("TIM_APPS", format!("entry {n}: field `sdkappid` {why}"))
                    }
                    None => ConfigError::new("TIM_SDKAPPID", why),
                });
            };
            if own.url.is_none() && own.secret.is_none() {
                default_used = true;
                continue;
            }
            let url = match own.url {
                Some(url) => upstream_url(url.trim()).map_err(|why| in_entry("upstream", why))?,
                None => default_url.clone().ok_or_else(|| {
                    in_entry(
                        "upstream",
                        "is missing, and TIM_UPSTREAM_URL is not set: give one of them",
                    )
                })?,
            };
            let secrets = match own.secret {
                Some(secret) => {
                    Secrets::parse(&secret).map_err(|why| in_entry("upstream_secret_env", why))?
                }
                None => default_secrets.clone().ok_or_else(|| {
                    in_entry(
                        "upstream_secret_env",
                        "is missing, and TIM_UPSTREAM_SECRET is not set: give one of them",
                    )
                })?,
            };
            upstreams.insert(app, Arc::new(Upstream { url, secrets }));
        }
        let default_upstream =
            match (default_url, default_secrets) {
                (Some(url), Some(secrets)) => Some(Arc::new(Upstream { url, secrets })),
                (None, _) if default_used => {
                    return Err(ConfigError::new(
                        "TIM_UPSTREAM_URL",
                        "is required: the URL verified callbacks are forwarded to, such as \
                     http://127.0.0.1:3000/tencent (or give every TIM_APPS entry an upstream)",
                    ))
                }
                (_, None) if default_used => return Err(ConfigError::new(
                    "TIM_UPSTREAM_SECRET",
                    "is required: the Standard Webhooks secret (whsec_ and base64) each forwarded \
                     request is signed with, for the backend to verify",
                )),
                (url, secrets) => {
                    if url.is_some() {
                        crate::config::warn_unused(
                            "TIM_UPSTREAM_URL",
                            "every TIM_APPS entry names its own upstream",
                        );
                    }
                    if secrets.is_some() {
                        crate::config::warn_unused(
                            "TIM_UPSTREAM_SECRET",
                            "every TIM_APPS entry names its own upstream_secret_env",
                        );
                    }
                    None
                }
            };
        let timeout = match vars.get("TIM_UPSTREAM_TIMEOUT_MS")? {
            None => 1_500,
            Some(v) => match v.trim().parse::<u64>() {
                Ok(ms) if (1..=MAX_TIMEOUT_MS).contains(&ms) => ms,
                _ => {
                    return Err(ConfigError::new(
                        "TIM_UPSTREAM_TIMEOUT_MS",
                        format!(
                            "must be a whole number of milliseconds from 1 to {MAX_TIMEOUT_MS} \
                             (Tencent waits 2 s for Chat and 5 s for TRTC; the gateway keeps 250 ms \
                             to answer itself)"
                        ),
                    ))
                }
            },
        };
        let fallback = match vars.get("TIM_UPSTREAM_FALLBACK")?.as_deref().map(str::trim) {
            None | Some("forbid") => Fallback::Forbid,
            Some("allow") => Fallback::Allow,
            Some(_) => {
                return Err(ConfigError::new(
                    "TIM_UPSTREAM_FALLBACK",
                    "must be forbid (refuse a message the backend could not judge) or allow \
                     (deliver it, as Tencent does when a callback fails)",
                ))
            }
        };
        let forward_unverified = match vars
            .get("TIM_FORWARD_UNVERIFIED")?
            .as_deref()
            .map(str::trim)
        {
            None | Some("0") => false,
            Some("1") => true,
            Some(_) => return Err(ConfigError::new("TIM_FORWARD_UNVERIFIED", "must be 1 or 0")),
        };
        const UNVERIFIED: &str = "TIM_UPSTREAM_UNVERIFIED_SECRET";
        let unverified = vars
            .secret(
                UNVERIFIED,
                "give the Standard Webhooks secret (whsec_…) unverified callbacks are signed with",
            )?
            .map(|s| Secrets::parse(&s).map_err(|why| ConfigError::new(UNVERIFIED, why)))
            .transpose()?;
        let unverified =
            match (forward_unverified, unverified) {
                (true, None) => return Err(ConfigError::new(
                    UNVERIFIED,
                    "is required with TIM_FORWARD_UNVERIFIED=1: unverified callbacks are signed \
                     with a secret of their own, so that a backend that knows only the verified \
                     secret refuses them",
                )),
                (true, Some(secrets)) => {
                    let shared = default_upstream
                        .iter()
                        .chain(upstreams.values())
                        .any(|u| u.secrets.overlaps(&secrets));
                    if shared {
                        return Err(ConfigError::new(
                            UNVERIFIED,
                            "must differ from every secret verified callbacks are signed with",
                        ));
                    }
                    Some(secrets)
                }
                (false, Some(_)) => {
                    crate::config::warn_unused(UNVERIFIED, "TIM_FORWARD_UNVERIFIED is not 1");
                    None
                }
                (false, None) => None,
            };
        let path = |name: &str, default: &str| -> Result<String, ConfigError> {
            match vars.get(name)? {
                None => Ok(default.to_owned()),
                Some(p) => {
                    let p = p.trim();
                    let ok = p.starts_with('/')
                        && p.len() <= 256
                        && p.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b"/-_.~".contains(&b))
                        && !p.contains("//")
                        && !p.split('/').any(|s| s == "." || s == "..");
                    if ok {
                        Ok(p.to_owned())
                    } else {
                        Err(ConfigError::new(
                            name,
                            "must be a path such as /im/callback (letters, digits, / - _ . ~)",
                        ))
                    }
                }
            }
        };
        let im_path = path("TIM_IM_CALLBACK_PATH", "/im/callback")?;
        let trtc_path = path("TIM_TRTC_CALLBACK_PATH", "/trtc/callback")?;
        if im_path == "/healthz" {
            return Err(ConfigError::new(
                "TIM_IM_CALLBACK_PATH",
                "must differ from /healthz",
            ));
        }
        if im_path == trtc_path || trtc_path == "/healthz" {
            return Err(ConfigError::new(
                "TIM_TRTC_CALLBACK_PATH",
                "must differ from TIM_IM_CALLBACK_PATH and from /healthz",
            ));
        }
        let number = |name: &str, default: u64, range: std::ops::RangeInclusive<u64>| match vars
            .get(name)?
        {
            None => Ok(default),
            Some(v) => match v.trim().parse::<u64>() {
                Ok(n) if range.contains(&n) => Ok(n),
                _ => Err(ConfigError::new(
                    name,
                    format!(
                        "must be a whole number from {} to {}",
                        range.start(),
                        range.end()
                    ),
                )),
            },
        };
        let body_limit =
            number("TIM_BODY_LIMIT_BYTES", 256 * 1024, 1_024..=16 * 1024 * 1024)? as usize;
        let grace = Duration::from_secs(number("TIM_SHUTDOWN_GRACE_SECS", 10, 0..=600)?);
        let max_in_flight = number("TIM_MAX_IN_FLIGHT", 1_024, 1..=65_536)? as usize;
        if timeout > CHAT_BUDGET_MS {
            tracing::warn!(
                variable = "TIM_UPSTREAM_TIMEOUT_MS",
                "TIM_UPSTREAM_TIMEOUT_MS above {CHAT_BUDGET_MS} applies to TRTC events only: a \
                 Chat or Live callback gets at most {CHAT_BUDGET_MS} ms (Tencent's 2 s less the \
                 gateway's 250 ms)"
            );
        }
        Ok(Self {
            apps,
            default_upstream,
            upstreams,
            timeout: Duration::from_millis(timeout),
            fallback,
            forward_unverified,
            unverified,
            max_in_flight,
            im_path,
            trtc_path,
            body_limit,
            grace,
        })
    }
}

/// An upstream URL: `http://` or `https://`, a host, no user or password (it would be logged
/// with the URL), no fragment. The reason never quotes it.
fn upstream_url(url: &str) -> Result<http::Uri, &'static str> {
    let uri: http::Uri = url
        .parse()
        .map_err(|_| "must be an http:// or https:// URL, such as http://127.0.0.1:3000/tencent")?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return Err("must start with http:// or https://");
    }
    let Some(authority) = uri.authority() else {
        return Err("must name a host");
    };
    if authority.as_str().contains('@') {
        return Err("must not hold a user name or password (they would end up in logs)");
    }
    if authority.host().is_empty() {
        return Err("must name a host");
    }
    Ok(uri)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_urls_are_checked_without_echo() {
        assert!(upstream_url("http://127.0.0.1:3000/tencent").is_ok());
        assert!(upstream_url("https://backend.internal/cb?x=1").is_ok());
        for bad in [
            "ftp://host/",
            "127.0.0.1:3000",
            "http://user:hunter2@host/",
            "not a url",
            "/relative",
        ] {
            let why = upstream_url(bad).unwrap_err();
            assert!(!why.contains("hunter2") && !why.contains(bad), "{why}");
        }
    }
}
