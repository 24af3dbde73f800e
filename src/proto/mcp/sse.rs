//! Reading the JSON-RPC messages of an SSE answer, with a bound on silence between reads.

use std::collections::VecDeque;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use serde_json::Value;
use sse_stream::SseByteStream;

use super::Failure;
use super::jsonrpc::clip;
use crate::proto::http1;

type Chunks<'b> = Pin<Box<dyn Stream<Item = Result<Bytes, Read>> + Send + 'b>>;

/// The JSON-RPC messages of one SSE stream, in order.
pub(super) struct Messages<'b> {
    events: SseByteStream<Chunks<'b>>,
    pending: VecDeque<Value>,
    idle: Duration,
    max: u64,
}

impl<'b> Messages<'b> {
    /// Reads `body` as SSE; `idle` bounds the silence between two reads of bytes, so keep-alive
    /// comments count as life, and `max` the bytes read in all, so that an endless stream, or
    /// one line that never ends, fails rather than fills the memory. The body is borrowed: what
    /// is left of it after the answer is the caller's, to read to its end.
    pub(super) fn new(body: &'b mut http1::Body, idle: Duration, max: u64) -> Self {
        Messages {
            events: SseByteStream::new(Box::pin(bounded(body, idle, max))),
            pending: VecDeque::new(),
            idle,
            max,
        }
    }

    /// The next message; `None` when the stream ended. Events without data (priming events, bare
    /// `id:`/`retry:` blocks) are skipped; a batch is taken apart.
    pub(super) async fn next(&mut self) -> Result<Option<Value>, Failure> {
        loop {
            if let Some(message) = self.pending.pop_front() {
                return Ok(Some(message));
            }
            let event = match self.events.next().await {
                None => return Ok(None),
                Some(Ok(event)) => event,
                Some(Err(e)) => return Err(self.failure(e)),
            };
            let Some(data) = event.data.filter(|d| !d.trim().is_empty()) else {
                continue;
            };
            match serde_json::from_str(&data) {
                Ok(Value::Array(batch)) => self.pending.extend(batch),
                Ok(message) => return Ok(Some(message)),
                Err(e) => {
                    let reason = format!("an SSE event's data is not JSON ({e}): {}", clip(&data, 200));
                    return Err(Failure::NotJsonRpc(reason));
                }
            }
        }
    }

    fn failure(&self, e: sse_stream::Error) -> Failure {
        match e {
            sse_stream::Error::Body(inner) => match inner.downcast_ref::<Read>() {
                Some(Read::Idle) => Failure::Idle { after: self.idle },
                Some(Read::TooLarge) => Failure::TooLarge { limit: self.max },
                Some(Read::Body(e)) => Failure::Broken(format!("the SSE stream broke off: {e}")),
                None => Failure::Broken(format!("the SSE stream broke off: {inner}")),
            },
            sse_stream::Error::Utf8Parse(e) => Failure::NotJsonRpc(format!("an SSE event is not UTF-8: {e}")),
            other => Failure::Broken(format!("the SSE stream is broken: {other}")),
        }
    }
}

/// Why the byte stream stopped.
#[derive(Debug, thiserror::Error)]
enum Read {
    #[error("no bytes within the idle timeout")]
    Idle,
    #[error("more bytes than `max_answer`")]
    TooLarge,
    #[error(transparent)]
    Body(http1::Error),
}

/// The chunks of `body`, ending with [`Read::Idle`] when the next one takes longer than `idle`,
/// and with [`Read::TooLarge`] once more than `max` bytes came.
fn bounded(body: &mut http1::Body, idle: Duration, max: u64) -> impl Stream<Item = Result<Bytes, Read>> + Send + '_ {
    futures_util::stream::unfold(Some((body, 0u64)), move |state| async move {
        let (body, read) = state?;
        match tokio::time::timeout(idle, body.chunk()).await {
            Err(_) => Some((Err(Read::Idle), None)),
            Ok(Ok(None)) => None,
            Ok(Ok(Some(chunk))) => {
                let read = read + chunk.len() as u64;
                match read > max {
                    true => Some((Err(Read::TooLarge), None)),
                    false => Some((Ok(chunk), Some((body, read)))),
                }
            }
            Ok(Err(e)) => Some((Err(Read::Body(e)), None)),
        }
    })
}
