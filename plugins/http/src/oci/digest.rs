//! Content digests (`sha256:<64 hex>`, `sha512:<128 hex>`): parsing, and hashing data as it
//! streams by so it can be checked against the digest it was asked for.
//!
//! Only the algorithms the OCI image spec registers are accepted; anything else is an error,
//! never data taken unverified.

use sha2::Digest as _;

/// A parsed digest: algorithm and lower-case hex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Digest {
    algorithm: Algorithm,
    hex: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Algorithm {
    Sha256,
    Sha512,
}

impl Digest {
    pub(crate) fn parse(text: &str) -> Result<Digest, String> {
        let (name, hex) = text
            .split_once(':')
            .ok_or_else(|| format!("digest '{text}': expected <algorithm>:<hex>"))?;
        let (algorithm, len) = match name {
            "sha256" => (Algorithm::Sha256, 64),
            "sha512" => (Algorithm::Sha512, 128),
            other => {
                return Err(format!(
                    "digest '{text}': unsupported algorithm '{other}' (sha256 or sha512)"
                ));
            }
        };
        if hex.len() != len || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(format!(
                "digest '{text}': {name} takes {len} lower-case hex digits"
            ));
        }
        Ok(Digest {
            algorithm,
            hex: hex.to_owned(),
        })
    }

    /// The sha256 digest of `data`.
    pub(crate) fn sha256_of(data: &[u8]) -> Digest {
        Digest {
            algorithm: Algorithm::Sha256,
            hex: to_hex(&sha2::Sha256::digest(data)),
        }
    }

    /// A hasher for this digest's algorithm.
    pub(crate) fn hasher(&self) -> Hasher {
        match self.algorithm {
            Algorithm::Sha256 => Hasher::Sha256(sha2::Sha256::new()),
            Algorithm::Sha512 => Hasher::Sha512(sha2::Sha512::new()),
        }
    }
}

impl std::fmt::Display for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self.algorithm {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        };
        write!(f, "{name}:{}", self.hex)
    }
}

/// Hashes data chunk by chunk.
pub(crate) enum Hasher {
    Sha256(sha2::Sha256),
    Sha512(sha2::Sha512),
}

impl Hasher {
    pub(crate) fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Sha256(h) => h.update(data),
            Hasher::Sha512(h) => h.update(data),
        }
    }

    pub(crate) fn finish(self) -> Digest {
        match self {
            Hasher::Sha256(h) => Digest {
                algorithm: Algorithm::Sha256,
                hex: to_hex(&h.finalize()),
            },
            Hasher::Sha512(h) => Digest {
                algorithm: Algorithm::Sha512,
                hex: to_hex(&h.finalize()),
            },
        }
    }
}

fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_known_data() {
        assert_eq!(
            Digest::sha256_of(b"{}").to_string(),
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
        let d = Digest::parse(&Digest::sha256_of(b"abc").to_string()).expect("parse");
        let mut h = d.hasher();
        h.update(b"a");
        h.update(b"bc");
        assert_eq!(h.finish(), d);
    }

    #[test]
    fn only_registered_algorithms() {
        assert!(
            Digest::parse("md5:abc")
                .expect_err("md5")
                .contains("unsupported algorithm 'md5'")
        );
        assert!(
            Digest::parse("sha256:ABC")
                .expect_err("short")
                .contains("64 lower-case hex")
        );
        assert!(Digest::parse(&format!("sha512:{}", "0".repeat(128))).is_ok());
    }
}
