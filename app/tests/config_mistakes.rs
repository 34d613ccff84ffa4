//! Configuration mistakes people make, each named (the variable or the field, never a value):
//! the JSON itself in `TIM_APPS`, conflicting modes, settings that do nothing (a `WARN` naming
//! them), white space around a token or a key, empty secrets, typos in `TIM_APPS`, and a source
//! allowlist that allows everyone. And what `main` prints for a `ConfigError` (`Debug`).

mod support;

use std::path::PathBuf;

use tim_callback_app::{Config, ConfigError};
use tim_callback_mock::mock;

const TOKEN: &str = "a-console-token-0123456789abcdef";
const KEY: &str = "a-secret-key-0123456789abcdef";

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

fn refused(pairs: &[(&str, &str)]) -> ConfigError {
    Config::from_vars(vars(pairs)).expect_err("the configuration is refused")
}

/// Both texts of an error, checked not to contain any of `secrets`.
fn shown(error: &ConfigError, secrets: &[&str]) -> String {
    let text = format!("{error} | {error:?}");
    for secret in secrets {
        assert!(!text.contains(secret), "{secret} shown: {text}");
    }
    text
}

/// A `TIM_APPS` file with `content`, removed on drop.
struct AppsFile(PathBuf);

impl AppsFile {
    fn new(name: &str, content: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "tim-config-mistakes-{}-{name}.json",
            std::process::id()
        ));
        std::fs::write(&path, content).unwrap();
        Self(path)
    }

    fn path(&self) -> String {
        self.0.display().to_string()
    }
}

impl Drop for AppsFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Everything logged while `f` runs, with this thread's default subscriber.
fn logs_of<T>(f: impl FnOnce() -> T) -> (T, Vec<String>) {
    let (result, text) = support::logs_of(tracing::Level::DEBUG, f);
    (result, text.lines().map(str::to_owned).collect())
}

fn warnings(lines: &[String]) -> Vec<&String> {
    lines.iter().filter(|l| l.contains("WARN")).collect()
}

