//! TRTC Live (TUILiveKit) callbacks: `Live.Callback…`, signed with the `get_callback_token` token
//! like Chat's (the query `Sign`), so the same [`CallbackAuthLayer`](tim_callback_auth::CallbackAuthLayer)
//! verifies them and the [`Router`](crate::Router) dispatches them.
//!
//! The commands of the Live "Webhooks Command List" (<https://trtc.io/document/64413>); the seat
//! list's is `Mic.CallbackAfterSeatInfoChanged` ([`MicAfterSeatInfoChanged`]). The list's
//! `Group.*` and `Follow.*` entries are Chat's commands, typed in [`chat`](crate::chat). Live
//! pages sometimes name the command `WebhookCommand` in the body; both names are read.
//!
//! Account fields (`Owner_Account`, `Member_Account`) are read as strings or as integers: the
//! pages document them as strings, but their samples send numeric IDs
//! (`"Owner_Account": 144115216631667826`).

use serde::Deserialize;

use crate::reply::Verdict;
use crate::{Ack, Callback};

// @@ live @@

/// `RoomInfo` of [`LiveAfterCreateRoom`]: the room as created.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct LiveCreatedRoom {
    /// `RoomId`: the room's ID.
    #[serde(rename = "RoomId")]
    pub room_id: String,
    /// `RoomName`: the room's name.
    #[serde(rename = "RoomName")]
    pub room_name: String,
    /// `RoomType`: the room's type (`Live`).
    #[serde(rename = "RoomType")]
    pub room_type: String,
    /// `Owner_Account`: the host's UserID (read from a string or an integer).
    #[serde(rename = "Owner_Account", deserialize_with = "crate::lenient::account")]
    pub owner_account: String,
    /// `MaxMemberCount`: the maximum number of room members.
    #[serde(rename = "MaxMemberCount", deserialize_with = "crate::lenient::int")]
    pub max_member_count: u32,
    /// `IsMessageDisabled`: whether all members are forbidden to send text messages.
    #[serde(rename = "IsMessageDisabled")]
    pub is_message_disabled: bool,
    /// `CustomInfo`: the room's custom field.
    #[serde(rename = "CustomInfo")]
    pub custom_info: String,
    /// `IsSeatEnabled`: whether the room has seats (co-hosting on the mic).
    #[serde(rename = "IsSeatEnabled")]
    pub is_seat_enabled: bool,
    /// `MaxSeatCount`: the maximum number of seats.
    #[serde(rename = "MaxSeatCount", deserialize_with = "crate::lenient::int")]
    pub max_seat_count: u32,
    /// `TakeSeatMode`: `None` (off), `FreeToTake` or `ApplyToTake`.
    #[serde(rename = "TakeSeatMode")]
    pub take_seat_mode: String,
    /// `CreateTime`: when the room was created, Unix seconds.
    #[serde(rename = "CreateTime", deserialize_with = "crate::lenient::int")]
    pub create_time: u64,
    /// `IsPublicVisible`: whether the room is public.
    #[serde(rename = "IsPublicVisible")]
    pub is_public_visible: bool,
    /// `CoverURL`: the room's cover URL.
    #[serde(rename = "CoverURL")]
    pub cover_url: String,
    /// `Category`: the room's category tags (integers).
    #[serde(rename = "Category")]
    pub category: Vec<u64>,
    /// `EventTime`: when the callback was triggered, Unix milliseconds, when a sample puts it in
    /// `RoomInfo` (one Chinese page does; the field table has it at the top level).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

/// `Live.CallbackAfterCreateRoom`: a room was created (by a client or the REST API).
/// Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct LiveAfterCreateRoom {
    /// `Operator_Account`: the UserID of the operator who created the room.
    #[serde(rename = "Operator_Account")]
    pub operator_account: String,
    /// `RoomInfo`: the room.
    #[serde(rename = "RoomInfo")]
    pub room_info: LiveCreatedRoom,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

impl Callback for LiveAfterCreateRoom {
    const COMMAND: &'static str = "Live.CallbackAfterCreateRoom";
    type Reply = Ack;
}

/// `RoomInfo` of [`LiveAfterDestroyRoom`]: the room as it was.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct LiveDestroyedRoom {
    /// `RoomId`: the room's ID (not in the page's table, but sent: the top-level `RoomId` is the
    /// documented one).
    #[serde(rename = "RoomId")]
    pub room_id: String,
    /// `RoomName`: the room's name.
    #[serde(rename = "RoomName")]
    pub room_name: String,
    /// `RoomType`: the room's type (`Live`).
    #[serde(rename = "RoomType")]
    pub room_type: String,
    /// `Owner_Account`: the host's UserID (read from a string or an integer: the page's sample
    /// sends a number).
    #[serde(rename = "Owner_Account", deserialize_with = "crate::lenient::account")]
    pub owner_account: String,
    /// `IsSeatEnabled`: whether the room has seats.
    #[serde(rename = "IsSeatEnabled")]
    pub is_seat_enabled: bool,
    /// `TakeSeatMode`: `None` (off), `FreeToTake` or `ApplyToTake`.
    #[serde(rename = "TakeSeatMode")]
    pub take_seat_mode: String,
    /// `MaxMemberCount`: the maximum number of room members.
    #[serde(rename = "MaxMemberCount", deserialize_with = "crate::lenient::int")]
    pub max_member_count: u32,
    /// `MaxSeatCount`: the maximum number of seats.
    #[serde(rename = "MaxSeatCount", deserialize_with = "crate::lenient::int")]
    pub max_seat_count: u32,
    /// `Category`: the room's category tags (integers).
    #[serde(rename = "Category")]
    pub category: Vec<u64>,
    /// `CustomInfo`: the room's custom field.
    #[serde(rename = "CustomInfo")]
    pub custom_info: String,
    /// `IsMessageDisabled`: whether all members were forbidden to send text messages.
    #[serde(rename = "IsMessageDisabled")]
    pub is_message_disabled: bool,
    /// `CoverURL`: the room's cover URL.
    #[serde(rename = "CoverURL")]
    pub cover_url: String,
    /// `ActivityStatus`: the live room's activity status, a user-defined tag.
    #[serde(rename = "ActivityStatus", deserialize_with = "crate::lenient::int")]
    pub activity_status: i64,
    /// `IsPublicVisible`: whether the room was public.
    #[serde(rename = "IsPublicVisible")]
    pub is_public_visible: bool,
    /// `ViewCount`: how many times users entered the room.
    #[serde(rename = "ViewCount", deserialize_with = "crate::lenient::int")]
    pub view_count: u64,
    /// `BackgroundURL`: the room's background URL.
    #[serde(rename = "BackgroundURL")]
    pub background_url: String,
    /// `IsUnlimitedRoomEnabled`: whether room mixing for high concurrency was on.
    #[serde(rename = "IsUnlimitedRoomEnabled")]
    pub is_unlimited_room_enabled: bool,
}

