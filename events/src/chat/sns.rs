//! Profiles and the relationship chain: `Profile.CallbackPortraitSet`, `Sns.Callback…`
//! (friends, blocklist) and following/followers (`Follow.Callback…`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::reply::Verdict;
use crate::{Ack, Callback};

// @@ sns @@

/// `Profile.CallbackPortraitSet`: a user's profile was updated (by the client or the REST API).
/// Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ProfilePortraitSet {
    /// `Operator_Account`: the UserID of who made the update.
    #[serde(rename = "Operator_Account")]
    pub operator_account: String,
    /// `From_Account`: the UserID whose profile was updated.
    #[serde(rename = "From_Account")]
    pub from_account: String,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
    /// `ProfileItem`: the profile fields updated.
    #[serde(rename = "ProfileItem")]
    pub profile_item: Vec<ProfileItem>,
}

impl Callback for ProfilePortraitSet {
    const COMMAND: &'static str = "Profile.CallbackPortraitSet";
    type Reply = Ack;
}

/// One element of [`ProfilePortraitSet::profile_item`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ProfileItem {
    /// `Tag`: the profile field's name (`Tag_Profile_IM_Nick`, `Tag_Profile_Custom_…`).
    #[serde(rename = "Tag")]
    pub tag: String,
    /// `Value`: the field's new value, documented as `uint32/string` (an integer or a string
    /// depending on the field), kept as JSON.
    #[serde(rename = "Value")]
    pub value: Value,
}

/// `Sns.CallbackPrevFriendAdd`: a user is about to send friend requests (from the client; not
/// for REST API requests); the reply decides, per requested account.
///
/// Reply: [`Verdict<SnsPrevFriendAdd>`]: the common answers, and
/// `Verdict::<SnsPrevFriendAdd>::allow_with_result_item` (a [`FriendResult`] per
/// `To_Account`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct SnsPrevFriendAdd {
    /// `Requester_Account`: the UserID of who initiated the request.
    #[serde(rename = "Requester_Account")]
    pub requester_account: String,
    /// `From_Account`: the UserID who asks to add friends.
    #[serde(rename = "From_Account")]
    pub from_account: String,
    /// `FriendItem`: the requested friends.
    #[serde(rename = "FriendItem")]
    pub friend_item: Vec<FriendRequestItem>,
    /// `AddType`: `Add_Type_Single` (one-way) or `Add_Type_Both` (two-way, the default).
    #[serde(rename = "AddType")]
    pub add_type: String,
    /// `ForceAddFlags`: 1 when an admin forces the addition, 0 for a normal request.
    #[serde(rename = "ForceAddFlags", deserialize_with = "crate::lenient::int")]
    pub force_add_flags: u32,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

impl Callback for SnsPrevFriendAdd {
    const COMMAND: &'static str = "Sns.CallbackPrevFriendAdd";
    type Reply = Verdict<Self>;
}

/// One element of [`SnsPrevFriendAdd::friend_item`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct FriendRequestItem {
    /// `To_Account`: the UserID to be added as a friend.
    #[serde(rename = "To_Account")]
    pub to_account: String,
    /// `Remark`: the remark `From_Account` sets for `To_Account`.
    #[serde(rename = "Remark")]
    pub remark: String,
    /// `GroupName`: the friend list `From_Account` puts `To_Account` in.
    #[serde(rename = "GroupName")]
    pub group_name: String,
    /// `AddSource`: where the request comes from (`AddSource_Type_…`).
    #[serde(rename = "AddSource")]
    pub add_source: String,
    /// `AddWording`: the request's message.
    #[serde(rename = "AddWording")]
    pub add_wording: String,
}

/// One element of the `ResultItem` of a friend before-callback's reply
/// ([`SnsPrevFriendAdd`], [`SnsPrevFriendResponse`]): the decision for one `To_Account`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FriendResult {
    /// `To_Account`: the UserID this result is for.
    #[serde(rename = "To_Account")]
    to_account: String,
    /// `ResultCode`: 0 allows; any other value refuses (the pages ask for 38000–39000).
    #[serde(rename = "ResultCode")]
    result_code: u32,
    /// `ResultInfo`: the error information.
    #[serde(rename = "ResultInfo")]
    result_info: String,
}

