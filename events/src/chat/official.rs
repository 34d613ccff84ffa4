//! Official accounts: the official-account webhooks of the list (`OfficialAccount.Callback…`).

use serde::Deserialize;

use crate::message::MsgElement;
use crate::reply::Verdict;
use crate::{Ack, Callback};

// @@ official @@

/// `OfficialAccount.CallbackAfterCreateOfficialAccount`: an official account was created (through
/// the REST API). Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct OfficialAccountAfterCreateOfficialAccount {
    /// `Official_Account`: the official account's UserID.
    #[serde(rename = "Official_Account")]
    pub official_account: String,
    /// `Operator_Account`: the UserID of the operator who created it.
    #[serde(rename = "Operator_Account")]
    pub operator_account: String,
    /// `Owner_Account`: its creator, who owns it.
    #[serde(rename = "Owner_Account")]
    pub owner_account: String,
    /// `Name`: its name.
    #[serde(rename = "Name")]
    pub name: String,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

impl Callback for OfficialAccountAfterCreateOfficialAccount {
    const COMMAND: &'static str = "OfficialAccount.CallbackAfterCreateOfficialAccount";
    type Reply = Ack;
}

/// `OfficialAccount.CallbackAfterOfficialAccountInfoChanged`: an official account's profile was
/// modified (through the REST API). Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct OfficialAccountAfterOfficialAccountInfoChanged {
    /// `Official_Account`: the official account's UserID.
    #[serde(rename = "Official_Account")]
    pub official_account: String,
    /// `Operator_Account`: the UserID of the operator.
    #[serde(rename = "Operator_Account")]
    pub operator_account: String,
    /// `Introduction`: the new introduction (`None`: unchanged).
    #[serde(rename = "Introduction")]
    pub introduction: Option<String>,
    /// `Name`: the new name (`None`: unchanged).
    #[serde(rename = "Name")]
    pub name: Option<String>,
    /// `FaceUrl`: the new avatar URL (`None`: unchanged).
    #[serde(rename = "FaceUrl")]
    pub face_url: Option<String>,
    /// `Organization`: the new organization (`None`: unchanged).
    #[serde(rename = "Organization")]
    pub organization: Option<String>,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

impl Callback for OfficialAccountAfterOfficialAccountInfoChanged {
    const COMMAND: &'static str = "OfficialAccount.CallbackAfterOfficialAccountInfoChanged";
    type Reply = Ack;
}

/// `OfficialAccount.CallbackAfterOfficialAccountDestroyed`: an official account was destroyed
/// (through the REST API). Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct OfficialAccountAfterOfficialAccountDestroyed {
    /// `Official_Account`: the destroyed official account's UserID.
    #[serde(rename = "Official_Account")]
    pub official_account: String,
    /// `Owner_Account`: its owner.
    #[serde(rename = "Owner_Account")]
    pub owner_account: String,
    /// `Name`: its name.
    #[serde(rename = "Name")]
    pub name: String,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

impl Callback for OfficialAccountAfterOfficialAccountDestroyed {
    const COMMAND: &'static str = "OfficialAccount.CallbackAfterOfficialAccountDestroyed";
    type Reply = Ack;
}

/// An item of `SubscribeAccountList`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct OfficialSubscriber {
    /// `Subscriber_Account`: the subscriber's UserID.
    #[serde(rename = "Subscriber_Account")]
    pub subscriber_account: String,
}

/// `OfficialAccount.CallbackBeforeAddSubscriber`: users are about to subscribe to an official
/// account; the reply decides (`ErrorCode` 0 lets the request go on, 1 refuses it).
///
/// Reply: [`Verdict<OfficialAccountBeforeAddSubscriber>`], with
/// [`allow_with_refused_subscribers`](Verdict::allow_with_refused_subscribers) to let the others
/// subscribe.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct OfficialAccountBeforeAddSubscriber {
    /// `Official_Account`: the official account's UserID.
    #[serde(rename = "Official_Account")]
    pub official_account: String,
    /// `Operator_Account`: the UserID of the operator.
    #[serde(rename = "Operator_Account")]
    pub operator_account: String,
    /// `SubscribeAccountList`: the subscribers to be added.
    #[serde(rename = "SubscribeAccountList")]
    pub subscribe_account_list: Vec<OfficialSubscriber>,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

