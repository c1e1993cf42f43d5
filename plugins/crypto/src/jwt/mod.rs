//! JSON Web Tokens (RFC 7519) signed as JWS compact serialization (RFC 7515): `jwt_sign`,
//! `jwt_verify`, `jwt_decode`. Signatures come from jsonwebtoken's RustCrypto backend; the
//! header, claims and their checks are done here, so every failure can say why.

pub mod claims;
pub mod decode;
mod der;
pub mod keys;
mod lookalike;
pub mod sign;
pub mod verify;

use assay_sdk::{Error, Result};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use serde_json::{Map, Value as Json};

const ALGORITHMS: [(&str, Algorithm); 12] = [
    ("HS256", Algorithm::HS256),
    ("HS384", Algorithm::HS384),
    ("HS512", Algorithm::HS512),
    ("RS256", Algorithm::RS256),
    ("RS384", Algorithm::RS384),
    ("RS512", Algorithm::RS512),
    ("PS256", Algorithm::PS256),
    ("PS384", Algorithm::PS384),
    ("PS512", Algorithm::PS512),
    ("ES256", Algorithm::ES256),
    ("ES384", Algorithm::ES384),
    ("EdDSA", Algorithm::EdDSA),
];

/// The JWS name of an algorithm.
pub fn alg_name(alg: Algorithm) -> &'static str {
    ALGORITHMS
        .iter()
        .find(|(_, a)| *a == alg)
        .map_or("unknown", |(name, _)| name)
}

/// The algorithm with JWS name `name` (exact: names are case-sensitive in JWS).
pub fn parse_alg(name: &str) -> Option<Algorithm> {
    ALGORITHMS.iter().find(|(n, _)| *n == name).map(|(_, a)| *a)
}

/// "HS256, HS384, HS512".
pub(crate) fn alg_list(algs: &[Algorithm]) -> String {
    algs.iter()
        .map(|a| alg_name(*a))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Text listing every supported algorithm, for messages.
pub(crate) fn known_algs() -> String {
    ALGORITHMS
        .iter()
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn b64_encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A token split into its parts, header and claims parsed.
pub(crate) struct Token<'a> {
    /// `header.claims`, the signed bytes.
    pub signed: &'a str,
    pub signature: &'a str,
    pub header: Map<String, Json>,
    pub claims: Map<String, Json>,
}

fn malformed(why: impl std::fmt::Display) -> Error {
    Error::new(format!("malformed token: {why}"))
}

fn json_object(part: &str, what: &str) -> Result<Map<String, Json>> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| malformed(format!("the {what} is not base64url")))?;
    match serde_json::from_slice(&bytes) {
        Ok(Json::Object(map)) => Ok(map),
        Ok(_) => Err(malformed(format!("the {what} is not a JSON object"))),
        Err(e) => Err(malformed(format!("the {what} is not JSON ({e})"))),
    }
}

impl<'a> Token<'a> {
    /// Splits `header.claims.signature` (surrounding whitespace ignored).
    pub fn parse(token: &'a str) -> Result<Self> {
        let token = token.trim();
        let (signed, signature) = token
            .rsplit_once('.')
            .ok_or_else(|| malformed("expected three parts separated by dots"))?;
        let (header, claims) = signed
            .split_once('.')
            .filter(|(_, claims)| !claims.contains('.'))
            .ok_or_else(|| malformed("expected three parts separated by dots"))?;
        Ok(Token {
            signed,
            signature,
            header: json_object(header, "header")?,
            claims: json_object(claims, "payload")?,
        })
    }

    /// Fails unless the signature part is base64url (jsonwebtoken would call it a bad signature).
    pub fn check_signature_encoding(&self) -> Result<()> {
        match URL_SAFE_NO_PAD.decode(self.signature) {
            Ok(_) => Ok(()),
            Err(_) => Err(malformed("the signature is not base64url")),
        }
    }

    /// The header's `alg`, as written.
    pub fn alg(&self) -> Result<&str> {
        match self.header.get("alg") {
            Some(Json::String(name)) => Ok(name),
            Some(_) => Err(malformed("the header's alg is not a string")),
            None => Err(malformed("the header has no alg")),
        }
    }
}
