//! The one-pass typed parse: a command's type and the body's own command, read together.
//!
//! A body usually repeats the command (`"CallbackCommand": "C2C.CallbackBeforeSendMsg"`; the
//! Live pages say `WebhookCommand`). [`from_slice`] reads the body once: every member but those
//! two goes to the command type's derived deserializer, and those two are taken aside and must
//! agree with each other, appear once, and name the type's command. Keys are compared as JSON
//! parsers read them, escapes decoded: `"Callback\u0043ommand"` is `CallbackCommand`.
//!
//! The rules, each an [`Error`] of its [`ErrorKind`]:
//!
//! - the body is UTF-8 (checked first, whole: `serde_json` does not check the strings it skips
//!   in bytes) and exactly one JSON object: [`Malformed`](ErrorKind::Malformed);
//! - the members match the type: a required member missing, a member of the wrong type, a member
//!   twice: [`Mismatch`](ErrorKind::Mismatch). Unknown members are skipped (Tencent adds fields);
//! - members the type does not read are skipped by their grammar only, not decoded (a lone
//!   surrogate escape, `"\ud800"`, in a skipped string passes; the handler never reads it);
//! - the body's command, when present, is a string, once per name, the same under both names,
//!   and the type's: else [`CommandConflict`](ErrorKind::CommandConflict).

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;

use serde::de::value::{MapAccessDeserializer, StrDeserializer};
use serde::de::{self, DeserializeOwned, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde::Deserialize;

use crate::{Callback, Error, ErrorKind};

/// The two names Tencent gives the command.
pub(crate) const COMMAND_NAMES: [&str; 2] = ["CallbackCommand", "WebhookCommand"];

/// Parses a callback body as `C`, checking the body's own command (when it has one) is
/// `C::COMMAND`.
///
/// ```
/// use tim_callback_events::chat::c2c::C2cBeforeSendMsg;
///
/// let body = br#"{"CallbackCommand":"C2C.CallbackBeforeSendMsg","From_Account":"jared",
///     "To_Account":"john","MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hi"}}]}"#;
/// let event: C2cBeforeSendMsg = tim_callback_events::from_slice(body)?;
/// assert_eq!(event.from_account, "jared");
/// assert_eq!(event.msg_body[0].as_text(), Some("hi"));
///
/// // A body naming another command is not this type.
/// let other = br#"{"CallbackCommand":"Group.CallbackBeforeSendMsg","From_Account":"a"}"#;
/// let error = tim_callback_events::from_slice::<C2cBeforeSendMsg>(other).unwrap_err();
/// assert_eq!(error.kind(), tim_callback_events::ErrorKind::CommandConflict);
/// # Ok::<(), tim_callback_events::Error>(())
/// ```
///
/// # Errors
///
/// An [`Error`] by the rules of the module: malformed, mismatched, or a conflicting command.
pub fn from_slice<C: Callback>(body: &[u8]) -> Result<C, Error> {
    tagged::<C>(body, Some(C::COMMAND))
        .map(|(event, _)| event)
        .map_err(|e| e.for_command(C::COMMAND))
}

/// Parses `body` as `T` and returns the body's own command (either name), by the module's rules;
/// with `expected`, a body command other than it is a conflict, found as soon as it is read (and
/// none is returned: it can only be `expected`).
pub(crate) fn tagged<T: DeserializeOwned>(
    body: &[u8],
    expected: Option<&str>,
) -> Result<(T, Option<String>), Error> {
    let text = std::str::from_utf8(body).map_err(|_| Error::new(ErrorKind::Malformed))?;
    let conflict = Cell::new(false);
    let mut de = serde_json::Deserializer::from_str(text);
    let seed = Tagged {
        conflict: &conflict,
        expected,
        _type: PhantomData::<fn() -> T>,
    };
    let result = seed.deserialize(&mut de).and_then(|v| de.end().map(|()| v));
    match result {
        Ok(value) => Ok(value),
        Err(_) if conflict.get() => Err(Error::new(ErrorKind::CommandConflict)),
        Err(e) => Err(Error::json(&e)),
    }
}

/// Only the body's command, for a request whose query names none: by the same rules, and it
/// must be a plausible command name.
pub(crate) fn body_command(body: &[u8]) -> Result<String, Error> {
    match tagged::<de::IgnoredAny>(body, None)?.1 {
        Some(command) if crate::query::plausible(&command) => Ok(command),
        Some(_) => Err(Error::new(ErrorKind::BadQueryCommand)),
        None => Err(Error::new(ErrorKind::MissingCommand)),
    }
}

/// A JSON object key, borrowed from the input when it has no escapes.
pub(crate) struct Key<'de>(Cow<'de, str>);

