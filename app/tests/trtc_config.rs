//! TRTC callback keys from the configuration: variables, `TIM_APPS`, and errors that name the
//! variable without the value.

use tim_callback_app::Config;

fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let pairs: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }
}

const TOKEN: &str = "a-console-token-0123456789abcdef";

#[tokio::test]
async fn a_trtc_key_in_the_variables_gives_a_trtc_layer_for_that_app() {
    let config = Config::from_vars(vars(&[
        ("TIM_CALLBACK_TOKEN", TOKEN),
        ("TIM_SDKAPPID", "1400000001"),
        ("TIM_TRTC_CALLBACK_KEY", "TrtcKeyFromTheConsole1"),
        ("TIM_TRTC_CALLBACK_KEY_PREVIOUS", "OldTrtcKey"),
    ]))
    .unwrap();
    let running = config.start().await.unwrap();
    let keys = running.trtc_keys().expect("a TRTC key is configured");
    assert_eq!(keys.app_ids(), [1400000001]);
    assert!(keys.has_previous(1400000001));
    assert!(running.trtc_layer().is_some());
    // The health shows the rotation until the old key is retired.
    let health = running.health(std::time::Duration::from_secs(300));
    let apps: Vec<(u64, bool)> = health
        .trtc_apps()
        .unwrap()
        .iter()
        .map(|a| (a.app_id(), a.previous_key_accepted()))
        .collect();
    assert_eq!(apps, [(1400000001, true)]);
    assert!(health
        .to_json()
        .contains(r#""trtc":[{"sdkappid":1400000001,"previous_key_accepted":true}]"#));
    keys.retire_previous(1400000001).unwrap();
    let health = running.health(std::time::Duration::from_secs(300));
    let apps: Vec<(u64, bool)> = health
        .trtc_apps()
        .unwrap()
        .iter()
        .map(|a| (a.app_id(), a.previous_key_accepted()))
        .collect();
    assert_eq!(apps, [(1400000001, false)]);
    assert!(!health.to_json().contains("OldTrtcKey") && !health.to_json().contains("TrtcKeyFrom"));

    let without = Config::from_vars(vars(&[("TIM_CALLBACK_TOKEN", TOKEN)])).unwrap();
    let without = without.start().await.unwrap();
    assert!(without.trtc_layer().is_none());
    let health = without.health(std::time::Duration::from_secs(300));
    assert!(health.trtc_apps().is_none() && !health.to_json().contains("trtc"));
}

#[test]
fn trtc_key_errors_name_the_variable_and_never_the_value() {
    let secret = "Has-A-Dash-Secret";
    for (pairs, variable) in [
        (
            vec![
                ("TIM_CALLBACK_TOKEN", TOKEN),
                ("TIM_SDKAPPID", "1400000001"),
                ("TIM_TRTC_CALLBACK_KEY", secret),
            ],
            "TIM_TRTC_CALLBACK_KEY",
        ),
        (
            vec![
                ("TIM_CALLBACK_TOKEN", TOKEN),
                ("TIM_TRTC_CALLBACK_KEY", "GoodKey123"),
            ],
            "TIM_SDKAPPID",
        ),
        (
            vec![
                ("TIM_CALLBACK_TOKEN", TOKEN),
                ("TIM_SDKAPPID", "1400000001"),
                ("TIM_TRTC_CALLBACK_KEY_PREVIOUS", "GoodKey123"),
            ],
            "TIM_TRTC_CALLBACK_KEY_PREVIOUS",
        ),
    ] {
        let error = Config::from_vars(vars(&pairs)).unwrap_err();
        assert_eq!(error.variable(), variable);
        let shown = format!("{error} {error:?}");
        assert!(
            !shown.contains(secret) && !shown.contains("GoodKey123"),
            "{shown}"
        );
    }
}

#[tokio::test]
async fn tim_apps_entries_name_the_variable_of_their_trtc_key() {
    let dir = std::env::temp_dir().join(format!("trtc-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("apps.json");
    std::fs::write(
        &file,
        r#"[
            {"sdkappid": 1400000001, "callback_token_env": "TOKEN_A", "trtc_callback_key_env": "TRTC_A"},
            {"sdkappid": 1400000002, "callback_token_env": "TOKEN_B"}
        ]"#,
    )
    .unwrap();
    let path = file.display().to_string();
    let config = Config::from_vars(vars(&[
        ("TIM_APPS", &path),
        ("TOKEN_A", TOKEN),
        ("TOKEN_B", TOKEN),
        ("TRTC_A", "TrtcKeyOfAppA"),
    ]))
    .unwrap();
    let running = config.start().await.unwrap();
    assert_eq!(running.trtc_keys().unwrap().app_ids(), [1400000001]);

    // The variable is not set: the entry is named, and the variable (its name has the shape of
    // one), never a value.
    let error = Config::from_vars(vars(&[
        ("TIM_APPS", &path),
        ("TOKEN_A", TOKEN),
        ("TOKEN_B", TOKEN),
    ]))
    .unwrap_err();
    assert_eq!(error.variable(), "TIM_APPS");
    assert!(error.to_string().contains("entry 1"), "{error}");
    assert!(
        error.to_string().contains("trtc_callback_key_env"),
        "{error}"
    );

    // Two apps with the same key: refused, naming the apps and not the key.
    std::fs::write(
        &file,
        r#"[
            {"sdkappid": 1400000001, "callback_token_env": "TOKEN_A", "trtc_callback_key_env": "TRTC_A"},
            {"sdkappid": 1400000002, "callback_token_env": "TOKEN_B", "trtc_callback_key_env": "TRTC_A"}
        ]"#,
    )
    .unwrap();
    let error = Config::from_vars(vars(&[
        ("TIM_APPS", &path),
        ("TOKEN_A", TOKEN),
        ("TOKEN_B", TOKEN),
        ("TRTC_A", "TrtcKeyOfAppA"),
    ]))
    .unwrap_err();
    assert_eq!(error.variable(), "TIM_APPS");
    let shown = format!("{error} {error:?}");
    assert!(shown.contains("1400000001 and 1400000002"), "{shown}");
    assert!(!shown.contains("TrtcKeyOfAppA"), "{shown}");
    std::fs::remove_dir_all(&dir).unwrap();
}
