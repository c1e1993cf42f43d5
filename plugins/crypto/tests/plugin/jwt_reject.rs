//! Tokens `jwt_verify` must refuse, and the reason it gives.

use assay_sdk::Value;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::jwt::{ASYMMETRIC, forge, hs, sign, verify};
use crate::{error, key, now, table};

fn refused(token: &str, key: Value, opts: Value) -> String {
    error(verify(token, key, opts))
}

#[test]
fn expired_and_not_yet_valid() {
    let exp = now() - 10;
    let message = refused(
        &hs(table(vec![("exp", Value::Int(exp))])),
        Value::from("k"),
        Value::Nil,
    );
    assert!(
        message.starts_with(&format!("token expired (exp {exp}, now ")),
        "{message}"
    );
    let leeway = table(vec![("leeway", Value::Int(5))]);
    assert!(
        refused(
            &hs(table(vec![("exp", Value::Int(exp))])),
            Value::from("k"),
            leeway
        )
        .contains("leeway 5s")
    );
    let nbf = now() + 100;
    let message = refused(
        &hs(table(vec![("nbf", Value::Int(nbf))])),
        Value::from("k"),
        Value::Nil,
    );
    assert!(
        message.starts_with(&format!("token not yet valid (nbf {nbf}, now ")),
        "{message}"
    );
    let bad_exp = hs(table(vec![("exp", "tomorrow".into())]));
    assert_eq!(
        refused(&bad_exp, Value::from("k"), Value::Nil),
        "malformed token: the exp claim is not a number"
    );
}

#[test]
fn wrong_audience_and_issuer() {
    let token = hs(table(vec![("aud", "api".into()), ("iss", "auth".into())]));
    let k = || Value::from("k");
    assert_eq!(
        refused(
            &token,
            k(),
            table(vec![("aud", "web".into()), ("iss", "auth".into())])
        ),
        "wrong audience: 'api', expected 'web'"
    );
    assert_eq!(
        refused(
            &token,
            k(),
            table(vec![("aud", "api".into()), ("iss", "evil".into())])
        ),
        "wrong issuer: 'auth', expected 'evil'"
    );
    assert_eq!(
        refused(&token, k(), Value::Nil),
        "wrong audience: the token is for 'api' and no aud was given to accept it"
    );
    let bare = hs(table(vec![("sub", "x".into())]));
    assert_eq!(
        refused(&bare, k(), table(vec![("aud", "api".into())])),
        "wrong audience: the token has no aud, expected 'api'"
    );
    assert_eq!(
        refused(
            &bare,
            k(),
            table(vec![(
                "iss",
                Value::from(vec![Value::from("a"), Value::from("b")])
            )])
        ),
        "wrong issuer: the token has no iss, expected 'a' or 'b'"
    );
}

#[test]
fn wrong_key() {
    assert_eq!(
        refused(&hs(table(vec![])), Value::from("other"), Value::Nil),
        "bad signature"
    );
    let rs = sign(table(vec![]), key("rsa-private.pem"), Value::Nil);
    assert_eq!(
        refused(&rs, key("rsa-other-public.pem"), Value::Nil),
        "bad signature"
    );
    let es = sign(table(vec![]), key("ec256-private.pem"), Value::Nil);
    assert_eq!(
        refused(&es, key("ec384-public.pem"), Value::Nil),
        "algorithm not allowed: ES256 (allowed: ES384)"
    );
}

