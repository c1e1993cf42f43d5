//! Decoding a compressed response body (`Content-Encoding`), streamed and bounded.
//!
//! The plugin decodes, not reqwest: reqwest's decoder returns a body encoded twice
//! (`gzip, gzip`) still encoded once, refuses raw deflate, and lets a zstd frame ask for a
//! 128 MiB window whatever the script's memory limit.
//!
//! - Codings: `gzip` (several members decode to their concatenation, as `gunzip` does), `br`,
//!   `zstd`, and `deflate`: the zlib format RFC 9110 names, or raw deflate without its header,
//!   which some servers send and browsers and Python requests accept (told apart by the first
//!   two bytes, as browsers do). `identity` is no coding.
//! - Stacked codings (`Content-Encoding: gzip, br`: gzip applied first) are undone in reverse
//!   order, at most [`MAX_CODINGS`] of them; more is an error (each layer multiplies what a
//!   small body may expand to, and no server needs more). A coding the plugin does not know
//!   leaves the whole body as sent, with its `content-encoding`, as `fetch` does.
//! - A decoded response has no `content-encoding` and no `content-length` (they described the
//!   bytes sent), as with reqwest, `fetch` and requests.
//! - A body with no bytes at all is empty whatever its `content-encoding` says: the answer to
//!   a `HEAD` request (which keeps its `content-encoding` and `content-length`, describing what
//!   a `GET` would get), a 204, a 304.
//! - zstd: a frame's window is memory the decoder keeps while it reads the frame (outside the
//!   script's accounting), so it is bounded: at most 8 MiB, the limit RFC 9659 sets for HTTP
//!   (Chrome and Firefox enforce it too), and never more than the script's memory limit. The
//!   first frame's window is read from its header before anything is allocated, and refused
//!   by name (`a zstd frame needs a window of 128 MiB, more than the 8 MiB allowed (RFC 9659's
//!   limit for HTTP)`); libzstd enforces the same bound (as a power of two) on any later frame.
//!   The window is also charged to the bytes in flight (see [`crate::budget`]), so concurrent
//!   zstd responses share the memory limit instead of each taking it whole.
//!
//! Every layer decodes on demand, a block at a time, so a small body that expands to gigabytes
//! is stopped by `max_body` (or the memory limit) after one block past it, never held whole.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context as TaskContext, Poll, ready};

use assay_sdk::{Error, Result, files::describe_size};
use async_compression::tokio::bufread::{
    BrotliDecoder, DeflateDecoder, GzipDecoder, ZlibDecoder, ZstdDecoder,
};
use bytes::Bytes;
use futures_util::{StreamExt as _, TryStreamExt as _};
use reqwest::header::{CONTENT_ENCODING, CONTENT_LENGTH, HeaderMap};
use tokio::io::{AsyncRead, AsyncReadExt as _, BufReader, ReadBuf};
use tokio_util::io::{ReaderStream, StreamReader};

use super::errors::{self, Context};
use crate::budget::{Budget, Charge};

/// The most content codings undone on one body.
pub(crate) const MAX_CODINGS: usize = 3;

/// What `accept-encoding` says when the plugin decodes.
pub(crate) const ACCEPT_ENCODING: &str = "gzip, br, zstd, deflate";

/// RFC 9659 §3: a zstd-encoded HTTP body's window is at most 8 MiB.
const HTTP_ZSTD_WINDOW: u64 = 8 << 20;

/// Bytes decoded per step of the last layer.
const BLOCK: usize = 64 * 1024;

/// A content coding the plugin decodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Coding {
    Gzip,
    Deflate,
    Brotli,
    Zstd,
}

impl Coding {
    fn parse(name: &str) -> Option<Coding> {
        match name.to_ascii_lowercase().as_str() {
            "gzip" | "x-gzip" => Some(Coding::Gzip),
            "deflate" => Some(Coding::Deflate),
            "br" => Some(Coding::Brotli),
            "zstd" => Some(Coding::Zstd),
            _ => None,
        }
    }
}

