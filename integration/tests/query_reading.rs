//! The verifier and a handler read the query the same way.
//!
//! The oracle is `form_urlencoded`, the parser under axum's `Query` and `serde_urlencoded`. For
//! generated queries mixing plain, percent-encoded, `+`-containing and case-varied names (and
//! values), whenever the verifier accepts, the oracle finds exactly one `Sign`, one `RequestTime` and
//! (case-insensitively) at most one `SdkAppid`, and they are the values the verifier used. Both the
//! plain `Verifier` and the multi-app layer are checked, and each run must accept and reject a fair
//! share of its queries, so the property cannot hold vacuously.

use std::convert::Infallible;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use http::{Request, Response};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use tim_callback_auth::{
    AppSet, CallbackAuthLayer, CallbackToken, Rejection, TokenHandle, TokenSnapshot,
    VerifiedCallback, Verifier,
};
use tim_callback_mock::{how, How};
use tower::{Layer, Service};

const NOW: u64 = 1_700_000_000;
const APP: u64 = 1400000000;
const OTHER_APP: u64 = 1400000001;
const TOKEN: &str = "query-reading-token";

/// One way to write a parameter name: literally, in another case, with some bytes `%XX`-encoded
/// (either hex case), or with a `+` (a space once decoded).
fn spelling(name: &'static str) -> impl Strategy<Value = String> {
    let bytes = name.len();
    prop_oneof![
        30 => Just(name.to_string()),
        1 => Just(name.to_ascii_lowercase()),
        1 => Just(name.to_ascii_uppercase()),
        2 => (proptest::collection::vec(any::<bool>(), bytes), any::<bool>()).prop_map(
            move |(encode, upper)| {
                name.bytes()
                    .zip(encode)
                    .map(|(b, e)| match (e, upper) {
                        (false, _) => (b as char).to_string(),
                        (true, true) => format!("%{b:02X}"),
                        (true, false) => format!("%{b:02x}"),
                    })
                    .collect()
            }
        ),
        1 => Just(format!("{name}+")),
        1 => Just(format!("+{name}")),
        // Non-ASCII letters that Unicode case mapping turns into ASCII ones (encoded, as a URI
        // must carry them): the Kelvin sign, long s, dotless and dotted i.
        1 => Just(name.replacen('k', "%E2%84%AA", 1)),
        1 => Just(name.replacen('S', "%C5%BF", 1)),
        1 => Just(name.replacen('i', "%C4%B1", 1)),
        1 => Just(name.replacen('i', "%C4%B0", 1)),
    ]
}

/// A value: the right one most of the time, else a variant a lenient parser might still read as
/// the same (leading zero, encoded digit, `+`) or another value.
fn value(right: String, other: String) -> impl Strategy<Value = String> {
    let first = right.chars().next().unwrap_or('0');
    let encoded = format!("%{:02X}{}", first as u32, &right[first.len_utf8()..]);
    prop_oneof![
        30 => Just(right.clone()),
        1 => Just(format!("0{right}")),
        1 => Just(encoded),
        1 => Just(format!("{right}+")),
        1 => Just(other),
    ]
}

/// Tencent's parameters (with the names' spellings and values varied), some repeated, plus
/// unrelated ones, in a random order; sometimes Tencent's own order.
fn queries(sign: String, other_sign: String) -> impl Strategy<Value = String> {
    let param = |name: &'static str, right: String, other: String| {
        (spelling(name), value(right, other))
            .prop_map(|(k, v)| format!("{k}={v}"))
            .boxed()
    };
    let app = prop_oneof![
        param("SdkAppid", APP.to_string(), OTHER_APP.to_string()),
        param("SdkAppId", APP.to_string(), OTHER_APP.to_string()),
    ]
    .boxed();
    let sign = param("Sign", sign, other_sign);
    let time = param("RequestTime", NOW.to_string(), (NOW - 3600).to_string());
    let extra = prop_oneof![
        Just("CallbackCommand=C2C.CallbackAfterSendMsg".to_string()),
        Just("contenttype=json".to_string()),
        Just("ClientIP=1.2.3.4".to_string()),
        Just("OptPlatform=RESTAPI".to_string()),
        "[A-Za-z%+0-9]{0,8}=[A-Za-z0-9%+]{0,8}",
    ];
    let repeats = |s: &BoxedStrategy<String>| {
        prop_oneof![
            8 => Just(Vec::new()),
            2 => proptest::collection::vec(s.clone(), 1..=2),
        ]
    };
    (
        app.clone(),
        sign.clone(),
        time.clone(),
        repeats(&app),
        repeats(&sign),
        repeats(&time),
        proptest::collection::vec(extra, 0..4),
        any::<bool>(),
        any::<u64>(),
    )
        .prop_map(
            |(app, sign, time, apps, signs, times, extras, tencent_order, seed)| {
                let mut parts: Vec<String> = vec![app];
                parts.extend(extras);
                parts.extend(apps);
                parts.extend(signs);
                parts.extend(times);
                if !tencent_order {
                    // A deterministic shuffle from the generated seed.
                    let mut state = seed | 1;
                    for i in (1..parts.len()).rev() {
                        state ^= state << 13;
                        state ^= state >> 7;
                        state ^= state << 17;
                        parts.swap(i, (state % (i as u64 + 1)) as usize);
                    }
                }
                parts.push(sign);
                parts.push(time);
                parts.join("&")
            },
        )
}

