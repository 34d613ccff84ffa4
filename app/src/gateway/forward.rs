//! What the upstream receives: the query rebuilt from one reading, the headers a proxy passes on,
//! and the verified facts.

use http::header::{self, HeaderMap, HeaderName, HeaderValue};

/// The parameters the gateway writes itself from what it verified (or drops: the `Sign` is a
/// bearer credential for its window, `RequestTime` is in `x-tim-request-time`), compared after
/// percent-decoding and ignoring ASCII case, so that no spelling of them reaches the upstream.
const REWRITTEN: [&str; 5] = [
    "SdkAppid",
    "Sign",
    "RequestTime",
    "CallbackCommand",
    "WebhookCommand",
];

/// The query for the upstream: `SdkAppid` (the verified app) and `CallbackCommand` (the one
/// reading of the command) first, then Tencent's other parameters, each decoded once and written
/// again in canonical form. A decoding upstream reads the same as the gateway did: an
/// `SdkAppi%64=…` is dropped, not passed on for the upstream to decode into a second app.
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
    for (name, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        // Unicode case too: `Callbac\u{212A}Command` (a Kelvin sign) lower-cases to a `k`.
        let (lower, upper) = (name.to_lowercase(), name.to_uppercase());
        let rewritten = REWRITTEN
            .iter()
            .any(|r| r.eq_ignore_ascii_case(&lower) || r.eq_ignore_ascii_case(&upper));
        if name.is_empty() || rewritten {
            continue;
        }
        out.append_pair(&name, &value);
    }
    out.finish()
}

/// Whether `name` is a header the gateway writes or must not pass on: hop-by-hop headers (RFC
/// 9110 §7.6.1, and those the `Connection` header names), `Host` and `Content-Length` (the
/// client's own), TRTC's `Sign` and `SdkAppId` (the verified facts replace them), and every
/// `webhook-*` and `x-tim-*` header (a sender must not be able to write the signature or a
/// verified fact).
fn dropped(name: &HeaderName, connection: &[String]) -> bool {
    const HOP_BY_HOP: [&str; 8] = [
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
    ];
    let name = name.as_str();
    HOP_BY_HOP.contains(&name)
        || name == "upgrade"
        || name == "host"
        || name == "content-length"
        || name == "sign"
        || name == "sdkappid"
        || name.starts_with("webhook-")
        || name.starts_with("x-tim-")
        || connection.iter().any(|c| c == name)
}

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
        if !dropped(name, &connection) && name != "x-forwarded-for" {
            out.append(name.clone(), value.clone());
        }
    }
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
        // Every spelling of a rewritten parameter is dropped; the rest is decoded once and
        // written canonically.
        let q = upstream_query(
            Some("SdkAppi%64=2&sdkappid=3&SIGN=x&sign=y&Request%54ime=1&%57ebhookCommand=Z&a%20b=c%2Bd&x=%E4%BD%A0"),
            Some(1),
            None,
        );
        assert_eq!(q, "SdkAppid=1&a+b=c%2Bd&x=%E4%BD%A0");
        let q = upstream_query(Some("Callbac%E2%84%AACommand=Z&%C5%BFign=s"), None, None);
        assert_eq!(q, "");
        assert_eq!(upstream_query(None, None, None), "");
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
        /// `SdkAppid`, the verified app; exactly one command, the one read; no `Sign`,
        /// `RequestTime` or `WebhookCommand` in any spelling; every other pair as the gateway
        /// decoded it, in order.
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
            let named = |name: &str| {
                read.iter()
                    .filter(|(n, _)| n.to_lowercase() == name.to_lowercase() || n.to_uppercase() == name.to_uppercase())
                    .count()
            };
            proptest::prop_assert_eq!(&read[0], &("SdkAppid".to_owned(), app.to_string()));
            proptest::prop_assert_eq!(&read[1], &("CallbackCommand".to_owned(), "A.B".to_owned()));
            proptest::prop_assert_eq!(named("SdkAppid"), 1);
            proptest::prop_assert_eq!(named("CallbackCommand"), 1);
            for name in ["Sign", "RequestTime", "WebhookCommand"] {
                proptest::prop_assert_eq!(named(name), 0);
            }
            let kept: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
                .map(|(n, v)| (n.into_owned(), v.into_owned()))
                .filter(|(n, _)| {
                    !n.is_empty()
                        && !REWRITTEN.iter().any(|r| {
                            r.eq_ignore_ascii_case(&n.to_lowercase())
                                || r.eq_ignore_ascii_case(&n.to_uppercase())
                        })
                })
                .collect();
            proptest::prop_assert_eq!(&read[2..], &kept[..]);
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
        ] {
            h.append(n, HeaderValue::from_static(v));
        }
        let out = upstream_headers(&h, Some([10, 0, 0, 1].into()));
        let names: Vec<&str> = out.keys().map(HeaderName::as_str).collect();
        assert_eq!(names, ["content-type", "user-agent", "x-forwarded-for"]);
        assert_eq!(out["x-forwarded-for"], "203.0.113.9, 10.0.0.1");
    }
}