/// `Statistic` of [`LiveAfterDestroyRoom`]: the live session's totals.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct LiveRoomStatistic {
    /// `TotalViewers`: room entries (a user entering N times counts N).
    #[serde(rename = "TotalViewers", deserialize_with = "crate::lenient::int")]
    pub total_viewers: u64,
    /// `TotalGiftsSent`: gifts sent.
    #[serde(rename = "TotalGiftsSent", deserialize_with = "crate::lenient::int")]
    pub total_gifts_sent: u64,
    /// `TotalGiftCoins`: the gifts' total value.
    #[serde(rename = "TotalGiftCoins", deserialize_with = "crate::lenient::int")]
    pub total_gift_coins: u64,
    /// `TotalUniqueGiftSenders`: distinct gift senders.
    #[serde(
        rename = "TotalUniqueGiftSenders",
        deserialize_with = "crate::lenient::int"
    )]
    pub total_unique_gift_senders: u64,
    /// `TotalLikesReceived`: likes received.
    #[serde(
        rename = "TotalLikesReceived",
        deserialize_with = "crate::lenient::int"
    )]
    pub total_likes_received: u64,
}

/// `Live.CallbackAfterDestroyRoom`: a room was destroyed (by its user, or by the system when
/// empty). Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct LiveAfterDestroyRoom {
    /// `Operator_Account`: the UserID of the operator who destroyed the room (`@TIM#SYSTEM` for
    /// the system).
    #[serde(rename = "Operator_Account")]
    pub operator_account: String,
    /// `RoomId`: the room's ID.
    #[serde(rename = "RoomId")]
    pub room_id: String,
    /// `EventType`: `DestroyByUser` or `DestroyBySystem`.
    #[serde(rename = "EventType")]
    pub event_type: String,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
    /// `RoomInfo`: the room as it was.
    #[serde(rename = "RoomInfo")]
    pub room_info: LiveDestroyedRoom,
    /// `Statistic`: the session's totals (`None` when absent).
    #[serde(rename = "Statistic")]
    pub statistic: Option<LiveRoomStatistic>,
}

impl Callback for LiveAfterDestroyRoom {
    const COMMAND: &'static str = "Live.CallbackAfterDestroyRoom";
    type Reply = Ack;
}

/// `RoomInfo` of [`LiveAfterUpdateRoomInfo`]: the room's ID and the fields the update carries
/// (`None`: not in this update).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct LiveRoomUpdate {
    /// `RoomId`: the room's ID.
    #[serde(rename = "RoomId")]
    pub room_id: String,
    /// `RoomName`: the room's name.
    #[serde(rename = "RoomName")]
    pub room_name: Option<String>,
    /// `MaxMemberCount`: the maximum number of room members.
    #[serde(
        rename = "MaxMemberCount",
        deserialize_with = "crate::lenient::opt_int"
    )]
    pub max_member_count: Option<u32>,
    /// `IsMessageDisabled`: whether all members are forbidden to send text messages.
    #[serde(rename = "IsMessageDisabled")]
    pub is_message_disabled: Option<bool>,
    /// `CustomInfo`: the room's custom field.
    #[serde(rename = "CustomInfo")]
    pub custom_info: Option<String>,
    /// `TakeSeatMode`: `None` (off), `FreeToTake` or `ApplyToTake`.
    #[serde(rename = "TakeSeatMode")]
    pub take_seat_mode: Option<String>,
    /// `IsPublicVisible`: whether the room is public.
    #[serde(rename = "IsPublicVisible")]
    pub is_public_visible: Option<bool>,
    /// `CoverURL`: the room's cover URL.
    #[serde(rename = "CoverURL")]
    pub cover_url: Option<String>,
    /// `Category`: the room's category tags (integers).
    #[serde(rename = "Category")]
    pub category: Option<Vec<u64>>,
    /// `ActivityStatus`: the live room's activity status, a user-defined tag.
    #[serde(
        rename = "ActivityStatus",
        deserialize_with = "crate::lenient::opt_int"
    )]
    pub activity_status: Option<i64>,
}

/// `Live.CallbackAfterUpdateRoomInfo`: a room's information was updated. Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct LiveAfterUpdateRoomInfo {
    /// `Operator_Account`: the UserID of the operator who updated the room.
    #[serde(rename = "Operator_Account")]
    pub operator_account: String,
    /// `RoomInfo`: the room's ID and updated fields.
    #[serde(rename = "RoomInfo")]
    pub room_info: LiveRoomUpdate,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

