//! The library's integration tests that run against the mock of Tencent's API live in this
//! crate's `tests/` (not published: the mock crate depends on the library, so the library cannot
//! dev-depend on it, rust-lang/cargo#4242). This library holds what they share beyond the
//! published mock, `tim-callback-mock`: the fault matrix and its harness ([`faults`]), and the log
//! capture ([`logs`]) and a changing source ([`source`]).

pub mod faults;
pub mod logs;
pub mod source;
