//! Arbitrary bodies through the `get_callback_token` answer parser: never a panic, and never an
//! "enabled" snapshot without a valid token.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tim_callback_auth::rest::parse_get_callback_token;

fuzz_target!(|data: &[u8]| {
    match parse_get_callback_token(data) {
        Ok(snapshot) => {
            if let Some(token) = snapshot.current() {
                let len = token.expose().len();
                assert!((1..=128).contains(&len));
            }
        }
        Err(error) => {
            // Display and Debug never panic either.
            let _ = error.to_string();
            let _ = format!("{error:?}");
        }
    }
});
