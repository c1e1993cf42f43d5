//! `compress`: gzip (RFC 1952), zlib (RFC 1950) and raw deflate (RFC 1951), and zstd
//! (RFC 8878), one-shot on Lua strings.
//!
//! - `compress.gzip(data, {level})` / `compress.gunzip(data, {max_size})`: as Python's
//!   `gzip.compress` / `gzip.decompress`: a stream of several members (`cat a.gz b.gz`)
//!   decodes to their concatenation, as `gunzip` does; bytes after the last member that are
//!   not another member are an error. The header carries no name and a zero mtime, so the
//!   output is the same on every run.
//! - `compress.deflate(data, {level, raw})` / `compress.inflate(data, {max_size, raw})`: the
//!   zlib format by default, as Python's `zlib.compress` / `zlib.decompress` (and HTTP's
//!   `Content-Encoding: deflate`); `raw = true` reads and writes bare deflate (`wbits=-15`:
//!   zip entries, WebSocket's permessage-deflate). As Python does, bytes after the end of
//!   the stream are ignored.
//! - `compress.zstd(data, {level})` / `compress.unzstd(data, {max_size})`: several frames
//!   decode to their concatenation and skippable frames are skipped, as the `zstd` CLI does.
//!   A frame may use a window of at most the memory limit (libzstd's own cap, 128 MiB,
//!   without one), since libzstd allocates it outside Lua's accounting. Compressing, the
//!   window fits the input's size, and an eighth of the memory limit at most (a high level
//!   under a small limit compresses a little less rather than take hundreds of MB).
//!
//! Levels: 0-9 for gzip and deflate (0 stores, 1 is fastest, default 6 as the `gzip` CLI and
//! `zlib.compress`); 1-22 for zstd (default 3, as the `zstd` CLI). Out of range is an error.
//!
//! Decompression is bounded, so a zip bomb is an error and never takes the process down:
//! `max_size` (bytes) bounds the output; the output must also fit in what the script's memory
//! limit leaves, which is the only bound by default (none when the VM has no memory limit).
//! Either way the error names the bound that was hit. Input that is not valid compressed data
//! is an error saying what is wrong with it (a bad header, a checksum mismatch, a truncated
//! stream).

mod zstd_reader;

use std::io::{Read, Write};

use mlua::{Lua, Table};

use super::args::{Args, Options};
use super::function::{BuiltinResult, Raise, function};
use crate::vm::memory::{Room, format_size, limit};

/// How much is decoded between two checks of the bounds.
const CHUNK: usize = 64 << 10;

pub fn fill(lua: &Lua, t: &Table) -> mlua::Result<()> {
    t.raw_set("gzip", function(lua, "compress.gzip", gzip)?)?;
    t.raw_set("gunzip", function(lua, "compress.gunzip", gunzip)?)?;
    t.raw_set("deflate", function(lua, "compress.deflate", deflate)?)?;
    t.raw_set("inflate", function(lua, "compress.inflate", inflate)?)?;
    t.raw_set("zstd", function(lua, "compress.zstd", zstd)?)?;
    t.raw_set("unzstd", function(lua, "compress.unzstd", unzstd)?)?;
    Ok(())
}

/// The data argument and the options (only `known` fields) of every call here.
fn data_and_options(args: &Args, known: &[&str]) -> BuiltinResult<(mlua::LuaString, Options)> {
    args.at_most(2)?;
    let data = args.bytes(1, "data")?;
    let opts = args.options(2)?;
    opts.only(known)?;
    Ok((data, opts))
}

fn flate_level(opts: &Options) -> BuiltinResult<flate2::Compression> {
    let level = opts.integer_in("level", 0..=9)?.unwrap_or(6);
    Ok(flate2::Compression::new(level as u32))
}

fn gzip(lua: &Lua, args: Args) -> BuiltinResult<mlua::LuaString> {
    let (data, opts) = data_and_options(&args, &["level"])?;
    let level = flate_level(&opts)?;
    let encoder = flate2::GzBuilder::new().write(Vec::new(), level);
    let out = encode(lua, &data.as_bytes(), encoder, |e| e.finish())?;
    Ok(lua.create_string(out)?)
}

