//! A counting global allocator proves that verification allocates nothing, on every path, and that
//! the layer adds only the `VerifiedCallback` extension's allocations to the accept path (none without it).

// A global allocator implements an unsafe trait; it only forwards to `System` and counts.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use http::{Request, Response};
use tim_callback_auth::allowlist::{AllowlistFilter, AllowlistHandle, ClientAddress, IpAllowlist};
use tim_callback_auth::{
    AppSet, CallbackAuthLayer, CallbackToken, Rejection, TokenHandle, TokenSnapshot,
    VerifiedCallback, Verifier,
};
use tim_callback_mock::{how, How};
use tower::{Layer, Service};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    /// The largest single allocation, in bytes (reset by the tests that read it).
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator; only counts (per thread, so parallel tests don't mix).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        let _ = LARGEST.try_with(|n| n.set(n.get().max(layout.size())));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        let _ = LARGEST.try_with(|n| n.set(n.get().max(new_size)));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_during<T>(f: impl FnOnce() -> T) -> (T, u64) {
    let before = ALLOCATIONS.with(Cell::get);
    let out = f();
    (out, ALLOCATIONS.with(Cell::get) - before)
}

const NOW: u64 = 1_700_000_000;

#[test]
fn the_counter_sees_allocations() {
    let (boxed, allocations) = allocations_during(|| Box::new(7u64));
    assert_eq!(*boxed, 7);
    assert_eq!(allocations, 1);
}

#[test]
fn verify_allocates_nothing_on_any_path() {
    let token = CallbackToken::new("allocation-test-token").unwrap();
    let old = CallbackToken::new("old-token").unwrap();
    let snapshot = TokenSnapshot::enabled(token.clone()).with_previous(old.clone(), NOW + 10);
    let verifier = Verifier::new().with_app_id(1400000000);
    let strict = verifier.require_signature(true);
    let sign = token.sign(NOW);
    let q = |s: &str, t: &str| {
        format!("SdkAppid=1400000000&CallbackCommand=C2C.X&Sign={s}&RequestTime={t}")
    };
    let now = NOW.to_string();
    let cases: Vec<(String, TokenSnapshot, Verifier, Result<How, Rejection>)> = vec![
        (
            q(&sign, &now),
            snapshot.clone(),
            verifier,
            Ok(How::CurrentToken),
        ),
        (
            q(&old.sign(NOW), &now),
            snapshot.clone(),
            verifier,
            Ok(How::PreviousToken),
        ),
        (
            "SdkAppid=1400000000".into(),
            TokenSnapshot::disabled(),
            verifier,
            Ok(How::AuthenticationDisabled),
        ),
        (
            "SdkAppid=1400000000".into(),
            TokenSnapshot::disabled(),
            strict,
            Err(Rejection::AuthenticationDisabled),
        ),
        (
            q(&"0".repeat(64), &now),
            snapshot.clone(),
            verifier,
            Err(Rejection::SignatureMismatch),
        ),
        (
            q(&sign, "1"),
            snapshot.clone(),
            verifier,
            Err(Rejection::Expired),
        ),
        (
            q(&sign, &(NOW + 3600).to_string()),
            snapshot.clone(),
            verifier,
            Err(Rejection::FromFuture),
        ),
        (
            q("abc", &now),
            snapshot.clone(),
            verifier,
            Err(Rejection::MalformedSign),
        ),
        (
            q(&sign, "x"),
            snapshot.clone(),
            verifier,
            Err(Rejection::MalformedRequestTime),
        ),
        (
            format!("SdkAppid=1400000000&RequestTime={now}"),
            snapshot.clone(),
            verifier,
            Err(Rejection::MissingSign),
        ),
        (
            format!("SdkAppid=1400000000&Sign={sign}"),
            snapshot.clone(),
            verifier,
            Err(Rejection::MissingRequestTime),
        ),
        (
            format!("{}&Sign={sign}", q(&sign, &now)),
            snapshot.clone(),
            verifier,
            Err(Rejection::DuplicateParameter),
        ),
        (
            q(&sign, &now).replace("1400000000", "1"),
            snapshot.clone(),
            verifier,
            Err(Rejection::AppIdMismatch),
        ),
    ];
    for (query, snapshot, verifier, expected) in &cases {
        let (result, allocations) =
            allocations_during(|| verifier.verify(snapshot, query, NOW).map(how));
        assert_eq!(&result, expected, "{query}");
        assert_eq!(allocations, 0, "{expected:?} allocated {allocations} times");
    }
}

