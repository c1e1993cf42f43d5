//! JWT keys: a shared secret, or a PEM key whose type decides which algorithms it may be used
//! with. Anything holding a PEM block is parsed as PEM, and other public-key forms are refused,
//! so a public key never doubles as an HMAC secret (the algorithm-confusion attack).
//!
//! Text that looks like a PEM key but is not one that parses (its `-----BEGIN` line mangled,
//! its line breaks escaped as `\n` by an environment variable or a JSON file, or only its
//! base64 body) is refused too, saying it looks like a PEM key: it is a key that lost its
//! shape on the way, and taking it for an HMAC secret would sign tokens nobody can verify (or,
//! for a public key, that anyone can forge). No real secret looks like that, so there is no
//! way to force one through.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};

use super::der::{self, BIT_STRING, CONTEXT_0, INTEGER, OCTET_STRING, OID, SEQUENCE, Tlv};

const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
const ED25519: &[u8] = &[0x2b, 0x65, 0x70];

/// What a key is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyType {
    Secret,
    Rsa,
    P256,
    P384,
    Ed25519,
}

impl KeyType {
    /// The algorithms this key may sign or verify.
    pub fn algorithms(self) -> &'static [Algorithm] {
        use Algorithm::*;
        match self {
            KeyType::Secret => &[HS256, HS384, HS512],
            KeyType::Rsa => &[RS256, RS384, RS512, PS256, PS384, PS512],
            KeyType::P256 => &[ES256],
            KeyType::P384 => &[ES384],
            KeyType::Ed25519 => &[EdDSA],
        }
    }

    fn name(self) -> &'static str {
        match self {
            KeyType::Secret => "shared secret",
            KeyType::Rsa => "RSA",
            KeyType::P256 => "EC P-256",
            KeyType::P384 => "EC P-384",
            KeyType::Ed25519 => "Ed25519",
        }
    }
}

