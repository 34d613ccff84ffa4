//! The verifier against the protocol: the official vector, every rejection, window edges,
//! duplicates, grace periods, strict mode and the app id check, plus property tests.

use std::time::Duration;

use proptest::prelude::*;
use tim_callback_auth::{CallbackToken, Rejection, TokenSnapshot, Verifier};
use tim_callback_mock::{how, How};

const VECTOR_TOKEN: &str = "xxxxyyyy";
const VECTOR_TIME: u64 = 1669872112;
const VECTOR_SIGN: &str = "17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061";

fn token(t: &str) -> CallbackToken {
    CallbackToken::new(t).unwrap()
}

fn enabled(t: &str) -> TokenSnapshot {
    TokenSnapshot::enabled(token(t))
}

fn signed(t: &CallbackToken, time: u64) -> String {
    format!(
        "SdkAppid=888888&CallbackCommand=Group.CallbackAfterNewMemberJoin&contenttype=json\
         &ClientIP=1.2.3.4&OptPlatform=RESTAPI&Sign={}&RequestTime={time}",
        t.sign(time)
    )
}

#[test]
fn official_vector_verifies() {
    let q = format!("SdkAppid=888888&Sign={VECTOR_SIGN}&RequestTime={VECTOR_TIME}");
    assert_eq!(
        Verifier::new()
            .verify(&enabled(VECTOR_TOKEN), &q, VECTOR_TIME)
            .map(how),
        Ok(How::CurrentToken)
    );
    assert_eq!(token(VECTOR_TOKEN).sign(VECTOR_TIME), VECTOR_SIGN);
}

#[test]
fn round_trips_with_shortest_and_longest_tokens() {
    for t in [
        "a".to_string(),
        "Z".repeat(128),
        "x".repeat(55),
        "y".repeat(64),
    ] {
        let tok = token(&t);
        let snapshot = TokenSnapshot::enabled(tok.clone());
        for time in [0, 1, VECTOR_TIME, u64::MAX] {
            let q = signed(&tok, time);
            assert_eq!(
                Verifier::new().verify(&snapshot, &q, time).map(how),
                Ok(How::CurrentToken),
                "token of {} bytes, time {time}",
                t.len()
            );
        }
    }
}

#[test]
fn sign_with_another_token_is_a_mismatch() {
    let q = signed(&token("other-token"), VECTOR_TIME);
    assert_eq!(
        Verifier::new()
            .verify(&enabled(VECTOR_TOKEN), &q, VECTOR_TIME)
            .map(how),
        Err(Rejection::SignatureMismatch)
    );
}

#[test]
fn missing_parameters_are_named() {
    let v = Verifier::new();
    let s = enabled(VECTOR_TOKEN);
    assert_eq!(
        v.verify(
            &s,
            &format!("SdkAppid=888888&RequestTime={VECTOR_TIME}"),
            VECTOR_TIME
        )
        .map(how),
        Err(Rejection::MissingSign)
    );
    assert_eq!(
        v.verify(
            &s,
            &format!("SdkAppid=888888&Sign={VECTOR_SIGN}"),
            VECTOR_TIME
        )
        .map(how),
        Err(Rejection::MissingRequestTime)
    );
    assert_eq!(
        v.verify(&s, "", VECTOR_TIME).map(how),
        Err(Rejection::MissingSign)
    );
}

#[test]
fn malformed_request_times_are_rejected() {
    let v = Verifier::new();
    let s = enabled(VECTOR_TOKEN);
    for bad in [
        "",
        "+1669872112",
        "-1",
        " 1669872112",
        "1669872112.0",
        "16698%32112",
        "1669872112x",
        "123456789012345678901",
    ] {
        let q = format!("SdkAppid=888888&Sign={VECTOR_SIGN}&RequestTime={bad}");
        assert_eq!(
            v.verify(&s, &q, VECTOR_TIME).map(how),
            Err(Rejection::MalformedRequestTime),
            "{bad:?}"
        );
    }
}

