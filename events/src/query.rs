//! The command as the query gives it: one reading, shared by the [`Router`](crate::Router) and
//! the extractor.
//!
//! Tencent writes `CallbackCommand=<command>` (the Live pages say `WebhookCommand`; both are
//! read). Neither is covered by the `Sign`: a replayed URL can carry any command, so the reading
//! is strict, in the spirit of the verifier's own query rules:
//!
//! - the parameter names are literal: a name that only reads as one of them once percent-decoded
//!   (`Callback%43ommand`), `+`-decoded or case-folded (`callbackcommand`, a Kelvin sign for the
//!   `k`) is refused, since another parser would take it for the command;
//! - each name at most once, and when both names are given they say the same;
//! - the value is 1 to 64 bytes of `[A-Za-z0-9._]`, taken literally (no `%` decoding).
//!
//! Anything else is [`BadQueryCommand`](ErrorKind::BadQueryCommand) (a name given twice, or the
//! two names differing: [`CommandConflict`](ErrorKind::CommandConflict)).

use crate::parse::COMMAND_NAMES;
use crate::{Error, ErrorKind};

/// The longest command accepted.
pub(crate) const MAX_COMMAND: usize = 64;

/// The command of a request's query (`uri.query()`) by the rules above; `None` when it names
/// none. What the [`Router`](crate::Router) and the extractors dispatch on: use it with
/// [`Event::parse`](crate::Event::parse) when you dispatch yourself.
///
/// ```
/// use tim_callback_events::query::command;
///
/// assert_eq!(command(Some("SdkAppid=1&CallbackCommand=State.StateChange&Sign=x"))?, Some("State.StateChange"));
/// assert!(command(Some("CallbackCommand=State.StateChange&Callback%43ommand=Group.CallbackBeforeSendMsg")).is_err());
/// # Ok::<(), tim_callback_events::Error>(())
/// ```
///
/// # Errors
///
/// [`BadQueryCommand`](ErrorKind::BadQueryCommand) or
/// [`CommandConflict`](ErrorKind::CommandConflict), by the rules above.
pub fn command(query: Option<&str>) -> Result<Option<&str>, Error> {
    let Some(query) = query else { return Ok(None) };
    let mut found: [Option<&str>; 2] = [None, None];
    for segment in query.split('&') {
        let (key, value) = segment.split_once('=').unwrap_or((segment, ""));
        match COMMAND_NAMES.iter().position(|name| *name == key) {
            Some(slot) => {
                if !plausible(value) {
                    return Err(Error::new(ErrorKind::BadQueryCommand));
                }
                if found[slot].replace(value).is_some() {
                    return Err(Error::new(ErrorKind::CommandConflict));
                }
            }
            None if disguised(key) => return Err(Error::new(ErrorKind::BadQueryCommand)),
            None => {}
        }
    }
    match found {
        [Some(a), Some(b)] if a != b => Err(Error::new(ErrorKind::CommandConflict)),
        [Some(a), _] => Ok(Some(a)),
        [None, b] => Ok(b),
    }
}

/// A command name as Tencent writes them.
pub(crate) fn plausible(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= MAX_COMMAND
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_')
}