/// A parsed key: its type, whether it is private, and the bytes jsonwebtoken takes for it
/// (the secret; PKCS#1 DER for RSA; PKCS#8 DER for private EC and Ed25519 keys; the raw
/// public point or key for public EC and Ed25519 keys).
pub struct Key {
    pub kind: KeyType,
    pub private: bool,
    material: Vec<u8>,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Key {
    /// A PEM key (RSA, EC P-256/P-384 or Ed25519; PKCS#8, SPKI, PKCS#1, SEC1 or an X.509
    /// certificate), or else a shared secret. The error says what is wrong with the key.
    pub fn parse(bytes: &[u8]) -> Result<Key, String> {
        if !bytes.windows(10).any(|w| w == b"-----BEGIN") {
            return secret(bytes);
        }
        let pem =
            pem::parse(bytes).map_err(|e| match super::lookalike::escaped_newlines(bytes) {
                true => {
                    "the key looks like a PEM key whose line breaks are the two characters \\n \
                     (escaped, as in an environment variable or a JSON string): turn them back \
                     into line breaks, e.g. key:gsub(\"\\\\n\", \"\\n\")"
                        .to_owned()
                }
                false => format!("not a valid PEM key: {e}"),
            })?;
        let der = pem.contents();
        let malformed = || format!("malformed {} PEM", pem.tag());
        match pem.tag() {
            "PUBLIC KEY" => public_key_info(der).ok_or_else(malformed)?,
            "PRIVATE KEY" => private_key_info(der).ok_or_else(malformed)?,
            "CERTIFICATE" => certificate(der).ok_or_else(malformed)?,
            "RSA PUBLIC KEY" => rsa_public(der).ok_or_else(malformed)?,
            "RSA PRIVATE KEY" => Ok(Key {
                kind: KeyType::Rsa,
                private: true,
                material: der.to_vec(),
            }),
            "EC PRIVATE KEY" => sec1(der).ok_or_else(malformed)?,
            "ENCRYPTED PRIVATE KEY" => {
                Err("encrypted private keys are not supported; decrypt it with openssl pkey".into())
            }
            other => Err(format!("unsupported PEM type '{other}'")),
        }
    }

    /// "an RSA public key", "a shared secret", ...
    pub fn describe(&self) -> String {
        match self.kind {
            KeyType::Secret => "a shared secret".into(),
            // RSA, EC and Ed25519 all take "an".
            kind => {
                let half = if self.private { "private" } else { "public" };
                format!("an {} {half} key", kind.name())
            }
        }
    }

    /// Why `alg` cannot be used with this key, if it cannot, and which algorithms it takes.
    pub fn refuses(&self, alg: Algorithm) -> Option<String> {
        if self.kind.algorithms().contains(&alg) {
            return None;
        }
        let name = super::alg_name(alg);
        let fitting = super::alg_list(self.kind.algorithms());
        let described = self.describe();
        Some(match self.kind {
            KeyType::Secret => format!(
                "{name} cannot be used with a shared secret ({name} takes a PEM key; a secret \
                 takes {fitting})"
            ),
            _ if KeyType::Secret.algorithms().contains(&alg) => format!(
                "{name} cannot be used with {described}: {name} takes a shared secret, and a \
                 PEM key is never used as one (this key takes {fitting})"
            ),
            _ => format!("{name} cannot be used with {described} (this key takes {fitting})"),
        })
    }

    /// The key for signing; the caller has checked that it fits the algorithm.
    pub fn encoding_key(&self) -> Result<EncodingKey, String> {
        match (self.kind, self.private) {
            (KeyType::Secret, _) => Ok(EncodingKey::from_secret(&self.material)),
            (_, false) => Err(format!(
                "signing needs a private key, got {}",
                self.describe()
            )),
            (KeyType::Rsa, true) => Ok(EncodingKey::from_rsa_der(&self.material)),
            (KeyType::P256 | KeyType::P384, true) => Ok(EncodingKey::from_ec_der(&self.material)),
            (KeyType::Ed25519, true) => Ok(EncodingKey::from_ed_der(&self.material)),
        }
    }

    /// The key for verifying: a secret or a public key.
    pub fn decoding_key(&self) -> Result<DecodingKey, String> {
        match (self.kind, self.private) {
            (KeyType::Secret, _) => Ok(DecodingKey::from_secret(&self.material)),
            (_, true) => Err(format!(
                "verifying needs a public key, got {}",
                self.describe()
            )),
            (KeyType::Rsa, false) => Ok(DecodingKey::from_rsa_der(&self.material)),
            (KeyType::P256 | KeyType::P384, false) => Ok(DecodingKey::from_ec_der(&self.material)),
            (KeyType::Ed25519, false) => Ok(DecodingKey::from_ed_der(&self.material)),
        }
    }
}

/// A shared secret, unless it is plainly a public key in another format: used as an HMAC
/// secret, a public key lets anyone forge tokens.
fn secret(bytes: &[u8]) -> Result<Key, String> {
    let text = bytes.trim_ascii();
    if text.is_empty() {
        return Err("the secret is empty".into());
    }
    if text.starts_with(b"{") && text.windows(5).any(|w| w == b"\"kty\"") {
        return Err("JWK keys are not supported; pass a PEM key or a shared secret".into());
    }
    if text.starts_with(b"ssh-") || text.starts_with(b"ecdsa-sha2-") {
        return Err(
            "OpenSSH keys are not supported; convert to PEM with ssh-keygen -e -m PKCS8".into(),
        );
    }
    if is_der_key(bytes) {
        return Err(
            "DER keys are not supported; PEM-encode it with openssl pkey -inform DER".into(),
        );
    }
    if let Some(why) = super::lookalike::pem_lookalike(text, is_der_key) {
        return Err(why);
    }
    Ok(Key {
        kind: KeyType::Secret,
        private: true,
        material: bytes.to_vec(),
    })
}

/// Whether `der` is a key or certificate in one of the DER forms a PEM block may hold.
fn is_der_key(der: &[u8]) -> bool {
    public_key_info(der).is_some()
        || private_key_info(der).is_some()
        || certificate(der).is_some()
        || sec1(der).is_some()
        || rsa_public(der).is_some()
        || rsa_private(der)
}

/// PKCS#1 RSAPrivateKey: version, modulus, exponents, primes and coefficient, all integers.
fn rsa_private(der: &[u8]) -> bool {
    sequence(der).is_some_and(|parts| parts.len() >= 9 && parts.iter().all(|t| t.tag == INTEGER))
}

/// Parse results: `None` is malformed DER, `Some(Err)` an unsupported key.
type Parsed = Option<Result<Key, String>>;

fn sequence(input: &[u8]) -> Option<Vec<Tlv<'_>>> {
    let tlv = der::single(input)?;
    (tlv.tag == SEQUENCE).then_some(())?;
    der::children(tlv.content)
}