/// The codings to undo, in the order they were applied, read from `headers`; `None` when the
/// body is to be left as sent (no coding, or one the plugin does not know).
fn codings(headers: &HeaderMap) -> Result<Option<Vec<Coding>>, String> {
    let mut named = Vec::new();
    for value in headers.get_all(CONTENT_ENCODING) {
        let Ok(text) = value.to_str() else {
            return Ok(None);
        };
        named.extend(
            text.split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty() && !c.eq_ignore_ascii_case("identity"))
                .map(str::to_owned),
        );
    }
    if named.is_empty() {
        return Ok(None);
    }
    let Some(known) = named
        .iter()
        .map(|name| Coding::parse(name))
        .collect::<Option<Vec<_>>>()
    else {
        return Ok(None);
    };
    if known.len() > MAX_CODINGS {
        return Err(format!(
            "it is encoded {} times ({}); at most {MAX_CODINGS} codings are decoded",
            known.len(),
            named.join(", ")
        ));
    }
    Ok(Some(known))
}

type Reader = Pin<Box<dyn AsyncRead + Send>>;

/// How a response's body is to be decoded: its codings, in the order applied.
pub(crate) struct Plan {
    codings: Vec<Coding>,
    /// The `content-encoding` as sent, for messages.
    named: String,
}

/// Reads how `response`'s body is encoded and, when it is to be decoded (`decompress`, and
/// codings the plugin knows), removes its `content-encoding` and `content-length` headers:
/// they describe the bytes sent, not the body the script gets.
pub(crate) fn prepare(
    response: &mut reqwest::Response,
    decompress: bool,
    cx: &Context<'_>,
) -> Result<Option<Plan>> {
    // No body (HEAD, 204, 304, `content-length: 0`): nothing to decode, and the headers
    // still describe what a GET would get.
    if !decompress || response.content_length() == Some(0) {
        return Ok(None);
    }
    let Some(codings) = codings(response.headers()).map_err(|why| {
        Error::new(format!(
            "cannot decode the response body from {}: {why}",
            errors::authority(cx.url)
        ))
    })?
    else {
        return Ok(None);
    };
    let named = response
        .headers()
        .get_all(CONTENT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(", ");
    response.headers_mut().remove(CONTENT_ENCODING);
    response.headers_mut().remove(CONTENT_LENGTH);
    Ok(Some(Plan { codings, named }))
}

/// A response body: decoded as its [`Plan`] says, or as sent.
pub(crate) enum Body {
    AsSent(reqwest::Response),
    Decoded {
        blocks: ReaderStream<Reader>,
        /// The `content-encoding` undone, for messages.
        named: String,
        /// Set once a byte of the body has arrived: a body without any is empty, not a
        /// truncated encoding.
        arrived: Arc<AtomicBool>,
    },
}

impl Body {
    /// The body of `response`, decoded by `plan` (`None`: as sent) with zstd windows bounded
    /// by `budget`.
    pub(crate) fn new(response: reqwest::Response, plan: Option<Plan>, budget: Budget) -> Body {
        let Some(plan) = plan else {
            return Body::AsSent(response);
        };
        let arrived = Arc::new(AtomicBool::new(false));
        let seen = arrived.clone();
        let sent = response
            .bytes_stream()
            .inspect_ok(move |bytes| {
                if !bytes.is_empty() {
                    seen.store(true, Ordering::Relaxed);
                }
            })
            .map_err(io::Error::other);
        let mut reader: Reader = Box::pin(StreamReader::new(sent));
        // The last coding applied is the first undone.
        for coding in plan.codings.into_iter().rev() {
            reader = layer(coding, reader, budget);
        }
        Body::Decoded {
            blocks: ReaderStream::with_capacity(reader, BLOCK),
            named: plan.named,
            arrived,
        }
    }

    /// The body's length as the server announced it; `None` when unknown or decoded (it was
    /// the length of the encoded bytes).
    pub(crate) fn announced(&self) -> Option<u64> {
        match self {
            Body::AsSent(response) => response.content_length(),
            Body::Decoded { .. } => None,
        }
    }

    /// The next piece of the body, `None` at its end.
    pub(crate) async fn chunk(&mut self, cx: &Context<'_>) -> Result<Option<Bytes>> {
        match self {
            Body::AsSent(response) => response.chunk().await.map_err(|e| errors::describe(&e, cx)),
            Body::Decoded {
                blocks,
                named,
                arrived,
            } => match blocks.next().await {
                None => Ok(None),
                Some(Ok(block)) => Ok(Some(block)),
                Some(Err(_)) if !arrived.load(Ordering::Relaxed) => Ok(None),
                Some(Err(e)) => Err(decode_error(&e, named, cx)),
            },
        }
    }
}

/// A failure while reading a decoded body: the network's (described as any request failure)
/// or the decoder's.
fn decode_error(e: &io::Error, codings: &str, cx: &Context<'_>) -> Error {
    if let Some(network) = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<reqwest::Error>())
    {
        return errors::describe(network, cx);
    }
    Error::new(format!(
        "cannot decode the {codings} response body from {}: {}",
        errors::authority(cx.url),
        assay_sdk::pem::io_reason(e)
    ))
}

