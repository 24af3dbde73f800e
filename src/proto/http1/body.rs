//! An answer's body, read from its connection as it is asked for: by its length, in chunks, or
//! to the end of the connection.

use bytes::{Buf, Bytes, BytesMut};
use futures_util::FutureExt;

use super::{Connection, Error};

/// How much is read from the socket at a time.
pub(super) const READ_SIZE: usize = 8 * 1024;
/// The longest chunk-size or trailer line accepted.
const MAX_LINE: usize = 4 * 1024;
/// The most of a body's rest that is read and dropped to keep its connection.
const MAX_DRAIN: usize = 64 * 1024;

/// Where the body ends.
pub(super) enum Framing {
    /// After this many more bytes.
    Length(u64),
    Chunked(Chunk),
    /// When the server closes the connection.
    UntilClose,
    /// It has ended.
    Done,
}

/// Where a chunked body's reading is.
#[derive(Clone, Copy)]
pub(super) enum Chunk {
    /// Before a chunk-size line.
    Size,
    /// Inside a chunk, with this many bytes left.
    Data(u64),
    /// After a chunk's data, before its CRLF.
    DataEnd,
    /// After the last chunk: trailer fields up to an empty line.
    Trailer,
}

impl Framing {
    pub(super) fn chunked() -> Framing {
        Framing::Chunked(Chunk::Size)
    }
}

/// A connection between two exchanges, with the end of the last answer's body maybe still to
/// come.
pub struct Idle(Body);

impl Idle {
    /// The connection, when the last body has ended and the server has not closed it since.
    pub(super) fn into_open(mut self) -> Option<Connection> {
        let ended = self.0.drain_now() && matches!(self.0.framing, Framing::Done);
        let mut connection = self.0.connection;
        (ended && connection.is_open()).then_some(connection)
    }
}

impl std::fmt::Debug for Idle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Idle").finish_non_exhaustive()
    }
}

/// The body of one answer, holding its connection.
pub struct Body {
    connection: Connection,
    framing: Framing,
    keep_alive: bool,
}

impl Body {
    pub(super) fn new(connection: Connection, framing: Framing, keep_alive: bool) -> Body {
        Body {
            connection,
            framing,
            keep_alive,
        }
    }

    /// The length the head announced, if it did.
    pub fn content_length(&self) -> Option<u64> {
        match self.framing {
            Framing::Length(n) => Some(n),
            _ => None,
        }
    }