/// The key type an AlgorithmIdentifier names.
fn key_type(alg_id: &Tlv<'_>) -> Option<Result<KeyType, String>> {
    (alg_id.tag == SEQUENCE).then_some(())?;
    let parts = der::children(alg_id.content)?;
    let oid = parts.first().filter(|t| t.tag == OID)?.content;
    let param = parts.get(1).filter(|t| t.tag == OID).map(|t| t.content);
    Some(match oid {
        RSA_ENCRYPTION => Ok(KeyType::Rsa),
        ED25519 => Ok(KeyType::Ed25519),
        EC_PUBLIC_KEY => curve(param),
        _ => Err("unsupported key algorithm (RSA, EC P-256/P-384 or Ed25519 expected)".into()),
    })
}

fn curve(oid: Option<&[u8]>) -> Result<KeyType, String> {
    match oid {
        Some(P256) => Ok(KeyType::P256),
        Some(P384) => Ok(KeyType::P384),
        _ => Err("unsupported EC curve (P-256 or P-384 expected)".into()),
    }
}

/// PKCS#1 RSAPublicKey (`BEGIN RSA PUBLIC KEY`, or inside SPKI): modulus and exponent.
fn rsa_public(der: &[u8]) -> Parsed {
    let parts = sequence(der)?;
    (parts.len() == 2 && parts.iter().all(|t| t.tag == INTEGER)).then_some(())?;
    Some(Ok(Key {
        kind: KeyType::Rsa,
        private: false,
        material: der.to_vec(),
    }))
}

/// SubjectPublicKeyInfo (`BEGIN PUBLIC KEY`).
fn public_key_info(der: &[u8]) -> Parsed {
    let parts = sequence(der)?;
    let kind = match key_type(parts.first()?)? {
        Ok(kind) => kind,
        Err(e) => return Some(Err(e)),
    };
    let bits = parts.get(1).filter(|t| t.tag == BIT_STRING)?.content;
    let key = bits.strip_prefix(&[0])?;
    match kind {
        KeyType::Rsa => return rsa_public(key),
        KeyType::Ed25519 if key.len() != 32 => return None,
        _ => {}
    }
    Some(Ok(Key {
        kind,
        private: false,
        material: key.to_vec(),
    }))
}

/// PKCS#8 PrivateKeyInfo (`BEGIN PRIVATE KEY`).
fn private_key_info(der: &[u8]) -> Parsed {
    let parts = sequence(der)?;
    (parts.first()?.tag == INTEGER).then_some(())?;
    let kind = match key_type(parts.get(1)?)? {
        Ok(kind) => kind,
        Err(e) => return Some(Err(e)),
    };
    let inner = parts.get(2).filter(|t| t.tag == OCTET_STRING)?.content;
    // jsonwebtoken takes PKCS#1 for RSA, the whole PKCS#8 for the others.
    let material = if kind == KeyType::Rsa { inner } else { der };
    Some(Ok(Key {
        kind,
        private: true,
        material: material.to_vec(),
    }))
}

/// SEC1 ECPrivateKey (`BEGIN EC PRIVATE KEY`), rewrapped as PKCS#8.
fn sec1(der: &[u8]) -> Parsed {
    let parts = sequence(der)?;
    let params = parts.iter().find(|t| t.tag == CONTEXT_0)?;
    let oid = der::single(params.content)
        .filter(|t| t.tag == OID)?
        .content;
    let kind = match curve(Some(oid)) {
        Ok(kind) => kind,
        Err(e) => return Some(Err(e)),
    };
    let alg_id = der::write(
        SEQUENCE,
        &[der::write(OID, EC_PUBLIC_KEY), der::write(OID, oid)].concat(),
    );
    let pkcs8 = der::write(
        SEQUENCE,
        &[
            der::write(INTEGER, &[0]),
            alg_id,
            der::write(OCTET_STRING, der),
        ]
        .concat(),
    );
    Some(Ok(Key {
        kind,
        private: true,
        material: pkcs8,
    }))
}

/// An X.509 certificate: its subject's public key (the certificate itself is not checked).
fn certificate(der: &[u8]) -> Parsed {
    let outer = sequence(der)?;
    let tbs = outer.first().filter(|t| t.tag == SEQUENCE)?;
    let fields = der::children(tbs.content)?;
    // version [0] (optional), serial, signature, issuer, validity, subject, subjectPublicKeyInfo
    let skip = usize::from(fields.first()?.tag == CONTEXT_0);
    let spki = fields.get(skip + 5).filter(|t| t.tag == SEQUENCE)?;
    public_key_info(&der::write(SEQUENCE, spki.content))
}
