//! The fields of a TRTC event a handler routes on, read from the verified body by `serde_json`
//! (borrowed: nothing is allocated for a plain event; see below).
//!
//! One borrowed deserialize of `{EventGroupId, EventType, CallbackTs, EventInfo}`: `EventInfo` is
//! kept raw (its byte range in the body, so a handler parses only it, and no body is parsed
//! twice), every other member is skipped with `serde_json`'s grammar checks. The rules, each a
//! [`MalformedEvent`](crate::Rejection::MalformedEvent) when broken:
//!
//! - the body is UTF-8 and one JSON value (`serde_json`'s grammar), an object, with nothing but
//!   whitespace after it;
//! - `EventGroupId`, `EventType` and `CallbackTs` each appear exactly once in that object, and
//!   `EventInfo` at most once (a parser keeping the first or the last of a duplicate would read
//!   another event: `serde_json` refuses a duplicate field of a derived struct, and a test holds it
//!   to that). Keys are compared after their escapes are decoded, as every JSON parser reads them,
//!   so `"Event\u0054ype"` is `EventType` (and a second one is a duplicate);
//! - the three values are JSON integers that fit a `u64`: no sign, fraction or exponent, no
//!   string, no `null` (`-0` is a float to `serde_json`, refused too).
//!
//! What is not checked: values other than the three fields and `EventInfo` are skipped by their
//! grammar only, not decoded, so a string with a lone surrogate escape (`"\ud800"`) or a number
//! out of `f64`'s range passes here (the bytes are signed by Tencent; the handler's parser decides
//! when it reads them). `EventInfo` is kept as text, not decoded, alike. `serde_json` skips values
//! without recursion, so their nesting has no limit but the body's size.
//!
//! Allocations: none for an event whose top-level keys have no escapes and whose skipped values
//! (`EventInfo` included) hold no object or array inside them (Tencent's room and media events);
//! otherwise `serde_json`'s one scratch buffer (an escaped key, or its stack of open brackets).

use serde::Deserialize;
use serde_json::value::RawValue;

/// The top-level fields every TRTC event carries, and where its `EventInfo` is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Fields {
    pub(crate) event_group_id: u64,
    pub(crate) event_type: u64,
    pub(crate) callback_ts: u64,
    /// The byte range `(start, end)` of `EventInfo`'s value in the body; `None` when the event has
    /// no `EventInfo` or it is `null`.
    pub(crate) event_info: Option<(usize, usize)>,
}

/// What is read; `serde_json` skips the rest (`IgnoredAny`, as a derived struct does).
#[derive(Deserialize)]
struct Event<'a> {
    #[serde(rename = "EventGroupId")]
    event_group_id: u64,
    #[serde(rename = "EventType")]
    event_type: u64,
    #[serde(rename = "CallbackTs")]
    callback_ts: u64,
    #[serde(rename = "EventInfo", borrow, default)]
    event_info: Option<&'a RawValue>,
}

/// Reads the fields from a JSON event body, or `None` when the body breaks one of the rules above.
pub(crate) fn read(body: &[u8]) -> Option<Fields> {
    // UTF-8 first: `serde_json` does not check the bytes of strings it skips in a `&[u8]`.
    let text = std::str::from_utf8(body).ok()?;
    let event: Event<'_> = serde_json::from_str(text).ok()?;
    let event_info = match event.event_info {
        Some(raw) => Some(span(text, raw.get())?),
        None => None,
    };
    Some(Fields {
        event_group_id: event.event_group_id,
        event_type: event.event_type,
        callback_ts: event.callback_ts,
        event_info,
    })
}

