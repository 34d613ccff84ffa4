//! Arbitrary query bytes and clock readings through the verifier: never a panic, and nothing is
//! accepted unless it carries the right `Sign` for its `RequestTime`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use tim_callback_auth::{CallbackToken, TokenSnapshot, Verifier};

struct Fixture {
    current: CallbackToken,
    previous: CallbackToken,
    snapshot: TokenSnapshot,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let current = CallbackToken::new("xxxxyyyy").unwrap();
        let previous = CallbackToken::new("previous-token").unwrap();
        let snapshot = TokenSnapshot::enabled(current.clone()).with_previous(previous.clone(), 1669872200);
        Fixture { current, previous, snapshot }
    })
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 9 {
        return;
    }
    let (head, rest) = data.split_at(9);
    // Clock near the official vector's time, so that the time window is often passed.
    let now = 1669872112u64.wrapping_add(u64::from(head[0]) as u64).wrapping_sub(128);
    let strict = head[1] & 1 == 1;
    let app = head[2] & 2 == 2;
    let Ok(query) = std::str::from_utf8(rest) else { return };
    let f = fixture();
    let mut verifier = Verifier::new().require_signature(strict);
    if app {
        verifier = verifier.with_app_id(888888);
    }
    for snapshot in [&f.snapshot, &TokenSnapshot::disabled()] {
        let result = verifier.verify(snapshot, query, now);
        if let Ok(callback) = result {
            if app {
                assert_eq!(callback.app_id(), 888888);
            }
            if callback.authentication_disabled() {
                assert_eq!(callback.request_time(), None);
                assert!(!snapshot.is_enabled());
                continue;
            }
            // Accepted: the query must carry RequestTime=t and the Sign of t for the matching token.
            let token = if callback.previous_token() { &f.previous } else { &f.current };
            let time = query
                .split('&')
                .find_map(|p| p.strip_prefix("RequestTime="))
                .expect("accepted without RequestTime");
            let sign = query
                .split('&')
                .find_map(|p| p.strip_prefix("Sign="))
                .expect("accepted without Sign");
            let t: u64 = time.parse().expect("accepted with a malformed RequestTime");
            assert_eq!(callback.request_time(), Some(t));
            let mut expected = token.sign(t);
            // RequestTime is hashed as received: leading zeros change the Sign.
            if time.len() != t.to_string().len() {
                continue;
            }
            expected.make_ascii_lowercase();
            assert_eq!(sign.to_ascii_lowercase(), expected);
        }
    }
});