/// Whether `key`, not literally a command name, reads as one to a decoding or case-folding parser.
fn disguised(key: &str) -> bool {
    let bytes = key.as_bytes();
    // The common case (`SdkAppid`, `Sign`, …), without allocating.
    if bytes
        .iter()
        .all(|&b| b.is_ascii() && b != b'%' && b != b'+')
    {
        return COMMAND_NAMES
            .iter()
            .any(|name| name.eq_ignore_ascii_case(key));
    }
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(hi), Some(lo)) => {
                    decoded.push((hi * 16 + lo) as u8);
                    i += 3;
                    continue;
                }
                _ => decoded.push(b'%'),
            },
            b'+' => decoded.push(b' '),
            b => decoded.push(b),
        }
        i += 1;
    }
    // Case-fold: ASCII, and the Kelvin sign (U+212A), which folds to `k`.
    let text = String::from_utf8_lossy(&decoded).replace('\u{212A}', "k");
    COMMAND_NAMES
        .iter()
        .any(|name| name.eq_ignore_ascii_case(&text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(query: &str) -> Option<ErrorKind> {
        command(Some(query)).err().map(|e| e.kind())
    }

    #[test]
    fn the_literal_parameter_is_read_under_either_name() {
        let q = "SdkAppid=1&CallbackCommand=C2C.CallbackBeforeSendMsg&contenttype=json&Sign=x&RequestTime=1";
        assert_eq!(command(Some(q)).unwrap(), Some("C2C.CallbackBeforeSendMsg"));
        assert_eq!(
            command(Some("WebhookCommand=Live.CallbackAfterCreateRoom")).unwrap(),
            Some("Live.CallbackAfterCreateRoom")
        );
        assert_eq!(
            command(Some("CallbackCommand=A.B&WebhookCommand=A.B")).unwrap(),
            Some("A.B")
        );
        assert_eq!(command(Some("SdkAppid=1&Sign=x")).unwrap(), None);
        assert_eq!(command(None).unwrap(), None);
        // Other parameters that merely contain the name are other parameters.
        assert_eq!(
            command(Some("XCallbackCommand=a&CallbackCommandX=b")).unwrap(),
            None
        );
    }

    #[test]
    fn duplicates_and_disagreements_are_conflicts() {
        assert_eq!(
            kind("CallbackCommand=A.B&CallbackCommand=A.B"),
            Some(ErrorKind::CommandConflict)
        );
        assert_eq!(
            kind("CallbackCommand=A.B&CallbackCommand=C.D"),
            Some(ErrorKind::CommandConflict)
        );
        assert_eq!(
            kind("CallbackCommand=A.B&WebhookCommand=C.D"),
            Some(ErrorKind::CommandConflict)
        );
        assert_eq!(
            kind("WebhookCommand=A.B&WebhookCommand=A.B"),
            Some(ErrorKind::CommandConflict)
        );
    }

    #[test]
    fn disguised_names_and_odd_values_are_refused() {
        for q in [
            "Callback%43ommand=A.B",
            "%43allbackCommand=A.B",
            "callbackcommand=A.B",
            "CALLBACKCOMMAND=A.B",
            "Webhoo\u{212A}Command=A.B",
            "webhook%63ommand=A.B",
            "CallbackCommand",
            "CallbackCommand=",
            "CallbackCommand=A%2EB",
            "CallbackCommand=A+B",
            "CallbackCommand=A.B%00",
            "CallbackCommand=\u{e9}",
            // The Kelvin sign percent-encoded: 9 bytes for one letter.
            "%43%61%6C%6C%62%61%63%E2%84%AA%43%6F%6D%6D%61%6E%64=A.B",
            "%57%65%62%68%6F%6F%E2%84%AA%43%6F%6D%6D%61%6E%64=A.B",
        ] {
            assert_eq!(kind(q), Some(ErrorKind::BadQueryCommand), "{q}");
        }
        let long = format!("CallbackCommand={}", "a".repeat(MAX_COMMAND + 1));
        assert_eq!(kind(&long), Some(ErrorKind::BadQueryCommand));
        let max = format!("CallbackCommand={}", "a".repeat(MAX_COMMAND));
        assert!(command(Some(&max)).is_ok());
        // A `%` that is no escape stays literal, so this is no command name; nor is one at the
        // end of a key, however short what follows it.
        assert_eq!(command(Some("Callback%4Command=A.B")).unwrap(), None);
        for q in [
            "CallbackComman%64%",
            "CallbackComman%6",
            "%",
            "%4",
            "x%4=1",
            "%%%",
            "a%4&b%",
        ] {
            assert_eq!(command(Some(q)).unwrap(), None, "{q}");
        }
        assert_eq!(
            kind("CallbackComman%64=A.B"),
            Some(ErrorKind::BadQueryCommand)
        );
        assert_eq!(command(Some("Callback+Command=A.B")).unwrap(), None);
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Query segments around the command's names: literal, encoded, case-changed, duplicated.
    fn segment() -> impl Strategy<Value = String> {
        let names = prop_oneof![
            Just("CallbackCommand"),
            Just("WebhookCommand"),
            Just("Callback%43ommand"),
            Just("callbackcommand"),
            Just("Webhook%63ommand"),
            Just("Callback+Command"),
            Just("SdkAppid"),
            Just("Sign"),
            Just("x"),
        ];
        let values = prop_oneof![
            Just("C2C.CallbackBeforeSendMsg".to_owned()),
            Just("Group.CallbackAfterSendMsg".to_owned()),
            Just("A%2EB".to_owned()),
            Just(String::new()),
            "[A-Za-z0-9._%+]{0,8}",
        ];
        (names, values, any::<bool>())
            .prop_map(|(n, v, eq)| if eq { format!("{n}={v}") } else { n.to_owned() })
    }

    proptest! {
        /// Any key: never a panic, and a disguise is found exactly when the decoding, folding
        /// reading of the key is a command name but the key itself is not.
        #[test]
        fn any_key_is_read_without_panicking(key in "[%+A-Za-z0-9\u{212A}]{0,12}") {
            let decoded: String = form_urlencoded::parse(format!("{key}=x").as_bytes()).next().map(|(k, _)| k.into_owned()).unwrap_or_default();
            let folded = decoded.replace('\u{212A}', "k");
            let reads_as_command = COMMAND_NAMES.iter().any(|n| n.eq_ignore_ascii_case(&folded));
            prop_assert_eq!(disguised(&key), reads_as_command && !COMMAND_NAMES.contains(&key.as_str()));
        }

        /// When the strict reading names a command, a decoding parser (form_urlencoded, as
        /// frameworks read queries) that folds case reads no other value for either name.
        #[test]
        fn the_strict_reading_agrees_with_a_decoding_parser(segments in proptest::collection::vec(segment(), 0..6)) {
            let query = segments.join("&");
            if let Ok(Some(command)) = command(Some(&query)) {
                for (key, value) in form_urlencoded::parse(query.as_bytes()) {
                    let key = key.replace('\u{212A}', "k");
                    if COMMAND_NAMES.iter().any(|n| n.eq_ignore_ascii_case(&key)) {
                        prop_assert_eq!(value.as_ref(), command, "{}", query);
                    }
                }
            }
        }
    }
}
