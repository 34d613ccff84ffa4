//! Groups: `Group.Callback…`, by the "Groups" section of Tencent's "Webhook Command List"
//! (<https://www.tencentcloud.com/document/product/1047/34355>), plus the group pages it does not
//! list (recall, message extension).
//!
//! The group pages' samples write `EventTime` as a string (`"EventTime":"1670574414123"`) while
//! their tables say Integer: every integer here is read either way.
//!
//! The group before-callbacks' pages give `[10100, 10200]` as the range of error codes passed to
//! the client (not the one-to-one pages' 120001–130000): [`Verdict::forbid_with`] takes those
//! for them.

use serde::Deserialize;

use crate::message::MsgElement;
use crate::reply::Verdict;
use crate::{Ack, Callback};

// @@ group @@

/// The error codes the group before-callbacks' pages pass to the client.
const GROUP_CLIENT_CODES: std::ops::RangeInclusive<u32> = 10_100..=10_200;

/// One member of a member list: `{"Member_Account": "…"}`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct GroupMember {
    /// `Member_Account`: the member's UserID.
    #[serde(rename = "Member_Account")]
    pub member_account: String,
}

/// One custom field of a group or a topic: `{"Key": "…", "Value": "…"}`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct UserDefinedData {
    /// `Key`: the custom field's name.
    #[serde(rename = "Key")]
    pub key: String,
    /// `Value`: its value.
    #[serde(rename = "Value")]
    pub value: String,
}

/// `Group.CallbackBeforeCreateGroup`: a group is about to be created; the reply decides (allow,
/// or refuse: the creator sees error 10016, or the page's own code in `[10100, 10200]`).
///
/// Reply: [`Verdict<GroupBeforeCreateGroup>`]: [`allow`](Verdict::allow),
/// [`forbid`](Verdict::forbid). The page's response table has only `ActionStatus`, `ErrorCode`
/// and `ErrorInfo`: no member of the reply changes the group being created.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct GroupBeforeCreateGroup {
    /// `Operator_Account`: the UserID of who asks to create the group.
    #[serde(rename = "Operator_Account")]
    pub operator_account: String,
    /// `Owner_Account`: the UserID of the group's owner-to-be.
    #[serde(rename = "Owner_Account")]
    pub owner_account: String,
    /// `Type`: the group's type (`Public`, `Private`, `ChatRoom`, `AVChatRoom`, `Community`).
    #[serde(rename = "Type")]
    pub group_type: String,
    /// `Name`: the group's name.
    #[serde(rename = "Name")]
    pub name: String,
    /// `CreateGroupNum`: how many groups of this type the user has already created.
    #[serde(rename = "CreateGroupNum", deserialize_with = "crate::lenient::int")]
    pub create_group_num: u64,
    /// `MemberList`: the initial members.
    #[serde(rename = "MemberList")]
    pub member_list: Vec<GroupMember>,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

impl Callback for GroupBeforeCreateGroup {
    const COMMAND: &'static str = "Group.CallbackBeforeCreateGroup";
    type Reply = Verdict<Self>;
    const CLIENT_CODES: std::ops::RangeInclusive<u32> = GROUP_CLIENT_CODES;
}

/// `Group.CallbackAfterCreateGroup`: a group was created. Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct GroupAfterCreateGroup {
    /// `GroupId`: the new group's ID (the page's table writes `groupID`, its sample and the
    /// other languages' tables `GroupId`).
    #[serde(rename = "GroupId")]
    pub group_id: String,
    /// `Operator_Account`: the UserID of who created the group.
    #[serde(rename = "Operator_Account")]
    pub operator_account: String,
    /// `Owner_Account`: the UserID of the group's owner.
    #[serde(rename = "Owner_Account")]
    pub owner_account: String,
    /// `Type`: the group's type, e.g. `Public`.
    #[serde(rename = "Type")]
    pub group_type: String,
    /// `Name`: the group's name.
    #[serde(rename = "Name")]
    pub name: String,
    /// `MemberList`: the initial members.
    #[serde(rename = "MemberList")]
    pub member_list: Vec<GroupMember>,
    /// `UserDefinedDataList`: the custom fields set at creation (off unless enabled in the
    /// console; empty when absent).
    #[serde(rename = "UserDefinedDataList")]
    pub user_defined_data_list: Vec<UserDefinedData>,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

impl Callback for GroupAfterCreateGroup {
    const COMMAND: &'static str = "Group.CallbackAfterCreateGroup";
    type Reply = Ack;
}

/// `Group.CallbackBeforeApplyJoinGroup`: a user asks to join a group; the reply decides
/// whether the request goes on (a group that needs approval still needs it after an allow).
///
/// Reply: [`Verdict<GroupBeforeApplyJoinGroup>`]: [`allow`](Verdict::allow),
/// [`forbid`](Verdict::forbid) (the user sees error 10016).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct GroupBeforeApplyJoinGroup {
    /// `GroupId`: the group's ID.
    #[serde(rename = "GroupId")]
    pub group_id: String,
    /// `Type`: the group's type, e.g. `Public`.
    #[serde(rename = "Type")]
    pub group_type: String,
    /// `Requestor_Account`: the UserID of who asks to join.
    #[serde(rename = "Requestor_Account")]
    pub requestor_account: String,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

impl Callback for GroupBeforeApplyJoinGroup {
    const COMMAND: &'static str = "Group.CallbackBeforeApplyJoinGroup";
    type Reply = Verdict<Self>;
    const CLIENT_CODES: std::ops::RangeInclusive<u32> = GROUP_CLIENT_CODES;
}

/// `Group.CallbackBeforeInviteJoinGroup`: users are about to be added to a group; the reply
/// decides, for all of them or some.
///
/// Reply: [`Verdict<GroupBeforeInviteJoinGroup>`]: [`allow`](Verdict::allow),
/// [`forbid`](Verdict::forbid), and
/// [`allow_with_refused_members`](Verdict::allow_with_refused_members) (all but the listed
/// users are added).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct GroupBeforeInviteJoinGroup {
    /// `GroupId`: the group's ID.
    #[serde(rename = "GroupId")]
    pub group_id: String,
    /// `Type`: the group's type, e.g. `Public`.
    #[serde(rename = "Type")]
    pub group_type: String,
    /// `Operator_Account`: the UserID of who adds them.
    #[serde(rename = "Operator_Account")]
    pub operator_account: String,
    /// `DestinationMembers`: the users to be added.
    #[serde(rename = "DestinationMembers")]
    pub destination_members: Vec<GroupMember>,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

impl Callback for GroupBeforeInviteJoinGroup {
    const COMMAND: &'static str = "Group.CallbackBeforeInviteJoinGroup";
    type Reply = Verdict<Self>;
    const CLIENT_CODES: std::ops::RangeInclusive<u32> = GROUP_CLIENT_CODES;
}