/// `source` decoded from `coding`.
fn layer(coding: Coding, source: Reader, budget: Budget) -> Reader {
    match coding {
        Coding::Gzip => {
            let mut decoder = GzipDecoder::new(BufReader::new(source));
            decoder.multiple_members(true);
            Box::pin(decoder)
        }
        Coding::Brotli => Box::pin(BrotliDecoder::new(BufReader::new(source))),
        Coding::Deflate => Box::pin(Sniff::new(source, Box::new(choose_deflate))),
        Coding::Zstd => Box::pin(Sniff::new(
            source,
            Box::new(move |head: &[u8], ended: bool| choose_zstd(head, ended, budget)),
        )),
    }
}

/// What a [`Sniff`] does with the first bytes it has read.
enum Decision {
    /// Read until there are this many (or the body ends).
    Need(usize),
    /// Decode the body (those bytes first) through what this makes.
    Decode(Box<dyn FnOnce(Reader) -> Reader + Send>),
}

type Chooser = Box<dyn FnMut(&[u8], bool) -> io::Result<Decision> + Send>;

/// Reads the first bytes of a body to choose its decoder, then decodes the body through it.
struct Sniff {
    source: Option<Reader>,
    head: Vec<u8>,
    choose: Chooser,
    decoded: Option<Reader>,
}

impl Sniff {
    fn new(source: Reader, choose: Chooser) -> Self {
        Sniff {
            source: Some(source),
            head: Vec::new(),
            choose,
            decoded: None,
        }
    }
}

impl AsyncRead for Sniff {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if let Some(decoded) = this.decoded.as_mut() {
                return decoded.as_mut().poll_read(cx, buf);
            }
            let Some(source) = this.source.as_mut() else {
                return Poll::Ready(Err(io::Error::other("the body's decoder was lost")));
            };
            let make = match (this.choose)(&this.head, false)? {
                Decision::Decode(make) => make,
                Decision::Need(total) => {
                    let mut scratch = [0u8; 32];
                    let want = total
                        .saturating_sub(this.head.len())
                        .clamp(1, scratch.len());
                    let mut read = ReadBuf::new(&mut scratch[..want]);
                    ready!(source.as_mut().poll_read(cx, &mut read))?;
                    if !read.filled().is_empty() {
                        this.head.extend_from_slice(read.filled());
                        continue;
                    }
                    // The body ended first: the chooser decides on what there is.
                    match (this.choose)(&this.head, true)? {
                        Decision::Decode(make) => make,
                        Decision::Need(_) => {
                            return Poll::Ready(Err(io::Error::other(
                                "the body ends before its coding's header",
                            )));
                        }
                    }
                }
            };
            let source = this
                .source
                .take()
                .unwrap_or_else(|| Box::pin(tokio::io::empty()));
            let head = std::io::Cursor::new(std::mem::take(&mut this.head));
            this.decoded = Some(make(Box::pin(head.chain(source))));
        }
    }
}

