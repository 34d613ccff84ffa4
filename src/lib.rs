#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs, missing_debug_implementations, unreachable_pub)]
#![warn(rust_2018_idioms)]
#![doc(test(attr(deny(warnings))))]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod handle;
pub mod middleware;
mod token;
mod verify;

pub use crate::handle::TokenHandle;
pub use crate::middleware::{CallbackAuth, CallbackAuthLayer, ResponseFuture};
pub use crate::token::{CallbackToken, InvalidToken, TokenSnapshot, MAX_TOKEN_LEN};
pub use crate::verify::{Rejection, Verified, Verifier};
