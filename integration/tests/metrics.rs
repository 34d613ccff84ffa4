//! With the `metrics` feature, the layer's and the refresher's counts reach the `metrics` facade.
//! A minimal in-test recorder stands in for an exporter.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::routing::post;
use axum::Router;
use http::Request;
use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use tim_callback_auth::refresh::TokenRefresher;
use tim_callback_auth::rest::{Region, RestClient};
use tim_callback_auth::stats::names;
use tim_callback_auth::{AppSet, CallbackAuthLayer, CallbackToken};
use tim_callback_mock::mock::{MockApi, Reply, ADMIN, SECRET_KEY};
use tower::ServiceExt;

#[derive(Default)]
struct Memory {
    values: Mutex<BTreeMap<String, Arc<AtomicU64>>>,
}

fn render(key: &Key) -> String {
    let labels: Vec<String> = key
        .labels()
        .map(|l| format!("{}={}", l.key(), l.value()))
        .collect();
    format!("{}{{{}}}", key.name(), labels.join(","))
}

impl Memory {
    fn cell(&self, key: &Key) -> Arc<AtomicU64> {
        Arc::clone(self.values.lock().unwrap().entry(render(key)).or_default())
    }
    fn get(&self, rendered: &str) -> Option<u64> {
        self.values
            .lock()
            .unwrap()
            .get(rendered)
            .map(|v| v.load(Ordering::SeqCst))
    }
}

impl Recorder for &'static Memory {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        Counter::from_arc(self.cell(key))
    }
    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::from_arc(self.cell(key))
    }
    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::noop()
    }
}

fn memory() -> &'static Memory {
    static MEMORY: OnceLock<&'static Memory> = OnceLock::new();
    MEMORY.get_or_init(|| {
        let memory: &'static Memory = Box::leak(Box::default());
        metrics::set_global_recorder(memory).expect("first recorder");
        memory
    })
}

