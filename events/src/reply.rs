//! Typed replies: [`Ack`] for callbacks whose answer Tencent ignores, [`Verdict`] for those whose
//! answer decides.

use std::fmt;
use std::marker::PhantomData;

use serde::Serialize;

use crate::{Callback, CallbackReply};

/// The reply to an after-callback (and any callback whose answer Tencent ignores):
/// `{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}`.
///
/// ```
/// use tim_callback_events::{Ack, CallbackReply};
///
/// assert_eq!(Ack.to_json(), r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}"#);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[must_use = "an Ack does nothing until it is answered"]
pub struct Ack;

impl CallbackReply for Ack {
    const DECIDES: bool = false;

    fn to_json(&self) -> String {
        // The library's `Reply::ok()`: one writer of Tencent's common answers.
        tim_callback_auth::Reply::ok().to_json()
    }
}

/// The reply to a before-callback of command `C`: allow, forbid, discard, forbid with a code the
/// client sees, and the answers `C`'s page defines (a rewritten message for the send-message
/// callbacks, per-account results for a friend request, …: methods that exist only on the
/// `Verdict` of the command they belong to).
///
/// A `Verdict<C>` can only be given to `C`'s handler: the [`Router`](crate::Router) and the
/// extractor take `C::Reply`.
///
/// ```
/// use tim_callback_events::chat::c2c::C2cBeforeSendMsg;
/// use tim_callback_events::message::MsgElement;
/// use tim_callback_events::{CallbackReply, Verdict};
///
/// let reply = Verdict::<C2cBeforeSendMsg>::allow_with_msg_body(vec![MsgElement::text("***")]);
/// assert_eq!(
///     reply.to_json(),
///     r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"***"}}]}"#
/// );
/// assert_eq!(Verdict::<C2cBeforeSendMsg>::discard().to_json(), r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":2}"#);
/// ```
#[must_use = "a verdict does nothing until it is answered"]
pub struct Verdict<C> {
    code: u32,
    info: String,
    /// Command-specific members, each as its JSON text (in the order set).
    fields: Vec<(&'static str, String)>,
    command: PhantomData<fn() -> C>,
}

impl<C> Verdict<C> {
    const fn code(code: u32) -> Self {
        Self {
            code,
            info: String::new(),
            fields: Vec::new(),
            command: PhantomData,
        }
    }

    /// `ErrorCode` 0: allow, unchanged.
    pub const fn allow() -> Self {
        Self::code(0)
    }

    /// `ErrorCode` 1: refuse (for a message: the sender sees error 20006, 10016 in groups).
    pub const fn forbid() -> Self {
        Self::code(1)
    }

    /// `ErrorCode` 2: drop silently (the sender is told it succeeded).
    pub const fn discard() -> Self {
        Self::code(2)
    }

    /// The reply's `ErrorCode`.
    pub fn error_code(&self) -> u32 {
        self.code
    }

    /// A command-specific member of the reply (set by the typed methods of each command).
    pub(crate) fn with_field(mut self, name: &'static str, value: impl Serialize) -> Self {
        // Serialising the crate's own reply types cannot fail (no maps with non-string keys).
        let value = serde_json::to_string(&value).unwrap_or_else(|_| "null".to_owned());
        match self.fields.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.fields.push((name, value)),
        }
        self
    }
}

impl<C: Callback> Verdict<C> {
    /// Refuse with `code` and `info`, both passed to the client: `code` in `C`'s
    /// [`CLIENT_CODES`](Callback::CLIENT_CODES) (120001–130000 for most commands).
    ///
    /// # Errors
    ///
    /// [`ReplyCodeError`] for a code outside that range (Tencent would not pass it on).
    pub fn forbid_with(code: u32, info: impl Into<String>) -> Result<Self, ReplyCodeError> {
        if !C::CLIENT_CODES.contains(&code) {
            return Err(ReplyCodeError {
                code,
                range: C::CLIENT_CODES,
            });
        }
        Ok(Self {
            info: info.into(),
            ..Self::code(code)
        })
    }
}

impl<C> Clone for Verdict<C> {
    fn clone(&self) -> Self {
        Self {
            code: self.code,
            info: self.info.clone(),
            fields: self.fields.clone(),
            command: PhantomData,
        }
    }
}

impl<C> PartialEq for Verdict<C> {
    fn eq(&self, other: &Self) -> bool {
        (self.code, &self.info, &self.fields) == (other.code, &other.info, &other.fields)
    }
}

