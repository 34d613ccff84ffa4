//! One-to-one messages: `C2C.Callback…`.

use serde::Deserialize;

use crate::message::MsgElement;
use crate::reply::Verdict;
use crate::{Ack, Callback};

/// `C2C.CallbackBeforeSendMsg`: a one-to-one message is about to be sent; the reply decides
/// (allow, allow rewritten, forbid, discard). The moderation callback.
///
/// Reply: [`Verdict<C2cBeforeSendMsg>`]: [`allow`](Verdict::allow),
/// [`allow_with_msg_body`](Verdict::allow_with_msg_body) /
/// [`allow_with_cloud_custom_data`](Verdict::allow_with_cloud_custom_data) /
/// [`allow_with`](Verdict::allow_with) (the message is delivered as the reply writes it),
/// [`forbid`](Verdict::forbid), [`discard`](Verdict::discard),
/// [`forbid_with`](Verdict::forbid_with).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct C2cBeforeSendMsg {
    /// `From_Account`: the sender's UserID.
    #[serde(rename = "From_Account")]
    pub from_account: String,
    /// `To_Account`: the recipient's UserID.
    #[serde(rename = "To_Account")]
    pub to_account: String,
    /// `MsgSeq`: the message's sequence number (32 bits).
    #[serde(rename = "MsgSeq", deserialize_with = "crate::lenient::int")]
    pub msg_seq: u64,
    /// `MsgRandom`: the message's random number (32 bits).
    #[serde(rename = "MsgRandom", deserialize_with = "crate::lenient::int")]
    pub msg_random: u64,
    /// `MsgTime`: when it was sent, Unix seconds.
    #[serde(rename = "MsgTime", deserialize_with = "crate::lenient::int")]
    pub msg_time: u64,
    /// `MsgKey`: the message's unique id (to recall it through the REST API).
    #[serde(rename = "MsgKey")]
    pub msg_key: String,
    /// `OnlineOnlyFlag`: 1 for an online-only message, else 0.
    #[serde(rename = "OnlineOnlyFlag", deserialize_with = "crate::lenient::int")]
    pub online_only_flag: u32,
    /// `MsgBody`: the message's elements.
    #[serde(rename = "MsgBody")]
    pub msg_body: Vec<MsgElement>,
    /// `CloudCustomData`: the message's custom data, a string as the sender wrote it (`None` when
    /// absent).
    #[serde(rename = "CloudCustomData")]
    pub cloud_custom_data: Option<String>,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

impl Callback for C2cBeforeSendMsg {
    const COMMAND: &'static str = "C2C.CallbackBeforeSendMsg";
    type Reply = Verdict<Self>;
}

impl crate::reply::RewritesMessage for C2cBeforeSendMsg {}
impl crate::reply::sealed::Sealed for C2cBeforeSendMsg {}

/// `C2C.CallbackAfterSendMsg`: a one-to-one message was sent (or failed to be). Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct C2cAfterSendMsg {
    /// `From_Account`: the sender's UserID.
    #[serde(rename = "From_Account")]
    pub from_account: String,
    /// `To_Account`: the recipient's UserID.
    #[serde(rename = "To_Account")]
    pub to_account: String,
    /// `MsgSeq`: the message's sequence number.
    #[serde(rename = "MsgSeq", deserialize_with = "crate::lenient::int")]
    pub msg_seq: u64,
    /// `MsgRandom`: the message's random number.
    #[serde(rename = "MsgRandom", deserialize_with = "crate::lenient::int")]
    pub msg_random: u64,
    /// `MsgTime`: when it was sent, Unix seconds.
    #[serde(rename = "MsgTime", deserialize_with = "crate::lenient::int")]
    pub msg_time: u64,
    /// `MsgKey`: the message's unique id.
    #[serde(rename = "MsgKey")]
    pub msg_key: String,
    /// `OnlineOnlyFlag`: 1 for an online-only message, else 0.
    #[serde(rename = "OnlineOnlyFlag", deserialize_with = "crate::lenient::int")]
    pub online_only_flag: u32,
    /// `SendMsgResult`: 0 sent, else the error code of the failure.
    #[serde(rename = "SendMsgResult", deserialize_with = "crate::lenient::int")]
    pub send_msg_result: i64,
    /// `ErrorInfo`: why sending failed (or "send msg succeed").
    #[serde(rename = "ErrorInfo")]
    pub error_info: String,
    /// `UnreadMsgNum`: the recipient's unread one-to-one messages after this one.
    #[serde(rename = "UnreadMsgNum", deserialize_with = "crate::lenient::int")]
    pub unread_msg_num: u64,
    /// `MsgBody`: the message's elements (as delivered: rewritten if the before-callback did).
    #[serde(rename = "MsgBody")]
    pub msg_body: Vec<MsgElement>,
    /// `CloudCustomData`: the message's custom data (`None` when absent).
    #[serde(rename = "CloudCustomData")]
    pub cloud_custom_data: Option<String>,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

