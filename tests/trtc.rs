//! TRTC event callbacks through the layer: the docs' example, tampering, headers, base64, limits,
//! chunking, apps, rotation, freshness and retries.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use base64::Engine as _;
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body::{Body, Frame, SizeHint};
use sha2::{Digest, Sha256};
use tim_callback_auth::trtc::{
    TrtcBody, TrtcCallbackAuthLayer, TrtcKey, TrtcKeys, TrtcVerifier, VerifiedTrtcEvent,
};
use tim_callback_auth::Rejection;
use tower::{service_fn, Layer, Service, ServiceExt};

/// The body of Tencent's "Verify Signature Example", byte for byte.
const DOCS_BODY: &str = "{\n\t\"EventGroupId\":\t1,\n\t\"EventType\":\t103,\n\t\"CallbackTs\":\t1615554923704,\n\t\"EventInfo\":\t{\n\t\t\"RoomId\":\t12345,\n\t\t\"EventTs\":\t1608441737,\n\t\t\"UserId\":\t\"test\",\n\t\t\"UniqueId\":\t1615554922656,\n\t\t\"Role\":\t20,\n\t\t\"Reason\":\t1\n\t}\n}";
const DOCS_TS: u64 = 1_615_554_923_704;
const APP: u64 = 1_400_000_001;
const KEY: &str = "N4cYbbZ4Ujb5TEnD7eUo";
const WINDOW_MS: u64 = 10 * 60 * 1000;

/// HMAC-SHA256 from its definition (RFC 2104) over SHA-256, base64 by the `base64` crate: an
/// implementation independent of the crate's.
fn independent_sign(key: &str, body: &[u8]) -> String {
    let mut block = [0u8; 64];
    block[..key.len()].copy_from_slice(key.as_bytes());
    let pad = |byte: u8| block.map(|b| b ^ byte);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(body)
        .finalize();
    let outer = Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize();
    base64::engine::general_purpose::STANDARD.encode(outer)
}

/// A body delivered in the given chunks (or a failure), with an optional size hint: stands for
/// axum's or hyper's body, and records how much of it was read.
struct Chunks {
    frames: VecDeque<Result<Bytes, std::io::Error>>,
    hint: Option<u64>,
    polled: Arc<AtomicUsize>,
}

impl Chunks {
    fn new(chunks: &[&[u8]]) -> Self {
        Self {
            frames: chunks
                .iter()
                .map(|c| Ok(Bytes::copy_from_slice(c)))
                .collect(),
            hint: None,
            polled: Arc::default(),
        }
    }
}

impl From<Bytes> for Chunks {
    fn from(bytes: Bytes) -> Self {
        Self {
            frames: VecDeque::from([Ok(bytes)]),
            hint: None,
            polled: Arc::default(),
        }
    }
}

impl Body for Chunks {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        self.polled.fetch_add(1, Ordering::Relaxed);
        Poll::Ready(self.frames.pop_front().map(|f| f.map(Frame::data)))
    }

    fn size_hint(&self) -> SizeHint {
        self.hint
            .map_or_else(SizeHint::default, SizeHint::with_exact)
    }
}

/// What the handler saw.
#[derive(Default)]
struct Seen {
    calls: AtomicUsize,
    bodies: Mutex<Vec<Bytes>>,
    events: Mutex<Vec<VerifiedTrtcEvent>>,
}

type Svc = tower::util::BoxCloneSyncService<Request<Chunks>, Response<String>, Infallible>;