impl FriendResult {
    /// `ResultCode` 0: allow for `to_account`.
    pub fn allow(to_account: impl Into<String>) -> Self {
        Self::new(to_account, 0, "")
    }

    /// Refuse for `to_account` with `result_code` (the pages ask for 38000 to 39000) and
    /// `result_info`.
    pub fn refuse(
        to_account: impl Into<String>,
        result_code: u32,
        result_info: impl Into<String>,
    ) -> Self {
        Self::new(to_account, result_code, result_info)
    }

    fn new(
        to_account: impl Into<String>,
        result_code: u32,
        result_info: impl Into<String>,
    ) -> Self {
        Self {
            to_account: to_account.into(),
            result_code,
            result_info: result_info.into(),
        }
    }

    /// The `To_Account`.
    pub fn to_account(&self) -> &str {
        &self.to_account
    }

    /// The `ResultCode`.
    pub fn result_code(&self) -> u32 {
        self.result_code
    }
}

impl Verdict<SnsPrevFriendAdd> {
    /// `ErrorCode` 0 with a `ResultItem`: per requested `To_Account`, whether the request may be
    /// sent ([`FriendResult::allow`]) or not ([`FriendResult::refuse`]).
    pub fn allow_with_result_item(result_item: Vec<FriendResult>) -> Self {
        Self::allow().with_field("ResultItem", result_item)
    }
}

/// `Sns.CallbackPrevFriendResponse`: a user is about to answer friend requests (from the
/// client; not for REST API answers); the reply decides, per account.
///
/// Reply: [`Verdict<SnsPrevFriendResponse>`]: the common answers, and
/// `Verdict::<SnsPrevFriendResponse>::allow_with_result_item` (a [`FriendResult`] per
/// `To_Account`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct SnsPrevFriendResponse {
    /// `Requester_Account`: the UserID of who initiated the answer.
    #[serde(rename = "Requester_Account")]
    pub requester_account: String,
    /// `From_Account`: the UserID who answers the friend requests.
    #[serde(rename = "From_Account")]
    pub from_account: String,
    /// `ResponseFriendItem`: the answers.
    #[serde(rename = "ResponseFriendItem")]
    pub response_friend_item: Vec<FriendResponseItem>,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

impl Callback for SnsPrevFriendResponse {
    const COMMAND: &'static str = "Sns.CallbackPrevFriendResponse";
    type Reply = Verdict<Self>;
}

/// One element of [`SnsPrevFriendResponse::response_friend_item`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct FriendResponseItem {
    /// `To_Account`: the UserID whose request is answered.
    #[serde(rename = "To_Account")]
    pub to_account: String,
    /// `Remark`: the remark `From_Account` sets for `To_Account`.
    #[serde(rename = "Remark")]
    pub remark: String,
    /// `TagName`: the friend list `From_Account` puts `To_Account` in.
    #[serde(rename = "TagName")]
    pub tag_name: String,
    /// `ResponseAction`: `Response_Action_AgreeAndAdd` (agree and add back),
    /// `Response_Action_Agree` (agree to be added), `Response_Action_Reject`.
    #[serde(rename = "ResponseAction")]
    pub response_action: String,
}

impl Verdict<SnsPrevFriendResponse> {
    /// `ErrorCode` 0 with a `ResultItem`: per answered `To_Account`, whether the answer goes
    /// through ([`FriendResult::allow`]) or not ([`FriendResult::refuse`]).
    pub fn allow_with_result_item(result_item: Vec<FriendResult>) -> Self {
        Self::allow().with_field("ResultItem", result_item)
    }
}

/// `Sns.CallbackFriendAdd`: friends were added (not by the import API). Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct SnsFriendAdd {
    /// `PairList`: the friend pairs added.
    #[serde(rename = "PairList")]
    pub pair_list: Vec<FriendAddPair>,
    /// `ClientCmd`: what triggered it: `friend_add` or `FriendAdd` (a request),
    /// `friend_response` or `FriendResponse` (an answer).
    #[serde(rename = "ClientCmd")]
    pub client_cmd: String,
    /// `Admin_Account`: the admin account when the REST API added them, else empty.
    #[serde(rename = "Admin_Account")]
    pub admin_account: String,
    /// `ForceFlag`: 1 when an admin forced the addition, 0 for a normal addition.
    #[serde(rename = "ForceFlag", deserialize_with = "crate::lenient::int")]
    pub force_flag: u32,
}

