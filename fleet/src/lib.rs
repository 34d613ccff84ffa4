//! One callback-token fetch per app for a whole fleet of [`tim_callback_auth`] receivers.
//!
//! Every receiver normally runs its own refresher per app, each calling Tencent's
//! `get_callback_token`, which Tencent limits to 200 calls per second per app: beyond about
//! 2,000 instances a fleet exceeds it (SCALING.md). With a [`Fleet`], the instances share a
//! [`Store`] (a [`RedisStore`], or a [`MemoryStore`] in tests):
//!
//! - **one holder per app**: an instance takes the app's lease (renewed every third of it;
//!   another instance takes over within one lease after the holder dies) and is the only one
//!   that calls Tencent, on the schedule; it writes the snapshot (token, enabled flag, fetch
//!   time, the previous token during its grace) to the store, fenced so that a paused ex-holder
//!   cannot overwrite a newer token, and publishes a notice;
//! - **every instance reads it** into its own [`TokenHandle`](tim_callback_auth::TokenHandle)
//!   through an ordinary refresher over a [`SharedSource`]: on the notice, and on an interval in
//!   case a notice is lost. The layer's hot path does not change: it reads the local cell,
//!   never the store;
//! - **a signature miss on any instance** asks the holder for an early fetch: at most one per
//!   gap (1 s) fleet-wide, however many instances are flooded;
//! - **when the store cannot be reached**, an instance keeps serving its last token and calls
//!   Tencent itself only on a miss, spaced by the fleet's size as it last saw it (so that 10,000
//!   instances do not become 10,000 pollers), and says so in [`Fleet::status`]; it returns to
//!   the shared mode when the store answers again.
//!
//! ```no_run
//! # #[cfg(feature = "redis")]
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use tim_callback_auth::rest::RestClient;
//! use tim_callback_auth::CallbackAuthLayer;
//! use tim_callback_fleet::{Fleet, RedisStore};
//!
//! let store = RedisStore::connect("redis://:password@redis.internal:6379/0", "tim:").await?;
//! let fleet = Fleet::builder(store).instance_id("pod-7f9c").start()?;
//! let client = RestClient::builder(1400000000, "secret key").build()?;
//! let refresher = fleet.refresher(1400000000, client).start().await?;
//! let layer = CallbackAuthLayer::new(refresher.handle());
//! # drop(layer);
//! # Ok(())
//! # }
//! ```
//!
//! **The store holds the token as Tencent gives it**: Redis is inside your trust boundary and
//! needs the protection of the secret key (AUTH, a network only the receivers reach). Neither
//! the token nor the URL's password is ever logged or shown.
//!
//! # Features
//!
//! - `redis`: [`RedisStore`] (redis-rs on tokio): `redis://` with AUTH, `unix://`.
//! - `redis-tls`: `rediss://` too (rustls with aws-lc-rs), and `RedisStore::connect_tls` for a
//!   private CA.
//! - `testing`: [`testing::RedisServer`], a throwaway `redis-server` for tests.

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod fleet;
mod memory;
mod record;
#[cfg(feature = "redis")]
mod redis;
mod retry;
mod source;
mod store;
#[cfg(feature = "testing")]
pub mod testing;

pub use crate::fleet::{Fleet, FleetBuilder, FleetStatus};
pub use crate::memory::MemoryStore;
pub use crate::record::valid_instance_id;
#[cfg(feature = "redis")]
pub use crate::redis::RedisStore;
pub use crate::retry::retry_key;
pub use crate::source::SharedSource;
pub use crate::store::{Lease, Notice, Store, StoreError, Stored};
