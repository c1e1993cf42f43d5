//! `base64`: RFC 4648. `url = true` selects the URL-safe alphabet. Encoding pads unless
//! `pad = false`; with `url = true` padding defaults to off (as JWTs and most URL uses want).
//! Decoding accepts input with or without padding, and names the first offending byte.

use base64::Engine;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, general_purpose};
use mlua::{Lua, Table};

use super::args::Args;
use super::function::{BuiltinResult, Raise, function};

pub fn fill(lua: &Lua, b64: &Table) -> mlua::Result<()> {
    b64.raw_set("encode", function(lua, "base64.encode", encode)?)?;
    b64.raw_set("decode", function(lua, "base64.decode", decode)?)?;
    Ok(())
}

fn engine(url: bool, pad: bool) -> GeneralPurpose {
    let alphabet = if url {
        &base64::alphabet::URL_SAFE
    } else {
        &base64::alphabet::STANDARD
    };
    let config = GeneralPurposeConfig::new()
        .with_encode_padding(pad)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent);
    GeneralPurpose::new(alphabet, config)
}

fn encode(lua: &Lua, args: Args) -> BuiltinResult<mlua::LuaString> {
    args.at_most(2)?;
    let data = args.bytes(1, "data")?;
    let opts = args.options(2)?;
    opts.only(&["url", "pad"])?;
    let url = opts.bool("url", false)?;
    let pad = opts.bool("pad", !url)?;
    // The text is a third larger than the data: refuse before building it outside the limit.
    crate::vm::memory::ensure_room(lua, data.as_bytes().len() / 3 * 4 + 4)?;
    let text = if !url && pad {
        general_purpose::STANDARD.encode(data.as_bytes())
    } else {
        engine(url, pad).encode(data.as_bytes())
    };
    Ok(lua.create_string(text)?)
}

fn decode(lua: &Lua, args: Args) -> BuiltinResult<mlua::LuaString> {
    args.at_most(2)?;
    let text = args.bytes(1, "text")?;
    let opts = args.options(2)?;
    opts.only(&["url"])?;
    let url = opts.bool("url", false)?;
    let bytes = engine(url, true)
        .decode(text.as_bytes())
        .map_err(|e| Raise::Message(format!("invalid base64: {}", describe(&e, url))))?;
    Ok(lua.create_string(bytes)?)
}

fn describe(e: &base64::DecodeError, url: bool) -> String {
    use base64::DecodeError::*;
    let alphabet = if url { "URL-safe" } else { "standard" };
    match e {
        InvalidByte(offset, byte) => {
            format!(
                "byte {offset} ({:?}) is not in the {alphabet} alphabet",
                *byte as char
            )
        }
        InvalidLength(len) => format!("{len} symbols cannot encode whole bytes"),
        InvalidLastSymbol(offset, _) => format!("last symbol at byte {offset} has extra bits set"),
        InvalidPadding => "wrong padding".to_owned(),
    }
}
