//! [`Region`]: where Tencent's admin REST API lives.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// A Tencent Cloud Chat data center, or a custom base URL (a proxy, or a local mock in tests).
///
/// # Examples
///
/// ```
/// use tim_callback_auth::rest::Region;
///
/// let region: Region = "singapore".parse()?;
/// assert_eq!(region.base_url(), "https://adminapisgp.im.qcloud.com");
/// let local = Region::custom("http://127.0.0.1:8080/")?;
/// assert_eq!(local.base_url(), "http://127.0.0.1:8080");
/// # Ok::<(), tim_callback_auth::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Region {
    /// China: `console.tim.qq.com`.
    #[default]
    China,
    /// Singapore: `adminapisgp.im.qcloud.com`.
    Singapore,
    /// Seoul, Korea: `adminapikr.im.qcloud.com`.
    Korea,
    /// Tokyo, Japan: `adminapijpn.im.qcloud.com`.
    Japan,
    /// Frankfurt, Germany: `adminapiger.im.qcloud.com`.
    Germany,
    /// Mumbai, India: `adminapiind.im.qcloud.com`.
    India,
    /// Silicon Valley, USA: `adminapiusa.im.qcloud.com`.
    Usa,
    /// Jakarta, Indonesia: `adminapiidn.im.qcloud.com`.
    Indonesia,
    /// A custom base URL, built (and validated) by [`Region::custom`].
    Custom(CustomUrl),
}

/// The validated base URL of a [`Region::Custom`]: only [`Region::custom`] makes one.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CustomUrl(String);

impl CustomUrl {
    /// The URL, without a trailing slash.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Region {
    /// Every named region, in the order of Tencent's documentation.
    pub const ALL: [Region; 8] = [
        Region::China,
        Region::Singapore,
        Region::Korea,
        Region::Japan,
        Region::Germany,
        Region::India,
        Region::Usa,
        Region::Indonesia,
    ];

    /// A custom base URL such as `https://proxy.example.com` or `http://127.0.0.1:8080`.
    ///
    /// # Errors
    ///
    /// An [`Error`] of kind [`InvalidInput`](crate::ErrorKind::InvalidInput) when the URL does not start with `http://` or `https://`, has no host,
    /// or carries a query or fragment.
    pub fn custom(base_url: &str) -> Result<Self, Error> {
        let trimmed = base_url.trim().trim_end_matches('/');
        let rest = trimmed
            .strip_prefix("https://")
            .or_else(|| trimmed.strip_prefix("http://"));
        match rest {
            Some(host) if !host.is_empty() && !host.contains(['?', '#', ' ', '@']) => {
                Ok(Region::Custom(CustomUrl(trimmed.to_owned())))
            }
            _ => Err(Error::invalid_input(
                "invalid base url: expected http:// or https:// followed by a host, without query or fragment",
            )),
        }
    }

    /// The API domain of a named region; `None` for a custom URL.
    pub const fn domain(&self) -> Option<&'static str> {
        Some(match self {
            Region::China => "console.tim.qq.com",
            Region::Singapore => "adminapisgp.im.qcloud.com",
            Region::Korea => "adminapikr.im.qcloud.com",
            Region::Japan => "adminapijpn.im.qcloud.com",
            Region::Germany => "adminapiger.im.qcloud.com",
            Region::India => "adminapiind.im.qcloud.com",
            Region::Usa => "adminapiusa.im.qcloud.com",
            Region::Indonesia => "adminapiidn.im.qcloud.com",
            Region::Custom(_) => return None,
        })
    }

    /// The name accepted by `parse` (`china`, `singapore`, …); `custom` for a custom URL.
    pub const fn name(&self) -> &'static str {
        match self {
            Region::China => "china",
            Region::Singapore => "singapore",
            Region::Korea => "korea",
            Region::Japan => "japan",
            Region::Germany => "germany",
            Region::India => "india",
            Region::Usa => "usa",
            Region::Indonesia => "indonesia",
            Region::Custom(_) => "custom",
        }
    }

    /// The host (and port) requests go to: the domain of a named region, the authority of a
    /// custom URL (never its path).
    pub fn host(&self) -> String {
        let url = self.base_url();
        let rest = url.split_once("://").map_or(url.as_str(), |(_, rest)| rest);
        rest.split('/').next().unwrap_or_default().to_owned()
    }

    /// Whether requests would go over plain `http://` to a host other than loopback.
    pub(crate) fn is_insecure_remote(&self) -> bool {
        let Region::Custom(CustomUrl(url)) = self else {
            return false;
        };
        let Some(rest) = url.strip_prefix("http://") else {
            return false;
        };
        let authority = rest.split('/').next().unwrap_or_default();
        let host = match authority.strip_prefix('[') {
            // `[v6]:port`
            Some(v6) => v6.split(']').next().unwrap_or_default(),
            None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
        };
        let loopback = host.eq_ignore_ascii_case("localhost")
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        !loopback
    }

    /// The base URL requests go to, without a trailing slash (`https://{domain}` for named regions).
    pub fn base_url(&self) -> String {
        match (self, self.domain()) {
            (Region::Custom(url), _) => url.0.clone(),
            (_, Some(domain)) => format!("https://{domain}"),
            (_, None) => unreachable!("only custom regions have no domain"),
        }
    }
}

