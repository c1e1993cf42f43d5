//! JSON bodies: `r:json()` on requests and responses. The conversions themselves are the
//! SDK's (`assay_sdk::json`).
//!
//! `r:json()` is the host's decoder when the host offers one ([`body_method`]): the core's
//! `json.parse`, which builds Lua tables straight from the text under the script's memory
//! limit. The SDK's [`decode`] (text -> serde tree -> [`Value`] tree -> Lua tables, all
//! outside that limit) is the fallback for a host without the `assay.host.v2` extension.

use std::sync::OnceLock;

pub use assay_sdk::json::{decode, encode};
use assay_sdk::{Args, Callback, Error, Value};

/// The `json` method of requests and responses, `r:json()`, for the calling script: the
/// host's decoder when it offers one, else [`plugin_body_method`]. Call it on the Lua thread,
/// inside a call (`http.get`, `http.server`), where the host knows the script.
pub fn body_method() -> Callback {
    assay_sdk::host::json_method().unwrap_or_else(plugin_body_method)
}

/// The plugin's own `json` method (one for all scripts): `r:json()` decodes `r.body` with
/// [`decode`].
pub fn plugin_body_method() -> Callback {
    static METHOD: OnceLock<Callback> = OnceLock::new();
    METHOD
        .get_or_init(|| {
            Callback::from_fn(|args: Args| {
                args.at_most(0, 1)?;
                let this = args.map(1, "self")?;
                let body = match this.get("body") {
                    Some(Value::Str(bytes)) => bytes.as_slice(),
                    None => &[],
                    Some(other) => {
                        return Err(Error::new(format!(
                            "json: body is a {}, not a string",
                            other.type_name()
                        )));
                    }
                };
                decode(body).map_err(|e| Error::new(format!("json: {e}")))
            })
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_host_the_plugin_decodes() {
        // Unit tests run without a host: the method is the plugin's own, shared by all.
        let method = body_method();
        assert_eq!(method.id(), plugin_body_method().id());
    }
}
