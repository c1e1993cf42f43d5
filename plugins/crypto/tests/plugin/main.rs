//! The crypto plugin's functions called directly, as the host would call them.

mod hash;
mod hash_file;
mod hmac;
mod jwt;
mod jwt_args;
mod jwt_keys;
mod jwt_reject;
mod random;

use std::time::{SystemTime, UNIX_EPOCH};

use assay_sdk::{Args, Map, Result, Value};

/// Calls a plugin function with `args`.
pub fn call<R>(f: fn(Args) -> Result<R>, args: Vec<Value>) -> Result<R> {
    f(Args::from_vec(args))
}

/// A table from pairs.
pub fn table(pairs: Vec<(&str, Value)>) -> Value {
    Value::Map(pairs.into_iter().collect::<Map>())
}

/// The bytes of a string result.
pub fn bytes(v: &Value) -> Vec<u8> {
    v.as_bytes().expect("a string result").to_vec()
}

/// The text of a string result.
pub fn text(v: &Value) -> String {
    v.as_str().expect("a UTF-8 string result").to_owned()
}

/// The message of an expected error.
pub fn error<R>(result: Result<R>) -> String {
    match result {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.into_message(),
    }
}

/// A test key from `tests/keys/`.
pub fn key(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/keys")
        .join(name);
    Value::from(std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

pub fn now() -> i64 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    i64::try_from(secs).expect("in range")
}