/// Where `part`, a slice borrowed from `whole`, lies in it; `None` if it does not (never, for a
/// borrowed `RawValue`: then the event is refused rather than given a wrong range).
fn span(whole: &str, part: &str) -> Option<(usize, usize)> {
    let start = part.as_ptr().addr().checked_sub(whole.as_ptr().addr())?;
    let end = start.checked_add(part.len())?;
    (whole.get(start..end)? == part).then_some((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde::de::{IgnoredAny, MapAccess, Visitor};
    use std::collections::HashMap;
    use std::fmt;

    /// The body of Tencent's "Verify Signature Example", byte for byte.
    const DOCS_BODY: &str = "{\n\t\"EventGroupId\":\t1,\n\t\"EventType\":\t103,\n\t\"CallbackTs\":\t1615554923704,\n\t\"EventInfo\":\t{\n\t\t\"RoomId\":\t12345,\n\t\t\"EventTs\":\t1608441737,\n\t\t\"UserId\":\t\"test\",\n\t\t\"UniqueId\":\t1615554922656,\n\t\t\"Role\":\t20,\n\t\t\"Reason\":\t1\n\t}\n}";

    fn info(body: &str) -> Option<&str> {
        read(body.as_bytes())?
            .event_info
            .map(|(start, end)| &body[start..end])
    }

    #[test]
    fn reads_the_docs_example_and_keeps_event_info_raw() {
        let fields = read(DOCS_BODY.as_bytes()).unwrap();
        assert_eq!(
            (fields.event_group_id, fields.event_type, fields.callback_ts),
            (1, 103, 1_615_554_923_704)
        );
        let raw = info(DOCS_BODY).unwrap();
        assert!(
            raw.starts_with("{\n\t\t\"RoomId\"") && raw.ends_with("\n\t}"),
            "{raw}"
        );
        let parsed: serde_json::Value = serde_json::from_str(raw).unwrap();
        assert_eq!(parsed["UserId"], "test");
    }

    #[test]
    fn event_info_is_optional_and_null_is_none() {
        for body in [
            r#"{"EventGroupId":1,"EventType":2,"CallbackTs":3}"#,
            r#"{"EventGroupId":1,"EventType":2,"CallbackTs":3,"EventInfo":null}"#,
        ] {
            assert_eq!(read(body.as_bytes()).unwrap().event_info, None, "{body}");
        }
        assert_eq!(
            info(r#"{"EventInfo" : [1, "]"] ,"EventGroupId":1,"EventType":2,"CallbackTs":3}"#),
            Some(r#"[1, "]"]"#)
        );
    }

    /// `serde_json` refuses a duplicate field of a derived struct: each of the four, with the same
    /// value or another, in every spelling that decodes to its name.
    #[test]
    fn duplicate_fields_are_refused() {
        let ok = r#"{"EventGroupId":1,"EventType":2,"CallbackTs":3,"EventInfo":{}"#;
        assert!(read(format!("{ok}}}").as_bytes()).is_some());
        for (key, value) in [
            ("EventGroupId", "1"),
            ("EventGroupId", "9"),
            ("EventType", "2"),
            ("EventType", "9"),
            ("CallbackTs", "3"),
            ("CallbackTs", "9"),
            ("EventInfo", "{}"),
            ("EventInfo", "{\"a\":1}"),
            ("EventInfo", "null"),
            ("Event\\u0054ype", "9"),
            ("\\u0045ventInfo", "{}"),
        ] {
            let body = format!(r#"{ok},"{key}":{value}}}"#);
            assert_eq!(read(body.as_bytes()), None, "{body}");
        }
        // The escaped spelling first, the plain one second.
        let body = r#"{"Event\u0054ype":2,"EventGroupId":1,"EventType":2,"CallbackTs":3}"#;
        assert_eq!(read(body.as_bytes()), None, "{body}");
        // Alone, the escaped spelling is the field.
        let body = r#"{"Event\u0054ype":2,"EventGroupId":1,"CallbackTs":3}"#;
        assert_eq!(read(body.as_bytes()).map(|f| f.event_type), Some(2));
    }

    #[test]
    fn wrong_types_and_malformed_bodies_are_refused() {
        for bad in [
            r#"{"EventGroupId":1,"EventType":2.0,"CallbackTs":3}"#,
            r#"{"EventGroupId":1,"EventType":2e0,"CallbackTs":3}"#,
            r#"{"EventGroupId":01,"EventType":2,"CallbackTs":3}"#,
            r#"{"EventGroupId":-1,"EventType":2,"CallbackTs":3}"#,
            r#"{"EventGroupId":-0,"EventType":2,"CallbackTs":3}"#,
            r#"{"EventGroupId":"1","EventType":2,"CallbackTs":3}"#,
            r#"{"EventGroupId":null,"EventType":2,"CallbackTs":3}"#,
            r#"{"EventGroupId":1,"EventType":2,"CallbackTs":18446744073709551616}"#,
            r#"{"EventGroupId":1,"EventType":2}"#,
            r#"{"EventGroupId":1,"EventType":2,"CallbackTs":3} x"#,
            r#"{"EventGroupId":1,"EventType":2,"CallbackTs":3,}"#,
            r#"[{"EventGroupId":1,"EventType":2,"CallbackTs":3}]"#,
            "{\"EventGroupId\":1,\"EventType\":2,\"CallbackTs\":3,\"x\":\"a\u{1}\"}",
            r#"{"EventGroupId":1,"EventType":2,"CallbackTs":3,"x":}"#,
            r#"{"EventGroupId":1,"EventType":2,"CallbackTs":3,"x":[1}"#,
            r#"{"EventGroupId":1,"EventType":2,"CallbackTs":3,"x":"\"}"#,
            r#"{"EventGroupId":1,"EventType":2,"CallbackTs":3,"x":1]"#,
            // Grammar inside skipped values and inside EventInfo is checked.
            r#"{"EventGroupId":1,"EventType":2,"CallbackTs":3,"x":01}"#,
            r#"{"EventGroupId":1,"EventType":2,"CallbackTs":3,"x":tru}"#,
            r#"{"EventGroupId":1,"EventType":2,"CallbackTs":3,"EventInfo":{"a":01}}"#,
            r#"{"EventGroupId":1,"EventType":2,"CallbackTs":3,"EventInfo":{"a"}}"#,
            "",
            "{}",
        ] {
            assert_eq!(read(bad.as_bytes()), None, "{bad}");
        }
        // Invalid UTF-8 in a skipped string.
        let mut bytes = br#"{"EventGroupId":1,"EventType":2,"CallbackTs":3,"x":"#.to_vec();
        bytes.extend_from_slice(b"\"\xff\"}");
        assert_eq!(read(&bytes), None);
        // Nesting: skipped without recursion (no stack to overflow), still matched.
        let nested = |open: usize, close: usize| {
            format!(
                r#"{{"EventGroupId":1,"EventType":2,"CallbackTs":3,"x":{}{}}}"#,
                "[".repeat(open),
                "]".repeat(close)
            )
        };
        assert!(read(nested(10_000, 10_000).as_bytes()).is_some());
        assert_eq!(read(nested(10_000, 9_999).as_bytes()), None);
    }

    /// The documented gaps: skipped values are not decoded (the handler's parser decides).
    #[test]
    fn skipped_values_are_checked_for_grammar_only() {
        let pair = r#"{"EventGroupId":1,"EventType":2,"CallbackTs":3,"x":"\ud83d\ude00","EventInfo":"\ud83d\ude00"}"#;
        assert_eq!(info(pair), Some(r#""\ud83d\ude00""#));
        for body in [
            r#"{"EventGroupId":1,"EventType":2,"CallbackTs":3,"x":"\ud800"}"#,
            r#"{"EventGroupId":1,"EventType":2,"CallbackTs":3,"x":1e400}"#,
        ] {
            assert!(read(body.as_bytes()).is_some(), "{body}");
            assert!(serde_json::from_str::<serde_json::Value>(body).is_err());
        }
    }

    /// How often each top-level key (escapes decoded) appears: `serde_json`'s own map reading,
    /// independent of the derived struct.
    fn key_counts(body: &str) -> Option<HashMap<String, usize>> {
        struct Counts;
        impl<'de> Visitor<'de> for Counts {
            type Value = HashMap<String, usize>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut counts = HashMap::new();
                while let Some((key, IgnoredAny)) = map.next_entry::<String, IgnoredAny>()? {
                    *counts.entry(key).or_insert(0) += 1;
                }
                Ok(counts)
            }
        }
        struct Wrapper(HashMap<String, usize>);
        impl<'de> Deserialize<'de> for Wrapper {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                d.deserialize_map(Counts).map(Wrapper)
            }
        }
        serde_json::from_str::<Wrapper>(body).ok().map(|w| w.0)
    }

    /// A JSON value as text (strings with escapes and non-ASCII, numbers in every form, literals,
    /// nesting), without surrogate escapes or out-of-range numbers (the documented gaps; a byte
    /// changed in a surrogate pair could leave a lone one).
    fn json_value() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            any::<i64>().prop_map(|n| n.to_string()),
            any::<u64>().prop_map(|n| n.to_string()),
            (any::<i32>(), 0u32..1000, 0u32..10).prop_map(|(a, b, e)| format!("{a}.{b}e{e}")),
            Just("-0".to_owned()),
            Just("true".to_owned()),
            Just("false".to_owned()),
            Just("null".to_owned()),
            json_string(),
        ];
        leaf.prop_recursive(4, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4)
                    .prop_map(|v| format!("[{}]", v.join(" ,\n"))),
                proptest::collection::vec((json_string(), inner), 0..4).prop_map(|v| {
                    let members: Vec<String> =
                        v.into_iter().map(|(k, v)| format!("{k}:\t{v}")).collect();
                    format!("{{{}}}", members.join(","))
                }),
            ]
        })
    }

    fn json_string() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                "[a-zA-Z0-9 ]",
                Just("\\\"".to_owned()),
                Just("\\\\".to_owned()),
                Just("\\n".to_owned()),
                Just("\\u00e9".to_owned()),
                Just("é漢😀".to_owned()),
            ],
            0..6,
        )
        .prop_map(|parts| format!("\"{}\"", parts.concat()))
    }

    /// A top-level member: one of the four fields (sometimes with a value of the wrong type), an
    /// escaped spelling of one, or another key.
    fn member() -> impl Strategy<Value = String> {
        let name = prop_oneof![
            Just("EventGroupId"),
            Just("EventType"),
            Just("CallbackTs"),
            Just("EventInfo"),
            Just("Event\\u0054ype"),
            Just("eventtype"),
            Just("Extra"),
        ];
        let value = prop_oneof![
            4 => any::<u64>().prop_map(|n| n.to_string()),
            2 => json_value(),
        ];
        (name, value).prop_map(|(k, v)| format!("\"{k}\" : {v}"))
    }

    /// A body: members in an object with whitespace, sometimes cut short or with a byte changed.
    fn body() -> impl Strategy<Value = Vec<u8>> {
        (
            proptest::collection::vec(member(), 0..7),
            "[ \t\n\r]{0,2}",
            prop_oneof![
                6 => Just(None),
                // Never a digit or a backslash: those could make a number out of range or a
                // lone surrogate (the documented gaps).
                1 => (any::<prop::sample::Index>(), proptest::sample::select(b"{}[],:\" \tx\x01".to_vec())).prop_map(Some),
            ],
            prop_oneof![6 => Just(None), 1 => any::<prop::sample::Index>().prop_map(Some)],
        )
            .prop_map(|(members, ws, change, cut)| {
                let mut body = format!("{ws}{{{ws}{}{ws}}}{ws}", members.join(&format!(",{ws}")))
                    .into_bytes();
                if let Some((at, to)) = change {
                    let at = at.index(body.len());
                    body[at] = to;
                }
                if let Some(cut) = cut {
                    body.truncate(cut.index(body.len()));
                }
                body
            })
    }

    /// What a `serde_json::Value` parse (with the key counts for duplicates) says the reading
    /// should be.
    fn expected(body: &[u8]) -> Option<(u64, u64, u64, Option<serde_json::Value>)> {
        let text = std::str::from_utf8(body).ok()?;
        let value: serde_json::Value = serde_json::from_str(text).ok()?;
        let counts = key_counts(text)?;
        for key in ["EventGroupId", "EventType", "CallbackTs"] {
            if counts.get(key) != Some(&1) {
                return None;
            }
        }
        if counts.get("EventInfo").is_some_and(|&n| n > 1) {
            return None;
        }
        let info = value.get("EventInfo").filter(|v| !v.is_null()).cloned();
        Some((
            value["EventGroupId"].as_u64()?,
            value["EventType"].as_u64()?,
            value["CallbackTs"].as_u64()?,
            info,
        ))
    }

    fn ours(body: &[u8]) -> Option<(u64, u64, u64, Option<serde_json::Value>)> {
        let fields = read(body)?;
        // `EventInfo` on its own (`None` here if it did not parse: a mismatch, reported).
        let info = fields
            .event_info
            .and_then(|(start, end)| serde_json::from_slice(&body[start..end]).ok());
        Some((
            fields.event_group_id,
            fields.event_type,
            fields.callback_ts,
            info,
        ))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        /// The reading agrees with a `serde_json::Value` parse: the same bodies accepted, the same
        /// three values, and `EventInfo` the same value.
        #[test]
        fn the_reading_is_a_value_parse(body in body()) {
            prop_assert_eq!(ours(&body), expected(&body), "{}", String::from_utf8_lossy(&body));
        }

        /// Every well-formed event (the three fields once, as integers, anything else around
        /// them) is read.
        #[test]
        fn every_well_formed_event_is_read(
            group in any::<u64>(), kind in any::<u64>(), ts in any::<u64>(),
            info in json_value(), order in Just([0usize, 1, 2, 3]).prop_shuffle(),
        ) {
            let members = [
                format!("\"EventGroupId\":{group}"),
                format!("\"EventType\": {kind}"),
                format!("\"CallbackTs\" :{ts}"),
                format!("\"EventInfo\":{info}"),
            ];
            let body = format!("{{{}}}", order.map(|i| members[i].clone()).join(",\n"));
            let fields = read(body.as_bytes());
            prop_assert!(fields.is_some(), "{}", body);
            prop_assert_eq!(ours(body.as_bytes()), expected(body.as_bytes()));
        }

        /// Arbitrary bytes never make the reading panic; whatever it accepts, a `Value` parse
        /// reads alike.
        #[test]
        fn arbitrary_bytes_are_read_alike_or_refused(
            body in proptest::collection::vec(any::<u8>(), 0..64),
            prefix in prop_oneof![Just(""), Just(r#"{"EventGroupId":1,"EventType":2,"CallbackTs":3,"x":"#)],
        ) {
            let mut bytes = prefix.as_bytes().to_vec();
            bytes.extend_from_slice(&body);
            if let (Some(ours), Some(theirs)) = (ours(&bytes), expected(&bytes)) {
                prop_assert_eq!(ours, theirs);
            }
        }
    }
}