impl Callback for C2cAfterSendMsg {
    const COMMAND: &'static str = "C2C.CallbackAfterSendMsg";
    type Reply = Ack;
}

// @@ c2c: the other one-to-one commands below @@

/// `C2C.CallbackAfterMsgReport`: a user marked a one-to-one conversation as read (from the
/// client, or `admin_set_msg_read`). Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct C2cAfterMsgReport {
    /// `Report_Account`: the UserID who reported the read.
    #[serde(rename = "Report_Account")]
    pub report_account: String,
    /// `Peer_Account`: the UserID at the other end of the conversation.
    #[serde(rename = "Peer_Account")]
    pub peer_account: String,
    /// `LastReadTime`: the read time, Unix seconds: the conversation's messages up to it are read.
    #[serde(rename = "LastReadTime", deserialize_with = "crate::lenient::int")]
    pub last_read_time: u64,
    /// `UnreadMsgNum`: `Report_Account`'s unread one-to-one messages, all conversations
    /// (`None` when absent).
    #[serde(rename = "UnreadMsgNum", deserialize_with = "crate::lenient::opt_int")]
    pub unread_msg_num: Option<u64>,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

impl Callback for C2cAfterMsgReport {
    const COMMAND: &'static str = "C2C.CallbackAfterMsgReport";
    type Reply = Ack;
}

/// `C2C.CallbackAfterMsgWithDraw`: a one-to-one message was recalled (from the client, or
/// `admin_msgwithdraw`). Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct C2cAfterMsgWithDraw {
    /// `From_Account`: the message's sender.
    #[serde(rename = "From_Account")]
    pub from_account: String,
    /// `To_Account`: the message's recipient.
    #[serde(rename = "To_Account")]
    pub to_account: String,
    /// `MsgKey`: the recalled message's unique id.
    #[serde(rename = "MsgKey")]
    pub msg_key: String,
    /// `UnreadMsgNum`: `To_Account`'s unread one-to-one messages, all conversations (`None`
    /// when absent).
    #[serde(rename = "UnreadMsgNum", deserialize_with = "crate::lenient::opt_int")]
    pub unread_msg_num: Option<u64>,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

impl Callback for C2cAfterMsgWithDraw {
    const COMMAND: &'static str = "C2C.CallbackAfterMsgWithDraw";
    type Reply = Ack;
}

/// `C2C.CallbackAfterC2CMsgExtension`: a one-to-one message's extensions (key-value pairs)
/// were set, deleted or cleared (from the client or the REST API). Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct C2cAfterC2cMsgExtension {
    /// `From_Account`: the message's sender.
    #[serde(rename = "From_Account")]
    pub from_account: String,
    /// `To_Account`: the message's recipient.
    #[serde(rename = "To_Account")]
    pub to_account: String,
    /// `MsgKey`: the message's unique id.
    #[serde(rename = "MsgKey")]
    pub msg_key: String,
    /// `OperateType`: 1 set, 2 delete, 3 clear all.
    #[serde(rename = "OperateType", deserialize_with = "crate::lenient::int")]
    pub operate_type: u32,
    /// `ExtensionList`: the key-value pairs concerned (a deleted pair has an empty value).
    #[serde(rename = "ExtensionList")]
    pub extension_list: Vec<MsgExtension>,
    /// `Seq`: the message's latest extension version.
    #[serde(rename = "Seq", deserialize_with = "crate::lenient::int")]
    pub seq: u64,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

