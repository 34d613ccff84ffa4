//! TRTC event callbacks: [`TrtcEvent`], `EventInfo` typed per event type.
//!
//! [`TrtcCallbackAuthLayer`](tim_callback_auth::trtc::TrtcCallbackAuthLayer) verifies the body's
//! HMAC and reads the envelope (`EventGroupId`, `EventType`, `CallbackTs`, where `EventInfo` is)
//! into a [`VerifiedTrtcEvent`]; [`TrtcEvent::from_verified`] parses only `EventInfo`, into the
//! type of that event. Room events (group 1) and media events (group 2) are typed; other groups
//! (relay to CDN, recording, …: their pages do not say they are signed with this key and scheme)
//! and types are kept as [`TrtcEvent::Other`] with `EventInfo` raw.

use serde::Deserialize;
use serde_json::Value;
use tim_callback_auth::trtc::VerifiedTrtcEvent;

use crate::{Error, ErrorKind};

/// A verified TRTC event, typed by its `EventGroupId` and `EventType`.
///
/// ```
/// use http::HeaderMap;
/// use tim_callback_auth::trtc::{TrtcKey, TrtcKeys, TrtcVerifier};
/// use tim_callback_events::trtc::TrtcEvent;
///
/// let key = TrtcKey::new("MyTrtcCallbackKey")?;
/// let body = br#"{"EventGroupId":1,"EventType":103,"CallbackTs":1700000000000,
///     "EventInfo":{"RoomId":12345,"EventTs":1700000000,"UserId":"alice","Role":20}}"#;
/// let mut headers = HeaderMap::new();
/// headers.insert("SdkAppId", "1400000001".parse()?);
/// headers.insert("Sign", key.sign(body).parse()?);
/// let verified = TrtcVerifier::new().verify(&TrtcKeys::single(1400000001, key), &headers, body, 1700000000000)?;
///
/// let TrtcEvent::EnterRoom(info) = TrtcEvent::from_verified(&verified, body)? else { panic!() };
/// assert_eq!((info.room_id.to_string(), info.user_id.as_str(), info.role), ("12345".to_owned(), "alice", Some(20)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum TrtcEvent {
    /// 1/101 `EVENT_TYPE_CREATE_ROOM`: the room was created.
    CreateRoom(RoomInfo),
    /// 1/102 `EVENT_TYPE_DISMISS_ROOM`: the room was dismissed.
    DismissRoom(RoomInfo),
    /// 1/103 `EVENT_TYPE_ENTER_ROOM`: a user entered the room.
    EnterRoom(UserInfo),
    /// 1/104 `EVENT_TYPE_EXIT_ROOM`: a user left the room.
    ExitRoom(UserInfo),
    /// 1/105 `EVENT_TYPE_CHANGE_ROLE`: a user switched role (anchor, audience).
    ChangeRole(UserInfo),
    /// 2/201 `EVENT_TYPE_START_VIDEO`: a user started pushing video.
    StartVideo(MediaInfo),
    /// 2/202 `EVENT_TYPE_STOP_VIDEO`: a user stopped pushing video.
    StopVideo(MediaInfo),
    /// 2/203 `EVENT_TYPE_START_AUDIO`: a user started pushing audio.
    StartAudio(MediaInfo),
    /// 2/204 `EVENT_TYPE_STOP_AUDIO`: a user stopped pushing audio.
    StopAudio(MediaInfo),
    /// 2/205 `EVENT_TYPE_START_ASSIT`: a user started pushing the auxiliary stream (screen).
    StartAssist(MediaInfo),
    /// 2/206 `EVENT_TYPE_STOP_ASSIT`: a user stopped pushing the auxiliary stream.
    StopAssist(MediaInfo),
    /// Any other group or type: `EventInfo` as JSON (`Null` when absent).
    Other {
        /// `EventGroupId`.
        group: u64,
        /// `EventType`.
        event_type: u64,
        /// `EventInfo`, raw.
        info: Value,
    },
}

/// A room id: TRTC rooms are numbers (`RoomId`) or strings (`strRoomId` apps), and `EventInfo`
/// carries whichever the room has.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(untagged)]
pub enum RoomId {
    /// A numeric room id.
    Number(u64),
    /// A string room id.
    Text(String),
}

impl Default for RoomId {
    fn default() -> Self {
        Self::Text(String::new())
    }
}

impl std::fmt::Display for RoomId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Number(n) => write!(f, "{n}"),
            Self::Text(s) => f.write_str(s),
        }
    }
}

/// `EventInfo` of a room created or dismissed (101, 102).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct RoomInfo {
    /// `RoomId`.
    #[serde(rename = "RoomId")]
    pub room_id: RoomId,
    /// `EventTs`: when it happened, Unix seconds.
    #[serde(rename = "EventTs", deserialize_with = "crate::lenient::int")]
    pub event_ts: u64,
    /// `EventMsTs`: when it happened, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventMsTs", deserialize_with = "crate::lenient::opt_int")]
    pub event_ms_ts: Option<u64>,
}

