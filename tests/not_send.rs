//! A service that is `Clone` but not `Send` (an `Rc` inside) can be wrapped by both middlewares,
//! whatever features are on: the `Service` impls have the same bounds under every feature set, with
//! no `Send` or `'static` bound. Built by `cargo test` (default features) and by
//! `cargo test --all-features`; the TRTC half needs the `trtc` feature.

use std::cell::Cell;
use std::convert::Infallible;
use std::future::{ready, Ready};
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::{Duration, UNIX_EPOCH};

use http::{Request, Response, StatusCode};
use tim_callback_auth::{CallbackAuthLayer, CallbackToken, Rejection, TokenHandle, TokenSnapshot};
use tower::{Layer, Service, ServiceExt};

const NOW: u64 = 1_700_000_000;

/// Counts its calls in an `Rc`: `Clone`, `!Send`, `!Sync`.
#[derive(Clone, Default)]
struct Local(Rc<Cell<u32>>);

impl<B> Service<Request<B>> for Local {
    type Response = Response<String>;
    type Error = Infallible;
    type Future = Ready<Result<Response<String>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _req: Request<B>) -> Self::Future {
        self.0.set(self.0.get() + 1);
        ready(Ok(Response::new("ok".to_owned())))
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_local_service_behind_the_chat_layer_accepts_a_signed_request() {
    let token = CallbackToken::new("not-send-token").unwrap();
    let handle = TokenHandle::new(TokenSnapshot::enabled(token.clone()));
    let inner = Local::default();
    let calls = Rc::clone(&inner.0);
    let service = CallbackAuthLayer::new(handle)
        .with_clock(|| UNIX_EPOCH + Duration::from_secs(NOW))
        .layer(inner);
    tokio::task::LocalSet::new()
        .run_until(async move {
            let signed = format!(
                "/cb?SdkAppid=1400000000&Sign={}&RequestTime={NOW}",
                token.sign(NOW)
            );
            let request = Request::post(signed).body(String::new()).unwrap();
            // Spawned on the local set: the future need not be `Send` either.
            let response = tokio::task::spawn_local(service.clone().oneshot(request))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            assert_eq!(response.body(), "ok");

            let forged = format!(
                "/cb?SdkAppid=1400000000&Sign={}&RequestTime={NOW}",
                "0".repeat(64)
            );
            let request = Request::post(forged).body(String::new()).unwrap();
            let response = service.oneshot(request).await.unwrap();
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
            assert_eq!(
                response.extensions().get::<Rejection>(),
                Some(&Rejection::SignatureMismatch)
            );
        })
        .await;
    assert_eq!(
        calls.get(),
        1,
        "only the signed request reached the service"
    );
}

#[cfg(feature = "trtc")]
#[tokio::test(flavor = "current_thread")]
async fn a_local_service_behind_the_trtc_layer_accepts_a_signed_event() {
    use tim_callback_auth::trtc::{TrtcCallbackAuthLayer, TrtcKey, TrtcKeys};

    let key = TrtcKey::new("NotSendTrtcKey").unwrap();
    let now_ms = NOW * 1000;
    let body =
        format!(r#"{{"EventGroupId":1,"EventType":104,"CallbackTs":{now_ms},"EventInfo":{{}}}}"#);
    let sign = key.sign(body.as_bytes());
    let inner = Local::default();
    let calls = Rc::clone(&inner.0);
    let service = TrtcCallbackAuthLayer::new(TrtcKeys::single(1400000001, key))
        .with_clock(move || UNIX_EPOCH + Duration::from_millis(now_ms))
        .layer(inner);
    tokio::task::LocalSet::new()
        .run_until(async move {
            let request = |sign: &str| {
                Request::post("/trtc")
                    .header("SdkAppId", "1400000001")
                    .header("Sign", sign)
                    .body(body.clone())
                    .unwrap()
            };
            let response = tokio::task::spawn_local(service.clone().oneshot(request(&sign)))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            assert_eq!(response.body(), "ok");

            // Tencent's retry of the answered event: answered by the layer, `{"code":0}`.
            let response = service.clone().oneshot(request(&sign)).await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            assert_eq!(response.body(), r#"{"code":0}"#);

            let forged = format!("{}=", "A".repeat(43));
            let response = service.oneshot(request(&forged)).await.unwrap();
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
            assert_eq!(
                response.extensions().get::<Rejection>(),
                Some(&Rejection::SignatureMismatch)
            );
        })
        .await;
    assert_eq!(calls.get(), 1, "the retry and the forgery never reached it");
}
