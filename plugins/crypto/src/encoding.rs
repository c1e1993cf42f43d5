//! How digests and random bytes come back: `opts.encoding` = "hex" (default), "base64" or "raw".

use assay_sdk::{Options, Result, Value};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// An output encoding for binary results.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Encoding {
    /// Lower-case hexadecimal.
    #[default]
    Hex,
    /// Standard base64 with padding (RFC 4648 section 4).
    Base64,
    /// The bytes themselves, as a Lua byte string.
    Raw,
}

impl Encoding {
    /// `opts.encoding`, defaulting to hex.
    pub fn from_options(opts: &Options<'_>) -> Result<Self> {
        opts.only(&["encoding"])?;
        match opts.str("encoding")? {
            None | Some("hex") => Ok(Encoding::Hex),
            Some("base64") => Ok(Encoding::Base64),
            Some("raw") => Ok(Encoding::Raw),
            Some(other) => Err(opts.invalid(
                "encoding",
                format!("expected 'hex', 'base64' or 'raw', got '{other}'"),
            )),
        }
    }

    /// `bytes` in this encoding, as a Lua string.
    pub fn encode(self, bytes: Vec<u8>) -> Value {
        match self {
            Encoding::Hex => Value::from(hex(&bytes)),
            Encoding::Base64 => Value::from(STANDARD.encode(&bytes)),
            Encoding::Raw => Value::from(bytes),
        }
    }
}

/// Lower-case hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_lower_case_and_complete() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
        assert_eq!(hex(&[]), "");
    }
}
