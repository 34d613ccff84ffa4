//! [`Callback`]: a command and its body type; [`CallbackReply`]: what its handler answers.

use serde::de::DeserializeOwned;

/// A webhook command's body as a Rust type, and the reply its handler gives.
///
/// Every event type of this crate implements it; so can yours, for a command this crate does not
/// know yet (derive `Deserialize`, name the command, pick [`Ack`](crate::Ack) or
/// [`Verdict<Self>`](crate::Verdict) as the reply), and the [`Router`](crate::Router) and the
/// extractor take it like any other.
///
/// ```
/// use serde::Deserialize;
/// use tim_callback_events::{Ack, Callback};
///
/// #[derive(Debug, Deserialize)]
/// struct NewThing {
///     #[serde(rename = "Thing")]
///     thing: String,
/// }
///
/// impl Callback for NewThing {
///     const COMMAND: &'static str = "Thing.CallbackAfterNewThing";
///     type Reply = Ack;
/// }
///
/// let event: NewThing = tim_callback_events::from_slice(br#"{"Thing":"x"}"#)?;
/// assert_eq!(event.thing, "x");
/// # Ok::<(), tim_callback_events::Error>(())
/// ```
pub trait Callback: DeserializeOwned + Send + 'static {
    /// The command word, as in the query's `CallbackCommand`.
    const COMMAND: &'static str;
    /// The reply its handler gives: [`Ack`](crate::Ack) for a callback whose answer Tencent
    /// ignores, [`Verdict<Self>`](crate::Verdict) for one whose answer decides.
    type Reply: CallbackReply;
    /// The `ErrorCode`s a refusal may carry to have Tencent pass them (and `ErrorInfo`) to the
    /// client ([`Verdict::forbid_with`](crate::Verdict::forbid_with)): 120001–130000, unless the
    /// command's page gives another range (the group before-callbacks: 10100–10200; the Live gift
    /// check: 102100–102200).
    const CLIENT_CODES: std::ops::RangeInclusive<u32> = 120_001..=130_000;
}

/// A reply to a callback: its JSON, and whether Tencent acts on it.
pub trait CallbackReply: Send + 'static {
    /// Whether Tencent waits for this reply to decide (a before-callback): then a body that cannot
    /// be read is answered by the [`UnreadableBody`](crate::UnreadableBody) policy, not refused.
    const DECIDES: bool;

    /// The reply's JSON body.
    fn to_json(&self) -> String;
}
