//! The naive baseline and the benchmark query, shared by `benches/verify.rs` and
//! `benches/instructions.rs` so that timings and instruction counts measure the same code.

use sha2::{Digest, Sha256};

pub(crate) const TOKEN: &str = "bench-callback-token-0123456789";
pub(crate) const NOW: u64 = 1_700_000_000;

/// A query as Tencent sends it: seven parameters, `Sign` and `RequestTime` last (~200 bytes).
pub(crate) fn query(sign: &str, time: u64) -> String {
    format!(
        "SdkAppid=1400000000&CallbackCommand=C2C.CallbackAfterSendMsg&contenttype=json\
         &ClientIP=1.2.3.4&OptPlatform=RESTAPI&Sign={sign}&RequestTime={time}"
    )
}

/// What a first implementation typically does: parse into owned strings, build the message, hex
/// encode the digest and compare strings with `==`.
pub(crate) fn naive_verify(token: &str, query: &str, now: u64) -> bool {
    let mut sign = None;
    let mut time = None;
    for pair in query.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "Sign" => sign = Some(v.to_string()),
            "RequestTime" => time = Some(v.to_string()),
            _ => {}
        }
    }
    let (Some(sign), Some(time)) = (sign, time) else {
        return false;
    };
    let Ok(t) = time.parse::<u64>() else {
        return false;
    };
    if t.abs_diff(now) > 60 {
        return false;
    }
    let message = format!("{token}{time}");
    hex::encode(Sha256::digest(message.as_bytes())) == sign.to_lowercase()
}
