//! Chatbots: the chatbot webhooks of the list (`Bot.OnC2CMessage`, `Bot.OnGroupMessage`,
//! `Chatbot.OnC2CSignalMessage`).

use serde::Deserialize;

use crate::message::MsgElement;
use crate::reply::Verdict;
use crate::{Ack, Callback};

// @@ bot @@

/// `Bot.OnC2CMessage`: a one-to-one message to a chatbot account was delivered (by a client or
/// the REST API). Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct BotOnC2CMessage {
    /// `From_Account`: the sender's UserID.
    #[serde(rename = "From_Account")]
    pub from_account: String,
    /// `To_Account`: the chatbot's UserID.
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
    /// `MsgId`: the message's unique id on the client (in the Chinese page's sample; `None` when
    /// absent).
    #[serde(rename = "MsgId")]
    pub msg_id: Option<String>,
    /// `OnlineOnlyFlag`: 1 for an online-only message, else 0.
    #[serde(rename = "OnlineOnlyFlag", deserialize_with = "crate::lenient::int")]
    pub online_only_flag: u32,
    /// `SendMsgResult`: 0 delivered, else the error code of the failure.
    #[serde(rename = "SendMsgResult", deserialize_with = "crate::lenient::int")]
    pub send_msg_result: i64,
    /// `ErrorInfo`: why delivery failed (or "send msg succeed").
    #[serde(rename = "ErrorInfo")]
    pub error_info: String,
    /// `MsgBody`: the message's elements.
    #[serde(rename = "MsgBody")]
    pub msg_body: Vec<MsgElement>,
    /// `CloudCustomData`: the message's custom data (`None` when absent).
    #[serde(rename = "CloudCustomData")]
    pub cloud_custom_data: Option<String>,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

impl Callback for BotOnC2CMessage {
    const COMMAND: &'static str = "Bot.OnC2CMessage";
    type Reply = Ack;
}

/// `Bot.OnGroupMessage`: a user @-mentioned one or more chatbots in a group (an @all does not
/// trigger it; the console's "chatbot event callback" must be on). Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct BotOnGroupMessage {
    /// `GroupId`: the group's ID.
    #[serde(rename = "GroupId")]
    pub group_id: String,
    /// `Type`: the group's type (`Public`, `Work`, `Meeting`, `AVChatRoom`, `Community`).
    #[serde(rename = "Type")]
    pub group_type: String,
    /// `From_Account`: the sender's UserID.
    #[serde(rename = "From_Account")]
    pub from_account: String,
    /// `Operator_Account`: the UserID of the request's initiator.
    #[serde(rename = "Operator_Account")]
    pub operator_account: String,
    /// `Random`: the message's random number.
    #[serde(rename = "Random", deserialize_with = "crate::lenient::int")]
    pub random: u64,
    /// `MsgSeq`: the message's sequence number.
    #[serde(rename = "MsgSeq", deserialize_with = "crate::lenient::int")]
    pub msg_seq: u64,
    /// `MsgTime`: when it was sent, Unix seconds.
    #[serde(rename = "MsgTime", deserialize_with = "crate::lenient::int")]
    pub msg_time: u64,
    /// `OnlineOnlyFlag`: 1 for an online-only message, else 0 (always 0 in live-streaming groups).
    #[serde(rename = "OnlineOnlyFlag", deserialize_with = "crate::lenient::int")]
    pub online_only_flag: u32,
    /// `MsgBody`: the message's elements.
    #[serde(rename = "MsgBody")]
    pub msg_body: Vec<MsgElement>,
    /// `AtRobots_Account`: the chatbots mentioned.
    #[serde(rename = "AtRobots_Account")]
    pub at_robots_account: Vec<String>,
    /// `CloudCustomData`: the message's custom data (`None` when absent).
    #[serde(rename = "CloudCustomData")]
    pub cloud_custom_data: Option<String>,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

impl Callback for BotOnGroupMessage {
    const COMMAND: &'static str = "Bot.OnGroupMessage";
    type Reply = Ack;
}

/// `Chatbot.OnC2CSignalMessage`: a user sent a chatbot a "custom passthrough" message; the reply
/// answers it. `ErrorCode` 0 sends the reply's `RspData` to the chatbot, 1 ignores it.
///
/// Reply: [`Verdict<ChatbotOnC2CSignalMessage>`]:
/// [`allow_with_rsp_data`](Verdict::allow_with_rsp_data) (the answer),
/// [`forbid`](Verdict::forbid) (no answer).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ChatbotOnC2CSignalMessage {
    /// `From_Account`: the sender's UserID.
    #[serde(rename = "From_Account")]
    pub from_account: String,
    /// `To_Account`: the chatbot's UserID.
    #[serde(rename = "To_Account")]
    pub to_account: String,
    /// `MsgSeq`: the message's sequence number (32 bits).
    #[serde(rename = "MsgSeq", deserialize_with = "crate::lenient::int")]
    pub msg_seq: u64,
    /// `MsgRandom`: the message's random number (32 bits).
    #[serde(rename = "MsgRandom", deserialize_with = "crate::lenient::int")]
    pub msg_random: u64,
    /// `MsgKey`: the message's unique id (to recall it through the REST API).
    #[serde(rename = "MsgKey")]
    pub msg_key: String,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
    /// `Data`: the `data` field of the passthrough content, as the client wrote it.
    #[serde(rename = "Data")]
    pub data: String,
}

