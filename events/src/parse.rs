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
    let (event, command) = tagged::<C>(body).map_err(|e| e.for_command(C::COMMAND))?;
    match command {
        Some(command) if command != C::COMMAND => {
            Err(Error::new(ErrorKind::CommandConflict).for_command(C::COMMAND))
        }
        _ => Ok(event),
    }
}

/// Parses `body` as `T` and returns the body's own command (either name), by the module's rules.
pub(crate) fn tagged<T: DeserializeOwned>(body: &[u8]) -> Result<(T, Option<String>), Error> {
    let text = std::str::from_utf8(body).map_err(|_| Error::new(ErrorKind::Malformed))?;
    let conflict = Cell::new(false);
    let mut de = serde_json::Deserializer::from_str(text);
    let seed = Tagged {
        conflict: &conflict,
        _type: PhantomData::<fn() -> T>,
    };
    let result = seed.deserialize(&mut de).and_then(|v| de.end().map(|()| v));
    match result {
        Ok(value) => Ok(value),
        Err(_) if conflict.get() => Err(Error::new(ErrorKind::CommandConflict)),
        Err(e) => Err(Error::json(&e)),
    }
}

/// Only the body's command (for a router whose query has none), by the same rules.
pub(crate) fn command_only(body: &[u8]) -> Result<Option<String>, Error> {
    tagged::<de::IgnoredAny>(body).map(|(_, command)| command)
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

/// The seed: the object, with the command members taken aside.
struct Tagged<'c, T> {
    conflict: &'c Cell<bool>,
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
        Ok((value, command))
    }
}

/// Forwards every member to the type's visitor except the command's two names.
struct Intercept<'c, A> {
    inner: A,
    commands: [Option<String>; 2],
    conflict: &'c Cell<bool>,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for &mut Intercept<'_, A> {
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
            let value = match self.inner.next_value::<String>() {
                Ok(value) => value,
                Err(e) => {
                    self.conflict.set(true);
                    return Err(e);
                }
            };
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