impl Callback for LiveAfterUpdateRoomInfo {
    const COMMAND: &'static str = "Live.CallbackAfterUpdateRoomInfo";
    type Reply = Ack;
}

/// An item of [`LiveAfterSetMetadata::metadata`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct LiveMetadata {
    /// `Key`: the metadata key.
    #[serde(rename = "Key")]
    pub key: String,
    /// `Value`: the metadata value.
    #[serde(rename = "Value")]
    pub value: String,
}

/// `Live.CallbackAfterSetMetadata`: a room's metadata was set. Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct LiveAfterSetMetadata {
    /// `Operator_Account`: the UserID of the operator.
    #[serde(rename = "Operator_Account")]
    pub operator_account: String,
    /// `RoomId`: the room's ID.
    #[serde(rename = "RoomId")]
    pub room_id: String,
    /// `Metadata`: the keys and values set.
    #[serde(rename = "Metadata")]
    pub metadata: Vec<LiveMetadata>,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

impl Callback for LiveAfterSetMetadata {
    const COMMAND: &'static str = "Live.CallbackAfterSetMetadata";
    type Reply = Ack;
}

/// `Live.CallbackAfterDelMetadata`: keys of a room's metadata were deleted. Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct LiveAfterDelMetadata {
    /// `Operator_Account`: the UserID of the operator.
    #[serde(rename = "Operator_Account")]
    pub operator_account: String,
    /// `RoomId`: the room's ID.
    #[serde(rename = "RoomId")]
    pub room_id: String,
    /// `Keys`: the deleted keys.
    #[serde(rename = "Keys")]
    pub keys: Vec<String>,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

impl Callback for LiveAfterDelMetadata {
    const COMMAND: &'static str = "Live.CallbackAfterDelMetadata";
    type Reply = Ack;
}

/// `Live.CallbackAfterCreateRoomReachingThreshold`: the number of rooms created reached 70% of
/// the maximum. Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct LiveAfterCreateRoomReachingThreshold {
    /// `Operator_Account`: the UserID whose room creation triggered the alert.
    #[serde(rename = "Operator_Account")]
    pub operator_account: String,
    /// `CurRoomCount`: rooms created now (the table says String, the sample sends a number:
    /// both are read).
    #[serde(rename = "CurRoomCount", deserialize_with = "crate::lenient::int")]
    pub cur_room_count: u64,
    /// `MaxRoomCount`: the maximum number of rooms (the table says Array, the sample sends a
    /// number).
    #[serde(rename = "MaxRoomCount", deserialize_with = "crate::lenient::int")]
    pub max_room_count: u64,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

impl Callback for LiveAfterCreateRoomReachingThreshold {
    const COMMAND: &'static str = "Live.CallbackAfterCreateRoomReachingThreshold";
    type Reply = Ack;
}

/// An item of [`LiveAfterMemberStateChanged::member_list`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct LiveMember {
    /// `Member_Account`: the member's UserID (read from a string or an integer).
    #[serde(
        rename = "Member_Account",
        deserialize_with = "crate::lenient::account"
    )]
    pub member_account: String,
}

/// `Live.CallbackAfterMemberStateChanged`: members entered or left a room (or their heartbeat
/// broke or recovered): the Live "after entering / leaving a room" callback. Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct LiveAfterMemberStateChanged {
    /// `RoomId`: the room's ID.
    #[serde(rename = "RoomId")]
    pub room_id: String,
    /// `EventType`: `Online` or `Offline`.
    #[serde(rename = "EventType")]
    pub event_type: String,
    /// `EventCause`: `Enter`, `Leave`, `HeartbeatInterrupt` or `HeartbeatRecover`.
    #[serde(rename = "EventCause")]
    pub event_cause: String,
    /// `MemberList`: the members concerned.
    #[serde(rename = "MemberList")]
    pub member_list: Vec<LiveMember>,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

impl Callback for LiveAfterMemberStateChanged {
    const COMMAND: &'static str = "Live.CallbackAfterMemberStateChanged";
    type Reply = Ack;
}

/// `Live.CallbackAfterChangeOwner`: a room's owner changed. Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct LiveAfterChangeOwner {
    /// `RoomId`: the room's ID.
    #[serde(rename = "RoomId")]
    pub room_id: String,
    /// `CurrentOwner_Account`: the new owner.
    #[serde(rename = "CurrentOwner_Account")]
    pub current_owner_account: String,
    /// `OriginalOwner_Account`: the previous owner.
    #[serde(rename = "OriginalOwner_Account")]
    pub original_owner_account: String,
    /// `Operator_Account`: the operator.
    #[serde(rename = "Operator_Account")]
    pub operator_account: String,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

impl Callback for LiveAfterChangeOwner {
    const COMMAND: &'static str = "Live.CallbackAfterChangeOwner";
    type Reply = Ack;
}

/// `Live.CallbackAfterModifyAdmin`: a room's administrators were added or removed.
/// Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct LiveAfterModifyAdmin {
    /// `RoomId`: the room's ID.
    #[serde(rename = "RoomId")]
    pub room_id: String,
    /// `Admin_Account`: the administrators added or removed.
    #[serde(rename = "Admin_Account")]
    pub admin_account: Vec<String>,
    /// `opType` (lower-case `o` on the page): `add` or `delete`.
    #[serde(rename = "opType")]
    pub op_type: String,
    /// `Operator_Account`: the operator.
    #[serde(rename = "Operator_Account")]
    pub operator_account: String,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

