//! Arbitrary TRTC headers and bodies through the verifier: never a panic, and nothing is accepted
//! unless its `Sign` is the HMAC of the body under the app's key and the fields read are the ones
//! serde_json reads.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use tim_callback_auth::trtc::{TrtcKey, TrtcKeys, TrtcVerifier};

const APP: u64 = 1400000001;

fn fixture() -> &'static (TrtcKey, TrtcKeys) {
    static FIXTURE: OnceLock<(TrtcKey, TrtcKeys)> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let key = TrtcKey::new("FuzzTrtcKey").unwrap();
        (key.clone(), TrtcKeys::single(APP, key))
    })
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let (key, keys) = fixture();
    // First byte: how to sign. Second: the length of a raw Sign header taken from the input.
    let (mode, rest) = (data[0], &data[1..]);
    let body = rest;
    let sign = match mode % 3 {
        // Correctly signed: exercises the serde read of the fields on arbitrary (signed) bodies.
        0 => key.sign(body),
        // A raw header value from the input.
        1 => String::from_utf8_lossy(&rest[..rest.len().min(usize::from(data[1] % 64))]).into_owned(),
        // A valid-looking but wrong Sign.
        _ => "A".repeat(43) + "=",
    };
    let mut headers = http::HeaderMap::new();
    headers.insert("SdkAppId", APP.into());
    let Ok(value) = sign.parse() else { return };
    headers.insert("Sign", value);
    let now = 1_700_000_000_000;
    if let Ok(event) = TrtcVerifier::new().verify(keys, &headers, body, now) {
        assert_eq!(key.sign(body), sign, "accepted without the right Sign");
        if let Ok(parsed) = serde_json::from_slice::<serde_json::Value>(body) {
            assert_eq!(parsed["EventGroupId"].as_u64(), Some(event.event_group_id()));
            assert_eq!(parsed["EventType"].as_u64(), Some(event.event_type()));
            assert_eq!(parsed["CallbackTs"].as_u64(), Some(event.callback_ts_ms()));
            // EventInfo, raw from the body, is the value the parser finds.
            let info = event
                .event_info(body)
                .map(|raw| serde_json::from_str::<serde_json::Value>(raw).unwrap());
            let expected = parsed.get("EventInfo").filter(|v| !v.is_null()).cloned();
            assert_eq!(info, expected);
        }
    }
});
