//! Online status: `State.StateChange`.

// @@ state @@
