//! Argument errors of the JWT functions: each names the argument and says what is wrong.

use assay_plugin_crypto::jwt::sign::jwt_sign;
use assay_sdk::Value;

use crate::jwt::{hs, verify};
use crate::{call, error, key, table};

#[test]
fn sign_argument_errors() {
    let sign_err = |args: Vec<Value>| error(call(jwt_sign, args));
    assert_eq!(
        sign_err(vec![]),
        "bad argument #1 'claims' (table expected, got no value)"
    );
    assert_eq!(
        sign_err(vec![Value::from(vec![Value::Int(1)]), Value::from("k")]),
        "bad argument #1 'claims' (a table with string keys expected, got a list)"
    );
    assert_eq!(
        sign_err(vec![table(vec![]), Value::Nil]),
        "bad argument #2 'key' (string expected, got nil)"
    );
    assert_eq!(
        sign_err(vec![table(vec![]), Value::from("")]),
        "bad argument #2 'key' (the secret is empty)"
    );
    assert_eq!(
        sign_err(vec![
            table(vec![("bin", Value::from(vec![0xffu8]))]),
            Value::from("k")
        ]),
        "bad argument #1 'claims' (string is not valid UTF-8 at $.bin)"
    );
    assert_eq!(
        sign_err(vec![
            table(vec![]),
            Value::from("k"),
            table(vec![("alg", "none".into())])
        ]),
        "bad argument #3 'opts' (field 'alg': unknown algorithm 'none'; expected one of HS256, HS384, HS512, \
         RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, EdDSA)"
    );
    assert_eq!(
        sign_err(vec![
            table(vec![]),
            key("rsa-private.pem"),
            table(vec![("alg", "ES256".into())])
        ]),
        "bad argument #2 'key' (ES256 cannot be used with an RSA private key (this key takes \
         RS256, RS384, RS512, PS256, PS384, PS512))"
    );
    assert_eq!(
        sign_err(vec![
            table(vec![]),
            key("rsa-public.pem"),
            table(vec![("alg", "HS256".into())])
        ]),
        "bad argument #2 'key' (HS256 cannot be used with an RSA public key: HS256 takes a shared \
         secret, and a PEM key is never used as one (this key takes RS256, RS384, RS512, PS256, \
         PS384, PS512))"
    );
    assert_eq!(
        sign_err(vec![table(vec![]), key("rsa-public.pem")]),
        "bad argument #2 'key' (signing needs a private key, got an RSA public key)"
    );
    assert_eq!(
        sign_err(vec![
            table(vec![]),
            Value::from("-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n")
        ]),
        "bad argument #2 'key' (malformed PUBLIC KEY PEM)"
    );
    let not_pem = sign_err(vec![
        table(vec![]),
        Value::from("-----BEGIN PUBLIC KEY-----\n@@@\n-----END PUBLIC KEY-----\n"),
    ]);
    assert!(
        not_pem.starts_with("bad argument #2 'key' (not a valid PEM key: "),
        "{not_pem}"
    );
    assert_eq!(
        sign_err(vec![
            table(vec![]),
            Value::from("k"),
            table(vec![("header", table(vec![("alg", "none".into())]))])
        ]),
        "bad argument #3 'opts' (field 'header': alg is set with opts.alg, not in the header)"
    );
    assert_eq!(
        sign_err(vec![
            table(vec![]),
            Value::from("k"),
            table(vec![("kid", Value::Int(3))])
        ]),
        "bad argument #3 'opts' (field 'kid': string expected, got number)"
    );
}

#[test]
fn verify_argument_errors() {
    let token = hs(table(vec![]));
    assert_eq!(
        error(verify(&token, Value::Nil, Value::Nil)),
        "bad argument #2 'key' (string expected, got nil)"
    );
    assert_eq!(
        error(verify(&token, key("rsa-private.pem"), Value::Nil)),
        "bad argument #2 'key' (verifying needs a public key, got an RSA private key)"
    );
    assert_eq!(
        error(verify(
            &token,
            Value::from("k"),
            table(vec![("algs", "HS1".into())])
        )),
        "bad argument #3 'opts' (field 'algs': unknown algorithm 'HS1'; expected one of HS256, HS384, HS512, \
         RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, EdDSA)"
    );
    assert_eq!(
        error(verify(
            &token,
            Value::from("k"),
            table(vec![("algs", Value::Array(Default::default()))])
        )),
        "bad argument #3 'opts' (field 'algs': lists no algorithm)"
    );
    assert_eq!(
        error(verify(
            &token,
            Value::from("k"),
            table(vec![("leeway", Value::Int(-1))])
        )),
        "bad argument #3 'opts' (field 'leeway': must be a number of seconds >= 0)"
    );
    assert_eq!(
        error(verify(
            &token,
            Value::from("k"),
            table(vec![("aud", Value::Int(1))])
        )),
        "bad argument #3 'opts' (field 'aud': string or list of strings expected, got number)"
    );
}
