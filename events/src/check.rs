//! For a program that passes callbacks on instead of handling them (a gateway in front of a
//! backend in another language): the one reading of a callback's command, and a check of the
//! reply someone else wrote.

use std::fmt;

use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::Value;

use crate::message::MsgElement;
use crate::parse::{body_command, tagged};
use crate::{query, Error, Event};

/// A callback's command, read once as the [`Router`](crate::Router) reads it: the query's
/// `CallbackCommand` (read strictly, [`query::command`]), which the body's own command must
/// match when it names one; the body's when the query names none.
///
/// Neither reading is covered by the `Sign`; what this gives is one answer, so that whoever
/// acts on the command and whoever reads the body cannot disagree.
///
/// ```
/// use tim_callback_events::{command_of, ErrorKind};
///
/// let body = br#"{"CallbackCommand":"C2C.CallbackAfterSendMsg","From_Account":"a"}"#;
/// assert_eq!(command_of(Some("CallbackCommand=C2C.CallbackAfterSendMsg"), body)?, "C2C.CallbackAfterSendMsg");
/// assert_eq!(command_of(None, body)?, "C2C.CallbackAfterSendMsg");
/// let other = command_of(Some("CallbackCommand=C2C.CallbackBeforeSendMsg"), body).unwrap_err();
/// assert_eq!(other.kind(), ErrorKind::CommandConflict);
/// # Ok::<(), tim_callback_events::Error>(())
/// ```
///
/// # Errors
///
/// An [`Error`]: [`CommandConflict`](crate::ErrorKind::CommandConflict) when the readings
/// differ, [`BadQueryCommand`](crate::ErrorKind::BadQueryCommand) for a disguised or implausible
/// query command, [`MissingCommand`](crate::ErrorKind::MissingCommand) when neither names one,
/// [`Malformed`](crate::ErrorKind::Malformed) for a body that is not JSON.
pub fn command_of(query: Option<&str>, body: &[u8]) -> Result<String, Error> {
    match query::command(query)? {
        Some(command) => {
            tagged::<IgnoredAny>(body, Some(command))?;
            Ok(command.to_owned())
        }
        None => body_command(body),
    }
}

/// Whether `reply` is an answer Tencent reads as intended for `command`: a JSON object whose
/// `ErrorCode` is a whole number; for a command that decides (a before-callback), `0` (allow),
/// `1` (forbid), `2` (discard) or one of the command's client-visible codes; a `MsgBody`, where
/// one is given, a list of message elements, and a `CloudCustomData` a string.
///
/// Commands this crate has no type for are held to the first rule only.
///
/// ```
/// use tim_callback_events::check_reply;
///
/// assert!(check_reply("C2C.CallbackBeforeSendMsg", br#"{"ActionStatus":"OK","ErrorCode":0}"#).is_ok());
/// assert!(check_reply("C2C.CallbackBeforeSendMsg", br#"{"ErrorCode":120001,"ErrorInfo":"no"}"#).is_ok());
/// // Not a code Tencent passes to the client for this command: it would be misread.
/// assert!(check_reply("C2C.CallbackBeforeSendMsg", br#"{"ErrorCode":7}"#).is_err());
/// assert!(check_reply("C2C.CallbackAfterSendMsg", br#"{"ok":true}"#).is_err());
/// ```
///
/// # Errors
///
/// An [`InvalidReply`] saying which rule the reply breaks (never quoting it).
pub fn check_reply(command: &str, reply: &[u8]) -> Result<(), InvalidReply> {
    let value: Value = serde_json::from_slice(reply).map_err(|_| InvalidReply("not JSON"))?;
    let object = value.as_object().ok_or(InvalidReply("not a JSON object"))?;
    let code = match object.get("ErrorCode") {
        None => return Err(InvalidReply("no ErrorCode")),
        Some(code) => code
            .as_u64()
            .and_then(|c| u32::try_from(c).ok())
            .ok_or(InvalidReply("ErrorCode is not a whole number"))?,
    };
    if Event::decides(command) {
        let client = Event::client_codes(command).is_some_and(|codes| codes.contains(&code));
        if code > 2 && !client {
            return Err(InvalidReply(
                "ErrorCode is neither 0, 1, 2 nor one of the command's client-visible codes",
            ));
        }
    }
    if let Some(body) = object.get("MsgBody") {
        Vec::<MsgElement>::deserialize(body)
            .map_err(|_| InvalidReply("MsgBody is not a list of message elements"))?;
    }
    if object
        .get("CloudCustomData")
        .is_some_and(|v| !v.is_string())
    {
        return Err(InvalidReply("CloudCustomData is not a string"));
    }
    Ok(())
}

