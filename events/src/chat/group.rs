//! Groups: `Group.Callback…`.

// @@ group @@
