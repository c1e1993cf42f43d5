//! Key formats: PKCS#1, SEC1 and certificates work; public keys in forms that are not PEM
//! are refused rather than taken for secrets; the default algorithm follows the key.

use assay_sdk::Value;

use crate::jwt::{decode, field, forge, hs, sample_claims, sign, verify};
use crate::{error, key, table};

#[test]
fn rsa_keys_in_other_formats() {
    let token = sign(
        sample_claims(),
        key("rsa-private-pkcs1.pem"),
        table(vec![("alg", "RS256".into())]),
    );
    for public in ["rsa-public.pem", "rsa-public-pkcs1.pem", "rsa-cert.pem"] {
        verify(&token, key(public), Value::Nil).unwrap_or_else(|e| panic!("{public}: {e}"));
    }
}

#[test]
fn the_default_algorithm_follows_the_key() {
    for (file, alg) in [
        ("rsa-private.pem", "RS256"),
        ("ec256-private.pem", "ES256"),
        ("ec384-private.pem", "ES384"),
        ("ed25519-private.pem", "EdDSA"),
    ] {
        let token = sign(sample_claims(), key(file), Value::Nil);
        assert_eq!(
            field(field(&decode(&token), "header"), "alg"),
            &Value::from(alg),
            "{file}"
        );
    }
    let token = sign(sample_claims(), Value::from("secret"), Value::Nil);
    assert_eq!(
        field(field(&decode(&token), "header"), "alg"),
        &Value::from("HS256")
    );
}

#[test]
fn public_keys_in_other_forms_are_never_secrets() {
    let token = hs(table(vec![]));
    let refused_key = |k: Value| error(verify(&token, k, Value::Nil));
    // text before the PEM block does not turn it into a secret
    let mut with_preamble = b"Bag Attributes\n    friendlyName: test\n".to_vec();
    with_preamble.extend(key("rsa-public.pem").as_bytes().expect("pem"));
    let pem = Value::from(with_preamble.clone());
    let forged = forge(r#"{"alg":"HS256"}"#, "{}", &with_preamble);
    assert!(error(verify(&forged, pem, Value::Nil)).starts_with("algorithm not allowed: HS256"));
    assert_eq!(
        refused_key(Value::from(r#"{"kty":"RSA","n":"AQAB","e":"AQAB"}"#)),
        "bad argument #2 'key' (JWK keys are not supported; pass a PEM key or a shared secret)"
    );
    assert_eq!(
        refused_key(Value::from(
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB user@host"
        )),
        "bad argument #2 'key' (OpenSSH keys are not supported; convert to PEM with ssh-keygen -e -m PKCS8)"
    );
    let der = pem::parse(key("ed25519-public.pem").as_bytes().expect("pem"))
        .expect("pem")
        .into_contents();
    assert_eq!(
        refused_key(Value::from(der)),
        "bad argument #2 'key' (DER keys are not supported; PEM-encode it with openssl pkey -inform DER)"
    );
    assert_eq!(
        refused_key(Value::from("  ")),
        "bad argument #2 'key' (the secret is empty)"
    );
    // a PEM whose RSA key is not modulus and exponent
    let bad_rsa = "-----BEGIN RSA PUBLIC KEY-----\nMAMCAQE=\n-----END RSA PUBLIC KEY-----\n";
    assert_eq!(
        refused_key(Value::from(bad_rsa)),
        "bad argument #2 'key' (malformed RSA PUBLIC KEY PEM)"
    );
    let other = "-----BEGIN DH PARAMETERS-----\nMAMCAQE=\n-----END DH PARAMETERS-----\n";
    assert_eq!(
        refused_key(Value::from(other)),
        "bad argument #2 'key' (unsupported PEM type 'DH PARAMETERS')"
    );
}
