//! Filters beyond minijinja's builtins: `b64encode`/`b64decode` (as Ansible and Salt have),
//! `to_yaml` (Helm's `toYaml`) and `to_json` (compact JSON without the HTML escaping of
//! `tojson`, for manifests and configs).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use minijinja::value::Value as Jv;
use minijinja::{Environment, Error, ErrorKind};

use crate::values;

pub fn add_builtin(env: &mut Environment<'static>) {
    env.add_filter("b64encode", |value: Jv| -> Result<String, Error> {
        let bytes = match (value.as_str(), value.as_bytes()) {
            (Some(s), _) => s.as_bytes().to_vec(),
            (None, Some(b)) => b.to_vec(),
            _ => value.to_string().into_bytes(),
        };
        Ok(STANDARD.encode(bytes))
    });
    env.add_filter("b64decode", |value: &str| -> Result<String, Error> {
        let bytes = STANDARD.decode(value.trim()).map_err(|e| {
            Error::new(
                ErrorKind::InvalidOperation,
                format!("b64decode: not base64 ({e})"),
            )
        })?;
        String::from_utf8(bytes).map_err(|_| {
            Error::new(
                ErrorKind::InvalidOperation,
                "b64decode: the decoded bytes are not text",
            )
        })
    });
    env.add_filter("to_yaml", |value: Jv| -> Result<String, Error> {
        Ok(crate::yaml::to_yaml(&values::to_lua(&value)?))
    });
    env.add_filter("to_json", |value: Jv| -> Result<String, Error> {
        let bytes = assay_sdk::json::encode(&values::to_lua(&value)?)
            .map_err(|e| Error::new(ErrorKind::InvalidOperation, format!("to_json: {e}")))?;
        String::from_utf8(bytes)
            .map_err(|_| Error::new(ErrorKind::InvalidOperation, "to_json: not UTF-8"))
    });
}
