//! Only Tencent's webhook egress addresses may call: the list fetched from the mock's `GetIPList`
//! and kept fresh through every fault, and the layer refusing other sources over real TCP.

use std::net::SocketAddr;
use std::time::Duration;

use axum::routing::post;
use axum::Router;
use tim_callback_auth::allowlist::{AllowlistFilter, AllowlistHandle, ClientAddress, IpAllowlist};
use tim_callback_auth::refresh::AllowlistRefresher;
use tim_callback_auth::rest::WebhookNetwork;
use tim_callback_auth::{
    CallbackAuthLayer, CallbackToken, ErrorKind, Rejection, Reply, TokenHandle, TokenSnapshot,
};
use tim_callback_integration::faults::Fault;
use tim_callback_mock::mock::{MockApi, Reply as MockReply, IP_LIST_NOT_ENABLED};
use tim_callback_mock::{now, rest_client};

const TOKEN: &str = "source-allowlist-token-0123";

async fn lists(
    api: &MockApi,
    network: WebhookNetwork,
) -> Result<AllowlistRefresher, tim_callback_auth::Error> {
    AllowlistRefresher::builder(rest_client(&api.base_url()).webhook_addresses(network))
        .interval(Duration::from_secs(3600))
        .backoff(Duration::from_millis(20), Duration::from_millis(50))
        .initial_timeout(Duration::from_secs(3))
        .start()
        .await
}

fn contains(handle: &AllowlistHandle, ip: &str) -> bool {
    handle.load().unwrap().contains(ip.parse().unwrap())
}

#[tokio::test]
async fn the_list_is_fetched_at_start_and_a_change_is_picked_up() {
    let api = MockApi::start(TOKEN).await;
    let china = lists(&api, WebhookNetwork::China).await.unwrap();
    let outside = lists(&api, WebhookNetwork::Outside).await.unwrap();
    assert!(contains(&china.handle(), "183.192.202.127"));
    assert!(!contains(&china.handle(), "43.132.1.1"));
    assert!(contains(&outside.handle(), "43.132.1.1"));
    assert_eq!(china.status().entries(), Some(2));
    api.set_ip_lists(Some((
        vec!["10.9.8.0/24".into()],
        vec!["10.9.8.0/24".into()],
    )));
    china.refresh_now().await.unwrap();
    assert!(contains(&china.handle(), "10.9.8.7"));
    assert!(!contains(&china.handle(), "183.192.202.127"));
    assert_eq!(china.status().changes(), 1);
    assert_eq!(api.violations(), Vec::<String>::new());
}

#[tokio::test]
async fn every_fault_keeps_the_last_good_list() {
    let api = MockApi::start(TOKEN).await;
    let refresher = lists(&api, WebhookNetwork::China).await.unwrap();
    let bad_answers = [
        r#"{"ActionStatus":"OK","ErrorCode":0,"IPList":[]}"#.to_string(),
        format!(
            r#"{{"ActionStatus":"OK","ErrorCode":0,"IPList":[{}]}}"#,
            (0..5000)
                .map(|i| format!("\"10.{}.{}.1\"", i / 256, i % 256))
                .collect::<Vec<_>>()
                .join(",")
        ),
        r#"{"ActionStatus":"OK","ErrorCode":0,"IPList":["1.2.3.4","bogus"]}"#.to_string(),
        r#"{"ActionStatus":"OK","ErrorCode":0}"#.to_string(),
        r#"{"ActionStatus":"OK","ErrorCode":0,"IPList":"1.2.3.4"}"#.to_string(),
    ];
    for body in bad_answers {
        api.script([MockReply::Body(body.clone())]);
        let error = refresher.refresh_now().await.unwrap_err();
        assert_eq!(
            error.kind(),
            ErrorKind::Decode,
            "{}: {error}",
            &body[..body.len().min(60)]
        );
        assert!(
            contains(&refresher.handle(), "183.192.202.1"),
            "the last good list is kept"
        );
    }
    for fault in Fault::all() {
        if let Fault::Refused = fault {
            continue; // the mock's listener is shared with the calls above; covered below
        }
        if let Some(reply) = fault.reply() {
            api.script([reply]);
            assert!(refresher.refresh_now().await.is_err(), "{fault:?}");
            assert!(contains(&refresher.handle(), "183.192.202.1"), "{fault:?}");
        }
    }
    api.refuse_connections().await;
    assert!(refresher.refresh_now().await.is_err());
    assert!(contains(&refresher.handle(), "183.192.202.1"));
    assert!(refresher.status().consecutive_failures() >= 1);
}