/// `EventInfo` of a user entering, leaving or switching role (103, 104, 105).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct UserInfo {
    /// `RoomId`.
    #[serde(rename = "RoomId")]
    pub room_id: RoomId,
    /// `EventTs`: when it happened, Unix seconds.
    #[serde(rename = "EventTs", deserialize_with = "crate::lenient::int")]
    pub event_ts: u64,
    /// `EventMsTs`: when it happened, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventMsTs", deserialize_with = "crate::lenient::opt_int")]
    pub event_ms_ts: Option<u64>,
    /// `UserId`.
    #[serde(rename = "UserId")]
    pub user_id: String,
    /// `UniqueId`: the user's session (one per entry).
    #[serde(rename = "UniqueId", deserialize_with = "crate::lenient::opt_int")]
    pub unique_id: Option<u64>,
    /// `Role`: 20 anchor, 21 audience (enter and role-change events).
    #[serde(rename = "Role", deserialize_with = "crate::lenient::opt_int")]
    pub role: Option<u32>,
    /// `TerminalType`: the user's platform (enter events).
    #[serde(rename = "TerminalType", deserialize_with = "crate::lenient::opt_int")]
    pub terminal_type: Option<u32>,
    /// `UserType`: the SDK kind (enter events).
    #[serde(rename = "UserType", deserialize_with = "crate::lenient::opt_int")]
    pub user_type: Option<u32>,
    /// `Reason`: why (enter: 1 normal, 2 reconnect; exit: 1 normal, 2 timeout, 3 removed, …).
    #[serde(rename = "Reason", deserialize_with = "crate::lenient::opt_int")]
    pub reason: Option<u32>,
}

/// `EventInfo` of a media event (201 to 206).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct MediaInfo {
    /// `RoomId`.
    #[serde(rename = "RoomId")]
    pub room_id: RoomId,
    /// `EventTs`: when it happened, Unix seconds.
    #[serde(rename = "EventTs", deserialize_with = "crate::lenient::int")]
    pub event_ts: u64,
    /// `EventMsTs`: when it happened, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventMsTs", deserialize_with = "crate::lenient::opt_int")]
    pub event_ms_ts: Option<u64>,
    /// `UserId`.
    #[serde(rename = "UserId")]
    pub user_id: String,
    /// `Reason`: why a stream stopped (1 normal, 2 the user left), when given.
    #[serde(rename = "Reason", deserialize_with = "crate::lenient::opt_int")]
    pub reason: Option<u32>,
}

impl TrtcEvent {
    /// Parses `EventInfo` of a verified event from `body`, the bytes the layer verified (the
    /// handler's body): only `EventInfo`, whose place the layer already found.
    ///
    /// # Errors
    ///
    /// [`Mismatch`](ErrorKind::Mismatch) when `EventInfo` does not match its event's type (a
    /// typed event without `EventInfo` too), [`Malformed`](ErrorKind::Malformed) when `body` is
    /// not the verified body.
    pub fn from_verified(verified: &VerifiedTrtcEvent, body: &[u8]) -> Result<Self, Error> {
        let info = match verified.event_info_range() {
            Some(_) => Some(
                verified
                    .event_info(body)
                    .ok_or_else(|| Error::new(ErrorKind::Malformed))?,
            ),
            None => None,
        };
        Self::from_parts(verified.event_group_id(), verified.event_type(), info)
    }

    /// Types an event from its group, type and raw `EventInfo` (`None`: absent or `null`).
    ///
    /// # Errors
    ///
    /// As [`from_verified`](Self::from_verified).
    pub fn from_parts(group: u64, event_type: u64, info: Option<&str>) -> Result<Self, Error> {
        fn typed<'a, T: Deserialize<'a>>(info: Option<&'a str>) -> Result<T, Error> {
            let info = info.ok_or_else(|| Error::new(ErrorKind::Mismatch))?;
            serde_json::from_str(info).map_err(|e| Error::json(&e))
        }
        Ok(match (group, event_type) {
            (1, 101) => Self::CreateRoom(typed(info)?),
            (1, 102) => Self::DismissRoom(typed(info)?),
            (1, 103) => Self::EnterRoom(typed(info)?),
            (1, 104) => Self::ExitRoom(typed(info)?),
            (1, 105) => Self::ChangeRole(typed(info)?),
            (2, 201) => Self::StartVideo(typed(info)?),
            (2, 202) => Self::StopVideo(typed(info)?),
            (2, 203) => Self::StartAudio(typed(info)?),
            (2, 204) => Self::StopAudio(typed(info)?),
            (2, 205) => Self::StartAssist(typed(info)?),
            (2, 206) => Self::StopAssist(typed(info)?),
            _ => {
                let info = match info {
                    Some(text) => serde_json::from_str(text).map_err(|e| Error::json(&e))?,
                    None => Value::Null,
                };
                Self::Other {
                    group,
                    event_type,
                    info,
                }
            }
        })
    }