impl Key<'_> {
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// A command member's value: a string, or any other well-formed JSON value (consumed).
/// Borrowed from the input when it has no escapes (no allocation on the common path).
enum CommandValue<'de> {
    Text(Cow<'de, str>),
    Other,
}

impl<'de> Deserialize<'de> for CommandValue<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ValueVisitor;
        impl<'de> Visitor<'de> for ValueVisitor {
            type Value = CommandValue<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<CommandValue<'de>, E> {
                Ok(CommandValue::Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<CommandValue<'de>, E> {
                Ok(CommandValue::Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<CommandValue<'de>, E> {
                Ok(CommandValue::Text(Cow::Owned(v)))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<CommandValue<'de>, E> {
                Ok(CommandValue::Other)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<CommandValue<'de>, E> {
                Ok(CommandValue::Other)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<CommandValue<'de>, E> {
                Ok(CommandValue::Other)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<CommandValue<'de>, E> {
                Ok(CommandValue::Other)
            }
            fn visit_unit<E: de::Error>(self) -> Result<CommandValue<'de>, E> {
                Ok(CommandValue::Other)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<CommandValue<'de>, A::Error> {
                while seq.next_element::<de::IgnoredAny>()?.is_some() {}
                Ok(CommandValue::Other)
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<CommandValue<'de>, A::Error> {
                while map
                    .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(CommandValue::Other)
            }
        }
        deserializer.deserialize_any(ValueVisitor)
    }
}

/// The seed: the object, with the command members taken aside.
struct Tagged<'c, T> {
    conflict: &'c Cell<bool>,
    expected: Option<&'c str>,
    _type: PhantomData<fn() -> T>,
}

impl<'de, T: DeserializeOwned> DeserializeSeed<'de> for Tagged<'_, T> {
    type Value = (T, Option<String>);

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, T: DeserializeOwned> Visitor<'de> for Tagged<'_, T> {
    type Value = (T, Option<String>);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a callback body (a JSON object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let mut intercept = Intercept {
            inner: map,
            commands: [None, None],
            conflict: self.conflict,
            expected: self.expected,
        };
        let value = T::deserialize(MapAccessDeserializer::new(&mut intercept))?;
        // The derived visitor stops at the end of the object only if it reads every member; a
        // type that stops early (none here) would leave members unread: drain them.
        let mut rest = &mut intercept;
        while rest.next_key::<de::IgnoredAny>()?.is_some() {
            rest.next_value::<de::IgnoredAny>()?;
        }
        let [callback, webhook] = intercept.commands;
        let command = match (callback, webhook) {
            (Some(a), Some(b)) if a != b => {
                self.conflict.set(true);
                return Err(de::Error::custom(
                    "CallbackCommand and WebhookCommand differ",
                ));
            }
            (Some(a), _) => Some(a),
            (None, b) => b,
        };
        // Owned only for a caller that wants it (from_slice has checked it already).
        let command = if self.expected.is_some() {
            None
        } else {
            command.map(Cow::into_owned)
        };
        Ok((value, command))
    }
}

