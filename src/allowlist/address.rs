//! [`ClientAddress`]: where the address of the caller comes from.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use http::header::{HeaderName, FORWARDED};
use http::{HeaderMap, Request};

/// `X-Forwarded-For`, built once (a header name given as text is parsed on every lookup).
static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// The longest forwarding header read, in bytes; a longer one cannot be trusted to be parsed the
/// way the proxies that wrote it meant, so the address is unknown.
const MAX_HEADER_LEN: usize = 4096;

/// Where the layer finds the address of whoever sent a request, chosen explicitly: the wrong
/// choice is either useless (behind a proxy, the TCP peer is the proxy) or spoofable (the client
/// writes `X-Forwarded-For` itself).
///
/// - [`peer`](ClientAddress::peer): the TCP peer, from the request's extensions: axum's
///   `ConnectInfo<SocketAddr>` (`into_make_service_with_connect_info::<SocketAddr>()`, with the
///   `axum` feature) or a plain `SocketAddr` a hyper server inserts.
/// - [`x_forwarded_for(n)`](ClientAddress::x_forwarded_for): behind `n` trusted reverse proxies,
///   the address `n` entries from the right of `X-Forwarded-For` (each trusted proxy appends the
///   address it saw; everything further left was written by the client and is never read).
/// - [`forwarded(n)`](ClientAddress::forwarded): the same with RFC 7239 `Forwarded`'s `for=`.
/// - [`custom`](ClientAddress::custom): your own function of the headers and extensions.
///
/// When the address cannot be determined (no extension, too few entries, a malformed or oversized
/// header, an obfuscated `for=`), the request is rejected with
/// [`Rejection::UnknownSource`](crate::Rejection::UnknownSource) and counted, never let through.
///
/// # Examples
///
/// ```
/// use std::net::SocketAddr;
/// use tim_callback_auth::allowlist::ClientAddress;
///
/// // One trusted proxy: its entry is the rightmost; the spoofed one on the left is ignored.
/// let request = http::Request::get("/")
///     .header("x-forwarded-for", "6.6.6.6, 203.0.113.9")
///     .body(())?;
/// assert_eq!(ClientAddress::x_forwarded_for(1).of(&request), Some("203.0.113.9".parse()?));
/// assert_eq!(ClientAddress::x_forwarded_for(3).of(&request), None); // fewer entries than proxies
///
/// let mut direct = http::Request::get("/").body(())?;
/// direct.extensions_mut().insert("198.51.100.7:443".parse::<SocketAddr>()?);
/// assert_eq!(ClientAddress::peer().of(&direct), Some("198.51.100.7".parse()?));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct ClientAddress(Kind);

type Custom = Arc<dyn Fn(&HeaderMap, &http::Extensions) -> Option<IpAddr> + Send + Sync>;

#[derive(Clone)]
enum Kind {
    Peer,
    XForwardedFor(usize),
    Forwarded(usize),
    Custom(Custom),
}

impl ClientAddress {
    /// The TCP peer, from a `SocketAddr` in the request's extensions (axum's `ConnectInfo` with
    /// the `axum` feature, or one a hyper server inserts).
    pub fn peer() -> Self {
        Self(Kind::Peer)
    }

    /// Behind `trusted_proxies` reverse proxies that each append to `X-Forwarded-For`: the entry
    /// that many places from the right. `0` means the TCP peer ([`peer`](Self::peer)).
    pub fn x_forwarded_for(trusted_proxies: usize) -> Self {
        match trusted_proxies {
            0 => Self::peer(),
            n => Self(Kind::XForwardedFor(n)),
        }
    }

    /// Behind `trusted_proxies` reverse proxies that each append to RFC 7239 `Forwarded`: the
    /// `for=` of the element that many places from the right. `0` means the TCP peer.
    pub fn forwarded(trusted_proxies: usize) -> Self {
        match trusted_proxies {
            0 => Self::peer(),
            n => Self(Kind::Forwarded(n)),
        }
    }

    /// Your own rule, from the request's headers and extensions (`None`: unknown, rejected).
    pub fn custom<F>(f: F) -> Self
    where
        F: Fn(&HeaderMap, &http::Extensions) -> Option<IpAddr> + Send + Sync + 'static,
    {
        Self(Kind::Custom(Arc::new(f)))
    }

    /// The address of `request`'s sender, or `None` when it cannot be determined.
    pub fn of<B>(&self, request: &Request<B>) -> Option<IpAddr> {
        match &self.0 {
            Kind::Peer => peer(request.extensions()),
            Kind::XForwardedFor(n) => {
                nth_from_right(request.headers(), &X_FORWARDED_FOR, *n, parse_xff)
            }
            Kind::Forwarded(n) => {
                nth_from_right(request.headers(), &FORWARDED, *n, parse_forwarded)
            }
            Kind::Custom(f) => f(request.headers(), request.extensions()),
        }
    }
}