impl Verdict<GroupBeforeInviteJoinGroup> {
    /// Allow, except for the users listed (`RefusedMembers_Account`: their UserIDs), who are not
    /// added to the group.
    pub fn allow_with_refused_members<I>(refused: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        let refused: Vec<String> = refused.into_iter().map(Into::into).collect();
        Self::allow().with_field("RefusedMembers_Account", refused)
    }
}

/// `Group.CallbackAfterNewMemberJoin`: users joined a group. Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct GroupAfterNewMemberJoin {
    /// `GroupId`: the group's ID.
    #[serde(rename = "GroupId")]
    pub group_id: String,
    /// `Type`: the group's type, e.g. `Public`.
    #[serde(rename = "Type")]
    pub group_type: String,
    /// `JoinType`: how they joined: `Apply` (on request) or `Invited`.
    #[serde(rename = "JoinType")]
    pub join_type: String,
    /// `Operator_Account`: the UserID of who made the request.
    #[serde(rename = "Operator_Account")]
    pub operator_account: String,
    /// `NewMemberList`: the new members.
    #[serde(rename = "NewMemberList")]
    pub new_member_list: Vec<GroupMember>,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

impl Callback for GroupAfterNewMemberJoin {
    const COMMAND: &'static str = "Group.CallbackAfterNewMemberJoin";
    type Reply = Ack;
}

/// `Group.CallbackAfterMemberExit`: members left a group or were removed. Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct GroupAfterMemberExit {
    /// `GroupId`: the group's ID.
    #[serde(rename = "GroupId")]
    pub group_id: String,
    /// `Type`: the group's type, e.g. `Public`.
    #[serde(rename = "Type")]
    pub group_type: String,
    /// `ExitType`: `Kicked` (removed) or `Quit` (left).
    #[serde(rename = "ExitType")]
    pub exit_type: String,
    /// `Operator_Account`: the UserID of who made them leave (or who left).
    #[serde(rename = "Operator_Account")]
    pub operator_account: String,
    /// `ExitMemberList`: the members who left.
    #[serde(rename = "ExitMemberList")]
    pub exit_member_list: Vec<GroupMember>,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

impl Callback for GroupAfterMemberExit {
    const COMMAND: &'static str = "Group.CallbackAfterMemberExit";
    type Reply = Ack;
}

/// `Group.CallbackBeforeSendMsg`: a group message is about to be sent; the reply decides
/// (allow, allow rewritten, forbid, discard). The moderation callback of groups.
///
/// Reply: [`Verdict<GroupBeforeSendMsg>`]: [`allow`](Verdict::allow),
/// [`allow_with_msg_body`](Verdict::allow_with_msg_body) /
/// [`allow_with_cloud_custom_data`](Verdict::allow_with_cloud_custom_data) /
/// [`allow_with`](Verdict::allow_with) (the message is delivered as the reply writes it),
/// [`forbid`](Verdict::forbid) (the sender sees 10016), [`discard`](Verdict::discard).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct GroupBeforeSendMsg {
    /// `GroupId`: the group's ID.
    #[serde(rename = "GroupId")]
    pub group_id: String,
    /// `Type`: the group's type, e.g. `Public`.
    #[serde(rename = "Type")]
    pub group_type: String,
    /// `From_Account`: the sender's UserID.
    #[serde(rename = "From_Account")]
    pub from_account: String,
    /// `Operator_Account`: the UserID of who made the request (tells an admin's send apart).
    #[serde(rename = "Operator_Account")]
    pub operator_account: String,
    /// `Random`: the request's random number (32 bits).
    #[serde(rename = "Random", deserialize_with = "crate::lenient::int")]
    pub random: u64,
    /// `OnlineOnlyFlag`: 1 for an online-only message, else 0 (always 0 in audio-video groups).
    #[serde(rename = "OnlineOnlyFlag", deserialize_with = "crate::lenient::int")]
    pub online_only_flag: u32,
    /// `MsgBody`: the message's elements.
    #[serde(rename = "MsgBody")]
    pub msg_body: Vec<MsgElement>,
    /// `CloudCustomData`: the message's custom data (`None` when absent).
    #[serde(rename = "CloudCustomData")]
    pub cloud_custom_data: Option<String>,
    /// `TopicId`: the topic the message is sent in (topic-enabled communities only; `None` when
    /// absent).
    #[serde(rename = "TopicId")]
    pub topic_id: Option<String>,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

impl Callback for GroupBeforeSendMsg {
    const COMMAND: &'static str = "Group.CallbackBeforeSendMsg";
    type Reply = Verdict<Self>;
    const CLIENT_CODES: std::ops::RangeInclusive<u32> = GROUP_CLIENT_CODES;
}

impl crate::reply::RewritesMessage for GroupBeforeSendMsg {}
impl crate::reply::sealed::Sealed for GroupBeforeSendMsg {}

/// `Group.CallbackAfterSendMsg`: a group message was sent. Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct GroupAfterSendMsg {
    /// `GroupId`: the group's ID.
    #[serde(rename = "GroupId")]
    pub group_id: String,
    /// `Type`: the group's type, e.g. `Public`.
    #[serde(rename = "Type")]
    pub group_type: String,
    /// `From_Account`: the sender's UserID.
    #[serde(rename = "From_Account")]
    pub from_account: String,
    /// `Operator_Account`: the UserID of who made the request.
    #[serde(rename = "Operator_Account")]
    pub operator_account: String,
    /// `Random`: the request's random number (32 bits).
    #[serde(rename = "Random", deserialize_with = "crate::lenient::int")]
    pub random: u64,
    /// `MsgSeq`: the message's sequence number in the group (messages are ordered by it).
    #[serde(rename = "MsgSeq", deserialize_with = "crate::lenient::int")]
    pub msg_seq: u64,
    /// `MsgTime`: when it was sent, Unix seconds (server time).
    #[serde(rename = "MsgTime", deserialize_with = "crate::lenient::int")]
    pub msg_time: u64,
    /// `OnlineOnlyFlag`: 1 for an online-only message, else 0 (always 0 in audio-video groups).
    #[serde(rename = "OnlineOnlyFlag", deserialize_with = "crate::lenient::int")]
    pub online_only_flag: u32,
    /// `MsgBody`: the message's elements (as delivered).
    #[serde(rename = "MsgBody")]
    pub msg_body: Vec<MsgElement>,
    /// `CloudCustomData`: the message's custom data (`None` when absent).
    #[serde(rename = "CloudCustomData")]
    pub cloud_custom_data: Option<String>,
    /// `TopicId`: the topic the message was sent in (topic-enabled communities only; `None`
    /// when absent).
    #[serde(rename = "TopicId")]
    pub topic_id: Option<String>,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

impl Callback for GroupAfterSendMsg {
    const COMMAND: &'static str = "Group.CallbackAfterSendMsg";
    type Reply = Ack;
}

/// `Group.CallbackAfterGroupFull`: a group reached its member limit. Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct GroupAfterGroupFull {
    /// `GroupId`: the full group's ID.
    #[serde(rename = "GroupId")]
    pub group_id: String,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

