//! What the upstream receives: the query rebuilt from one reading, the headers a proxy passes on,
//! and the verified facts.

use http::header::{self, HeaderMap, HeaderValue};

/// Tencent's other parameters (PROTOCOL.md §1), the only ones passed on besides the two the
/// gateway writes itself, each under its canonical name, at most once, with a value of the
/// shape Tencent sends: everything else in the query (the `Sign`, a bearer credential for its
/// window; `RequestTime`, in `x-tim-request-time`; any other name, in any spelling or
/// disguise) is dropped. An allowlist, not a blocklist: backends read queries with parsers that
/// disagree (PHP's `parse_str` drops leading spaces and folds `name[]` into `name`, qs and Rack
/// read brackets), so a name the gateway did not write could be read by one of them as
/// `SdkAppid` or `CallbackCommand`.
const PASSED_ON: [(&str, Check); 3] = [
    ("contenttype", word),
    ("ClientIP", address),
    ("OptPlatform", word),
];

/// A parameter's value as passed on, or `None` when it is not of the shape Tencent sends.
type Check = fn(&str) -> Option<String>;

/// `json`, `RESTAPI`, `iOS`: ASCII letters and digits, 1 to 32 of them.
fn word(value: &str) -> Option<String> {
    let ok = (1..=32).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_alphanumeric());
    ok.then(|| value.to_owned())
}

/// An IPv4 or IPv6 address, written canonically.
fn address(value: &str) -> Option<String> {
    value
        .parse::<std::net::IpAddr>()
        .ok()
        .map(|ip| ip.to_string())
}

/// The query for the upstream: `SdkAppid` (the verified app) and `CallbackCommand` (the one
/// reading of the command) first, then [`PASSED_ON`]'s parameters as the gateway decoded them
/// (the first of each), written again in canonical form. Every name in it is one of those five,
/// made of ASCII letters only, so every query parser reads the same pairs.
pub(crate) fn upstream_query(
    query: Option<&str>,
    app: Option<u64>,
    command: Option<&str>,
) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    if let Some(app) = app {
        out.append_pair("SdkAppid", &app.to_string());
    }
    if let Some(command) = command {
        out.append_pair("CallbackCommand", command);
    }
    // The first occurrence of each decides, even when its value is refused: a later one is
    // not a second chance.
    let mut found: [Option<Option<String>>; PASSED_ON.len()] = Default::default();
    for (name, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        let Some(i) = PASSED_ON
            .iter()
            .position(|(known, _)| known.eq_ignore_ascii_case(&name))
        else {
            continue;
        };
        if found[i].is_none() {
            found[i] = Some((PASSED_ON[i].1)(&value));
        }
    }
    for ((name, _), value) in PASSED_ON.iter().zip(found) {
        if let Some(Some(value)) = value {
            out.append_pair(name, &value);
        }
    }
    out.finish()
}

/// The incoming headers passed on, when the `Connection` header does not name them
/// (hop-by-hop, RFC 9110 §7.6.1): an allowlist, as for the query. Everything else the caller
/// wrote is dropped: `Host` and `Content-Length` (the gateway's own), `Content-Type` (always
/// `application/json`: a form type would let a body-reading parser take `SdkAppid` from the
/// body), `Accept-Encoding` (`identity`: the gateway reads the reply), TRTC's `Sign`, every
/// `webhook-*` and `x-tim-*` header and their spellings with `_` or `.` (which CGI, WSGI and PHP
/// read as the same names), `Forwarded` and `X-Real-IP` (the caller wrote them), rewrite headers
/// such as `X-Original-URL`.
const PASSED_ON_HEADERS: [&str; 4] = ["user-agent", "x-request-id", "traceparent", "tracestate"];

