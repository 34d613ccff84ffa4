//! A throwaway `redis-server` for tests (feature `testing`): each test starts its own, on a unix
//! socket in a temporary directory (or a free TCP port of 127.0.0.1 with a password), and it
//! stops when dropped. The fleet's own tests run on it; so can yours.
//!
//! Without `redis-server` on the `PATH` (Debian: `apt-get install redis-server`),
//! [`RedisServer::start`] says so on stderr and returns `None`, so that the test can return and
//! pass; with `TIM_REQUIRE_REDIS=1` in the environment it panics instead (CI sets it).

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A `redis-server` of the test's own, stopped (and its directory removed) when dropped.
#[derive(Debug)]
pub struct RedisServer {
    child: Option<Child>,
    dir: PathBuf,
    args: Vec<String>,
    url: String,
    password: Option<String>,
    /// The CA of a TLS server, PEM.
    ca: Option<Vec<u8>>,
}

/// Distinct directories for the servers of one process.
static NEXT: AtomicU64 = AtomicU64::new(0);

fn scratch(name: &str) -> PathBuf {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("tim-redis-{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    dir
}

impl RedisServer {
    /// A server on a unix socket (no TCP port), or `None` without `redis-server` (see the
    /// [module docs](self)). Its [`url`](Self::url) is `unix:///…/redis.sock`.
    pub fn start(name: &str) -> Option<Self> {
        let dir = scratch(name);
        let socket = dir.join("redis.sock");
        let args = vec![
            "--port".into(),
            "0".into(),
            "--unixsocket".into(),
            socket.display().to_string(),
            "--unixsocketperm".into(),
            "700".into(),
        ];
        Self::launch(
            dir,
            args,
            format!("unix://{}", socket.display()),
            None,
            None,
        )
    }

    /// A server on a free TCP port of 127.0.0.1 that requires `password`. Its
    /// [`url`](Self::url) has no password (`redis://127.0.0.1:PORT`): add it to test AUTH.
    pub fn start_with_password(name: &str, password: &str) -> Option<Self> {
        let dir = scratch(name);
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let args = vec![
            "--port".into(),
            port.to_string(),
            "--bind".into(),
            "127.0.0.1".into(),
            "--requirepass".into(),
            password.into(),
        ];
        let url = format!("redis://127.0.0.1:{port}");
        Self::launch(dir, args, url, Some(password.to_owned()), None)
    }

    /// A TLS server on a free TCP port of 127.0.0.1 that requires `password`, its certificate
    /// (for `127.0.0.1`) signed by a CA made for it: the URL is `rediss://127.0.0.1:PORT`, the
    /// CA's PEM is [`ca_pem`](Self::ca_pem). `None`, said on stderr, without `redis-server` or
    /// `openssl` (a failure with `TIM_REQUIRE_REDIS=1`).
    pub fn start_tls(name: &str, password: &str) -> Option<Self> {
        let dir = scratch(name);
        let openssl = |args: &[&str]| {
            Command::new("openssl")
                .args(args)
                .current_dir(&dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        let made = openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-days",
            "1",
            "-subj",
            "/CN=tim-test-ca",
        ]) && openssl(&[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ]) && std::fs::write(dir.join("ext.cnf"), "subjectAltName=IP:127.0.0.1\n")
            .is_ok()
            && openssl(&[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "server.crt",
                "-days",
                "1",
                "-extfile",
                "ext.cnf",
            ]);
        if !made {
            return Self::missing("openssl could not make the test certificates");
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let file = |name: &str| dir.join(name).display().to_string();
        let args = vec![
            "--port".into(),
            "0".into(),
            "--tls-port".into(),
            port.to_string(),
            "--bind".into(),
            "127.0.0.1".into(),
            "--tls-cert-file".into(),
            file("server.crt"),
            "--tls-key-file".into(),
            file("server.key"),
            "--tls-ca-cert-file".into(),
            file("ca.crt"),
            "--tls-auth-clients".into(),
            "no".into(),
            "--requirepass".into(),
            password.into(),
        ];
        let ca = std::fs::read(dir.join("ca.crt")).expect("the CA just made");
        let url = format!("rediss://127.0.0.1:{port}");
        Self::launch(dir, args, url, Some(password.to_owned()), Some(ca))
    }

    /// The CA of a [`start_tls`](Self::start_tls) server, PEM.
    pub fn ca_pem(&self) -> Option<&[u8]> {
        self.ca.as_deref()
    }

    fn missing(what: &str) -> Option<Self> {
        let required = std::env::var("TIM_REQUIRE_REDIS").is_ok_and(|v| v == "1");
        assert!(!required, "TIM_REQUIRE_REDIS=1 but {what}");
        // Straight to the process's stderr, not the test harness's captured output.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: {what}; set TIM_REQUIRE_REDIS=1 to make this a failure"
        );
        None
    }

    fn launch(
        dir: PathBuf,
        mut args: Vec<String>,
        url: String,
        password: Option<String>,
        ca: Option<Vec<u8>>,
    ) -> Option<Self> {
        args.extend(["--save", "", "--appendonly", "no", "--dir"].map(str::to_owned));
        args.push(dir.display().to_string());
        let mut server = Self {
            child: None,
            dir,
            args,
            url,
            password,
            ca,
        };
        if !server.spawn() {
            return Self::missing("redis-server is not on the PATH (apt-get install redis-server)");
        }
        Some(server)
    }

    /// Starts the process and waits until it answers a `PING`; `false` without `redis-server`.
    fn spawn(&mut self) -> bool {
        let Ok(child) = Command::new("redis-server")
            .args(&self.args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
        else {
            return false;
        };
        self.child = Some(child);
        for _ in 0..400 {
            if self.command(&["PING"]).is_ok() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("redis-server did not answer within 10 s");
    }

    /// The server's URL (without the password).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Runs one command (with the password, if any) and returns its reply as text: one string
    /// for a simple reply, one per element for an array, none for nil.
    ///
    /// # Errors
    ///
    /// The server's error, or no connection, as text.
    pub fn command(&self, args: &[&str]) -> Result<Vec<String>, String> {
        let url = match &self.password {
            Some(p) => self
                .url
                .replacen("redis://", &format!("redis://:{p}@"), 1)
                .replacen("rediss://", &format!("rediss://:{p}@"), 1),
            None => self.url.clone(),
        };
        let client = match &self.ca {
            Some(ca) => redis::Client::build_with_tls(
                url,
                redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(ca.clone()),
                },
            ),
            None => redis::Client::open(url),
        }
        .map_err(|e| e.to_string())?;
        let mut connection = client.get_connection().map_err(|e| e.to_string())?;
        let mut command = redis::cmd(args.first().copied().unwrap_or("PING"));
        for arg in args.iter().skip(1) {
            command.arg(*arg);
        }
        let value: redis::Value = command.query(&mut connection).map_err(|e| e.to_string())?;
        fn text(value: redis::Value, out: &mut Vec<String>) {
            match value {
                redis::Value::Nil => {}
                redis::Value::Int(n) => out.push(n.to_string()),
                redis::Value::BulkString(b) => out.push(String::from_utf8_lossy(&b).into_owned()),
                redis::Value::SimpleString(s) => out.push(s),
                redis::Value::Okay => out.push("OK".to_owned()),
                redis::Value::Array(items) | redis::Value::Set(items) => {
                    for item in items {
                        text(item, out);
                    }
                }
                other => out.push(format!("{other:?}")),
            }
        }
        let mut out = Vec::new();
        text(value, &mut out);
        Ok(out)
    }

    /// Stops the server (a crash: no shutdown save).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops it and starts it again on the same socket or port, empty.
    ///
    /// # Panics
    ///
    /// When it does not come back.
    pub fn restart(&mut self) {
        self.stop();
        assert!(self.spawn(), "redis-server did not start again");
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
