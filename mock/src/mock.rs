//! An in-process mock of Tencent's callback-token REST API, on 127.0.0.1 with an OS-assigned port.
//!
//! It checks every request as Tencent would (POST, path, the five query parameters, a UserSig whose
//! HMAC verifies with the app's secret key, a JSON object body) and keeps a token configuration that
//! `set_callback_token` and `delete_callback_token` change. Scripted replies override the next calls,
//! to inject faults.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::io::Read;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Bytes, Frame, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use sha2::Sha256;

/// One scripted answer.
#[derive(Clone, Debug)]
pub enum Reply {
    /// Behave like Tencent: answer from the stored configuration.
    Real,
    /// `{"ActionStatus":"FAIL","ErrorCode":code,...}`.
    Code(i64),
    /// A non-200 status with this body (e.g. 502 with an HTML page).
    Status(u16, &'static str),
    /// HTTP 200 with exactly this body.
    Body(String),
    /// Wait, then answer with the inner reply.
    Delay(Duration, Box<Reply>),
    /// Accept the request and never answer.
    Hang,
    /// Send the headers and half a body, then stall forever.
    StallBody,
    /// `302 Found` to this location.
    Redirect(String),
}

#[derive(Debug, Default)]
struct Config {
    token: Option<String>,
    enabled: bool,
}

struct State {
    sdk_app_id: u64,
    identifier: String,
    secret_key: String,
    config: Mutex<Config>,
    script: Mutex<VecDeque<Reply>>,
    fallback: Mutex<Reply>,
    calls: AtomicUsize,
    user_sigs: Mutex<Vec<String>>,
    violations: Mutex<Vec<String>>,
    /// `GetIPList`'s answers for `nettype` 5 and 6; `None` while the API is not enabled.
    ip_lists: Mutex<Option<(Vec<String>, Vec<String>)>>,
}

/// A running mock. Dropping it stops the server and every connection.
pub struct MockApi {
    addr: SocketAddr,
    state: Arc<State>,
    server: Mutex<Option<Server>>,
}

/// The accept loop and the way to stop it.
struct Server {
    task: tokio::task::JoinHandle<()>,
    stop: tokio::sync::oneshot::Sender<()>,
}

impl std::fmt::Debug for MockApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockApi")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Drop for MockApi {
    fn drop(&mut self) {
        if let Some(server) = self.server.lock().unwrap().take() {
            server.task.abort();
        }
    }
}