/// The request's end-to-end headers, for the upstream; `X-Forwarded-For` gains the peer.
pub(crate) fn upstream_headers(incoming: &HeaderMap, peer: Option<std::net::IpAddr>) -> HeaderMap {
    let connection: Vec<String> = incoming
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty())
        .collect();
    let mut out = HeaderMap::new();
    for (name, value) in incoming {
        let name_str = name.as_str();
        if PASSED_ON_HEADERS.contains(&name_str) && !connection.iter().any(|c| c == name_str) {
            out.append(name.clone(), value.clone());
        }
    }
    out.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(peer) = peer {
        let mut chain: Vec<String> = incoming
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_owned)
            .collect();
        chain.push(peer.to_string());
        if let Ok(value) = HeaderValue::from_str(&chain.join(", ")) {
            out.insert("x-forwarded-for", value);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::HeaderName;

    #[test]
    fn the_query_is_the_verified_reading() {
        let q = upstream_query(
            Some("SdkAppid=1&CallbackCommand=X.Y&contenttype=json&ClientIP=1.2.3.4&OptPlatform=iOS&Sign=abc&RequestTime=5"),
            Some(1400000001),
            Some("C2C.CallbackAfterSendMsg"),
        );
        assert_eq!(
            q,
            "SdkAppid=1400000001&CallbackCommand=C2C.CallbackAfterSendMsg&contenttype=json&ClientIP=1.2.3.4&OptPlatform=iOS"
        );
        // Every spelling of a rewritten parameter is dropped, and every name not on the list.
        let q = upstream_query(
            Some("SdkAppi%64=2&sdkappid=3&SIGN=x&sign=y&Request%54ime=1&%57ebhookCommand=Z&a%20b=c%2Bd&x=%E4%BD%A0"),
            Some(1),
            None,
        );
        assert_eq!(q, "SdkAppid=1");
        // The disguises PHP, qs and Rack undo: a leading space, brackets, a dot.
        let q = upstream_query(
            Some("%20SdkAppid=9&SdkAppid[]=8&+CallbackCommand=Z&Sign[]=x&SdkAppid.=7"),
            Some(1),
            Some("A.B"),
        );
        assert_eq!(q, "SdkAppid=1&CallbackCommand=A.B");
        let q = upstream_query(Some("Callbac%E2%84%AACommand=Z&%C5%BFign=s"), None, None);
        assert_eq!(q, "");
        assert_eq!(upstream_query(None, None, None), "");
        // Passed on by a case-insensitive name, written canonically, the first occurrence
        // deciding; values of another shape are dropped.
        let q = upstream_query(
            Some("CONTENTTYPE=json&contenttype=xml&clientip=%3A%3Affff%3A1.2.3.4&OptPlatform=i%20OS&OptPlatform=iOS"),
            None,
            None,
        );
        assert_eq!(q, "contenttype=json&ClientIP=%3A%3Affff%3A1.2.3.4");
        let q = upstream_query(
            Some("ClientIP=1.2.3.4%0d%0aX:1&contenttype=&OptPlatform=Web"),
            None,
            None,
        );
        assert_eq!(q, "OptPlatform=Web");
    }

    /// Query pieces an attacker combines: the rewritten names in every disguise, separators,
    /// escapes, multi-byte text.
    fn piece() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        prop_oneof![
            Just("SdkAppid".to_owned()),
            Just("SdkAppi%64".to_owned()),
            Just("sdkappid".to_owned()),
            Just("Sign".to_owned()),
            Just("%53ign".to_owned()),
            Just("RequestTime".to_owned()),
            Just("CallbackCommand".to_owned()),
            Just("Callbac%E2%84%AACommand".to_owned()),
            Just("WebhookCommand".to_owned()),
            Just("contenttype=json".to_owned()),
            Just("CONTENTTYPE".to_owned()),
            Just("ClientIP=".to_owned()),
            Just("1.2.3.4".to_owned()),
            Just("%3A%3A1".to_owned()),
            Just("OptPlatform=iOS".to_owned()),
            Just("[]".to_owned()),
            Just("%20".to_owned()),
            Just("=".to_owned()),
            Just("&".to_owned()),
            Just("+".to_owned()),
            Just("%".to_owned()),
            Just("%2".to_owned()),
            Just("%26".to_owned()),
            Just("%3D".to_owned()),
            Just("%FF".to_owned()),
            Just("你".to_owned()),
            "[a-zA-Z0-9._-]{0,6}",
        ]
    }

    proptest::proptest! {
        /// The upstream's decoding parser (the real one, `form_urlencoded`, as `url` and most
        /// frameworks read queries) reads the rebuilt query as the gateway meant it: exactly one
        /// `SdkAppid`, the verified app; exactly one command, the one read; then only the
        /// parameters passed on, each at most once, under its canonical name (ASCII letters
        /// only: nothing a bracket-, space- or dot-folding parser could read as another name),
        /// with the first occurrence's value as the gateway decoded it.
        #[test]
        fn a_decoding_upstream_reads_the_gateways_reading(
            pieces in proptest::collection::vec(piece(), 0..24),
            app in 1u64..=u64::MAX,
        ) {
            let query = pieces.concat();
            let rebuilt = upstream_query(Some(&query), Some(app), Some("A.B"));
            let read: Vec<(String, String)> = form_urlencoded::parse(rebuilt.as_bytes())
                .map(|(n, v)| (n.into_owned(), v.into_owned()))
                .collect();
            proptest::prop_assert_eq!(&read[0], &("SdkAppid".to_owned(), app.to_string()));
            proptest::prop_assert_eq!(&read[1], &("CallbackCommand".to_owned(), "A.B".to_owned()));
            let incoming: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
                .map(|(n, v)| (n.into_owned(), v.into_owned()))
                .collect();
            let mut expected = Vec::new();
            for (known, check) in PASSED_ON {
                let first = incoming.iter().find(|(n, _)| n.eq_ignore_ascii_case(known));
                if let Some(value) = first.and_then(|(_, v)| check(v)) {
                    expected.push((known.to_owned(), value));
                }
            }
            proptest::prop_assert_eq!(&read[2..], &expected[..]);
            for (name, value) in &read[2..] {
                proptest::prop_assert!(name.bytes().all(|b| b.is_ascii_alphabetic()));
                proptest::prop_assert!(value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b':'));
            }
        }
    }

    #[test]
    fn hop_by_hop_and_forged_facts_do_not_pass() {
        let mut h = HeaderMap::new();
        for (n, v) in [
            ("connection", "keep-alive, x-secret-hop"),
            ("x-secret-hop", "1"),
            ("keep-alive", "timeout=5"),
            ("transfer-encoding", "chunked"),
            ("host", "gateway.example"),
            ("content-length", "2"),
            ("content-type", "application/json"),
            ("user-agent", "tencent"),
            ("webhook-signature", "v1,forged"),
            ("x-tim-verified", "sign"),
            ("sign", "abcd"),
            ("x-forwarded-for", "203.0.113.9"),
            ("accept-encoding", "gzip"),
            ("x_tim_verified", "sign"),
            ("webhook_id", "msg_forged"),
            ("forwarded", "for=198.51.100.1"),
            ("x-real-ip", "198.51.100.1"),
            ("upgrade", "websocket"),
            ("te", "trailers"),
        ] {
            h.append(n, HeaderValue::from_static(v));
        }
        for (n, v) in [
            ("x.tim.verified", "sign"),
            ("x-original-url", "/admin"),
            ("content-encoding", "gzip"),
            (
                "traceparent",
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            ),
        ] {
            h.append(HeaderName::from_static(n), HeaderValue::from_static(v));
        }
        h.insert(
            "content-type",
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        let out = upstream_headers(&h, Some([10, 0, 0, 1].into()));
        let mut names: Vec<&str> = out.keys().map(HeaderName::as_str).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "content-type",
                "traceparent",
                "user-agent",
                "x-forwarded-for"
            ]
        );
        assert_eq!(out["content-type"], "application/json");
        assert_eq!(out["x-forwarded-for"], "203.0.113.9, 10.0.0.1");
    }
}
