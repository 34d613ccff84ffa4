//! [`Rejection`]: why a callback was refused.

use std::fmt;

/// Why a request was rejected.
///
/// `Display` is a short lowercase reason that never contains the token, the `Sign` or the query;
/// [`label`](Rejection::label) is its stable `snake_case` name for metrics.
///
/// # Examples
///
/// ```
/// use tim_callback_auth::{CallbackToken, Rejection, TokenSnapshot, Verifier};
///
/// let snapshot = TokenSnapshot::enabled(CallbackToken::new("xxxxyyyy")?);
/// let stale = Verifier::new().verify(&snapshot, "Sign=00&RequestTime=1669872112", 1669872112 + 61);
/// assert_eq!(stale, Err(Rejection::Expired));
/// assert_eq!(Rejection::Expired.to_string(), "expired");
/// assert_eq!(Rejection::Expired.label(), "expired");
/// # Ok::<(), tim_callback_auth::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rejection {
    /// No `Sign` parameter, while authentication is enabled (for a TRTC event: no `Sign` header).
    MissingSign,
    /// No `RequestTime` parameter, while authentication is enabled.
    MissingRequestTime,
    /// `Sign` is not exactly 64 hex digits (for a TRTC event: not 44 characters of padded base64
    /// encoding 32 bytes).
    MalformedSign,
    /// `RequestTime` is not 1 to 20 ASCII digits.
    MalformedRequestTime,
    /// `Sign`, `RequestTime` or `SdkAppid` appears more than once (for a TRTC event: the `Sign` or
    /// `SdkAppId` header).
    DuplicateParameter,
    /// `RequestTime` is further in the past than the window allows.
    Expired,
    /// `RequestTime` is further in the future than the window allows.
    FromFuture,
    /// The `Sign` matches no token that is currently accepted.
    SignatureMismatch,
    /// `SdkAppid` is not canonical decimal, or not the configured app (or no app of the set).
    AppIdMismatch,
    /// Authentication is disabled at Tencent, but the verifier requires a signature (strict mode).
    AuthenticationDisabled,
    /// No token has been loaded yet (the refresher has not completed its first fetch).
    TokenUnavailable,
    /// A parameter name reads as `Sign`, `RequestTime` or `SdkAppid` only once percent-decoded
    /// (`Sig%6E`, `%53dkAppid`) or, for the app id, case-folded beyond ASCII: Tencent never writes
    /// these names so, and a parser in the handler would read a parameter the verifier did not
    /// check.
    DisguisedParameter,
    /// `SdkAppid` is missing, while an app must be checked ([`Verifier::with_app_id`] or an
    /// [`AppSet`](crate::AppSet)).
    ///
    /// [`Verifier::with_app_id`]: crate::Verifier::with_app_id
    MissingAppId,
    /// The request came from an address outside the source allowlist
    /// ([`AllowlistFilter`](crate::allowlist::AllowlistFilter)).
    SourceNotAllowed,
    /// The address the request came from could not be determined (no peer address, a missing,
    /// malformed or oversized forwarding header).
    UnknownSource,
    /// No source allowlist has been loaded yet.
    AllowlistUnavailable,
    /// A TRTC event body is larger than the layer's limit (the rest is not read).
    BodyTooLarge,
    /// A TRTC event body could not be read (the connection failed or the body reported an error).
    UnreadableBody,
    /// A TRTC event body, once its signature is verified, is not the JSON object Tencent sends:
    /// invalid JSON, or `EventGroupId`, `EventType` or `CallbackTs` missing, duplicated or not a
    /// plain non-negative integer.
    MalformedEvent,
}

impl Rejection {
    /// Every reason, in declaration order (for metrics and statistics).
    pub const ALL: [Rejection; 19] = [
        Rejection::MissingSign,
        Rejection::MissingRequestTime,
        Rejection::MalformedSign,
        Rejection::MalformedRequestTime,
        Rejection::DuplicateParameter,
        Rejection::Expired,
        Rejection::FromFuture,
        Rejection::SignatureMismatch,
        Rejection::AppIdMismatch,
        Rejection::AuthenticationDisabled,
        Rejection::TokenUnavailable,
        Rejection::DisguisedParameter,
        Rejection::MissingAppId,
        Rejection::SourceNotAllowed,
        Rejection::UnknownSource,
        Rejection::AllowlistUnavailable,
        Rejection::BodyTooLarge,
        Rejection::UnreadableBody,
        Rejection::MalformedEvent,
    ];