/// The layer at `now_ms` over a handler answering `status`.
fn service(layer: TrtcCallbackAuthLayer, now_ms: u64, status: StatusCode) -> (Svc, Arc<Seen>) {
    let seen = Arc::new(Seen::default());
    let recorder = seen.clone();
    let handler = service_fn(move |req: Request<TrtcBody>| {
        let seen = recorder.clone();
        async move {
            seen.calls.fetch_add(1, Ordering::Relaxed);
            if let Some(event) = req.extensions().get::<VerifiedTrtcEvent>() {
                seen.events.lock().unwrap().push(*event);
            }
            // The body the handler gets: gather it back.
            let mut body = req.into_body();
            let mut all = Vec::new();
            while let Some(Ok(frame)) =
                std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await
            {
                all.extend_from_slice(frame.data_ref().unwrap());
            }
            seen.bodies.lock().unwrap().push(Bytes::from(all));
            let mut response = Response::new(String::from(r#"{"code":0}"#));
            *response.status_mut() = status;
            Ok::<_, Infallible>(response)
        }
    });
    let svc = layer
        .with_clock(move || std::time::UNIX_EPOCH + std::time::Duration::from_millis(now_ms))
        .layer(handler);
    (Svc::new(svc), seen)
}

fn keys() -> TrtcKeys {
    TrtcKeys::single(APP, TrtcKey::new(KEY).unwrap())
}

fn request(headers: &[(&str, &str)], body: Chunks) -> Request<Chunks> {
    let mut builder = Request::post("/trtc/callback").header("content-type", "application/json");
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(body).unwrap()
}

fn signed(body: &[u8]) -> Request<Chunks> {
    let sign = independent_sign(KEY, body);
    request(
        &[("SdkAppId", &APP.to_string()), ("Sign", &sign)],
        Chunks::new(&[body]),
    )
}

async fn call(svc: &Svc, req: Request<Chunks>) -> (StatusCode, Option<Rejection>, String) {
    let response = svc.clone().oneshot(req).await.unwrap();
    let rejection = response.extensions().get::<Rejection>().copied();
    (response.status(), rejection, response.into_body())
}

fn body_at(ts: u64) -> String {
    DOCS_BODY.replace(&DOCS_TS.to_string(), &ts.to_string())
}

#[tokio::test]
async fn the_docs_example_is_verified_and_the_handler_gets_the_same_bytes() {
    let (svc, seen) = service(
        TrtcCallbackAuthLayer::new(keys()),
        DOCS_TS + 5_000,
        StatusCode::OK,
    );
    let (status, rejection, body) = call(&svc, signed(DOCS_BODY.as_bytes())).await;
    assert_eq!((status, rejection), (StatusCode::OK, None));
    assert_eq!(body, r#"{"code":0}"#);
    assert_eq!(seen.bodies.lock().unwrap()[0], DOCS_BODY.as_bytes());
    let event = seen.events.lock().unwrap()[0];
    assert_eq!(
        (
            event.app_id(),
            event.event_group_id(),
            event.event_type(),
            event.callback_ts_ms()
        ),
        (APP, 1, 103, DOCS_TS)
    );
    assert!(!event.signed_with_previous_key());
    // The crate's own signer agrees with the independent one.
    assert_eq!(
        TrtcKey::new(KEY).unwrap().sign(DOCS_BODY.as_bytes()),
        independent_sign(KEY, DOCS_BODY.as_bytes())
    );
}

#[tokio::test]
async fn a_single_frame_body_reaches_the_handler_without_a_copy() {
    let layer = TrtcCallbackAuthLayer::new(keys())
        .with_clock(|| std::time::UNIX_EPOCH + std::time::Duration::from_millis(DOCS_TS));
    let original = Bytes::from_static(DOCS_BODY.as_bytes());
    let handler = service_fn(|req: Request<TrtcBody>| async move {
        let mut body = req.into_body();
        let frame = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx))
            .await
            .unwrap()
            .unwrap();
        Ok::<_, Infallible>(Response::new(frame.into_data().unwrap()))
    });
    let sign = independent_sign(KEY, DOCS_BODY.as_bytes());
    let req = Request::post("/")
        .header("SdkAppId", APP)
        .header("Sign", sign)
        .body(Chunks::from(original.clone()))
        .unwrap();
    let response = layer.layer(handler).oneshot(req).await.unwrap();
    let passed: Bytes = response.into_body();
    assert_eq!(passed.as_ptr(), original.as_ptr(), "the same buffer");
}

/// The handler parses only `EventInfo`, from the body it got, with the range the layer read.
#[tokio::test]
async fn the_handler_gets_event_info_raw_from_its_body() {
    let (svc, seen) = service(TrtcCallbackAuthLayer::new(keys()), DOCS_TS, StatusCode::OK);
    assert_eq!(
        call(&svc, signed(DOCS_BODY.as_bytes())).await.0,
        StatusCode::OK
    );
    let event = seen.events.lock().unwrap()[0];
    let body = seen.bodies.lock().unwrap()[0].clone();
    let info = event.event_info(&body).unwrap();
    assert_eq!(&body[event.event_info_range().unwrap()], info.as_bytes());
    let info: serde_json::Value = serde_json::from_str(info).unwrap();
    assert_eq!(
        (info["RoomId"].as_u64(), info["UserId"].as_str()),
        (Some(12345), Some("test"))
    );
    // Not the verified body: too short.
    assert_eq!(event.event_info(&body[..10]), None);
}

/// Signed bodies a handler's parser could read as another event are refused, as malformed: a
/// field twice (also under an escaped name), a wrong type, not JSON.
#[tokio::test]
async fn signed_bodies_that_two_parsers_could_read_differently_are_malformed() {
    let (svc, seen) = service(TrtcCallbackAuthLayer::new(keys()), DOCS_TS, StatusCode::OK);
    let ts = DOCS_TS;
    for body in [
        format!(r#"{{"EventGroupId":1,"EventType":103,"CallbackTs":{ts},"EventType":104}}"#),
        format!(r#"{{"EventGroupId":1,"EventType":103,"CallbackTs":{ts},"Event\u0054ype":104}}"#),
        format!(
            r#"{{"EventGroupId":1,"EventType":103,"CallbackTs":{ts},"EventInfo":{{}},"EventInfo":{{}}}}"#
        ),
        format!(r#"{{"EventGroupId":1,"EventType":103.0,"CallbackTs":{ts}}}"#),
        format!(r#"{{"EventGroupId":1,"EventType":"103","CallbackTs":{ts}}}"#),
        format!(r#"{{"EventGroupId":1,"EventType":103,"CallbackTs":{ts},"EventInfo":{{"a":01}}}}"#),
        format!(r#"{{"EventGroupId":1,"EventType":103,"CallbackTs":{ts}}} {{}}"#),
    ] {
        let (status, rejection, _) = call(&svc, signed(body.as_bytes())).await;
        assert_eq!(
            (status, rejection),
            (StatusCode::BAD_REQUEST, Some(Rejection::MalformedEvent)),
            "{body}"
        );
    }
    assert_eq!(seen.calls.load(Ordering::Relaxed), 0);
}

#[test]
fn one_byte_changed_anywhere_in_the_body_is_refused() {
    let keys = keys();
    let verifier = TrtcVerifier::new();
    let mut headers = http::HeaderMap::new();
    headers.insert("SdkAppId", APP.into());
    let sign = independent_sign(KEY, DOCS_BODY.as_bytes());
    headers.insert("Sign", sign.parse().unwrap());
    assert!(verifier
        .verify(&keys, &headers, DOCS_BODY.as_bytes(), DOCS_TS)
        .is_ok());
    for i in 0..DOCS_BODY.len() {
        for flip in [0x01u8, 0x20, 0x80] {
            let mut body = DOCS_BODY.as_bytes().to_vec();
            body[i] ^= flip;
            assert_eq!(
                verifier.verify(&keys, &headers, &body, DOCS_TS),
                Err(Rejection::SignatureMismatch),
                "byte {i} ^ {flip:#x}"
            );
        }
    }
    // Added or removed bytes too (a trailing newline, a dropped last brace).
    let longer = format!("{DOCS_BODY}\n");
    let shorter = &DOCS_BODY[..DOCS_BODY.len() - 1];
    for body in [longer.as_str(), shorter, ""] {
        assert_eq!(
            verifier.verify(&keys, &headers, body.as_bytes(), DOCS_TS),
            Err(Rejection::SignatureMismatch)
        );
    }
}

#[tokio::test]
async fn header_names_are_case_insensitive_and_each_header_counts_once() {
    let (svc, seen) = service(TrtcCallbackAuthLayer::new(keys()), DOCS_TS, StatusCode::OK);
    let sign = independent_sign(KEY, DOCS_BODY.as_bytes());
    let app = APP.to_string();
    for (app_name, sign_name) in [
        ("SDKAPPID", "SIGN"),
        ("sdkappid", "sign"),
        ("sdkAppID", "Sign"),
    ] {
        let body = body_at(DOCS_TS + seen.calls.load(Ordering::Relaxed) as u64);
        let sign = independent_sign(KEY, body.as_bytes());
        let req = request(
            &[(app_name, &app), (sign_name, &sign)],
            Chunks::new(&[body.as_bytes()]),
        );
        assert_eq!(
            call(&svc, req).await.0,
            StatusCode::OK,
            "{app_name} {sign_name}"
        );
    }
    let cases: [(&[(&str, &str)], Rejection); 6] = [
        (
            &[("SdkAppId", &app), ("Sign", &sign), ("sign", &sign)],
            Rejection::DuplicateParameter,
        ),
        (
            &[("SdkAppId", &app), ("SDKAPPID", &app), ("Sign", &sign)],
            Rejection::DuplicateParameter,
        ),
        (&[("Sign", &sign)], Rejection::MissingAppId),
        (&[("SdkAppId", &app)], Rejection::MissingSign),
        // The app id in the query or under another name does not count.
        (
            &[("SdkAppIdX", &app), ("Sign", &sign)],
            Rejection::MissingAppId,
        ),
        (
            &[("SdkAppId", &app), ("Signature", &sign)],
            Rejection::MissingSign,
        ),
    ];
    for (headers, expected) in cases {
        let req = request(headers, Chunks::new(&[DOCS_BODY.as_bytes()]));
        let (status, rejection, _) = call(&svc, req).await;
        assert_eq!(
            (status, rejection),
            (StatusCode::UNAUTHORIZED, Some(expected)),
            "{headers:?}"
        );
    }
    assert_eq!(seen.calls.load(Ordering::Relaxed), 3);
}

#[tokio::test]
async fn a_sign_that_is_not_strict_base64_of_32_bytes_is_malformed() {
    let (svc, seen) = service(TrtcCallbackAuthLayer::new(keys()), DOCS_TS, StatusCode::OK);
    let good = independent_sign(KEY, DOCS_BODY.as_bytes());
    let raw = base64::engine::general_purpose::STANDARD
        .decode(&good)
        .unwrap();
    let url_safe = base64::engine::general_purpose::URL_SAFE.encode(&raw);
    let unpadded = base64::engine::general_purpose::STANDARD_NO_PAD.encode(&raw);
    let hex_sign = hex::encode(&raw);
    let short = base64::engine::general_purpose::STANDARD.encode(&raw[..31]);
    let long = base64::engine::general_purpose::STANDARD.encode([raw.clone(), vec![0]].concat());
    let spaced = format!(" {}", &good[1..]);
    let bad_char = format!("{}*=", &good[..42]);
    let mut malformed = vec![
        unpadded,
        hex_sign,
        short,
        long,
        spaced,
        bad_char,
        String::new(),
    ];
    if url_safe != good {
        malformed.push(url_safe);
    }
    for sign in &malformed {
        let req = request(
            &[("SdkAppId", &APP.to_string()), ("Sign", sign)],
            Chunks::new(&[DOCS_BODY.as_bytes()]),
        );
        let (status, rejection, _) = call(&svc, req).await;
        assert_eq!(
            (status, rejection),
            (StatusCode::UNAUTHORIZED, Some(Rejection::MalformedSign)),
            "{sign:?}"
        );
    }
    assert_eq!(seen.calls.load(Ordering::Relaxed), 0);
}

#[tokio::test]
async fn empty_bodies_are_refused() {
    let (svc, _) = service(TrtcCallbackAuthLayer::new(keys()), DOCS_TS, StatusCode::OK);
    // Signed as empty: the signature holds, but an empty body is no event.
    assert_eq!(
        call(&svc, signed(b"")).await.1,
        Some(Rejection::MalformedEvent)
    );
    // Unsigned: the docs' Sign over an empty body.
    let req = request(
        &[
            ("SdkAppId", &APP.to_string()),
            ("Sign", &independent_sign(KEY, DOCS_BODY.as_bytes())),
        ],
        Chunks::new(&[]),
    );
    assert_eq!(call(&svc, req).await.1, Some(Rejection::SignatureMismatch));
}

#[tokio::test]
async fn bodies_at_the_limit_pass_and_over_it_are_refused_without_reading_the_rest() {
    let len = DOCS_BODY.len();
    let at = TrtcCallbackAuthLayer::new(keys()).with_body_limit(len);
    let (svc, _) = service(at, DOCS_TS, StatusCode::OK);
    assert_eq!(
        call(&svc, signed(DOCS_BODY.as_bytes())).await.0,
        StatusCode::OK
    );

    let over = TrtcCallbackAuthLayer::new(keys()).with_body_limit(len - 1);
    let (svc, seen) = service(over, DOCS_TS, StatusCode::OK);
    // Streamed in two chunks, no size hint: refused when the limit is passed; the last chunk is
    // never read.
    let mut body = Chunks::new(&[
        &DOCS_BODY.as_bytes()[..len / 2],
        &DOCS_BODY.as_bytes()[len / 2..],
        b"never",
    ]);
    let polled = body.polled.clone();
    body.hint = None;
    let sign = independent_sign(KEY, DOCS_BODY.as_bytes());
    let req = request(&[("SdkAppId", &APP.to_string()), ("Sign", &sign)], body);
    let (status, rejection, _) = call(&svc, req).await;
    assert_eq!(
        (status, rejection),
        (StatusCode::PAYLOAD_TOO_LARGE, Some(Rejection::BodyTooLarge))
    );
    assert_eq!(polled.load(Ordering::Relaxed), 2);
    // A Content-Length over the limit: refused before the first frame is read.
    let mut body = Chunks::new(&[DOCS_BODY.as_bytes()]);
    body.hint = Some(len as u64);
    let polled = body.polled.clone();
    let req = request(&[("SdkAppId", &APP.to_string()), ("Sign", &sign)], body);
    assert_eq!(call(&svc, req).await.1, Some(Rejection::BodyTooLarge));
    assert_eq!(polled.load(Ordering::Relaxed), 0);
    assert_eq!(seen.calls.load(Ordering::Relaxed), 0);
}

#[tokio::test]
async fn a_body_that_fails_is_a_rejection() {
    let (svc, seen) = service(TrtcCallbackAuthLayer::new(keys()), DOCS_TS, StatusCode::OK);
    let mut body = Chunks::new(&[&DOCS_BODY.as_bytes()[..10]]);
    body.frames
        .push_back(Err(std::io::Error::other("connection reset")));
    let sign = independent_sign(KEY, DOCS_BODY.as_bytes());
    let req = request(&[("SdkAppId", &APP.to_string()), ("Sign", &sign)], body);
    let (status, rejection, _) = call(&svc, req).await;
    assert_eq!(
        (status, rejection),
        (StatusCode::BAD_REQUEST, Some(Rejection::UnreadableBody))
    );
    assert_eq!(seen.calls.load(Ordering::Relaxed), 0);
}

#[tokio::test]
async fn a_body_split_at_any_byte_gets_the_same_verdict() {
    let bytes = DOCS_BODY.as_bytes();
    let sign = independent_sign(KEY, bytes);
    let mut tampered = bytes.to_vec();
    tampered[40] ^= 1;
    let layer = TrtcCallbackAuthLayer::new(keys()).with_recent_events(0);
    let (svc, seen) = service(layer, DOCS_TS, StatusCode::OK);
    for split in 0..=bytes.len() {
        for (body, expected) in [
            (bytes, None),
            (&tampered[..], Some(Rejection::SignatureMismatch)),
        ] {
            let (a, b) = body.split_at(split);
            let req = request(
                &[("SdkAppId", &APP.to_string()), ("Sign", &sign)],
                Chunks::new(&[a, b]),
            );
            assert_eq!(call(&svc, req).await.1, expected, "split at {split}");
        }
    }
    // Every byte its own frame.
    let singles: Vec<&[u8]> = bytes.chunks(1).collect();
    let req = request(
        &[("SdkAppId", &APP.to_string()), ("Sign", &sign)],
        Chunks::new(&singles),
    );
    assert_eq!(call(&svc, req).await.1, None);
    let bodies = seen.bodies.lock().unwrap();
    assert_eq!(bodies.len(), bytes.len() + 2);
    assert!(
        bodies.iter().all(|b| b == bytes),
        "the handler always gets the signed bytes"
    );
}

#[tokio::test]
async fn unknown_apps_are_refused_before_hashing_and_counted_apart() {
    let layer = TrtcCallbackAuthLayer::new(keys());
    let (svc, seen) = service(layer.clone(), DOCS_TS, StatusCode::OK);
    let sign = independent_sign(KEY, DOCS_BODY.as_bytes());
    for app in [
        "1400000002",
        "01400000001",
        "+1400000001",
        "1400000001 ",
        "",
        "x",
    ] {
        let req = request(
            &[("SdkAppId", app), ("Sign", &sign)],
            Chunks::new(&[DOCS_BODY.as_bytes()]),
        );
        let (status, rejection, _) = call(&svc, req).await;
        assert_eq!(
            (status, rejection),
            (StatusCode::UNAUTHORIZED, Some(Rejection::AppIdMismatch)),
            "{app:?}"
        );
    }
    assert_eq!(seen.calls.load(Ordering::Relaxed), 0);
    let stats = layer.stats();
    assert_eq!(stats.len(), 2);
    assert_eq!(
        (stats[0].app_id(), stats[0].rejected_total()),
        (Some(APP), 0)
    );
    assert_eq!(
        (
            stats[1].app_id(),
            stats[1].rejected(Rejection::AppIdMismatch)
        ),
        (None, 6)
    );
}

#[tokio::test]
async fn several_apps_each_with_its_key() {
    let other = "SecondAppKey987";
    let keys = TrtcKeys::new();
    keys.insert(APP, TrtcKey::new(KEY).unwrap()).unwrap();
    keys.insert(1_400_000_002, TrtcKey::new(other).unwrap())
        .unwrap();
    let (svc, seen) = service(
        TrtcCallbackAuthLayer::new(keys.clone()),
        DOCS_TS,
        StatusCode::OK,
    );
    let body = DOCS_BODY.as_bytes();
    let with = |app: u64, key: &str| {
        request(
            &[
                ("SdkAppId", &app.to_string()),
                ("Sign", &independent_sign(key, body)),
            ],
            Chunks::new(&[body]),
        )
    };
    assert_eq!(call(&svc, with(1_400_000_002, other)).await.1, None);
    // App 1's key does not verify app 2's events, nor the reverse.
    assert_eq!(
        call(&svc, with(1_400_000_002, KEY)).await.1,
        Some(Rejection::SignatureMismatch)
    );
    assert_eq!(
        call(&svc, with(APP, other)).await.1,
        Some(Rejection::SignatureMismatch)
    );
    assert_eq!(seen.events.lock().unwrap()[0].app_id(), 1_400_000_002);
    let stats = keys.stats();
    assert_eq!(
        (
            stats[0].rejected(Rejection::SignatureMismatch),
            stats[1].accepted_current()
        ),
        (1, 1)
    );
}

#[tokio::test]
async fn during_a_rotation_both_keys_verify_until_the_old_one_is_retired() {
    let keys = keys();
    let new_key = "RotatedKey2026xyz";
    let (svc, seen) = service(
        TrtcCallbackAuthLayer::new(keys.clone()).with_recent_events(0),
        DOCS_TS,
        StatusCode::OK,
    );
    let body = DOCS_BODY.as_bytes();
    let with = |key: &str| {
        request(
            &[
                ("SdkAppId", &APP.to_string()),
                ("Sign", &independent_sign(key, body)),
            ],
            Chunks::new(&[body]),
        )
    };
    assert_eq!(
        call(&svc, with(new_key)).await.1,
        Some(Rejection::SignatureMismatch)
    );
    keys.rotate(APP, TrtcKey::new(new_key).unwrap()).unwrap();
    assert!(keys.has_previous(APP));
    assert_eq!(call(&svc, with(new_key)).await.1, None);
    assert_eq!(call(&svc, with(KEY)).await.1, None);
    let events = seen.events.lock().unwrap().clone();
    assert_eq!(
        events
            .iter()
            .map(|e| e.signed_with_previous_key())
            .collect::<Vec<_>>(),
        [false, true]
    );
    keys.retire_previous(APP).unwrap();
    assert_eq!(
        call(&svc, with(KEY)).await.1,
        Some(Rejection::SignatureMismatch)
    );
    assert_eq!(call(&svc, with(new_key)).await.1, None);
    let stats = &keys.stats()[0];
    assert_eq!(
        (stats.accepted_current(), stats.accepted_previous()),
        (2, 1)
    );
}

#[tokio::test]
async fn callback_ts_must_be_within_the_window_both_ways() {
    for (now, expected) in [
        (DOCS_TS + WINDOW_MS, None),
        (DOCS_TS + WINDOW_MS + 1, Some(Rejection::Expired)),
        (DOCS_TS - WINDOW_MS, None),
        (DOCS_TS - WINDOW_MS - 1, Some(Rejection::FromFuture)),
        (DOCS_TS + 3_600_000, Some(Rejection::Expired)),
    ] {
        let (svc, _) = service(TrtcCallbackAuthLayer::new(keys()), now, StatusCode::OK);
        assert_eq!(
            call(&svc, signed(DOCS_BODY.as_bytes())).await.1,
            expected,
            "now {now}"
        );
    }
    // A narrower window.
    let narrow = TrtcCallbackAuthLayer::new(keys())
        .with_verifier(TrtcVerifier::new().with_window(std::time::Duration::from_secs(60)));
    let (svc, _) = service(narrow, DOCS_TS + 61_000, StatusCode::OK);
    assert_eq!(
        call(&svc, signed(DOCS_BODY.as_bytes())).await.1,
        Some(Rejection::Expired)
    );
}

#[tokio::test]
async fn a_retry_of_an_answered_event_is_answered_without_the_handler() {
    let layer = TrtcCallbackAuthLayer::new(keys());
    let (svc, seen) = service(layer.clone(), DOCS_TS + 5_000, StatusCode::OK);
    for _ in 0..3 {
        let (status, rejection, body) = call(&svc, signed(DOCS_BODY.as_bytes())).await;
        assert_eq!(
            (status, rejection, body.as_str()),
            (StatusCode::OK, None, r#"{"code":0}"#)
        );
    }
    assert_eq!(
        seen.calls.load(Ordering::Relaxed),
        1,
        "the handler ran once"
    );
    let stats = &layer.stats()[0];
    assert_eq!((stats.accepted_current(), stats.retries_answered()), (1, 2));
    // Another event is not a retry.
    let other = body_at(DOCS_TS + 1);
    assert_eq!(call(&svc, signed(other.as_bytes())).await.1, None);
    assert_eq!(seen.calls.load(Ordering::Relaxed), 2);
}

#[tokio::test]
async fn a_failed_handler_gets_the_retry_and_the_memory_can_be_turned_off() {
    let (svc, seen) = service(
        TrtcCallbackAuthLayer::new(keys()),
        DOCS_TS,
        StatusCode::INTERNAL_SERVER_ERROR,
    );
    for _ in 0..3 {
        assert_eq!(
            call(&svc, signed(DOCS_BODY.as_bytes())).await.0,
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
    assert_eq!(seen.calls.load(Ordering::Relaxed), 3);

    let off = TrtcCallbackAuthLayer::new(keys()).with_recent_events(0);
    let (svc, seen) = service(off, DOCS_TS, StatusCode::OK);
    for _ in 0..2 {
        assert_eq!(
            call(&svc, signed(DOCS_BODY.as_bytes())).await.0,
            StatusCode::OK
        );
    }
    assert_eq!(seen.calls.load(Ordering::Relaxed), 2);
}

#[tokio::test]
async fn a_remembered_event_is_forgotten_once_it_leaves_the_window() {
    // The clock moves: the retry after the window is refused as expired, not answered.
    let now = Arc::new(std::sync::atomic::AtomicU64::new(DOCS_TS));
    let clock = now.clone();
    let layer = TrtcCallbackAuthLayer::new(keys()).with_clock(move || {
        std::time::UNIX_EPOCH + std::time::Duration::from_millis(clock.load(Ordering::Relaxed))
    });
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let svc = layer.layer(service_fn(move |_req: Request<TrtcBody>| {
        counter.fetch_add(1, Ordering::Relaxed);
        async { Ok::<_, Infallible>(Response::new(String::new())) }
    }));
    let send = |svc: &mut _| {
        let svc: &mut tim_callback_auth::trtc::TrtcCallbackAuth<_> = svc;
        svc.call(signed(DOCS_BODY.as_bytes()))
    };
    let mut svc = svc;
    ServiceExt::<Request<Chunks>>::ready(&mut svc)
        .await
        .unwrap();
    assert_eq!(send(&mut svc).await.unwrap().status(), StatusCode::OK);
    now.store(DOCS_TS + WINDOW_MS, Ordering::Relaxed);
    ServiceExt::<Request<Chunks>>::ready(&mut svc)
        .await
        .unwrap();
    let retry = send(&mut svc).await.unwrap();
    assert_eq!(
        (retry.status(), calls.load(Ordering::Relaxed)),
        (StatusCode::OK, 1)
    );
    now.store(DOCS_TS + WINDOW_MS + 1, Ordering::Relaxed);
    ServiceExt::<Request<Chunks>>::ready(&mut svc)
        .await
        .unwrap();
    let late = send(&mut svc).await.unwrap();
    assert_eq!(
        late.extensions().get::<Rejection>(),
        Some(&Rejection::Expired)
    );
}

#[tokio::test]
async fn in_an_axum_router() {
    use axum::routing::post;
    use axum::{Extension, Router};
    use tim_callback_auth::Reply;

    async fn handler(Extension(event): Extension<VerifiedTrtcEvent>, body: String) -> Reply {
        assert_eq!((event.event_type(), body.as_str()), (103, DOCS_BODY));
        Reply::trtc_ok()
    }
    let app: Router = Router::new().route("/trtc/callback", post(handler)).layer(
        TrtcCallbackAuthLayer::new(keys())
            .with_clock(|| std::time::UNIX_EPOCH + std::time::Duration::from_millis(DOCS_TS)),
    );
    let sign = independent_sign(KEY, DOCS_BODY.as_bytes());
    let req = Request::post("/trtc/callback")
        .header("SdkAppId", APP)
        .header("Sign", &sign)
        .body(axum::body::Body::from(DOCS_BODY))
        .unwrap();
    let response = app.clone().oneshot(req).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let bad = Request::post("/trtc/callback")
        .header("SdkAppId", APP)
        .header("Sign", &sign)
        .body(axum::body::Body::from(DOCS_BODY.replace("103", "104")))
        .unwrap();
    let response = app.oneshot(bad).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response.extensions().get::<Rejection>(),
        Some(&Rejection::SignatureMismatch)
    );
}

#[tokio::test]
async fn a_plain_hyper_server_reads_incoming_bodies_in_many_chunks() {
    use http_body_util::Full;
    use hyper_util::rt::TokioIo;

    let layer = TrtcCallbackAuthLayer::new(keys())
        .with_clock(|| std::time::UNIX_EPOCH + std::time::Duration::from_millis(DOCS_TS));
    let service = layer.layer(service_fn(|req: Request<TrtcBody>| async move {
        // Outside axum: the verified bytes without polling.
        let bytes = req.into_body().into_bytes();
        Ok::<_, Infallible>(Response::new(Full::new(bytes)))
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let service = hyper_util::service::TowerToHyperService::new(service.clone());
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    // The body in 7-byte chunks (chunked encoding, written by hand), as a slow network delivers
    // it: hyper's `Incoming` yields one frame per chunk.
    let sign = independent_sign(KEY, DOCS_BODY.as_bytes());
    for (body, expected) in [
        (DOCS_BODY.to_owned(), StatusCode::OK),
        (DOCS_BODY.replace("test", "tesT"), StatusCode::UNAUTHORIZED),
    ] {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let head = format!(
            "POST /trtc/callback HTTP/1.1\r\nHost: {addr}\r\nSdkAppId: {APP}\r\nSign: {sign}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        for chunk in body.as_bytes().chunks(7) {
            stream
                .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                .await
                .unwrap();
            stream.write_all(chunk).await.unwrap();
            stream.write_all(b"\r\n").await.unwrap();
            stream.flush().await.unwrap();
        }
        stream.write_all(b"0\r\n\r\n").await.unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.unwrap();
        let answer = String::from_utf8_lossy(&answer);
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {}", expected.as_u16())),
            "{answer}"
        );
        if expected == StatusCode::OK {
            assert!(
                answer.ends_with(DOCS_BODY),
                "the handler got the signed bytes: {answer}"
            );
        }
    }
    server.abort();
}

#[tokio::test]
async fn an_event_replayed_to_another_route_does_not_stand_for_the_delivery() {
    use axum::routing::post;
    use axum::Router;

    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    // Router::layer on purpose: the memory must still tell the routes apart.
    let app: Router = Router::new()
        .route(
            "/trtc/callback",
            post(move || {
                let n = counter.fetch_add(1, Ordering::SeqCst);
                // The first delivery fails (a database down): Tencent will retry.
                async move {
                    if n == 0 {
                        StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        StatusCode::OK
                    }
                }
            }),
        )
        .route("/status", post(|| async { "up" }))
        .layer(
            TrtcCallbackAuthLayer::new(keys())
                .with_clock(|| std::time::UNIX_EPOCH + std::time::Duration::from_millis(DOCS_TS)),
        );
    let deliver = |path: &str| {
        Request::post(path)
            .header("SdkAppId", APP)
            .header("Sign", independent_sign(KEY, DOCS_BODY.as_bytes()))
            .body(axum::body::Body::from(DOCS_BODY))
            .unwrap()
    };
    let first = app
        .clone()
        .oneshot(deliver("/trtc/callback"))
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::INTERNAL_SERVER_ERROR);
    // Someone who saw the delivery replays it to another route under the same layer.
    let replay = app.clone().oneshot(deliver("/status")).await.unwrap();
    assert_eq!(replay.status(), StatusCode::OK);
    // Tencent's retry reaches the handler.
    let retry = app
        .clone()
        .oneshot(deliver("/trtc/callback"))
        .await
        .unwrap();
    assert_eq!(retry.status(), StatusCode::OK);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "the handler processed the event"
    );
}

#[tokio::test]
async fn a_policy_without_a_retry_answer_lets_every_retry_reach_the_handler() {
    let keys = keys();
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let layer = TrtcCallbackAuthLayer::new(keys.clone())
        .with_clock(|| std::time::UNIX_EPOCH + std::time::Duration::from_millis(DOCS_TS))
        .with_rejection_response(|_: Rejection| {
            let mut response = Response::new(String::from("refused"));
            *response.status_mut() = StatusCode::UNAUTHORIZED;
            response
        });
    let svc = layer.layer(service_fn(move |_req: Request<TrtcBody>| {
        counter.fetch_add(1, Ordering::Relaxed);
        async { Ok::<_, Infallible>(Response::new(String::from(r#"{"code":0}"#))) }
    }));
    for _ in 0..2 {
        let response = svc
            .clone()
            .oneshot(signed(DOCS_BODY.as_bytes()))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
    assert_eq!(calls.load(Ordering::Relaxed), 2, "no answer of its own");
    assert_eq!(keys.stats()[0].retries_answered(), 0);
    // Rejections still go through the policy, the reason in the extensions.
    let forged = request(
        &[
            ("SdkAppId", &APP.to_string()),
            (
                "Sign",
                &independent_sign("AnotherKey", DOCS_BODY.as_bytes()),
            ),
        ],
        Chunks::new(&[DOCS_BODY.as_bytes()]),
    );
    let response = svc.oneshot(forged).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.body(), "refused");
    assert_eq!(
        response.extensions().get::<Rejection>(),
        Some(&Rejection::SignatureMismatch)
    );
}

#[tokio::test]
async fn a_setting_changed_on_a_clone_keeps_the_memory_of_answered_events() {
    let layer = TrtcCallbackAuthLayer::new(keys());
    let (first, seen) = service(layer.clone(), DOCS_TS, StatusCode::OK);
    assert_eq!(call(&first, signed(DOCS_BODY.as_bytes())).await.1, None);
    // Another setting, the same layer's state: the retry is answered without the handler.
    let (second, seen_second) = service(layer.with_body_limit(1 << 20), DOCS_TS, StatusCode::OK);
    let (status, rejection, body) = call(&second, signed(DOCS_BODY.as_bytes())).await;
    assert_eq!((status, rejection), (StatusCode::OK, None));
    assert_eq!(body, r#"{"code":0}"#);
    assert_eq!(seen.calls.load(Ordering::Relaxed), 1);
    assert_eq!(seen_second.calls.load(Ordering::Relaxed), 0);
}

/// Every field of the verified event is the body's own: a media event (group 2) reads as group 2,
/// its type, time, info range and key as sent.
#[test]
fn the_verified_event_reports_the_body_s_own_group_type_and_time() {
    let key = TrtcKey::new(KEY).unwrap();
    let keys = TrtcKeys::single(APP, key.clone());
    for (group, event_type) in [(2u64, 201u64), (1, 105), (3, 301), (4, 401)] {
        let ts = DOCS_TS + group;
        let body = format!(
            r#"{{"EventGroupId":{group},"EventType":{event_type},"CallbackTs":{ts},"EventInfo":{{"UserId":"u"}}}}"#
        );
        let mut headers = http::HeaderMap::new();
        headers.insert("SdkAppId", APP.to_string().parse().unwrap());
        headers.insert("Sign", key.sign(body.as_bytes()).parse().unwrap());
        let event = TrtcVerifier::new()
            .verify(&keys, &headers, body.as_bytes(), ts)
            .unwrap();
        assert_eq!(
            (
                event.app_id(),
                event.event_group_id(),
                event.event_type(),
                event.callback_ts_ms()
            ),
            (APP, group, event_type, ts)
        );
        assert_eq!(event.event_info(body.as_bytes()), Some(r#"{"UserId":"u"}"#));
        // Another body (a byte more or less) is not the verified one, whatever its range holds.
        assert_eq!(event.event_info(format!("{body} ").as_bytes()), None);
        assert_eq!(event.event_info(&body.as_bytes()[..body.len() - 1]), None);
        assert!(!event.signed_with_previous_key());
    }
}
