//! Online status: `State.StateChange`.

use serde::Deserialize;

use crate::{Ack, Callback};

// @@ state @@

/// `State.StateChange`: a user went online or offline (login, logout, disconnection, heartbeat
/// timeout) or set a custom status. Reply: [`Ack`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct StateStateChange {
    /// `Info`: the user and what changed.
    #[serde(rename = "Info")]
    pub info: StateChangeInfo,
    /// `KickedDevice`: the devices this login forced offline; only on a `Login` (`Register`)
    /// that kicked other devices (empty otherwise).
    #[serde(rename = "KickedDevice")]
    pub kicked_device: Vec<KickedDevice>,
    /// `EventTime`: when the callback was triggered, Unix milliseconds (`None` when absent).
    #[serde(rename = "EventTime", deserialize_with = "crate::lenient::opt_int")]
    pub event_time: Option<u64>,
}

impl Callback for StateStateChange {
    const COMMAND: &'static str = "State.StateChange";
    type Reply = Ack;
}

/// The `Info` object of [`StateStateChange`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct StateChangeInfo {
    /// `Action`: `Login` (TCP connection established), `Logout` (TCP closed by a logout),
    /// `Disconnect` (network disconnection), `CustomStatusChange` (custom status set).
    #[serde(rename = "Action")]
    pub action: String,
    /// `To_Account`: the user's UserID.
    #[serde(rename = "To_Account")]
    pub to_account: String,
    /// `Reason`: why: `Register` (for `Login`), `Unregister` (for `Logout`), `LinkClose` or
    /// `TimeOut` (for `Disconnect`; the heartbeat timeout is 400 s), `SetCustomStatus` (for
    /// `CustomStatusChange`).
    #[serde(rename = "Reason")]
    pub reason: String,
    /// `CustomStatus`: the user's custom status after the change (`None` when absent).
    #[serde(rename = "CustomStatus")]
    pub custom_status: Option<String>,
}

/// One element of [`StateStateChange::kicked_device`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct KickedDevice {
    /// `Platform`: the kicked device's platform (`iOS`, `Android`, `Web`, `Windows`, `iPad`,
    /// `Mac`, `Linux`).
    #[serde(rename = "Platform")]
    pub platform: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{from_slice, CallbackReply};

    #[test]
    fn state_change_reads_the_documented_fields() {
        let body = br#"{
            "CallbackCommand": "State.StateChange",
            "EventTime": "1700000001234",
            "Info": {"Action": "Login", "To_Account": "carol", "Reason": "Register",
                     "Nested": true},
            "KickedDevice": [{"Platform": "iPad"}, {"Platform": "Linux"}],
            "Future": {"x": 1}
        }"#;
        let e: StateStateChange = from_slice(body).unwrap();
        assert_eq!(
            (
                e.info.action.as_str(),
                e.info.to_account.as_str(),
                e.info.reason.as_str()
            ),
            ("Login", "carol", "Register")
        );
        assert_eq!(e.info.custom_status, None);
        assert_eq!(
            e.kicked_device
                .iter()
                .map(|d| d.platform.as_str())
                .collect::<Vec<_>>(),
            ["iPad", "Linux"]
        );
        assert_eq!(e.event_time, Some(1_700_000_001_234));
        assert_eq!(
            <StateStateChange as Callback>::Reply::default().to_json(),
            r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}"#
        );
    }

    #[test]
    fn a_custom_status_change_has_no_kicked_devices() {
        let body = br#"{"CallbackCommand":"State.StateChange","EventTime":1700000009999,
            "Info":{"Action":"CustomStatusChange","To_Account":"dave","Reason":"SetCustomStatus",
                    "CustomStatus":"in a meeting"}}"#;
        let e: StateStateChange = from_slice(body).unwrap();
        assert_eq!(
            (e.info.action.as_str(), e.info.reason.as_str()),
            ("CustomStatusChange", "SetCustomStatus")
        );
        assert_eq!(e.info.to_account, "dave");
        assert_eq!(e.info.custom_status.as_deref(), Some("in a meeting"));
        assert!(e.kicked_device.is_empty());
        assert_eq!(e.event_time, Some(1_700_000_009_999));
    }
}