impl<C: Callback> fmt::Debug for Verdict<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verdict")
            .field("command", &C::COMMAND)
            .field("error_code", &self.code)
            .field(
                "fields",
                &self.fields.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl<C: Callback> CallbackReply for Verdict<C> {
    const DECIDES: bool = true;

    fn to_json(&self) -> String {
        let info = serde_json::to_string(&self.info).unwrap_or_else(|_| "\"\"".to_owned());
        let mut json = format!(
            r#"{{"ActionStatus":"OK","ErrorInfo":{info},"ErrorCode":{}"#,
            self.code
        );
        for (name, value) in &self.fields {
            json.push_str(",\"");
            json.push_str(name);
            json.push_str("\":");
            json.push_str(value);
        }
        json.push('}');
        json
    }
}

/// A client-visible error code outside the command's range, refused by
/// [`Verdict::forbid_with`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplyCodeError {
    code: u32,
    range: std::ops::RangeInclusive<u32>,
}

impl fmt::Display for ReplyCodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "error code {} is outside {}-{}, the codes Tencent passes to the client for this command",
            self.code,
            self.range.start(),
            self.range.end()
        )
    }
}

impl std::error::Error for ReplyCodeError {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::c2c::C2cBeforeSendMsg;

    type V = Verdict<C2cBeforeSendMsg>;

    const OK_JSON: &str = r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}"#;
    const FORBID_JSON: &str = r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":1}"#;

    #[test]
    fn the_common_answers_are_the_documented_json() {
        assert_eq!(V::allow().to_json(), OK_JSON);
        assert_eq!(V::forbid().to_json(), FORBID_JSON);
        assert_eq!(
            V::discard().to_json(),
            r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":2}"#
        );
        assert_eq!(
            V::forbid_with(120_001, "no \"links\"").unwrap().to_json(),
            r#"{"ActionStatus":"OK","ErrorInfo":"no \"links\"","ErrorCode":120001}"#
        );
        assert_eq!(V::forbid_with(130_000, "").unwrap().error_code(), 130_000);
        for code in [0, 1, 2, 120_000, 130_001, u32::MAX] {
            let error = V::forbid_with(code, "x").unwrap_err();
            assert!(error.to_string().contains(&code.to_string()));
        }
        assert_eq!(Ack.to_json(), OK_JSON);
        // The group before-callbacks pass 10100–10200 instead.
        type G = Verdict<crate::chat::group::GroupBeforeSendMsg>;
        assert_eq!(
            G::forbid_with(10_100, "muted").unwrap().to_json(),
            r#"{"ActionStatus":"OK","ErrorInfo":"muted","ErrorCode":10100}"#
        );
        assert_eq!(G::forbid_with(10_200, "").unwrap().error_code(), 10_200);
        for code in [10_099, 10_201, 120_001] {
            assert!(G::forbid_with(code, "x")
                .unwrap_err()
                .to_string()
                .contains("10100-10200"));
        }
        type L = Verdict<crate::live::LiveBeforeSendGift>;
        assert!(
            L::forbid_with(102_100, "").is_ok()
                && L::forbid_with(102_201, "").is_err()
                && L::forbid_with(120_001, "").is_err()
        );
        const { assert!(<V as CallbackReply>::DECIDES && !<Ack as CallbackReply>::DECIDES) };
    }

    #[test]
    fn a_field_set_twice_is_written_once() {
        let v = V::allow().with_field("X", 1).with_field("X", 2);
        assert_eq!(
            v.to_json(),
            r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0,"X":2}"#
        );
        assert_eq!(
            format!("{v:?}"),
            r#"Verdict { command: "C2C.CallbackBeforeSendMsg", error_code: 0, fields: ["X"] }"#
        );
    }
}

/// The send-message before-callbacks, whose reply may replace the message's `MsgBody` and
/// `CloudCustomData` (sealed: implemented by this crate's send-message events only).
pub trait RewritesMessage: Callback + sealed::Sealed {}

pub(crate) mod sealed {
    /// Implemented by the send-message events only.
    pub trait Sealed {}
}

impl<C: RewritesMessage> Verdict<C> {
    /// Allow, delivering the message with `msg_body` instead of the sender's (a moderation
    /// rewrite: a masked word, a removed link). Tencent's after-send callback then carries the
    /// rewritten body.
    pub fn allow_with_msg_body(msg_body: Vec<crate::message::MsgElement>) -> Self {
        Self::allow().with_field("MsgBody", msg_body)
    }

    /// Allow, delivering the message with `cloud_custom_data` instead of the sender's.
    pub fn allow_with_cloud_custom_data(cloud_custom_data: impl Into<String>) -> Self {
        Self::allow().with_field("CloudCustomData", cloud_custom_data.into())
    }

    /// Allow, replacing both the `MsgBody` and the `CloudCustomData`.
    pub fn allow_with(
        msg_body: Vec<crate::message::MsgElement>,
        cloud_custom_data: impl Into<String>,
    ) -> Self {
        Self::allow_with_msg_body(msg_body).with_field("CloudCustomData", cloud_custom_data.into())
    }
}
