//! [`TrtcVerifier`]: the pure, synchronous check of one TRTC event callback.

use std::ops::Range;
use std::time::Duration;

use http::{HeaderMap, HeaderName};

use super::event;
use super::keys::{App, Table};
use super::TrtcKeys;
use crate::verify::ct::ct_eq;
use crate::verify::{digits, Rejection, Verified};

/// The header naming the app (`SdkAppId`; header names are case-insensitive).
pub(crate) static SDK_APP_ID: HeaderName = HeaderName::from_static("sdkappid");
/// The header carrying `base64(HMAC-SHA256(key, body))`.
pub(crate) static SIGN: HeaderName = HeaderName::from_static("sign");

/// The rules a TRTC event callback must pass, checked without I/O: give it the headers, the body
/// exactly as received, and the time.
///
/// In order (each step only runs if the ones before it passed, so a forged request costs no
/// hashing until it names a known app and carries a well-formed `Sign`):
///
/// 1. exactly one `SdkAppId` header, in canonical decimal, naming an app of the [`TrtcKeys`]
///    ([`MissingAppId`](Rejection::MissingAppId), [`DuplicateParameter`](Rejection::DuplicateParameter),
///    [`AppIdMismatch`](Rejection::AppIdMismatch));
/// 2. exactly one `Sign` header of 44 characters of padded standard base64
///    ([`MissingSign`](Rejection::MissingSign), [`MalformedSign`](Rejection::MalformedSign));
/// 3. `Sign` equal, in constant time, to HMAC-SHA256 of the body under the app's current key, or
///    its previous key during a rotation ([`SignatureMismatch`](Rejection::SignatureMismatch));
/// 4. the verified body is UTF-8 and one JSON object with `EventGroupId`, `EventType` and
///    `CallbackTs`, each exactly once, as integers that fit a `u64` (no sign, fraction, exponent or
///    string), and `EventInfo` at most once; a duplicate of any of the four (also under an
///    escaped spelling of its name) is refused ([`MalformedEvent`](Rejection::MalformedEvent)).
///    Read by one borrowed `serde_json` deserialize (nothing allocated for a plain event), with
///    `EventInfo` kept raw ([`VerifiedTrtcEvent::event_info`]); other members are checked for JSON
///    grammar, not decoded. Only signed bytes are ever parsed;
/// 5. `CallbackTs` (milliseconds) within the window of now, in both directions
///    ([`Expired`](Rejection::Expired), [`FromFuture`](Rejection::FromFuture)).
///
/// The body is never re-serialised: Tencent signs the bytes it sends, whitespace included.
///
/// # Examples
///
/// ```
/// use http::HeaderMap;
/// use tim_callback_auth::trtc::{TrtcKey, TrtcKeys, TrtcVerifier};
///
/// let key = TrtcKey::new("MyTrtcCallbackKey")?;
/// let body = br#"{"EventGroupId":1,"EventType":103,"CallbackTs":1700000000000,"EventInfo":{}}"#;
/// let mut headers = HeaderMap::new();
/// headers.insert("SdkAppId", "1400000001".parse()?);
/// headers.insert("Sign", key.sign(body).parse()?);
///
/// let keys = TrtcKeys::single(1400000001, key);
/// let event = TrtcVerifier::new().verify(&keys, &headers, body, 1700000000000 + 30_000)?;
/// assert_eq!((event.app_id(), event.event_group_id(), event.event_type()), (1400000001, 1, 103));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrtcVerifier {
    window_ms: u64,
}

impl Default for TrtcVerifier {
    fn default() -> Self {
        Self::new()
    }
}

impl TrtcVerifier {
    /// A window of 10 minutes: Tencent's retries of an event (for about a minute) pass, a body
    /// captured an hour ago does not.
    pub const fn new() -> Self {
        Self {
            window_ms: 10 * 60 * 1000,
        }
    }

    /// How far `CallbackTs` may be from now, either way (in whole milliseconds: a fraction of a
    /// millisecond is dropped).
    pub fn with_window(self, window: Duration) -> Self {
        Self {
            window_ms: u64::try_from(window.as_millis()).unwrap_or(u64::MAX),
        }
    }

    /// The window.
    pub fn window(&self) -> Duration {
        Duration::from_millis(self.window_ms)
    }

    /// Checks one event: its headers, its body as received, and the Unix time in milliseconds.
    ///
    /// # Errors
    ///
    /// The first rule (see the type's docs) the event breaks.
    pub fn verify(
        &self,
        keys: &TrtcKeys,
        headers: &HeaderMap,
        body: &[u8],
        now_ms: u64,
    ) -> Result<VerifiedTrtcEvent, Rejection> {
        let table = keys.table();
        let claim = self.check_headers(&table, headers).map_err(|(r, _)| r)?;
        self.check_body(&claim, body, now_ms)
    }

