//! Fault injection: one test per fault of the matrix, and the API answers that are not failures
//! but must not lose callbacks either.

use std::time::Duration;

use tim_callback_auth::{CallbackToken, ErrorKind};
use tim_callback_integration::faults::{run_fault, Fault, Harness, TOKEN};

macro_rules! fault_tests {
    ($($name:ident => $fault:expr;)*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            run_fault(&$fault).await;
        }
    )*};
}

fault_tests! {
    connection_refused => Fault::Refused;
    accepted_but_never_answered => Fault::Hang;
    body_stalls_half_way => Fault::StallBody;
    http_502_with_html => Fault::BadGatewayHtml;
    http_200_with_truncated_json => Fault::TruncatedJson;
    json_without_response => Fault::NoResponse;
    token_with_wrong_type => Fault::TokenWrongType;
    internal_error_100001 => Fault::Code(100001, ErrorKind::TryLater);
    rate_limited_60018 => Fault::Code(60018, ErrorKind::TryLater);
    usersig_expired_70001 => Fault::Code(70001, ErrorKind::UserSig);
    too_many_usersig_failures_70050 => Fault::Code(70050, ErrorKind::TryLater);
    invalid_sdkappid_60006 => Fault::Code(60006, ErrorKind::Configuration);
    enabled_with_empty_token => Fault::EmptyToken;
    enabled_with_129_byte_token => Fault::OversizedToken;
}

#[test]
fn the_matrix_covers_every_fault_once() {
    // Keeps the macro list and Fault::all() in step.
    assert_eq!(Fault::all().len(), 14);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_configured_100302_switches_verification_off_without_a_failure() {
    let h = Harness::start(TOKEN).await;
    h.api.set_token(None, false);
    h.refresher.refresh_now().await.unwrap();
    assert!(!h.refresher.handle().load().unwrap().is_enabled());
    assert_eq!(h.refresher.status().consecutive_failures(), 0);
    // Signed or not, callbacks pass while authentication is not configured.
    assert_eq!(h.callback(&CallbackToken::new(TOKEN).unwrap()).await, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn is_token_enable_flipping_never_loses_a_signed_callback() {
    let h = Harness::start(TOKEN).await;
    let token = CallbackToken::new(TOKEN).unwrap();
    for round in 0..10 {
        h.api.set_token(Some(TOKEN), round % 2 == 1);
        h.refresher.refresh_now().await.unwrap();
        assert_eq!(
            h.refresher.handle().load().unwrap().is_enabled(),
            round % 2 == 1
        );
        assert_eq!(h.callback(&token).await, 200, "round {round}");
    }
    assert_eq!(h.refresher.status().changes(), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_rotations_within_one_grace_period_keep_the_two_newest() {
    let h = Harness::start_with("token-1", |b| b.grace(Duration::from_secs(300))).await;
    let [t1, t2, t3] = ["token-1", "token-2", "token-3"].map(|t| CallbackToken::new(t).unwrap());
    for next in ["token-2", "token-3"] {
        h.api.set_token(Some(next), true);
        h.refresher.refresh_now().await.unwrap();
    }
    let snapshot = h.refresher.handle().load().unwrap();
    assert_eq!(snapshot.current(), Some(&t3));
    assert_eq!(snapshot.previous().map(|(p, _)| p), Some(&t2));
    assert_eq!(h.callback(&t3).await, 200);
    assert_eq!(h.callback(&t2).await, 200);
    assert_eq!(h.callback(&t1).await, 401);
}
