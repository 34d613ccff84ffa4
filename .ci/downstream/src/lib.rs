//! A user's callback server, as the library's docs show it: one route behind the layer over a
//! token handle, and a handler of the user's own.

use axum::routing::post;
use axum::{Extension, Router};
use tim_callback_auth::{CallbackAuthLayer, TokenHandle, VerifiedCallback};

/// The user's handler: it runs only for callbacks the layer verified, and answers Tencent's "OK"
/// with the app it saw.
pub async fn on_callback(Extension(verified): Extension<VerifiedCallback>) -> String {
    format!(
        r#"{{"ActionStatus":"OK","ErrorCode":0,"App":{}}}"#,
        verified.app_id()
    )
}

/// The user's router: `POST /im/callback` behind the layer over `handle`.
pub fn router(handle: TokenHandle) -> Router {
    Router::new()
        .route("/im/callback", post(on_callback))
        .layer(CallbackAuthLayer::new(handle))
}
