//! JWT sign and verify round trips for every algorithm; decode; options. Helpers for the
//! other JWT tests.

use assay_plugin_crypto::hash::Algorithm;
use assay_plugin_crypto::hmac::compute;
use assay_plugin_crypto::jwt::decode::jwt_decode;
use assay_plugin_crypto::jwt::sign::jwt_sign;
use assay_plugin_crypto::jwt::verify::jwt_verify;
use assay_sdk::{Result, Value};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::{call, key, now, table, text};

pub fn sign(claims: Value, key: Value, opts: Value) -> String {
    text(&Value::from(
        call(jwt_sign, vec![claims, key, opts]).expect("jwt_sign"),
    ))
}

pub fn verify(token: &str, key: Value, opts: Value) -> Result<Value> {
    call(jwt_verify, vec![Value::from(token), key, opts])
}

pub fn field<'a>(v: &'a Value, name: &str) -> &'a Value {
    v.as_map().and_then(|m| m.get(name)).unwrap_or(&Value::Nil)
}

pub fn hs(claims: Value) -> String {
    sign(claims, Value::from("k"), Value::Nil)
}

/// A token with any header, HMAC-SHA256-signed with `secret` (what an attacker can make).
pub fn forge(header: &str, claims: &str, secret: &[u8]) -> String {
    let signed = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let mac = compute(Algorithm::Sha256, secret, signed.as_bytes()).expect("hmac");
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(mac))
}

pub fn decode(token: &str) -> Value {
    call(jwt_decode, vec![Value::from(token)]).expect("jwt_decode")
}

pub fn sample_claims() -> Value {
    table(vec![
        ("sub", "user-1".into()),
        ("exp", Value::Int(now() + 300)),
        (
            "roles",
            Value::from(vec![Value::from("admin"), Value::from("ops")]),
        ),
        ("n", Value::Float(1.5)),
        (
            "nested",
            table(vec![("ok", Value::Bool(true)), ("none", Value::Null)]),
        ),
    ])
}

/// (alg, private key file, public key file)
pub const ASYMMETRIC: [(&str, &str, &str); 10] = [
    ("RS256", "rsa-private.pem", "rsa-public.pem"),
    ("RS384", "rsa-private.pem", "rsa-public.pem"),
    ("RS512", "rsa-private.pem", "rsa-public.pem"),
    ("PS256", "rsa-private.pem", "rsa-public.pem"),
    ("PS384", "rsa-private.pem", "rsa-public.pem"),
    ("PS512", "rsa-private.pem", "rsa-public.pem"),
    ("ES256", "ec256-private.pem", "ec256-public.pem"),
    ("ES384", "ec384-private.pem", "ec384-public.pem"),
    ("EdDSA", "ed25519-private.pem", "ed25519-public.pem"),
    ("ES256", "ec256-private-sec1.pem", "ec256-public.pem"),
];

#[test]
fn every_algorithm_round_trips() {
    for alg in ["HS256", "HS384", "HS512"] {
        let token = sign(
            sample_claims(),
            Value::from("s3cret"),
            table(vec![("alg", alg.into())]),
        );
        let claims = verify(&token, Value::from("s3cret"), Value::Nil)
            .unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(field(&claims, "sub"), &Value::from("user-1"), "{alg}");
        assert_eq!(
            field(field(&decode(&token), "header"), "alg"),
            &Value::from(alg)
        );
    }
    for (alg, private, public) in ASYMMETRIC {
        let token = sign(
            sample_claims(),
            key(private),
            table(vec![("alg", alg.into())]),
        );
        let claims = verify(&token, key(public), Value::Nil)
            .unwrap_or_else(|e| panic!("{alg} ({private}): {e}"));
        assert_eq!(
            field(&claims, "roles"),
            &Value::from(vec![Value::from("admin"), Value::from("ops")])
        );
        assert_eq!(field(&claims, "n"), &Value::Float(1.5));
        assert_eq!(field(field(&claims, "nested"), "none"), &Value::Null);
        // the same token passes when its algorithm is listed explicitly
        let listed = table(vec![("algs", Value::from(vec![Value::from(alg)]))]);
        verify(&token, key(public), listed).unwrap_or_else(|e| panic!("{alg} listed: {e}"));
    }
}

#[test]
fn header_options_and_decode() {
    let opts = table(vec![
        ("alg", "HS384".into()),
        ("kid", "key-7".into()),
        (
            "header",
            table(vec![("typ", "at+jwt".into()), ("x5t", "abc".into())]),
        ),
    ]);
    let token = sign(
        table(vec![("iat", Value::Float(1700000000.75))]),
        Value::from("k"),
        opts,
    );
    let decoded = decode(&token);
    let header = field(&decoded, "header");
    assert_eq!(field(header, "alg"), &Value::from("HS384"));
    assert_eq!(field(header, "kid"), &Value::from("key-7"));
    assert_eq!(field(header, "typ"), &Value::from("at+jwt"));
    assert_eq!(field(header, "x5t"), &Value::from("abc"));
    // NumericDate claims are written as whole seconds
    assert_eq!(
        field(field(&decoded, "claims"), "iat"),
        &Value::Int(1700000000)
    );
    // typ defaults to JWT; an empty claims table is {}
    let plain = decode(&sign(
        Value::Array(Default::default()),
        Value::from("k"),
        Value::Nil,
    ));
    assert_eq!(field(field(&plain, "header"), "typ"), &Value::from("JWT"));
    assert!(
        field(&plain, "claims")
            .as_map()
            .is_some_and(|m| m.is_empty())
    );
    // decode does not check anything: an expired token with a bad signature still decodes
    let expired = sign(
        table(vec![("exp", Value::Int(1))]),
        Value::from("k"),
        Value::Nil,
    );
    let forged = format!("{}x", &expired[..expired.len() - 1]);
    assert_eq!(
        field(field(&decode(&forged), "claims"), "exp"),
        &Value::Int(1)
    );
}

#[test]
fn leeway_accepts_a_recently_expired_token() {
    let token = sign(
        table(vec![("exp", Value::Int(now() - 30))]),
        Value::from("k"),
        Value::Nil,
    );
    verify(
        &token,
        Value::from("k"),
        table(vec![("leeway", Value::Int(120))]),
    )
    .expect("within leeway");
    let early = sign(
        table(vec![("nbf", Value::Int(now() + 30))]),
        Value::from("k"),
        Value::Nil,
    );
    verify(
        &early,
        Value::from("k"),
        table(vec![("leeway", Value::Float(60.0))]),
    )
    .expect("within leeway");
}

#[test]
fn audience_and_issuer_match() {
    let claims = table(vec![
        (
            "aud",
            Value::from(vec![Value::from("api"), Value::from("web")]),
        ),
        ("iss", "https://auth.example".into()),
    ]);
    let token = sign(claims, Value::from("k"), Value::Nil);
    let opts = table(vec![
        ("aud", "web".into()),
        ("iss", "https://auth.example".into()),
    ]);
    verify(&token, Value::from("k"), opts).expect("aud and iss match");
    let lists = table(vec![
        (
            "aud",
            Value::from(vec![Value::from("other"), Value::from("api")]),
        ),
        (
            "iss",
            Value::from(vec![Value::from("x"), Value::from("https://auth.example")]),
        ),
    ]);
    verify(&token, Value::from("k"), lists).expect("any listed value matches");
}
