//! Tencent Cloud Chat (IM), TRTC Live and TRTC event callbacks as Rust types, behind
//! [`tim_callback_auth`]'s verification layers: every webhook of Tencent's command lists as a
//! type ([the commands table](commands)), message bodies as [`MsgElement`](message::MsgElement)s,
//! typed replies ([`Ack`], [`Verdict`], including a rewritten message for moderation), and
//! dispatch by command ([`Router`], a tower `Service`; with the `axum` feature, the
//! [`AnyEvent`](extract::AnyEvent) and [`Typed`](extract::Typed) extractors).
//!
//! ```no_run
//! use tim_callback_auth::{CallbackAuthLayer, TokenHandle};
//! use tim_callback_events::chat::c2c::C2cBeforeSendMsg;
//! use tim_callback_events::message::MsgElement;
//! use tim_callback_events::{Router, Verdict};
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let handle = TokenHandle::from_token(1400000000, "the console's callback token")?;
//!     let callbacks = Router::new().on(|event: C2cBeforeSendMsg, _verified| async move {
//!         let masked: Vec<MsgElement> = event
//!             .msg_body
//!             .iter()
//!             .map(|e| match e.as_text() {
//!                 Some(text) => MsgElement::text(text.replace("badword", "*******")),
//!                 None => e.clone(),
//!             })
//!             .collect();
//!         Verdict::allow_with_msg_body(masked)
//!     });
//!     let app = axum::Router::new()
//!         .route_service("/im/callback", callbacks)
//!         .layer(CallbackAuthLayer::new(handle));
//!     let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
//!     axum::serve(listener, app).await?;
//!     Ok(())
//! }
//! ```
//!
//! # One reading of the command
//!
//! Tencent puts the command in the query (`CallbackCommand`, or `WebhookCommand` on the Live
//! pages) and usually again in the body. **Neither is covered by the `Sign`**, which signs only
//! the token and `RequestTime`: whoever replays a signed URL within its window chooses both. This
//! crate makes sure that what the router dispatches on is what the handler's type says: the
//! query's command is read strictly ([`query`]), the body's is read in the same pass as the
//! event ([`from_slice`]), and when they differ the request is refused (400,
//! [`ErrorKind::CommandConflict`], counted).
//!
//! # Bodies that cannot be read
//!
//! Malformed JSON, a body that does not match its command's type, one over the limit (413), a
//! form or multipart body (415: a missing `Content-Type` and any `application/json` are fine)
//! are typed [`Error`]s with a reason, refused with their status. Except for before-callbacks,
//! whose non-200 Tencent treats as a failed callback and then delivers the message unmoderated:
//! those are answered by the [`UnreadableBody`] policy (forbid by default, or allow), counted
//! ([`Stats`]) and logged once per reason per second. Unknown fields are accepted (Tencent adds
//! fields), and every documented field is optional (a missing one takes its default), so a body
//! is refused only when a field has the wrong type.
//!
//! # TRTC event callbacks
//!
//! [`trtc::TrtcEvent`] types `EventInfo` per event type, from the verified body and the
//! [`VerifiedTrtcEvent`](tim_callback_auth::trtc::VerifiedTrtcEvent) the layer read: the envelope
//! is not parsed twice.
//!
//! # Features
//!
//! | feature | adds |
//! |---|---|
//! | `axum` | the axum extractors [`extract::AnyEvent`], [`extract::Typed`] and [`extract::TypedTrtc`]; `Ack` and `Verdict` as `IntoResponse` |
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod body;
mod callback;
pub mod chat;
mod check;
#[doc = include_str!("../COMMANDS.md")]
pub mod commands {}
mod config;
mod error;
mod event;
#[cfg(feature = "axum")]
pub mod extract;
mod lenient;
pub mod live;
pub mod message;
mod parse;
pub mod query;
mod reply;
mod router;
mod stats;
pub mod trtc;

pub use callback::{Callback, CallbackReply};
pub use check::{check_reply, command_of, InvalidReply};
pub use config::{Config, UnreadableBody, DEFAULT_BODY_LIMIT};
pub use error::{Error, ErrorKind};
pub use event::Event;
pub use parse::from_slice;
pub use reply::{Ack, ReplyCodeError, RewritesMessage, Verdict};
pub use router::{Router, RouterFuture};
pub use stats::Stats;

/// The README's example compiles (`cargo test --doc`).
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
