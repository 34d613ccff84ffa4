//! What an accepted verification established: [`VerifiedCallback`].

/// How a request passed verification (crate-private: [`VerifiedCallback`]'s predicates say it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Verified {
    /// The `Sign` matched the current token.
    CurrentToken,
    /// The `Sign` matched the previous token, inside its grace period after a rotation.
    PreviousToken,
    /// Callback authentication is disabled: the request was let through without a signature check.
    AuthenticationDisabled,
}

/// What the verifier established about an accepted callback: how it passed, the app and the
/// `RequestTime` it read.
///
/// The [`CallbackAuthLayer`](crate::CallbackAuthLayer) puts it into the extensions of every
/// request it lets through, so a handler takes it (axum: `Extension<VerifiedCallback>`) instead of
/// parsing the query again. Handlers must not trust any other query parameter (`CallbackCommand`,
/// `ClientIP`, `OptPlatform`) nor the body beyond what the protocol signs: the `Sign` covers only
/// the token and `RequestTime`.
///
/// # Examples
///
/// ```
/// use tim_callback_auth::{CallbackToken, TokenSnapshot, Verifier};
///
/// let token = CallbackToken::new("xxxxyyyy")?;
/// let query = format!("SdkAppid=888888&Sign={}&RequestTime=1669872112", token.sign(1669872112));
/// let verified = Verifier::new().verify(&TokenSnapshot::enabled(token), &query, 1669872112)?;
/// assert!(!verified.previous_token() && !verified.authentication_disabled());
/// assert_eq!(verified.app_id(), 888888);
/// assert_eq!(verified.request_time(), Some(1669872112));
///
/// // Authentication disabled: nothing was verified, so there is no RequestTime to report.
/// let disabled = Verifier::new().verify(&TokenSnapshot::disabled(), "SdkAppid=888888", 0)?;
/// assert!(disabled.authentication_disabled());
/// assert_eq!(disabled.request_time(), None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct VerifiedCallback {
    pub(super) app_id: u64,
    pub(super) request_time: Option<u64>,
    pub(super) verified: Verified,
}

impl VerifiedCallback {
    /// The app the callback was checked for: the configured app (the handle's, see
    /// [`TokenHandle::for_app`](crate::TokenHandle::for_app), or
    /// [`Verifier::with_app_id`](crate::Verifier::with_app_id), or the app an
    /// [`AppSet`](crate::AppSet) routed it to). Every accepted callback names its app (Tencent
    /// always sends `SdkAppid`; a callback without one is refused with
    /// [`MissingAppId`](crate::Rejection::MissingAppId)); without an app check, this is the
    /// query's `SdkAppid` read under the verifier's rules (unique, literal name, canonical
    /// decimal), which the `Sign` does not cover.
    pub const fn app_id(&self) -> u64 {
        self.app_id
    }

    /// The verified `RequestTime` (Unix seconds); `None` when no signature was checked
    /// (authentication disabled).
    pub const fn request_time(&self) -> Option<u64> {
        self.request_time
    }

    /// Whether the `Sign` matched the previous token, inside its grace period after a rotation
    /// (`false` for the current token, and when nothing was verified).
    pub const fn previous_token(&self) -> bool {
        matches!(self.verified, Verified::PreviousToken)
    }

    /// Whether callback authentication is off (`IsTokenEnable: false`), so the request was let
    /// through without a signature check; [`request_time`](Self::request_time) is `None` then.
    /// Alert on it: such an endpoint accepts forged callbacks.
    pub const fn authentication_disabled(&self) -> bool {
        matches!(self.verified, Verified::AuthenticationDisabled)
    }

    /// How the callback passed.
    pub(crate) const fn verified(&self) -> Verified {
        self.verified
    }
}
