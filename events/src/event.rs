//! [`Event`]: any callback, typed by its command; unknown commands kept as raw JSON.

use serde_json::Value;

use crate::parse::tagged;
use crate::{from_slice, Callback, Error};

/// The registry: every typed command, once. One line per command, in sections by module.
macro_rules! events {
    ($( $variant:ident($($ty:ident)::+), )*) => {
        /// Any callback, typed by its command: one variant per command this crate knows (the
        /// [commands table](crate::commands)), and [`Event::Unknown`] for the rest, kept whole
        /// so that a command Tencent adds does not break a deployed server.
        ///
        /// ```
        /// use tim_callback_events::Event;
        ///
        /// let event = Event::parse("C2C.CallbackAfterSendMsg", br#"{"From_Account":"a","To_Account":"b"}"#)?;
        /// assert!(matches!(&event, Event::C2cAfterSendMsg(e) if e.from_account == "a"));
        ///
        /// let new = Event::parse("Chat.CallbackSomethingNew", br#"{"X":1}"#)?;
        /// assert!(matches!(&new, Event::Unknown { command, body } if command == "Chat.CallbackSomethingNew" && body["X"] == 1));
        /// assert_eq!(new.command(), "Chat.CallbackSomethingNew");
        /// # Ok::<(), tim_callback_events::Error>(())
        /// ```
        #[derive(Clone, Debug, PartialEq)]
        #[non_exhaustive]
        pub enum Event {
            $(
                #[doc = concat!("[`", stringify!($($ty)::+), "`]")]
                $variant(crate::$($ty)::+),
            )*
            /// A command this crate has no type for: its name and its body as JSON.
            Unknown {
                /// The command.
                command: String,
                /// The body as serde_json reads it (a member given twice: the last one), without
                /// its `CallbackCommand`/`WebhookCommand` members, read aside and checked.
                body: Value,
            },
        }

        impl Event {
            /// Every command with a type, in the registry's order.
            pub const COMMANDS: &'static [&'static str] = &[$(<crate::$($ty)::+ as Callback>::COMMAND,)*];

            /// The event's command.
            pub fn command(&self) -> &str {
                match self {
                    $(Self::$variant(_) => <crate::$($ty)::+ as Callback>::COMMAND,)*
                    Self::Unknown { command, .. } => command,
                }
            }

            /// Whether `command`'s reply decides (a before-callback); `false` for unknown commands.
            /// One hash lookup: it runs per request for commands without a typed route.
            ///
            /// ```
            /// use tim_callback_events::Event;
            ///
            /// assert!(Event::decides("C2C.CallbackBeforeSendMsg"));
            /// assert!(!Event::decides("C2C.CallbackAfterSendMsg"));
            /// assert!(!Event::decides("Chat.CallbackSomethingNew"));
            /// ```
            pub fn decides(command: &str) -> bool {
                static DECIDING: std::sync::OnceLock<std::collections::HashSet<&'static str>> =
                    std::sync::OnceLock::new();
                DECIDING
                    .get_or_init(|| {
                        [$((
                            <crate::$($ty)::+ as Callback>::COMMAND,
                            <<crate::$($ty)::+ as Callback>::Reply as crate::CallbackReply>::DECIDES,
                        ),)*]
                        .into_iter()
                        .filter_map(|(command, decides)| decides.then_some(command))
                        .collect()
                    })
                    .contains(command)
            }

            /// The client-visible `ErrorCode`s of `command`'s refusals, for a command that decides.
            pub(crate) fn client_codes(command: &str) -> Option<std::ops::RangeInclusive<u32>> {
                $(
                    if command == <crate::$($ty)::+ as Callback>::COMMAND {
                        return <<crate::$($ty)::+ as Callback>::Reply as crate::CallbackReply>::DECIDES
                            .then_some(<crate::$($ty)::+ as Callback>::CLIENT_CODES);
                    }
                )*
                None
            }

            fn parse_known(command: &str, body: &[u8]) -> Option<Result<Self, Error>> {
                $(
                    if command == <crate::$($ty)::+ as Callback>::COMMAND {
                        return Some(from_slice::<crate::$($ty)::+>(body).map(Self::$variant));
                    }
                )*
                None
            }
        }
    };
}

