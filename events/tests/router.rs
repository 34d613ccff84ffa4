//! The Router and the extractors behind the verification layers: one app and an AppSet, tower
//! and axum, the one reading of the command, bodies that cannot be read, the default and the
//! fallback.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::routing::post;
use axum::Extension;
use http::{Request, Response, StatusCode};
use tim_callback_auth::trtc::{TrtcCallbackAuthLayer, TrtcKey, TrtcKeys};
use tim_callback_auth::{
    AppSet, CallbackAuthLayer, CallbackToken, Reply, TokenHandle, VerifiedCallback,
};
use tim_callback_events::chat::c2c::{C2cAfterSendMsg, C2cBeforeSendMsg};
use tim_callback_events::extract::{AnyEvent, Typed, TypedTrtc};
use tim_callback_events::message::MsgElement;
use tim_callback_events::trtc::TrtcEvent;
use tim_callback_events::{Ack, Config, ErrorKind, Event, Router, Stats, UnreadableBody, Verdict};
use tower::{Layer, ServiceExt};

const APP: u64 = 1_400_000_001;
const OTHER_APP: u64 = 1_400_000_002;
const TOKEN: &str = "router-test-token";
const OTHER_TOKEN: &str = "other-app-token";
const BEFORE: &str = "C2C.CallbackBeforeSendMsg";
const AFTER: &str = "C2C.CallbackAfterSendMsg";
const OK: &str = r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}"#;
const FORBID: &str = r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":1}"#;

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A signed URI for `app`, with `extra` query parameters (the command, …).
fn uri(app: u64, token: &str, extra: &str) -> String {
    let time = now();
    let sign = CallbackToken::new(token).unwrap().sign(time);
    format!("/im/callback?SdkAppid={app}&{extra}&contenttype=json&Sign={sign}&RequestTime={time}")
}

fn request(uri: &str, body: &str) -> Request<String> {
    Request::post(uri)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .unwrap()
}

fn before_body(text: &str) -> String {
    format!(
        r#"{{"CallbackCommand":"{BEFORE}","From_Account":"alice","To_Account":"bob","MsgSeq":1,"MsgRandom":2,"MsgTime":3,"MsgKey":"1_2_3",
            "MsgBody":[{{"MsgType":"TIMTextElem","MsgContent":{{"Text":"{text}"}}}}]}}"#
    )
}

/// The moderation handler of the demo: "badword" masked.
async fn moderate(
    event: C2cBeforeSendMsg,
    verified: VerifiedCallback,
) -> Verdict<C2cBeforeSendMsg> {
    assert_eq!(verified.app_id(), APP);
    let masked: Vec<MsgElement> = event
        .msg_body
        .iter()
        .map(|e| {
            e.as_text().map_or_else(
                || e.clone(),
                |t| MsgElement::text(t.replace("badword", "*******")),
            )
        })
        .collect();
    if masked == event.msg_body {
        Verdict::allow()
    } else {
        Verdict::allow_with_msg_body(masked)
    }
}

fn router(stats: &Stats, calls: &Arc<AtomicUsize>) -> Router {
    let after_calls = Arc::clone(calls);
    Router::new()
        .with_config(
            Config::new()
                .with_stats(stats.clone())
                .with_body_limit(4096),
        )
        .on(moderate)
        .on(move |event: C2cAfterSendMsg, _verified| {
            after_calls.fetch_add(1, Ordering::SeqCst);
            assert_eq!(event.from_account, "alice");
            async { Ack }
        })
}

async fn send<S>(service: S, request: Request<String>) -> (StatusCode, String)
where
    S: tower::Service<Request<String>, Response = Response<String>>,
    S::Error: std::fmt::Debug,
{
    let response = service.oneshot(request).await.unwrap();
    (response.status(), response.into_body())
}

#[tokio::test]
async fn a_signed_before_send_is_moderated_and_its_rewrite_answered() {
    let stats = Stats::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let service = CallbackAuthLayer::new(TokenHandle::from_token(APP, TOKEN).unwrap())
        .layer(router(&stats, &calls));
    let q = format!("CallbackCommand={BEFORE}");
    let (status, body) = send(
        service.clone(),
        request(&uri(APP, TOKEN, &q), &before_body("a badword here")),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"a ******* here"}}]}"#
    );
    let (_, body) = send(
        service.clone(),
        request(&uri(APP, TOKEN, &q), &before_body("clean")),
    )
    .await;
    assert_eq!(body, OK);
    // The command from the body alone routes too.
    let (_, body) = send(
        service.clone(),
        request(&uri(APP, TOKEN, "x=1"), &before_body("badword")),
    )
    .await;
    assert!(body.contains("*******"), "{body}");
    assert_eq!(stats.dispatched(), 3);
    // A forgery never reaches the router.
    let forged = uri(APP, "not-the-token", &q);
    let (status, _) = send(service, request(&forged, &before_body("badword"))).await;
    assert_ne!(status, StatusCode::OK);
    assert_eq!(stats.dispatched(), 3);
}

