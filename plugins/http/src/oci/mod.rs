//! The `oci` global: a client for OCI distribution registries (push and pull artifacts, list
//! tags and repositories), on the `oci-client` crate over the plugin's reqwest and rustls.
//!
//! ```lua
//! local pushed = oci.push("ghcr.io/acme/pkgs/k8s:1.2.0", {
//!   artifact_type = "application/vnd.assay.package.v1",
//!   layers = {{path = "k8s-1.2.0.tar.gz", media_type = "application/vnd.assay.package.layer.v1.tar+gzip",
//!              annotations = {["org.opencontainers.image.title"] = "k8s-1.2.0.tar.gz"}}},
//!   annotations = {["org.opencontainers.image.version"] = "1.2.0"},
//! }, {auth = {user = "me", password = env.get("TOKEN")}})
//! print(pushed.digest)                      -- sha256:... of the manifest
//! local m, why = oci.manifest("ghcr.io/acme/pkgs/k8s:1.2.0")
//! if not m then error(why) end              -- why: "not found"
//! oci.blob("ghcr.io/acme/pkgs/k8s", m.layers[1].digest, {output = "/tmp/k8s.tar.gz"})
//! print(table.concat(oci.tags("ghcr.io/acme/pkgs/k8s"), " "))
//! ```
//!
//! The API (every function takes `opts` last; see [`options`] for the keys they share):
//! - `oci.push(ref, artifact, opts)` -> `{digest = <manifest digest>, url = <manifest URL>}`;
//!   see [`push`] for the artifact table.
//! - `oci.manifest(ref, opts)` -> `{digest, media_type, artifact_type, config = {digest,
//!   media_type, size}, layers = {{digest, media_type, size, annotations}...}, annotations}`
//!   (an index: `manifests` instead of `config`/`layers`), or `nil, "not found"` when the tag,
//!   digest or repository does not exist; see [`manifest`].
//! - `oci.blob(ref, digest, opts)` -> the blob as a string, or with `opts.output = path`
//!   `{bytes = n}`; the digest is always verified; see [`blob`].
//! - `oci.tags(ref, opts)` -> every tag of the repository (pages followed), or `nil, "not
//!   found"` when the repository does not exist; see [`listing`].
//! - `oci.catalog(registry, opts)` -> every repository name of the registry (`/v2/_catalog`,
//!   pages followed); a registry that refuses to list them raises.
//!
//! A `ref` is `host[:port]/repository[:tag|@digest]` ([`reference`]): the first component is
//! always the registry (unlike `docker pull`, no implicit `docker.io`), so a reference means
//! the same thing everywhere.
//!
//! Decisions, where API.md is silent:
//! - "Not found" is an answer, not an error, only where a caller asks whether something
//!   exists (`manifest`, `tags`); every other failure raises, naming the registry and what
//!   was asked. A blob a manifest names but the registry lacks raises: it is a broken
//!   artifact, not a question.
//! - Each call makes its own connection pool (a few milliseconds: reading the system's roots):
//!   oci-client keeps the credentials of a registry for the life of its client, so sharing one
//!   across calls would let one call's credentials answer for another's.
//! - Messages never hold a password or token: they name the user at most.

mod blob;
mod catalog_token;
mod digest;
mod errors;
mod listing;
mod manifest;
mod options;
mod push;
mod reference;

use assay_sdk::{Args, Global, Multi, Value};

/// Registers the `oci` global's functions.
pub fn register(oci: &mut Global) {
    oci.async_function("push", |args: Args| {
        let call = push::Push::read(&args);
        async move { call?.run().await }
    });
    oci.async_function("manifest", |args: Args| {
        let call = manifest::ManifestCall::read(&args);
        async move { not_found_as_nil(call?.run().await) }
    });
    oci.async_function("blob", |args: Args| {
        let call = blob::BlobCall::read(&args);
        async move { call?.run().await }
    });
    oci.async_function("tags", |args: Args| {
        let call = listing::Listing::tags(&args);
        async move { not_found_as_nil(call?.run().await) }
    });
    oci.async_function("catalog", |args: Args| {
        let call = listing::Listing::catalog(&args);
        async move {
            match call?.run().await? {
                Found::Yes(v) => Ok(v),
                // The catalog of a registry always exists: a 404 means the registry does not
                // offer it, which `run` already says.
                Found::No => Err(assay_sdk::Error::new("the registry has no catalog")),
            }
        }
    });
}

/// What a lookup that may legitimately find nothing returns.
pub(crate) enum Found {
    Yes(Value),
    No,
}

/// `value`, or `nil, "not found"`.
fn not_found_as_nil(found: assay_sdk::Result<Found>) -> assay_sdk::Result<Multi> {
    Ok(match found? {
        Found::Yes(v) => Multi(vec![v]),
        Found::No => Multi(vec![Value::Nil, Value::from("not found")]),
    })
}