/// Accepts connections until stopped; stopping closes the listener and ends every open connection
/// (they live in its `JoinSet`) before the task finishes, so a refused-connection fault is not
/// hidden by a kept-alive connection.
fn serve(listener: tokio::net::TcpListener, state: Arc<State>) -> Server {
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let mut connections = tokio::task::JoinSet::new();
        loop {
            tokio::select! {
                _ = &mut stopped => {
                    drop(listener);
                    connections.shutdown().await;
                    return;
                }
                accepted = listener.accept() => {
                    let Ok((stream, _)) = accepted else { continue };
                    let state = Arc::clone(&state);
                    connections.spawn(async move {
                        let service = hyper::service::service_fn(move |req| {
                            let state = Arc::clone(&state);
                            async move { Ok::<_, Infallible>(handle(&state, req).await) }
                        });
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
                Some(_) = connections.join_next() => {}
            }
        }
    });
    Server { task, stop }
}

/// The mock's default app.
pub const SDK_APP_ID: u64 = 1400000000;
/// The mock's default App admin.
pub const ADMIN: &str = "administrator";
/// The mock's default secret key.
pub const SECRET_KEY: &str = "mock-secret-key-0123456789abcdef";

impl MockApi {
    /// A mock for the default test app, with authentication enabled and `token`.
    pub async fn start(token: &str) -> MockApi {
        Self::start_for(SDK_APP_ID, ADMIN, SECRET_KEY, Some(token), true).await
    }

    /// A mock for any app: its admin and key, the token (if any) and the `IsTokenEnable` switch.
    pub async fn start_for(
        sdk_app_id: u64,
        identifier: &str,
        secret_key: &str,
        token: Option<&str>,
        enabled: bool,
    ) -> MockApi {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State {
            sdk_app_id,
            identifier: identifier.to_owned(),
            secret_key: secret_key.to_owned(),
            config: Mutex::new(Config {
                token: token.map(str::to_owned),
                enabled,
            }),
            script: Mutex::new(VecDeque::new()),
            fallback: Mutex::new(Reply::Real),
            calls: AtomicUsize::new(0),
            user_sigs: Mutex::new(Vec::new()),
            violations: Mutex::new(Vec::new()),
            ip_lists: Mutex::new(Some((
                vec!["127.0.0.1".into(), "183.192.202.0/25".into()],
                vec!["127.0.0.1".into(), "::1".into(), "43.132.0.0/16".into()],
            ))),
        });
        let server = serve(listener, Arc::clone(&state));
        MockApi {
            addr,
            state,
            server: Mutex::new(Some(server)),
        }
    }

    /// Closes the listener and every connection, and returns once they are closed: new
    /// connections are refused.
    pub async fn refuse_connections(&self) {
        let server = self.server.lock().unwrap().take();
        if let Some(server) = server {
            let _ = server.stop.send(());
            let _ = server.task.await;
        }
    }

    /// Listens again on the same address after [`refuse_connections`](Self::refuse_connections).
    pub async fn accept_connections(&self) {
        if self.server.lock().unwrap().is_some() {
            return;
        }
        let mut tries = 0;
        let listener = loop {
            match tokio::net::TcpListener::bind(self.addr).await {
                Ok(listener) => break listener,
                Err(_) if tries < 50 => {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(e) => panic!("cannot listen on {} again: {e}", self.addr),
            }
        };
        *self.server.lock().unwrap() = Some(serve(listener, Arc::clone(&self.state)));
    }

    /// What `GetIPList` answers for `nettype` 5 (China) and 6 (outside); `None`: the API is not
    /// enabled ([`IP_LIST_NOT_ENABLED`]). By default both lists hold 127.0.0.1 and a public range,
    /// and the outside one also `::1`.
    pub fn set_ip_lists(&self, lists: Option<(Vec<String>, Vec<String>)>) {
        *self.state.ip_lists.lock().unwrap() = lists;
    }

    /// `http://127.0.0.1:PORT`, for `Region::custom`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests received so far (checked or not).
    pub fn calls(&self) -> usize {
        self.state.calls.load(Ordering::SeqCst)
    }

    /// The UserSigs received, in order.
    pub fn user_sigs(&self) -> Vec<String> {
        self.state.user_sigs.lock().unwrap().clone()
    }

    /// Requests that Tencent would have refused (wrong method, path, parameters, UserSig, body).
    pub fn violations(&self) -> Vec<String> {
        self.state.violations.lock().unwrap().clone()
    }

    /// Answers the next calls with these replies, in order, then with the fallback.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.state.script.lock().unwrap().extend(replies);
    }

    /// The reply for every call once the script is empty (initially [`Reply::Real`]).
    pub fn set_fallback(&self, reply: Reply) {
        *self.state.fallback.lock().unwrap() = reply;
    }

    /// Changes the stored configuration, as `set_callback_token` would.
    pub fn set_token(&self, token: Option<&str>, enabled: bool) {
        let mut config = self.state.config.lock().unwrap();
        config.token = token.map(str::to_owned);
        config.enabled = enabled;
    }

    /// The stored token, as Tencent holds it.
    pub fn token(&self) -> Option<String> {
        self.state.config.lock().unwrap().token.clone()
    }
}

/// A local port with nothing listening: connections are refused.
pub async fn refused_base_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

type MockBody = BoxBody<Bytes, Infallible>;

fn json(body: String) -> Response<MockBody> {
    Response::builder()
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)).boxed())
        .unwrap()
}

fn fail(code: i64, info: &str) -> Response<MockBody> {
    json(format!(
        r#"{{"ActionStatus":"FAIL","ErrorCode":{code},"ErrorInfo":"{info}","RequestId":"Id-mock-{code}"}}"#
    ))
}

async fn handle(state: &State, req: Request<Incoming>) -> Response<MockBody> {
    state.calls.fetch_add(1, Ordering::SeqCst);
    let command = match check_request(state, req).await {
        Ok(command) => command,
        Err((code, why)) => {
            state.violations.lock().unwrap().push(why);
            return fail(code, "request refused by mock");
        }
    };
    let reply = {
        let scripted = state.script.lock().unwrap().pop_front();
        scripted.unwrap_or_else(|| state.fallback.lock().unwrap().clone())
    };
    answer(state, reply, command).await
}