#[test]
fn token_handle_load_allocates_nothing() {
    let handle = TokenHandle::new(TokenSnapshot::enabled(CallbackToken::new("t").unwrap()));
    let (snapshot, allocations) = allocations_during(|| handle.load());
    assert!(snapshot.is_some());
    assert_eq!(allocations, 0);
}

fn poll_once<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("the test service is always ready"),
    }
}

/// The allocations the layer adds to an accepted request: those of inserting the
/// `VerifiedCallback` into the request's (empty) extension map: the map's box, its table and the
/// value's box. Pinned here and quoted in the README and BENCHMARKS.md.
const EXTENSION_ALLOCATIONS: u64 = 3;

/// An inner service that allocates nothing (`Response::new(())`) and reports whether the request
/// carried a `VerifiedCallback`, in the response's status.
fn inner() -> impl Service<
    Request<()>,
    Response = Response<()>,
    Error = Infallible,
    Future = impl Future<Output = Result<Response<()>, Infallible>>,
> + Clone {
    tower::service_fn(|req: Request<()>| async move {
        let mut response = Response::new(());
        if req.extensions().get::<VerifiedCallback>().is_none() {
            *response.status_mut() = http::StatusCode::NO_CONTENT;
        }
        Ok::<_, Infallible>(response)
    })
}

/// A signed request as it reaches the layer.
fn plain(uri: &str) -> Request<()> {
    Request::post(uri).body(()).unwrap()
}

/// A signed request from a TCP peer (a `SocketAddr` extension, as a hyper server inserts it),
/// through one proxy that appended to `X-Forwarded-For`.
fn proxied(uri: &str) -> Request<()> {
    let mut request = Request::post(uri)
        .header("x-forwarded-for", "198.51.100.9, 203.0.113.7")
        .body(())
        .unwrap();
    request
        .extensions_mut()
        .insert(SocketAddr::from(([10, 1, 2, 3], 40000)));
    request
}

/// Allocations of each of 100 accepted calls, after one warm-up call per URI (thread-locals of
/// arc-swap's debt lists are set up on first use). Building the request is not counted.
fn accept_path_allocations<S>(
    service: &mut S,
    uris: &[String],
    extension: bool,
    request: fn(&str) -> Request<()>,
) -> Vec<u64>
where
    S: Service<Request<()>, Response = Response<()>, Error = Infallible>,
{
    for uri in uris {
        poll_once(service.call(request(uri))).unwrap();
    }
    let mut counts = Vec::new();
    for uri in uris.iter().cycle().take(100) {
        let request = request(uri);
        let ((), allocations) = allocations_during(|| {
            let _ = service.poll_ready(&mut Context::from_waker(Waker::noop()));
            let response = poll_once(service.call(request)).unwrap();
            assert_eq!(response.extensions().get::<Rejection>(), None);
            assert_eq!(response.status() == 200, extension, "extension present");
            drop(response);
        });
        counts.push(allocations);
    }
    counts
}

#[test]
fn layer_adds_only_the_extension_allocations_on_the_accept_path() {
    let token = CallbackToken::new("allocation-test-token").unwrap();
    let handle = TokenHandle::new(TokenSnapshot::enabled(token.clone()));
    let layer = CallbackAuthLayer::new(handle)
        .with_rejection_response(|_r: Rejection| Response::new(()))
        .with_clock(|| std::time::UNIX_EPOCH + std::time::Duration::from_secs(NOW));
    let uris = [format!(
        "/cb?SdkAppid=1&Sign={}&RequestTime={NOW}",
        token.sign(NOW)
    )];
    let mut with = layer.clone().layer(inner());
    assert!(accept_path_allocations(&mut with, &uris, true, plain)
        .iter()
        .all(|&n| n == EXTENSION_ALLOCATIONS));
    let mut without = layer.with_verified_extension(false).layer(inner());
    assert!(accept_path_allocations(&mut without, &uris, false, plain)
        .iter()
        .all(|&n| n == 0));
}

