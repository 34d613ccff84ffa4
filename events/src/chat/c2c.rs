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
}
