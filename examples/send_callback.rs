//! A callback simulator: sends a signed callback to your endpoint, the way Tencent does.
//!
//! ```sh
//! cargo run --example send_callback -- --url http://127.0.0.1:8080/im/callback --token demo-token \
//!     --sdkappid 1400000000 --command C2C.CallbackAfterSendMsg --body message.json
//! echo '{}' | cargo run --example send_callback -- --url ... --token ... --body -
//! ```
//!
//! `--time-offset SECS` shifts RequestTime (e.g. -120 to check that stale callbacks are refused).
//! Prints the HTTP status and the reply.

use std::io::Read;
use std::process::exit;
use std::time::{SystemTime, UNIX_EPOCH};

use tim_callback_auth::CallbackToken;

const USAGE: &str =
    "usage: send_callback --url URL --token TOKEN [--sdkappid ID] [--command NAME] \
[--body FILE|-] [--time-offset SECS]";

struct Args {
    url: String,
    token: CallbackToken,
    sdk_app_id: u64,
    command: String,
    body: String,
    offset: i64,
}

fn parse_args() -> Result<Args, String> {
    let mut url = None;
    let mut token = None;
    let mut sdk_app_id = 1400000000u64;
    let mut command = "C2C.CallbackAfterSendMsg".to_string();
    let mut body = None;
    let mut offset = 0i64;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => url = Some(value()?),
            "--token" => {
                token = Some(CallbackToken::new(&value()?).map_err(|e| format!("--token: {e}"))?)
            }
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
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    let body = body.unwrap_or_else(|| {
        format!(r#"{{"CallbackCommand":"{command}","From_Account":"alice","To_Account":"bob","MsgBody":[]}}"#)
    });
    Ok(Args {
        url: url.ok_or(format!("--url is required\n{USAGE}"))?,
        token: token.ok_or(format!("--token is required\n{USAGE}"))?,
        sdk_app_id,
        command,
        body,
        offset,
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
    let separator = if args.url.contains('?') { '&' } else { '?' };
    let url = format!(
        "{}{separator}SdkAppid={}&CallbackCommand={}&contenttype=json&ClientIP=127.0.0.1&OptPlatform=RESTAPI&Sign={}&RequestTime={time}",
        args.url,
        args.sdk_app_id,
        args.command,
        args.token.sign(time)
    );
    let response = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(args.body)
        .send()
        .await;
    match response {
        Ok(response) => {
            println!("status: {}", response.status());
            println!("reply:  {}", response.text().await.unwrap_or_default());
        }
        Err(e) => {
            // Without the URL: it carries the Sign.
            eprintln!("request failed: {}", e.without_url());
            exit(1);
        }
    }
}