#[tokio::test]
async fn an_api_that_is_not_enabled_is_a_clear_configuration_error() {
    let api = MockApi::start(TOKEN).await;
    api.set_ip_lists(None);
    let error = lists(&api, WebhookNetwork::Outside).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Configuration, "{error}");
    assert_eq!(error.api_code(), Some(IP_LIST_NOT_ENABLED));
    let text = error.to_string();
    assert!(text.contains("enables this API on request"), "{text}");
    assert!(!error.is_retryable(), "start() gives up at once");
}

/// A real axum server with `ConnectInfo`: the peer address is 127.0.0.1.
async fn serve(filter: AllowlistFilter) -> (String, CallbackAuthLayer) {
    let token = CallbackToken::new(TOKEN).unwrap();
    let layer = CallbackAuthLayer::new(TokenHandle::new(TokenSnapshot::enabled(token)))
        .with_allowlist(filter);
    let app = Router::new()
        .route("/cb", post(|| async { Reply::ok() }))
        .layer(layer.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    (format!("http://{addr}/cb"), layer)
}

async fn send(url: &str, forwarded: Option<&str>) -> u16 {
    let token = CallbackToken::new(TOKEN).unwrap();
    let t = now();
    let mut request = reqwest::Client::new()
        .post(format!(
            "{url}?SdkAppid=1400000000&Sign={}&RequestTime={t}",
            token.sign(t)
        ))
        .body("{}");
    if let Some(value) = forwarded {
        request = request.header("x-forwarded-for", value);
    }
    request.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn the_layer_lets_only_listed_sources_through_over_tcp() {
    let list = AllowlistHandle::empty();
    let (url, layer) = serve(AllowlistFilter::new(list.clone(), ClientAddress::peer())).await;
    assert_eq!(send(&url, None).await, 503, "no list yet");
    list.store("127.0.0.1".parse::<IpAllowlist>().unwrap());
    assert_eq!(send(&url, None).await, 200);
    // A spoofed header changes nothing when the peer is what counts.
    assert_eq!(send(&url, Some("183.192.202.1")).await, 200);
    list.store("183.192.202.0/25".parse::<IpAllowlist>().unwrap());
    assert_eq!(send(&url, None).await, 403);
    let stats = &layer.stats()[0];
    assert_eq!(stats.rejected(Rejection::AllowlistUnavailable), 1);
    assert_eq!(stats.rejected(Rejection::SourceNotAllowed), 1);
    assert_eq!(stats.accepted_total(), 2);
}

#[tokio::test]
async fn behind_one_trusted_proxy_the_rightmost_forwarded_entry_counts() {
    let list = AllowlistHandle::new("183.192.202.0/25".parse().unwrap());
    let (url, layer) = serve(AllowlistFilter::new(
        list,
        ClientAddress::x_forwarded_for(1),
    ))
    .await;
    assert_eq!(send(&url, Some("183.192.202.9")).await, 200);
    assert_eq!(
        send(&url, Some("183.192.202.9, 6.6.6.6")).await,
        403,
        "the proxy saw 6.6.6.6"
    );
    assert_eq!(
        send(&url, Some("6.6.6.6, 183.192.202.9")).await,
        200,
        "the left one is the client's"
    );
    assert_eq!(send(&url, None).await, 403, "no header: unknown");
    assert_eq!(send(&url, Some("garbage")).await, 403);
    let stats = &layer.stats()[0];
    assert_eq!(stats.rejected(Rejection::UnknownSource), 2);
    assert_eq!(stats.rejected(Rejection::SourceNotAllowed), 1);
}

#[tokio::test]
async fn a_layer_without_a_peer_address_refuses_rather_than_allows() {
    // A hyper or axum server that does not provide the peer: unknown, rejected, counted.
    let list = AllowlistHandle::new("127.0.0.1".parse().unwrap());
    let token = CallbackToken::new(TOKEN).unwrap();
    let app = Router::new()
        .route("/cb", post(|| async { Reply::ok() }))
        .layer(
            CallbackAuthLayer::new(TokenHandle::new(TokenSnapshot::enabled(token.clone())))
                .with_allowlist(AllowlistFilter::new(list, ClientAddress::peer())),
        );
    let t = now();
    let request = http::Request::post(format!(
        "/cb?SdkAppid=1400000000&Sign={}&RequestTime={t}",
        token.sign(t)
    ))
    .body(axum::body::Body::empty())
    .unwrap();
    let response = tower::ServiceExt::oneshot(app, request).await.unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(
        response.extensions().get::<Rejection>(),
        Some(&Rejection::UnknownSource)
    );
}
