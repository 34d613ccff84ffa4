//! [`RedisStore`]: the [`Store`] rules on a real Redis, each one atomic in a Lua script.

use std::fmt;
use std::time::Duration;

use futures_util::StreamExt as _;
use redis::aio::ConnectionManager;
use tokio::sync::mpsc;

use crate::store::{Lease, Notice, Store, StoreError, Stored};

/// The store's clock in milliseconds, from inside a script.
const NOW: &str = "local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)";

/// KEYS: lease. ARGV: holder, ttl ms. Returns {held, now}.
const LEASE: &str = "
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1, now}
elseif not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return {1, now}
end
return {0, now}";

/// KEYS: lease, record. ARGV: holder, fetched ms, record, channel, notice. Returns 1 if written.
/// A stored fetch time that is not a record's (16 digits at most), or more than a minute in the
/// store's future (its clock stepped back), does not fence: it is replaced.
const PUBLISH: &str = "
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local stored = redis.call('GET', KEYS[2])
if stored then
  local digits = string.match(stored, '^v1 (%d+) ')
  local at = digits and #digits <= 16 and tonumber(digits)
  if at and at >= tonumber(ARGV[2]) and at <= now + 60000 then return 0 end
end
redis.call('SET', KEYS[2], ARGV[3])
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 1";

/// KEYS: the gate (one ask per gap), the ask's time (kept until the next, for the holder's tick
/// to catch an ask whose notice it missed). ARGV: gap ms, channel, notice. Returns 1 if this call
/// asked.
const EARLY: &str = "
if redis.call('SET', KEYS[1], '1', 'PX', ARGV[1], 'NX') then
  redis.call('SET', KEYS[2], string.format('%d', now))
  redis.call('PUBLISH', ARGV[2], ARGV[3])
  return 1
end
return 0";

/// KEYS: members. ARGV: instance, window ms. Returns the count within the window.
const JOIN: &str = "
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return redis.call('ZCARD', KEYS[1])";

/// A [`Store`] on Redis (`redis://[user:password@]host:port/db`, `rediss://` with TLS under the
/// `redis-tls` feature, or `unix:///path.sock`), every
/// key under a prefix (default `tim:`): `<prefix><app>:lease`, `:token`, `:early`, `:asked`,
/// `<prefix>members` and the retry memory's `<prefix>answered:<key>`; notices on the channel
/// `<prefix>notices`.
///
/// **The token is stored as Tencent gives it** (in hex, in `<prefix><app>:token`): Redis is
/// inside your trust boundary, with the same protection as the secret key (AUTH, a network only
/// the receivers reach). The URL's password is never logged or shown: not in `Debug`, not in an
/// error.
#[derive(Clone)]
pub struct RedisStore {
    client: redis::Client,
    connection: ConnectionManager,
    prefix: String,
    lease: redis::Script,
    publish: redis::Script,
    early: redis::Script,
    join: redis::Script,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not the URL: it may hold a password.
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// A Redis error as a [`StoreError`]: its kind and Redis's own text (which holds no password:
/// redis-rs never puts the URL in an error).
fn error(what: &str, e: &redis::RedisError) -> StoreError {
    StoreError::new(format!("redis: {what}: {e}"))
}

fn invalid_url() -> StoreError {
    StoreError::new(
        "the Redis URL is not valid (redis://[user:password@]host:port/db, rediss:// with TLS, \
         or unix:///path)",
    )
}

fn script(body: &str) -> redis::Script {
    redis::Script::new(&format!("{NOW}\n{body}"))
}

impl RedisStore {
    /// Connects to the Redis at `url`, keys under `prefix` (`tim:` when empty is not what you
    /// want: give one per deployment that shares a Redis).
    ///
    /// # Errors
    ///
    /// A [`StoreError`] when the URL is not a Redis URL or the server cannot be reached or
    /// refuses the credentials; it never shows the URL.
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(|_| invalid_url())?;
        Self::with_client(client, prefix).await
    }

    /// Connects to the Redis at a `rediss://` URL whose certificate is signed by `ca_pem` (a
    /// PEM certificate: a private CA), instead of by the system's roots.
    ///
    /// # Errors
    ///
    /// As [`connect`](Self::connect), and when the CA is not a PEM certificate or the server's
    /// certificate does not verify.
    #[cfg(feature = "redis-tls")]
    pub async fn connect_tls(url: &str, prefix: &str, ca_pem: &[u8]) -> Result<Self, StoreError> {
        let certificates = redis::TlsCertificates {
            client_tls: None,
            root_cert: Some(ca_pem.to_vec()),
        };
        let client = redis::Client::build_with_tls(url, certificates).map_err(|e| {
            if e.kind() == redis::ErrorKind::InvalidClientConfig {
                invalid_url()
            } else {
                error("the TLS settings are not valid", &e)
            }
        })?;
        Self::with_client(client, prefix).await
    }

