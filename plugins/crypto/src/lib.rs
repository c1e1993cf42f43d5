//! The `crypto` plugin: digests, HMAC, random bytes and JSON Web Tokens for Assay scripts.
//!
//! ```lua
//! crypto.hash("abc")                               --> sha256, hex
//! crypto.hash(data, "sha3-512", {encoding = "base64"})
//! crypto.hmac(key, data, "sha512", {encoding = "raw"})
//! crypto.hash("abc", "md5")                        --> checksums and legacy protocols only
//! crypto.hash_file("/tmp/image.iso", "sha256")    --> read in 256 KiB chunks, async
//! crypto.equal(given_signature, expected)          --> constant-time comparison
//! crypto.random(32)                                --> 64 hex digits from the OS CSPRNG
//! local token = crypto.jwt_sign({sub = "ci", exp = os.time() + 60}, pem, {alg = "ES256", kid = "k1"})
//! local claims = crypto.jwt_verify(token, public_pem, {aud = "api", iss = "auth", leeway = 5})
//! crypto.jwt_decode(token).header.kid             --> "k1" (nothing verified)
//! ```
//!
//! Strings are byte strings; digests come back as lower-case hex unless `opts.encoding` is
//! "base64" or "raw". JWT keys are PEM (RSA, EC P-256/P-384, Ed25519) or a shared secret;
//! without `opts.algs`, `jwt_verify` accepts only the algorithms of the key's type.

pub mod encoding;
pub mod equal;
pub mod hash;
pub mod hash_file;
pub mod hmac;
pub mod jwt;
pub mod random;

/// Registers the `crypto` global. Everything is quick and CPU-bound, so all functions are sync
/// but `hash_file`, whose reading may take minutes and runs while the script goes on.
pub fn register(plugin: &mut assay_sdk::Plugin) {
    plugin
        .global("crypto")
        .function("hash", hash::hash)
        .async_function("hash_file", hash_file::hash_file)
        .function("equal", equal::equal)
        .function("hmac", hmac::hmac)
        .function("random", random::random)
        .function("jwt_sign", jwt::sign::jwt_sign)
        .function("jwt_verify", jwt::verify::jwt_verify)
        .function("jwt_decode", jwt::decode::jwt_decode);
}

assay_sdk::plugin!(register);