async fn answer(state: &State, mut reply: Reply, command: Command) -> Response<MockBody> {
    loop {
        match reply {
            Reply::Delay(delay, inner) => {
                tokio::time::sleep(delay).await;
                reply = *inner;
            }
            Reply::Real => return real(state, command),
            Reply::Code(code) => return fail(code, "scripted error"),
            Reply::Status(status, body) => {
                return Response::builder()
                    .status(status)
                    .header("content-type", "text/html")
                    .body(Full::new(Bytes::from_static(body.as_bytes())).boxed())
                    .unwrap()
            }
            Reply::Body(body) => return json(body),
            Reply::Redirect(location) => {
                return Response::builder()
                    .status(302)
                    .header("location", location)
                    .body(Full::new(Bytes::new()).boxed())
                    .unwrap()
            }
            Reply::Hang => std::future::pending::<()>().await,
            Reply::StallBody => {
                return Response::builder()
                    .header("content-type", "application/json")
                    .header("content-length", "200")
                    .body(Stalling { sent: false }.boxed())
                    .unwrap()
            }
        }
    }
}

fn real(state: &State, command: Command) -> Response<MockBody> {
    let mut config = state.config.lock().unwrap();
    match command {
        Command::Get => match &config.token {
            None => fail(100302, "callback token configuration does not exist"),
            Some(token) => json(
                serde_json::json!({
                    "ErrorCode": 0, "ErrorInfo": "", "ActionStatus": "OK", "RequestId": "Id-mock-ok",
                    "Response": {"Token": token, "IsTokenEnable": config.enabled}
                })
                .to_string(),
            ),
        },
        Command::Set(body) => {
            let token = body.get("Token").and_then(|t| t.as_str()).map(str::to_owned);
            let enabled = body.get("IsTokenEnable").and_then(|e| e.as_bool());
            if config.token.is_none() && (token.is_none() || enabled.is_none()) {
                return fail(100002, "Token and IsTokenEnable are required the first time");
            }
            if let Some(token) = token {
                if token.is_empty() || token.len() > 128 {
                    return fail(100002, "invalid token");
                }
                config.token = Some(token);
            }
            if let Some(enabled) = enabled {
                config.enabled = enabled;
            }
            ok()
        }
        Command::Delete => {
            *config = Config::default();
            ok()
        }
        Command::IpList(nettype) => match &*state.ip_lists.lock().unwrap() {
            None => fail(IP_LIST_NOT_ENABLED, "GetIPList is not enabled for this app"),
            Some(lists) => {
                let list = if nettype == 5 { &lists.0 } else { &lists.1 };
                json(
                    serde_json::json!({
                        "ActionStatus": "OK", "ErrorCode": 0, "ErrorInfo": "",
                        "RequestId": "Id-mock-ok", "IPList": list,
                    })
                    .to_string(),
                )
            }
        },
    }
}

/// The code the mock answers `GetIPList` with while the API is "not enabled" for the app
/// (Tencent's docs do not name the code; any code the client does not know stands for it).
pub const IP_LIST_NOT_ENABLED: i64 = 90001;

fn ok() -> Response<MockBody> {
    json(r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0,"RequestId":"Id-mock-ok"}"#.into())
}

/// A checked request: which command, and the `set_callback_token` body (the others' bodies are
/// only checked to be JSON objects).
enum Command {
    Get,
    Set(serde_json::Value),
    Delete,
    /// `GetIPList` with this `nettype`.
    IpList(u8),
}