impl Callback for GroupAfterGroupFull {
    const COMMAND: &'static str = "Group.CallbackAfterGroupFull";
    type Reply = Ack;
}

/// `Group.CallbackAfterGroupDestroyed`: a group was disbanded. Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct GroupAfterGroupDestroyed {
    /// `GroupId`: the disbanded group's ID.
    #[serde(rename = "GroupId")]
    pub group_id: String,
    /// `Type`: the group's type, e.g. `Public`.
    #[serde(rename = "Type")]
    pub group_type: String,
    /// `Owner_Account`: the UserID of the group's owner.
    #[serde(rename = "Owner_Account")]
    pub owner_account: String,
    /// `Name`: the group's name (in the page's sample, not its table).
    #[serde(rename = "Name")]
    pub name: String,
    /// `MemberList`: the group's members (not sent for communities: empty then).
    #[serde(rename = "MemberList")]
    pub member_list: Vec<GroupMember>,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

impl Callback for GroupAfterGroupDestroyed {
    const COMMAND: &'static str = "Group.CallbackAfterGroupDestroyed";
    type Reply = Ack;
}

/// `Group.CallbackAfterGroupInfoChanged`: a group's profile (name, introduction, notice,
/// photo, custom fields) was changed; only the changed fields are sent. Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct GroupAfterGroupInfoChanged {
    /// `GroupId`: the group's ID.
    #[serde(rename = "GroupId")]
    pub group_id: String,
    /// `Type`: the group's type, e.g. `Public`.
    #[serde(rename = "Type")]
    pub group_type: String,
    /// `Operator_Account`: the UserID of who changed it.
    #[serde(rename = "Operator_Account")]
    pub operator_account: String,
    /// `Name`: the new name (`None` when unchanged).
    #[serde(rename = "Name")]
    pub name: Option<String>,
    /// `Introduction`: the new introduction (`None` when unchanged).
    #[serde(rename = "Introduction")]
    pub introduction: Option<String>,
    /// `Notification`: the new notice (`None` when unchanged).
    #[serde(rename = "Notification")]
    pub notification: Option<String>,
    /// `FaceUrl`: the new profile photo's URL (`None` when unchanged).
    #[serde(rename = "FaceUrl")]
    pub face_url: Option<String>,
    /// `UserDefinedDataList`: the changed custom fields (empty when none changed).
    #[serde(rename = "UserDefinedDataList")]
    pub user_defined_data_list: Vec<UserDefinedData>,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

impl Callback for GroupAfterGroupInfoChanged {
    const COMMAND: &'static str = "Group.CallbackAfterGroupInfoChanged";
    type Reply = Ack;
}

/// `Group.CallbackOnMemberStateChange`: members of an audio-video group went offline or came
/// back online. Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct GroupOnMemberStateChange {
    /// `GroupId`: the group's ID.
    #[serde(rename = "GroupId")]
    pub group_id: String,
    /// `EventType`: `Offline` (disconnected) or `Online` (reconnected).
    #[serde(rename = "EventType")]
    pub event_type: String,
    /// `EventCause`: `HeartbeatInterrupt`, `HeartbeatRecover`, `Join` (first entry into the
    /// group) or `Quit` (last exit) (`None` when absent).
    #[serde(rename = "EventCause")]
    pub event_cause: Option<String>,
    /// `MemberList`: the members concerned.
    #[serde(rename = "MemberList")]
    pub member_list: Vec<GroupMember>,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

impl Callback for GroupOnMemberStateChange {
    const COMMAND: &'static str = "Group.CallbackOnMemberStateChange";
    type Reply = Ack;
}

/// `Group.CallbackSendMsgException`: sending a group message failed. Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct GroupSendMsgException {
    /// `GroupId`: the group's ID.
    #[serde(rename = "GroupId")]
    pub group_id: String,
    /// `Type`: the group's type, e.g. `Public`.
    #[serde(rename = "Type")]
    pub group_type: String,
    /// `From_Account`: the sender's UserID.
    #[serde(rename = "From_Account")]
    pub from_account: String,
    /// `Operator_Account`: the UserID of who made the request.
    #[serde(rename = "Operator_Account")]
    pub operator_account: String,
    /// `Random`: the request's random number (32 bits).
    #[serde(rename = "Random", deserialize_with = "crate::lenient::int")]
    pub random: u64,
    /// `OnlineOnlyFlag`: 1 for an online-only message, else 0 (always 0 in audio-video groups).
    #[serde(rename = "OnlineOnlyFlag", deserialize_with = "crate::lenient::int")]
    pub online_only_flag: u32,
    /// `MsgBody`: the message's elements.
    #[serde(rename = "MsgBody")]
    pub msg_body: Vec<MsgElement>,
    /// `CloudCustomData`: the message's custom data (`None` when absent).
    #[serde(rename = "CloudCustomData")]
    pub cloud_custom_data: Option<String>,
    /// `ErrorCode`: the failure's error code (e.g. 10023, too many messages).
    #[serde(rename = "ErrorCode", deserialize_with = "crate::lenient::int")]
    pub error_code: i64,
    /// `ErrorInfo`: the failure's details.
    #[serde(rename = "ErrorInfo")]
    pub error_info: String,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

impl Callback for GroupSendMsgException {
    const COMMAND: &'static str = "Group.CallbackSendMsgException";
    type Reply = Ack;
}

/// `Group.CallbackBeforeCreateTopic`: a topic is about to be created in a community; the reply
/// decides.
///
/// Reply: [`Verdict<GroupBeforeCreateTopic>`]: [`allow`](Verdict::allow),
/// [`forbid`](Verdict::forbid) (the creator sees 10016).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct GroupBeforeCreateTopic {
    /// `Operator_Account`: the UserID of who asks to create the topic.
    #[serde(rename = "Operator_Account")]
    pub operator_account: String,
    /// `Type`: the group's type (`Community`).
    #[serde(rename = "Type")]
    pub group_type: String,
    /// `Name`: the topic's name.
    #[serde(rename = "Name")]
    pub name: String,
}

impl Callback for GroupBeforeCreateTopic {
    const COMMAND: &'static str = "Group.CallbackBeforeCreateTopic";
    type Reply = Verdict<Self>;
    const CLIENT_CODES: std::ops::RangeInclusive<u32> = GROUP_CLIENT_CODES;
}

/// `Group.CallbackAfterCreateTopic`: a topic was created in a community. Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct GroupAfterCreateTopic {
    /// `GroupId`: the community's group ID.
    #[serde(rename = "GroupId")]
    pub group_id: String,
    /// `TopicId`: the new topic's ID.
    #[serde(rename = "TopicId")]
    pub topic_id: String,
    /// `Operator_Account`: the UserID of who created it.
    #[serde(rename = "Operator_Account")]
    pub operator_account: String,
    /// `Owner_Account`: the UserID of the group's owner.
    #[serde(rename = "Owner_Account")]
    pub owner_account: String,
    /// `Type`: the group's type (`Community`).
    #[serde(rename = "Type")]
    pub group_type: String,
    /// `Name`: the topic's name.
    #[serde(rename = "Name")]
    pub name: String,
    /// `UserDefinedDataList`: the custom fields set at creation (off unless enabled; empty when
    /// absent).
    #[serde(rename = "UserDefinedDataList")]
    pub user_defined_data_list: Vec<UserDefinedData>,
}

