//! Property tests of the typed parse: any JSON object, any command, never a panic; a known
//! command parses or gives the typed error; the body's command and fields read as serde_json's
//! own `Value` reads them.

use proptest::prelude::*;
use serde_json::{json, Map, Value};
use tim_callback_events::{Error, ErrorKind, Event};

/// Field names of the typed events and the message elements, and some unknown ones.
const FIELDS: &[&str] = &[
    "From_Account",
    "To_Account",
    "MsgSeq",
    "MsgRandom",
    "MsgTime",
    "MsgKey",
    "OnlineOnlyFlag",
    "MsgBody",
    "CloudCustomData",
    "EventTime",
    "GroupId",
    "Type",
    "Operator_Account",
    "Info",
    "MemberList_Account",
    "RoomId",
    "UserId",
    "SendMsgResult",
    "UnreadMsgNum",
    "Unknown",
    "X",
];

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<u32>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        "[a-z0-9_ ]{0,6}".prop_map(Value::from),
        any::<u32>().prop_map(|n| Value::from(n.to_string())),
    ]
}

fn element() -> impl Strategy<Value = Value> {
    let types = prop_oneof![
        Just("TIMTextElem"),
        Just("TIMFaceElem"),
        Just("TIMLocationElem"),
        Just("TIMCustomElem"),
        Just("TIMImageElem"),
        Just("TIMSoundElem"),
        Just("TIMFileElem"),
        Just("TIMVideoFileElem"),
        Just("TIMNewElem"),
    ];
    (types, proptest::collection::btree_map(prop_oneof![Just("Text".to_owned()), Just("Data".to_owned()), Just("Index".to_owned()), "[A-Z][a-z]{0,4}"], scalar(), 0..3))
        .prop_map(|(t, content)| json!({"MsgType": t, "MsgContent": Value::Object(content.into_iter().collect())}))
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => scalar(),
        1 => proptest::collection::vec(element(), 0..3).prop_map(Value::from),
        1 => proptest::collection::vec(scalar(), 0..3).prop_map(Value::from),
    ]
}

fn command() -> impl Strategy<Value = String> {
    let known = proptest::sample::select(Event::COMMANDS.to_vec()).prop_map(str::to_owned);
    prop_oneof![3 => known, 1 => "[A-Z][a-z]{1,4}\\.Callback[A-Z][a-z]{1,6}"]
}

/// A body: some fields, maybe the command under either name (the same or another one).
fn body() -> impl Strategy<Value = (String, Map<String, Value>)> {
    (
        command(),
        proptest::collection::vec((proptest::sample::select(FIELDS), value()), 0..8),
        0..4u8,
        command(),
    )
        .prop_map(|(command, fields, tag, other)| {
            let mut map: Map<String, Value> =
                fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            match tag {
                1 => drop(map.insert("CallbackCommand".into(), command.clone().into())),
                2 => drop(map.insert("WebhookCommand".into(), command.clone().into())),
                3 => drop(map.insert("CallbackCommand".into(), other.into())),
                _ => {}
            }
            (command, map)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    /// Never a panic; a known command gives its own variant or a typed error; an unknown one is
    /// kept whole; a body naming another command is a conflict, and nothing else is.
    #[test]
    fn any_object_parses_or_gives_the_typed_error((command, map) in body()) {
        let bytes = serde_json::to_vec(&Value::Object(map.clone())).unwrap();
        let named = map.get("CallbackCommand").or_else(|| map.get("WebhookCommand")).and_then(Value::as_str);
        let result: Result<Event, Error> = Event::parse(&command, &bytes);
        match &result {
            Ok(event) => {
                prop_assert_eq!(event.command(), command.as_str());
                // A body naming another command is never accepted.
                prop_assert!(named.is_none_or(|n| n == command));
                let known = Event::COMMANDS.contains(&command.as_str());
                prop_assert_eq!(matches!(event, Event::Unknown { .. }), !known);
                if let Event::Unknown { body, .. } = event {
                    // Kept whole as serde_json reads the same bytes, but for the command members
                    // taken aside.
                    let Value::Object(mut expected) = serde_json::from_slice(&bytes).unwrap() else { unreachable!() };
                    expected.remove("CallbackCommand");
                    expected.remove("WebhookCommand");
                    prop_assert_eq!(body, &Value::Object(expected));
                }
            }
            Err(error) => {
                // A conflict is reported only for a body naming another command (one that also
                // has a mismatched field before its command member may be reported as that).
                let conflict = named.is_some_and(|n| n != command);
                prop_assert!(error.kind() != ErrorKind::CommandConflict || conflict, "{:?}", error);
                prop_assert!(matches!(error.kind(), ErrorKind::CommandConflict | ErrorKind::Mismatch), "{:?}", error);
            }
        }
    }

    /// Arbitrary bytes: never a panic, and only the parse's own kinds come out.
    #[test]
    fn any_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200), command in command()) {
        if let Err(error) = Event::parse(&command, &bytes) {
            prop_assert!(matches!(error.kind(), ErrorKind::Malformed | ErrorKind::Mismatch | ErrorKind::CommandConflict));
        }
    }
}

/// The typed fields read what serde_json's `Value` reads, for a body with every C2C field.
#[test]
fn typed_fields_agree_with_value() {
    let body = br#"{"CallbackCommand":"C2C.CallbackBeforeSendMsg","From_Account":"a\u00e9","To_Account":"b","MsgSeq":"12","MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"x\ny"}}],"CloudCustomData":"{\"k\":1}"}"#;
    let value: Value = serde_json::from_slice(body).unwrap();
    let Event::C2cBeforeSendMsg(event) = Event::parse("C2C.CallbackBeforeSendMsg", body).unwrap()
    else {
        panic!()
    };
    assert_eq!(event.from_account, value["From_Account"]);
    assert_eq!(event.to_account, value["To_Account"]);
    assert_eq!(event.msg_seq.to_string(), value["MsgSeq"]);
    assert_eq!(
        event.msg_body[0].as_text().unwrap(),
        value["MsgBody"][0]["MsgContent"]["Text"]
    );
    assert_eq!(
        event.cloud_custom_data.as_deref().unwrap(),
        value["CloudCustomData"]
    );
}