    async fn with_client(client: redis::Client, prefix: &str) -> Result<Self, StoreError> {
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(1));
        let connection = client
            .get_connection_manager_with_config(config)
            .await
            .map_err(|e| error("could not connect", &e))?;
        Ok(Self {
            client,
            connection,
            prefix: prefix.to_owned(),
            lease: script(LEASE),
            publish: script(PUBLISH),
            early: script(EARLY),
            join: script(JOIN),
        })
    }

    fn key(&self, app: u64, what: &str) -> String {
        format!("{}{app}:{what}", self.prefix)
    }

    fn channel(&self) -> String {
        format!("{}notices", self.prefix)
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

fn parse_notice(payload: &str) -> Option<Notice> {
    let (kind, app) = payload.split_once(' ')?;
    let app = app.parse().ok()?;
    match kind {
        "changed" => Some(Notice::Changed(app)),
        "early" => Some(Notice::Early(app)),
        _ => None,
    }
}

impl Store for RedisStore {
    async fn lease(&self, app: u64, holder: &str, ttl: Duration) -> Result<Lease, StoreError> {
        let (held, now_ms): (u8, u64) = self
            .lease
            .key(self.key(app, "lease"))
            .arg(holder)
            .arg(millis(ttl))
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(|e| error("lease", &e))?;
        Ok(Lease {
            held: held == 1,
            now_ms,
        })
    }

    async fn read(&self, app: u64) -> Result<Stored, StoreError> {
        let (record, early): (Option<String>, Option<String>) = redis::cmd("MGET")
            .arg(self.key(app, "token"))
            .arg(self.key(app, "asked"))
            .query_async(&mut self.connection.clone())
            .await
            .map_err(|e| error("read", &e))?;
        Ok(Stored {
            record,
            early_ms: early.as_deref().and_then(crate::record::number),
        })
    }

    async fn publish(
        &self,
        app: u64,
        holder: &str,
        fetched_ms: u64,
        record: &str,
    ) -> Result<bool, StoreError> {
        let written: u8 = self
            .publish
            .key(self.key(app, "lease"))
            .key(self.key(app, "token"))
            .arg(holder)
            .arg(fetched_ms)
            .arg(record)
            .arg(self.channel())
            .arg(format!("changed {app}"))
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(|e| error("publish", &e))?;
        Ok(written == 1)
    }

    async fn ask_early(&self, app: u64, gap: Duration) -> Result<bool, StoreError> {
        let asked: u8 = self
            .early
            .key(self.key(app, "early"))
            .key(self.key(app, "asked"))
            .arg(millis(gap))
            .arg(self.channel())
            .arg(format!("early {app}"))
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(|e| error("ask early", &e))?;
        Ok(asked == 1)
    }

    async fn join(&self, instance: &str, window: Duration) -> Result<u64, StoreError> {
        self.join
            .key(format!("{}members", self.prefix))
            .arg(instance)
            .arg(millis(window))
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(|e| error("join", &e))
    }

    async fn answered(&self, key: &str) -> Result<bool, StoreError> {
        let found: u8 = redis::cmd("EXISTS")
            .arg(format!("{}answered:{key}", self.prefix))
            .query_async(&mut self.connection.clone())
            .await
            .map_err(|e| error("answered", &e))?;
        Ok(found == 1)
    }

    async fn remember(&self, key: &str, ttl: Duration) -> Result<(), StoreError> {
        redis::cmd("SET")
            .arg(format!("{}answered:{key}", self.prefix))
            .arg("1")
            .arg("PX")
            .arg(millis(ttl))
            .query_async::<()>(&mut self.connection.clone())
            .await
            .map_err(|e| error("remember", &e))
    }

    fn notices(&self) -> mpsc::Receiver<Notice> {
        let (sender, receiver) = mpsc::channel(256);
        let client = self.client.clone();
        let channel = self.channel();
        tokio::spawn(async move {
            let mut delay = Duration::from_millis(100);
            // Until the receiver is dropped: subscribe, forward, and on a lost connection
            // subscribe again (the notices sent meanwhile are lost; the interval reads catch up).
            while !sender.is_closed() {
                let subscribed = async {
                    let mut pubsub = client.get_async_pubsub().await?;
                    pubsub.subscribe(&channel).await?;
                    Ok::<_, redis::RedisError>(pubsub)
                };
                let subscribed = tokio::time::timeout(Duration::from_secs(5), subscribed).await;
                match subscribed {
                    Ok(Ok(pubsub)) => {
                        let since = tokio::time::Instant::now();
                        let mut messages = pubsub.into_on_message();
                        loop {
                            tokio::select! {
                                () = sender.closed() => return,
                                message = messages.next() => {
                                    let Some(message) = message else { break };
                                    let notice = message
                                        .get_payload::<String>()
                                        .ok()
                                        .as_deref()
                                        .and_then(parse_notice);
                                    if let Some(notice) = notice {
                                        let _ = sender.try_send(notice);
                                    }
                                }
                            }
                        }
                        tracing::debug!("the fleet's notice subscription ended; subscribing again");
                        if since.elapsed() > Duration::from_secs(10) {
                            delay = Duration::from_millis(100);
                        }
                    }
                    Ok(Err(e)) => {
                        tracing::debug!(error = %error("subscribe", &e), "the fleet's notices are not reachable");
                    }
                    Err(_) => tracing::debug!("the fleet's notice subscription timed out"),
                }
                // A subscription that ends at once, or cannot be made, is retried with a
                // growing delay (and the interval reads go on meanwhile).
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        });
        receiver
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_are_read_strictly() {
        assert_eq!(
            parse_notice("changed 1400000000"),
            Some(Notice::Changed(1400000000))
        );
        assert_eq!(parse_notice("early 1"), Some(Notice::Early(1)));
        for bad in [
            "",
            "changed",
            "changed x",
            "early -1",
            "other 1",
            "changed  1",
        ] {
            assert_eq!(parse_notice(bad), None, "{bad}");
        }
    }
}