impl Callback for GroupAfterCreateTopic {
    const COMMAND: &'static str = "Group.CallbackAfterCreateTopic";
    type Reply = Ack;
}

/// `Group.CallbackAfterTopicDestroyed`: topics of a community were deleted. Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct GroupAfterTopicDestroyed {
    /// `GroupId`: the community's group ID.
    #[serde(rename = "GroupId")]
    pub group_id: String,
    /// `Type`: the group's type (`Community`).
    #[serde(rename = "Type")]
    pub group_type: String,
    /// `TopicIdList`: the deleted topics' IDs (the table says String, the sample an array of
    /// strings).
    #[serde(rename = "TopicIdList")]
    pub topic_id_list: Vec<String>,
}

impl Callback for GroupAfterTopicDestroyed {
    const COMMAND: &'static str = "Group.CallbackAfterTopicDestroyed";
    type Reply = Ack;
}

/// `Group.CallbackAfterTopicInfoChanged`: a topic's profile was changed; only the changed
/// fields are sent. Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct GroupAfterTopicInfoChanged {
    /// `GroupId`: the community's group ID.
    #[serde(rename = "GroupId")]
    pub group_id: String,
    /// `Type`: the group's type (`Community`).
    #[serde(rename = "Type")]
    pub group_type: String,
    /// `Operator_Account`: the UserID of who changed it.
    #[serde(rename = "Operator_Account")]
    pub operator_account: String,
    /// `Name`: the topic's new name (`None` when unchanged).
    #[serde(rename = "Name")]
    pub name: Option<String>,
    /// `Introduction`: the topic's new introduction (`None` when unchanged).
    #[serde(rename = "Introduction")]
    pub introduction: Option<String>,
    /// `Notification`: the topic's new notice (`None` when unchanged).
    #[serde(rename = "Notification")]
    pub notification: Option<String>,
    /// `FaceUrl`: the topic's new profile photo's URL (`None` when unchanged).
    #[serde(rename = "FaceUrl")]
    pub face_url: Option<String>,
}

impl Callback for GroupAfterTopicInfoChanged {
    const COMMAND: &'static str = "Group.CallbackAfterTopicInfoChanged";
    type Reply = Ack;
}

/// The read receipt of one group message.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct GroupMsgReceipt {
    /// `MsgSeq`: the message's sequence number.
    #[serde(rename = "MsgSeq", deserialize_with = "crate::lenient::int")]
    pub msg_seq: u64,
    /// `ReadNum`: how many members have read it.
    #[serde(rename = "ReadNum", deserialize_with = "crate::lenient::int")]
    pub read_num: u64,
    /// `UnreadNum`: how many have not.
    #[serde(rename = "UnreadNum", deserialize_with = "crate::lenient::int")]
    pub unread_num: u64,
    /// `ReadReceiptMembers`: the members who read it.
    #[serde(rename = "ReadReceiptMembers")]
    pub read_receipt_members: Vec<GroupMember>,
}

/// `Group.CallbackAfterReadReceipt`: members sent read receipts for group messages (not for
/// communities). Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct GroupAfterReadReceipt {
    /// `GroupId`: the group's ID.
    #[serde(rename = "GroupId")]
    pub group_id: String,
    /// `Type`: the group's type, e.g. `Public`.
    #[serde(rename = "Type")]
    pub group_type: String,
    /// `GroupMsgReceiptList`: the receipts, one per message.
    #[serde(rename = "GroupMsgReceiptList")]
    pub group_msg_receipt_list: Vec<GroupMsgReceipt>,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

impl Callback for GroupAfterReadReceipt {
    const COMMAND: &'static str = "Group.CallbackAfterReadReceipt";
    type Reply = Ack;
}

/// One group attribute: `{"key": "…", "value": "…"}` (lower case, as the page writes them).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct GroupAttr {
    /// `key`: the attribute's name.
    #[serde(rename = "key")]
    pub key: String,
    /// `value`: its value.
    #[serde(rename = "value")]
    pub value: String,
}

/// `Group.CallbackAfterGroupAttrChanged`: a group's custom attributes were set, modified,
/// cleared or deleted. Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct GroupAfterGroupAttrChanged {
    /// `GroupId`: the group's ID.
    #[serde(rename = "GroupId")]
    pub group_id: String,
    /// `Type`: the group's type, e.g. `Public`.
    #[serde(rename = "Type")]
    pub group_type: String,
    /// `Operator_Account`: the UserID of who changed them.
    #[serde(rename = "Operator_Account")]
    pub operator_account: String,
    /// `OptionType`: `set` (reset), `modify`, `clear` or `delete` (in the page's sample, not
    /// its table).
    #[serde(rename = "OptionType")]
    pub option_type: String,
    /// `GroupAttr`: the attributes concerned.
    #[serde(rename = "GroupAttr")]
    pub group_attr: Vec<GroupAttr>,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

impl Callback for GroupAfterGroupAttrChanged {
    const COMMAND: &'static str = "Group.CallbackAfterGroupAttrChanged";
    type Reply = Ack;
}

/// `Group.CallbackAfterMemberFieldChanged`: a member's role or group name card was changed.
/// Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct GroupAfterMemberFieldChanged {
    /// `GroupId`: the group's ID.
    #[serde(rename = "GroupId")]
    pub group_id: String,
    /// `Type`: the group's type, e.g. `Public`.
    #[serde(rename = "Type")]
    pub group_type: String,
    /// `Operator_Account`: the UserID of who changed it.
    #[serde(rename = "Operator_Account")]
    pub operator_account: String,
    /// `Member_Account`: the UserID of the member changed.
    #[serde(rename = "Member_Account")]
    pub member_account: String,
    /// `Role`: the member's new role, `Admin` or `Member` (`None` when unchanged).
    #[serde(rename = "Role")]
    pub role: Option<String>,
    /// `NameCard`: the member's new group name card (`None` when unchanged).
    #[serde(rename = "NameCard")]
    pub name_card: Option<String>,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

impl Callback for GroupAfterMemberFieldChanged {
    const COMMAND: &'static str = "Group.CallbackAfterMemberFieldChanged";
    type Reply = Ack;
}

/// `Group.CallbackAfterChangeGroupOwner`: a group's ownership was transferred. Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct GroupAfterChangeGroupOwner {
    /// `GroupId`: the group's ID.
    #[serde(rename = "GroupId")]
    pub group_id: String,
    /// `Type`: the group's type, e.g. `Public`.
    #[serde(rename = "Type")]
    pub group_type: String,
    /// `Operator_Account`: the UserID of who transferred it.
    #[serde(rename = "Operator_Account")]
    pub operator_account: String,
    /// `OldOwner_Account`: the former owner's UserID.
    #[serde(rename = "OldOwner_Account")]
    pub old_owner_account: String,
    /// `NewOwner_Account`: the new owner's UserID.
    #[serde(rename = "NewOwner_Account")]
    pub new_owner_account: String,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