/// `deflate`: the zlib format when the first two bytes are a zlib header (RFC 1950: method 8,
/// a window of at most 32 KiB, the check bits right), raw deflate otherwise.
fn choose_deflate(head: &[u8], ended: bool) -> io::Result<Decision> {
    if head.len() < 2 && !ended {
        return Ok(Decision::Need(2));
    }
    let zlib = matches!(head, [cmf, flg, ..]
        if cmf & 0x0f == 8 && cmf >> 4 <= 7 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0);
    Ok(Decision::Decode(Box::new(
        move |source: Reader| -> Reader {
            if zlib {
                Box::pin(ZlibDecoder::new(BufReader::new(source)))
            } else {
                Box::pin(DeflateDecoder::new(BufReader::new(source)))
            }
        },
    )))
}

/// The most window a zstd frame may ask for, and why that much.
fn zstd_window_limit(memory_limit: Option<u64>) -> (u64, &'static str) {
    match memory_limit {
        Some(limit) if limit < HTTP_ZSTD_WINDOW => (limit, "the script's memory limit"),
        _ => (HTTP_ZSTD_WINDOW, "RFC 9659's limit for HTTP"),
    }
}

/// `zstd`: the first frame's window read from its header and checked against the limit (and
/// charged to the bytes in flight) before libzstd allocates it.
fn choose_zstd(head: &[u8], ended: bool, budget: Budget) -> io::Result<Decision> {
    let (limit, why) = zstd_window_limit(budget.limit());
    let window = match zstd_frame_window(head) {
        FrameWindow::Need(n) if !ended => return Ok(Decision::Need(n)),
        FrameWindow::Need(_) | FrameWindow::NotAFrame => 0,
        FrameWindow::Window(window) => window,
    };
    if window > limit {
        return Err(io::Error::other(format!(
            "a zstd frame needs a window of {}, more than the {} allowed ({why})",
            describe_size(window),
            describe_size(limit)
        )));
    }
    let mut charge = Charge::new(budget);
    charge
        .grow_to(window)
        .map_err(|e| io::Error::other(format!("cannot hold a zstd window: {e}")))?;
    // libzstd's own bound (a power of two) for any later frame.
    let window_log = limit.max(1).ilog2().clamp(10, 27);
    Ok(Decision::Decode(Box::new(
        move |source: Reader| -> Reader {
            let decoder = ZstdDecoder::with_params(
                BufReader::new(source),
                &[async_compression::zstd::DParameter::window_log_max(
                    window_log,
                )],
            );
            Box::pin(Charged {
                reader: Box::pin(decoder),
                _charge: charge,
            })
        },
    )))
}

/// A reader holding a charge on the bytes in flight for as long as it lives.
struct Charged {
    reader: Reader,
    _charge: Charge,
}

impl AsyncRead for Charged {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.get_mut().reader.as_mut().poll_read(cx, buf)
    }
}

/// What the start of a zstd body says about its first frame's window.
#[derive(Debug, PartialEq, Eq)]
enum FrameWindow {
    /// The header is this many bytes: read that many first.
    Need(usize),
    /// Not a zstd frame (a skippable frame, or not zstd at all: libzstd says which).
    NotAFrame,
    Window(u64),
}