    /// `(EventGroupId, EventType)`.
    pub fn kind(&self) -> (u64, u64) {
        match self {
            Self::CreateRoom(_) => (1, 101),
            Self::DismissRoom(_) => (1, 102),
            Self::EnterRoom(_) => (1, 103),
            Self::ExitRoom(_) => (1, 104),
            Self::ChangeRole(_) => (1, 105),
            Self::StartVideo(_) => (2, 201),
            Self::StopVideo(_) => (2, 202),
            Self::StartAudio(_) => (2, 203),
            Self::StopAudio(_) => (2, 204),
            Self::StartAssist(_) => (2, 205),
            Self::StopAssist(_) => (2, 206),
            Self::Other {
                group, event_type, ..
            } => (*group, *event_type),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_room_and_media_event_is_typed_and_others_kept() {
        let room = r#"{"RoomId":"live-1","EventTs":1700000000,"EventMsTs":1700000000123}"#;
        let user = r#"{"RoomId":42,"EventTs":1700000001,"UserId":"bob","UniqueId":1700000000999,"Role":21,"TerminalType":3,"UserType":3,"Reason":2}"#;
        let media = r#"{"RoomId":42,"EventTs":"1700000002","UserId":"bob","Reason":1}"#;
        for (group, t) in [(1, 101), (1, 102)] {
            let (TrtcEvent::CreateRoom(info) | TrtcEvent::DismissRoom(info)) =
                TrtcEvent::from_parts(group, t, Some(room)).unwrap()
            else {
                panic!("{t}")
            };
            assert_eq!(
                (info.room_id.clone(), info.event_ts, info.event_ms_ts),
                (
                    RoomId::Text("live-1".into()),
                    1_700_000_000,
                    Some(1_700_000_000_123)
                )
            );
        }
        for t in [103, 104, 105] {
            let event = TrtcEvent::from_parts(1, t, Some(user)).unwrap();
            assert_eq!(event.kind(), (1, t));
            let (TrtcEvent::EnterRoom(info)
            | TrtcEvent::ExitRoom(info)
            | TrtcEvent::ChangeRole(info)) = event
            else {
                panic!()
            };
            assert_eq!(
                (
                    info.room_id.to_string(),
                    info.user_id.as_str(),
                    info.event_ts
                ),
                ("42".to_owned(), "bob", 1_700_000_001)
            );
            assert_eq!(
                (
                    info.unique_id,
                    info.role,
                    info.terminal_type,
                    info.user_type,
                    info.reason
                ),
                (Some(1_700_000_000_999), Some(21), Some(3), Some(3), Some(2))
            );
        }
        for t in 201..=206 {
            let event = TrtcEvent::from_parts(2, t, Some(media)).unwrap();
            assert_eq!(event.kind(), (2, t));
            let (TrtcEvent::StartVideo(info)
            | TrtcEvent::StopVideo(info)
            | TrtcEvent::StartAudio(info)
            | TrtcEvent::StopAudio(info)
            | TrtcEvent::StartAssist(info)
            | TrtcEvent::StopAssist(info)) = event
            else {
                panic!()
            };
            assert_eq!(
                (info.user_id.as_str(), info.event_ts, info.reason),
                ("bob", 1_700_000_002, Some(1))
            );
        }
        let other = TrtcEvent::from_parts(3, 301, Some(r#"{"StreamId":"s"}"#)).unwrap();
        assert_eq!(
            other,
            TrtcEvent::Other {
                group: 3,
                event_type: 301,
                info: serde_json::json!({"StreamId": "s"})
            }
        );
        assert_eq!(
            TrtcEvent::from_parts(1, 199, None).unwrap().kind(),
            (1, 199)
        );
        // The same type in another group is not that event.
        assert!(matches!(
            TrtcEvent::from_parts(2, 103, Some(user)).unwrap(),
            TrtcEvent::Other {
                group: 2,
                event_type: 103,
                ..
            }
        ));
        assert!(matches!(
            TrtcEvent::from_parts(1, 201, Some(media)).unwrap(),
            TrtcEvent::Other { group: 1, .. }
        ));
    }

    #[test]
    fn a_typed_event_needs_a_matching_event_info() {
        assert_eq!(
            TrtcEvent::from_parts(1, 103, None).unwrap_err().kind(),
            ErrorKind::Mismatch
        );
        assert_eq!(
            TrtcEvent::from_parts(1, 103, Some(r#"{"UserId":5}"#))
                .unwrap_err()
                .kind(),
            ErrorKind::Mismatch
        );
        assert_eq!(
            TrtcEvent::from_parts(1, 103, Some(r#"{"UserId":"#))
                .unwrap_err()
                .kind(),
            ErrorKind::Malformed
        );
        assert_eq!(
            TrtcEvent::from_parts(3, 1, Some("[")).unwrap_err().kind(),
            ErrorKind::Malformed
        );
    }
}
