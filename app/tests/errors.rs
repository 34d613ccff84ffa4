//! Errors that explain themselves: what `main`'s `?` prints (`Debug`) and what a log line shows
//! (`Display`) for a failed `start()`, and what the example server prints when misconfigured.

use std::time::Duration;

use tim_callback_auth::refresh::TokenRefresher;
use tim_callback_auth::rest::{Region, RestClient};
use tim_callback_auth::Error;
use tim_callback_mock::mock::{self, MockApi, Reply, ADMIN, SDK_APP_ID, SECRET_KEY};

fn client(base_url: &str, key: &str) -> RestClient {
    RestClient::builder(SDK_APP_ID, key)
        .admin(ADMIN)
        .region(Region::custom(base_url).unwrap())
        .request_timeout(Duration::from_millis(500))
        .connect_timeout(Duration::from_millis(500))
        .build()
        .unwrap()
}

async fn start(client: RestClient) -> Error {
    TokenRefresher::builder(client)
        .initial_timeout(Duration::from_secs(2))
        .backoff(Duration::from_millis(50), Duration::from_millis(100))
        .start()
        .await
        .unwrap_err()
}

/// Both texts, checked for every secret of the run.
fn shown(error: &Error, api: &MockApi) -> (String, String) {
    let (display, debug) = (error.to_string(), format!("{error:?}"));
    for text in [&display, &debug] {
        assert!(!text.contains(SECRET_KEY), "{text}");
        assert!(!text.contains("usersig="), "{text}");
        for sig in api.user_sigs() {
            assert!(!text.contains(&sig), "{text}");
        }
    }
    (display, debug)
}

#[tokio::test]
async fn an_api_error_shows_code_message_request_id_host_and_what_to_check() {
    let api = MockApi::start("errors-token-0123456789").await;
    api.set_fallback(Reply::Code(70009));
    let error = start(client(&api.base_url(), SECRET_KEY)).await;
    let (display, debug) = shown(&error, &api);
    let host = api.base_url().trim_start_matches("http://").to_owned();
    for text in [&display, &debug] {
        for needle in [
            "70009",
            "scripted error",
            "Id-mock-70009",
            host.as_str(),
            "check the secret key",
        ] {
            assert!(text.contains(needle), "{needle} missing from: {text}");
        }
    }
    assert_eq!(error.host(), Some(host.as_str()));
    assert_eq!(error.request_id(), Some("Id-mock-70009"));
}

#[tokio::test]
async fn a_refused_connection_shows_the_host_and_the_cause() {
    let base = mock::refused_base_url().await;
    let api = MockApi::start("unused-token-0123456789").await;
    let error = start(client(&base, SECRET_KEY)).await;
    let (display, debug) = shown(&error, &api);
    let host = base.trim_start_matches("http://");
    for text in [&display, &debug] {
        assert!(text.contains(host), "{text}");
        assert!(text.contains("could not connect"), "{text}");
        assert!(
            text.to_lowercase().contains("refused"),
            "the cause (connection refused) is shown: {text}"
        );
    }
}

#[tokio::test]
async fn the_wrong_secret_key_is_named_by_the_configuration() {
    let api = MockApi::start("errors-token-0123456789").await;
    let vars = {
        let base = api.base_url();
        move |name: &str| match name {
            "TIM_SDKAPPID" => Some(SDK_APP_ID.to_string()),
            "TIM_SECRET_KEY" => Some("not-the-right-secret-key".to_owned()),
            "TIM_API_BASE_URL" => Some(base.clone()),
            _ => None,
        }
    };
    let error = tim_callback_app::Config::from_vars(vars)
        .unwrap()
        .start()
        .await
        .unwrap_err();
    assert_eq!(error.variable(), "TIM_SECRET_KEY", "{error}");
    assert!(error.is_invalid());
    assert!(
        !error.to_string().contains("not-the-right-secret-key"),
        "{error}"
    );
}

#[tokio::test]
async fn tls_is_verified_an_untrusted_certificate_is_refused() {
    let base = tim_callback_mock::self_signed_tls_server().await;
    let client = RestClient::builder(SDK_APP_ID, SECRET_KEY)
        .admin(ADMIN)
        .region(Region::custom(&base).unwrap())
        .build()
        .unwrap();
    let error = client.get_callback_token().await.unwrap_err();
    assert_eq!(
        error.kind(),
        tim_callback_auth::ErrorKind::Connect,
        "{error}"
    );
    let text = error.to_string().to_lowercase();
    assert!(
        text.contains("certificate"),
        "the TLS cause is shown: {text}"
    );
    assert!(text.contains("localhost:"), "the host is shown: {text}");
}
