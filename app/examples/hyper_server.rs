//! The same layer on plain hyper 1 with hyper-util, with a static token.
//!
//! ```sh
//! TIM_CALLBACK_TOKEN=my-token LISTEN_ADDR=127.0.0.1:8080 cargo run --example hyper_server
//! ```
//!
//! `TIM_SOURCE_IPS` (addresses and CIDR ranges, comma-separated) limits the callers to those TCP
//! peers: each connection inserts its peer's `SocketAddr` into its requests for the layer to read.
//!
//! `TIM_CALLBACK_TOKEN` is required: without it the server exits with status 2 (a public demo
//! token would accept callbacks anyone can sign). The handler reads the verified app and
//! `RequestTime` from the `VerifiedCallback` extension the layer inserts.

use std::convert::Infallible;
use std::net::SocketAddr;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tim_callback_app::server::{init_tracing, listen_addr, shutdown_signal};
use tim_callback_auth::allowlist::{AllowlistFilter, AllowlistHandle, ClientAddress};
use tim_callback_auth::{
    CallbackAuthLayer, CallbackToken, Reply, TokenHandle, TokenSnapshot, VerifiedCallback,
};
use tower::{Layer, ServiceExt};

async fn callback(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    // What the layer verified; never re-parse the query for these.
    if let Some(verified) = req.extensions().get::<VerifiedCallback>() {
        tracing::info!(
            app = verified.app_id(),
            time = verified.request_time(),
            "verified callback"
        );
    }
    Ok(Reply::ok().into_response())
}

fn exit_config(message: &str) -> ! {
    eprintln!("configuration error: {message}");
    std::process::exit(2)
}

#[tokio::main]
async fn main() {
    init_tracing();
    let listen = listen_addr().unwrap_or_else(|e| exit_config(&e.to_string()));
    let token = match std::env::var("TIM_CALLBACK_TOKEN").map(|t| CallbackToken::new(&t)) {
        Ok(Ok(token)) => token,
        Ok(Err(e)) => exit_config(&format!("TIM_CALLBACK_TOKEN: {e}")),
        Err(_) => {
            exit_config("TIM_CALLBACK_TOKEN: is required: the callback token from the IM console")
        }
    };
    let handle = TokenHandle::new(TokenSnapshot::enabled(token));
    let mut layer = CallbackAuthLayer::new(handle);
    // `TIM_SOURCE_IPS=203.0.113.0/24,…`: only those peers may call (the address comes from the
    // `SocketAddr` each connection inserts below).
    if let Ok(list) = std::env::var("TIM_SOURCE_IPS") {
        let list = list
            .parse()
            .unwrap_or_else(|e| exit_config(&format!("TIM_SOURCE_IPS: {e}")));
        let filter = AllowlistFilter::new(AllowlistHandle::new(list), ClientAddress::peer());
        layer = layer.with_allowlist(filter);
    }
    let service = layer.layer(tower::service_fn(callback));

    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .unwrap_or_else(|e| {
            eprintln!("could not listen on {listen}: {e}");
            std::process::exit(1)
        });
    let addr = listener.local_addr().map_or(listen, |a| a);
    tracing::info!(%addr, "listening");
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => { tracing::warn!(error = %e, "accept failed"); continue; }
            },
            () = &mut shutdown => break,
        };
        // Each request carries the TCP peer's address, for the source allowlist.
        let service = TowerToHyperService::new(service.clone().map_request(
            move |mut request: Request<Incoming>| {
                request.extensions_mut().insert::<SocketAddr>(peer);
                request
            },
        ));
        tokio::spawn(async move {
            // Keep-alive is on by default: Tencent reuses connections.
            if let Err(e) = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
}
