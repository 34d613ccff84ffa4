//! Official accounts: the official-account webhooks of the list.

// @@ official @@
