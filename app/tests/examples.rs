//! The example binaries, run as a user would: configuration errors, and a signed callback sent by
//! `send_callback` to `axum_server` on an OS-assigned port, then a graceful SIGTERM shutdown.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `target/<profile>/examples/<name>`, built by `cargo test` alongside this test.
fn example(name: &str) -> Command {
    let mut dir = std::env::current_exe().unwrap();
    dir.pop();
    if dir.ends_with("deps") {
        dir.pop();
    }
    let path: PathBuf = dir.join("examples").join(name);
    assert!(path.exists(), "{} is not built", path.display());
    let mut command = Command::new(path);
    for var in [
        "TIM_SDKAPPID",
        "TIM_SECRET_KEY",
        "TIM_ADMIN",
        "TIM_REGION",
        "TIM_API_BASE_URL",
        "TIM_CALLBACK_TOKEN",
        "TIM_REFRESH_SECS",
        "LISTEN_ADDR",
        "RUST_LOG",
        "TIM_APPS",
        "TIM_ALLOW_UNSIGNED",
        "TIM_ALLOW_INSECURE_HTTP",
        "TIM_SOURCE_IPS",
        "TIM_SOURCE_IPS_NETTYPE",
        "TIM_SOURCE_IPS_REFRESH_SECS",
        "TIM_TRUSTED_PROXY_HOPS",
        "TIM_TRTC_CALLBACK_KEY",
        "TIM_TRTC_CALLBACK_KEY_PREVIOUS",
        "TIM_REDIS_URL",
        "TIM_REDIS_PREFIX",
        "TIM_INSTANCE_ID",
        "TIM_REDIS_CA_FILE",
    ] {
        command.env_remove(var);
    }
    command
}

#[test]
fn axum_server_names_the_wrong_variable_and_exits_2() {
    let cases: [(&[(&str, &str)], &str); 6] = [
        (&[("TIM_SECRET_KEY", "very-secret-value")], "TIM_SDKAPPID"),
        (
            &[
                ("TIM_SDKAPPID", "12x"),
                ("TIM_SECRET_KEY", "very-secret-value"),
            ],
            "TIM_SDKAPPID",
        ),
        (&[("TIM_SDKAPPID", "1400000000")], "TIM_SECRET_KEY"),
        (
            &[
                ("TIM_SDKAPPID", "1"),
                ("TIM_SECRET_KEY", "very-secret-value"),
                ("TIM_REGION", "mars"),
            ],
            "TIM_REGION",
        ),
        (
            &[
                ("TIM_CALLBACK_TOKEN", "very-secret-value"),
                ("LISTEN_ADDR", "nowhere"),
            ],
            "LISTEN_ADDR",
        ),
        (
            &[
                ("TIM_SDKAPPID", "1400000000"),
                ("TIM_SECRET_KEY", "very-secret-value"),
                ("TIM_API_BASE_URL", "http://203.0.113.7:8080"),
            ],
            "TIM_API_BASE_URL",
        ),
    ];
    for (env, variable) in cases {
        let output = example("axum_server")
            .envs(env.iter().copied())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(output.status.code(), Some(2), "{env:?}: {stderr}");
        assert!(stderr.contains(variable), "{env:?}: {stderr}");
        assert!(!stderr.contains("very-secret-value") && !stdout.contains("very-secret-value"));
    }
}

