//! `crypto.random`: lengths, encodings, uniqueness, bounds.

use std::collections::HashSet;

use assay_plugin_crypto::random::{MAX_BYTES, random};
use assay_sdk::Value;

use crate::{bytes, call, error, table, text};

#[test]
fn lengths_and_encodings() {
    for n in [0, 1, 16, 32, 1000] {
        let hex = text(&call(random, vec![Value::Int(n)]).expect("hex"));
        assert_eq!(hex.len() as i64, 2 * n);
        assert!(
            hex.bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        let raw = call(
            random,
            vec![Value::Int(n), table(vec![("encoding", "raw".into())])],
        )
        .expect("raw");
        assert_eq!(bytes(&raw).len() as i64, n);
    }
    let b64 = text(
        &call(
            random,
            vec![Value::Int(3), table(vec![("encoding", "base64".into())])],
        )
        .expect("b64"),
    );
    assert_eq!(b64.len(), 4);
    let max = call(
        random,
        vec![
            Value::Int(MAX_BYTES),
            table(vec![("encoding", "raw".into())]),
        ],
    )
    .expect("max");
    assert_eq!(bytes(&max).len() as i64, MAX_BYTES);
    // an integral float is an integer, as in Lua
    assert_eq!(
        text(&call(random, vec![Value::Float(4.0)]).expect("float n")).len(),
        8
    );
}

#[test]
fn values_do_not_repeat() {
    let seen: HashSet<String> = (0..1000)
        .map(|_| text(&call(random, vec![Value::Int(16)]).expect("random")))
        .collect();
    assert_eq!(seen.len(), 1000);
    // every byte value shows up in 64 KiB of output
    let raw = call(
        random,
        vec![Value::Int(65536), table(vec![("encoding", "raw".into())])],
    )
    .expect("raw");
    let distinct: HashSet<u8> = bytes(&raw).into_iter().collect();
    assert_eq!(distinct.len(), 256);
}

#[test]
fn bounds_and_argument_errors() {
    assert_eq!(
        error(call(random, vec![])),
        "bad argument #1 'n' (integer expected, got no value)"
    );
    assert_eq!(
        error(call(random, vec![Value::from("8")])),
        "bad argument #1 'n' (integer expected, got string)"
    );
    assert_eq!(
        error(call(random, vec![Value::Float(1.5)])),
        "bad argument #1 'n' (number has no integer representation)"
    );
    assert_eq!(
        error(call(random, vec![Value::Int(-1)])),
        "bad argument #1 'n' (must be between 0 and 1048576, got -1)"
    );
    assert_eq!(
        error(call(random, vec![Value::Int(MAX_BYTES + 1)])),
        "bad argument #1 'n' (must be between 0 and 1048576, got 1048577)"
    );
    assert_eq!(
        error(call(
            random,
            vec![Value::Int(4), table(vec![("encoding", Value::Int(1))])]
        )),
        "bad argument #2 'opts' (field 'encoding': string expected, got number)"
    );
}