impl Callback for OfficialAccountBeforeAddSubscriber {
    const COMMAND: &'static str = "OfficialAccount.CallbackBeforeAddSubscriber";
    type Reply = Verdict<Self>;
}

impl Verdict<OfficialAccountBeforeAddSubscriber> {
    /// Allow the request, refusing these users (`RefusedSubscribers_Account`): the others
    /// subscribe.
    pub fn allow_with_refused_subscribers<S: Into<String>>(
        refused: impl IntoIterator<Item = S>,
    ) -> Self {
        let refused: Vec<String> = refused.into_iter().map(Into::into).collect();
        Self::allow().with_field("RefusedSubscribers_Account", refused)
    }
}

/// `OfficialAccount.CallbackAfterAddSubscriber`: users subscribed to an official account.
/// Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct OfficialAccountAfterAddSubscriber {
    /// `Official_Account`: the official account's UserID.
    #[serde(rename = "Official_Account")]
    pub official_account: String,
    /// `Operator_Account`: the UserID of the operator.
    #[serde(rename = "Operator_Account")]
    pub operator_account: String,
    /// `SubscribeAccountList`: the subscribers added.
    #[serde(rename = "SubscribeAccountList")]
    pub subscribe_account_list: Vec<OfficialSubscriber>,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

impl Callback for OfficialAccountAfterAddSubscriber {
    const COMMAND: &'static str = "OfficialAccount.CallbackAfterAddSubscriber";
    type Reply = Ack;
}

/// `OfficialAccount.CallbackAfterDeleteSubscriber`: users unsubscribed (or were removed) from an
/// official account. Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct OfficialAccountAfterDeleteSubscriber {
    /// `Official_Account`: the official account's UserID.
    #[serde(rename = "Official_Account")]
    pub official_account: String,
    /// `Operator_Account`: the UserID of the operator.
    #[serde(rename = "Operator_Account")]
    pub operator_account: String,
    /// `SubscribeAccountList`: the users who unsubscribed.
    #[serde(rename = "SubscribeAccountList")]
    pub subscribe_account_list: Vec<OfficialSubscriber>,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

impl Callback for OfficialAccountAfterDeleteSubscriber {
    const COMMAND: &'static str = "OfficialAccount.CallbackAfterDeleteSubscriber";
    type Reply = Ack;
}

/// `OfficialAccount.CallbackAfterOfficialAccountFull`: an official account reached its maximum
/// number of subscribers. Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct OfficialAccountAfterOfficialAccountFull {
    /// `Official_Account`: the full official account's UserID.
    #[serde(rename = "Official_Account")]
    pub official_account: String,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

impl Callback for OfficialAccountAfterOfficialAccountFull {
    const COMMAND: &'static str = "OfficialAccount.CallbackAfterOfficialAccountFull";
    type Reply = Ack;
}

/// `OfficialAccount.CallbackBeforeSendMsg`: an official account message is about to be delivered
/// to the subscribers; the reply decides (allow, allow rewritten, forbid, discard).
///
/// Reply: [`Verdict<OfficialAccountBeforeSendMsg>`]: [`allow`](Verdict::allow),
/// [`allow_with_msg_body`](Verdict::allow_with_msg_body) /
/// [`allow_with_cloud_custom_data`](Verdict::allow_with_cloud_custom_data) /
/// [`allow_with`](Verdict::allow_with), [`forbid`](Verdict::forbid) (the sender sees 10016),
/// [`discard`](Verdict::discard), [`forbid_with`](Verdict::forbid_with).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct OfficialAccountBeforeSendMsg {
    /// `Official_Account`: the official account's UserID.
    #[serde(rename = "Official_Account")]
    pub official_account: String,
    /// `OnlineOnlyFlag`: 1 for an online-only message, else 0.
    #[serde(rename = "OnlineOnlyFlag", deserialize_with = "crate::lenient::int")]
    pub online_only_flag: u32,
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