#[test]
fn malformed_signs_are_rejected() {
    let v = Verifier::new();
    let s = enabled(VECTOR_TOKEN);
    for bad in [
        String::new(),
        VECTOR_SIGN[..63].to_string(),
        format!("{VECTOR_SIGN}0"),
        format!("{}g", &VECTOR_SIGN[..63]),
        format!("%31{}", &VECTOR_SIGN[..61]),
        "é".repeat(32),
    ] {
        let q = format!("SdkAppid=888888&Sign={bad}&RequestTime={VECTOR_TIME}");
        assert_eq!(
            v.verify(&s, &q, VECTOR_TIME).map(how),
            Err(Rejection::MalformedSign),
            "{bad:?}"
        );
    }
}

#[test]
fn uppercase_sign_is_accepted() {
    let q = format!(
        "SdkAppid=888888&Sign={}&RequestTime={VECTOR_TIME}",
        VECTOR_SIGN.to_ascii_uppercase()
    );
    assert_eq!(
        Verifier::new()
            .verify(&enabled(VECTOR_TOKEN), &q, VECTOR_TIME)
            .map(how),
        Ok(How::CurrentToken)
    );
}

#[test]
fn duplicates_are_rejected() {
    let v = Verifier::new().with_app_id(888888);
    let s = enabled(VECTOR_TOKEN);
    let base = format!("SdkAppid=888888&Sign={VECTOR_SIGN}&RequestTime={VECTOR_TIME}");
    for extra in [
        format!("&Sign={VECTOR_SIGN}"),
        format!("&RequestTime={VECTOR_TIME}"),
        "&SdkAppid=888888".to_string(),
        "&sdkappid=888888".to_string(),
        "&SdkAppId=888888".to_string(),
    ] {
        let q = format!("{base}{extra}");
        assert_eq!(
            v.verify(&s, &q, VECTOR_TIME).map(how),
            Err(Rejection::DuplicateParameter),
            "{extra}"
        );
    }
}

#[test]
fn window_edges_in_both_directions() {
    let v = Verifier::new().with_window(Duration::from_secs(10));
    let s = enabled(VECTOR_TOKEN);
    let q = format!("SdkAppid=888888&Sign={VECTOR_SIGN}&RequestTime={VECTOR_TIME}");
    assert_eq!(
        v.verify(&s, &q, VECTOR_TIME + 10).map(how),
        Ok(How::CurrentToken)
    );
    assert_eq!(
        v.verify(&s, &q, VECTOR_TIME - 10).map(how),
        Ok(How::CurrentToken)
    );
    assert_eq!(
        v.verify(&s, &q, VECTOR_TIME + 11).map(how),
        Err(Rejection::Expired)
    );
    assert_eq!(
        v.verify(&s, &q, VECTOR_TIME - 11).map(how),
        Err(Rejection::FromFuture)
    );
}

#[test]
fn default_window_is_sixty_seconds() {
    assert_eq!(Verifier::new().window(), Duration::from_secs(60));
    let s = enabled(VECTOR_TOKEN);
    let q = format!("SdkAppid=888888&Sign={VECTOR_SIGN}&RequestTime={VECTOR_TIME}");
    assert!(Verifier::new()
        .verify(&s, &q, VECTOR_TIME + 60)
        .map(how)
        .is_ok());
    assert_eq!(
        Verifier::new().verify(&s, &q, VECTOR_TIME + 61).map(how),
        Err(Rejection::Expired)
    );
}

#[test]
fn stale_requests_fail_on_time_even_with_a_wrong_sign() {
    // The time check comes before the hash, so a stale forged request reports Expired.
    let q = format!(
        "SdkAppid=888888&Sign={}&RequestTime={VECTOR_TIME}",
        "0".repeat(64)
    );
    assert_eq!(
        Verifier::new()
            .verify(&enabled(VECTOR_TOKEN), &q, VECTOR_TIME + 3600)
            .map(how),
        Err(Rejection::Expired)
    );
}

