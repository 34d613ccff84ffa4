//! A callback simulator: sends a signed callback to your endpoint, the way Tencent does: a Chat
//! callback (`Sign` in the query), or with `--trtc` a TRTC event (`Sign` header over the body).
//!
//! ```sh
//! TIM_CALLBACK_TOKEN=... cargo run --example send_callback -- --url http://127.0.0.1:8080/im/callback \
//!     --sdkappid 1400000000 --command C2C.CallbackAfterSendMsg --body message.json
//! TIM_TRTC_CALLBACK_KEY=... cargo run --example send_callback -- --trtc \
//!     --url http://127.0.0.1:8080/trtc/callback --sdkappid 1400000000
//! cargo run --example send_callback -- --help
//! ```
//!
//! Secrets never go on the command line (where shell history and `ps` would keep them): the token
//! comes from `TIM_CALLBACK_TOKEN` (the TRTC key from `TIM_TRTC_CALLBACK_KEY`), or from the first
//! line of standard input with `--token-stdin`. Prints the HTTP status and the reply, and exits 0
//! only when the status is the expected one (`--expect`, default 200), so that it can be a CI
//! check: 1 for another status or no answer, 2 for a usage error.

use std::io::Read;
use std::process::exit;
use std::time::{SystemTime, UNIX_EPOCH};

use tim_callback_auth::trtc::TrtcKey;
use tim_callback_auth::CallbackToken;

const USAGE: &str = "\
usage: send_callback --url URL [options]

Sends a callback signed as Tencent signs it and prints the HTTP status and the reply; exits 0
when the status is the expected one, 1 when it is not (or no answer came), 2 on a usage error.
- a Chat callback: Sign = hex(SHA-256(token || RequestTime)) in the query;
- with --trtc, a TRTC event: headers SdkAppId and Sign = base64(HMAC-SHA256(key, body)).

The token is read from the environment variable TIM_CALLBACK_TOKEN (with --trtc, the key from
TIM_TRTC_CALLBACK_KEY), or from the first line of standard input with --token-stdin; never from
the command line.