/// Tencent's checks. `Err((ErrorCode, why))` for a request it would refuse.
async fn check_request(state: &State, req: Request<Incoming>) -> Result<Command, (i64, String)> {
    if req.method() != hyper::Method::POST {
        return Err((100002, format!("method {}", req.method())));
    }
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    let mut params = std::collections::HashMap::new();
    for pair in query.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if params.insert(k.to_owned(), v.to_owned()).is_some() {
            return Err((100002, format!("duplicate parameter {k}")));
        }
    }
    let nettype = params.remove("nettype");
    let mut keys: Vec<_> = params.keys().cloned().collect();
    keys.sort();
    if keys != ["contenttype", "identifier", "random", "sdkappid", "usersig"] {
        return Err((100002, format!("parameters {keys:?}")));
    }
    let ip_list = path == "/v4/ConfigSvc/GetIPList";
    if ip_list != nettype.is_some() {
        return Err((
            100002,
            "nettype belongs to GetIPList, and only there".into(),
        ));
    }
    if params["contenttype"] != "json" {
        return Err((100002, "contenttype".into()));
    }
    if params["random"].parse::<u32>().is_err() {
        return Err((100002, "random is not a u32".into()));
    }
    if params["sdkappid"] != state.sdk_app_id.to_string() {
        return Err((60006, "sdkappid".into()));
    }
    if params["identifier"] != state.identifier {
        return Err((70009, "identifier".into()));
    }
    let user_sig = params["usersig"].clone();
    state.user_sigs.lock().unwrap().push(user_sig.clone());
    check_user_sig(state, &user_sig)?;
    let body = req
        .into_body()
        .collect()
        .await
        .map_err(|_| (100002, "body".to_string()))?
        .to_bytes();
    let body: serde_json::Value =
        serde_json::from_slice(&body).map_err(|_| (100002, "body is not json".to_string()))?;
    if !body.is_object() {
        return Err((100002, "body is not an object".into()));
    }
    match path.as_str() {
        "/v4/live_config/get_callback_token" => Ok(Command::Get),
        "/v4/live_config/set_callback_token" => Ok(Command::Set(body)),
        "/v4/live_config/delete_callback_token" => Ok(Command::Delete),
        "/v4/ConfigSvc/GetIPList" => match nettype.as_deref() {
            Some("5") => Ok(Command::IpList(5)),
            Some("6") => Ok(Command::IpList(6)),
            _ => Err((
                100002,
                "nettype must be 5 or 6 for webhook addresses".into(),
            )),
        },
        other => Err((100002, format!("path {other}"))),
    }
}

/// Reverses the URL-safe base64, inflates, parses the JSON and recomputes the HMAC.
pub fn decode_user_sig(user_sig: &str) -> Option<serde_json::Value> {
    let b64: String = user_sig
        .chars()
        .map(|c| match c {
            '*' => '+',
            '-' => '/',
            '_' => '=',
            c => c,
        })
        .collect();
    let compressed = STANDARD.decode(b64).ok()?;
    let mut json = Vec::new();
    flate2::read::ZlibDecoder::new(&compressed[..])
        .read_to_end(&mut json)
        .ok()?;
    serde_json::from_slice(&json).ok()
}

fn check_user_sig(state: &State, user_sig: &str) -> Result<(), (i64, String)> {
    let doc = decode_user_sig(user_sig).ok_or((70003, "usersig does not decode".to_string()))?;
    let field = |k: &str| doc.get(k).cloned().unwrap_or_default();
    if field("TLS.ver") != "2.0"
        || field("TLS.identifier") != state.identifier.as_str()
        || field("TLS.sdkappid") != state.sdk_app_id
    {
        return Err((70003, "usersig fields".into()));
    }
    let (Some(time), Some(expire), Some(sig)) = (
        field("TLS.time").as_u64(),
        field("TLS.expire").as_u64(),
        field("TLS.sig").as_str().map(str::to_owned),
    ) else {
        return Err((70003, "usersig field types".into()));
    };
    let content = format!(
        "TLS.identifier:{}\nTLS.sdkappid:{}\nTLS.time:{time}\nTLS.expire:{expire}\n",
        state.identifier, state.sdk_app_id
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(state.secret_key.as_bytes()).unwrap();
    mac.update(content.as_bytes());
    let expected = STANDARD.encode(mac.finalize().into_bytes());
    if expected != sig {
        return Err((70009, "usersig hmac does not verify".into()));
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    if time + expire < now {
        return Err((70001, "usersig expired".into()));
    }
    Ok(())
}

/// A body that sends a first chunk, then never finishes.
struct Stalling {
    sent: bool,
}

impl Body for Stalling {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.sent {
            Poll::Pending
        } else {
            self.sent = true;
            Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(
                br#"{"ErrorCode":0,"ActionStatus":"OK","Response":{"To"#,
            )))))
        }
    }
}