impl Callback for LiveAfterModifyAdmin {
    const COMMAND: &'static str = "Live.CallbackAfterModifyAdmin";
    type Reply = Ack;
}

/// An item of [`MicAfterSeatInfoChanged::seat_list`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct LiveSeat {
    /// `Index`: the seat's number.
    #[serde(rename = "Index", deserialize_with = "crate::lenient::int")]
    pub index: u32,
    /// `Member_Account`: the UserID on the seat (`None` when the seat is free; read from a string
    /// or an integer).
    #[serde(
        rename = "Member_Account",
        deserialize_with = "crate::lenient::opt_account"
    )]
    pub member_account: Option<String>,
    /// `IsTakenDisabled`: whether the seat is locked.
    #[serde(rename = "IsTakenDisabled")]
    pub is_taken_disabled: bool,
    /// `IsVideoDisabled`: whether pushing video from the seat is forbidden.
    #[serde(rename = "IsVideoDisabled")]
    pub is_video_disabled: bool,
    /// `IsAudioDisabled`: whether pushing audio from the seat is forbidden.
    #[serde(rename = "IsAudioDisabled")]
    pub is_audio_disabled: bool,
}

/// `Mic.CallbackAfterSeatInfoChanged`: a Live room's seat list changed (a user took or left a
/// seat, a seat was locked, muted). The Live list's seat command (its prefix is `Mic.`, not
/// `Live.`). Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct MicAfterSeatInfoChanged {
    /// `RoomId`: the room's ID.
    #[serde(rename = "RoomId")]
    pub room_id: String,
    /// `SeatList`: the seats.
    #[serde(rename = "SeatList")]
    pub seat_list: Vec<LiveSeat>,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (in the sample, not the
    /// table; `None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

impl Callback for MicAfterSeatInfoChanged {
    const COMMAND: &'static str = "Mic.CallbackAfterSeatInfoChanged";
    type Reply = Ack;
}

/// `Live.CallbackAfterCreateBattle`: a battle (PK between rooms) was created. Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct LiveAfterCreateBattle {
    /// `Operator_Account`: the user who requested the battle.
    #[serde(rename = "Operator_Account")]
    pub operator_account: String,
    /// `BattleId`: the battle's ID.
    #[serde(rename = "BattleId")]
    pub battle_id: String,
    /// `FromRoomId`: the room of the caller who started the battle.
    #[serde(rename = "FromRoomId")]
    pub from_room_id: String,
    /// `ToRoomIdList`: the rooms invited to the battle.
    #[serde(rename = "ToRoomIdList")]
    pub to_room_id_list: Vec<String>,
    /// `Timeout`: how long the callees have to answer, milliseconds (with `NeedResponse`).
    #[serde(rename = "Timeout", deserialize_with = "crate::lenient::int")]
    pub timeout: u64,
    /// `Duration`: the battle's duration once started, milliseconds.
    #[serde(rename = "Duration", deserialize_with = "crate::lenient::int")]
    pub duration: u64,
    /// `NeedResponse`: whether the callees' owners must accept before it starts.
    #[serde(rename = "NeedResponse")]
    pub need_response: bool,
    /// `ExtensionInfo`: the battle's extension information.
    #[serde(rename = "ExtensionInfo")]
    pub extension_info: String,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

impl Callback for LiveAfterCreateBattle {
    const COMMAND: &'static str = "Live.CallbackAfterCreateBattle";
    type Reply = Ack;
}

/// A room in a battle: `FromRoomInfo` and the items of `ToRoomList` of [`LiveAfterStartBattle`]
/// and [`LiveAfterEndBattle`] (the tables call `FromRoomInfo` a String; the samples send this
/// object).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct LiveBattleRoom {
    /// `RoomId`: the room's ID.
    #[serde(rename = "RoomId")]
    pub room_id: String,
    /// `Owner_Account`: the room's owner (read from a string or an integer: the end-of-battle
    /// sample sends numbers).
    #[serde(rename = "Owner_Account", deserialize_with = "crate::lenient::account")]
    pub owner_account: String,
    /// `Score`: the room's score in the battle (end of battle only; `None` when absent).
    #[serde(rename = "Score", deserialize_with = "crate::lenient::opt_int")]
    pub score: Option<i64>,
}

/// `Live.CallbackAfterStartBattle`: a battle started. Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct LiveAfterStartBattle {
    /// `BattleId`: the battle's ID.
    #[serde(rename = "BattleId")]
    pub battle_id: String,
    /// `Duration`: the battle's duration, milliseconds.
    #[serde(rename = "Duration", deserialize_with = "crate::lenient::int")]
    pub duration: u64,
    /// `CreateTime`: when the battle was created, Unix seconds.
    #[serde(rename = "CreateTime", deserialize_with = "crate::lenient::int")]
    pub create_time: u64,
    /// `StartTime`: when the battle started, Unix seconds.
    #[serde(rename = "StartTime", deserialize_with = "crate::lenient::int")]
    pub start_time: u64,
    /// `FromRoomInfo`: the caller's room.
    #[serde(rename = "FromRoomInfo")]
    pub from_room_info: LiveBattleRoom,
    /// `ToRoomList`: the callees' rooms.
    #[serde(rename = "ToRoomList")]
    pub to_room_list: Vec<LiveBattleRoom>,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

impl Callback for LiveAfterStartBattle {
    const COMMAND: &'static str = "Live.CallbackAfterStartBattle";
    type Reply = Ack;
}

