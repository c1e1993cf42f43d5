//! Reading a zstd stream (every frame of it, skippable ones skipped) through libzstd's
//! streaming decoder. Not the `zstd` crate's reader: libzstd is built without its error
//! strings (the crate's `thin` feature, which also builds it for size: together a third of
//! what libzstd adds to the binary), so the messages come from the error codes here; and
//! the window a frame may ask for is bounded by the VM's memory limit, since libzstd
//! allocates it outside Lua's accounting.

use std::io::{self, Read};

use zstd::zstd_safe::{DCtx, DParameter, InBuffer, OutBuffer};

/// libzstd's own cap on a frame's window (128 MiB), when the VM has no memory limit; the
/// `zstd` CLI uses the same without `--long`.
const WINDOW_LOG_MAX: u32 = 27;
/// libzstd's smallest window (1 KiB).
const WINDOW_LOG_MIN: u32 = 10;

pub struct ZstdReader<'a> {
    context: DCtx<'static>,
    input: &'a [u8],
    at: usize,
    /// Whether a frame has begun and not yet ended.
    in_frame: bool,
}

impl<'a> ZstdReader<'a> {
    /// A reader of `input` whose frames may use a window of at most `memory_limit` bytes
    /// (rounded down to a power of two); `None`: libzstd's default cap.
    pub fn new(input: &'a [u8], memory_limit: Option<usize>) -> io::Result<Self> {
        let mut context =
            DCtx::try_create().ok_or_else(|| io::Error::other("cannot allocate a zstd decoder"))?;
        let window_log = memory_limit.map_or(WINDOW_LOG_MAX, |limit| {
            limit.max(1).ilog2().clamp(WINDOW_LOG_MIN, WINDOW_LOG_MAX)
        });
        context
            .set_parameter(DParameter::WindowLogMax(window_log))
            .map_err(|code| io::Error::other(describe(code)))?;
        Ok(Self {
            context,
            input,
            at: 0,
            in_frame: false,
        })
    }
}

impl Read for ZstdReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if self.at == self.input.len() && !self.in_frame {
                return Ok(0);
            }
            let mut output = OutBuffer::around(buf);
            let mut input = InBuffer::around(&self.input[self.at..]);
            let left = self
                .context
                .decompress_stream(&mut output, &mut input)
                .map_err(|code| io::Error::other(describe(code)))?;
            self.at += input.pos();
            // 0: a frame just ended and is fully flushed; more: the frame goes on.
            self.in_frame = left != 0;
            if output.pos() > 0 {
                return Ok(output.pos());
            }
            if input.pos() == 0 {
                // Nothing read and nothing written: the input ended inside a frame.
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the data ends inside a frame (truncated)",
                ));
            }
        }
    }
}

/// What a libzstd error code means (see `zstd_errors.h`).
fn describe(code: usize) -> String {
    // libzstd returns errors as `-(error number)`.
    match 0usize.wrapping_sub(code) {
        10 => "not zstd data (unknown frame header)".into(),
        12 => "unsupported zstd format version".into(),
        14 => "unsupported frame parameter".into(),
        16 => "the frame needs a larger window than the memory limit allows".into(),
        20 | 24 | 44 | 46 | 48 => "corrupted data".into(),
        22 => "checksum mismatch (corrupted data)".into(),
        30 | 32 => "the data needs a dictionary".into(),
        64 => "out of memory".into(),
        72 => "a frame's size does not match its header".into(),
        n => format!("libzstd error {n}"),
    }
}