    /// Steps 1 and 2: what can be checked before the body is read. On failure, also the app the
    /// request named, if it is in the set (for its counters).
    pub(crate) fn check_headers<'k>(
        &self,
        keys: &'k Table,
        headers: &HeaderMap,
    ) -> Result<Claim<'k>, (Rejection, Option<&'k App>)> {
        let app_id =
            single(headers, &SDK_APP_ID, Rejection::MissingAppId).map_err(|r| (r, None))?;
        let app = digits::parse_canonical(app_id)
            .and_then(|id| keys.app(id))
            .ok_or((Rejection::AppIdMismatch, None))?;
        let sign = single(headers, &SIGN, Rejection::MissingSign).map_err(|r| (r, Some(app)))?;
        let sign = super::base64::decode(sign).ok_or((Rejection::MalformedSign, Some(app)))?;
        Ok(Claim { app, sign })
    }

    /// Steps 3 to 5, on the whole body.
    pub(crate) fn check_body(
        &self,
        claim: &Claim<'_>,
        body: &[u8],
        now_ms: u64,
    ) -> Result<VerifiedTrtcEvent, Rejection> {
        let keys = claim.app.keys.load();
        let key = if ct_eq(&keys.current.mac_of(body), &claim.sign) {
            Verified::CurrentToken
        } else if keys
            .previous
            .as_ref()
            .is_some_and(|previous| ct_eq(&previous.mac_of(body), &claim.sign))
        {
            Verified::PreviousToken
        } else {
            return Err(Rejection::SignatureMismatch);
        };
        let fields = event::read(body).ok_or(Rejection::MalformedEvent)?;
        if now_ms.saturating_sub(fields.callback_ts) > self.window_ms {
            return Err(Rejection::Expired);
        }
        if fields.callback_ts.saturating_sub(now_ms) > self.window_ms {
            return Err(Rejection::FromFuture);
        }
        Ok(VerifiedTrtcEvent {
            app_id: claim.app.id,
            event_group_id: fields.event_group_id,
            event_type: fields.event_type,
            callback_ts: fields.callback_ts,
            event_info: fields.event_info,
            body_len: body.len(),
            key,
        })
    }
}

/// The value of a header that must appear exactly once: `missing` without it,
/// `DuplicateParameter` with more than one.
fn single<'h>(
    headers: &'h HeaderMap,
    name: &HeaderName,
    missing: Rejection,
) -> Result<&'h [u8], Rejection> {
    let mut values = headers.get_all(name).iter();
    let value = values.next().ok_or(missing)?;
    if values.next().is_some() {
        return Err(Rejection::DuplicateParameter);
    }
    Ok(value.as_bytes())
}

/// What the headers of an event claim: the app (known) and the decoded `Sign`.
pub(crate) struct Claim<'k> {
    pub(crate) app: &'k App,
    pub(crate) sign: [u8; 32],
}

/// A TRTC event that passed verification: the facts a handler routes on, read from the verified
/// body. The layer inserts it into the request's extensions (axum: `Extension<VerifiedTrtcEvent>`).
///
/// The body the handler reads is the same bytes, so parsing `EventInfo` from it needs no second
/// check, and no second parse of the whole body: [`event_info`](Self::event_info) gives its raw
/// text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct VerifiedTrtcEvent {
    app_id: u64,
    event_group_id: u64,
    event_type: u64,
    callback_ts: u64,
    /// `EventInfo`'s byte range in the body.
    event_info: Option<(usize, usize)>,
    /// The verified body's length: a body of another length is not the one verified.
    body_len: usize,
    key: Verified,
}

impl VerifiedTrtcEvent {
    /// The app (the `SdkAppId` header, whose key verified the body).
    pub fn app_id(&self) -> u64 {
        self.app_id
    }

    /// `EventGroupId`: 1 room events, 2 media events, 3 relay to CDN, 4 cloud recording, …
    pub fn event_group_id(&self) -> u64 {
        self.event_group_id
    }

    /// `EventType`, within the group (103 = a user entered the room, …).
    pub fn event_type(&self) -> u64 {
        self.event_type
    }

    /// `CallbackTs`: when Tencent sent the event, in Unix milliseconds.
    pub fn callback_ts_ms(&self) -> u64 {
        self.callback_ts
    }

    /// Where `EventInfo`'s value lies in the verified body (a byte range); `None` when the event
    /// has no `EventInfo`, or it is `null`.
    pub fn event_info_range(&self) -> Option<Range<usize>> {
        self.event_info.map(|(start, end)| start..end)
    }

    /// `EventInfo`'s value, raw (not decoded: parse it with your JSON parser), from the body the
    /// layer handed on: pass that body (the handler's `String`, `Bytes` or
    /// [`TrtcBody::as_bytes`](super::TrtcBody::as_bytes)). `None` when the event has no `EventInfo`
    /// (or it is `null`), or when `body` is not the verified body (not of its length, or the range
    /// is not UTF-8 there).
    ///
    /// ```
    /// use http::HeaderMap;
    /// use tim_callback_auth::trtc::{TrtcKey, TrtcKeys, TrtcVerifier};
    ///
    /// let key = TrtcKey::new("MyTrtcCallbackKey")?;
    /// let body = br#"{"EventGroupId":1,"EventType":103,"CallbackTs":1700000000000,"EventInfo":{"RoomId":"r1"}}"#;
    /// let mut headers = HeaderMap::new();
    /// headers.insert("SdkAppId", "1400000001".parse()?);
    /// headers.insert("Sign", key.sign(body).parse()?);
    /// let keys = TrtcKeys::single(1400000001, key);
    /// let event = TrtcVerifier::new().verify(&keys, &headers, body, 1700000000000)?;
    /// assert_eq!(event.event_info(body), Some(r#"{"RoomId":"r1"}"#));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn event_info<'b>(&self, body: &'b [u8]) -> Option<&'b str> {
        if body.len() != self.body_len {
            return None;
        }
        let range = self.event_info_range()?;
        std::str::from_utf8(body.get(range)?).ok()
    }

    /// Whether the app's previous key (during a rotation) verified it.
    pub fn signed_with_previous_key(&self) -> bool {
        self.key == Verified::PreviousToken
    }

    pub(crate) fn verified(&self) -> Verified {
        self.key
    }
}
