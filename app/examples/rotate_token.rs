//! An operator tool: generates a strong random callback token, sets it with `set_callback_token`,
//! reads it back with `get_callback_token` to confirm, and prints only its fingerprint.
//!
//! ```sh
//! TIM_SDKAPPID=1400000000 TIM_SECRET_KEY=... TIM_REGION=singapore cargo run --example rotate_token
//! ```
//!
//! Receivers running the refresher accept the new token at once (refresh on miss) and keep
//! accepting the old one for the grace period.

use tim_callback_app::rest_client_from_env;
use tim_callback_auth::CallbackToken;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let client = rest_client_from_env().unwrap_or_else(|e| {
        eprintln!("configuration error: {e}");
        std::process::exit(2)
    });
    let mut bytes = [0u8; 32];
    if let Err(e) = getrandom::fill(&mut bytes) {
        eprintln!("no randomness from the operating system: {e}");
        std::process::exit(1);
    }
    let token = CallbackToken::new(&hex::encode(bytes)).expect("64 hex digits is a valid token");
    if let Err(e) = client.set_callback_token(Some(&token), Some(true)).await {
        eprintln!("set_callback_token failed: {e}");
        std::process::exit(1);
    }
    match client.get_callback_token().await {
        Ok(snapshot) if snapshot.current() == Some(&token) => {
            println!("callback token rotated: {} (enabled)", token.fingerprint());
        }
        Ok(_) => {
            eprintln!(
                "the token read back differs from the one set ({})",
                token.fingerprint()
            );
            std::process::exit(1);
        }
        Err(e) => {
            eprintln!("get_callback_token failed: {e}");
            std::process::exit(1);
        }
    }
}