impl Callback for ChatbotOnC2CSignalMessage {
    const COMMAND: &'static str = "Chatbot.OnC2CSignalMessage";
    type Reply = Verdict<Self>;
}

impl Verdict<ChatbotOnC2CSignalMessage> {
    /// Answer the chatbot with `rsp_data` (`ErrorCode` 0, `RspData`): the custom passthrough
    /// content sent back to it.
    pub fn allow_with_rsp_data(rsp_data: impl Into<String>) -> Self {
        Self::allow().with_field("RspData", rsp_data.into())
    }
}

// @@ bot end @@

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{from_slice, CallbackReply};

    #[test]
    fn one_to_one_message_to_a_bot_reads_the_documented_fields() {
        let body = br#"{"CallbackCommand":"Bot.OnC2CMessage","From_Account":"carol","To_Account":"@RBT#helper",
            "MsgSeq":901,"MsgRandom":"4455","MsgTime":1712000000,"MsgKey":"901_4455_1712000000",
            "MsgId":"144115200000000005-1712000000-4455","OnlineOnlyFlag":0,"SendMsgResult":0,
            "ErrorInfo":"send msg succeed",
            "MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"what's the weather?"}}],
            "CloudCustomData":"{\"lang\":\"en\"}","EventTime":1712000000123,"Novel":[1]}"#;
        let e: BotOnC2CMessage = from_slice(body).unwrap();
        assert_eq!(
            (e.from_account.as_str(), e.to_account.as_str()),
            ("carol", "@RBT#helper")
        );
        assert_eq!(
            (e.msg_seq, e.msg_random, e.msg_time),
            (901, 4455, 1_712_000_000)
        );
        assert_eq!(e.msg_key, "901_4455_1712000000");
        assert_eq!(
            e.msg_id.as_deref(),
            Some("144115200000000005-1712000000-4455")
        );
        assert_eq!(
            (e.online_only_flag, e.send_msg_result, e.error_info.as_str()),
            (0, 0, "send msg succeed")
        );
        assert_eq!(e.msg_body[0].as_text(), Some("what's the weather?"));
        assert_eq!(e.cloud_custom_data.as_deref(), Some("{\"lang\":\"en\"}"));
        assert_eq!(e.event_time, Some(1_712_000_000_123));
    }

    #[test]
    fn group_mention_of_a_bot_reads_the_documented_fields() {
        let body = br#"{"CallbackCommand":"Bot.OnGroupMessage","GroupId":"@TGS#2ABCDEF","Type":"Work",
            "From_Account":"dave","Operator_Account":"dave","Random":778899,"MsgSeq":"64","MsgTime":1712000100,
            "OnlineOnlyFlag":1,
            "MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"@@RBT#helper @@RBT#notes summarise"}}],
            "AtRobots_Account":["@RBT#helper","@RBT#notes"],"CloudCustomData":"cc",
            "EventTime":"1712000100456","Novel":{}}"#;
        let e: BotOnGroupMessage = from_slice(body).unwrap();
        assert_eq!(
            (e.group_id.as_str(), e.group_type.as_str()),
            ("@TGS#2ABCDEF", "Work")
        );
        assert_eq!(
            (e.from_account.as_str(), e.operator_account.as_str()),
            ("dave", "dave")
        );
        assert_eq!(
            (e.random, e.msg_seq, e.msg_time, e.online_only_flag),
            (778_899, 64, 1_712_000_100, 1)
        );
        assert_eq!(
            e.msg_body[0].as_text(),
            Some("@@RBT#helper @@RBT#notes summarise")
        );
        assert_eq!(e.at_robots_account, ["@RBT#helper", "@RBT#notes"]);
        assert_eq!(e.cloud_custom_data.as_deref(), Some("cc"));
        assert_eq!(e.event_time, Some(1_712_000_100_456));
    }

    #[test]
    fn signal_message_reads_the_documented_fields_and_answers_with_rsp_data() {
        let body = br#"{"CallbackCommand":"Chatbot.OnC2CSignalMessage","From_Account":"erin",
            "To_Account":"@RBT#helper","MsgSeq":12,"MsgRandom":34,"MsgKey":"34_12_1712000200",
            "EventTime":1712000200789,"Data":"{\"action\":\"reset\"}","Novel":"x"}"#;
        let e: ChatbotOnC2CSignalMessage = from_slice(body).unwrap();
        assert_eq!(
            (e.from_account.as_str(), e.to_account.as_str()),
            ("erin", "@RBT#helper")
        );
        assert_eq!((e.msg_seq, e.msg_random), (12, 34));
        assert_eq!(e.msg_key, "34_12_1712000200");
        assert_eq!(e.event_time, Some(1_712_000_200_789));
        assert_eq!(e.data, "{\"action\":\"reset\"}");

        type V = Verdict<ChatbotOnC2CSignalMessage>;
        assert_eq!(
            V::allow_with_rsp_data("{\"ok\":true}").to_json(),
            r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0,"RspData":"{\"ok\":true}"}"#
        );
        assert_eq!(
            V::forbid().to_json(),
            r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":1}"#
        );
        assert_eq!(
            Ack.to_json(),
            r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}"#
        );
    }
}