#[test]
fn parameters_in_any_order_among_others() {
    let v = Verifier::new();
    let s = enabled(VECTOR_TOKEN);
    for q in [
        format!("SdkAppid=888888&RequestTime={VECTOR_TIME}&Sign={VECTOR_SIGN}"),
        format!("a=1&RequestTime={VECTOR_TIME}&b&&c=%20&Sign={VECTOR_SIGN}&d=e=f&SdkAppid=888888"),
        format!("sign=x&requesttime=1&SdkAppid=888888&Sign={VECTOR_SIGN}&RequestTime={VECTOR_TIME}&SIGN=y"),
    ] {
        assert_eq!(
            v.verify(&s, &q, VECTOR_TIME).map(how),
            Ok(How::CurrentToken),
            "{q}"
        );
    }
}

#[test]
fn a_64_kib_query_is_handled() {
    let mut q = "x=".to_string() + &"a".repeat(64 * 1024);
    q.push_str(&format!(
        "&SdkAppid=888888&Sign={VECTOR_SIGN}&RequestTime={VECTOR_TIME}"
    ));
    assert_eq!(
        Verifier::new()
            .verify(&enabled(VECTOR_TOKEN), &q, VECTOR_TIME)
            .map(how),
        Ok(How::CurrentToken)
    );
    let junk = "&".repeat(64 * 1024);
    assert_eq!(
        Verifier::new()
            .verify(&enabled(VECTOR_TOKEN), &junk, VECTOR_TIME)
            .map(how),
        Err(Rejection::MissingSign)
    );
}

#[test]
fn previous_token_is_accepted_until_its_deadline() {
    let old = token("old-token");
    let new = token("new-token");
    let deadline = VECTOR_TIME + 300;
    let s = TokenSnapshot::enabled(new.clone()).with_previous(old.clone(), deadline);
    let v = Verifier::new();
    assert_eq!(
        v.verify(&s, &signed(&old, deadline), deadline).map(how),
        Ok(How::PreviousToken)
    );
    assert_eq!(
        v.verify(&s, &signed(&old, deadline + 1), deadline + 1)
            .map(how),
        Err(Rejection::SignatureMismatch)
    );
    assert_eq!(
        v.verify(&s, &signed(&new, deadline + 1), deadline + 1)
            .map(how),
        Ok(How::CurrentToken)
    );
}

#[test]
fn disabled_lets_requests_through_and_strict_mode_refuses() {
    let s = TokenSnapshot::disabled();
    assert_eq!(
        Verifier::new()
            .verify(&s, "SdkAppid=888888", VECTOR_TIME)
            .map(how),
        Ok(How::AuthenticationDisabled)
    );
    // Even garbage Sign/RequestTime is not inspected when authentication is off.
    assert_eq!(
        Verifier::new()
            .verify(
                &s,
                "SdkAppid=888888&Sign=zz&Sign=yy&RequestTime=no",
                VECTOR_TIME
            )
            .map(how),
        Ok(How::AuthenticationDisabled)
    );
    assert_eq!(
        Verifier::new()
            .require_signature(true)
            .verify(
                &s,
                &format!("SdkAppid=888888&Sign={VECTOR_SIGN}&RequestTime={VECTOR_TIME}"),
                VECTOR_TIME
            )
            .map(how),
        Err(Rejection::AuthenticationDisabled)
    );
}