impl Callback for SnsFriendAdd {
    const COMMAND: &'static str = "Sns.CallbackFriendAdd";
    type Reply = Ack;
}

/// One element of [`SnsFriendAdd::pair_list`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct FriendAddPair {
    /// `From_Account`: the UserID whose friend list gained `To_Account`.
    #[serde(rename = "From_Account")]
    pub from_account: String,
    /// `To_Account`: the UserID added to `From_Account`'s friend list.
    #[serde(rename = "To_Account")]
    pub to_account: String,
    /// `Initiator_Account`: the UserID who sent the friend request.
    #[serde(rename = "Initiator_Account")]
    pub initiator_account: String,
}

/// One element of the `PairList` of [`SnsFriendDelete`], [`SnsBlackListAdd`] and
/// [`SnsBlackListDelete`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct AccountPair {
    /// `From_Account`: the UserID whose list changed.
    #[serde(rename = "From_Account")]
    pub from_account: String,
    /// `To_Account`: the UserID added to or removed from `From_Account`'s list.
    #[serde(rename = "To_Account")]
    pub to_account: String,
}

/// `Sns.CallbackFriendDelete`: friends were deleted. Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct SnsFriendDelete {
    /// `PairList`: the pairs deleted: `To_Account` left `From_Account`'s friend list.
    #[serde(rename = "PairList")]
    pub pair_list: Vec<AccountPair>,
}

impl Callback for SnsFriendDelete {
    const COMMAND: &'static str = "Sns.CallbackFriendDelete";
    type Reply = Ack;
}

/// `Sns.CallbackBlackListAdd`: users were added to a blocklist. Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct SnsBlackListAdd {
    /// `PairList`: the pairs added: `From_Account` blocked `To_Account`.
    #[serde(rename = "PairList")]
    pub pair_list: Vec<AccountPair>,
}

impl Callback for SnsBlackListAdd {
    const COMMAND: &'static str = "Sns.CallbackBlackListAdd";
    type Reply = Ack;
}

/// `Sns.CallbackBlackListDelete`: users were removed from a blocklist. Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct SnsBlackListDelete {
    /// `PairList`: the pairs removed: `From_Account` unblocked `To_Account`.
    #[serde(rename = "PairList")]
    pub pair_list: Vec<AccountPair>,
}

impl Callback for SnsBlackListDelete {
    const COMMAND: &'static str = "Sns.CallbackBlackListDelete";
    type Reply = Ack;
}

/// `Follow.CallbackAfterFollowAdd`: a user followed users. Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct FollowAfterFollowAdd {
    /// `From_Account`: the UserID who followed.
    #[serde(rename = "From_Account")]
    pub from_account: String,
    /// `FollowList`: the users now followed.
    #[serde(rename = "FollowList")]
    pub follow_list: Vec<FollowItem>,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

impl Callback for FollowAfterFollowAdd {
    const COMMAND: &'static str = "Follow.CallbackAfterFollowAdd";
    type Reply = Ack;
}

/// One element of [`FollowAfterFollowAdd::follow_list`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct FollowItem {
    /// `To_Account`: the UserID now followed.
    #[serde(rename = "To_Account")]
    pub to_account: String,
}

/// `Follow.CallbackAfterFollowDelete`: a user unfollowed users. Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct FollowAfterFollowDelete {
    /// `From_Account`: the UserID who unfollowed.
    #[serde(rename = "From_Account")]
    pub from_account: String,
    /// `To_Account`: the UserIDs unfollowed (an array of strings, unlike the follow callback's
    /// objects).
    #[serde(rename = "To_Account")]
    pub to_account: Vec<String>,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

impl Callback for FollowAfterFollowDelete {
    const COMMAND: &'static str = "Follow.CallbackAfterFollowDelete";
    type Reply = Ack;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{from_slice, CallbackReply};