impl FromStr for Region {
    type Err = Error;

    /// Parses a region name (case-insensitive) or, when it starts with `http://` or `https://`, a
    /// custom base URL.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.starts_with("http://") || s.starts_with("https://") {
            return Region::custom(s);
        }
        Region::ALL
            .into_iter()
            .find(|r| r.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                Error::invalid_input(
                    "unknown region: expected china, singapore, korea, japan, germany, india, usa or indonesia",
                )
            })
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Region::Custom(url) => f.write_str(&url.0),
            named => f.write_str(named.name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_parses_to_its_domain() {
        let expected = [
            ("china", "console.tim.qq.com"),
            ("singapore", "adminapisgp.im.qcloud.com"),
            ("korea", "adminapikr.im.qcloud.com"),
            ("japan", "adminapijpn.im.qcloud.com"),
            ("germany", "adminapiger.im.qcloud.com"),
            ("india", "adminapiind.im.qcloud.com"),
            ("usa", "adminapiusa.im.qcloud.com"),
            ("indonesia", "adminapiidn.im.qcloud.com"),
        ];
        for (name, domain) in expected {
            let region: Region = name.parse().unwrap();
            assert_eq!(region.domain(), Some(domain));
            assert_eq!(region.base_url(), format!("https://{domain}"));
            assert_eq!(region.to_string(), name);
            assert_eq!(name.to_uppercase().parse::<Region>().unwrap(), region);
        }
    }

    #[test]
    fn only_loopback_hosts_count_as_safe_over_plain_http() {
        for url in [
            "http://127.0.0.1:8080",
            "http://127.8.9.10",
            "http://[::1]:9",
            "http://localhost:3000/prefix",
            "https://example.com",
            "https://10.0.0.1",
        ] {
            assert!(!Region::custom(url).unwrap().is_insecure_remote(), "{url}");
        }
        for url in [
            "http://10.0.0.1:8080",
            "http://example.com",
            "http://[2001:db8::1]:80",
            "http://localhost.example.com",
            "http://127.0.0.1.example.com",
        ] {
            assert!(Region::custom(url).unwrap().is_insecure_remote(), "{url}");
        }
        assert!(!Region::Singapore.is_insecure_remote());
        assert_eq!(Region::Singapore.host(), "adminapisgp.im.qcloud.com");
        assert_eq!(
            Region::custom("http://127.0.0.1:9/prefix/").unwrap().host(),
            "127.0.0.1:9"
        );
    }

    #[test]
    fn unknown_names_and_bad_urls_are_refused() {
        assert!("mars".parse::<Region>().is_err());
        assert!(Region::custom("ftp://x").is_err());
        assert!(Region::custom("http://").is_err());
        assert!(Region::custom("http://x/?a=b").is_err());
        assert_eq!(
            "http://127.0.0.1:9/".parse::<Region>().unwrap().base_url(),
            "http://127.0.0.1:9"
        );
    }
}