#[test]
fn app_id_must_match_when_configured() {
    let s = enabled(VECTOR_TOKEN);
    let v = Verifier::new().with_app_id(888888);
    let tail = format!("Sign={VECTOR_SIGN}&RequestTime={VECTOR_TIME}");
    assert_eq!(
        v.verify(&s, &format!("SdkAppid=888888&{tail}"), VECTOR_TIME)
            .map(how),
        Ok(How::CurrentToken)
    );
    assert_eq!(
        v.verify(&s, &format!("sdkappid=888888&{tail}"), VECTOR_TIME)
            .map(how),
        Ok(How::CurrentToken)
    );
    assert_eq!(
        v.verify(&s, &format!("SdkAppId=888888&{tail}"), VECTOR_TIME)
            .map(how),
        Ok(How::CurrentToken)
    );
    assert_eq!(
        v.verify(&s, &format!("SdkAppid=888889&{tail}"), VECTOR_TIME)
            .map(how),
        Err(Rejection::AppIdMismatch)
    );
    // Absent: reported as missing (a mismatch is a different app).
    assert_eq!(
        v.verify(&s, &tail, VECTOR_TIME).map(how),
        Err(Rejection::MissingAppId)
    );
    assert_eq!(
        v.verify(&s, &format!("SdkAppid=0888888x&{tail}"), VECTOR_TIME)
            .map(how),
        Err(Rejection::AppIdMismatch)
    );
    // The app id check applies when authentication is disabled, too.
    assert_eq!(
        v.verify(&TokenSnapshot::disabled(), "SdkAppid=1", VECTOR_TIME)
            .map(how),
        Err(Rejection::AppIdMismatch)
    );
    assert_eq!(
        v.verify(&TokenSnapshot::disabled(), "SdkAppid=888888", VECTOR_TIME)
            .map(how),
        Ok(How::AuthenticationDisabled)
    );
    // Without with_app_id any app id passes.
    assert_eq!(
        Verifier::new()
            .verify(&s, &format!("SdkAppid=1&{tail}"), VECTOR_TIME)
            .map(how),
        Ok(How::CurrentToken)
    );
}

#[test]
fn rejection_messages_are_short_and_lowercase() {
    for r in Rejection::ALL {
        let text = r.to_string();
        assert!(!text.is_empty() && text.len() < 40, "{text}");
        assert_eq!(text, text.to_lowercase());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_queries_never_panic_or_pass(query in ".{0,300}", now in any::<u64>()) {
        let s = enabled(VECTOR_TOKEN);
        let result = Verifier::new().verify(&s, &query, now).map(how);
        // Only a query that carries the right Sign for its RequestTime can pass.
        if result.is_ok() {
            prop_assert!(query.contains("Sign="));
        }
    }

    #[test]
    fn structured_queries_without_the_right_sign_fail(
        sign in "[0-9a-fA-F]{64}",
        delta in -60i64..=60,
        extra in "[A-Za-z]{0,8}=[A-Za-z0-9%]{0,8}",
    ) {
        let s = enabled(VECTOR_TOKEN);
        let time = VECTOR_TIME.checked_add_signed(delta).unwrap();
        prop_assume!(!sign.eq_ignore_ascii_case(&token(VECTOR_TOKEN).sign(time)));
        let q = format!("{extra}&SdkAppid=888888&Sign={sign}&RequestTime={time}");
        prop_assert_eq!(Verifier::new().verify(&s, &q, VECTOR_TIME).map(how), Err(Rejection::SignatureMismatch));
    }

    #[test]
    fn the_right_sign_passes_anywhere_in_the_query(
        before in "[a-z]{0,5}=[a-z0-9]{0,5}",
        after in "[a-z]{0,5}=[a-z0-9]{0,5}",
        delta in -60i64..=60,
    ) {
        let tok = token(VECTOR_TOKEN);
        let time = VECTOR_TIME.checked_add_signed(delta).unwrap();
        let q = format!("{before}&RequestTime={time}&SdkAppid=888888&{after}&Sign={}", tok.sign(time));
        prop_assert_eq!(
            Verifier::new().verify(&TokenSnapshot::enabled(tok), &q, VECTOR_TIME).map(how),
            Ok(How::CurrentToken)
        );
    }
}

#[test]
fn every_callback_names_its_app_even_without_an_app_check() {
    let v = Verifier::new();
    let q = format!("Sign={VECTOR_SIGN}&RequestTime={VECTOR_TIME}");
    assert_eq!(
        v.verify(&enabled(VECTOR_TOKEN), &q, VECTOR_TIME).map(how),
        Err(Rejection::MissingAppId)
    );
    assert_eq!(
        v.verify(&TokenSnapshot::disabled(), "", VECTOR_TIME)
            .map(how),
        Err(Rejection::MissingAppId)
    );
    let named = v
        .verify(
            &enabled(VECTOR_TOKEN),
            &format!("SdkAppid=42&{q}"),
            VECTOR_TIME,
        )
        .unwrap();
    assert_eq!(named.app_id(), 42);
}