impl Callback for C2cAfterC2cMsgExtension {
    const COMMAND: &'static str = "C2C.CallbackAfterC2CMsgExtension";
    type Reply = Ack;
}

/// One element of [`C2cAfterC2cMsgExtension::extension_list`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct MsgExtension {
    /// `Key`: the extension's key.
    #[serde(rename = "Key")]
    pub key: String,
    /// `Value`: its value (empty once deleted).
    #[serde(rename = "Value")]
    pub value: String,
    /// `Seq`: this pair's version.
    #[serde(rename = "Seq", deserialize_with = "crate::lenient::int")]
    pub seq: u64,
}

/// `C2C.CallbackAfterModifyMsg`: a one-to-one message was edited (from the client, or the REST
/// API that modifies one-to-one history). Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct C2cAfterModifyMsg {
    /// `Operator_Account`: the UserID who edited the message.
    #[serde(rename = "Operator_Account")]
    pub operator_account: String,
    /// `From_Account`: the message's sender.
    #[serde(rename = "From_Account")]
    pub from_account: String,
    /// `To_Account`: the message's recipient.
    #[serde(rename = "To_Account")]
    pub to_account: String,
    /// `MsgSeq`: the message's sequence number.
    #[serde(rename = "MsgSeq", deserialize_with = "crate::lenient::int")]
    pub msg_seq: u64,
    /// `MsgRandom`: the message's random number.
    #[serde(rename = "MsgRandom", deserialize_with = "crate::lenient::int")]
    pub msg_random: u64,
    /// `MsgTime`: when it was sent, Unix seconds.
    #[serde(rename = "MsgTime", deserialize_with = "crate::lenient::int")]
    pub msg_time: u64,
    /// `MsgKey`: the message's unique id.
    #[serde(rename = "MsgKey")]
    pub msg_key: String,
    /// `MsgBody`: the message's elements after the edit.
    #[serde(rename = "MsgBody")]
    pub msg_body: Vec<MsgElement>,
    /// `CloudCustomData`: the message's custom data after the edit (`None` when absent).
    #[serde(rename = "CloudCustomData")]
    pub cloud_custom_data: Option<String>,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

impl Callback for C2cAfterModifyMsg {
    const COMMAND: &'static str = "C2C.CallbackAfterModifyMsg";
    type Reply = Ack;
}

/// `C2C.CallbackAfterMsgReadReceipt`: a user sent read receipts for one-to-one messages (from
/// the client or the REST API). Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct C2cAfterMsgReadReceipt {
    /// `Operator_Account`: the UserID who sent the read receipts.
    #[serde(rename = "Operator_Account")]
    pub operator_account: String,
    /// `Peer_Account`: the UserID at the other end of the conversation.
    #[serde(rename = "Peer_Account")]
    pub peer_account: String,
    /// `C2CMsgInfo`: the messages marked read.
    #[serde(rename = "C2CMsgInfo")]
    pub c2c_msg_info: Vec<C2cMsgInfo>,
    /// `EventTime`: when the receipts were sent, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

impl Callback for C2cAfterMsgReadReceipt {
    const COMMAND: &'static str = "C2C.CallbackAfterMsgReadReceipt";
    type Reply = Ack;
}