#[test]
fn multi_app_layer_adds_only_the_extension_allocations_on_the_accept_path() {
    let apps = AppSet::new();
    let mut tokens = Vec::new();
    for id in 1400000000..1400000010u64 {
        let token = CallbackToken::new(&format!("token-{id}")).unwrap();
        apps.insert(id, TokenHandle::new(TokenSnapshot::enabled(token.clone())));
        tokens.push((id, token));
    }
    let layer = CallbackAuthLayer::for_apps(apps)
        .with_rejection_response(|_r: Rejection| Response::new(()))
        .with_clock(|| std::time::UNIX_EPOCH + std::time::Duration::from_secs(NOW));
    let uris: Vec<String> = tokens
        .iter()
        .map(|(id, t)| format!("/cb?SdkAppid={id}&Sign={}&RequestTime={NOW}", t.sign(NOW)))
        .collect();
    let mut with = layer.clone().layer(inner());
    assert!(accept_path_allocations(&mut with, &uris, true, plain)
        .iter()
        .all(|&n| n == EXTENSION_ALLOCATIONS));
    let mut without = layer.with_verified_extension(false).layer(inner());
    assert!(accept_path_allocations(&mut without, &uris, false, plain)
        .iter()
        .all(|&n| n == 0));
}

/// The filter's own allocations: none. Compared with the same layer without a filter on the same
/// requests (whose extension map already holds the peer address, so the `VerifiedCallback` costs
/// fewer allocations than on a bare request).
#[test]
fn the_source_filter_adds_no_allocation_on_the_accept_path() {
    let token = CallbackToken::new("allocation-test-token").unwrap();
    let list: IpAllowlist = "10.0.0.0/8, 203.0.113.0/24, 2001:db8::/32".parse().unwrap();
    let uris = [format!(
        "/cb?SdkAppid=1&Sign={}&RequestTime={NOW}",
        token.sign(NOW)
    )];
    let layer = CallbackAuthLayer::new(TokenHandle::new(TokenSnapshot::enabled(token.clone())))
        .with_rejection_response(|_r: Rejection| Response::new(()))
        .with_clock(|| std::time::UNIX_EPOCH + std::time::Duration::from_secs(NOW));
    for extension in [true, false] {
        let unfiltered = layer.clone().with_verified_extension(extension);
        let baseline = accept_path_allocations(
            &mut unfiltered.clone().layer(inner()),
            &uris,
            extension,
            proxied,
        );
        assert_eq!(baseline.iter().max(), baseline.iter().min(), "steady");
        assert!(extension || baseline[0] == 0);
        for address in [ClientAddress::peer(), ClientAddress::x_forwarded_for(1)] {
            let filtered = unfiltered.clone().with_allowlist(AllowlistFilter::new(
                AllowlistHandle::new(list.clone()),
                address.clone(),
            ));
            let counts =
                accept_path_allocations(&mut filtered.layer(inner()), &uris, extension, proxied);
            assert_eq!(counts, baseline, "{address:?}, extension {extension}");
        }
    }
}