#[test]
fn send_callback_reaches_axum_server_which_shuts_down_on_sigterm() {
    let env = [
        ("TIM_CALLBACK_TOKEN", "example-token-0123456789".to_string()),
        ("TIM_SDKAPPID", "1400000000".to_string()),
    ];
    let (mut server, addr, lines) = start_server(&env);
    let send = |token: &str, offset: &str| send_to(&addr, token, 1400000000, offset);
    let accepted = send("example-token-0123456789", "0");
    assert!(accepted.contains("status: 200 OK"), "{accepted}");
    assert!(accepted.contains(r#""ActionStatus":"OK""#), "{accepted}");
    let forged = send("wrong-token", "0");
    assert!(forged.contains("status: 401"), "{forged}");
    let stale = send("example-token-0123456789", "-120");
    assert!(stale.contains("status: 401"), "{stale}");

    let status = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = server.wait().unwrap();
    assert!(exit.success(), "graceful shutdown exits 0: {exit:?}");
    let rest: Vec<String> = lines.iter().collect();
    assert!(rest.iter().any(|l| l.contains("shut down")), "{rest:?}");
    assert!(rest.iter().all(|l| !l.contains("example-token")));
}

use tim_callback_mock::mock;

/// `send_callback --trtc` with the key in the environment (or `--token-stdin`).
fn send_trtc(addr: &str, key: &str, app: u64, extra: &[&str]) -> String {
    let output = example("send_callback")
        .args(["--trtc", "--url", &format!("http://{addr}/trtc/callback")])
        .args(["--sdkappid", &app.to_string()])
        .args(extra)
        .env("TIM_TRTC_CALLBACK_KEY", key)
        .output()
        .unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn axum_server_verifies_trtc_events_that_send_callback_signs() {
    let key = "ExampleTrtcKey2026";
    let env = [
        ("TIM_CALLBACK_TOKEN", "example-token-0123456789".to_string()),
        ("TIM_SDKAPPID", "1400000000".to_string()),
        ("TIM_TRTC_CALLBACK_KEY", key.to_string()),
    ];
    let (mut server, addr, lines) = start_server(&env);
    let accepted = send_trtc(&addr, key, 1400000000, &[]);
    assert!(accepted.contains("status: 200 OK"), "{accepted}");
    assert!(accepted.contains(r#"{"code":0}"#), "{accepted}");
    let forged = send_trtc(&addr, "SomeOtherKey", 1400000000, &[]);
    assert!(forged.contains("status: 401"), "{forged}");
    let other_app = send_trtc(&addr, key, 1400000001, &[]);
    assert!(other_app.contains("status: 401"), "{other_app}");
    let stale = send_trtc(&addr, key, 1400000000, &["--time-offset", "-3600"]);
    assert!(stale.contains("status: 401"), "{stale}");
    // Chat callbacks still work beside it.
    let chat = send_to(&addr, "example-token-0123456789", 1400000000, "0");
    assert!(chat.contains("status: 200 OK"), "{chat}");
    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let _ = server.wait();
    let logs: Vec<String> = lines.iter().collect();
    assert!(
        logs.iter().any(|l| l.contains("verified trtc event")),
        "{logs:?}"
    );
    assert!(logs.iter().all(|l| !l.contains(key)), "{logs:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotate_token_sets_a_strong_token_and_prints_only_its_fingerprint() {
    let api = mock::MockApi::start("old-token").await;
    let mut command = example("rotate_token");
    command
        .env("TIM_SDKAPPID", mock::SDK_APP_ID.to_string())
        .env("TIM_SECRET_KEY", mock::SECRET_KEY)
        .env("TIM_ADMIN", mock::ADMIN)
        .env("TIM_API_BASE_URL", api.base_url());
    let output = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let token = api.token().unwrap();
    assert_eq!(token.len(), 64);
    assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
    let fingerprint = tim_callback_auth::CallbackToken::new(&token)
        .unwrap()
        .fingerprint();
    assert!(stdout.contains(&fingerprint), "{stdout}");
    assert!(!stdout.contains(&token));
    assert_eq!(api.violations(), Vec::<String>::new());
}

#[test]
fn standalone_refresher_follows_two_rotations_showing_fingerprints_only() {
    let output = example("standalone_refresher").output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("changes 2"), "{stdout}");
    assert!(!stdout.contains("standalone-token"), "{stdout}");
}

/// Starts `axum_server` with `env` on an OS-assigned port; returns the child, its address and
/// its further output lines. A server that prints no address within 30 s is killed and the test
/// fails (a hung server must not hang the suite).
fn start_server(env: &[(&str, String)]) -> (KillOnDrop, String, std::sync::mpsc::Receiver<String>) {
    start_example("axum_server", env)
}

/// [`start_server`] for any example server that logs `addr=` once it listens.
fn start_example(
    name: &str,
    env: &[(&str, String)],
) -> (KillOnDrop, String, std::sync::mpsc::Receiver<String>) {
    let mut server = example(name)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env("LISTEN_ADDR", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = server.stdout.take().unwrap();
    let (tx, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let addr = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => {
                if let Some(rest) = line.split("addr=").nth(1) {
                    break rest.split_whitespace().next().unwrap().to_string();
                }
            }
            Err(_) => {
                let _ = server.kill();
                panic!("{name} printed no address within 30 s");
            }
        }
    };
    (KillOnDrop(server), addr, lines)
}

/// A child process killed if the test ends (or panics) while it still runs.
struct KillOnDrop(std::process::Child);

impl std::ops::Deref for KillOnDrop {
    type Target = std::process::Child;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for KillOnDrop {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

fn http_get(addr: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

fn send_to(addr: &str, token: &str, app: u64, time_offset: &str) -> String {
    let output = example("send_callback")
        .args(["--url", &format!("http://{addr}/im/callback")])
        .args(["--sdkappid", &app.to_string(), "--time-offset", time_offset])
        .env("TIM_CALLBACK_TOKEN", token)
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn send_callback_keeps_the_token_off_the_command_line_and_explains_itself() {
    let help = example("send_callback").arg("--help").output().unwrap();
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(help.status.success(), "{text}");
    for needle in [
        "--url",
        "--token-stdin",
        "TIM_CALLBACK_TOKEN",
        "--time-offset",
        "--body",
    ] {
        assert!(text.contains(needle), "{needle}: {text}");
    }
    let refused = example("send_callback")
        .args([
            "--url",
            "http://127.0.0.1:9/cb",
            "--token",
            "very-secret-value",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("TIM_CALLBACK_TOKEN") && !stderr.contains("very-secret-value"));
}

/// `send_callback`'s exit code and output, for a Chat callback signed with `token`.
fn send_exit(addr: &str, token: &str, extra: &[&str]) -> (Option<i32>, String) {
    let output = example("send_callback")
        .args(["--url", &format!("http://{addr}/im/callback")])
        .args(extra)
        .env("TIM_CALLBACK_TOKEN", token)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code(), text)
}

#[test]
fn send_callback_exits_non_zero_unless_the_status_is_the_expected_one() {
    let env = [
        ("TIM_CALLBACK_TOKEN", "exit-token-0123456789".to_string()),
        ("TIM_SDKAPPID", "1400000000".to_string()),
    ];
    let (_server, addr, _lines) = start_server(&env);
    // Accepted: 200 is expected by default.
    let (code, text) = send_exit(&addr, "exit-token-0123456789", &[]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("status: 200"), "{text}");
    // A 401 is a failure, and said so.
    let (code, text) = send_exit(&addr, "wrong-token-0123456789", &[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("status: 401") && text.contains("unexpected status 401"),
        "{text}"
    );
    assert!(!text.contains("wrong-token"), "{text}");
    // A CI check that stale callbacks are refused: 401 expected.
    let stale = ["--time-offset", "-120", "--expect", "401"];
    let (code, text) = send_exit(&addr, "exit-token-0123456789", &stale);
    assert_eq!(code, Some(0), "{text}");
    let (code, text) = send_exit(&addr, "exit-token-0123456789", &["--expect", "401"]);
    assert_eq!(
        code,
        Some(1),
        "an accepted callback is not the 401 expected: {text}"
    );
    // No answer at all, and a bad --expect.
    let (code, text) = send_exit("127.0.0.1:9", "exit-token-0123456789", &[]);
    assert_eq!(code, Some(1), "{text}");
    let (code, text) = send_exit(&addr, "exit-token-0123456789", &["--expect", "99"]);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("--expect"), "{text}");
}

#[test]
fn send_callback_reads_the_token_from_stdin() {
    use std::io::Write;
    let env = [
        ("TIM_CALLBACK_TOKEN", "stdin-token-0123456789".to_string()),
        ("TIM_SDKAPPID", "1400000000".to_string()),
    ];
    let (_server, addr, _lines) = start_server(&env);
    let mut child = example("send_callback")
        .args([
            "--url",
            &format!("http://{addr}/im/callback"),
            "--token-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "stdin-token-0123456789").unwrap();
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("status: 200"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_server_serves_two_apps_from_tim_apps_with_healthz() {
    let api = mock::MockApi::start("api-app-token").await;
    let file = std::env::temp_dir().join(format!("tim-apps-{}.json", std::process::id()));
    let apps = format!(
        r#"[
            {{"sdkappid": {}, "secret_key_env": "TEST_SECRET_A", "admin": "{}", "api_base_url": "{}"}},
            {{"sdkappid": 1400000077, "callback_token_env": "TEST_TOKEN_B"}}
        ]"#,
        mock::SDK_APP_ID,
        mock::ADMIN,
        api.base_url()
    );
    std::fs::write(&file, apps).unwrap();
    let env = [
        ("TIM_APPS", file.display().to_string()),
        ("TEST_SECRET_A", mock::SECRET_KEY.to_string()),
        ("TEST_TOKEN_B", "static-app-token".to_string()),
    ];
    let (mut server, addr, lines) = tokio::task::spawn_blocking(move || start_server(&env))
        .await
        .unwrap();
    let checks = tokio::task::spawn_blocking(move || {
        (
            send_to(&addr, "api-app-token", mock::SDK_APP_ID, "0"),
            send_to(&addr, "static-app-token", 1400000077, "0"),
            send_to(&addr, "api-app-token", 1400000077, "0"),
            http_get(&addr, "/healthz"),
        )
    })
    .await
    .unwrap();
    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let _ = server.wait();
    let _ = std::fs::remove_file(&file);
    let (a, b, cross, health) = checks;
    assert!(a.contains("status: 200"), "{a}");
    assert!(b.contains("status: 200"), "{b}");
    assert!(cross.contains("status: 401"), "{cross}");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(
        health.contains(r#""status":"ready""#) && health.contains("1400000077"),
        "{health}"
    );
    let logs: Vec<String> = lines.iter().collect();
    for secret in ["api-app-token", "static-app-token", mock::SECRET_KEY] {
        assert!(!health.contains(secret) && logs.iter().all(|l| !l.contains(secret)));
    }
}

#[test]
fn axum_server_explains_a_bad_tim_apps_file_and_exits_2() {
    let file = std::env::temp_dir().join(format!("tim-apps-bad-{}.json", std::process::id()));
    for (content, expected) in [
        ("not json", "not a JSON list"),
        ("[]", "lists no app"),
        (
            r#"[{"sdkappid": 1, "secret_key_env": "very-secret-value"}]"#,
            "secret_key_env names is not set",
        ),
        (
            r#"[{"sdkappid": 1, "callback_token": "a"}, {"sdkappid": 1, "callback_token": "b"}]"#,
            "twice",
        ),
        (
            r#"[{"sdkappid": 1, "callback_token": "very-secret-value", "secret_key": "k"}]"#,
            "not both",
        ),
        (
            r#"[{"sdkappid": "very-secret-value", "callback_token": "a"}]"#,
            "field `sdkappid` must be a whole number",
        ),
        (
            r#"[{"sdkappid": 1, "secret_key": ["very-secret-value"]}]"#,
            "field `secret_key` must be a string",
        ),
        (
            r#"[{"sdkappid": 1, "callback_token": "a", "very-secret-value": 1}]"#,
            "unknown field",
        ),
        (
            r#"[{"sdkappid": 1, "callback_token": "very-secret-value"#,
            "line 1",
        ),
    ] {
        std::fs::write(&file, content).unwrap();
        let output = example("axum_server")
            .env("TIM_APPS", &file)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{content}: {stderr}");
        assert!(
            stderr.contains("TIM_APPS") && stderr.contains(expected),
            "{content}: {stderr}"
        );
        assert!(!stderr.contains("very-secret-value"), "{content}: {stderr}");
    }
    let _ = std::fs::remove_file(&file);
}

#[test]
fn hyper_server_needs_a_token_and_exits_2_without_one() {
    let output = example("hyper_server").output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("TIM_CALLBACK_TOKEN"), "{stderr}");
}

/// A raw POST with exactly this path and query (no client-side normalisation).
fn http_post(addr: &str, path_and_query: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "POST {path_and_query} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: 2\r\nConnection: close\r\n\r\n{{}}"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

const APP_A: u64 = mock::SDK_APP_ID;
const APP_B: u64 = 1400000077;
const APP_C: u64 = 1400000088;

/// App A from the mock API, B with a static token, C from a mock API that reports
/// authentication off.
async fn three_apps() -> (
    mock::MockApi,
    mock::MockApi,
    std::path::PathBuf,
    Vec<(&'static str, String)>,
) {
    let api_a = mock::MockApi::start("token-of-app-a").await;
    let api_c =
        mock::MockApi::start_for(APP_C, mock::ADMIN, mock::SECRET_KEY, Some("unused"), false).await;
    let file = std::env::temp_dir().join(format!("tim-apps-three-{}.json", std::process::id()));
    let apps = format!(
        r#"[
            {{"sdkappid": {APP_A}, "secret_key_env": "TEST_SECRET", "api_base_url": "{}"}},
            {{"sdkappid": {APP_B}, "callback_token_env": "TEST_TOKEN_B"}},
            {{"sdkappid": {APP_C}, "secret_key_env": "TEST_SECRET", "api_base_url": "{}"}}
        ]"#,
        api_a.base_url(),
        api_c.base_url()
    );
    std::fs::write(&file, apps).unwrap();
    let env = vec![
        ("TIM_APPS", file.display().to_string()),
        ("TEST_SECRET", mock::SECRET_KEY.to_string()),
        ("TEST_TOKEN_B", "token-of-app-b".to_string()),
    ];
    (api_a, api_c, file, env)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_server_refuses_to_start_while_an_app_accepts_unsigned_callbacks() {
    let (_a, _c, file, env) = three_apps().await;
    let output = tokio::task::spawn_blocking(move || {
        example("axum_server")
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .env("LISTEN_ADDR", "127.0.0.1:0")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let _ = std::fs::remove_file(&file);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    for needle in [
        "TIM_ALLOW_UNSIGNED",
        &APP_C.to_string(),
        "set_callback_token",
        "TIM_CALLBACK_TOKEN",
    ] {
        assert!(stderr.contains(needle), "{needle}: {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_server_refuses_every_confusing_query_with_tim_apps() {
    let (_a, _c, file, mut env) = three_apps().await;
    env.push(("TIM_ALLOW_UNSIGNED", "1".to_string()));
    let (mut server, addr, _lines) = tokio::task::spawn_blocking(move || start_server(&env))
        .await
        .unwrap();
    let answers = tokio::task::spawn_blocking(move || {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let token_a = tim_callback_auth::CallbackToken::new("token-of-app-a").unwrap();
        let auth = format!("Sign={}&RequestTime={now}", token_a.sign(now));
        let cmd = "CallbackCommand=C2C.CallbackAfterSendMsg&contenttype=json";
        let refused = [
            format!("SdkAppid={APP_A}&SdkAppi%64={APP_B}&{cmd}&{auth}"),
            format!("SdkAppid={APP_A}&%53dkAppid={APP_B}&{cmd}&{auth}"),
            format!("SdkAppi%64={APP_B}&SdkAppid={APP_A}&{cmd}&{auth}"),
            format!("SdkAppid={APP_C}&SdkAppi%64={APP_A}&{cmd}"),
            format!("SdkAppid={APP_A}&{cmd}&{auth}&Request%54ime={}", now - 3600),
            format!("SdkAppid={APP_A}&{cmd}&{auth}&Sig%6E={}", "0".repeat(64)),
            format!("SdkAppid=0{APP_A}&{cmd}&{auth}"),
        ];
        let accepted = [
            format!("SdkAppid={APP_A}&{cmd}&ClientIP=1.2.3.4&OptPlatform=RESTAPI&{auth}"),
            format!("SdkAppId={APP_A}&{cmd}&{auth}"),
        ];
        let send = |q: &String| http_post(&addr, &format!("/im/callback?{q}"));
        (
            refused
                .iter()
                .map(|q| (q.clone(), send(q)))
                .collect::<Vec<_>>(),
            accepted
                .iter()
                .map(|q| (q.clone(), send(q)))
                .collect::<Vec<_>>(),
        )
    })
    .await
    .unwrap();
    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let _ = server.wait();
    let _ = std::fs::remove_file(&file);
    let (refused, accepted) = answers;
    for (query, answer) in refused {
        assert!(answer.starts_with("HTTP/1.1 401"), "{query}: {answer}");
    }
    for (query, answer) in accepted {
        assert!(answer.starts_with("HTTP/1.1 200"), "{query}: {answer}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_server_names_the_host_or_the_variable_when_the_token_cannot_be_loaded() {
    let unreachable = mock::refused_base_url().await;
    let api = mock::MockApi::start("token-0123456789abcdef").await;
    let cases = [
        (
            unreachable.clone(),
            mock::SECRET_KEY,
            unreachable.trim_start_matches("http://").to_owned(),
            Some(1),
        ),
        (
            api.base_url(),
            "a-wrong-secret-key-value",
            "TIM_SECRET_KEY".to_owned(),
            Some(2),
        ),
    ];
    for (base, key, expected, code) in cases {
        let mut command = example("axum_server");
        command
            .env("TIM_SDKAPPID", mock::SDK_APP_ID.to_string())
            .env("TIM_SECRET_KEY", key)
            .env("TIM_API_BASE_URL", &base)
            .env("LISTEN_ADDR", "127.0.0.1:0");
        let output = tokio::task::spawn_blocking(move || command.output().unwrap())
            .await
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr.lines().last().unwrap_or_default();
        assert_eq!(output.status.code(), code, "{stderr}");
        assert!(
            last.contains(&expected),
            "{expected} not in the last line: {last}"
        );
        assert!(!stderr.contains(key) || key == mock::SECRET_KEY, "{stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_server_allows_only_tencents_addresses_when_asked() {
    let api = mock::MockApi::start("source-token-0123456789").await;
    let base = [
        ("TIM_SDKAPPID", mock::SDK_APP_ID.to_string()),
        ("TIM_SECRET_KEY", mock::SECRET_KEY.to_string()),
        ("TIM_API_BASE_URL", api.base_url()),
    ];
    let with = |extra: &[(&'static str, &str)]| {
        let mut env = base.to_vec();
        env.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        env
    };
    // `tencent`: the mock's list holds 127.0.0.1, so our own callbacks pass; /healthz shows the list.
    let fetched = with(&[
        ("TIM_SOURCE_IPS", "tencent"),
        ("TIM_SOURCE_IPS_NETTYPE", "6"),
    ]);
    let (answers, health) = tokio::task::spawn_blocking(move || {
        let (_server, addr, _lines) = start_server(&fetched);
        (
            send_to(&addr, "source-token-0123456789", mock::SDK_APP_ID, "0"),
            http_get(&addr, "/healthz"),
        )
    })
    .await
    .unwrap();
    assert!(answers.contains("status: 200"), "{answers}");
    assert!(
        health.contains(r#""source_allowlist":{"status":"ready","entries":3"#),
        "{health}"
    );
    // A static list without us: refused, 403.
    let elsewhere = with(&[("TIM_SOURCE_IPS", "183.192.202.0/25, 2402:4e00::/32")]);
    let refused = tokio::task::spawn_blocking(move || {
        let (_server, addr, _lines) = start_server(&elsewhere);
        send_to(&addr, "source-token-0123456789", mock::SDK_APP_ID, "0")
    })
    .await
    .unwrap();
    assert!(refused.contains("status: 403"), "{refused}");
    // Misconfigured: named, exit 2.
    for (env, variable) in [
        (with(&[("TIM_SOURCE_IPS", "10.0.0.0/99")]), "TIM_SOURCE_IPS"),
        (
            with(&[
                ("TIM_SOURCE_IPS", "tencent"),
                ("TIM_SOURCE_IPS_NETTYPE", "4"),
            ]),
            "TIM_SOURCE_IPS_NETTYPE",
        ),
        (
            with(&[("TIM_TRUSTED_PROXY_HOPS", "many")]),
            "TIM_TRUSTED_PROXY_HOPS",
        ),
    ] {
        let output = tokio::task::spawn_blocking(move || {
            example("axum_server")
                .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
                .output()
                .unwrap()
        })
        .await
        .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(variable), "{variable}: {stderr}");
    }
    // The API not enabled: a clear message naming the variable.
    api.set_ip_lists(None);
    let not_enabled = with(&[("TIM_SOURCE_IPS", "tencent")]);
    let output = tokio::task::spawn_blocking(move || {
        example("axum_server")
            .envs(not_enabled.iter().map(|(k, v)| (*k, v.as_str())))
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("TIM_SOURCE_IPS") && stderr.contains("on request"),
        "{stderr}"
    );
}

#[test]
fn hyper_server_reads_the_peer_it_inserts() {
    let env = [
        ("TIM_CALLBACK_TOKEN", "hyper-token-0123456789".to_string()),
        ("TIM_SOURCE_IPS", "10.0.0.0/8".to_string()),
    ];
    let (_server, addr, _lines) = start_example("hyper_server", &env);
    let refused = send_to(&addr, "hyper-token-0123456789", 1400000000, "0");
    assert!(refused.contains("status: 403"), "{refused}");
    let env = [
        ("TIM_CALLBACK_TOKEN", "hyper-token-0123456789".to_string()),
        ("TIM_SOURCE_IPS", "127.0.0.0/8".to_string()),
    ];
    let (_server, addr, _lines) = start_example("hyper_server", &env);
    let accepted = send_to(&addr, "hyper-token-0123456789", 1400000000, "0");
    assert!(accepted.contains("status: 200"), "{accepted}");
}