/// Forwards every member to the type's visitor except the command's two names.
struct Intercept<'c, 'de, A> {
    inner: A,
    commands: [Option<Cow<'de, str>>; 2],
    conflict: &'c Cell<bool>,
    expected: Option<&'c str>,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for &mut Intercept<'_, 'de, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        loop {
            let Some(key) = self.inner.next_key::<Key<'de>>()? else {
                return Ok(None);
            };
            let Some(slot) = COMMAND_NAMES.iter().position(|name| *name == key.as_str()) else {
                return seed
                    .deserialize(StrDeserializer::new(key.as_str()))
                    .map(Some);
            };
            // A malformed value is a malformed body (its error propagates as such); a well-formed
            // value that is not a string is no command: a conflict.
            let CommandValue::Text(value) = self.inner.next_value::<CommandValue<'de>>()? else {
                self.conflict.set(true);
                return Err(de::Error::custom("the command is not a string"));
            };
            if self.expected.is_some_and(|expected| expected != value) {
                self.conflict.set(true);
                return Err(de::Error::custom("the body names another command"));
            }
            if self.commands[slot].replace(value).is_some() {
                self.conflict.set(true);
                return Err(de::Error::custom("the command is given twice"));
            }
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.inner.next_value_seed(seed)
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::c2c::C2cAfterSendMsg;

    fn kind(body: &str) -> Option<ErrorKind> {
        from_slice::<C2cAfterSendMsg>(body.as_bytes())
            .err()
            .map(|e| e.kind())
    }

    #[test]
    fn the_body_command_is_taken_aside_under_either_name() {
        for body in [
            r#"{"From_Account":"a"}"#,
            r#"{"CallbackCommand":"C2C.CallbackAfterSendMsg","From_Account":"a"}"#,
            r#"{"From_Account":"a","WebhookCommand":"C2C.CallbackAfterSendMsg"}"#,
            r#"{"CallbackCommand":"C2C.CallbackAfterSendMsg","WebhookCommand":"C2C.CallbackAfterSendMsg","From_Account":"a"}"#,
            // Escapes are decoded, as every JSON parser reads keys.
            r#"{"Callback\u0043ommand":"C2C.CallbackAfterSendMsg","From_Account":"a"}"#,
        ] {
            let event = from_slice::<C2cAfterSendMsg>(body.as_bytes()).unwrap();
            assert_eq!(event.from_account, "a", "{body}");
        }
        let (_, command) = tagged::<de::IgnoredAny>(
            br#"{"x":[1,{"CallbackCommand":"inner"}],"WebhookCommand":"A.B"}"#,
            None,
        )
        .unwrap();
        assert_eq!(command.as_deref(), Some("A.B"));
        assert_eq!(
            body_command(br#"{"x":1}"#).unwrap_err().kind(),
            ErrorKind::MissingCommand
        );
        assert_eq!(
            body_command(br#"{"CallbackCommand":"a b"}"#)
                .unwrap_err()
                .kind(),
            ErrorKind::BadQueryCommand
        );
        assert_eq!(body_command(br#"{"WebhookCommand":"A.B"}"#).unwrap(), "A.B");
        assert_eq!(
            body_command(br#"{"WebhookCommand":"A.B","CallbackCommand":"A.B"}"#).unwrap(),
            "A.B"
        );
        // Without an expected command, the two names must still agree.
        assert_eq!(
            body_command(br#"{"CallbackCommand":"A.B","WebhookCommand":"C.D"}"#)
                .unwrap_err()
                .kind(),
            ErrorKind::CommandConflict
        );
    }

    #[test]
    fn a_command_read_twice_differently_is_a_conflict() {
        for body in [
            r#"{"CallbackCommand":"C2C.CallbackBeforeSendMsg"}"#,
            r#"{"CallbackCommand":"C2C.CallbackAfterSendMsg","WebhookCommand":"Group.CallbackAfterSendMsg"}"#,
            r#"{"CallbackCommand":"C2C.CallbackAfterSendMsg","CallbackCommand":"C2C.CallbackAfterSendMsg"}"#,
            r#"{"CallbackCommand":"C2C.CallbackAfterSendMsg","Callback\u0043ommand":"Group.CallbackAfterSendMsg"}"#,
            r#"{"CallbackCommand":5}"#,
            r#"{"CallbackCommand":null}"#,
            r#"{"CallbackCommand":{"a":[1]}}"#,
        ] {
            assert_eq!(kind(body), Some(ErrorKind::CommandConflict), "{body}");
        }
        // A command member that is not well-formed JSON makes a malformed body, not a conflict
        // (a before-callback then gets the policy's answer, not a 400).
        for body in [
            r#"{"CallbackCommand":"C2C.CallbackAfterSendMsg"#,
            r#"{"CallbackCommand":"C2C.CallbackAfterSendMsg\ud800"}"#,
            r#"{"CallbackCommand":"#,
            r#"{"CallbackCommand":tru}"#,
        ] {
            assert_eq!(kind(body), Some(ErrorKind::Malformed), "{body}");
        }
    }

    #[test]
    fn malformed_and_mismatched_bodies_are_told_apart() {
        for body in [
            "",
            "{",
            r#"{"From_Account":"a"} {}"#,
            r#"{"From_Account":"a",}"#,
            "nul",
        ] {
            assert_eq!(kind(body), Some(ErrorKind::Malformed), "{body}");
        }
        assert_eq!(
            from_slice::<C2cAfterSendMsg>(b"{\"From_Account\":\"\xff\"}")
                .unwrap_err()
                .kind(),
            ErrorKind::Malformed
        );
        // Invalid UTF-8 inside a skipped member is caught too.
        assert_eq!(
            from_slice::<C2cAfterSendMsg>(b"{\"Unknown\":\"\xff\"}")
                .unwrap_err()
                .kind(),
            ErrorKind::Malformed
        );
        for body in [
            r#"{"From_Account":5}"#,
            r#"{"From_Account":"a","From_Account":"b"}"#,
            "[]",
            "5",
            r#"{"MsgBody":{}}"#,
        ] {
            assert_eq!(kind(body), Some(ErrorKind::Mismatch), "{body}");
        }
        let error =
            from_slice::<C2cAfterSendMsg>(br#"{"From_Account":"secret text"  , "To_Account": 7}"#)
                .unwrap_err();
        assert_eq!(
            (error.command(), error.position()),
            (Some("C2C.CallbackAfterSendMsg"), Some((1, 48)))
        );
        let message = error.to_string();
        assert!(
            !message.contains("secret") && message.contains("C2C.CallbackAfterSendMsg"),
            "{message}"
        );
    }
}