events! {
    // @@ state @@
    StateStateChange(chat::state::StateStateChange),
    // @@ sns @@
    ProfilePortraitSet(chat::sns::ProfilePortraitSet),
    SnsPrevFriendAdd(chat::sns::SnsPrevFriendAdd),
    SnsPrevFriendResponse(chat::sns::SnsPrevFriendResponse),
    SnsFriendAdd(chat::sns::SnsFriendAdd),
    SnsFriendDelete(chat::sns::SnsFriendDelete),
    SnsBlackListAdd(chat::sns::SnsBlackListAdd),
    SnsBlackListDelete(chat::sns::SnsBlackListDelete),
    FollowAfterFollowAdd(chat::sns::FollowAfterFollowAdd),
    FollowAfterFollowDelete(chat::sns::FollowAfterFollowDelete),
    // @@ c2c @@
    C2cBeforeSendMsg(chat::c2c::C2cBeforeSendMsg),
    C2cAfterSendMsg(chat::c2c::C2cAfterSendMsg),
    C2cAfterMsgReport(chat::c2c::C2cAfterMsgReport),
    C2cAfterMsgWithDraw(chat::c2c::C2cAfterMsgWithDraw),
    C2cAfterC2cMsgExtension(chat::c2c::C2cAfterC2cMsgExtension),
    C2cAfterModifyMsg(chat::c2c::C2cAfterModifyMsg),
    C2cAfterMsgReadReceipt(chat::c2c::C2cAfterMsgReadReceipt),
    // @@ c2c end @@


    // @@ group @@
    GroupBeforeCreateGroup(chat::group::GroupBeforeCreateGroup),
    GroupAfterCreateGroup(chat::group::GroupAfterCreateGroup),
    GroupBeforeApplyJoinGroup(chat::group::GroupBeforeApplyJoinGroup),
    GroupBeforeInviteJoinGroup(chat::group::GroupBeforeInviteJoinGroup),
    GroupAfterNewMemberJoin(chat::group::GroupAfterNewMemberJoin),
    GroupAfterMemberExit(chat::group::GroupAfterMemberExit),
    GroupBeforeSendMsg(chat::group::GroupBeforeSendMsg),
    GroupAfterSendMsg(chat::group::GroupAfterSendMsg),
    GroupAfterGroupFull(chat::group::GroupAfterGroupFull),
    GroupAfterGroupDestroyed(chat::group::GroupAfterGroupDestroyed),
    GroupAfterGroupInfoChanged(chat::group::GroupAfterGroupInfoChanged),
    GroupOnMemberStateChange(chat::group::GroupOnMemberStateChange),
    GroupSendMsgException(chat::group::GroupSendMsgException),
    GroupBeforeCreateTopic(chat::group::GroupBeforeCreateTopic),
    GroupAfterCreateTopic(chat::group::GroupAfterCreateTopic),
    GroupAfterTopicDestroyed(chat::group::GroupAfterTopicDestroyed),
    GroupAfterTopicInfoChanged(chat::group::GroupAfterTopicInfoChanged),
    GroupAfterReadReceipt(chat::group::GroupAfterReadReceipt),
    GroupAfterGroupAttrChanged(chat::group::GroupAfterGroupAttrChanged),
    GroupAfterMemberFieldChanged(chat::group::GroupAfterMemberFieldChanged),
    GroupAfterChangeGroupOwner(chat::group::GroupAfterChangeGroupOwner),
    GroupOnDailyGroupQuotaAlarm(chat::group::GroupOnDailyGroupQuotaAlarm),
    GroupAfterRecallMsg(chat::group::GroupAfterRecallMsg),
    GroupAfterGroupMsgExtension(chat::group::GroupAfterGroupMsgExtension),
    // @@ group end @@


    // @@ bot and official accounts @@
    BotOnC2CMessage(chat::bot::BotOnC2CMessage),
    BotOnGroupMessage(chat::bot::BotOnGroupMessage),
    ChatbotOnC2CSignalMessage(chat::bot::ChatbotOnC2CSignalMessage),
    OfficialAccountAfterCreateOfficialAccount(chat::official::OfficialAccountAfterCreateOfficialAccount),
    OfficialAccountAfterOfficialAccountInfoChanged(chat::official::OfficialAccountAfterOfficialAccountInfoChanged),
    OfficialAccountAfterOfficialAccountDestroyed(chat::official::OfficialAccountAfterOfficialAccountDestroyed),
    OfficialAccountBeforeAddSubscriber(chat::official::OfficialAccountBeforeAddSubscriber),
    OfficialAccountAfterAddSubscriber(chat::official::OfficialAccountAfterAddSubscriber),
    OfficialAccountAfterDeleteSubscriber(chat::official::OfficialAccountAfterDeleteSubscriber),
    OfficialAccountAfterOfficialAccountFull(chat::official::OfficialAccountAfterOfficialAccountFull),
    OfficialAccountBeforeSendMsg(chat::official::OfficialAccountBeforeSendMsg),
    OfficialAccountAfterSendMsg(chat::official::OfficialAccountAfterSendMsg),
    OfficialAccountAfterMsgWithDraw(chat::official::OfficialAccountAfterMsgWithDraw),
    // @@ bot end @@


    // @@ live @@
    LiveAfterCreateRoom(live::LiveAfterCreateRoom),
    LiveAfterDestroyRoom(live::LiveAfterDestroyRoom),
    LiveAfterUpdateRoomInfo(live::LiveAfterUpdateRoomInfo),
    LiveAfterSetMetadata(live::LiveAfterSetMetadata),
    LiveAfterDelMetadata(live::LiveAfterDelMetadata),
    LiveAfterCreateRoomReachingThreshold(live::LiveAfterCreateRoomReachingThreshold),
    LiveAfterMemberStateChanged(live::LiveAfterMemberStateChanged),
    LiveAfterChangeOwner(live::LiveAfterChangeOwner),
    LiveAfterModifyAdmin(live::LiveAfterModifyAdmin),
    MicAfterSeatInfoChanged(live::MicAfterSeatInfoChanged),
    LiveAfterCreateBattle(live::LiveAfterCreateBattle),
    LiveAfterStartBattle(live::LiveAfterStartBattle),
    LiveAfterEndBattle(live::LiveAfterEndBattle),
    LiveBeforeSendGift(live::LiveBeforeSendGift),
    // @@ live end @@
}

impl Event {
    /// Parses a callback's body as the type of `command` (an unknown command: the body as JSON),
    /// by the rules of [`from_slice`]: the body's own command, when it has one, must be `command`.
    ///
    /// # Errors
    ///
    /// An [`Error`]: a malformed body, one that does not match `command`'s type, or a body
    /// naming another command ([`CommandConflict`](crate::ErrorKind::CommandConflict)).
    pub fn parse(command: &str, body: &[u8]) -> Result<Self, Error> {
        if let Some(known) = Self::parse_known(command, body) {
            return known;
        }
        let (body, _): (Value, _) = tagged(body, Some(command))?;
        Ok(Self::Unknown {
            command: command.to_owned(),
            body,
        })
    }
}
