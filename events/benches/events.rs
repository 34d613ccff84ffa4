//! Typed callbacks: the typed parse of a typical `C2C.CallbackBeforeSendMsg` (two text elements,
//! ~400 bytes) against `serde_json::from_slice::<Value>` of the same bytes, owned as the
//! extractor and the router parse it; and a request through the `Router` against calling the
//! handler directly on the same bytes. One run, so the ratios hold on a noisy machine.
//!
//! Run: `cargo bench -p tim-callback-events --bench events`

use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use criterion::{criterion_group, criterion_main, Criterion};
use http::Request;
use tim_callback_auth::{TokenSnapshot, VerifiedCallback, Verifier};
use tim_callback_events::chat::c2c::{
    C2cAfterMsgReport, C2cAfterMsgWithDraw, C2cAfterSendMsg, C2cBeforeSendMsg,
};
use tim_callback_events::chat::group::{GroupAfterSendMsg, GroupBeforeSendMsg};
use tim_callback_events::chat::sns::{SnsFriendAdd, SnsFriendDelete};
use tim_callback_events::chat::state::StateStateChange;
use tim_callback_events::{from_slice, CallbackReply, Router, Verdict};
use tim_callback_events::{Ack, Callback};
use tower::Service as _;

fn body() -> String {
    let body = r#"{"CallbackCommand":"C2C.CallbackBeforeSendMsg","From_Account":"user_01234","To_Account":"user_98765","MsgSeq":48374,"MsgRandom":2837546,"MsgTime":1700000000,"MsgKey":"48374_2837546_1700000000","OnlineOnlyFlag":0,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"Still on for tonight?"}},{"MsgType":"TIMTextElem","MsgContent":{"Text":"I will bring the documents."}}],"CloudCustomData":"{\"client\":\"ios\",\"v\":3}","EventTime":1700000000123}"#;
    assert!((380..=460).contains(&body.len()), "{}", body.len());
    body.to_owned()
}

async fn handler(
    event: C2cBeforeSendMsg,
    _verified: VerifiedCallback,
) -> Verdict<C2cBeforeSendMsg> {
    if event
        .msg_body
        .iter()
        .any(|e| e.as_text().is_some_and(|t| t.contains("casino")))
    {
        Verdict::forbid()
    } else {
        Verdict::allow()
    }
}

/// Polls a future that never waits (the router's and the handler's, on an in-memory body).
fn now<F: std::future::Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => unreachable!("an in-memory request does not wait"),
    }
}

fn parse(c: &mut Criterion) {
    let body = body();
    let bytes = body.as_bytes();
    let mut group = c.benchmark_group("parse_c2c_before_send");
    group.bench_function("typed", |b| {
        b.iter(|| from_slice::<C2cBeforeSendMsg>(black_box(bytes)).unwrap())
    });
    // The derived deserializer alone (no UTF-8 check, no command taken aside): what the
    // one-pass reading of the command costs.
    group.bench_function("derived_only", |b| {
        b.iter(|| serde_json::from_slice::<C2cBeforeSendMsg>(black_box(bytes)).unwrap())
    });
    group.bench_function("serde_json_value", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(bytes)).unwrap())
    });
    group.finish();
}

fn dispatch(c: &mut Criterion) {
    let body = body();
    let verified = Verifier::new()
        .verify(&TokenSnapshot::disabled(), "SdkAppid=1400000001", 0)
        .unwrap();
    let mut router = Router::new().on(handler);
    let uri = "/im/callback?SdkAppid=1400000001&CallbackCommand=C2C.CallbackBeforeSendMsg&contenttype=json&ClientIP=127.0.0.1&OptPlatform=iOS";
    // Ten routes: the command is found by one hash lookup whatever their number.
    fn ack<C: Callback<Reply = Ack>>(router: Router) -> Router {
        router.on(|_: C, _| async { Ack })
    }
    let mut many = [
        ack::<C2cAfterSendMsg>,
        ack::<C2cAfterMsgReport>,
        ack::<C2cAfterMsgWithDraw>,
        ack::<GroupAfterSendMsg>,
        ack::<SnsFriendAdd>,
        ack::<SnsFriendDelete>,
        ack::<StateStateChange>,
    ]
    .into_iter()
    .fold(Router::new(), |router, add| add(router))
    .on(|_: GroupBeforeSendMsg, _| async { Verdict::allow() })
    .on(handler);
    let mut group = c.benchmark_group("dispatch_c2c_before_send");
    group.bench_function("router_nine_routes", |b| {
        b.iter(|| {
            let mut request = Request::post(uri).body(body.clone()).unwrap();
            request.extensions_mut().insert(verified);
            now(many.call(black_box(request))).unwrap()
        })
    });
    group.bench_function("router", |b| {
        b.iter(|| {
            let mut request = Request::post(uri).body(body.clone()).unwrap();
            request.extensions_mut().insert(verified);
            now(router.call(black_box(request))).unwrap()
        })
    });
    group.bench_function("handler_called_directly", |b| {
        b.iter(|| {
            let mut request = Request::post(uri).body(body.clone()).unwrap();
            request.extensions_mut().insert(verified);
            let event =
                from_slice::<C2cBeforeSendMsg>(black_box(request.body().as_bytes())).unwrap();
            let verified = *request.extensions().get::<VerifiedCallback>().unwrap();
            let reply = now(handler(event, verified));
            http::Response::new(reply.to_json())
        })
    });
    group.finish();
}

criterion_group!(benches, parse, dispatch);
criterion_main!(benches);