impl fmt::Debug for ClientAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Kind::Peer => f.write_str("ClientAddress::Peer"),
            Kind::XForwardedFor(n) => write!(f, "ClientAddress::XForwardedFor({n})"),
            Kind::Forwarded(n) => write!(f, "ClientAddress::Forwarded({n})"),
            Kind::Custom(_) => f.write_str("ClientAddress::Custom"),
        }
    }
}

fn peer(extensions: &http::Extensions) -> Option<IpAddr> {
    #[cfg(feature = "axum")]
    if let Some(info) = extensions.get::<axum::extract::ConnectInfo<SocketAddr>>() {
        return Some(info.0.ip());
    }
    extensions.get::<SocketAddr>().map(SocketAddr::ip)
}

/// The entry `n` places from the right (1 = the rightmost) of all the `name` headers taken as one
/// comma-separated list, in order. `None` when there are fewer entries, any header read is longer
/// than [`MAX_HEADER_LEN`], or the chosen entry is not text or does not parse. Entries further left
/// are counted, never read: they are the client's.
fn nth_from_right(
    headers: &HeaderMap,
    name: &HeaderName,
    n: usize,
    parse: fn(&[u8]) -> Option<IpAddr>,
) -> Option<IpAddr> {
    let mut seen = 0;
    // Later header lines come after earlier ones: read them backwards too.
    for value in headers.get_all(name).iter().rev() {
        if value.len() > MAX_HEADER_LEN {
            return None;
        }
        for entry in value.as_bytes().rsplit(|&b| b == b',') {
            seen += 1;
            if seen == n {
                return parse(entry.trim_ascii());
            }
        }
    }
    None
}

