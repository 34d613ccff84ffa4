//! TRTC event callbacks: the `Sign` header, `base64(HMAC-SHA256(key, body))`, verified over the
//! body exactly as received.
//!
//! A TRTC backend receives two kinds of signed callbacks. Chat and Live callbacks carry `Sign` and
//! `RequestTime` in the query: the [`CallbackAuthLayer`](crate::CallbackAuthLayer) verifies those.
//! TRTC's own event callbacks (room, media, relay-to-CDN, cloud recording and stream-ingest
//! events) are a `POST` with a JSON body and two headers, `SdkAppId` and `Sign`, where `Sign` is
//! the base64 HMAC-SHA256 of the raw body under the callback key chosen in the TRTC console
//! (at most 32 letters and digits; no API reads it back). This module verifies those:
//!
//! - [`TrtcKey`]: a key, checked and prepared once; [`TrtcKeys`]: the keys of your apps, each
//!   rotatable with a previous key accepted until retired;
//! - [`TrtcVerifier`]: the rules, pure and synchronous, usable without tower;
//! - [`TrtcCallbackAuthLayer`]: the `tower` layer that reads the body (64 KiB at most by
//!   default), verifies it, hands your handler the same bytes (a [`TrtcBody`]) with a
//!   [`VerifiedTrtcEvent`], and answers Tencent's retries of events your handler already
//!   answered.
//!
//! The layer only ever parses bytes whose signature it has verified, compares in constant time,
//! refuses an event whose `CallbackTs` is more than 10 minutes (the window) from now either way,
//! and answers rejections as responses: the [`Rejection`](crate::Rejection) is in the response's
//! extensions, counted in [`TrtcKeys::stats`] (and the `tim_trtc_callback_*` metrics), and
//! logged with the app and the reason, never the key, the `Sign` or the body.
//!
//! # Examples
//!
//! Your handler answers `{"code":0}` with [`Reply::trtc_ok`](crate::Reply::trtc_ok); see
//! [`TrtcCallbackAuthLayer`] for an axum router.
//!
//! ```
//! use tim_callback_auth::trtc::{TrtcKey, TrtcKeys, TrtcVerifier};
//! use tim_callback_auth::Rejection;
//!
//! let key = TrtcKey::new("MyTrtcCallbackKey")?;
//! let body = br#"{"EventGroupId":1,"EventType":104,"CallbackTs":1700000000000,"EventInfo":{}}"#;
//! let mut headers = http::HeaderMap::new();
//! headers.insert("SdkAppId", "1400000001".parse()?);
//! headers.insert("Sign", key.sign(body).parse()?);
//! let keys = TrtcKeys::single(1400000001, key);
//!
//! let now_ms = 1700000000000;
//! assert!(TrtcVerifier::new().verify(&keys, &headers, body, now_ms).is_ok());
//! // One byte changed: the signature no longer matches.
//! let tampered = br#"{"EventGroupId":1,"EventType":105,"CallbackTs":1700000000000,"EventInfo":{}}"#;
//! assert_eq!(
//!     TrtcVerifier::new().verify(&keys, &headers, tampered, now_ms),
//!     Err(Rejection::SignatureMismatch)
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod base64;
mod body;
mod config;
mod dedupe;
mod event;
mod future;
mod key;
mod keys;
mod layer;
mod service;
mod verify;

pub use self::body::TrtcBody;
pub use self::future::ResponseFuture;
pub use self::key::TrtcKey;
pub use self::keys::TrtcKeys;
pub use self::layer::TrtcCallbackAuthLayer;
pub use self::service::TrtcCallbackAuth;
pub use self::verify::{TrtcVerifier, VerifiedTrtcEvent};