fn deflate(lua: &Lua, args: Args) -> BuiltinResult<mlua::LuaString> {
    let (data, opts) = data_and_options(&args, &["level", "raw"])?;
    let level = flate_level(&opts)?;
    let out = if opts.bool("raw", false)? {
        let encoder = flate2::write::DeflateEncoder::new(Vec::new(), level);
        encode(lua, &data.as_bytes(), encoder, |e| e.finish())?
    } else {
        let encoder = flate2::write::ZlibEncoder::new(Vec::new(), level);
        encode(lua, &data.as_bytes(), encoder, |e| e.finish())?
    };
    Ok(lua.create_string(out)?)
}

fn zstd(lua: &Lua, args: Args) -> BuiltinResult<mlua::LuaString> {
    let (data, opts) = data_and_options(&args, &["level"])?;
    let level = opts.integer_in("level", 1..=22)?.unwrap_or(3);
    let bytes = data.as_bytes();
    let setup = || -> std::io::Result<_> {
        let mut encoder = zstd::stream::write::Encoder::new(Vec::new(), level as i32)?;
        // Told the size, libzstd sizes its window and tables to the input, as the CLI does
        // for a file: level 22 on 1 KB took 700 MB without it.
        encoder.set_pledged_src_size(Some(bytes.len() as u64))?;
        if let Some(window_log) = zstd_window_cap(level, bytes.len(), limit(lua)) {
            encoder.set_parameter(zstd::zstd_safe::CParameter::WindowLog(window_log))?;
        }
        Ok(encoder)
    };
    let encoder = setup().map_err(|e| Raise::msg(format!("zstd: {e}")))?;
    let out = encode(lua, &bytes, encoder, |e| e.finish())?;
    Ok(lua.create_string(out)?)
}

/// The window (as a power of two) to hold level `level` to when compressing `len` bytes
/// under `memory_limit`, if its own would not fit. libzstd allocates outside Lua's accounting,
/// several times the window at the high levels; a window of an eighth of the limit keeps its
/// tables within it. The output stays a standard frame, only less compressed.
fn zstd_window_cap(level: i64, len: usize, memory_limit: Option<usize>) -> Option<u32> {
    // libzstd's window for each level on large inputs (ZSTD_defaultCParameters).
    const LEVEL_WINDOW_LOG: [u32; 22] = [
        19, 20, 21, 21, 21, 21, 21, 21, 21, 22, 22, 22, 22, 22, 22, 22, 23, 23, 23, 25, 26, 27,
    ];
    let level_log = LEVEL_WINDOW_LOG[(level.clamp(1, 22) - 1) as usize];
    let input_log = len.max(1).next_power_of_two().ilog2().max(10);
    let needed = level_log.min(input_log);
    let cap = (memory_limit? / 8).max(1).ilog2().max(10);
    (needed > cap).then_some(cap)
}

/// Feeds `data` to `encoder` a chunk at a time, checking the output against the memory the
/// script has left (it is built outside Lua's allocator).
fn encode<W: Write + EncoderOutput>(
    lua: &Lua,
    data: &[u8],
    mut encoder: W,
    finish: impl FnOnce(W) -> std::io::Result<Vec<u8>>,
) -> BuiltinResult<Vec<u8>> {
    let mut room = Room::measure(lua);
    for chunk in data.chunks(CHUNK) {
        encoder
            .write_all(chunk)
            .map_err(|e| Raise::msg(format!("compressing failed: {e}")))?;
        if !room.fits(lua, encoder.output_len()) {
            return Err(Raise::Lua(crate::vm::memory::out_of_memory()));
        }
    }
    let out = finish(encoder).map_err(|e| Raise::msg(format!("compressing failed: {e}")))?;
    if !room.fits(lua, out.len()) {
        return Err(Raise::Lua(crate::vm::memory::out_of_memory()));
    }
    Ok(out)
}

