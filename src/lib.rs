#![doc = include_str!("../README.md")]
// Lints: the `[workspace.lints]` table of Cargo.toml (tests, examples and benches too).
#![forbid(unsafe_code)]
#![doc(test(attr(deny(warnings))))]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod apps;
#[cfg(feature = "config")]
#[cfg_attr(docsrs, doc(cfg(feature = "config")))]
pub mod config;
#[cfg(feature = "refresh")]
mod error;
mod handle;
pub mod health;
mod hex;
pub mod middleware;
#[cfg(feature = "refresh")]
mod rand;
#[cfg(feature = "refresh")]
#[cfg_attr(docsrs, doc(cfg(feature = "refresh")))]
pub mod refresh;
mod reply;
#[cfg(feature = "rest")]
#[cfg_attr(docsrs, doc(cfg(feature = "rest")))]
pub mod rest;
pub mod stats;
mod token;
#[cfg(feature = "rest")]
#[cfg_attr(docsrs, doc(cfg(feature = "rest")))]
pub mod usersig;
mod verify;

pub use crate::apps::AppSet;
#[cfg(feature = "refresh")]
pub use crate::error::{Error, ErrorKind};
pub use crate::handle::TokenHandle;
pub use crate::middleware::CallbackAuthLayer;
#[cfg(feature = "refresh")]
pub use crate::refresh::TokenRefresher;
pub use crate::reply::{InvalidReply, Reply};
pub use crate::token::{CallbackToken, InvalidToken, TokenSnapshot};
pub use crate::verify::{Rejection, Verified, VerifiedCallback, Verifier};