#[test]
fn the_json_itself_in_tim_apps_is_refused_without_being_shown() {
    let json = format!(r#"[{{"sdkappid":1400000000,"secret_key":"{KEY}"}}]"#);
    for value in [
        json.clone(),
        format!("  {json}"),
        r#"{"sdkappid":1}"#.to_owned(),
    ] {
        let error = refused(&[("TIM_APPS", &value)]);
        assert_eq!(error.variable(), "TIM_APPS");
        let text = shown(&error, &[KEY, "sdkappid", "1400000000"]);
        assert!(text.contains("must be the path"), "{text}");
        assert!(text.contains("looks like the JSON"), "{text}");
    }
    // A path that does not exist: the error says so without repeating the value.
    let error = refused(&[("TIM_APPS", "/nonexistent/apps-of-the-test.json")]);
    let text = shown(&error, &["apps-of-the-test"]);
    assert!(text.contains("TIM_APPS: cannot read the file"), "{text}");
}

#[test]
fn a_static_token_with_the_api_settings_is_a_conflict() {
    for other in ["TIM_SECRET_KEY", "TIM_API_BASE_URL"] {
        let value = if other == "TIM_SECRET_KEY" {
            KEY
        } else {
            "https://proxy.example"
        };
        let error = refused(&[
            ("TIM_CALLBACK_TOKEN", TOKEN),
            ("TIM_SDKAPPID", "1400000000"),
            (other, value),
        ]);
        assert_eq!(error.variable(), "TIM_CALLBACK_TOKEN");
        let text = shown(&error, &[TOKEN, KEY]);
        assert!(text.contains(other) && text.contains("not both"), "{text}");
    }
    // The same in a TIM_APPS entry.
    let file = AppsFile::new(
        "conflict",
        r#"[{"sdkappid": 1400000000, "callback_token_env": "TOKEN_A", "api_base_url": "https://proxy.example"}]"#,
    );
    let error = refused(&[("TIM_APPS", &file.path()), ("TOKEN_A", TOKEN)]);
    assert_eq!(error.variable(), "TIM_APPS");
    let text = shown(&error, &[TOKEN]);
    assert!(
        text.contains("entry 1") && text.contains("api_base_url") && text.contains("not both"),
        "{text}"
    );
    let file = AppsFile::new(
        "conflict-key",
        r#"[{"sdkappid": 1400000000, "callback_token_env": "TOKEN_A", "secret_key_env": "KEY_A"}]"#,
    );
    let text = shown(
        &error_of_file(&file, &[("TOKEN_A", TOKEN), ("KEY_A", KEY)]),
        &[TOKEN, KEY],
    );
    assert!(text.contains("not both"), "{text}");
}

fn error_of_file(file: &AppsFile, more: &[(&str, &str)]) -> ConfigError {
    let path = file.path();
    let mut pairs = vec![("TIM_APPS", path.as_str())];
    pairs.extend_from_slice(more);
    refused(&pairs)
}

#[test]
fn tim_apps_with_a_single_app_variable_is_a_conflict() {
    let file = AppsFile::new(
        "with-single",
        r#"[{"sdkappid": 1400000000, "callback_token_env": "TOKEN_A"}]"#,
    );
    for (name, value) in [
        ("TIM_SDKAPPID", "1400000001"),
        ("TIM_SECRET_KEY", KEY),
        ("TIM_ADMIN", "administrator"),
        ("TIM_REGION", "singapore"),
        ("TIM_API_BASE_URL", "https://proxy.example"),
        ("TIM_CALLBACK_TOKEN", TOKEN),
        ("TIM_REFRESH_SECS", "30"),
        ("TIM_TRTC_CALLBACK_KEY", "TrtcKey123"),
        ("TIM_TRTC_CALLBACK_KEY_PREVIOUS", "TrtcKey456"),
    ] {
        let error = error_of_file(&file, &[("TOKEN_A", TOKEN), (name, value)]);
        assert_eq!(error.variable(), name, "{error}");
        let text = shown(&error, &[TOKEN, KEY, "TrtcKey"]);
        assert!(text.contains("together with TIM_APPS"), "{text}");
    }
    // A variable an entry names is not a single-app variable there.
    let file = AppsFile::new(
        "names-single",
        r#"[{"sdkappid": 1400000000, "callback_token_env": "TIM_CALLBACK_TOKEN"}]"#,
    );
    let path = file.path();
    let config =
        Config::from_vars(vars(&[("TIM_APPS", &path), ("TIM_CALLBACK_TOKEN", TOKEN)])).unwrap();
    assert_eq!(config.app_ids(), [1400000000]);
}

#[test]
fn settings_that_do_nothing_are_named_in_a_warning() {
    for name in ["TIM_REGION", "TIM_REFRESH_SECS", "TIM_ADMIN"] {
        let value = match name {
            "TIM_REGION" => "singapore",
            "TIM_REFRESH_SECS" => "30",
            _ => "administrator",
        };
        let (config, lines) = logs_of(|| {
            Config::from_vars(vars(&[
                ("TIM_CALLBACK_TOKEN", TOKEN),
                ("TIM_SDKAPPID", "1400000000"),
                (name, value),
            ]))
        });
        config.unwrap();
        let warned = warnings(&lines);
        assert_eq!(warned.len(), 1, "{lines:?}");
        assert!(
            warned[0].contains(&format!("{name} does nothing")) && warned[0].contains("static"),
            "{lines:?}"
        );
        assert!(lines.iter().all(|l| !l.contains(TOKEN)), "{lines:?}");
    }
    let (config, lines) = logs_of(|| {
        Config::from_vars(vars(&[
            ("TIM_CALLBACK_TOKEN", TOKEN),
            ("TIM_SDKAPPID", "1400000000"),
            ("TIM_TRUSTED_PROXY_HOPS", "1"),
        ]))
    });
    config.unwrap();
    let warned = warnings(&lines);
    assert_eq!(warned.len(), 1, "{lines:?}");
    assert!(
        warned[0].contains("TIM_TRUSTED_PROXY_HOPS does nothing")
            && warned[0].contains("TIM_SOURCE_IPS is off"),
        "{lines:?}"
    );
    // With a source filter, the hops are used: no warning.
    let (config, lines) = logs_of(|| {
        Config::from_vars(vars(&[
            ("TIM_CALLBACK_TOKEN", TOKEN),
            ("TIM_SDKAPPID", "1400000000"),
            ("TIM_TRUSTED_PROXY_HOPS", "1"),
            ("TIM_SOURCE_IPS", "10.0.0.0/8"),
        ]))
    });
    config.unwrap();
    assert!(warnings(&lines).is_empty(), "{lines:?}");
    // In a TIM_APPS entry: the entry and the field are named.
    let file = AppsFile::new(
        "warn",
        r#"[{"sdkappid": 1400000000, "callback_token_env": "TOKEN_A", "region": "korea"}]"#,
    );
    let path = file.path();
    let (config, lines) =
        logs_of(|| Config::from_vars(vars(&[("TIM_APPS", &path), ("TOKEN_A", TOKEN)])));
    config.unwrap();
    let warned = warnings(&lines);
    assert_eq!(warned.len(), 1, "{lines:?}");
    assert!(
        warned[0].contains("TIM_APPS entry 1: field `region` does nothing"),
        "{lines:?}"
    );
    // The region beside a base URL that replaces it.
    let (config, lines) = logs_of(|| {
        Config::from_vars(vars(&[
            ("TIM_SDKAPPID", "1400000000"),
            ("TIM_SECRET_KEY", KEY),
            ("TIM_API_BASE_URL", "https://proxy.example"),
            ("TIM_REGION", "korea"),
        ]))
    });
    config.unwrap();
    let warned = warnings(&lines);
    assert_eq!(warned.len(), 1, "{lines:?}");
    assert!(
        warned[0].contains("TIM_REGION does nothing") && warned[0].contains("TIM_API_BASE_URL"),
        "{lines:?}"
    );
    let file = AppsFile::new(
        "warn-api",
        r#"[{"sdkappid": 1400000000, "secret_key_env": "KEY_A", "region": "korea", "api_base_url": "https://proxy.example"}]"#,
    );
    let path = file.path();
    let (config, lines) =
        logs_of(|| Config::from_vars(vars(&[("TIM_APPS", &path), ("KEY_A", KEY)])));
    config.unwrap();
    let warned = warnings(&lines);
    assert_eq!(warned.len(), 1, "{lines:?}");
    assert!(
        warned[0].contains("TIM_APPS entry 1: field `region` does nothing"),
        "{lines:?}"
    );
    assert!(lines.iter().all(|l| !l.contains(KEY)), "{lines:?}");
    // A configuration where everything is used warns of nothing.
    let (config, lines) = logs_of(|| {
        Config::from_vars(vars(&[
            ("TIM_CALLBACK_TOKEN", TOKEN),
            ("TIM_SDKAPPID", "1400000000"),
        ]))
    });
    config.unwrap();
    assert!(warnings(&lines).is_empty(), "{lines:?}");
}

#[test]
fn white_space_around_a_secret_is_refused_and_said() {
    for (name, base) in [
        ("TIM_CALLBACK_TOKEN", vec![("TIM_SDKAPPID", "1400000000")]),
        ("TIM_SECRET_KEY", vec![("TIM_SDKAPPID", "1400000000")]),
        (
            "TIM_TRTC_CALLBACK_KEY",
            vec![
                ("TIM_SDKAPPID", "1400000000"),
                ("TIM_CALLBACK_TOKEN", TOKEN),
            ],
        ),
        (
            "TIM_TRTC_CALLBACK_KEY_PREVIOUS",
            vec![
                ("TIM_SDKAPPID", "1400000000"),
                ("TIM_CALLBACK_TOKEN", TOKEN),
                ("TIM_TRTC_CALLBACK_KEY", "TrtcKeyNew1"),
            ],
        ),
    ] {
        for value in [
            "SecretValue42\n",
            " SecretValue42",
            "SecretValue42\r\n",
            "SecretValue42 ",
        ] {
            let mut pairs = base.clone();
            pairs.push((name, value));
            let error = refused(&pairs);
            assert_eq!(error.variable(), name, "{value:?}: {error}");
            let text = shown(&error, &["SecretValue42"]);
            assert!(
                text.contains("white space before or after") && text.contains("echo"),
                "{text}"
            );
        }
    }
    // In a TIM_APPS entry: inline, and in the variable an entry names.
    let file = AppsFile::new(
        "space-inline",
        "[{\"sdkappid\": 1400000000, \"callback_token\": \"SecretValue42\\n\"}]",
    );
    let text = shown(&error_of_file(&file, &[]), &["SecretValue42"]);
    assert!(
        text.contains("field `callback_token` has white space"),
        "{text}"
    );
    let file = AppsFile::new(
        "space-env",
        r#"[{"sdkappid": 1400000000, "secret_key_env": "KEY_A"}]"#,
    );
    let text = shown(
        &error_of_file(&file, &[("KEY_A", "SecretValue42\n")]),
        &["SecretValue42"],
    );
    assert!(
        text.contains("KEY_A") && text.contains("has white space"),
        "{text}"
    );
}

#[test]
fn an_empty_secret_is_named_as_empty() {
    for value in ["", " ", "\n"] {
        let error = refused(&[
            ("TIM_CALLBACK_TOKEN", value),
            ("TIM_SDKAPPID", "1400000000"),
        ]);
        assert_eq!(error.variable(), "TIM_CALLBACK_TOKEN", "{error}");
        assert!(error.to_string().contains("is set but empty"), "{error}");
        let error = refused(&[("TIM_SECRET_KEY", value), ("TIM_SDKAPPID", "1400000000")]);
        assert_eq!(error.variable(), "TIM_SECRET_KEY", "{error}");
        assert!(error.to_string().contains("is set but empty"), "{error}");
    }
    let file = AppsFile::new(
        "empty-env",
        r#"[{"sdkappid": 1400000000, "callback_token_env": "TOKEN_A"}]"#,
    );
    let error = error_of_file(&file, &[("TOKEN_A", "")]);
    assert!(
        error.to_string().contains("TOKEN_A") && error.to_string().contains("is set but empty"),
        "{error}"
    );
}

#[test]
fn tim_apps_typos_name_the_culprit() {
    let file = AppsFile::new(
        "typo",
        r#"[{"sdkappid": 1400000000, "secret_key_evn": "KEY_A"}]"#,
    );
    let error = error_of_file(&file, &[("KEY_A", KEY)]);
    let text = shown(&error, &[KEY]);
    assert!(
        text.contains("unknown field `secret_key_evn`")
            && text.contains("did you mean `secret_key_env`"),
        "{text}"
    );
    let file = AppsFile::new(
        "unset",
        r#"[{"sdkappid": 1400000000, "callback_token_env": "TIM_TOKEN_B"}]"#,
    );
    let text = shown(&error_of_file(&file, &[]), &[]);
    assert!(
        text.contains("entry 1") && text.contains("TIM_TOKEN_B") && text.contains("is not set"),
        "{text}"
    );
    // A secret pasted where a variable's name belongs: not shown, and the likely mistake said.
    let file = AppsFile::new(
        "pasted",
        r#"[{"sdkappid": 1400000000, "callback_token_env": "pasted-token-0123456789"}]"#,
    );
    let text = shown(&error_of_file(&file, &[]), &["pasted-token"]);
    assert!(text.contains("is it the secret itself"), "{text}");
    // A key unlike any field: not shown either.
    let file = AppsFile::new(
        "unlike",
        r#"[{"sdkappid": 1400000000, "callback_token": "a-token-0123456789", "Zq8mK2pX9vL4nR7": 1}]"#,
    );
    let text = shown(&error_of_file(&file, &[]), &["Zq8mK2pX9vL4nR7", "a-token"]);
    assert!(text.contains("unknown field, not shown"), "{text}");
}

#[test]
fn a_source_allowlist_that_allows_everyone_is_refused() {
    for list in [
        "0.0.0.0/0",
        "::/0",
        "10.0.0.1, ::/0",
        "0.0.0.0/1,128.0.0.0/1",
    ] {
        let error = refused(&[
            ("TIM_CALLBACK_TOKEN", TOKEN),
            ("TIM_SDKAPPID", "1400000000"),
            ("TIM_SOURCE_IPS", list),
        ]);
        assert_eq!(error.variable(), "TIM_SOURCE_IPS");
        assert!(
            error.to_string().contains("allows every"),
            "{list}: {error}"
        );
    }
    // A bad entry is named by its position, not shown (after an entry that allows everyone too).
    for (list, n) in [
        ("10.0.0.1, pasted-secret-0123", 2),
        ("0.0.0.0/0, 10.0.0.1, pasted-secret-0123", 3),
    ] {
        let error = refused(&[
            ("TIM_CALLBACK_TOKEN", TOKEN),
            ("TIM_SDKAPPID", "1400000000"),
            ("TIM_SOURCE_IPS", list),
        ]);
        let text = shown(&error, &["pasted-secret"]);
        assert!(
            text.contains(&format!("entry {n} is not an IP address")),
            "{text}"
        );
    }
}

#[tokio::test]
async fn a_config_error_from_main_prints_one_readable_line_with_each_cause_once() {
    // Without a cause: Debug is Display.
    let error = refused(&[("TIM_SDKAPPID", "12x")]);
    assert_eq!(format!("{error:?}"), error.to_string());
    assert!(!format!("{error:?}").contains("ConfigError"));
    // With the API's error as the cause (its own causes: the unit tests of `ConfigError`).
    let api = mock::MockApi::start("debug-token-0123456789").await;
    api.set_fallback(mock::Reply::Body("{not json".to_owned()));
    let error = Config::from_vars(vars(&[
        ("TIM_SDKAPPID", &mock::SDK_APP_ID.to_string()),
        ("TIM_ADMIN", mock::ADMIN),
        ("TIM_SECRET_KEY", mock::SECRET_KEY),
        ("TIM_API_BASE_URL", &api.base_url()),
    ]))
    .unwrap()
    .start()
    .await
    .unwrap_err();
    let api_error = error.api_error().expect("the API's error");
    let debug = format!("{error:?}");
    let cause = api_error.to_string();
    assert!(debug.starts_with("TIM_API_BASE_URL: "), "{debug}");
    assert_eq!(debug.matches(&cause).count(), 1, "{debug}");
    assert_eq!(debug, error.to_string());
    assert!(
        !debug.contains('\n') && !debug.contains("ConfigError {"),
        "{debug}"
    );
    // What `fn main() -> Result<(), Box<dyn Error>>` prints.
    let boxed: Box<dyn std::error::Error> = Box::new(error);
    assert_eq!(format!("Error: {boxed:?}"), format!("Error: {debug}"));
    assert!(!debug.contains(mock::SECRET_KEY), "{debug}");
}