/// An encoder writing into a `Vec`, whose output so far can be measured.
trait EncoderOutput {
    fn output_len(&self) -> usize;
}

impl EncoderOutput for flate2::write::GzEncoder<Vec<u8>> {
    fn output_len(&self) -> usize {
        self.get_ref().len()
    }
}

impl EncoderOutput for flate2::write::ZlibEncoder<Vec<u8>> {
    fn output_len(&self) -> usize {
        self.get_ref().len()
    }
}

impl EncoderOutput for flate2::write::DeflateEncoder<Vec<u8>> {
    fn output_len(&self) -> usize {
        self.get_ref().len()
    }
}

impl EncoderOutput for zstd::stream::write::Encoder<'_, Vec<u8>> {
    fn output_len(&self) -> usize {
        self.get_ref().len()
    }
}

fn max_size(opts: &Options) -> BuiltinResult<Option<usize>> {
    Ok(opts
        .integer_in("max_size", 0..=i64::MAX)?
        .map(|n| usize::try_from(n).unwrap_or(usize::MAX)))
}

fn gunzip(lua: &Lua, args: Args) -> BuiltinResult<mlua::LuaString> {
    let (data, opts) = data_and_options(&args, &["max_size"])?;
    let bound = max_size(&opts)?;
    let bytes = data.as_bytes();
    let out = decode(
        lua,
        flate2::read::MultiGzDecoder::new(&bytes[..]),
        bound,
        "gzip",
    )?;
    Ok(lua.create_string(out)?)
}

fn inflate(lua: &Lua, args: Args) -> BuiltinResult<mlua::LuaString> {
    let (data, opts) = data_and_options(&args, &["max_size", "raw"])?;
    let bound = max_size(&opts)?;
    let bytes = data.as_bytes();
    let out = if opts.bool("raw", false)? {
        let decoder = flate2::read::DeflateDecoder::new(&bytes[..]);
        decode(lua, decoder, bound, "deflate")?
    } else {
        decode(
            lua,
            flate2::read::ZlibDecoder::new(&bytes[..]),
            bound,
            "zlib",
        )?
    };
    Ok(lua.create_string(out)?)
}

fn unzstd(lua: &Lua, args: Args) -> BuiltinResult<mlua::LuaString> {
    let (data, opts) = data_and_options(&args, &["max_size"])?;
    let bound = max_size(&opts)?;
    let bytes = data.as_bytes();
    let decoder = zstd_reader::ZstdReader::new(&bytes[..], limit(lua))
        .map_err(|e| Raise::msg(format!("zstd: {e}")))?;
    let out = decode(lua, decoder, bound, "zstd")?;
    Ok(lua.create_string(out)?)
}

/// Reads `decoder` to its end a chunk at a time, stopping with an error as soon as the
/// output passes `max_size` or the memory the script has left.
fn decode(
    lua: &Lua,
    mut decoder: impl Read,
    max_size: Option<usize>,
    format: &str,
) -> BuiltinResult<Vec<u8>> {
    let mut room = Room::measure(lua);
    let mut out: Vec<u8> = Vec::new();
    loop {
        let start = out.len();
        out.resize(start + CHUNK, 0);
        let read = match decoder.read(&mut out[start..]) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => 0,
            Err(e) => return Err(Raise::msg(format!("invalid {format} data: {e}"))),
        };
        out.truncate(start + read);
        if read == 0 {
            return Ok(out);
        }
        if let Some(max) = max_size
            && out.len() > max
        {
            return Err(Raise::msg(format!(
                "decompressed data exceeds max_size ({})",
                format_size(max)
            )));
        }
        if !room.fits(lua, out.len()) {
            let limit = limit(lua).unwrap_or(0);
            return Err(Raise::msg(format!(
                "decompressed data exceeds the memory limit ({}; --memory-limit sets it)",
                format_size(limit)
            )));
        }
    }
}