/// A reply [`check_reply`] refuses: which rule it breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidReply(&'static str);

impl InvalidReply {
    /// The rule broken, as a short phrase (`"no ErrorCode"`): a label for logs and counters.
    pub fn reason(&self) -> &'static str {
        self.0
    }
}

impl fmt::Display for InvalidReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the reply is not one Tencent reads as intended: {}",
            self.0
        )
    }
}

impl std::error::Error for InvalidReply {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn a_reply_is_held_to_its_command() {
        let ok = |command: &str, reply: &str| check_reply(command, reply.as_bytes()).is_ok();
        // Before-callbacks: the three verdicts and the command's own client codes.
        for reply in [
            r#"{"ErrorCode":0}"#,
            r#"{"ErrorCode":1}"#,
            r#"{"ErrorCode":2}"#,
            r#"{"ErrorCode":130000,"ErrorInfo":"x"}"#,
            r#"{"ErrorCode":0,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"*"}}]}"#,
            r#"{"ErrorCode":0,"CloudCustomData":"{}"}"#,
        ] {
            assert!(ok("C2C.CallbackBeforeSendMsg", reply), "{reply}");
        }
        assert!(ok("Group.CallbackBeforeSendMsg", r#"{"ErrorCode":10100}"#));
        assert!(!ok(
            "Group.CallbackBeforeSendMsg",
            r#"{"ErrorCode":120001}"#
        ));
        assert!(!ok("C2C.CallbackBeforeSendMsg", r#"{"ErrorCode":3}"#));
        assert!(!ok("C2C.CallbackBeforeSendMsg", r#"{"ErrorCode":120000}"#));
        assert!(!ok("C2C.CallbackBeforeSendMsg", r#"{"ErrorCode":"0"}"#));
        assert!(!ok("C2C.CallbackBeforeSendMsg", r#"{"ErrorCode":-1}"#));
        assert!(!ok(
            "C2C.CallbackBeforeSendMsg",
            r#"{"ErrorCode":0,"MsgBody":"text"}"#
        ));
        assert!(!ok(
            "C2C.CallbackBeforeSendMsg",
            r#"{"ErrorCode":0,"CloudCustomData":{}}"#
        ));
        // After-callbacks and unknown commands: any whole ErrorCode.
        assert!(ok("C2C.CallbackAfterSendMsg", r#"{"ErrorCode":7}"#));
        assert!(ok("Chat.CallbackSomethingNew", r#"{"ErrorCode":7}"#));
        for garbage in ["", "null", "[]", "{", r#"{"ActionStatus":"OK"}"#, "<html>"] {
            let error = check_reply("C2C.CallbackAfterSendMsg", garbage.as_bytes()).unwrap_err();
            assert!(
                !error.to_string().contains(garbage) || garbage.is_empty(),
                "{error}"
            );
        }
    }

    #[test]
    fn the_command_is_read_once() {
        let body = br#"{"CallbackCommand":"A.B"}"#;
        assert_eq!(
            command_of(Some("CallbackCommand=A.B"), body).unwrap(),
            "A.B"
        );
        assert_eq!(command_of(None, body).unwrap(), "A.B");
        assert_eq!(
            command_of(Some("CallbackCommand=A.B"), b"{}").unwrap(),
            "A.B"
        );
        let kind = |q: Option<&str>, b: &[u8]| command_of(q, b).unwrap_err().kind();
        assert_eq!(
            kind(Some("CallbackCommand=A.C"), body),
            ErrorKind::CommandConflict
        );
        assert_eq!(
            kind(Some("Callback%43ommand=A.B"), body),
            ErrorKind::BadQueryCommand
        );
        assert_eq!(kind(None, b"{}"), ErrorKind::MissingCommand);
        assert_eq!(
            kind(Some("CallbackCommand=A.B"), b"not json"),
            ErrorKind::Malformed
        );
    }
}