    /// The position of this reason in [`Rejection::ALL`].
    pub(crate) const fn index(&self) -> usize {
        match self {
            Rejection::MissingSign => 0,
            Rejection::MissingRequestTime => 1,
            Rejection::MalformedSign => 2,
            Rejection::MalformedRequestTime => 3,
            Rejection::DuplicateParameter => 4,
            Rejection::Expired => 5,
            Rejection::FromFuture => 6,
            Rejection::SignatureMismatch => 7,
            Rejection::AppIdMismatch => 8,
            Rejection::AuthenticationDisabled => 9,
            Rejection::TokenUnavailable => 10,
            Rejection::DisguisedParameter => 11,
            Rejection::MissingAppId => 12,
            Rejection::SourceNotAllowed => 13,
            Rejection::UnknownSource => 14,
            Rejection::AllowlistUnavailable => 15,
            Rejection::BodyTooLarge => 16,
            Rejection::UnreadableBody => 17,
            Rejection::MalformedEvent => 18,
        }
    }

    /// A stable `snake_case` name for metrics labels and log queries (`signature_mismatch`);
    /// unlike the human [`Display`](fmt::Display) text, it never changes between versions.
    pub const fn label(&self) -> &'static str {
        match self {
            Rejection::MissingSign => "missing_sign",
            Rejection::MissingRequestTime => "missing_request_time",
            Rejection::MalformedSign => "malformed_sign",
            Rejection::MalformedRequestTime => "malformed_request_time",
            Rejection::DuplicateParameter => "duplicate_parameter",
            Rejection::Expired => "expired",
            Rejection::FromFuture => "from_future",
            Rejection::SignatureMismatch => "signature_mismatch",
            Rejection::AppIdMismatch => "app_id_mismatch",
            Rejection::AuthenticationDisabled => "authentication_disabled",
            Rejection::TokenUnavailable => "token_unavailable",
            Rejection::DisguisedParameter => "disguised_parameter",
            Rejection::MissingAppId => "missing_app_id",
            Rejection::SourceNotAllowed => "source_not_allowed",
            Rejection::UnknownSource => "unknown_source",
            Rejection::AllowlistUnavailable => "allowlist_unavailable",
            Rejection::BodyTooLarge => "body_too_large",
            Rejection::UnreadableBody => "unreadable_body",
            Rejection::MalformedEvent => "malformed_event",
        }
    }

    /// The human description, as [`Display`](fmt::Display) prints it.
    const fn description(&self) -> &'static str {
        match self {
            Rejection::MissingSign => "missing sign",
            Rejection::MissingRequestTime => "missing request time",
            Rejection::MalformedSign => "malformed sign",
            Rejection::MalformedRequestTime => "malformed request time",
            Rejection::DuplicateParameter => "duplicate parameter",
            Rejection::Expired => "expired",
            Rejection::FromFuture => "from future",
            Rejection::SignatureMismatch => "signature mismatch",
            Rejection::AppIdMismatch => "app id mismatch",
            Rejection::AuthenticationDisabled => "authentication disabled",
            Rejection::TokenUnavailable => "token unavailable",
            Rejection::DisguisedParameter => "disguised parameter",
            Rejection::MissingAppId => "missing app id",
            Rejection::SourceNotAllowed => "source not allowed",
            Rejection::UnknownSource => "unknown source",
            Rejection::AllowlistUnavailable => "allowlist unavailable",
            Rejection::BodyTooLarge => "body too large",
            Rejection::UnreadableBody => "unreadable body",
            Rejection::MalformedEvent => "malformed event",
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.description())
    }
}

impl std::error::Error for Rejection {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_matches_all() {
        for (i, r) in Rejection::ALL.iter().enumerate() {
            assert_eq!(r.index(), i);
        }
    }

    #[test]
    fn labels_are_the_descriptions_in_snake_case() {
        for r in Rejection::ALL {
            assert_eq!(r.label(), r.to_string().replace(' ', "_"));
        }
    }

    #[test]
    fn one_word_per_rejection_the_variant_s_name() {
        for r in Rejection::ALL {
            let mut snake = String::new();
            for c in format!("{r:?}").chars() {
                if c.is_ascii_uppercase() && !snake.is_empty() {
                    snake.push('_');
                }
                snake.push(c.to_ascii_lowercase());
            }
            assert_eq!(r.label(), snake, "{r:?}");
        }
    }
}