/// `Live.CallbackAfterEndBattle`: a battle ended. Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct LiveAfterEndBattle {
    /// `BattleId`: the battle's ID.
    #[serde(rename = "BattleId")]
    pub battle_id: String,
    /// `Duration`: the battle's duration, milliseconds.
    #[serde(rename = "Duration", deserialize_with = "crate::lenient::int")]
    pub duration: u64,
    /// `CreateTime`: when the battle was created, Unix seconds.
    #[serde(rename = "CreateTime", deserialize_with = "crate::lenient::int")]
    pub create_time: u64,
    /// `StartTime`: when the battle started, Unix seconds.
    #[serde(rename = "StartTime", deserialize_with = "crate::lenient::int")]
    pub start_time: u64,
    /// `EndTime`: when the battle ended, Unix seconds.
    #[serde(rename = "EndTime", deserialize_with = "crate::lenient::int")]
    pub end_time: u64,
    /// `OpType`: 0 time is up; 1 every owner left after the start; 2 created but never started
    /// (no owner joined).
    #[serde(rename = "OpType", deserialize_with = "crate::lenient::int")]
    pub op_type: u32,
    /// `FromRoomInfo`: the caller's room, with its score.
    #[serde(rename = "FromRoomInfo")]
    pub from_room_info: LiveBattleRoom,
    /// `ToRoomList`: the callees' rooms, with their scores.
    #[serde(rename = "ToRoomList")]
    pub to_room_list: Vec<LiveBattleRoom>,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

impl Callback for LiveAfterEndBattle {
    const COMMAND: &'static str = "Live.CallbackAfterEndBattle";
    type Reply = Ack;
}

/// `GiftWater` of [`LiveBeforeSendGift`]: the gift about to be sent.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct LiveGift {
    /// `From_Account`: the gift's sender.
    #[serde(rename = "From_Account")]
    pub from_account: String,
    /// `To_Account`: the gift's recipients.
    #[serde(rename = "To_Account")]
    pub to_account: Vec<String>,
    /// `Time`: the timestamp (Unix seconds in the sample).
    #[serde(rename = "Time", deserialize_with = "crate::lenient::int")]
    pub time: u64,
    /// `GiftId`: the gift's ID.
    #[serde(rename = "GiftId")]
    pub gift_id: String,
    /// `Count`: how many.
    #[serde(rename = "Count", deserialize_with = "crate::lenient::int")]
    pub count: u64,
    /// `Coins`: the gift's value.
    #[serde(rename = "Coins", deserialize_with = "crate::lenient::int")]
    pub coins: u64,
}

/// `Live.CallbackBeforeSendGift`: a gift is about to be sent; the reply decides. `ErrorCode` 0
/// lets it through, non-zero blocks it; no reply within 2 s also blocks it, unless the console's
/// non-blocking option (the list's `Live.CallbackBeforeCallBackNotBlock`) is on.
///
/// Reply: [`Verdict<LiveBeforeSendGift>`]: [`allow`](Verdict::allow),
/// [`forbid`](Verdict::forbid), [`forbid_with`](Verdict::forbid_with) (the page passes codes
/// 102100–102200 to the client).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct LiveBeforeSendGift {
    /// `Operator_Account`: the UserID of the operator.
    #[serde(rename = "Operator_Account")]
    pub operator_account: String,
    /// `RoomId`: the room's ID.
    #[serde(rename = "RoomId")]
    pub room_id: String,
    /// `GiftWater`: the gift.
    #[serde(rename = "GiftWater")]
    pub gift_water: LiveGift,
}

impl Callback for LiveBeforeSendGift {
    const COMMAND: &'static str = "Live.CallbackBeforeSendGift";
    type Reply = Verdict<Self>;
    const CLIENT_CODES: std::ops::RangeInclusive<u32> = 102_100..=102_200;
}