#[test]
fn the_source_filter_allocates_nothing_when_it_refuses() {
    let token = CallbackToken::new("allocation-test-token").unwrap();
    let signed = format!("/cb?SdkAppid=1&Sign={}&RequestTime={NOW}", token.sign(NOW));
    let cases = [
        (
            "192.0.2.0/24",
            ClientAddress::peer(),
            Rejection::SourceNotAllowed,
        ),
        (
            "10.0.0.0/8",
            ClientAddress::x_forwarded_for(3),
            Rejection::UnknownSource,
        ),
    ];
    for (list, address, expected) in cases {
        let filter = AllowlistFilter::new(AllowlistHandle::new(list.parse().unwrap()), address);
        let request = proxied(&signed);
        let _ = filter.check(&request);
        let (result, allocations) = allocations_during(|| filter.check(&request));
        assert_eq!(result, Err(expected));
        assert_eq!(allocations, 0, "{expected:?}");
    }
    let empty = AllowlistFilter::new(AllowlistHandle::empty(), ClientAddress::peer());
    let request = proxied(&signed);
    let (result, allocations) = allocations_during(|| empty.check(&request));
    assert_eq!(result, Err(Rejection::AllowlistUnavailable));
    assert_eq!(allocations, 0);
}

/// TRTC events: verification allocates nothing; the layer adds at most the one body buffer
/// (none for a body that arrives in one frame) besides the `VerifiedTrtcEvent` extension.
#[cfg(feature = "trtc")]
mod trtc {
    use std::collections::VecDeque;
    use std::pin::Pin;

    use bytes::Bytes;
    use http_body::{Body, Frame, SizeHint};
    use tim_callback_auth::trtc::{
        TrtcBody, TrtcCallbackAuthLayer, TrtcKey, TrtcKeys, TrtcVerifier,
    };

    use super::*;

    const APP: u64 = 1_400_000_001;
    const TS: u64 = 1_700_000_000_000;

    /// A ~300-byte event, as Tencent sends a room event.
    fn event(i: u64) -> String {
        format!(
            r#"{{"EventGroupId":1,"EventType":103,"CallbackTs":{},"EventInfo":{{"RoomId":"room-{i}","EventTs":1700000000,"EventMsTs":1700000000000,"UserId":"user-{i}","UniqueId":{i},"Role":20,"TerminalType":3,"UserType":3,"Reason":1,"Padding":"{}"}}}}"#,
            TS + i,
            "x".repeat(80)
        )
    }

    /// A body in frames whose size hint is what is still to come, as hyper's `Incoming` reports
    /// the rest of a `Content-Length`.
    struct Frames(VecDeque<Bytes>);