impl Callback for OfficialAccountBeforeSendMsg {
    const COMMAND: &'static str = "OfficialAccount.CallbackBeforeSendMsg";
    type Reply = Verdict<Self>;
}

impl crate::reply::RewritesMessage for OfficialAccountBeforeSendMsg {}
impl crate::reply::sealed::Sealed for OfficialAccountBeforeSendMsg {}

/// `OfficialAccount.CallbackAfterSendMsg`: an official account message was delivered to the
/// subscribers. Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct OfficialAccountAfterSendMsg {
    /// `Official_Account`: the official account's UserID.
    #[serde(rename = "Official_Account")]
    pub official_account: String,
    /// `MsgKey`: the message's unique id (to recall it through the REST API).
    #[serde(rename = "MsgKey")]
    pub msg_key: String,
    /// `MsgTime`: when it was sent, Unix seconds.
    #[serde(rename = "MsgTime", deserialize_with = "crate::lenient::int")]
    pub msg_time: u64,
    /// `OnlineOnlyFlag`: 1 for an online-only message, else 0.
    #[serde(rename = "OnlineOnlyFlag", deserialize_with = "crate::lenient::int")]
    pub online_only_flag: u32,
    /// `MsgBody`: the message's elements (as delivered).
    #[serde(rename = "MsgBody")]
    pub msg_body: Vec<MsgElement>,
    /// `CloudCustomData`: the message's custom data (`None` when absent).
    #[serde(rename = "CloudCustomData")]
    pub cloud_custom_data: Option<String>,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

impl Callback for OfficialAccountAfterSendMsg {
    const COMMAND: &'static str = "OfficialAccount.CallbackAfterSendMsg";
    type Reply = Ack;
}

/// An item of [`OfficialAccountAfterMsgWithDraw::withdraw_msg_list`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct OfficialWithdrawnMsg {
    /// `MsgKey`: the recalled message's unique id.
    #[serde(rename = "MsgKey")]
    pub msg_key: String,
}

/// `OfficialAccount.CallbackAfterMsgWithDraw`: official account messages were recalled.
/// Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct OfficialAccountAfterMsgWithDraw {
    /// `Official_Account`: the official account's UserID.
    #[serde(rename = "Official_Account")]
    pub official_account: String,
    /// `WithdrawMsgList`: the recalled messages.
    #[serde(rename = "WithdrawMsgList")]
    pub withdraw_msg_list: Vec<OfficialWithdrawnMsg>,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

impl Callback for OfficialAccountAfterMsgWithDraw {
    const COMMAND: &'static str = "OfficialAccount.CallbackAfterMsgWithDraw";
    type Reply = Ack;
}