/// RFC 8878 §3.1.1.1: magic number, frame header descriptor, window descriptor or (for a
/// single-segment frame) the content size, which is then the window.
fn zstd_frame_window(head: &[u8]) -> FrameWindow {
    const MAGIC: u32 = 0xFD2F_B528;
    if head.len() < 5 {
        return FrameWindow::Need(5);
    }
    if u32::from_le_bytes([head[0], head[1], head[2], head[3]]) != MAGIC {
        return FrameWindow::NotAFrame;
    }
    let descriptor = head[4];
    let single_segment = descriptor & 0x20 != 0;
    if !single_segment {
        let Some(&window_descriptor) = head.get(5) else {
            return FrameWindow::Need(6);
        };
        let window_log = 10 + u32::from(window_descriptor >> 3);
        let base = 1u64 << window_log;
        return FrameWindow::Window(base + (base / 8) * u64::from(window_descriptor & 7));
    }
    let dictionary_id_len = [0, 1, 2, 4][usize::from(descriptor & 3)];
    let content_size_len = [1, 2, 4, 8][usize::from(descriptor >> 6)];
    let start = 5 + dictionary_id_len;
    let Some(field) = head.get(start..start + content_size_len) else {
        return FrameWindow::Need(start + content_size_len);
    };
    let mut bytes = [0u8; 8];
    bytes[..content_size_len].copy_from_slice(field);
    let size = u64::from_le_bytes(bytes);
    FrameWindow::Window(if content_size_len == 2 {
        size + 256
    } else {
        size
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn encoded(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append(CONTENT_ENCODING, HeaderValue::from_str(v).expect("value"));
        }
        map
    }

    #[test]
    fn codings_are_read_in_order_and_bounded() {
        assert_eq!(codings(&HeaderMap::new()), Ok(None));
        assert_eq!(codings(&encoded(&["identity"])), Ok(None));
        assert_eq!(
            codings(&encoded(&["gzip, br"])),
            Ok(Some(vec![Coding::Gzip, Coding::Brotli]))
        );
        assert_eq!(
            codings(&encoded(&["GZIP", "zstd"])),
            Ok(Some(vec![Coding::Gzip, Coding::Zstd]))
        );
        assert_eq!(codings(&encoded(&["gzip, compress"])), Ok(None));
        assert_eq!(
            codings(&encoded(&["gzip, gzip, gzip, gzip"])),
            Err(
                "it is encoded 4 times (gzip, gzip, gzip, gzip); at most 3 codings are decoded"
                    .to_owned()
            )
        );
    }

    #[test]
    fn zstd_windows_are_read_from_frame_headers() {
        let magic = 0xFD2F_B528u32.to_le_bytes();
        let frame = |rest: &[u8]| [&magic[..], rest].concat();
        assert_eq!(zstd_frame_window(&magic), FrameWindow::Need(5));
        // Window descriptor: exponent 17 (log 27), mantissa 0: 128 MiB.
        assert_eq!(zstd_frame_window(&frame(&[0x00])), FrameWindow::Need(6));
        assert_eq!(
            zstd_frame_window(&frame(&[0x00, 17 << 3])),
            FrameWindow::Window(128 << 20)
        );
        // Exponent 10 (log 20), mantissa 4: 1 MiB + 4/8 MiB.
        assert_eq!(
            zstd_frame_window(&frame(&[0x00, 10 << 3 | 4])),
            FrameWindow::Window(1_572_864)
        );
        // Single segment, a 1-byte content size of 200: the window is 200 bytes.
        assert_eq!(zstd_frame_window(&frame(&[0x20])), FrameWindow::Need(6));
        assert_eq!(
            zstd_frame_window(&frame(&[0x20, 200])),
            FrameWindow::Window(200)
        );
        // Single segment, a 2-byte content size (stored minus 256).
        assert_eq!(
            zstd_frame_window(&frame(&[0x60, 0x00, 0x01])),
            FrameWindow::Window(512)
        );
        assert_eq!(
            zstd_frame_window(&[0x50, 0x2A, 0x4D, 0x18, 0]),
            FrameWindow::NotAFrame
        );
    }

    #[test]
    fn the_zstd_window_limit_is_rfc_9659s_or_the_memory_limits() {
        assert_eq!(zstd_window_limit(None).0, 8 << 20);
        assert_eq!(zstd_window_limit(Some(1 << 30)).0, 8 << 20);
        assert_eq!(zstd_window_limit(Some(2 << 20)).0, 2 << 20);
    }
}