impl Callback for GroupAfterChangeGroupOwner {
    const COMMAND: &'static str = "Group.CallbackAfterChangeGroupOwner";
    type Reply = Ack;
}

/// `Group.CallbackOnDailyGroupQuotaAlarm`: the day's net new groups (created minus disbanded)
/// passed 70% of the daily limit. Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct GroupOnDailyGroupQuotaAlarm {
    /// `QuotaUsed`: the day's net new groups so far.
    #[serde(rename = "QuotaUsed", deserialize_with = "crate::lenient::int")]
    pub quota_used: u64,
    /// `Quota`: the daily limit.
    #[serde(rename = "Quota", deserialize_with = "crate::lenient::int")]
    pub quota: u64,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

impl Callback for GroupOnDailyGroupQuotaAlarm {
    const COMMAND: &'static str = "Group.CallbackOnDailyGroupQuotaAlarm";
    type Reply = Ack;
}

/// One recalled message: `{"MsgSeq": …}`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct RecalledMsg {
    /// `MsgSeq`: the recalled message's sequence number.
    #[serde(rename = "MsgSeq", deserialize_with = "crate::lenient::int")]
    pub msg_seq: u64,
}

/// `Group.CallbackAfterRecallMsg`: group messages were recalled. Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct GroupAfterRecallMsg {
    /// `Operator_Account`: the UserID of who recalled them.
    #[serde(rename = "Operator_Account")]
    pub operator_account: String,
    /// `Type`: the group's type, e.g. `Public`.
    #[serde(rename = "Type")]
    pub group_type: String,
    /// `GroupId`: the group's ID.
    #[serde(rename = "GroupId")]
    pub group_id: String,
    /// `MsgSeqList`: the recalled messages.
    #[serde(rename = "MsgSeqList")]
    pub msg_seq_list: Vec<RecalledMsg>,
    /// `TopicId`: the topic they were recalled in (topic-enabled communities only; `None` when
    /// absent).
    #[serde(rename = "TopicId")]
    pub topic_id: Option<String>,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

impl Callback for GroupAfterRecallMsg {
    const COMMAND: &'static str = "Group.CallbackAfterRecallMsg";
    type Reply = Ack;
}

/// One key-value pair of a message's extension.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct MsgExtension {
    /// `Key`: the pair's key.
    #[serde(rename = "Key")]
    pub key: String,
    /// `Value`: its value (empty when deleted).
    #[serde(rename = "Value")]
    pub value: String,
    /// `Seq`: the pair's version.
    #[serde(rename = "Seq", deserialize_with = "crate::lenient::int")]
    pub seq: u64,
}

/// `Group.CallbackAfterGroupMsgExtension`: a group message's extension was set, deleted or
/// cleared. Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct GroupAfterGroupMsgExtension {
    /// `GroupId`: the group's ID.
    #[serde(rename = "GroupId")]
    pub group_id: String,
    /// `MsgSeq`: the message's sequence number.
    #[serde(rename = "MsgSeq", deserialize_with = "crate::lenient::int")]
    pub msg_seq: u64,
    /// `OperateType`: 1 set pairs, 2 delete pairs, 3 clear all.
    #[serde(rename = "OperateType", deserialize_with = "crate::lenient::int")]
    pub operate_type: u32,
    /// `ExtensionList`: the pairs concerned (empty for a clear).
    #[serde(rename = "ExtensionList")]
    pub extension_list: Vec<MsgExtension>,
    /// `Seq`: the message's extension version after the change.
    #[serde(rename = "Seq", deserialize_with = "crate::lenient::int")]
    pub seq: u64,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

impl Callback for GroupAfterGroupMsgExtension {
    const COMMAND: &'static str = "Group.CallbackAfterGroupMsgExtension";
    type Reply = Ack;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{from_slice, CallbackReply};

    fn members(ids: &[&str]) -> Vec<GroupMember> {
        ids.iter()
            .map(|id| GroupMember {
                member_account: (*id).to_owned(),
            })
            .collect()
    }

    fn data(pairs: &[(&str, &str)]) -> Vec<UserDefinedData> {
        pairs
            .iter()
            .map(|(k, v)| UserDefinedData {
                key: (*k).to_owned(),
                value: (*v).to_owned(),
            })
            .collect()
    }

    fn s(text: &str) -> String {
        text.to_owned()
    }