    impl Body for Frames {
        type Data = Bytes;
        type Error = Infallible;
        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
            Poll::Ready(self.0.pop_front().map(|b| Ok(Frame::data(b))))
        }
        fn size_hint(&self) -> SizeHint {
            SizeHint::with_exact(self.0.iter().map(|b| b.len() as u64).sum())
        }
    }

    fn request(key: &TrtcKey, body: &str, frames: usize) -> Request<Frames> {
        let bytes = Bytes::copy_from_slice(body.as_bytes());
        let step = body.len().div_ceil(frames);
        let parts = (0..body.len())
            .step_by(step)
            .map(|at| bytes.slice(at..(at + step).min(body.len())))
            .collect();
        Request::post("/trtc")
            .header("SdkAppId", APP)
            .header("Sign", key.sign(body.as_bytes()))
            .body(Frames(parts))
            .unwrap()
    }

    #[test]
    fn trtc_verification_allocates_nothing_on_any_path() {
        let key = TrtcKey::new("AllocationTestKey1").unwrap();
        let keys = TrtcKeys::new();
        keys.insert_rotating(APP, TrtcKey::new("NewerKey").unwrap(), key.clone())
            .unwrap();
        let verifier = TrtcVerifier::new();
        let body = event(1);
        for (body, now, expected) in [
            (body.clone(), TS, Ok(())),
            (
                body.replace("103", "104"),
                TS,
                Err(Rejection::SignatureMismatch),
            ),
            (body.clone(), TS + 3_600_000, Err(Rejection::Expired)),
        ] {
            let mut headers = http::HeaderMap::new();
            headers.insert("SdkAppId", APP.into());
            headers.insert("Sign", key.sign(event(1).as_bytes()).parse().unwrap());
            // Warm-up: arc-swap's thread-local debt list is set up on the first load.
            let _ = verifier.verify(&keys, &headers, body.as_bytes(), now);
            let (outcome, allocations) =
                allocations_during(|| verifier.verify(&keys, &headers, body.as_bytes(), now));
            assert_eq!(outcome.map(|_| ()), expected);
            assert_eq!(allocations, 0, "{expected:?}");
        }
    }

    /// Allocations of 50 accepted calls (each a new event, so none is a retry), after a warm-up.
    fn layer_allocations(frames: usize, extension: bool) -> Vec<u64> {
        let key = TrtcKey::new("AllocationTestKey1").unwrap();
        let layer = TrtcCallbackAuthLayer::new(TrtcKeys::single(APP, key.clone()))
            .with_clock(|| std::time::UNIX_EPOCH + std::time::Duration::from_millis(TS))
            .with_verified_extension(extension);
        let mut service = layer.layer(tower::service_fn(|_req: Request<TrtcBody>| {
            std::future::ready(Ok::<_, Infallible>(Response::new(String::new())))
        }));
        let requests: Vec<_> = (0..51).map(|i| request(&key, &event(i), frames)).collect();
        let mut counts = Vec::new();
        for request in requests {
            let (response, allocations) = allocations_during(|| {
                let _ = Service::<Request<Frames>>::poll_ready(
                    &mut service,
                    &mut Context::from_waker(Waker::noop()),
                );
                poll_once(service.call(request)).unwrap()
            });
            assert_eq!(response.extensions().get::<Rejection>(), None);
            counts.push(allocations);
        }
        counts.remove(0); // warm-up: arc-swap's thread-local debt list
        counts
    }

    /// A sender announcing a huge body (a `Content-Length` within the limit) then sending two
    /// bytes and stalling: what the layer holds for it.
    fn largest_allocation_for_a_stalled_sender(limit: usize, announced: u64) -> usize {
        struct Stalled(u8, u64);
        impl Body for Stalled {
            type Data = Bytes;
            type Error = Infallible;
            fn poll_frame(
                mut self: Pin<&mut Self>,
                _: &mut Context<'_>,
            ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
                if self.0 == 2 {
                    return Poll::Pending;
                }
                self.0 += 1;
                Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(b"{")))))
            }
            fn size_hint(&self) -> SizeHint {
                SizeHint::with_exact(self.1 - u64::from(self.0))
            }
        }
        let key = TrtcKey::new("AllocationTestKey1").unwrap();
        let mut service = TrtcCallbackAuthLayer::new(TrtcKeys::single(APP, key))
            .with_body_limit(limit)
            .layer(tower::service_fn(|_req: Request<TrtcBody>| {
                std::future::ready(Ok::<_, Infallible>(Response::new(String::new())))
            }));
        let request = Request::post("/trtc")
            .header("SdkAppId", APP)
            .header("Sign", format!("{}=", "A".repeat(43)))
            .body(Stalled(0, announced))
            .unwrap();
        LARGEST.with(|n| n.set(0));
        let mut future = Box::pin(service.call(request));
        let poll = future
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()));
        assert!(poll.is_pending(), "the sender stalls");
        LARGEST.with(Cell::get)
    }

    #[test]
    fn a_stalled_sender_makes_the_layer_hold_what_arrived_not_what_was_announced() {
        for (limit, announced) in [
            (64 * 1024, 64 * 1024),
            (256 << 20, 256 << 20),
            (usize::MAX, u64::MAX / 2),
        ] {
            let largest = largest_allocation_for_a_stalled_sender(limit, announced);
            // Two bytes arrived: at most 16 KiB are reserved ahead of what is announced.
            assert!(largest <= 17 * 1024, "limit {limit}: {largest} bytes");
        }
    }

    #[test]
    fn the_trtc_layer_allocates_at_most_the_one_body_buffer() {
        assert_eq!(
            layer_allocations(1, false),
            vec![0; 50],
            "one frame: no copy"
        );
        assert_eq!(
            layer_allocations(3, false),
            vec![1; 50],
            "three frames: one buffer"
        );
        assert_eq!(
            layer_allocations(1, true),
            vec![EXTENSION_ALLOCATIONS; 50],
            "the VerifiedTrtcEvent extension"
        );
    }
}