/// What the oracle reads for the three names: every value, in order.
struct Oracle {
    signs: Vec<String>,
    times: Vec<String>,
    apps: Vec<String>,
}

fn oracle(query: &str) -> Oracle {
    let mut o = Oracle {
        signs: Vec::new(),
        times: Vec::new(),
        apps: Vec::new(),
    };
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        if key == "Sign" {
            o.signs.push(value.into_owned());
        } else if key == "RequestTime" {
            o.times.push(value.into_owned());
        } else if key.eq_ignore_ascii_case("sdkappid")
            || key.to_lowercase() == "sdkappid"
            || key.to_uppercase() == "SDKAPPID"
        {
            o.apps.push(value.into_owned());
        }
    }
    o
}

/// The property for one accepted query: exactly the values the verifier used.
fn agrees(query: &str, verified: &VerifiedCallback, token: &CallbackToken) -> Result<(), String> {
    let o = oracle(query);
    let time = verified.request_time().ok_or("no request time")?;
    if o.times != [time.to_string()] {
        return Err(format!(
            "RequestTime: oracle {:?}, verifier {time}",
            o.times
        ));
    }
    if o.signs.len() != 1 || !o.signs[0].eq_ignore_ascii_case(&token.sign(time)) {
        return Err(format!("Sign: oracle read {} values", o.signs.len()));
    }
    let expected: Vec<String> = vec![verified.app_id().to_string()];
    if o.apps != expected {
        return Err(format!(
            "SdkAppid: oracle {:?}, verifier {expected:?}",
            o.apps
        ));
    }
    Ok(())
}

/// Runs `check` on `cases` generated queries; returns (accepted, rejected).
fn run(cases: u32, check: impl FnMut(&str) -> Result<bool, String>) -> (u32, u32) {
    let check = std::cell::RefCell::new(check);
    let token = CallbackToken::new(TOKEN).unwrap();
    let strategy = queries(
        token.sign(NOW),
        CallbackToken::new("other").unwrap().sign(NOW),
    );
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        },
        proptest::test_runner::TestRng::deterministic_rng(
            proptest::test_runner::RngAlgorithm::ChaCha,
        ),
    );
    let counts = std::cell::Cell::new((0u32, 0u32));
    runner
        .run(&strategy, |query| {
            let accepted = (check.borrow_mut())(&query)
                .map_err(|why| TestCaseError::fail(format!("{query}: {why}")))?;
            let (a, r) = counts.get();
            counts.set(if accepted { (a + 1, r) } else { (a, r + 1) });
            Ok(())
        })
        .unwrap();
    counts.get()
}

fn assert_fair_share((accepted, rejected): (u32, u32), cases: u32) {
    eprintln!("{accepted} accepted, {rejected} rejected of {cases}");
    assert!(
        accepted > cases / 20 && rejected > cases / 20,
        "{accepted} accepted, {rejected} rejected of {cases}: the generator no longer tests both sides"
    );
}

#[test]
fn an_accepting_verifier_read_what_a_decoding_parser_reads() {
    let token = CallbackToken::new(TOKEN).unwrap();
    let snapshot = TokenSnapshot::enabled(token.clone());
    for verifier in [Verifier::new(), Verifier::new().with_app_id(APP)] {
        let cases = 3000;
        let counts = run(cases, |query| {
            match verifier.verify(&snapshot, query, NOW) {
                Ok(verified) => agrees(query, &verified, &token).map(|()| true),
                Err(_) => Ok(false),
            }
        });
        assert_fair_share(counts, cases);
    }
}

fn poll_once<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("no future here waits"),
    }
}

#[test]
fn the_multi_app_layer_hands_the_handler_what_a_decoding_parser_reads() {
    let token = CallbackToken::new(TOKEN).unwrap();
    let apps = AppSet::new();
    apps.insert(APP, TokenHandle::new(TokenSnapshot::enabled(token.clone())));
    // The other app shares the token, so only the app id rules keep the two apart.
    apps.insert(
        OTHER_APP,
        TokenHandle::new(TokenSnapshot::enabled(token.clone())),
    );
    let inner = tower::service_fn(|req: Request<()>| async move {
        let mut response = Response::new(());
        if let Some(verified) = req.extensions().get::<VerifiedCallback>() {
            response.extensions_mut().insert(*verified);
        }
        Ok::<_, Infallible>(response)
    });
    let mut service = CallbackAuthLayer::for_apps(apps)
        .with_rejection_response(|_r: Rejection| Response::new(()))
        .with_clock(|| std::time::UNIX_EPOCH + std::time::Duration::from_secs(NOW))
        .layer(inner);
    let cases = 3000;
    let counts = run(cases, |query| {
        let request = Request::post(format!("/cb?{query}")).body(()).unwrap();
        let response = poll_once(service.call(request)).unwrap();
        match response.extensions().get::<VerifiedCallback>() {
            Some(verified) => {
                if how(*verified) != How::CurrentToken {
                    return Err(format!("{:?}", how(*verified)));
                }
                agrees(query, verified, &token).map(|()| true)
            }
            None => Ok(false),
        }
    });
    assert_fair_share(counts, cases);
}
