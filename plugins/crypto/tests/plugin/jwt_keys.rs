//! Key formats: PKCS#1, SEC1 and certificates work; public keys in forms that are not PEM
//! are refused rather than taken for secrets; the default algorithm follows the key.

use assay_sdk::Value;

use crate::jwt::{decode, field, forge, hs, sample_claims, sign, verify};
use crate::{call, error, key, table};

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

/// A key that lost its PEM shape on the way (its armor lines mangled or dropped, its line
/// breaks escaped) is refused as looking like a PEM key, for signing and verifying alike: it
/// is never taken for an HMAC secret.
#[test]
fn pem_lookalikes_are_never_secrets() {
    let sign_err = |k: Value, opts: Value| {
        error(call(
            assay_plugin_crypto::jwt::sign::jwt_sign,
            vec![sample_claims(), k, opts],
        ))
    };
    let hs256 = || table(vec![("alg", "HS256".into())]);
    let pem =
        String::from_utf8(key("rsa-private.pem").as_bytes().expect("pem").to_vec()).expect("utf-8");
    let body: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .join("\n");

    // four dashes instead of five
    let four = pem.replace("-----", "----");
    let why = sign_err(Value::from(four.as_str()), hs256());
    assert_eq!(
        why,
        "bad argument #2 'key' (the key looks like a PEM key, but '----BEGIN PRIVATE KEY----' \
         is not PEM's '-----BEGIN <type>-----' line (exactly five dashes each side, the key on \
         the lines after it); a PEM-looking text is never used as an HMAC secret)"
    );
    // all on one line, as an environment variable may flatten it: still the key
    let one_line = pem.replace('\n', " ");
    let token = sign(table(vec![]), Value::from(one_line.as_str()), Value::Nil);
    assert_eq!(
        field(field(&decode(&token), "header"), "alg"),
        &Value::from("RS256")
    );
    // the base64 body alone, with or without its line breaks, of a private or a public key
    let public_body: String =
        String::from_utf8(key("ec256-public.pem").as_bytes().expect("pem").to_vec())
            .expect("utf-8")
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
    for lookalike in [body.clone(), body.replace('\n', ""), public_body] {
        let why = sign_err(Value::from(lookalike.as_str()), Value::Nil);
        assert!(
            why.starts_with(
                "bad argument #2 'key' (the key looks like the base64 body of a PEM key without \
                 its -----BEGIN and -----END lines"
            ),
            "{why}"
        );
        let token = forge(r#"{"alg":"HS256"}"#, "{}", lookalike.as_bytes());
        let refused = error(verify(&token, Value::from(lookalike.as_str()), Value::Nil));
        assert!(
            refused.contains("looks like the base64 body of a PEM key"),
            "{refused}"
        );
    }
    // line breaks escaped as the two characters \n (an environment variable, a JSON string)
    let escaped = pem.replace('\n', "\\n");
    assert_eq!(
        sign_err(Value::from(escaped.as_str()), Value::Nil),
        "bad argument #2 'key' (the key looks like a PEM key whose line breaks are the two \
         characters \\n (escaped, as in an environment variable or a JSON string): turn them \
         back into line breaks, e.g. key:gsub(\"\\\\n\", \"\\n\"))"
    );
    // a real PEM key with an HMAC algorithm says which algorithms it takes
    assert_eq!(
        sign_err(Value::from(pem.as_str()), hs256()),
        "bad argument #2 'key' (HS256 cannot be used with an RSA private key: HS256 takes a \
         shared secret, and a PEM key is never used as one (this key takes RS256, RS384, RS512, \
         PS256, PS384, PS512))"
    );
    // secrets that merely contain the words, or are long base64 (`openssl rand -base64 48`)
    // without a key inside, stay secrets
    let long_base64 = "BwcH".repeat(16);
    for secret in [
        "begin private key",
        "my BEGIN of a KEY phrase",
        "c2VjcmV0IHRoYXQgaXMgYmFzZTY0",
        long_base64.as_str(),
    ] {
        let token = sign(table(vec![]), Value::from(secret), Value::Nil);
        verify(&token, Value::from(secret), Value::Nil).unwrap_or_else(|e| panic!("{secret}: {e}"));
    }
}
