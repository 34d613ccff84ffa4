//! Profiles and the relationship chain: `Profile.CallbackPortraitSet`, `Sns.Callback…`
//! (friends, blocklist) and following/followers.

// @@ sns @@