/// An `X-Forwarded-For` entry: an address, or an address with a port (`[v6]:port`, `v4:port`).
fn parse_xff(entry: &[u8]) -> Option<IpAddr> {
    let entry = std::str::from_utf8(entry).ok()?;
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

/// A `Forwarded` element (`for=192.0.2.60;proto=http;by=…`): its `for=` value, quoted or not,
/// with an optional port; obfuscated identifiers (`unknown`, `_hidden`) are no address.
fn parse_forwarded(element: &[u8]) -> Option<IpAddr> {
    let element = std::str::from_utf8(element).ok()?;
    let mut found = None;
    for pair in element.split(';') {
        let (key, value) = pair.trim().split_once('=')?;
        if key.trim().eq_ignore_ascii_case("for") {
            if found.is_some() {
                // Two `for=` in one element: ambiguous.
                return None;
            }
            let value = value.trim();
            let value = match value.strip_prefix('"') {
                Some(quoted) => quoted.strip_suffix('"')?,
                None => value,
            };
            let address = match value.strip_prefix('[') {
                // `[v6]` or `[v6]:port`
                Some(rest) => rest
                    .split_once(']')?
                    .0
                    .parse::<std::net::Ipv6Addr>()
                    .ok()
                    .map(IpAddr::V6)?,
                None => parse_xff(value.as_bytes())?,
            };
            found = Some(address);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn request(headers: &[(&str, &str)]) -> Request<()> {
        let mut builder = Request::get("/");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(()).unwrap()
    }

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    #[test]
    fn x_forwarded_for_is_read_from_the_right() {
        let spoofed = request(&[("x-forwarded-for", "6.6.6.6, 1.1.1.1, 2.2.2.2")]);
        assert_eq!(
            ClientAddress::x_forwarded_for(1).of(&spoofed),
            ip("2.2.2.2")
        );
        assert_eq!(
            ClientAddress::x_forwarded_for(2).of(&spoofed),
            ip("1.1.1.1")
        );
        assert_eq!(
            ClientAddress::x_forwarded_for(3).of(&spoofed),
            ip("6.6.6.6")
        );
        assert_eq!(ClientAddress::x_forwarded_for(4).of(&spoofed), None);
        // Several header lines are one list, in order.
        let split = request(&[
            ("x-forwarded-for", "6.6.6.6, 1.1.1.1"),
            ("x-forwarded-for", "2.2.2.2"),
        ]);
        assert_eq!(ClientAddress::x_forwarded_for(1).of(&split), ip("2.2.2.2"));
        assert_eq!(ClientAddress::x_forwarded_for(2).of(&split), ip("1.1.1.1"));
        // Ports and brackets.
        let ported = request(&[("x-forwarded-for", "[2001:db8::1]:443, 192.0.2.1:8080")]);
        assert_eq!(
            ClientAddress::x_forwarded_for(1).of(&ported),
            ip("192.0.2.1")
        );
        assert_eq!(
            ClientAddress::x_forwarded_for(2).of(&ported),
            ip("2001:db8::1")
        );
        // Zero trusted proxies: the peer, never the header.
        assert_eq!(ClientAddress::x_forwarded_for(0).of(&spoofed), None);
    }

    #[test]
    fn malformed_missing_or_oversized_headers_give_no_address() {
        for headers in [
            vec![],
            vec![("x-forwarded-for", "")],
            vec![("x-forwarded-for", "not-an-ip")],
            vec![("x-forwarded-for", "1.1.1.1,")],
            vec![("x-forwarded-for", "1.1.1.1, , 2.2.2.2")],
            vec![("x-forwarded-for", "unknown")],
        ] {
            let r = request(&headers);
            let first = ClientAddress::x_forwarded_for(1).of(&r);
            let second = ClientAddress::x_forwarded_for(2).of(&r);
            assert!(first.is_none() || second.is_none(), "{headers:?}");
        }
        let long = format!("{}1.1.1.1", "9.9.9.9, ".repeat(600));
        assert_eq!(
            ClientAddress::x_forwarded_for(1).of(&request(&[("x-forwarded-for", &long)])),
            None
        );
        // The bound is inclusive: a header of exactly the limit is read, one byte more is not.
        let exact = format!("{}1.1.1.1", " ".repeat(MAX_HEADER_LEN - "1.1.1.1".len()));
        assert_eq!(exact.len(), MAX_HEADER_LEN);
        assert_eq!(
            ClientAddress::x_forwarded_for(1).of(&request(&[("x-forwarded-for", &exact)])),
            ip("1.1.1.1")
        );
        let over = format!(" {exact}");
        assert_eq!(
            ClientAddress::x_forwarded_for(1).of(&request(&[("x-forwarded-for", &over)])),
            None
        );
        let mut binary = Request::get("/").body(()).unwrap();
        binary.headers_mut().insert(
            "x-forwarded-for",
            http::HeaderValue::from_bytes(b"1.1.1.\xff").unwrap(),
        );
        assert_eq!(ClientAddress::x_forwarded_for(1).of(&binary), None);
    }

    #[test]
    fn forwarded_is_read_from_the_right_with_quotes_ports_and_obfuscation() {
        let r = request(&[(
            "forwarded",
            r#"for=6.6.6.6, for="[2001:db8:cafe::17]:4711";proto=https, for=192.0.2.60;proto=http;by=203.0.113.43"#,
        )]);
        assert_eq!(ClientAddress::forwarded(1).of(&r), ip("192.0.2.60"));
        assert_eq!(ClientAddress::forwarded(2).of(&r), ip("2001:db8:cafe::17"));
        assert_eq!(ClientAddress::forwarded(3).of(&r), ip("6.6.6.6"));
        assert_eq!(ClientAddress::forwarded(4).of(&r), None);
        for element in [
            "for=unknown",
            "for=_hidden",
            "proto=http",
            "for=1.1.1.1;for=2.2.2.2",
            "for=\"1.1.1.1",
            "For=\"[::1]\"",
        ] {
            let expected = (element == "For=\"[::1]\"").then(|| "::1".parse().unwrap());
            assert_eq!(
                ClientAddress::forwarded(1).of(&request(&[("forwarded", element)])),
                expected,
                "{element}"
            );
        }
    }

    #[test]
    fn the_peer_comes_from_the_extensions() {
        let mut r = request(&[("x-forwarded-for", "6.6.6.6")]);
        assert_eq!(ClientAddress::peer().of(&r), None);
        r.extensions_mut()
            .insert("[2001:db8::9]:1234".parse::<SocketAddr>().unwrap());
        assert_eq!(ClientAddress::peer().of(&r), ip("2001:db8::9"));
        #[cfg(feature = "axum")]
        {
            let mut r = request(&[]);
            r.extensions_mut().insert(axum::extract::ConnectInfo(
                "203.0.113.1:80".parse::<SocketAddr>().unwrap(),
            ));
            assert_eq!(ClientAddress::peer().of(&r), ip("203.0.113.1"));
        }
        let custom = ClientAddress::custom(|headers, _| {
            headers.get("x-real-ip")?.to_str().ok()?.parse().ok()
        });
        assert_eq!(
            custom.of(&request(&[("x-real-ip", "5.5.5.5")])),
            ip("5.5.5.5")
        );
        assert_eq!(custom.of(&request(&[])), None);
    }

    proptest! {
        /// Whatever the client prepends, the entry the trusted proxies appended is the one read.
        #[test]
        fn spoofed_left_entries_never_change_the_answer(
            spoofed in proptest::collection::vec("[0-9a-z.:\\[\\] ]{0,20}", 0..5),
            proxies in proptest::collection::vec(any::<u32>(), 1..4),
        ) {
            let appended: Vec<String> = proxies.iter().map(|a| std::net::Ipv4Addr::from(*a).to_string()).collect();
            let header = spoofed.iter().chain(&appended).cloned().collect::<Vec<_>>().join(", ");
            let Ok(value) = http::HeaderValue::from_str(&header) else { return Ok(()) };
            let mut r = Request::get("/").body(()).unwrap();
            r.headers_mut().insert("x-forwarded-for", value);
            let n = appended.len();
            prop_assert_eq!(ClientAddress::x_forwarded_for(n).of(&r), appended[0].parse().ok());
        }
    }
}
