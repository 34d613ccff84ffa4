//! The "never echo a value" rule, property-style: every variable (and every `TIM_APPS` field, the
//! variables the entries name, the file's text and `LISTEN_ADDR`), set in every mode to values
//! built around a sentinel secret (bare, with white space, as JSON, in a URL, as a range, as a
//! number's tail, …), gives errors and warnings that never contain the sentinel, in `Display`
//! nor `Debug`. Each variable and field must be refused at least once, so that the rule is
//! checked on real errors.
//!
//! Names are the exception, on purpose: an unknown field close to a field, or an `*_env` value
//! with a variable name's shape (`TIM_TOKEN_B`), is shown. No sentinel has either shape.

mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;

use tim_callback_app::server::listen_addr_from;
use tim_callback_app::Config;

/// Secrets of the shapes met in practice: mixed case, a 64-digit lower-case hex key, base64 with
/// `+/=`, and non-ASCII.
const SENTINELS: [&str; 4] = [
    "Zq8sEnTiNeL7Xk",
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "c2VudGluZWwtc2VjcmV0+/=",
    "sentinel-Sécret-Ω",
];

/// Values built around `s`: each a mistake someone makes with a variable.
fn forms(s: &str) -> Vec<String> {
    vec![
        s.to_owned(),
        format!("{s}\n"),
        format!(" {s}"),
        format!(r#"[{{"sdkappid":1400000000,"secret_key":"{s}"}}]"#),
        format!(r#"{{"{s}":1}}"#),
        format!("http://{s}"),
        format!("https://h.example/{s}?q"),
        format!("{s}/33"),
        format!("10.0.0.1,{s}"),
        format!("::/0,{s}"),
        format!("1{s}"),
        format!("{s}:8080"),
    ]
}

/// Every variable the configuration reads.
const VARIABLES: [&str; 22] = [
    "TIM_SDKAPPID",
    "TIM_SECRET_KEY",
    "TIM_ADMIN",
    "TIM_REGION",
    "TIM_API_BASE_URL",
    "TIM_ALLOW_INSECURE_HTTP",
    "TIM_CALLBACK_TOKEN",
    "TIM_REFRESH_SECS",
    "TIM_APPS",
    "TIM_ALLOW_UNSIGNED",
    "TIM_SOURCE_IPS",
    "TIM_SOURCE_IPS_NETTYPE",
    "TIM_SOURCE_IPS_REFRESH_SECS",
    "TIM_TRTC_CALLBACK_KEY",
    "TIM_TRTC_CALLBACK_KEY_PREVIOUS",
    "TIM_TRUSTED_PROXY_HOPS",
    "TIM_REDIS_URL",
    "TIM_REDIS_PREFIX",
    "TIM_INSTANCE_ID",
    "TIM_REDIS_CA_FILE",
    // The variables the entries of the TIM_APPS base name.
    "TOKEN_A",
    "KEY_A",
];

const TOKEN: &str = "a-console-token-0123456789abcdef";
const KEY: &str = "a-secret-key-0123456789abcdef";

/// Everything logged while `f` runs.
fn logs_of<T>(f: impl FnOnce() -> T) -> (T, String) {
    support::logs_of(tracing::Level::TRACE, f)
}

/// Loads `pairs`; on an error, checks both its texts, and the logs either way. Whether it was
/// refused.
fn check(pairs: &BTreeMap<String, String>, sentinel: &str, what: &str) -> bool {
    let (result, logs) = logs_of(|| Config::from_vars(|name| pairs.get(name).cloned()));
    assert!(!logs.contains(sentinel), "{what}: logged: {logs}");
    match result {
        Ok(_) => false,
        Err(error) => {
            for text in [error.to_string(), format!("{error:?}")] {
                assert!(!text.contains(sentinel), "{what}: {text}");
            }
            assert!(!error.variable().contains(sentinel), "{what}");
            true
        }
    }
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A file in the temporary directory, removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str) -> Self {
        Self(std::env::temp_dir().join(format!("tim-never-echoed-{}-{name}", std::process::id())))
    }
    fn write(&self, content: &str) -> String {
        std::fs::write(&self.0, content).unwrap();
        self.0.display().to_string()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

const APPS: &str = r#"[
    {"sdkappid": 1400000001, "callback_token_env": "TOKEN_A"},
    {"sdkappid": 1400000002, "secret_key_env": "KEY_A"}
]"#;

#[test]
fn no_configuration_error_or_warning_shows_a_sentinel_from_any_variable() {
    let file = TempFile::new("apps.json");
    let apps = file.write(APPS);
    // An API mode builds an HTTPS client per load (tens of milliseconds in a debug build): those
    // modes take the hex one (the shape of a secret key), the static ones all four.
    let bases: Vec<(&str, BTreeMap<String, String>)> = vec![
        (
            "static",
            map(&[
                ("TIM_CALLBACK_TOKEN", TOKEN),
                ("TIM_SDKAPPID", "1400000000"),
            ]),
        ),
        (
            "static, trtc and a list",
            map(&[
                ("TIM_CALLBACK_TOKEN", TOKEN),
                ("TIM_SDKAPPID", "1400000000"),
                ("TIM_TRTC_CALLBACK_KEY", "TrtcKeyOfTheTest1"),
                ("TIM_SOURCE_IPS", "10.0.0.0/8"),
            ]),
        ),
        (
            "api",
            map(&[("TIM_SDKAPPID", "1400000000"), ("TIM_SECRET_KEY", KEY)]),
        ),
        (
            "api with tencent's list",
            map(&[
                ("TIM_SDKAPPID", "1400000000"),
                ("TIM_SECRET_KEY", KEY),
                ("TIM_SOURCE_IPS", "tencent"),
            ]),
        ),
        (
            "tim_apps",
            map(&[("TIM_APPS", &apps), ("TOKEN_A", TOKEN), ("KEY_A", KEY)]),
        ),
    ];
    let mut refused: BTreeMap<&str, usize> = VARIABLES.iter().map(|v| (*v, 0)).collect();
    let mut checked = 0;
    for (n, sentinel) in SENTINELS.into_iter().enumerate() {
        for value in forms(sentinel) {
            for variable in VARIABLES {
                for (mode, base) in &bases {
                    let api = base.contains_key("TIM_SECRET_KEY") || base.contains_key("TIM_APPS");
                    if api && n != 1 {
                        continue;
                    }
                    let mut pairs = base.clone();
                    pairs.insert(variable.to_owned(), value.clone());
                    let what = format!("{variable}={value:?} ({mode})");
                    if check(&pairs, sentinel, &what) {
                        *refused.get_mut(variable).unwrap() += 1;
                    }
                    checked += 1;
                }
            }
        }
        // LISTEN_ADDR, read beside the configuration.
        for value in forms(sentinel) {
            let error = listen_addr_from(|name| (name == "LISTEN_ADDR").then(|| value.clone()))
                .expect_err("not an address");
            assert!(!format!("{error} {error:?}").contains(sentinel), "{error}");
        }
    }
    let never: Vec<_> = refused.iter().filter(|(_, n)| **n == 0).collect();
    assert!(
        never.is_empty(),
        "never refused, so never checked: {never:?}"
    );
    assert!(checked > 2000, "{checked}");
}

/// The fields of one `TIM_APPS` entry.
const FIELDS: [&str; 11] = [
    "sdkappid",
    "secret_key",
    "secret_key_env",
    "admin",
    "region",
    "api_base_url",
    "callback_token",
    "callback_token_env",
    "refresh_secs",
    "trtc_callback_key",
    "trtc_callback_key_env",
];

#[test]
fn no_tim_apps_error_or_warning_shows_a_sentinel_from_any_field() {
    let file = TempFile::new("fields.json");
    let entries = [
        serde_json::json!({"sdkappid": 1400000001, "callback_token_env": "TOKEN_A"}),
        serde_json::json!({"sdkappid": 1400000002, "secret_key_env": "KEY_A"}),
        serde_json::json!({"sdkappid": 1400000003, "callback_token": TOKEN, "trtc_callback_key_env": "TRTC_A"}),
    ];
    let env = [
        ("TOKEN_A", TOKEN),
        ("KEY_A", KEY),
        ("TRTC_A", "TrtcKeyOfTheTest1"),
    ];
    let mut refused: BTreeMap<&str, usize> = FIELDS.iter().map(|f| (*f, 0)).collect();
    let load = |content: &str, env: &[(&str, &str)], sentinel: &str, what: &str| {
        let path = file.write(content);
        let mut pairs = map(env);
        pairs.insert("TIM_APPS".to_owned(), path);
        check(&pairs, sentinel, what)
    };
    for sentinel in SENTINELS {
        for value in forms(sentinel) {
            for field in FIELDS {
                for entry in &entries {
                    // The value as the field's string, inside a list, and as a name.
                    for (shape, json) in [
                        ("string", serde_json::json!(value)),
                        ("list", serde_json::json!([value])),
                    ] {
                        let mut entry = entry.clone();
                        entry[field] = json;
                        let content = serde_json::json!([entry]).to_string();
                        let what = format!("{field}={value:?} as a {shape} in {entry}");
                        if load(&content, &env, sentinel, &what) {
                            *refused.get_mut(field).unwrap() += 1;
                        }
                    }
                }
            }
            // The value as an unknown field's name, as the value of a variable an entry names,
            // and as the file's text.
            let mut entry = entries[0].clone();
            entry[value.as_str()] = serde_json::json!(1);
            let content = serde_json::json!([entry]).to_string();
            assert!(load(&content, &env, sentinel, &content));
            for variable in ["TOKEN_A", "KEY_A", "TRTC_A"] {
                let content = serde_json::json!(entries).to_string();
                let mut env = env.to_vec();
                env.retain(|(k, _)| *k != variable);
                env.push((variable, &value));
                load(&content, &env, sentinel, &format!("{variable}={value:?}"));
            }
            for content in [
                value.clone(),
                format!("[{{\"sdkappid\": 1, \"{value}"),
                format!("[\"{value}\"]"),
            ] {
                // Refused, or (the JSON list a value may be) a valid file.
                load(&content, &env, sentinel, &content);
            }
        }
    }
    let never: Vec<_> = refused.iter().filter(|(_, n)| **n == 0).collect();
    assert!(
        never.is_empty(),
        "never refused, so never checked: {never:?}"
    );
}
