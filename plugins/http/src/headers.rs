//! Header values as Lua sees them, on both sides (a server's `req.headers`, a client's
//! `resp.headers`): one string per name, a repeated header's values joined in the order
//! received with ", " (RFC 9110 §5.3, what `fetch`'s `Headers.get` returns), except
//! `set-cookie`, whose values may themselves hold commas (`Expires=Wed, 21 Oct ...`) and are
//! joined with "\n" (RFC 6265 §3 forbids folding them with commas).

use reqwest::header::{HeaderMap, HeaderName};

/// Appends the values of `name` in `headers` to `out`, joined as the module docs say.
pub(crate) fn join_values(headers: &HeaderMap, name: &HeaderName, out: &mut Vec<u8>) {
    let separator: &[u8] = if name == "set-cookie" { b"\n" } else { b", " };
    for (i, value) in headers.get_all(name).iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(separator);
        }
        out.extend_from_slice(value.as_bytes());
    }
}
