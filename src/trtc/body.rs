//! [`TrtcBody`]: the verified bytes, as the body the inner service reads.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

/// The body of a verified TRTC event as the inner service gets it: exactly the bytes whose `Sign`
/// was verified, in one frame (the same buffer the layer read, not a copy).
///
/// axum's extractors read it as any body (`String`, `Bytes`, `Json<T>`): axum's routes accept
/// any body with `Bytes` data. In a plain `tower` or hyper service, [`into_bytes`](Self::into_bytes)
/// gives the bytes without polling.
#[derive(Debug, Default)]
pub struct TrtcBody {
    bytes: Option<Bytes>,
}

impl TrtcBody {
    pub(crate) fn new(bytes: Bytes) -> Self {
        Self {
            bytes: (!bytes.is_empty()).then_some(bytes),
        }
    }

    /// The bytes not yet read as a frame (all of them, unless the body was polled).
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.as_deref().unwrap_or_default()
    }

    /// The bytes not yet read as a frame.
    pub fn into_bytes(self) -> Bytes {
        self.bytes.unwrap_or_default()
    }
}

impl Body for TrtcBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.bytes.take().map(|b| Ok(Frame::data(b))))
    }

    fn is_end_stream(&self) -> bool {
        self.bytes.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.as_bytes().len() as u64)
    }
}
