//! TRTC Live (TUILiveKit) callbacks: `Live.Callback…`, signed with the `get_callback_token` token
//! like Chat's (the query `Sign`), so the same [`CallbackAuthLayer`](tim_callback_auth::CallbackAuthLayer)
//! verifies them and the [`Router`](crate::Router) dispatches them.

// @@ live @@
