//! The layer in front of an axum router (`oneshot`) and a real hyper 1 server on 127.0.0.1.

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::routing::post;
use axum::Router;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tim_callback_auth::{
    CallbackAuthLayer, CallbackToken, Rejection, TokenHandle, TokenSnapshot, Verifier,
};
use tower::{Layer, ServiceExt};

const OK: &str = r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}"#;
const NOW: u64 = 1_700_000_000;

fn router(handle: TokenHandle) -> Router {
    Router::new()
        .route(
            "/im/callback",
            post(|body: String| async move { format!("{OK}{}", body.len()) }),
        )
        .layer(
            CallbackAuthLayer::new(handle)
                .with_clock(|| std::time::UNIX_EPOCH + std::time::Duration::from_secs(NOW)),
        )
}

fn signed_uri(token: &CallbackToken, time: u64) -> String {
    format!(
        "/im/callback?SdkAppid=1400000000&CallbackCommand=C2C.CallbackAfterSendMsg&contenttype=json&Sign={}&RequestTime={time}",
        token.sign(time)
    )
}

async fn send(app: Router, uri: &str) -> (StatusCode, Option<Rejection>, String) {
    let request = Request::post(uri).body(Body::from("{\"x\":1}")).unwrap();
    let response = app.oneshot(request).await.unwrap();
    let status = response.status();
    let rejection = response.extensions().get::<Rejection>().copied();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, rejection, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn signed_callback_reaches_the_handler_with_its_body() {
    let token = CallbackToken::new("layer-token").unwrap();
    let app = router(TokenHandle::new(TokenSnapshot::enabled(token.clone())));
    let (status, rejection, body) = send(app, &signed_uri(&token, NOW)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rejection, None);
    assert_eq!(body, format!("{OK}7"));
}

#[tokio::test]
async fn forged_callback_gets_401_with_an_opaque_body() {
    let token = CallbackToken::new("layer-token").unwrap();
    let app = router(TokenHandle::new(TokenSnapshot::enabled(token)));
    let forger = CallbackToken::new("guessed-token").unwrap();
    let uri = signed_uri(&forger, NOW);
    let (status, rejection, body) = send(app, &uri).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(rejection, Some(Rejection::SignatureMismatch));
    assert!(body.contains(r#""ActionStatus":"FAIL""#), "{body}");
    assert!(!body.contains(&forger.sign(NOW)));
    assert!(!body.contains("mismatch"));
}

#[tokio::test]
async fn rejection_sets_json_content_type() {
    let app = router(TokenHandle::new(TokenSnapshot::enabled(
        CallbackToken::new("t").unwrap(),
    )));
    let request = Request::post("/im/callback").body(Body::empty()).unwrap();
    let response = app.oneshot(request).await.unwrap();
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(
        response.extensions().get::<Rejection>(),
        Some(&Rejection::MissingSign)
    );
}

#[tokio::test]
async fn no_token_yet_answers_503() {
    let token = CallbackToken::new("layer-token").unwrap();
    let (status, rejection, _) = send(router(TokenHandle::empty()), &signed_uri(&token, NOW)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(rejection, Some(Rejection::TokenUnavailable));
}

#[tokio::test]
async fn disabled_authentication_passes_unsigned_callbacks() {
    let app = router(TokenHandle::new(TokenSnapshot::disabled()));
    let (status, rejection, _) = send(app, "/im/callback?SdkAppid=1400000000").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rejection, None);
}

#[tokio::test]
async fn a_store_takes_effect_on_the_next_request() {
    let handle = TokenHandle::empty();
    let app = router(handle.clone());
    let token = CallbackToken::new("late-token").unwrap();
    assert_eq!(send(app.clone(), &signed_uri(&token, NOW)).await.0, 503);
    handle.store(TokenSnapshot::enabled(token.clone()));
    assert_eq!(send(app, &signed_uri(&token, NOW)).await.0, 200);
}

#[tokio::test]
async fn stale_callback_is_rejected_with_the_injected_clock() {
    let token = CallbackToken::new("layer-token").unwrap();
    let app = router(TokenHandle::new(TokenSnapshot::enabled(token.clone())));
    let (status, rejection, _) = send(app, &signed_uri(&token, NOW - 61)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(rejection, Some(Rejection::Expired));
}

#[tokio::test]
async fn clock_is_read_once_per_request() {
    let reads = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&reads);
    let token = CallbackToken::new("layer-token").unwrap();
    let app = Router::new()
        .route("/im/callback", post(|| async { "ok" }))
        .layer(
            CallbackAuthLayer::new(TokenHandle::new(TokenSnapshot::enabled(token.clone())))
                .with_clock(move || {
                    counter.fetch_add(1, Ordering::SeqCst);
                    std::time::UNIX_EPOCH + std::time::Duration::from_secs(NOW)
                }),
        );
    send(app.clone(), &signed_uri(&token, NOW)).await;
    send(app, "/im/callback?Sign=x").await;
    assert_eq!(reads.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn custom_rejection_response_and_app_id_check() {
    let token = CallbackToken::new("layer-token").unwrap();
    let layer = CallbackAuthLayer::new(TokenHandle::new(TokenSnapshot::enabled(token.clone())))
        .with_clock(|| std::time::UNIX_EPOCH + std::time::Duration::from_secs(NOW))
        .with_verifier(Verifier::new().with_app_id(1400000001))
        .with_rejection_response(|r: Rejection| {
            let mut response = Response::new(Body::from(
                r#"{"ActionStatus":"OK","ErrorCode":1,"ErrorInfo":""}"#,
            ));
            if r == Rejection::TokenUnavailable {
                *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            }
            response
        });
    let app = Router::new()
        .route("/im/callback", post(|| async { "ok" }))
        .layer(layer);
    let (status, rejection, body) = send(app, &signed_uri(&token, NOW)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rejection, Some(Rejection::AppIdMismatch));
    assert!(body.contains(r#""ErrorCode":1"#));
}

#[tokio::test]
async fn forbid_callback_answers_200_with_error_code_1() {
    let layer =
        CallbackAuthLayer::new(TokenHandle::empty()).with_rejection_response(|_: Rejection| {
            tim_callback_auth::Reply::forbid().into_response::<Body>()
        });
    let app = Router::new()
        .route("/im/callback", post(|| async { "ok" }))
        .layer(layer);
    let (status, rejection, body) = send(app, "/im/callback").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rejection, Some(Rejection::TokenUnavailable));
    assert!(body.contains(r#""ErrorCode":1"#), "{body}");
}

#[tokio::test]
async fn hyper_server_on_loopback_answers_a_real_client() {
    let token = CallbackToken::new("hyper-token").unwrap();
    let handle = TokenHandle::new(TokenSnapshot::enabled(token.clone()));
    let service = CallbackAuthLayer::new(handle).layer(tower::service_fn(
        |req: Request<Incoming>| async move {
            let body = req.into_body().collect().await.unwrap().to_bytes();
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(format!(
                "{OK}{}",
                body.len()
            )))))
        },
    ));
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

    let client = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
        .build_http::<Full<Bytes>>();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let good = format!("http://{addr}{}", signed_uri(&token, now));
    let forged = format!(
        "http://{addr}{}",
        signed_uri(&CallbackToken::new("x").unwrap(), now)
    );
    for (uri, expected) in [(good.clone(), 200), (forged, 401), (good, 200)] {
        let request = Request::post(uri)
            .body(Full::new(Bytes::from_static(b"{\"a\":1}")))
            .unwrap();
        let response = client.request(request).await.unwrap();
        assert_eq!(response.status(), expected);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        if expected == 200 {
            assert_eq!(body, format!("{OK}7").as_bytes());
        }
    }
    server.abort();
}

#[tokio::test]
async fn settings_changed_on_a_clone_keep_the_layers_counters() {
    let token = CallbackToken::new("layer-token").unwrap();
    let layer = CallbackAuthLayer::new(TokenHandle::new(TokenSnapshot::enabled(token.clone())))
        .with_clock(|| std::time::UNIX_EPOCH + std::time::Duration::from_secs(NOW));
    let app = Router::new()
        .route("/im/callback", post(|| async { "ok" }))
        .layer(layer.clone());
    assert_eq!(send(app, &signed_uri(&token, NOW)).await.0, StatusCode::OK);
    // Every `with_*` sets its setting only: the counters are the layer's, whatever was changed.
    let changed = layer
        .clone()
        .with_verified_extension(false)
        .with_verifier(Verifier::new())
        .with_rejection_response(|_: Rejection| Response::new(Body::empty()));
    let app = Router::new()
        .route("/im/callback", post(|| async { "ok" }))
        .layer(changed.clone());
    assert_eq!(send(app, "/im/callback?Sign=x").await.0, StatusCode::OK);
    for stats in [&layer.stats()[0], &changed.stats()[0]] {
        assert_eq!(stats.accepted_total(), 1);
        assert_eq!(stats.rejected_total(), 1);
    }
}

#[tokio::test]
async fn a_handle_that_knows_its_app_refuses_callbacks_of_another() {
    let token = CallbackToken::new("layer-token-of-one-app").unwrap();
    let other = signed_uri(&token, NOW).replace("SdkAppid=1400000000", "SdkAppid=1400000009");
    for handle in [
        TokenHandle::for_app(1400000000, TokenSnapshot::enabled(token.clone())),
        TokenHandle::from_token(1400000000, "layer-token-of-one-app").unwrap(),
    ] {
        assert_eq!(handle.app_id(), Some(1400000000));
        let (status, rejection, _) = send(router(handle.clone()), &signed_uri(&token, NOW)).await;
        assert_eq!((status, rejection), (StatusCode::OK, None));
        let (status, rejection, _) = send(router(handle.clone()), &other).await;
        assert_eq!(
            (status, rejection),
            (StatusCode::UNAUTHORIZED, Some(Rejection::AppIdMismatch))
        );
        // A verifier of its own (a window, strict mode) keeps the handle's app check.
        let layer = CallbackAuthLayer::new(handle)
            .with_verifier(Verifier::new().with_window(std::time::Duration::from_secs(30)))
            .with_clock(|| std::time::UNIX_EPOCH + std::time::Duration::from_secs(NOW));
        let app = Router::new()
            .route("/im/callback", post(|| async { OK }))
            .layer(layer);
        let (_, rejection, _) = send(app, &other).await;
        assert_eq!(rejection, Some(Rejection::AppIdMismatch));
    }
    // A handle for any app reports the query's app, and refuses a callback naming none.
    let any = router(TokenHandle::new(TokenSnapshot::enabled(token.clone())));
    let (status, _, _) = send(any.clone(), &other).await;
    assert_eq!(status, StatusCode::OK);
    let unnamed = format!("/im/callback?Sign={}&RequestTime={NOW}", token.sign(NOW));
    let (_, rejection, _) = send(any, &unnamed).await;
    assert_eq!(rejection, Some(Rejection::MissingAppId));
}
