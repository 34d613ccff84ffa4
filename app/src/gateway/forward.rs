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
