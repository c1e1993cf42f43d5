//! `oci.manifest(ref, opts)`: one manifest, as a table.
//!
//! ```lua
//! local m, why = oci.manifest("127.0.0.1:5000/pkgs/k8s:1.2.0", {plain_http = true})
//! -- m = {digest = "sha256:...", media_type = "application/vnd.oci.image.manifest.v1+json",
//! --      artifact_type = "application/vnd.assay.package.v1",
//! --      config = {digest = "sha256:...", media_type = "...", size = 2},
//! --      layers = {{digest = "sha256:...", media_type = "...", size = 1234,
//! --                 annotations = {["org.opencontainers.image.title"] = "k8s.tar.gz"}}},
//! --      annotations = {...}}
//! ```
//!
//! An image index (a multi-platform image, or an artifact index) comes back with `manifests`
//! (`{digest, media_type, size, artifact_type, platform = {os, architecture, variant},
//! annotations}` each) instead of `config` and `layers`. Fields the manifest does not have are
//! absent (`artifact_type` of an image, `annotations` of a layer without any).
//!
//! `digest` is the digest of the manifest's bytes as the registry sent them. A reference
//! `@digest` is checked against those bytes: a registry that answers with another manifest
//! raises. A missing tag, digest or repository is `nil, "not found"`; everything else that
//! fails raises. A manifest over 4 MiB (the distribution registry's own limit) is refused.

use assay_sdk::{Args, Error, List, Map, Result, Value};
use oci_client::manifest::{
    IMAGE_MANIFEST_LIST_MEDIA_TYPE, IMAGE_MANIFEST_MEDIA_TYPE, OCI_IMAGE_INDEX_MEDIA_TYPE,
    OCI_IMAGE_MEDIA_TYPE,
};
use serde_json::Value as Json;

use super::Found;
use super::digest::Digest;
use super::errors::{self, Cx};
use super::options::Connection;
use super::reference::{Ref, Target};

/// The largest manifest read (the distribution registry's own limit).
const MAX_MANIFEST: usize = 4 << 20;

/// The manifest kinds asked for: OCI and Docker, single and index.
const ACCEPTED: &[&str] = &[
    OCI_IMAGE_MEDIA_TYPE,
    OCI_IMAGE_INDEX_MEDIA_TYPE,
    IMAGE_MANIFEST_MEDIA_TYPE,
    IMAGE_MANIFEST_LIST_MEDIA_TYPE,
];

pub(crate) struct ManifestCall {
    reference: Ref,
    conn: Connection,
}

impl ManifestCall {
    pub(crate) fn read(args: &Args) -> Result<Self> {
        args.at_most(2, 0)?;
        let reference =
            Ref::parse(args.str(1, "ref")?).map_err(|why| args.invalid(1, "ref", why))?;
        reference
            .require_target()
            .map_err(|why| args.invalid(1, "ref", why))?;
        let conn = Connection::read(&args.options(2, "opts")?, &[])?;
        Ok(Self { reference, conn })
    }

    pub(crate) async fn run(self) -> Result<Found> {
        let client = self.conn.client()?;
        let image = self.reference.oci();
        let cx = Cx {
            registry: &self.reference.registry,
            subject: format!("manifest {}", self.reference),
            conn: &self.conn,
        };
        let pulled = errors::within(
            self.conn.timeout,
            &self.conn,
            &self.reference.registry,
            async {
                client
                    .pull_manifest_raw(&image, &self.conn.auth, ACCEPTED)
                    .await
                    .map(Some)
                    .or_else(|e| {
                        if errors::is_not_found(&e) {
                            Ok(None)
                        } else {
                            Err(errors::describe(&e, &cx))
                        }
                    })
            },
        )
        .await?;
        let Some((body, _)) = pulled else {
            return Ok(Found::No);
        };
        if body.len() > MAX_MANIFEST {
            return Err(Error::new(format!(
                "{} is larger than {MAX_MANIFEST} bytes",
                cx.subject
            )));
        }
        // The digest of the bytes received, not a header's claim.
        let digest = Digest::sha256_of(&body);
        if let Target::Digest(asked) = &self.reference.target {
            let mut hasher = asked.hasher();
            hasher.update(&body);
            let got = hasher.finish();
            if &got != asked {
                return Err(Error::new(format!(
                    "{} from {}: the registry sent a manifest whose digest is {got}",
                    cx.subject, cx.registry
                )));
            }
        }
        let json: Json = serde_json::from_slice(&body)
            .map_err(|e| Error::new(format!("{} is not valid JSON: {e}", cx.subject)))?;
        Ok(Found::Yes(to_lua(&json, &digest.to_string())))
    }
}

/// The manifest as the Lua table the module docs describe.
pub(crate) fn to_lua(json: &Json, digest: &str) -> Value {
    let mut out = Map::new();
    out.insert("digest", digest);
    copy_str(&mut out, json, "mediaType", "media_type");
    copy_str(&mut out, json, "artifactType", "artifact_type");
    if let Some(config) = json.get("config") {
        out.insert("config", descriptor(config));
    }
    if let Some(layers) = json.get("layers").and_then(Json::as_array) {
        out.insert("layers", descriptors(layers));
    }
    if let Some(manifests) = json.get("manifests").and_then(Json::as_array) {
        out.insert("manifests", descriptors(manifests));
    }
    if let Some(subject) = json.get("subject") {
        out.insert("subject", descriptor(subject));
    }
    copy_annotations(&mut out, json);
    Value::Map(out)
}

fn descriptors(items: &[Json]) -> Value {
    let mut list = List::with_capacity(items.len());
    for item in items {
        list.push(descriptor(item));
    }
    Value::Array(list)
}

fn descriptor(json: &Json) -> Value {
    let mut out = Map::new();
    copy_str(&mut out, json, "digest", "digest");
    copy_str(&mut out, json, "mediaType", "media_type");
    copy_str(&mut out, json, "artifactType", "artifact_type");
    if let Some(size) = json.get("size").and_then(Json::as_i64) {
        out.insert("size", Value::Int(size));
    }
    if let Some(platform) = json.get("platform").and_then(Json::as_object) {
        let mut p = Map::new();
        for (key, value) in platform {
            if let Some(text) = value.as_str() {
                let name = match key.as_str() {
                    "os.version" => "os_version",
                    other => other,
                };
                p.insert(name, text);
            }
        }
        out.insert("platform", Value::Map(p));
    }
    copy_annotations(&mut out, json);
    Value::Map(out)
}

fn copy_str(out: &mut Map, json: &Json, from: &str, to: &str) {
    if let Some(text) = json.get(from).and_then(Json::as_str) {
        out.insert(to, text);
    }
}

fn copy_annotations(out: &mut Map, json: &Json) {
    if let Some(annotations) = json.get("annotations").and_then(Json::as_object) {
        let mut a = Map::new();
        for (key, value) in annotations {
            if let Some(text) = value.as_str() {
                a.insert(key.as_str(), text);
            }
        }
        out.insert("annotations", Value::Map(a));
    }
}