#[tokio::test]
async fn a_query_and_a_body_naming_different_commands_are_refused() {
    let stats = Stats::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let service = CallbackAuthLayer::new(TokenHandle::from_token(APP, TOKEN).unwrap())
        .layer(router(&stats, &calls));
    // The query says after-send (whose handler would ack), the body says before-send.
    let q = format!("CallbackCommand={AFTER}");
    let (status, _) = send(
        service.clone(),
        request(&uri(APP, TOKEN, &q), &before_body("x")),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // The other way round: a before-callback is refused too (not answered by the policy).
    let q = format!("CallbackCommand={BEFORE}");
    let body = format!(r#"{{"CallbackCommand":"{AFTER}","From_Account":"alice"}}"#);
    let (status, _) = send(service.clone(), request(&uri(APP, TOKEN, &q), &body)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Two query readings, and a disguised one.
    let q = format!("CallbackCommand={AFTER}&WebhookCommand={BEFORE}");
    let (status, _) = send(service.clone(), request(&uri(APP, TOKEN, &q), "{}")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let q = format!("CallbackCommand={AFTER}&Callback%43ommand={BEFORE}");
    let (status, _) = send(service, request(&uri(APP, TOKEN, &q), "{}")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(stats.refused(ErrorKind::CommandConflict), 3);
    assert_eq!(stats.refused(ErrorKind::BadQueryCommand), 1);
    assert_eq!((stats.dispatched(), calls.load(Ordering::SeqCst)), (0, 0));
}

#[tokio::test]
async fn unreadable_bodies_are_refused_or_answered_by_the_policy() {
    let stats = Stats::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let service = CallbackAuthLayer::new(TokenHandle::from_token(APP, TOKEN).unwrap())
        .layer(router(&stats, &calls));
    let before = format!("CallbackCommand={BEFORE}");
    let after = format!("CallbackCommand={AFTER}");
    let big = format!(r#"{{"From_Account":"{}"}}"#, "a".repeat(5000));
    for (body, kind) in [
        ("{", ErrorKind::Malformed),
        (r#"{"From_Account":7}"#, ErrorKind::Mismatch),
        (big.as_str(), ErrorKind::TooLarge),
    ] {
        // An after-callback: a typed status.
        let (status, _) = send(service.clone(), request(&uri(APP, TOKEN, &after), body)).await;
        assert_eq!(status, kind.status(), "{kind:?}");
        assert_eq!(stats.refused(kind), 1);
        // A before-callback: 200 and the policy's forbid.
        let (status, reply) = send(service.clone(), request(&uri(APP, TOKEN, &before), body)).await;
        assert_eq!(
            (status, reply.as_str()),
            (StatusCode::OK, FORBID),
            "{kind:?}"
        );
        assert_eq!(stats.answered_by_policy(kind), 1);
    }
    let form = Request::post(uri(APP, TOKEN, &after))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("a=b".to_owned())
        .unwrap();
    assert_eq!(
        send(service.clone(), form).await.0,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    // No Content-Type at all is fine.
    let bare = Request::post(uri(APP, TOKEN, &after))
        .body(r#"{"From_Account":"alice"}"#.to_owned())
        .unwrap();
    assert_eq!(
        send(service.clone(), bare).await,
        (StatusCode::OK, OK.to_owned())
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    // The allow policy lets the unreadable before-callback through.
    let allow = CallbackAuthLayer::new(TokenHandle::from_token(APP, TOKEN).unwrap()).layer(
        router(&stats, &calls)
            .with_config(Config::new().with_unreadable_body(UnreadableBody::Allow)),
    );
    assert_eq!(
        send(allow, request(&uri(APP, TOKEN, &before), "{")).await,
        (StatusCode::OK, OK.to_owned())
    );
}

#[tokio::test]
async fn commands_without_a_handler_are_answered_by_default_or_given_to_the_fallback() {
    let stats = Stats::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let layer = CallbackAuthLayer::new(TokenHandle::from_token(APP, TOKEN).unwrap());
    let service = layer.clone().layer(router(&stats, &calls));
    // Unread: even a body that is not JSON.
    let q = "CallbackCommand=Group.CallbackAfterGroupFull";
    assert_eq!(
        send(service.clone(), request(&uri(APP, TOKEN, q), "not json")).await,
        (StatusCode::OK, OK.to_owned())
    );
    assert_eq!(stats.defaulted(), 1);

    let seen: Arc<Mutex<Vec<Event>>> = Arc::default();
    let record = Arc::clone(&seen);
    let with_fallback =
        router(&stats, &calls).fallback(move |event: Event, verified: VerifiedCallback| {
            assert_eq!(verified.app_id(), APP);
            record.lock().unwrap().push(event);
            async { Reply::forbid() }
        });
    let service = layer.layer(with_fallback);
    let (status, body) = send(
        service.clone(),
        request(
            &uri(APP, TOKEN, "CallbackCommand=Chat.CallbackSomethingNew"),
            r#"{"CallbackCommand":"Chat.CallbackSomethingNew","N":1}"#,
        ),
    )
    .await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, FORBID));
    // A known command without a route reaches the fallback typed.
    let known = r#"{"From_Account":"alice","To_Account":"bob"}"#;
    send(
        service.clone(),
        request(
            &uri(APP, TOKEN, "CallbackCommand=C2C.CallbackAfterMsgWithDraw"),
            known,
        ),
    )
    .await;
    {
        let seen = seen.lock().unwrap();
        assert!(
            matches!(&seen[0], Event::Unknown { command, body } if command == "Chat.CallbackSomethingNew" && body["N"] == 1)
        );
        assert_eq!(seen[1].command(), "C2C.CallbackAfterMsgWithDraw");
        assert!(!matches!(&seen[1], Event::Unknown { .. }), "{:?}", seen[1]);
    }
    // The fallback's body must agree with its query too.
    let (status, _) = send(
        service,
        request(
            &uri(APP, TOKEN, "CallbackCommand=Chat.CallbackNew"),
            r#"{"CallbackCommand":"Chat.CallbackOther"}"#,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_router_outside_a_verification_layer_refuses_everything() {
    let stats = Stats::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let q = format!("CallbackCommand={BEFORE}");
    let (status, _) = send(
        router(&stats, &calls),
        request(&uri(APP, TOKEN, &q), &before_body("x")),
    )
    .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        (stats.refused(ErrorKind::NotVerified), stats.dispatched()),
        (1, 0)
    );
}

#[tokio::test]
async fn an_app_set_routes_each_app_and_the_handler_sees_which() {
    let apps = AppSet::new();
    apps.insert(APP, TokenHandle::from_token(APP, TOKEN).unwrap());
    apps.insert(
        OTHER_APP,
        TokenHandle::from_token(OTHER_APP, OTHER_TOKEN).unwrap(),
    );
    let seen: Arc<Mutex<Vec<u64>>> = Arc::default();
    let record = Arc::clone(&seen);
    let router = Router::new().on(move |_: C2cAfterSendMsg, verified: VerifiedCallback| {
        record.lock().unwrap().push(verified.app_id());
        async { Ack }
    });
    let service = CallbackAuthLayer::for_apps(apps).layer(router);
    let q = format!("CallbackCommand={AFTER}");
    for (app, token) in [(OTHER_APP, OTHER_TOKEN), (APP, TOKEN)] {
        assert_eq!(
            send(service.clone(), request(&uri(app, token, &q), "{}"))
                .await
                .0,
            StatusCode::OK
        );
    }
    // One app's token does not sign for the other.
    assert_ne!(
        send(service, request(&uri(OTHER_APP, TOKEN, &q), "{}"))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(*seen.lock().unwrap(), [OTHER_APP, APP]);
}

async fn axum_send(app: axum::Router, request: Request<String>) -> (StatusCode, String) {
    let response = app
        .oneshot(request.map(axum::body::Body::from))
        .await
        .unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

#[tokio::test]
async fn in_axum_the_router_and_the_extractor_read_alike() {
    let stats = Stats::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let layer = CallbackAuthLayer::new(TokenHandle::from_token(APP, TOKEN).unwrap());
    let app = axum::Router::new()
        .route_service("/im/callback", router(&stats, &calls))
        .layer(layer.clone());
    let q = format!("CallbackCommand={BEFORE}");
    let (status, body) =
        axum_send(app, request(&uri(APP, TOKEN, &q), &before_body("badword"))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains(r#""Text":"*******""#), "{body}");

    async fn handler(
        Extension(verified): Extension<VerifiedCallback>,
        Typed(event): Typed<C2cBeforeSendMsg>,
    ) -> Verdict<C2cBeforeSendMsg> {
        moderate(event, verified).await
    }
    let extractor_stats = Stats::new();
    let app = axum::Router::new()
        .route("/im/callback", post(handler))
        .layer(layer)
        .layer(Extension(
            Config::new()
                .with_stats(extractor_stats.clone())
                .with_body_limit(1024),
        ));
    let (_, body) = axum_send(
        app.clone(),
        request(&uri(APP, TOKEN, &q), &before_body("badword")),
    )
    .await;
    assert!(body.contains(r#""Text":"*******""#), "{body}");
    // The query names another command than the extractor's type.
    let (status, _) = axum_send(
        app.clone(),
        request(
            &uri(APP, TOKEN, &format!("CallbackCommand={AFTER}")),
            &before_body("x"),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Unreadable before-callback: the policy, the handler not run.
    let (status, body) = axum_send(app.clone(), request(&uri(APP, TOKEN, &q), "{")).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, FORBID));
    let big = before_body(&"a".repeat(2000));
    assert_eq!(
        axum_send(app, request(&uri(APP, TOKEN, &q), &big)).await.1,
        FORBID
    );
    assert_eq!(extractor_stats.dispatched(), 1);
    assert_eq!(extractor_stats.refused(ErrorKind::CommandConflict), 1);
    assert_eq!(extractor_stats.answered_by_policy(ErrorKind::Malformed), 1);
    assert_eq!(extractor_stats.answered_by_policy(ErrorKind::TooLarge), 1);
}

#[tokio::test]
async fn a_trtc_event_is_typed_behind_the_trtc_layer() {
    let key = TrtcKey::new("TrtcRouterTestKey").unwrap();
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let body = format!(
        r#"{{"EventGroupId":2,"EventType":201,"CallbackTs":{ms},"EventInfo":{{"RoomId":"r-9","EventTs":1,"UserId":"carol"}}}}"#
    );
    let sign = key.sign(body.as_bytes());
    async fn handler(TypedTrtc(event): TypedTrtc) -> Reply {
        let TrtcEvent::StartVideo(info) = event else {
            panic!("{event:?}")
        };
        assert_eq!(
            (info.room_id.to_string(), info.user_id.as_str()),
            ("r-9".to_owned(), "carol")
        );
        Reply::trtc_ok()
    }
    let app = axum::Router::new()
        .route("/trtc/callback", post(handler))
        .layer(TrtcCallbackAuthLayer::new(TrtcKeys::single(APP, key)));
    let signed = Request::post("/trtc/callback")
        .header("SdkAppId", APP.to_string())
        .header("Sign", sign)
        .body(body)
        .unwrap();
    assert_eq!(
        axum_send(app.clone(), signed).await,
        (StatusCode::OK, r#"{"code":0}"#.to_owned())
    );
    // Without the layer: refused.
    let bare = axum::Router::new().route("/trtc/callback", post(handler));
    let unsigned = Request::post("/trtc/callback")
        .body("{}".to_owned())
        .unwrap();
    assert_eq!(
        axum_send(bare, unsigned).await.0,
        StatusCode::INTERNAL_SERVER_ERROR
    );
}

#[tokio::test]
async fn a_panicking_handler_is_answered_not_dropped() {
    let stats = Stats::new();
    let router = Router::new()
        .with_config(Config::new().with_stats(stats.clone()))
        .on(|_: C2cBeforeSendMsg, _| async move {
            if true {
                panic!("the handler failed");
            }
            Verdict::allow()
        })
        .on(|_: C2cAfterSendMsg, _| -> std::future::Ready<Ack> { panic!("before its future") });
    let service =
        CallbackAuthLayer::new(TokenHandle::from_token(APP, TOKEN).unwrap()).layer(router);
    // A before-callback: the policy's forbid, not a dropped connection (Tencent would deliver).
    let q = format!("CallbackCommand={BEFORE}");
    assert_eq!(
        send(
            service.clone(),
            request(&uri(APP, TOKEN, &q), &before_body("x"))
        )
        .await,
        (StatusCode::OK, FORBID.to_owned())
    );
    // An after-callback: 500, which Tencent retries where it retries.
    let q = format!("CallbackCommand={AFTER}");
    assert_eq!(
        send(service, request(&uri(APP, TOKEN, &q), "{}")).await.0,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(stats.answered_by_policy(ErrorKind::HandlerPanicked), 1);
    assert_eq!(stats.refused(ErrorKind::HandlerPanicked), 1);
}

#[tokio::test]
async fn any_event_reads_every_command_behind_one_url() {
    async fn handler(
        Extension(verified): Extension<VerifiedCallback>,
        AnyEvent(event): AnyEvent,
    ) -> Reply {
        assert_eq!(verified.app_id(), APP);
        match event {
            Event::C2cBeforeSendMsg(message)
                if message.msg_body.iter().any(|e| e.as_text() == Some("spam")) =>
            {
                Reply::forbid()
            }
            Event::Unknown { command, .. } if command == "Chat.CallbackNew" => Reply::discard(),
            _ => Reply::ok(),
        }
    }
    let stats = Stats::new();
    let app = axum::Router::new()
        .route("/im/callback", post(handler))
        .layer(CallbackAuthLayer::new(
            TokenHandle::from_token(APP, TOKEN).unwrap(),
        ))
        .layer(Extension(Config::new().with_stats(stats.clone())));
    let q = format!("CallbackCommand={BEFORE}");
    assert_eq!(
        axum_send(
            app.clone(),
            request(&uri(APP, TOKEN, &q), &before_body("spam"))
        )
        .await
        .1,
        FORBID
    );
    assert_eq!(
        axum_send(
            app.clone(),
            request(&uri(APP, TOKEN, &q), &before_body("fine"))
        )
        .await
        .1,
        OK
    );
    // The command from the body when the query has none; an unknown one kept.
    let (_, body) = axum_send(
        app.clone(),
        request(
            &uri(APP, TOKEN, "x=1"),
            r#"{"CallbackCommand":"Chat.CallbackNew"}"#,
        ),
    )
    .await;
    assert_eq!(
        body,
        r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":2}"#
    );
    // Disagreement: 400; an unreadable before-callback: the policy.
    let (status, _) = axum_send(
        app.clone(),
        request(
            &uri(APP, TOKEN, &q),
            r#"{"CallbackCommand":"Group.CallbackBeforeSendMsg"}"#,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        axum_send(app, request(&uri(APP, TOKEN, &q), "{")).await,
        (StatusCode::OK, FORBID.to_owned())
    );
    assert_eq!(
        (
            stats.dispatched(),
            stats.refused(ErrorKind::CommandConflict),
            stats.answered_by_policy(ErrorKind::Malformed)
        ),
        (3, 1, 1)
    );
}

#[test]
fn a_router_shows_its_commands_and_nothing_else() {
    let router = Router::new()
        .on(moderate)
        .on(|_: C2cAfterSendMsg, _| async { Ack });
    let debug = format!("{router:?}");
    assert!(debug.starts_with(r#"Router { commands: ["C2C.CallbackAfterSendMsg", "C2C.CallbackBeforeSendMsg"], fallback: false"#), "{debug}");
}

/// A type of the user's own for a command: the policy follows the command's kind whatever the
/// reply type says (a known before-callback with `Ack`), and the reply type's (a `Verdict` for a
/// command this crate does not know).
#[tokio::test]
async fn custom_types_keep_the_policy_of_a_deciding_command() {
    #[derive(serde::Deserialize)]
    struct MyBeforeSend {}
    impl tim_callback_events::Callback for MyBeforeSend {
        const COMMAND: &'static str = BEFORE;
        type Reply = Ack;
    }
    #[derive(serde::Deserialize)]
    struct MyNewCheck {}
    impl tim_callback_events::Callback for MyNewCheck {
        const COMMAND: &'static str = "Chat.CallbackBeforeSomethingNew";
        type Reply = Verdict<Self>;
    }
    let router = Router::new()
        .on(|_: MyBeforeSend, _| async { Ack })
        .on(|_: MyNewCheck, _| async { Verdict::allow() });
    let stats = router.stats().clone();
    let service =
        CallbackAuthLayer::new(TokenHandle::from_token(APP, TOKEN).unwrap()).layer(router);
    for command in [BEFORE, "Chat.CallbackBeforeSomethingNew"] {
        let q = format!("CallbackCommand={command}");
        assert_eq!(
            send(service.clone(), request(&uri(APP, TOKEN, &q), "{")).await,
            (StatusCode::OK, FORBID.to_owned()),
            "{command}"
        );
    }
    // The router's own counters (`Router::stats`) saw both.
    assert_eq!(stats.answered_by_policy(ErrorKind::Malformed), 2);
}