// @@ live end @@

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{from_slice, CallbackReply, ErrorKind};

    #[test]
    fn after_create_room_reads_the_documented_fields() {
        let body = br#"{
            "CallbackCommand": "Live.CallbackAfterCreateRoom",
            "Operator_Account": "ops-1",
            "RoomInfo": {
                "RoomId": "studio-7", "RoomName": "Evening show", "RoomType": "Live",
                "Owner_Account": "hostess", "MaxMemberCount": 1200, "IsMessageDisabled": false,
                "CustomInfo": "{\"tier\":2}", "IsSeatEnabled": true, "TakeSeatMode": "FreeToTake",
                "MaxSeatCount": "9", "CreateTime": 1711000000, "IsPublicVisible": true,
                "CoverURL": "https://cdn.example/c.png", "Category": [4, 9],
                "EventTime": 1711000000001
            },
            "EventTime": "1711000000002",
            "NewThing": {"x": 1}
        }"#;
        let e: LiveAfterCreateRoom = from_slice(body).unwrap();
        assert_eq!(e.operator_account, "ops-1");
        assert_eq!(e.event_time, Some(1_711_000_000_002));
        let r = &e.room_info;
        assert_eq!(
            (
                r.room_id.as_str(),
                r.room_name.as_str(),
                r.room_type.as_str()
            ),
            ("studio-7", "Evening show", "Live")
        );
        assert_eq!(r.owner_account, "hostess");
        assert_eq!((r.max_member_count, r.max_seat_count), (1200, 9));
        assert_eq!(
            (
                r.is_message_disabled,
                r.is_seat_enabled,
                r.is_public_visible
            ),
            (false, true, true)
        );
        assert_eq!(
            (r.custom_info.as_str(), r.take_seat_mode.as_str()),
            ("{\"tier\":2}", "FreeToTake")
        );
        assert_eq!(r.create_time, 1_711_000_000);
        assert_eq!(r.cover_url, "https://cdn.example/c.png");
        assert_eq!(r.category, [4, 9]);
        assert_eq!(r.event_time, Some(1_711_000_000_001));
        assert_eq!(
            Ack.to_json(),
            r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}"#
        );
    }

    #[test]
    fn the_webhook_command_name_is_read_too() {
        let body = br#"{"WebhookCommand":"Live.CallbackAfterCreateRoom","Operator_Account":"a"}"#;
        let e: LiveAfterCreateRoom = from_slice(body).unwrap();
        assert_eq!(e.operator_account, "a");
        let other = br#"{"WebhookCommand":"Live.CallbackAfterDestroyRoom","Operator_Account":"a"}"#;
        let error = from_slice::<LiveAfterCreateRoom>(other).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::CommandConflict);
    }

    #[test]
    fn after_destroy_room_reads_the_documented_fields() {
        let body = br#"{
            "WebhookCommand": "Live.CallbackAfterDestroyRoom",
            "Operator_Account": "@TIM#SYSTEM", "RoomId": "studio-7",
            "EventType": "DestroyBySystem", "EventTime": 1711003600000,
            "RoomInfo": {
                "RoomId": "studio-7", "RoomName": "Evening show", "RoomType": "Live",
                "Owner_Account": 144115200000000001, "IsSeatEnabled": true,
                "TakeSeatMode": "ApplyToTake", "MaxMemberCount": 500, "MaxSeatCount": 6,
                "Category": [1], "CustomInfo": "c", "IsMessageDisabled": true,
                "CoverURL": "cover", "ActivityStatus": 3, "IsPublicVisible": false,
                "ViewCount": "88", "BackgroundURL": "bg", "IsUnlimitedRoomEnabled": true,
                "Later": null
            },
            "Statistic": {"TotalViewers": 88, "TotalGiftsSent": 12, "TotalGiftCoins": 3400,
                          "TotalUniqueGiftSenders": 5, "TotalLikesReceived": "640"}
        }"#;
        let e: LiveAfterDestroyRoom = from_slice(body).unwrap();
        assert_eq!(
            (
                e.operator_account.as_str(),
                e.room_id.as_str(),
                e.event_type.as_str()
            ),
            ("@TIM#SYSTEM", "studio-7", "DestroyBySystem")
        );
        assert_eq!(e.event_time, Some(1_711_003_600_000));
        let r = &e.room_info;
        assert_eq!(
            (
                r.room_id.as_str(),
                r.room_name.as_str(),
                r.room_type.as_str()
            ),
            ("studio-7", "Evening show", "Live")
        );
        assert_eq!(r.owner_account, "144115200000000001");
        assert_eq!(
            (
                r.is_seat_enabled,
                r.is_message_disabled,
                r.is_public_visible
            ),
            (true, true, false)
        );
        assert!(r.is_unlimited_room_enabled);
        assert_eq!(r.take_seat_mode, "ApplyToTake");
        assert_eq!((r.max_member_count, r.max_seat_count), (500, 6));
        assert_eq!(r.category, [1]);
        assert_eq!(
            (
                r.custom_info.as_str(),
                r.cover_url.as_str(),
                r.background_url.as_str()
            ),
            ("c", "cover", "bg")
        );
        assert_eq!((r.activity_status, r.view_count), (3, 88));
        let s = e.statistic.unwrap();
        assert_eq!(
            (
                s.total_viewers,
                s.total_gifts_sent,
                s.total_gift_coins,
                s.total_unique_gift_senders,
                s.total_likes_received
            ),
            (88, 12, 3400, 5, 640)
        );
    }

    #[test]
    fn after_update_room_info_reads_only_what_changed() {
        let body = br#"{"CallbackCommand":"Live.CallbackAfterUpdateRoomInfo","Operator_Account":"mod-2",
            "RoomInfo":{"RoomId":"studio-7","RoomName":"Late show","MaxMemberCount":"800",
                "IsMessageDisabled":true,"CustomInfo":"x","TakeSeatMode":"None","IsPublicVisible":false,
                "CoverURL":"c2","Category":[2,3],"ActivityStatus":-1},
            "EventTime":1711000500000,"Extra":[]}"#;
        let e: LiveAfterUpdateRoomInfo = from_slice(body).unwrap();
        assert_eq!(e.operator_account, "mod-2");
        assert_eq!(e.event_time, Some(1_711_000_500_000));
        let r = &e.room_info;
        assert_eq!(r.room_id, "studio-7");
        assert_eq!(r.room_name.as_deref(), Some("Late show"));
        assert_eq!(r.max_member_count, Some(800));
        assert_eq!(r.is_message_disabled, Some(true));
        assert_eq!(r.custom_info.as_deref(), Some("x"));
        assert_eq!(r.take_seat_mode.as_deref(), Some("None"));
        assert_eq!(r.is_public_visible, Some(false));
        assert_eq!(r.cover_url.as_deref(), Some("c2"));
        assert_eq!(r.category.as_deref(), Some(&[2, 3][..]));
        assert_eq!(r.activity_status, Some(-1));

        let only_name = br#"{"RoomInfo":{"RoomId":"r","RoomName":"n"}}"#;
        let e: LiveAfterUpdateRoomInfo = from_slice(only_name).unwrap();
        assert_eq!(
            e.room_info,
            LiveRoomUpdate {
                room_id: "r".into(),
                room_name: Some("n".into()),
                ..LiveRoomUpdate::default()
            }
        );
    }

    #[test]
    fn metadata_callbacks_read_the_documented_fields() {
        let set = br#"{"CallbackCommand":"Live.CallbackAfterSetMetadata","Operator_Account":"dj",
            "RoomId":"studio-7","Metadata":[{"Key":"song","Value":"intro"},{"Key":"mood","Value":"calm"}],
            "EventTime":1711000600000,"Unknown":true}"#;
        let e: LiveAfterSetMetadata = from_slice(set).unwrap();
        assert_eq!(
            (e.operator_account.as_str(), e.room_id.as_str()),
            ("dj", "studio-7")
        );
        assert_eq!(e.metadata.len(), 2);
        assert_eq!(
            (e.metadata[1].key.as_str(), e.metadata[1].value.as_str()),
            ("mood", "calm")
        );
        assert_eq!(e.metadata[0].key, "song");
        assert_eq!(e.metadata[0].value, "intro");
        assert_eq!(e.event_time, Some(1_711_000_600_000));

        let del = br#"{"CallbackCommand":"Live.CallbackAfterDelMetadata","Operator_Account":"dj",
            "RoomId":"studio-7","Keys":["song"],"EventTime":"1711000700000","Unknown":1}"#;
        let e: LiveAfterDelMetadata = from_slice(del).unwrap();
        assert_eq!(
            (e.operator_account.as_str(), e.room_id.as_str()),
            ("dj", "studio-7")
        );
        assert_eq!(e.keys, ["song"]);
        assert_eq!(e.event_time, Some(1_711_000_700_000));
    }

    #[test]
    fn threshold_alert_reads_counts_as_numbers_or_strings() {
        let body = br#"{"CallbackCommand":"Live.CallbackAfterCreateRoomReachingThreshold",
            "Operator_Account":"maker","EventTime":1711000800000,"CurRoomCount":"350","MaxRoomCount":500,
            "Other":"x"}"#;
        let e: LiveAfterCreateRoomReachingThreshold = from_slice(body).unwrap();
        assert_eq!(e.operator_account, "maker");
        assert_eq!((e.cur_room_count, e.max_room_count), (350, 500));
        assert_eq!(e.event_time, Some(1_711_000_800_000));
    }

    #[test]
    fn member_state_changed_reads_the_documented_fields() {
        let body =
            br#"{"CallbackCommand":"Live.CallbackAfterMemberStateChanged","RoomId":"studio-7",
            "EventType":"Offline","EventCause":"HeartbeatInterrupt",
            "MemberList":[{"Member_Account":"viewer-1"},{"Member_Account":144115200000000002}],
            "EventTime":1711000900000,"Other":{}}"#;
        let e: LiveAfterMemberStateChanged = from_slice(body).unwrap();
        assert_eq!(e.room_id, "studio-7");
        assert_eq!(
            (e.event_type.as_str(), e.event_cause.as_str()),
            ("Offline", "HeartbeatInterrupt")
        );
        let members: Vec<&str> = e
            .member_list
            .iter()
            .map(|m| m.member_account.as_str())
            .collect();
        assert_eq!(members, ["viewer-1", "144115200000000002"]);
        assert_eq!(e.event_time, Some(1_711_000_900_000));
    }

    #[test]
    fn owner_and_admin_changes_read_the_documented_fields() {
        let owner = br#"{"CallbackCommand":"Live.CallbackAfterChangeOwner","RoomId":"studio-7",
            "EventTime":1711001000000,"Operator_Account":"root","CurrentOwner_Account":"newhost",
            "OriginalOwner_Account":"oldhost","Other":0}"#;
        let e: LiveAfterChangeOwner = from_slice(owner).unwrap();
        assert_eq!(e.room_id, "studio-7");
        assert_eq!(
            (
                e.current_owner_account.as_str(),
                e.original_owner_account.as_str()
            ),
            ("newhost", "oldhost")
        );
        assert_eq!(e.operator_account, "root");
        assert_eq!(e.event_time, Some(1_711_001_000_000));

        let admin = br#"{"WebhookCommand":"Live.CallbackAfterModifyAdmin","RoomId":"studio-7",
            "EventTime":1711001100000,"Operator_Account":"newhost","Admin_Account":["helper-a","helper-b"],
            "opType":"delete","Other":0}"#;
        let e: LiveAfterModifyAdmin = from_slice(admin).unwrap();
        assert_eq!(e.room_id, "studio-7");
        assert_eq!(e.admin_account, ["helper-a", "helper-b"]);
        assert_eq!(
            (e.op_type.as_str(), e.operator_account.as_str()),
            ("delete", "newhost")
        );
        assert_eq!(e.event_time, Some(1_711_001_100_000));
    }

    #[test]
    fn seat_list_reads_the_documented_fields() {
        let body = br#"{"CallbackCommand":"Mic.CallbackAfterSeatInfoChanged","RoomId":"studio-7",
            "SeatList":[
                {"Index":0,"Member_Account":"hostess","IsTakenDisabled":false,"IsVideoDisabled":false,"IsAudioDisabled":true},
                {"Index":"1","Member_Account":144115200000000003,"IsTakenDisabled":false,"IsVideoDisabled":true,"IsAudioDisabled":false},
                {"Index":2,"IsTakenDisabled":true,"IsVideoDisabled":false,"IsAudioDisabled":false}
            ],
            "EventTime":1711001200000,"Other":"x"}"#;
        let e: MicAfterSeatInfoChanged = from_slice(body).unwrap();
        assert_eq!(e.room_id, "studio-7");
        assert_eq!(e.event_time, Some(1_711_001_200_000));
        let s = &e.seat_list;
        assert_eq!(s.iter().map(|s| s.index).collect::<Vec<_>>(), [0, 1, 2]);
        assert_eq!(
            s.iter()
                .map(|s| s.member_account.as_deref())
                .collect::<Vec<_>>(),
            [Some("hostess"), Some("144115200000000003"), None]
        );
        assert_eq!(
            s.iter()
                .map(|s| (
                    s.is_taken_disabled,
                    s.is_video_disabled,
                    s.is_audio_disabled
                ))
                .collect::<Vec<_>>(),
            [
                (false, false, true),
                (false, true, false),
                (true, false, false)
            ]
        );
        assert_eq!(
            from_slice::<MicAfterSeatInfoChanged>(br#"{"SeatList":[{"Member_Account":true}]}"#)
                .unwrap_err()
                .kind(),
            ErrorKind::Mismatch
        );
    }

    #[test]
    fn battle_callbacks_read_the_documented_fields() {
        let create =
            br#"{"CallbackCommand":"Live.CallbackAfterCreateBattle","Operator_Account":"hostess",
            "BattleId":"b-42","FromRoomId":"studio-7","ToRoomIdList":["studio-8","studio-9"],
            "Timeout":15000,"Duration":"120000","NeedResponse":true,"ExtensionInfo":"round 1",
            "EventTime":1711001300000,"Other":[]}"#;
        let e: LiveAfterCreateBattle = from_slice(create).unwrap();
        assert_eq!(
            (
                e.operator_account.as_str(),
                e.battle_id.as_str(),
                e.from_room_id.as_str()
            ),
            ("hostess", "b-42", "studio-7")
        );
        assert_eq!(e.to_room_id_list, ["studio-8", "studio-9"]);
        assert_eq!(
            (e.timeout, e.duration, e.need_response),
            (15_000, 120_000, true)
        );
        assert_eq!(e.extension_info, "round 1");
        assert_eq!(e.event_time, Some(1_711_001_300_000));

        let start = br#"{"CallbackCommand":"Live.CallbackAfterStartBattle","BattleId":"b-42",
            "Duration":120000,"CreateTime":1711001300,"StartTime":1711001310,
            "FromRoomInfo":{"RoomId":"studio-7","Owner_Account":"hostess"},
            "ToRoomList":[{"RoomId":"studio-8","Owner_Account":"rival"}],"EventTime":1711001310000,"Other":1}"#;
        let e: LiveAfterStartBattle = from_slice(start).unwrap();
        assert_eq!(e.battle_id, "b-42");
        assert_eq!(
            (e.duration, e.create_time, e.start_time),
            (120_000, 1_711_001_300, 1_711_001_310)
        );
        assert_eq!(
            e.from_room_info,
            LiveBattleRoom {
                room_id: "studio-7".into(),
                owner_account: "hostess".into(),
                score: None
            }
        );
        assert_eq!(e.to_room_list.len(), 1);
        assert_eq!(
            (
                e.to_room_list[0].room_id.as_str(),
                e.to_room_list[0].owner_account.as_str()
            ),
            ("studio-8", "rival")
        );
        assert_eq!(e.event_time, Some(1_711_001_310_000));

        let end = br#"{"CallbackCommand":"Live.CallbackAfterEndBattle","BattleId":"b-42",
            "Duration":120000,"CreateTime":1711001300,"StartTime":1711001310,"EndTime":1711001430,
            "OpType":1,
            "FromRoomInfo":{"RoomId":"studio-7","Score":"37","Owner_Account":144115200000000004},
            "ToRoomList":[{"RoomId":"studio-8","Score":41,"Owner_Account":"rival"}],
            "EventTime":1711001431000,"Other":1}"#;
        let e: LiveAfterEndBattle = from_slice(end).unwrap();
        assert_eq!(e.battle_id, "b-42");
        assert_eq!(
            (e.duration, e.create_time, e.start_time, e.end_time),
            (120_000, 1_711_001_300, 1_711_001_310, 1_711_001_430)
        );
        assert_eq!(e.op_type, 1);
        assert_eq!(
            (
                e.from_room_info.room_id.as_str(),
                e.from_room_info.owner_account.as_str(),
                e.from_room_info.score
            ),
            ("studio-7", "144115200000000004", Some(37))
        );
        assert_eq!(
            (
                e.to_room_list[0].room_id.as_str(),
                e.to_room_list[0].owner_account.as_str(),
                e.to_room_list[0].score
            ),
            ("studio-8", "rival", Some(41))
        );
        assert_eq!(e.event_time, Some(1_711_001_431_000));
    }

    #[test]
    fn before_send_gift_reads_the_documented_fields_and_decides() {
        let body = br#"{"CallbackCommand":"Live.CallbackBeforeSendGift","Operator_Account":"fan-3",
            "RoomId":"studio-7","GiftWater":{"From_Account":"fan-3","To_Account":["hostess","cohost"],
            "Time":1711001500,"GiftId":"rocket","Count":"2","Coins":5000},"Other":null}"#;
        let e: LiveBeforeSendGift = from_slice(body).unwrap();
        assert_eq!(
            (e.operator_account.as_str(), e.room_id.as_str()),
            ("fan-3", "studio-7")
        );
        let g = &e.gift_water;
        assert_eq!(g.from_account, "fan-3");
        assert_eq!(g.to_account, ["hostess", "cohost"]);
        assert_eq!((g.time, g.count, g.coins), (1_711_001_500, 2, 5000));
        assert_eq!(g.gift_id, "rocket");
        type V = Verdict<LiveBeforeSendGift>;
        assert_eq!(
            V::allow().to_json(),
            r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}"#
        );
        assert_eq!(
            V::forbid().to_json(),
            r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":1}"#
        );
        const { assert!(<V as CallbackReply>::DECIDES) };
    }
}