    #[test]
    fn before_create_group_reads_the_documented_fields() {
        let body = br#"{"CallbackCommand":"Group.CallbackBeforeCreateGroup",
            "Operator_Account":"ops","Owner_Account":"olga","Type":"Work","Name":"Night shift",
            "CreateGroupNum":"7","MemberList":[{"Member_Account":"ivan"},{"Member_Account":"mia"}],
            "EventTime":"1700000001001","Later":{"x":1}}"#;
        let e: GroupBeforeCreateGroup = from_slice(body).unwrap();
        assert_eq!(
            e,
            GroupBeforeCreateGroup {
                operator_account: s("ops"),
                owner_account: s("olga"),
                group_type: s("Work"),
                name: s("Night shift"),
                create_group_num: 7,
                member_list: members(&["ivan", "mia"]),
                event_time: Some(1_700_000_001_001),
            }
        );
        type V = Verdict<GroupBeforeCreateGroup>;
        assert_eq!(
            V::forbid().to_json(),
            r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":1}"#
        );
    }

    #[test]
    fn after_create_group_reads_the_documented_fields() {
        let body = br#"{"CallbackCommand":"Group.CallbackAfterCreateGroup","GroupId":"@TGS#abc",
            "Operator_Account":"root","Owner_Account":"olga","Type":"Public","Name":"Runners",
            "MemberList":[{"Member_Account":"ivan"}],
            "UserDefinedDataList":[{"Key":"city","Value":"Lyon"}],
            "EventTime":1700000001002,"Unknown":true}"#;
        let e: GroupAfterCreateGroup = from_slice(body).unwrap();
        assert_eq!(
            e,
            GroupAfterCreateGroup {
                group_id: s("@TGS#abc"),
                operator_account: s("root"),
                owner_account: s("olga"),
                group_type: s("Public"),
                name: s("Runners"),
                member_list: members(&["ivan"]),
                user_defined_data_list: data(&[("city", "Lyon")]),
                event_time: Some(1_700_000_001_002),
            }
        );
    }

    #[test]
    fn before_apply_join_group_reads_the_documented_fields() {
        let body = br#"{"CallbackCommand":"Group.CallbackBeforeApplyJoinGroup","GroupId":"g1",
            "Type":"Private","Requestor_Account":"nora","EventTime":"1700000001003","Extra":0}"#;
        let e: GroupBeforeApplyJoinGroup = from_slice(body).unwrap();
        assert_eq!(
            e,
            GroupBeforeApplyJoinGroup {
                group_id: s("g1"),
                group_type: s("Private"),
                requestor_account: s("nora"),
                event_time: Some(1_700_000_001_003),
            }
        );
    }

    #[test]
    fn before_invite_join_group_reads_the_fields_and_refuses_some() {
        let body = br#"{"CallbackCommand":"Group.CallbackBeforeInviteJoinGroup","GroupId":"g2",
            "Type":"Public","Operator_Account":"olga",
            "DestinationMembers":[{"Member_Account":"ivan"},{"Member_Account":"spam01"}],
            "EventTime":"1700000001004","New":"field"}"#;
        let e: GroupBeforeInviteJoinGroup = from_slice(body).unwrap();
        assert_eq!(
            e,
            GroupBeforeInviteJoinGroup {
                group_id: s("g2"),
                group_type: s("Public"),
                operator_account: s("olga"),
                destination_members: members(&["ivan", "spam01"]),
                event_time: Some(1_700_000_001_004),
            }
        );
        type V = Verdict<GroupBeforeInviteJoinGroup>;
        assert_eq!(
            V::allow_with_refused_members(["spam01", "spam02"]).to_json(),
            r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0,"RefusedMembers_Account":["spam01","spam02"]}"#
        );
        assert_eq!(
            V::allow_with_refused_members(Vec::<String>::new()).to_json(),
            r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0,"RefusedMembers_Account":[]}"#
        );
    }

    #[test]
    fn after_new_member_join_reads_the_documented_fields() {
        let body = br#"{"CallbackCommand":"Group.CallbackAfterNewMemberJoin","GroupId":"g3",
            "Type":"Meeting","JoinType":"Invited","Operator_Account":"olga",
            "NewMemberList":[{"Member_Account":"ivan"},{"Member_Account":"mia"}],
            "EventTime":"1700000001005","Z":[]}"#;
        let e: GroupAfterNewMemberJoin = from_slice(body).unwrap();
        assert_eq!(
            e,
            GroupAfterNewMemberJoin {
                group_id: s("g3"),
                group_type: s("Meeting"),
                join_type: s("Invited"),
                operator_account: s("olga"),
                new_member_list: members(&["ivan", "mia"]),
                event_time: Some(1_700_000_001_005),
            }
        );
    }

    #[test]
    fn after_member_exit_reads_the_documented_fields() {
        let body = br#"{"CallbackCommand":"Group.CallbackAfterMemberExit","GroupId":"g4",
            "Type":"Public","ExitType":"Kicked","Operator_Account":"olga",
            "ExitMemberList":[{"Member_Account":"spam01"}],"EventTime":1700000001006,"Q":null}"#;
        let e: GroupAfterMemberExit = from_slice(body).unwrap();
        assert_eq!(
            e,
            GroupAfterMemberExit {
                group_id: s("g4"),
                group_type: s("Public"),
                exit_type: s("Kicked"),
                operator_account: s("olga"),
                exit_member_list: members(&["spam01"]),
                event_time: Some(1_700_000_001_006),
            }
        );
    }

    #[test]
    fn before_send_msg_reads_the_fields_and_rewrites() {
        let body = br#"{"CallbackCommand":"Group.CallbackBeforeSendMsg","GroupId":"@TGS#_c1",
            "Type":"Community","From_Account":"ivan","Operator_Account":"ivan",
            "Random":"4242","OnlineOnlyFlag":0,
            "MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"meet at 8"}}],
            "CloudCustomData":"{\"lvl\":3}","TopicId":"@TGS#_c1@TOPIC#_news",
            "EventTime":"1700000001007","Fresh":1}"#;
        let e: GroupBeforeSendMsg = from_slice(body).unwrap();
        assert_eq!(
            e,
            GroupBeforeSendMsg {
                group_id: s("@TGS#_c1"),
                group_type: s("Community"),
                from_account: s("ivan"),
                operator_account: s("ivan"),
                random: 4242,
                online_only_flag: 0,
                msg_body: vec![MsgElement::text("meet at 8")],
                cloud_custom_data: Some(s("{\"lvl\":3}")),
                topic_id: Some(s("@TGS#_c1@TOPIC#_news")),
                event_time: Some(1_700_000_001_007),
            }
        );
        type V = Verdict<GroupBeforeSendMsg>;
        assert_eq!(
            V::allow_with(vec![MsgElement::text("meet at *")], "{}").to_json(),
            r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"meet at *"}}],"CloudCustomData":"{}"}"#
        );
        assert_eq!(
            V::discard().to_json(),
            r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":2}"#
        );
    }

    #[test]
    fn after_send_msg_reads_the_documented_fields() {
        let body = br#"{"CallbackCommand":"Group.CallbackAfterSendMsg","GroupId":"g5",
            "Type":"Public","From_Account":"mia","Operator_Account":"admin","Random":77,
            "MsgSeq":"901","MsgTime":1700000000,"OnlineOnlyFlag":1,
            "MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hi all"}}],
            "EventTime":"1700000001008","Nope":"x"}"#;
        let e: GroupAfterSendMsg = from_slice(body).unwrap();
        assert_eq!(
            e,
            GroupAfterSendMsg {
                group_id: s("g5"),
                group_type: s("Public"),
                from_account: s("mia"),
                operator_account: s("admin"),
                random: 77,
                msg_seq: 901,
                msg_time: 1_700_000_000,
                online_only_flag: 1,
                msg_body: vec![MsgElement::text("hi all")],
                cloud_custom_data: None,
                topic_id: None,
                event_time: Some(1_700_000_001_008),
            }
        );
    }

    #[test]
    fn after_group_full_reads_the_documented_fields() {
        let body = br#"{"CallbackCommand":"Group.CallbackAfterGroupFull","GroupId":"g6",
            "EventTime":"1700000001009","Capacity":2000}"#;
        let e: GroupAfterGroupFull = from_slice(body).unwrap();
        assert_eq!(
            e,
            GroupAfterGroupFull {
                group_id: s("g6"),
                event_time: Some(1_700_000_001_009),
            }
        );
    }

    #[test]
    fn after_group_destroyed_reads_the_documented_fields() {
        let body = br#"{"CallbackCommand":"Group.CallbackAfterGroupDestroyed","GroupId":"g7",
            "Type":"Private","Owner_Account":"olga","Name":"Old crew",
            "MemberList":[{"Member_Account":"olga"},{"Member_Account":"ivan"}],
            "EventTime":"1700000001010","Why":"owner"}"#;
        let e: GroupAfterGroupDestroyed = from_slice(body).unwrap();
        assert_eq!(
            e,
            GroupAfterGroupDestroyed {
                group_id: s("g7"),
                group_type: s("Private"),
                owner_account: s("olga"),
                name: s("Old crew"),
                member_list: members(&["olga", "ivan"]),
                event_time: Some(1_700_000_001_010),
            }
        );
    }

    #[test]
    fn after_group_info_changed_reads_the_changed_fields() {
        let body = br#"{"CallbackCommand":"Group.CallbackAfterGroupInfoChanged","GroupId":"g8",
            "Type":"Public","Operator_Account":"olga","Name":"Runners 2","Introduction":"Weekly",
            "Notification":"Sunday 9am","FaceUrl":"https://img.example/r.png",
            "UserDefinedDataList":[{"Key":"city","Value":"Nice"}],
            "EventTime":"1700000001011","Later":1}"#;
        let e: GroupAfterGroupInfoChanged = from_slice(body).unwrap();
        assert_eq!(
            e,
            GroupAfterGroupInfoChanged {
                group_id: s("g8"),
                group_type: s("Public"),
                operator_account: s("olga"),
                name: Some(s("Runners 2")),
                introduction: Some(s("Weekly")),
                notification: Some(s("Sunday 9am")),
                face_url: Some(s("https://img.example/r.png")),
                user_defined_data_list: data(&[("city", "Nice")]),
                event_time: Some(1_700_000_001_011),
            }
        );
        let only_notice: GroupAfterGroupInfoChanged = from_slice(
            br#"{"GroupId":"g8","Type":"Public","Operator_Account":"olga","Notification":"x"}"#,
        )
        .unwrap();
        assert_eq!(
            (only_notice.name, only_notice.notification.as_deref()),
            (None, Some("x"))
        );
    }

    #[test]
    fn on_member_state_change_reads_the_documented_fields() {
        let body = br#"{"CallbackCommand":"Group.CallbackOnMemberStateChange","GroupId":"@TGS#av",
            "EventType":"Online","EventCause":"HeartbeatRecover",
            "MemberList":[{"Member_Account":"mia"}],"EventTime":"1700000001012","More":{}}"#;
        let e: GroupOnMemberStateChange = from_slice(body).unwrap();
        assert_eq!(
            e,
            GroupOnMemberStateChange {
                group_id: s("@TGS#av"),
                event_type: s("Online"),
                event_cause: Some(s("HeartbeatRecover")),
                member_list: members(&["mia"]),
                event_time: Some(1_700_000_001_012),
            }
        );
    }

    #[test]
    fn send_msg_exception_reads_the_documented_fields() {
        let body = br#"{"CallbackCommand":"Group.CallbackSendMsgException","GroupId":"g9",
            "Type":"ChatRoom","From_Account":"ivan","Operator_Account":"ivan","Random":5,
            "OnlineOnlyFlag":"0","MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"flood"}}],
            "CloudCustomData":"cc","ErrorCode":10023,"ErrorInfo":"too many messages",
            "EventTime":"1700000001013","Other":2}"#;
        let e: GroupSendMsgException = from_slice(body).unwrap();
        assert_eq!(
            e,
            GroupSendMsgException {
                group_id: s("g9"),
                group_type: s("ChatRoom"),
                from_account: s("ivan"),
                operator_account: s("ivan"),
                random: 5,
                online_only_flag: 0,
                msg_body: vec![MsgElement::text("flood")],
                cloud_custom_data: Some(s("cc")),
                error_code: 10023,
                error_info: s("too many messages"),
                event_time: Some(1_700_000_001_013),
            }
        );
    }

    #[test]
    fn before_create_topic_reads_the_documented_fields() {
        let body = br#"{"CallbackCommand":"Group.CallbackBeforeCreateTopic",
            "Operator_Account":"olga","Type":"Community","Name":"Releases","GroupId":"ignored?"}"#;
        let e: GroupBeforeCreateTopic = from_slice(body).unwrap();
        assert_eq!(
            e,
            GroupBeforeCreateTopic {
                operator_account: s("olga"),
                group_type: s("Community"),
                name: s("Releases"),
            }
        );
    }

    #[test]
    fn after_create_topic_reads_the_documented_fields() {
        let body = br#"{"CallbackCommand":"Group.CallbackAfterCreateTopic","GroupId":"@TGS#_c2",
            "TopicId":"@TGS#_c2@TOPIC#_rel","Operator_Account":"olga","Owner_Account":"olga",
            "Type":"Community","Name":"Releases",
            "UserDefinedDataList":[{"Key":"pin","Value":"1"},{"Key":"tone","Value":"calm"}],
            "EventTime":"1700000001014"}"#;
        let e: GroupAfterCreateTopic = from_slice(body).unwrap();
        assert_eq!(
            e,
            GroupAfterCreateTopic {
                group_id: s("@TGS#_c2"),
                topic_id: s("@TGS#_c2@TOPIC#_rel"),
                operator_account: s("olga"),
                owner_account: s("olga"),
                group_type: s("Community"),
                name: s("Releases"),
                user_defined_data_list: data(&[("pin", "1"), ("tone", "calm")]),
            }
        );
    }

    #[test]
    fn after_topic_destroyed_reads_the_documented_fields() {
        let body = br#"{"CallbackCommand":"Group.CallbackAfterTopicDestroyed","GroupId":"@TGS#_c3",
            "Type":"Community","TopicIdList":["@TGS#_c3@TOPIC#_a","@TGS#_c3@TOPIC#_b"],"X":1}"#;
        let e: GroupAfterTopicDestroyed = from_slice(body).unwrap();
        assert_eq!(
            e,
            GroupAfterTopicDestroyed {
                group_id: s("@TGS#_c3"),
                group_type: s("Community"),
                topic_id_list: vec![s("@TGS#_c3@TOPIC#_a"), s("@TGS#_c3@TOPIC#_b")],
            }
        );
    }

    #[test]
    fn after_topic_info_changed_reads_the_documented_fields() {
        let body =
            br#"{"CallbackCommand":"Group.CallbackAfterTopicInfoChanged","GroupId":"@TGS#_c4",
            "Type":"Community","Operator_Account":"olga","Name":"Rel","Introduction":"Notes",
            "Notification":"v2 out","FaceUrl":"https://img.example/t.png","TopicId":"t?"}"#;
        let e: GroupAfterTopicInfoChanged = from_slice(body).unwrap();
        assert_eq!(
            e,
            GroupAfterTopicInfoChanged {
                group_id: s("@TGS#_c4"),
                group_type: s("Community"),
                operator_account: s("olga"),
                name: Some(s("Rel")),
                introduction: Some(s("Notes")),
                notification: Some(s("v2 out")),
                face_url: Some(s("https://img.example/t.png")),
            }
        );
    }

    #[test]
    fn after_read_receipt_reads_the_documented_fields() {
        let body = br#"{"CallbackCommand":"Group.CallbackAfterReadReceipt","GroupId":"g10",
            "Type":"Work","GroupMsgReceiptList":[
                {"MsgSeq":11,"ReadNum":"2","UnreadNum":3,
                 "ReadReceiptMembers":[{"Member_Account":"ivan"},{"Member_Account":"mia"}]},
                {"MsgSeq":"12","ReadNum":0,"UnreadNum":5,"ReadReceiptMembers":[]}],
            "EventTime":"1700000001015","Y":2}"#;
        let e: GroupAfterReadReceipt = from_slice(body).unwrap();
        assert_eq!(
            e,
            GroupAfterReadReceipt {
                group_id: s("g10"),
                group_type: s("Work"),
                group_msg_receipt_list: vec![
                    GroupMsgReceipt {
                        msg_seq: 11,
                        read_num: 2,
                        unread_num: 3,
                        read_receipt_members: members(&["ivan", "mia"]),
                    },
                    GroupMsgReceipt {
                        msg_seq: 12,
                        read_num: 0,
                        unread_num: 5,
                        read_receipt_members: vec![],
                    },
                ],
                event_time: Some(1_700_000_001_015),
            }
        );
    }

    #[test]
    fn after_group_attr_changed_reads_the_documented_fields() {
        let body = br#"{"CallbackCommand":"Group.CallbackAfterGroupAttrChanged","GroupId":"g11",
            "Type":"AVChatRoom","Operator_Account":"host","OptionType":"modify",
            "GroupAttr":[{"key":"seat1","value":"ivan"},{"key":"seat2","value":""}],
            "EventTime":"1700000001016","W":0}"#;
        let e: GroupAfterGroupAttrChanged = from_slice(body).unwrap();
        let attr = |k: &str, v: &str| GroupAttr {
            key: s(k),
            value: s(v),
        };
        assert_eq!(
            e,
            GroupAfterGroupAttrChanged {
                group_id: s("g11"),
                group_type: s("AVChatRoom"),
                operator_account: s("host"),
                option_type: s("modify"),
                group_attr: vec![attr("seat1", "ivan"), attr("seat2", "")],
                event_time: Some(1_700_000_001_016),
            }
        );
    }

    #[test]
    fn after_member_field_changed_reads_the_documented_fields() {
        let body = br#"{"CallbackCommand":"Group.CallbackAfterMemberFieldChanged","GroupId":"g12",
            "Type":"Public","Operator_Account":"olga","Member_Account":"ivan","Role":"Admin",
            "NameCard":"Coach Ivan","EventTime":"1700000001017","V":1}"#;
        let e: GroupAfterMemberFieldChanged = from_slice(body).unwrap();
        assert_eq!(
            e,
            GroupAfterMemberFieldChanged {
                group_id: s("g12"),
                group_type: s("Public"),
                operator_account: s("olga"),
                member_account: s("ivan"),
                role: Some(s("Admin")),
                name_card: Some(s("Coach Ivan")),
                event_time: Some(1_700_000_001_017),
            }
        );
    }

    #[test]
    fn after_change_group_owner_reads_the_documented_fields() {
        let body = br#"{"CallbackCommand":"Group.CallbackAfterChangeGroupOwner","GroupId":"g13",
            "Type":"Private","Operator_Account":"admin","OldOwner_Account":"olga",
            "NewOwner_Account":"mia","EventTime":"1700000001018","U":"u"}"#;
        let e: GroupAfterChangeGroupOwner = from_slice(body).unwrap();
        assert_eq!(
            e,
            GroupAfterChangeGroupOwner {
                group_id: s("g13"),
                group_type: s("Private"),
                operator_account: s("admin"),
                old_owner_account: s("olga"),
                new_owner_account: s("mia"),
                event_time: Some(1_700_000_001_018),
            }
        );
    }

    #[test]
    fn on_daily_group_quota_alarm_reads_the_documented_fields() {
        let body = br#"{"CallbackCommand":"Group.CallbackOnDailyGroupQuotaAlarm",
            "QuotaUsed":"7500","Quota":10000,"EventTime":"1700000001019","T":[1]}"#;
        let e: GroupOnDailyGroupQuotaAlarm = from_slice(body).unwrap();
        assert_eq!(
            e,
            GroupOnDailyGroupQuotaAlarm {
                quota_used: 7500,
                quota: 10_000,
                event_time: Some(1_700_000_001_019),
            }
        );
    }

    #[test]
    fn after_recall_msg_reads_the_documented_fields() {
        let body = br#"{"CallbackCommand":"Group.CallbackAfterRecallMsg","Operator_Account":"ivan",
            "Type":"Community","GroupId":"@TGS#_c5","MsgSeqList":[{"MsgSeq":31},{"MsgSeq":"32"}],
            "TopicId":"@TGS#_c5@TOPIC#_x","EventTime":"1700000001020","S":"s"}"#;
        let e: GroupAfterRecallMsg = from_slice(body).unwrap();
        assert_eq!(
            e,
            GroupAfterRecallMsg {
                operator_account: s("ivan"),
                group_type: s("Community"),
                group_id: s("@TGS#_c5"),
                msg_seq_list: vec![RecalledMsg { msg_seq: 31 }, RecalledMsg { msg_seq: 32 }],
                topic_id: Some(s("@TGS#_c5@TOPIC#_x")),
                event_time: Some(1_700_000_001_020),
            }
        );
    }

    #[test]
    fn after_group_msg_extension_reads_the_documented_fields() {
        let body = br#"{"CallbackCommand":"Group.CallbackAfterGroupMsgExtension","GroupId":"g14",
            "MsgSeq":44,"OperateType":2,
            "ExtensionList":[{"Key":"vote","Value":"","Seq":9}],"Seq":"9",
            "EventTime":1700000001021,"R":true}"#;
        let e: GroupAfterGroupMsgExtension = from_slice(body).unwrap();
        assert_eq!(
            e,
            GroupAfterGroupMsgExtension {
                group_id: s("g14"),
                msg_seq: 44,
                operate_type: 2,
                extension_list: vec![MsgExtension {
                    key: s("vote"),
                    value: s(""),
                    seq: 9,
                }],
                seq: 9,
                event_time: Some(1_700_000_001_021),
            }
        );
    }

    #[test]
    fn the_registry_knows_every_group_command_and_which_decide() {
        let group: Vec<&str> = crate::Event::COMMANDS
            .iter()
            .copied()
            .filter(|c| c.starts_with("Group."))
            .collect();
        assert_eq!(group.len(), 24);
        let deciding: Vec<&str> = group
            .iter()
            .copied()
            .filter(|c| crate::Event::decides(c))
            .collect();
        assert_eq!(
            deciding,
            [
                "Group.CallbackBeforeCreateGroup",
                "Group.CallbackBeforeApplyJoinGroup",
                "Group.CallbackBeforeInviteJoinGroup",
                "Group.CallbackBeforeSendMsg",
                "Group.CallbackBeforeCreateTopic",
            ]
        );
        let e = crate::Event::parse(
            "Group.CallbackAfterGroupFull",
            br#"{"GroupId":"g","EventTime":"1"}"#,
        )
        .unwrap();
        assert!(matches!(e, crate::Event::GroupAfterGroupFull(ref f) if f.group_id == "g"));
    }
}