const APP: u64 = 1400000005;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn layer_and_refresher_counts_reach_the_metrics_facade() {
    let memory = memory();
    let api = MockApi::start_for(APP, ADMIN, SECRET_KEY, Some("metrics-token"), true).await;
    let client = RestClient::builder(APP, SECRET_KEY)
        .admin(ADMIN)
        .region(Region::custom(&api.base_url()).unwrap())
        .build()
        .unwrap();
    let refresher = TokenRefresher::builder(client)
        .app_id(APP)
        .interval(Duration::from_secs(3600))
        .start()
        .await
        .unwrap();
    let apps = AppSet::new();
    // The handle only: the test keeps the refresher to force a failed refresh below.
    apps.insert(APP, refresher.handle());
    let app = Router::new()
        .route("/cb", post(|| async { "ok" }))
        .layer(CallbackAuthLayer::for_apps(apps.clone()));
    let token = CallbackToken::new("metrics-token").unwrap();
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    for sign in [token.sign(t), token.sign(t), "0".repeat(64)] {
        let uri = format!("/cb?SdkAppid={APP}&Sign={sign}&RequestTime={t}");
        app.clone()
            .oneshot(Request::post(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
    }
    let uri = format!("/cb?SdkAppid=1&Sign={}&RequestTime={t}", token.sign(t));
    app.clone()
        .oneshot(Request::post(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    api.script([Reply::Code(100001)]);
    assert!(refresher.refresh_now().await.is_err());

    let app_label = APP.to_string();
    let get = |name: &str, labels: &str| memory.get(&format!("{name}{{{labels}}}"));
    assert_eq!(
        get(names::ACCEPTED, &format!("app={app_label},token=current")),
        Some(2)
    );
    assert_eq!(
        get(
            names::REJECTED,
            &format!("app={app_label},reason=signature_mismatch")
        ),
        Some(1)
    );
    assert_eq!(
        get(names::REJECTED, "app=default,reason=app_id_mismatch"),
        Some(1)
    );
    // The start, and the refresh-on-miss that the forged Sign triggered.
    assert_eq!(
        get(names::REFRESHES, &format!("app={app_label},outcome=ok")),
        Some(2)
    );
    assert_eq!(
        get(
            names::REFRESHES,
            &format!("app={app_label},outcome=try_later")
        ),
        Some(1)
    );
    let failures =
        get(names::CONSECUTIVE_FAILURES, &format!("app={app_label}")).map(f64::from_bits);
    assert_eq!(failures, Some(1.0));
    let last = get(names::LAST_SUCCESS, &format!("app={app_label}"))
        .map(f64::from_bits)
        .unwrap();
    assert!((last - t as f64).abs() < 5.0, "{last} vs {t}");
    let enabled = |memory: &Memory| {
        memory
            .get(&format!(
                "{}{{app={app_label}}}",
                names::AUTHENTICATION_ENABLED
            ))
            .map(f64::from_bits)
    };
    assert_eq!(enabled(memory), Some(1.0));

    // Tencent switches authentication off: the gauge an operator alerts on drops to 0.
    api.set_token(Some("metrics-token"), false);
    refresher.refresh_now().await.unwrap();
    assert_eq!(enabled(memory), Some(0.0));
    assert_eq!(
        get(names::AUTHENTICATION_DISABLES, &format!("app={app_label}")),
        Some(1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_source_allowlist_reaches_the_metrics_facade() {
    use tim_callback_auth::allowlist::{AllowlistFilter, ClientAddress};
    use tim_callback_auth::refresh::AllowlistRefresher;
    use tim_callback_auth::rest::WebhookNetwork;

    let memory = memory();
    let app_id = APP + 1;
    let api = MockApi::start_for(app_id, ADMIN, SECRET_KEY, Some("metrics-token"), true).await;
    api.set_ip_lists(Some((
        vec!["203.0.113.0/24".into(), "198.51.100.7".into()],
        vec!["192.0.2.0/24".into()],
    )));
    let client = RestClient::builder(app_id, SECRET_KEY)
        .admin(ADMIN)
        .region(Region::custom(&api.base_url()).unwrap())
        .build()
        .unwrap();
    let lists = AllowlistRefresher::builder(client.webhook_addresses(WebhookNetwork::China))
        .interval(Duration::from_secs(3600))
        .start()
        .await
        .unwrap();
    let gauge = |name: &str| memory.get(&format!("{name}{{}}")).map(f64::from_bits);
    assert_eq!(gauge(names::SOURCE_ALLOWLIST_ENTRIES), Some(2.0));
    assert_eq!(gauge(names::SOURCE_ALLOWLIST_FAILURES), Some(0.0));
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let last = gauge(names::SOURCE_ALLOWLIST_LAST_SUCCESS).unwrap();
    assert!((last - now).abs() < 5.0, "{last} vs {now}");

    // A request from outside the list is counted under its reason.
    let token = CallbackToken::new("metrics-token").unwrap();
    let apps = AppSet::new();
    apps.insert(
        app_id,
        tim_callback_auth::TokenHandle::new(tim_callback_auth::TokenSnapshot::enabled(
            token.clone(),
        )),
    );
    let app = Router::new().route("/cb", post(|| async { "ok" })).layer(
        CallbackAuthLayer::for_apps(apps)
            .with_allowlist(AllowlistFilter::new(lists.handle(), ClientAddress::peer())),
    );
    let t = now as u64;
    for peer in ["203.0.113.9:1", "192.0.2.1:1"] {
        let uri = format!(
            "/cb?SdkAppid={app_id}&Sign={}&RequestTime={t}",
            token.sign(t)
        );
        let mut request = Request::post(uri).body(Body::empty()).unwrap();
        request
            .extensions_mut()
            .insert(peer.parse::<std::net::SocketAddr>().unwrap());
        app.clone().oneshot(request).await.unwrap();
    }
    let app_label = app_id.to_string();
    assert_eq!(
        memory.get(&format!(
            "{}{{app={app_label},reason=source_not_allowed}}",
            names::REJECTED
        )),
        Some(1)
    );
    assert_eq!(
        memory.get(&format!(
            "{}{{app={app_label},token=current}}",
            names::ACCEPTED
        )),
        Some(1)
    );

    // A failed fetch keeps the list and counts the failure.
    api.script([Reply::Code(100001)]);
    assert!(lists.refresh_now().await.is_err());
    assert_eq!(gauge(names::SOURCE_ALLOWLIST_FAILURES), Some(1.0));
    assert_eq!(gauge(names::SOURCE_ALLOWLIST_ENTRIES), Some(2.0));
}