#[test]
fn tampered_payload_fails_for_every_algorithm() {
    let claims = || table(vec![("role", "user".into())]);
    let mut tokens = vec![(hs(claims()), Value::from("k"))];
    for (alg, private, public) in ASYMMETRIC {
        tokens.push((
            sign(claims(), key(private), table(vec![("alg", alg.into())])),
            key(public),
        ));
    }
    let evil = URL_SAFE_NO_PAD.encode(r#"{"role":"admin"}"#);
    for (token, public) in tokens {
        let parts: Vec<&str> = token.split('.').collect();
        let tampered = format!("{}.{evil}.{}", parts[0], parts[2]);
        assert_eq!(
            refused(&tampered, public, Value::Nil),
            "bad signature",
            "{}",
            parts[0]
        );
    }
}

#[test]
fn algorithm_not_in_algs() {
    let token = sign(
        table(vec![]),
        Value::from("k"),
        table(vec![("alg", "HS512".into())]),
    );
    let only = table(vec![(
        "algs",
        Value::from(vec![Value::from("HS256"), Value::from("HS384")]),
    )]);
    assert_eq!(
        refused(&token, Value::from("k"), only),
        "algorithm not allowed: HS512 (allowed: HS256, HS384)"
    );
    let rs = sign(
        table(vec![]),
        key("rsa-private.pem"),
        table(vec![("alg", "RS256".into())]),
    );
    assert_eq!(
        refused(
            &rs,
            key("rsa-public.pem"),
            table(vec![("algs", "PS256".into())])
        ),
        "algorithm not allowed: RS256 (allowed: PS256)"
    );
}

#[test]
fn algorithm_confusion_is_refused() {
    let public = key("rsa-public.pem");
    let pem = public.as_bytes().expect("pem").to_vec();
    let token = forge(r#"{"alg":"HS256","typ":"JWT"}"#, r#"{"sub":"admin"}"#, &pem);
    assert_eq!(
        refused(&token, public.clone(), Value::Nil),
        "algorithm not allowed: HS256 (allowed: RS256, RS384, RS512, PS256, PS384, PS512)"
    );
    // listing HS256 does not make the PEM a secret
    assert_eq!(
        refused(
            &token,
            public,
            table(vec![(
                "algs",
                Value::from(vec![Value::from("HS256"), Value::from("RS256")])
            )])
        ),
        "algorithm not allowed: HS256 cannot be used with an RSA public key: HS256 takes a \
         shared secret, and a PEM key is never used as one (this key takes RS256, RS384, RS512, \
         PS256, PS384, PS512)"
    );
    // the same with the certificate and with EC and Ed25519 keys
    for file in ["rsa-cert.pem", "ec256-public.pem", "ed25519-public.pem"] {
        let pem = key(file).as_bytes().expect("pem").to_vec();
        let token = forge(r#"{"alg":"HS256"}"#, "{}", &pem);
        assert!(
            refused(&token, key(file), Value::Nil).starts_with("algorithm not allowed: HS256"),
            "{file}"
        );
    }
}

#[test]
fn alg_none_and_unknown_algorithms() {
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
        URL_SAFE_NO_PAD.encode("{}")
    );
    assert_eq!(
        refused(&none, Value::from("k"), Value::Nil),
        "algorithm not allowed: none (allowed: HS256, HS384, HS512)"
    );
    let token = forge(r#"{"alg":"HS256","crit":["exp"]}"#, "{}", b"k");
    assert_eq!(
        refused(&token, Value::from("k"), Value::Nil),
        r#"unsupported critical header parameters: ["exp"]"#
    );
}

#[test]
fn malformed_tokens() {
    let k = || Value::from("k");
    assert_eq!(
        refused("abc", k(), Value::Nil),
        "malformed token: expected three parts separated by dots"
    );
    assert_eq!(
        refused("a.b.c.d", k(), Value::Nil),
        "malformed token: expected three parts separated by dots"
    );
    assert_eq!(
        refused("!!.e30.sig", k(), Value::Nil),
        "malformed token: the header is not base64url"
    );
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256"}"#);
    assert_eq!(
        refused(&format!("{header}.W10.x"), k(), Value::Nil),
        "malformed token: the payload is not a JSON object"
    );
    assert_eq!(
        refused(
            &format!("{}.e30.x", URL_SAFE_NO_PAD.encode(r#"{"typ":"JWT"}"#)),
            k(),
            Value::Nil
        ),
        "malformed token: the header has no alg"
    );
    assert_eq!(
        refused(&format!("{header}.e30.a=b"), k(), Value::Nil),
        "malformed token: the signature is not base64url"
    );
}
