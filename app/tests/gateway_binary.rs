//! The `tim-callback-gateway` binary as an operator runs it: a configuration mistake exits 2
//! naming the variable; JSON log lines with `TIM_LOG_FORMAT=json`; SIGTERM while requests are in
//! flight drains them all and exits 0.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

const BIN: &str = env!("CARGO_BIN_EXE_tim-callback-gateway");
const TOKEN: &str = "binary-test-token-0123456789abcdef";
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

#[test]
fn a_configuration_mistake_exits_2_naming_the_variable_without_its_value() {
    let output = Command::new(BIN)
        .env_clear()
        .env("TIM_CALLBACK_TOKEN", TOKEN)
        .env("TIM_SDKAPPID", "1400000000")
        .env("TIM_UPSTREAM_URL", "http://127.0.0.1:9/tencent")
        .env("TIM_UPSTREAM_SECRET", "whsec_sEnTiNeL")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("configuration error: TIM_UPSTREAM_SECRET:"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("sEnTiNeL") && !stderr.contains("panicked"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_the_requests_in_flight_and_exits_0() {
    // A backend that takes 400 ms to answer.
    let arrived = Arc::new(AtomicUsize::new(0));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream = format!("http://{}/tencent", listener.local_addr().unwrap());
    let counter = Arc::clone(&arrived);
    let app = axum::Router::new().route(
        "/tencent",
        axum::routing::post(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            async {
                tokio::time::sleep(Duration::from_millis(400)).await;
                r#"{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}"#
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });

    let mut child = Command::new(BIN)
        .env_clear()
        .env("TIM_CALLBACK_TOKEN", TOKEN)
        .env("TIM_SDKAPPID", "1400000000")
        .env("TIM_UPSTREAM_URL", &upstream)
        .env("TIM_UPSTREAM_SECRET", SECRET)
        .env("TIM_UPSTREAM_TIMEOUT_MS", "1500")
        .env("LISTEN_ADDR", "127.0.0.1:0")
        .env("ADMIN_LISTEN_ADDR", "127.0.0.1:0")
        .env("TIM_LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (lines, received) = mpsc::channel::<String>();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let mut log = Vec::new();
    let addr = loop {
        let line = received
            .recv_timeout(Duration::from_secs(20))
            .expect("the gateway starts");
        let json: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        log.push(line);
        if json["fields"]["message"] == "gateway listening" {
            break json["fields"]["addr"].as_str().unwrap().to_owned();
        }
    };
    let requests: Vec<_> = (0..4)
        .map(|_| {
            let time = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
            let sign: String = Sha256::digest(format!("{TOKEN}{time}").as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            let url = format!("http://{addr}/im/callback?SdkAppid=1400000000&CallbackCommand=C2C.CallbackAfterSendMsg&RequestTime={time}&Sign={sign}");
            tokio::spawn(async move {
                reqwest::Client::new()
                    .post(url)
                    .body(r#"{"From_Account":"a","To_Account":"b"}"#)
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .map_err(|e| e.to_string())
            })
        })
        .collect();
    let waiting = Instant::now();
    while arrived.load(Ordering::SeqCst) < 4 {
        assert!(
            waiting.elapsed() < Duration::from_secs(10),
            "the requests did not arrive"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    for request in requests {
        assert_eq!(request.await.unwrap(), Ok(200));
    }
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    while let Ok(line) = received.recv_timeout(Duration::from_secs(5)) {
        assert!(
            serde_json::from_str::<serde_json::Value>(&line).is_ok(),
            "not JSON: {line}"
        );
        log.push(line);
    }
    let log = log.join("\n");
    assert!(
        log.contains("draining in-flight requests") && log.contains("shut down"),
        "{log}"
    );
    assert!(
        !log.contains(TOKEN) && !log.contains(&SECRET[6..]) && !log.contains("Sign="),
        "{log}"
    );
}