// @@ official end @@

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{from_slice, CallbackReply};

    #[test]
    fn account_lifecycle_callbacks_read_the_documented_fields() {
        let created = br#"{"CallbackCommand":"OfficialAccount.CallbackAfterCreateOfficialAccount",
            "Official_Account":"@TOA#_news","Operator_Account":"admin","Owner_Account":"editor",
            "Name":"Daily News","EventTime":1713000000001,"Novel":1}"#;
        let e: OfficialAccountAfterCreateOfficialAccount = from_slice(created).unwrap();
        assert_eq!(
            (
                e.official_account.as_str(),
                e.operator_account.as_str(),
                e.owner_account.as_str(),
                e.name.as_str()
            ),
            ("@TOA#_news", "admin", "editor", "Daily News")
        );
        assert_eq!(e.event_time, Some(1_713_000_000_001));

        let changed = br#"{"CallbackCommand":"OfficialAccount.CallbackAfterOfficialAccountInfoChanged",
            "Official_Account":"@TOA#_news","Operator_Account":"admin","Introduction":"Headlines at 8",
            "Name":"Morning News","FaceUrl":"https://cdn.example/n.png","Organization":"Newsroom",
            "EventTime":"1713000000002","Novel":1}"#;
        let e: OfficialAccountAfterOfficialAccountInfoChanged = from_slice(changed).unwrap();
        assert_eq!(
            (e.official_account.as_str(), e.operator_account.as_str()),
            ("@TOA#_news", "admin")
        );
        assert_eq!(e.introduction.as_deref(), Some("Headlines at 8"));
        assert_eq!(e.name.as_deref(), Some("Morning News"));
        assert_eq!(e.face_url.as_deref(), Some("https://cdn.example/n.png"));
        assert_eq!(e.organization.as_deref(), Some("Newsroom"));
        assert_eq!(e.event_time, Some(1_713_000_000_002));
        let only_name: OfficialAccountAfterOfficialAccountInfoChanged =
            from_slice(br#"{"Name":"N"}"#).unwrap();
        assert_eq!(
            (only_name.name.as_deref(), only_name.introduction),
            (Some("N"), None)
        );

        let destroyed =
            br#"{"CallbackCommand":"OfficialAccount.CallbackAfterOfficialAccountDestroyed",
            "Official_Account":"@TOA#_news","Owner_Account":"editor","Name":"Morning News",
            "EventTime":1713000000003,"Novel":1}"#;
        let e: OfficialAccountAfterOfficialAccountDestroyed = from_slice(destroyed).unwrap();
        assert_eq!(
            (
                e.official_account.as_str(),
                e.owner_account.as_str(),
                e.name.as_str()
            ),
            ("@TOA#_news", "editor", "Morning News")
        );
        assert_eq!(e.event_time, Some(1_713_000_000_003));

        let full = br#"{"CallbackCommand":"OfficialAccount.CallbackAfterOfficialAccountFull",
            "Official_Account":"@TOA#_news","EventTime":1713000000004,"Novel":1}"#;
        let e: OfficialAccountAfterOfficialAccountFull = from_slice(full).unwrap();
        assert_eq!(e.official_account, "@TOA#_news");
        assert_eq!(e.event_time, Some(1_713_000_000_004));
    }

    #[test]
    fn before_add_subscriber_reads_the_documented_fields_and_refuses_some() {
        let body = br#"{"CallbackCommand":"OfficialAccount.CallbackBeforeAddSubscriber",
            "Official_Account":"@TOA#_weather","Operator_Account":"ops",
            "SubscribeAccountList":[{"Subscriber_Account":"ivy"},{"Subscriber_Account":"jon"}],
            "EventTime":"1712000000999","Later":true}"#;
        let e: OfficialAccountBeforeAddSubscriber = from_slice(body).unwrap();
        assert_eq!(
            (e.official_account.as_str(), e.operator_account.as_str()),
            ("@TOA#_weather", "ops")
        );
        let who: Vec<&str> = e
            .subscribe_account_list
            .iter()
            .map(|s| s.subscriber_account.as_str())
            .collect();
        assert_eq!(who, ["ivy", "jon"]);
        assert_eq!(e.event_time, Some(1_712_000_000_999));
        assert_eq!(
            Verdict::<OfficialAccountBeforeAddSubscriber>::allow_with_refused_subscribers(["jon"])
                .to_json(),
            r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0,"RefusedSubscribers_Account":["jon"]}"#
        );
        assert_eq!(
            Verdict::<OfficialAccountBeforeAddSubscriber>::forbid().to_json(),
            r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":1}"#
        );
    }

    #[test]
    fn subscriber_callbacks_read_the_documented_fields() {
        let added = br#"{"CallbackCommand":"OfficialAccount.CallbackAfterAddSubscriber",
            "Official_Account":"@TOA#_news","Operator_Account":"frank",
            "SubscribeAccountList":[{"Subscriber_Account":"frank"},{"Subscriber_Account":"gina"}],
            "EventTime":1713000000005,"Novel":1}"#;
        let e: OfficialAccountAfterAddSubscriber = from_slice(added).unwrap();
        assert_eq!(
            (e.official_account.as_str(), e.operator_account.as_str()),
            ("@TOA#_news", "frank")
        );
        let subs: Vec<&str> = e
            .subscribe_account_list
            .iter()
            .map(|s| s.subscriber_account.as_str())
            .collect();
        assert_eq!(subs, ["frank", "gina"]);
        assert_eq!(e.event_time, Some(1_713_000_000_005));

        let deleted = br#"{"CallbackCommand":"OfficialAccount.CallbackAfterDeleteSubscriber",
            "Official_Account":"@TOA#_news","Operator_Account":"admin",
            "SubscribeAccountList":[{"Subscriber_Account":"gina"}],"EventTime":1713000000006,"Novel":1}"#;
        let e: OfficialAccountAfterDeleteSubscriber = from_slice(deleted).unwrap();
        assert_eq!(
            (e.official_account.as_str(), e.operator_account.as_str()),
            ("@TOA#_news", "admin")
        );
        assert_eq!(e.subscribe_account_list.len(), 1);
        assert_eq!(e.subscribe_account_list[0].subscriber_account, "gina");
        assert_eq!(e.event_time, Some(1_713_000_000_006));
    }

    #[test]
    fn message_callbacks_read_the_documented_fields() {
        let before = br#"{"CallbackCommand":"OfficialAccount.CallbackBeforeSendMsg",
            "Official_Account":"@TOA#_news","OnlineOnlyFlag":0,
            "MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"Storm warning"}}],
            "CloudCustomData":"{\"urgent\":true}","EventTime":1713000000007,"Novel":1}"#;
        let e: OfficialAccountBeforeSendMsg = from_slice(before).unwrap();
        assert_eq!(
            (e.official_account.as_str(), e.online_only_flag),
            ("@TOA#_news", 0)
        );
        assert_eq!(e.msg_body[0].as_text(), Some("Storm warning"));
        assert_eq!(e.cloud_custom_data.as_deref(), Some("{\"urgent\":true}"));
        assert_eq!(e.event_time, Some(1_713_000_000_007));

        let after = br#"{"CallbackCommand":"OfficialAccount.CallbackAfterSendMsg",
            "Official_Account":"@TOA#_news","MsgKey":"88_1_1713000000","MsgTime":"1713000000",
            "OnlineOnlyFlag":1,"MsgBody":[{"MsgType":"TIMCustomElem","MsgContent":{"Data":"card"}}],
            "EventTime":1713000000008,"Novel":1}"#;
        let e: OfficialAccountAfterSendMsg = from_slice(after).unwrap();
        assert_eq!(
            (e.official_account.as_str(), e.msg_key.as_str()),
            ("@TOA#_news", "88_1_1713000000")
        );
        assert_eq!((e.msg_time, e.online_only_flag), (1_713_000_000, 1));
        assert!(matches!(e.msg_body[0], MsgElement::Custom(_)));
        assert_eq!(
            (e.cloud_custom_data, e.event_time),
            (None, Some(1_713_000_000_008))
        );

        let recalled = br#"{"CallbackCommand":"OfficialAccount.CallbackAfterMsgWithDraw",
            "Official_Account":"@TOA#_news","WithdrawMsgList":[{"MsgKey":"88_1_1713000000"},{"MsgKey":"89_1_1713000001"}],
            "EventTime":1713000000009,"Novel":1}"#;
        let e: OfficialAccountAfterMsgWithDraw = from_slice(recalled).unwrap();
        assert_eq!(e.official_account, "@TOA#_news");
        let keys: Vec<&str> = e
            .withdraw_msg_list
            .iter()
            .map(|m| m.msg_key.as_str())
            .collect();
        assert_eq!(keys, ["88_1_1713000000", "89_1_1713000001"]);
        assert_eq!(e.event_time, Some(1_713_000_000_009));
    }

    #[test]
    fn the_before_send_replies_are_the_documented_json() {
        type V = Verdict<OfficialAccountBeforeSendMsg>;
        assert_eq!(
            V::allow_with_msg_body(vec![MsgElement::text("Storm ***")]).to_json(),
            r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"Storm ***"}}]}"#
        );
        assert_eq!(
            V::discard().to_json(),
            r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":2}"#
        );
        assert_eq!(
            Ack.to_json(),
            r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}"#
        );
    }
}