/// One element of [`C2cAfterMsgReadReceipt::c2c_msg_info`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct C2cMsgInfo {
    /// `From_Account`: the message's sender.
    #[serde(rename = "From_Account")]
    pub from_account: String,
    /// `To_Account`: the message's recipient.
    #[serde(rename = "To_Account")]
    pub to_account: String,
    /// `MsgKey`: the message's unique id.
    #[serde(rename = "MsgKey")]
    pub msg_key: String,
    /// `MsgId`: the message's id on the client.
    #[serde(rename = "MsgId")]
    pub msg_id: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{from_slice, CallbackReply};

    #[test]
    fn before_send_reads_the_documented_fields() {
        let body = br#"{
            "CallbackCommand": "C2C.CallbackBeforeSendMsg",
            "From_Account": "alice", "To_Account": "bob",
            "MsgSeq": 17, "MsgRandom": 99887766, "MsgTime": 1700000000,
            "MsgKey": "17_99887766_1700000000", "OnlineOnlyFlag": 0,
            "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "see you"}},
                        {"MsgType": "TIMFaceElem", "MsgContent": {"Index": 2, "Data": "wave"}}],
            "CloudCustomData": "{\"theme\":\"dark\"}",
            "EventTime": "1700000000123",
            "SomethingNew": [1, 2]
        }"#;
        let e: C2cBeforeSendMsg = from_slice(body).unwrap();
        assert_eq!(
            (e.from_account.as_str(), e.to_account.as_str()),
            ("alice", "bob")
        );
        assert_eq!(
            (e.msg_seq, e.msg_random, e.msg_time),
            (17, 99_887_766, 1_700_000_000)
        );
        assert_eq!(
            (e.msg_key.as_str(), e.online_only_flag),
            ("17_99887766_1700000000", 0)
        );
        assert_eq!(e.msg_body.len(), 2);
        assert_eq!(e.msg_body[0].as_text(), Some("see you"));
        assert_eq!(e.cloud_custom_data.as_deref(), Some("{\"theme\":\"dark\"}"));
        assert_eq!(e.event_time, Some(1_700_000_000_123));
    }

    #[test]
    fn after_send_reads_the_documented_fields() {
        let body = br#"{"CallbackCommand":"C2C.CallbackAfterSendMsg","From_Account":"alice","To_Account":"bob",
            "MsgSeq":5,"MsgRandom":6,"MsgTime":7,"MsgKey":"5_6_7","OnlineOnlyFlag":1,
            "SendMsgResult":20003,"ErrorInfo":"invalid account","UnreadMsgNum":3,
            "MsgBody":[{"MsgType":"TIMCustomElem","MsgContent":{"Data":"d"}}],"EventTime":1700000000456}"#;
        let e: C2cAfterSendMsg = from_slice(body).unwrap();
        assert_eq!(
            (e.send_msg_result, e.error_info.as_str(), e.unread_msg_num),
            (20003, "invalid account", 3)
        );
        assert_eq!(
            (e.msg_seq, e.msg_random, e.msg_time, e.online_only_flag),
            (5, 6, 7, 1)
        );
        assert_eq!(e.msg_key, "5_6_7");
        assert_eq!(
            (e.from_account.as_str(), e.to_account.as_str()),
            ("alice", "bob")
        );
        assert!(matches!(e.msg_body[0], MsgElement::Custom(_)));
        assert_eq!(
            (e.cloud_custom_data, e.event_time),
            (None, Some(1_700_000_000_456))
        );
        assert_eq!(
            Ack.to_json(),
            r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}"#
        );
    }

    #[test]
    fn the_rewritten_message_replies_are_the_documented_json() {
        type V = Verdict<C2cBeforeSendMsg>;
        let body = vec![MsgElement::text("see ***")];
        assert_eq!(
            V::allow_with_msg_body(body.clone()).to_json(),
            r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"see ***"}}]}"#
        );
        assert_eq!(
            V::allow_with_cloud_custom_data("{}").to_json(),
            r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0,"CloudCustomData":"{}"}"#
        );
        assert_eq!(
            V::allow_with(body, "x").to_json(),
            r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"see ***"}}],"CloudCustomData":"x"}"#
        );
    }

    #[test]
    fn msg_report_reads_the_documented_fields() {
        let body = br#"{"CallbackCommand":"C2C.CallbackAfterMsgReport","Report_Account":"bob",
            "Peer_Account":"alice","LastReadTime":"1700000050","UnreadMsgNum":4,
            "EventTime":1700000050321,"Soon":{}}"#;
        let e: C2cAfterMsgReport = from_slice(body).unwrap();
        assert_eq!(
            (e.report_account.as_str(), e.peer_account.as_str()),
            ("bob", "alice")
        );
        assert_eq!(
            (e.last_read_time, e.unread_msg_num, e.event_time),
            (1_700_000_050, Some(4), Some(1_700_000_050_321))
        );
    }

    #[test]
    fn msg_withdraw_reads_the_documented_fields() {
        let body = br#"{"CallbackCommand":"C2C.CallbackAfterMsgWithDraw","From_Account":"alice",
            "To_Account":"bob","MsgKey":"9_8_1700000060","UnreadMsgNum":"2","Soon":1}"#;
        let e: C2cAfterMsgWithDraw = from_slice(body).unwrap();
        assert_eq!(
            (
                e.from_account.as_str(),
                e.to_account.as_str(),
                e.msg_key.as_str()
            ),
            ("alice", "bob", "9_8_1700000060")
        );
        assert_eq!((e.unread_msg_num, e.event_time), (Some(2), None));
        let later: C2cAfterMsgWithDraw = from_slice(
            br#"{"CallbackCommand":"C2C.CallbackAfterMsgWithDraw","MsgKey":"k","EventTime":1700000060999}"#,
        )
        .unwrap();
        assert_eq!(
            (later.unread_msg_num, later.event_time),
            (None, Some(1_700_000_060_999))
        );
    }

    #[test]
    fn msg_extension_reads_the_documented_fields() {
        let body = br#"{"CallbackCommand":"C2C.CallbackAfterC2CMsgExtension",
            "From_Account":"alice","To_Account":"bob","MsgKey":"3_4_1700000070","OperateType":2,
            "ExtensionList":[{"Key":"vote","Value":"","Seq":5},{"Key":"poll","Value":"b","Seq":"4"}],
            "Seq":5,"EventTime":1700000070123,"Soon":"x"}"#;
        let e: C2cAfterC2cMsgExtension = from_slice(body).unwrap();
        assert_eq!(
            (
                e.from_account.as_str(),
                e.to_account.as_str(),
                e.msg_key.as_str()
            ),
            ("alice", "bob", "3_4_1700000070")
        );
        assert_eq!(
            (e.operate_type, e.seq, e.event_time),
            (2, 5, Some(1_700_000_070_123))
        );
        let kv = |x: &MsgExtension| (x.key.clone(), x.value.clone(), x.seq);
        assert_eq!(
            e.extension_list.iter().map(kv).collect::<Vec<_>>(),
            [
                ("vote".to_owned(), String::new(), 5),
                ("poll".to_owned(), "b".to_owned(), 4)
            ]
        );
    }

    #[test]
    fn modify_msg_reads_the_documented_fields() {
        let body = br#"{"CallbackCommand":"C2C.CallbackAfterModifyMsg",
            "Operator_Account":"alice","From_Account":"alice","To_Account":"bob",
            "MsgSeq":21,"MsgRandom":"4321","MsgTime":1700000080,"MsgKey":"21_4321_1700000080",
            "MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"edited"}}],
            "CloudCustomData":"{\"edited\":true}","EventTime":1700000081000,"Soon":[]}"#;
        let e: C2cAfterModifyMsg = from_slice(body).unwrap();
        assert_eq!(
            (
                e.operator_account.as_str(),
                e.from_account.as_str(),
                e.to_account.as_str()
            ),
            ("alice", "alice", "bob")
        );
        assert_eq!(
            (e.msg_seq, e.msg_random, e.msg_time),
            (21, 4321, 1_700_000_080)
        );
        assert_eq!(e.msg_key, "21_4321_1700000080");
        assert_eq!(e.msg_body.len(), 1);
        assert_eq!(e.msg_body[0].as_text(), Some("edited"));
        assert_eq!(e.cloud_custom_data.as_deref(), Some("{\"edited\":true}"));
        assert_eq!(e.event_time, Some(1_700_000_081_000));
    }

    #[test]
    fn msg_read_receipt_reads_the_documented_fields() {
        let body = br#"{"CallbackCommand":"C2C.CallbackAfterMsgReadReceipt",
            "Operator_Account":"bob","Peer_Account":"alice",
            "C2CMsgInfo":[{"From_Account":"alice","To_Account":"bob","MsgKey":"1_2_1700000090",
                           "MsgId":"144115-1700000090-2"}],
            "EventTime":1700000091000,"Soon":0}"#;
        let e: C2cAfterMsgReadReceipt = from_slice(body).unwrap();
        assert_eq!(
            (e.operator_account.as_str(), e.peer_account.as_str()),
            ("bob", "alice")
        );
        let m = &e.c2c_msg_info[0];
        assert_eq!(
            (
                m.from_account.as_str(),
                m.to_account.as_str(),
                m.msg_key.as_str(),
                m.msg_id.as_str()
            ),
            ("alice", "bob", "1_2_1700000090", "144115-1700000090-2")
        );
        assert_eq!(e.event_time, Some(1_700_000_091_000));
    }
}