options:
  --url URL            the endpoint, e.g. http://127.0.0.1:8080/im/callback (required)
  --trtc               send a TRTC event (default body: a user entering a room, CallbackTs now)
  --token-stdin        read the token (or TRTC key) from the first line of standard input
  --sdkappid ID        the SdkAppid parameter (default 1400000000)
  --command NAME       the CallbackCommand parameter (default C2C.CallbackAfterSendMsg)
  --body FILE|-        the JSON body, from a file or standard input (default: a small message),
                       sent byte for byte (a TRTC Sign covers these exact bytes)
  --time-offset SECS   shift RequestTime (with --trtc, the default body's CallbackTs), e.g. -120
                       to check that stale callbacks are refused
  --expect STATUS      the HTTP status that counts as success (default 200), e.g. 401 with
                       --time-offset -120 to check in CI that stale callbacks are refused
  -h, --help           this text";

enum Secret {
    Token(CallbackToken),
    Trtc(TrtcKey),
}

struct Args {
    url: String,
    secret: Secret,
    sdk_app_id: u64,
    command: String,
    body: String,
    offset: i64,
    expect: u16,
}

fn parse_args() -> Result<Args, String> {
    let mut url = None;
    let mut token_stdin = false;
    let mut trtc = false;
    let mut sdk_app_id = 1400000000u64;
    let mut command = "C2C.CallbackAfterSendMsg".to_string();
    let mut body = None;
    let mut offset = 0i64;
    let mut expect = 200u16;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => url = Some(value()?),
            "--token-stdin" => token_stdin = true,
            "--trtc" => trtc = true,
            "--token" => return Err(
                "--token is not accepted: the command line is visible in ps and shell history; \
                     set TIM_CALLBACK_TOKEN or use --token-stdin"
                    .into(),
            ),
            "--sdkappid" => {
                sdk_app_id = value()?
                    .parse()
                    .map_err(|_| "--sdkappid must be a number".to_string())?
            }
            "--command" => command = value()?,
            "--body" => {
                let source = value()?;
                let mut text = String::new();
                if source == "-" {
                    if token_stdin {
                        return Err(
                            "--token-stdin and --body - cannot both read standard input".into()
                        );
                    }
                    std::io::stdin()
                        .read_to_string(&mut text)
                        .map_err(|e| format!("--body -: {e}"))?;
                } else {
                    text = std::fs::read_to_string(&source)
                        .map_err(|e| format!("--body {source}: {e}"))?;
                }
                body = Some(text);
            }
            "--time-offset" => {
                offset = value()?
                    .parse()
                    .map_err(|_| "--time-offset must be a whole number of seconds".to_string())?
            }
            "--expect" => {
                expect = value()?
                    .parse()
                    .ok()
                    .filter(|s| (100..=599).contains(s))
                    .ok_or_else(|| "--expect must be an HTTP status, 100 to 599".to_string())?
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                exit(0)
            }
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    let body = body.unwrap_or_else(|| {
        if trtc {
            let now_ms = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64);
            let ts = now_ms.saturating_add_signed(offset.saturating_mul(1000));
            format!(
                "{{\n\t\"EventGroupId\":\t1,\n\t\"EventType\":\t103,\n\t\"CallbackTs\":\t{ts},\n\t\"EventInfo\":\t{{\"RoomId\":\t12345,\"EventTs\":\t{},\"UserId\":\t\"test\",\"UniqueId\":\t{ts},\"Role\":\t20,\"Reason\":\t1}}\n}}",
                ts / 1000
            )
        } else {
            format!(r#"{{"CallbackCommand":"{command}","From_Account":"alice","To_Account":"bob","MsgBody":[]}}"#)
        }
    });
    let variable = if trtc {
        "TIM_TRTC_CALLBACK_KEY"
    } else {
        "TIM_CALLBACK_TOKEN"
    };
    let token = if token_stdin {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|e| format!("--token-stdin: {e}"))?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    } else {
        std::env::var(variable)
            .map_err(|_| format!("{variable} is not set (or use --token-stdin); see --help"))?
    };
    let secret = if trtc {
        Secret::Trtc(TrtcKey::new(token.trim()).map_err(|e| format!("the TRTC key: {e}"))?)
    } else {
        Secret::Token(CallbackToken::new(&token).map_err(|e| format!("the token: {e}"))?)
    };
    Ok(Args {
        url: url.ok_or(format!("--url is required\n{USAGE}"))?,
        secret,
        sdk_app_id,
        command,
        body,
        offset,
        expect,
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = parse_args().unwrap_or_else(|e| {
        eprintln!("{e}");
        exit(2)
    });
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let time = now.saturating_add_signed(args.offset);
    let request = match &args.secret {
        Secret::Token(token) => {
            let separator = if args.url.contains('?') { '&' } else { '?' };
            let url = format!(
                "{}{separator}SdkAppid={}&CallbackCommand={}&contenttype=json&ClientIP=127.0.0.1&OptPlatform=RESTAPI&Sign={}&RequestTime={time}",
                args.url,
                args.sdk_app_id,
                args.command,
                token.sign(time)
            );
            reqwest::Client::new().post(url)
        }
        Secret::Trtc(key) => reqwest::Client::new()
            .post(&args.url)
            .header("SdkAppId", args.sdk_app_id)
            .header("Sign", key.sign(args.body.as_bytes())),
    };
    let response = request
        .header("content-type", "application/json")
        .body(args.body)
        .send()
        .await;
    match response {
        Ok(response) => {
            let status = response.status();
            println!("status: {status}");
            println!("reply:  {}", response.text().await.unwrap_or_default());
            if status.as_u16() != args.expect {
                eprintln!("unexpected status {status} (expected {})", args.expect);
                exit(1);
            }
        }
        Err(e) => {
            // Without the URL: it carries the Sign.
            eprintln!("request failed: {}", e.without_url());
            exit(1);
        }
    }
}
