//! `hex`: base 16, as Python's `bytes.hex()` / `bytes.fromhex()` without the whitespace.
//! `hex.encode` writes lower-case digits; `hex.decode` accepts either case and refuses an odd
//! length or a byte that is not a hex digit, naming its 1-based position.

use mlua::{Lua, Table};

use super::args::Args;
use super::function::{BuiltinResult, Raise, function};

const DIGITS: &[u8; 16] = b"0123456789abcdef";

pub fn fill(lua: &Lua, t: &Table) -> mlua::Result<()> {
    t.raw_set("encode", function(lua, "hex.encode", encode)?)?;
    t.raw_set("decode", function(lua, "hex.decode", decode)?)?;
    Ok(())
}

fn encode(lua: &Lua, args: Args) -> BuiltinResult<mlua::LuaString> {
    args.at_most(1)?;
    let data = args.bytes(1, "data")?;
    let bytes = data.as_bytes();
    // Twice the data, built outside Lua's allocator: refuse it before it is built.
    crate::vm::memory::ensure_room(lua, bytes.len().saturating_mul(2))?;
    let mut out = Vec::with_capacity(bytes.len() * 2);
    for b in bytes.iter() {
        out.push(DIGITS[usize::from(b >> 4)]);
        out.push(DIGITS[usize::from(b & 15)]);
    }
    Ok(lua.create_string(out)?)
}

fn decode(lua: &Lua, args: Args) -> BuiltinResult<mlua::LuaString> {
    args.at_most(1)?;
    let text = args.bytes(1, "text")?;
    let out = decode_bytes(&text.as_bytes()).map_err(Raise::Message)?;
    Ok(lua.create_string(out)?)
}

/// The bytes `text` spells, or why it spells none.
pub fn decode_bytes(text: &[u8]) -> Result<Vec<u8>, String> {
    // A stray character is named first: "00 ff" has a space, not just an odd length.
    if let Some(at) = text.iter().position(|b| digit(*b).is_none()) {
        return Err(not_a_digit(text[at], at));
    }
    if text.len() % 2 == 1 {
        return Err(format!(
            "invalid hex: odd length ({} digits cannot encode whole bytes)",
            text.len()
        ));
    }
    let mut out = Vec::with_capacity(text.len() / 2);
    for (i, pair) in text.chunks_exact(2).enumerate() {
        let high = digit(pair[0]).ok_or_else(|| not_a_digit(pair[0], 2 * i))?;
        let low = digit(pair[1]).ok_or_else(|| not_a_digit(pair[1], 2 * i + 1))?;
        out.push(high << 4 | low);
    }
    Ok(out)
}

/// The value of one hex digit, either case.
pub fn digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn not_a_digit(byte: u8, offset: usize) -> String {
    let shown = if byte.is_ascii_graphic() || byte == b' ' {
        format!("'{}'", byte as char)
    } else {
        format!("\\x{byte:02x}")
    };
    format!(
        "invalid hex: byte {} ({shown}) is not a hex digit",
        offset + 1
    )
}

#[cfg(test)]
mod tests {
    use super::decode_bytes;

    #[test]
    fn decodes_both_cases_and_names_the_bad_byte() {
        assert_eq!(decode_bytes(b"00fFaB"), Ok(vec![0, 255, 171]));
        assert_eq!(decode_bytes(b""), Ok(vec![]));
        assert!(
            decode_bytes(b"abc")
                .expect_err("odd")
                .contains("odd length")
        );
        assert!(
            decode_bytes(b"0g")
                .expect_err("not hex")
                .contains("byte 2 ('g')")
        );
    }
}