    /// The next bytes of the body; `None` once it has ended.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, Error> {
        loop {
            match &mut self.framing {
                Framing::Done => return Ok(None),
                Framing::Length(0) => self.framing = Framing::Done,
                Framing::Length(left) => {
                    let left = *left;
                    if self.connection.buffer.is_empty() && self.fill().await? == 0 {
                        return Err(Error::Broken(format!(
                            "the body ended {left} bytes short of its length"
                        )));
                    }
                    let bytes = self.take(left);
                    self.framing = Framing::Length(left - bytes.len() as u64);
                    return Ok(Some(bytes));
                }
                Framing::UntilClose => {
                    if self.connection.buffer.is_empty() && self.fill().await? == 0 {
                        self.framing = Framing::Done;
                        return Ok(None);
                    }
                    let all = self.connection.buffer.len() as u64;
                    return Ok(Some(self.take(all)));
                }
                Framing::Chunked(chunk) => {
                    let state = *chunk;
                    if let Some(bytes) = self.chunked(state).await? {
                        return Ok(Some(bytes));
                    }
                }
            }
        }
    }

    /// Parks the connection between exchanges, with what is left of this body: an SSE answer's
    /// stream usually ends just after the answer, and nothing should wait for that. `None` when
    /// the connection cannot carry another request. An empty read buffer is let go, so an idle
    /// connection holds none.
    pub fn into_idle(mut self) -> Option<Idle> {
        if !self.keep_alive || !self.drain_now() {
            return None;
        }
        if self.connection.buffer.is_empty() {
            self.connection.buffer = BytesMut::new();
        }
        Some(Idle(self))
    }

    /// Reads and drops what has already come of the rest of the body, without waiting; `false`
    /// when the connection cannot carry on (broken, or too much still coming).
    fn drain_now(&mut self) -> bool {
        let mut drained = 0;
        while drained <= MAX_DRAIN {
            match self.chunk().now_or_never() {
                Some(Ok(Some(bytes))) => drained += bytes.len(),
                // Bytes after the end of the body: the server is not speaking HTTP/1.1 to us.
                Some(Ok(None)) => return self.connection.buffer.is_empty(),
                Some(Err(_)) => return false,
                None => return true,
            }
        }
        false
    }

    /// One step through a chunked body: data when there is some, `None` when only framing was
    /// read. The state is written back only after each await, so a dropped read loses nothing.
    async fn chunked(&mut self, state: Chunk) -> Result<Option<Bytes>, Error> {
        let buffer = &self.connection.buffer;
        let next = match state {
            Chunk::Size => match httparse::parse_chunk_size(buffer) {
                Ok(httparse::Status::Complete((used, 0))) => {
                    self.connection.buffer.advance(used);
                    Chunk::Trailer
                }
                Ok(httparse::Status::Complete((used, size))) => {
                    self.connection.buffer.advance(used);
                    Chunk::Data(size)
                }
                Ok(httparse::Status::Partial) => {
                    self.more("a chunk's size").await?;
                    Chunk::Size
                }
                Err(_) => return Err(Error::Broken("the body's chunk size is not valid".into())),
            },
            Chunk::Data(left) => {
                if buffer.is_empty() {
                    self.more("a chunk").await?;
                    return Ok(None);
                }
                let bytes = self.take(left);
                let left = left - bytes.len() as u64;
                self.framing = Framing::Chunked(if left == 0 { Chunk::DataEnd } else { Chunk::Data(left) });
                return Ok(Some(bytes));
            }
            Chunk::DataEnd if buffer.len() < 2 => {
                self.more("a chunk's end").await?;
                Chunk::DataEnd
            }
            Chunk::DataEnd if buffer.starts_with(b"\r\n") => {
                self.connection.buffer.advance(2);
                Chunk::Size
            }
            Chunk::DataEnd => return Err(Error::Broken("a chunk of the body is longer than its size".into())),
            Chunk::Trailer => match buffer.windows(2).position(|w| w == b"\r\n") {
                Some(0) => {
                    self.connection.buffer.advance(2);
                    self.framing = Framing::Done;
                    return Ok(None);
                }
                // A trailer field: read past, as nothing here uses one.
                Some(end) => {
                    self.connection.buffer.advance(end + 2);
                    Chunk::Trailer
                }
                None => {
                    self.more("the body's trailer").await?;
                    Chunk::Trailer
                }
            },
        };
        self.framing = Framing::Chunked(next);
        Ok(None)
    }

    /// Reads more for an incomplete framing line or chunk; its end or an endless line is an error.
    async fn more(&mut self, what: &str) -> Result<(), Error> {
        if self.connection.buffer.len() > MAX_LINE {
            return Err(Error::Broken(format!(
                "{what} in the body is longer than {MAX_LINE} bytes"
            )));
        }
        match self.fill().await? {
            0 => Err(Error::Broken(format!("the connection closed inside {what}"))),
            _ => Ok(()),
        }
    }

    async fn fill(&mut self) -> Result<usize, Error> {
        self.connection.fill().await
    }

    /// Up to `most` bytes from the front of the buffer.
    fn take(&mut self, most: u64) -> Bytes {
        let buffer = &mut self.connection.buffer;
        let n = usize::try_from(most).map_or(buffer.len(), |most| most.min(buffer.len()));
        buffer.split_to(n).freeze()
    }
}