    #[test]
    fn portrait_set_reads_the_documented_fields() {
        let body = br#"{"CallbackCommand":"Profile.CallbackPortraitSet",
            "Operator_Account":"admin","From_Account":"erin","EventTime":1700000100000,
            "ProfileItem":[{"Tag":"Tag_Profile_IM_Nick","Value":"Erin"},
                           {"Tag":"Tag_Profile_IM_Level","Value":7}],
            "Later":"x"}"#;
        let e: ProfilePortraitSet = from_slice(body).unwrap();
        assert_eq!(
            (e.operator_account.as_str(), e.from_account.as_str()),
            ("admin", "erin")
        );
        assert_eq!(e.event_time, Some(1_700_000_100_000));
        assert_eq!(e.profile_item.len(), 2);
        assert_eq!(e.profile_item[0].tag, "Tag_Profile_IM_Nick");
        assert_eq!(e.profile_item[0].value, "Erin");
        assert_eq!(e.profile_item[1].tag, "Tag_Profile_IM_Level");
        assert_eq!(e.profile_item[1].value, 7);
    }

    #[test]
    fn prev_friend_add_reads_the_documented_fields() {
        let body = br#"{"CallbackCommand":"Sns.CallbackPrevFriendAdd",
            "Requester_Account":"frank","From_Account":"frank",
            "FriendItem":[{"To_Account":"gina","Remark":"from work","GroupName":"colleagues",
                           "AddSource":"AddSource_Type_Web","AddWording":"hello gina"}],
            "AddType":"Add_Type_Single","ForceAddFlags":"1","EventTime":1700000200000,
            "Unknown":null}"#;
        let e: SnsPrevFriendAdd = from_slice(body).unwrap();
        assert_eq!(
            (e.requester_account.as_str(), e.from_account.as_str()),
            ("frank", "frank")
        );
        let item = &e.friend_item[0];
        assert_eq!(
            (
                item.to_account.as_str(),
                item.remark.as_str(),
                item.group_name.as_str(),
                item.add_source.as_str(),
                item.add_wording.as_str()
            ),
            (
                "gina",
                "from work",
                "colleagues",
                "AddSource_Type_Web",
                "hello gina"
            )
        );
        assert_eq!(
            (e.add_type.as_str(), e.force_add_flags, e.event_time),
            ("Add_Type_Single", 1, Some(1_700_000_200_000))
        );
    }

    #[test]
    fn prev_friend_add_result_items_are_the_documented_json() {
        let reply = Verdict::<SnsPrevFriendAdd>::allow_with_result_item(vec![
            FriendResult::allow("gina"),
            FriendResult::refuse("hank", 38_001, "not verified"),
        ]);
        assert_eq!(
            reply.to_json(),
            r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0,"ResultItem":[{"To_Account":"gina","ResultCode":0,"ResultInfo":""},{"To_Account":"hank","ResultCode":38001,"ResultInfo":"not verified"}]}"#
        );
        let r = FriendResult::refuse("hank", 38_001, "x");
        assert_eq!((r.to_account(), r.result_code()), ("hank", 38_001));
        const { assert!(<Verdict<SnsPrevFriendAdd> as CallbackReply>::DECIDES) };
    }

    #[test]
    fn prev_friend_response_reads_the_documented_fields_and_answers_per_account() {
        let body = br#"{"CallbackCommand":"Sns.CallbackPrevFriendResponse",
            "Requester_Account":"ivy","From_Account":"ivy",
            "ResponseFriendItem":[{"To_Account":"jack","Remark":"Jack R.","TagName":"gym",
                                   "ResponseAction":"Response_Action_Agree"},
                                  {"To_Account":"kim","Remark":"","TagName":"",
                                   "ResponseAction":"Response_Action_Reject"}],
            "EventTime":"1700000300000","New":[]}"#;
        let e: SnsPrevFriendResponse = from_slice(body).unwrap();
        assert_eq!(
            (e.requester_account.as_str(), e.from_account.as_str()),
            ("ivy", "ivy")
        );
        let jack = &e.response_friend_item[0];
        assert_eq!(
            (
                jack.to_account.as_str(),
                jack.remark.as_str(),
                jack.tag_name.as_str(),
                jack.response_action.as_str()
            ),
            ("jack", "Jack R.", "gym", "Response_Action_Agree")
        );
        assert_eq!(e.response_friend_item[1].to_account, "kim");
        assert_eq!(
            e.response_friend_item[1].response_action,
            "Response_Action_Reject"
        );
        assert_eq!(e.event_time, Some(1_700_000_300_000));
        assert_eq!(
            Verdict::<SnsPrevFriendResponse>::allow_with_result_item(vec![FriendResult::refuse(
                "jack", 38_500, "blocked"
            )])
            .to_json(),
            r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0,"ResultItem":[{"To_Account":"jack","ResultCode":38500,"ResultInfo":"blocked"}]}"#
        );
    }

    #[test]
    fn friend_add_reads_the_documented_fields() {
        let body = br#"{"CallbackCommand":"Sns.CallbackFriendAdd",
            "PairList":[{"From_Account":"lee","To_Account":"mo","Initiator_Account":"mo"},
                        {"From_Account":"mo","To_Account":"lee","Initiator_Account":"mo"}],
            "ClientCmd":"friend_response","Admin_Account":"root","ForceFlag":0,"Extra":1}"#;
        let e: SnsFriendAdd = from_slice(body).unwrap();
        let p = &e.pair_list[1];
        assert_eq!(
            (
                p.from_account.as_str(),
                p.to_account.as_str(),
                p.initiator_account.as_str()
            ),
            ("mo", "lee", "mo")
        );
        assert_eq!(e.pair_list[0].from_account, "lee");
        assert_eq!(
            (
                e.client_cmd.as_str(),
                e.admin_account.as_str(),
                e.force_flag
            ),
            ("friend_response", "root", 0)
        );
    }

    #[test]
    fn pair_list_callbacks_read_the_documented_fields() {
        let pairs = |e: &[AccountPair]| {
            e.iter()
                .map(|p| (p.from_account.clone(), p.to_account.clone()))
                .collect::<Vec<_>>()
        };
        let delete: SnsFriendDelete = from_slice(
            br#"{"CallbackCommand":"Sns.CallbackFriendDelete","PairList":[{"From_Account":"nat","To_Account":"oz"}],"Other":2}"#,
        )
        .unwrap();
        assert_eq!(pairs(&delete.pair_list), [("nat".into(), "oz".into())]);
        let block: SnsBlackListAdd = from_slice(
            br#"{"CallbackCommand":"Sns.CallbackBlackListAdd","PairList":[{"From_Account":"pat","To_Account":"quinn"},{"From_Account":"pat","To_Account":"ray"}],"Other":2}"#,
        )
        .unwrap();
        assert_eq!(
            pairs(&block.pair_list),
            [("pat".into(), "quinn".into()), ("pat".into(), "ray".into())]
        );
        let unblock: SnsBlackListDelete = from_slice(
            br#"{"CallbackCommand":"Sns.CallbackBlackListDelete","PairList":[{"From_Account":"sam","To_Account":"tia"}],"Other":2}"#,
        )
        .unwrap();
        assert_eq!(pairs(&unblock.pair_list), [("sam".into(), "tia".into())]);
    }

    #[test]
    fn follow_callbacks_read_the_documented_fields() {
        let add: FollowAfterFollowAdd = from_slice(
            br#"{"CallbackCommand":"Follow.CallbackAfterFollowAdd","From_Account":"uma",
                "FollowList":[{"To_Account":"vic"},{"To_Account":"wes"}],"EventTime":1700000400000,"X":0}"#,
        )
        .unwrap();
        assert_eq!(add.from_account, "uma");
        assert_eq!(
            add.follow_list
                .iter()
                .map(|f| f.to_account.as_str())
                .collect::<Vec<_>>(),
            ["vic", "wes"]
        );
        assert_eq!(add.event_time, Some(1_700_000_400_000));
        let delete: FollowAfterFollowDelete = from_slice(
            br#"{"CallbackCommand":"Follow.CallbackAfterFollowDelete","From_Account":"uma",
                "To_Account":["vic"],"EventTime":"1700000500000","X":0}"#,
        )
        .unwrap();
        assert_eq!(
            (delete.from_account.as_str(), delete.to_account.as_slice()),
            ("uma", &["vic".to_owned()][..])
        );
        assert_eq!(delete.event_time, Some(1_700_000_500_000));
    }
}
