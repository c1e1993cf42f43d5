//! `oci.push(ref, artifact, opts)`: uploads an artifact's blobs, then its manifest.
//!
//! ```lua
//! oci.push("127.0.0.1:5000/pkgs/k8s:1.2.0", {
//!   artifact_type = "application/vnd.assay.package.v1",   -- the manifest's artifactType
//!   config = {data = '{"name":"k8s"}', media_type = "application/vnd.assay.package.config.v1+json"},
//!   layers = {
//!     {path = "k8s.tar.gz", media_type = "application/vnd.assay.package.layer.v1.tar+gzip",
//!      annotations = {["org.opencontainers.image.title"] = "k8s.tar.gz"}},
//!     {data = "...", media_type = "text/markdown"},
//!   },
//!   annotations = {["org.opencontainers.image.version"] = "1.2.0"},
//! }, {plain_http = true})          --> {digest = "sha256:...", url = "http://.../manifests/sha256:..."}
//! ```
//!
//! - The manifest is an OCI image manifest (`application/vnd.oci.image.manifest.v1+json`)
//!   with `artifactType`, as the OCI image spec's artifact guidance describes. Without
//!   `config`, the config is the spec's empty descriptor (`application/vnd.oci.empty.v1+json`,
//!   the two bytes `{}`), and `artifact_type` is then required (the spec says so: it is what
//!   tells the artifact's kind).
//! - At least one layer; each has `data` (a string) or `path` (a regular file), not both, and
//!   a `media_type`. Blobs the repository already has are not uploaded again.
//! - `ref` needs a tag (or `@digest`: the manifest's digest must then be that one). The result:
//!   the manifest's digest (sha256 of the bytes sent) and the URL the registry gave for it.
//! - Everything is read into memory before the first byte is sent (oci-client uploads whole
//!   buffers), so the blobs of one push are bounded: at most 1 GiB in all, an error naming the
//!   layer past it.
//! - Unknown keys in `artifact`, `config` or a layer are errors naming them.

use assay_sdk::{Args, Error, Map, Options, Result, Value};
use oci_client::RegistryOperation;
use serde_json::json;

use super::digest::Digest;
use super::errors::{self, Cx};
use super::options::Connection;
use super::reference::{Ref, Target};

/// The most bytes one push holds in memory (all its blobs together).
const MAX_PUSH: u64 = 1 << 30;

const EMPTY_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";
const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";

/// One blob to upload, as the artifact table gave it.
struct BlobSpec {
    source: Source,
    media_type: String,
    annotations: Option<Vec<(String, String)>>,
}

enum Source {
    Data(Vec<u8>),
    Path(String),
}

pub(crate) struct Push {
    reference: Ref,
    artifact_type: Option<String>,
    config: Option<BlobSpec>,
    layers: Vec<BlobSpec>,
    annotations: Option<Vec<(String, String)>>,
    conn: Connection,
}

impl Push {
    pub(crate) fn read(args: &Args) -> Result<Self> {
        args.at_most(3, 0)?;
        let reference =
            Ref::parse(args.str(1, "ref")?).map_err(|why| args.invalid(1, "ref", why))?;
        reference
            .require_target()
            .map_err(|why| args.invalid(1, "ref", why))?;
        args.map(2, "artifact")?;
        let artifact = args.options(2, "artifact")?;
        artifact.only(&["artifact_type", "config", "layers", "annotations"])?;
        let artifact_type = artifact.str("artifact_type")?.map(str::to_owned);
        let config = match artifact.map("config")? {
            None => None,
            Some(map) => Some(blob_spec(&artifact, "config", map, false)?),
        };
        if config.is_none() && artifact_type.is_none() {
            return Err(artifact.invalid(
                "artifact_type",
                "required when there is no config (the OCI artifact guidance)",
            ));
        }
        let layers = match artifact.get("layers") {
            Some(Value::Array(list)) if !list.is_empty() => list
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let key = format!("layers[{}]", i + 1);
                    match v {
                        Value::Map(map) => blob_spec(&artifact, &key, map, true),
                        other => Err(artifact
                            .invalid(&key, format!("table expected, got {}", other.type_name()))),
                    }
                })
                .collect::<Result<Vec<_>>>()?,
            // An empty Lua table arrives as an empty map.
            None | Some(Value::Array(_)) => {
                return Err(artifact.invalid("layers", "at least one layer is required"));
            }
            Some(Value::Map(map)) if map.is_empty() => {
                return Err(artifact.invalid("layers", "at least one layer is required"));
            }
            Some(other) => {
                return Err(artifact.invalid(
                    "layers",
                    format!("a list of layer tables expected, got {}", other.type_name()),
                ));
            }
        };
        let annotations = match artifact.map("annotations")? {
            None => None,
            Some(map) => Some(string_pairs(&artifact, "annotations", map)?),
        };
        let conn = Connection::read(&args.options(3, "opts")?, &[])?;
        Ok(Self {
            reference,
            artifact_type,
            config,
            layers,
            annotations,
            conn,
        })
    }

    pub(crate) async fn run(mut self) -> Result<Value> {
        // Every blob in memory first, bounded (see the module docs).
        let mut total: u64 = 0;
        let mut layers = Vec::with_capacity(self.layers.len());
        for (i, spec) in self.layers.iter_mut().enumerate() {
            let data = load(&mut spec.source, &format!("layers[{}]", i + 1), &mut total).await?;
            layers.push(data);
        }
        let config_data = match &mut self.config {
            Some(spec) => load(&mut spec.source, "config", &mut total).await?,
            None => b"{}".to_vec(),
        };
        let config_media_type = self
            .config
            .as_ref()
            .map_or(EMPTY_MEDIA_TYPE, |c| c.media_type.as_str());
        // The config last: blobs[i] is layer i, then the config.
        layers.push(config_data);
        let (blobs, digests) = digests_of(layers).await?;

        let descriptor =
            |i: usize, media_type: &str, annotations: &Option<Vec<(String, String)>>| {
                let mut d = json!({
                    "mediaType": media_type,
                    "digest": digests[i].to_string(),
                    "size": blobs[i].len(),
                });
                if let Some(pairs) = annotations {
                    d["annotations"] = annotations_json(pairs);
                }
                d
            };
        let mut manifest = json!({
            "schemaVersion": 2,
            "mediaType": MANIFEST_MEDIA_TYPE,
        });
        if let Some(artifact_type) = &self.artifact_type {
            manifest["artifactType"] = json!(artifact_type);
        }
        manifest["config"] = descriptor(
            blobs.len() - 1,
            config_media_type,
            &self.config.as_ref().and_then(|c| c.annotations.clone()),
        );
        manifest["layers"] = self
            .layers
            .iter()
            .enumerate()
            .map(|(i, spec)| descriptor(i, &spec.media_type, &spec.annotations))
            .collect();
        if let Some(pairs) = &self.annotations {
            manifest["annotations"] = annotations_json(pairs);
        }
        let body = serde_json::to_vec(&manifest)
            .map_err(|e| Error::new(format!("cannot write the manifest: {e}")))?;
        let digest = Digest::sha256_of(&body);
        if let Target::Digest(asked) = &self.reference.target
            && asked != &digest
        {
            return Err(Error::new(format!(
                "the manifest's digest is {digest}, not the {asked} the reference names"
            )));
        }

        let client = self.conn.client()?;
        let image = self.reference.oci();
        let cx = Cx {
            registry: &self.reference.registry,
            subject: format!("push to {}", self.reference),
            conn: &self.conn,
        };
        let fail = |e: oci_client::errors::OciDistributionError| errors::describe(&e, &cx);
        client
            .auth(&image, &self.conn.auth, RegistryOperation::Push)
            .await
            .map_err(fail)?;
        for (data, blob_digest) in blobs.into_iter().zip(digests) {
            let blob_digest = blob_digest.to_string();
            if client
                .blob_exists(&image, &blob_digest)
                .await
                .map_err(fail)?
            {
                continue;
            }
            client
                .push_blob(&image, data, &blob_digest)
                .await
                .map_err(fail)?;
        }
        let content_type = reqwest::header::HeaderValue::from_static(MANIFEST_MEDIA_TYPE);
        let url = client
            .push_manifest_raw(&image, body, content_type)
            .await
            .map_err(fail)?;
        let mut out = Map::new();
        out.insert("digest", digest.to_string());
        out.insert("url", url);
        Ok(Value::Map(out))
    }
}

/// A layer (`with_path`) or the config: `{data = | path =, media_type =, annotations =}`.
fn blob_spec(artifact: &Options<'_>, key: &str, map: &Map, with_path: bool) -> Result<BlobSpec> {
    let known: &[&str] = if with_path {
        &["data", "path", "media_type", "annotations"]
    } else {
        &["data", "media_type", "annotations"]
    };
    for (k, _) in map.iter() {
        match k.as_str() {
            Some(name) if known.contains(&name) => {}
            Some(name) => {
                return Err(artifact.invalid(
                    key,
                    format!("unknown key '{name}' (expected {})", known.join(", ")),
                ));
            }
            None => {
                return Err(
                    artifact.invalid(key, format!("keys are strings, got a {}", k.type_name()))
                );
            }
        }
    }
    let string = |name: &str| -> Result<Option<&assay_sdk::Bytes>> {
        match map.get(name) {
            None => Ok(None),
            Some(Value::Str(b)) => Ok(Some(b)),
            Some(v) => Err(artifact.invalid(
                key,
                format!("{name}: string expected, got {}", v.type_name()),
            )),
        }
    };
    let source = match (string("data")?, string("path")?) {
        (Some(data), None) => Source::Data(data.as_slice().to_vec()),
        (None, Some(path)) => Source::Path(
            path.to_str()
                .ok_or_else(|| artifact.invalid(key, "path: not valid UTF-8"))?
                .to_owned(),
        ),
        (Some(_), Some(_)) => return Err(artifact.invalid(key, "data or path, not both")),
        (None, None) if with_path => return Err(artifact.invalid(key, "data or path is required")),
        (None, None) => return Err(artifact.invalid(key, "data is required")),
    };
    let media_type = string("media_type")?
        .and_then(|b| b.to_str())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| artifact.invalid(key, "media_type (a string) is required"))?
        .to_owned();
    let annotations = match map.get("annotations") {
        None => None,
        Some(Value::Map(pairs)) => Some(string_pairs(
            artifact,
            &format!("{key}.annotations"),
            pairs,
        )?),
        Some(v) => {
            return Err(artifact.invalid(
                key,
                format!("annotations: table expected, got {}", v.type_name()),
            ));
        }
    };
    Ok(BlobSpec {
        source,
        media_type,
        annotations,
    })
}

/// `{name = "value"}` with string keys and values (annotations are strings by the spec),
/// sorted by key so the same table gives the same manifest digest.
fn string_pairs(artifact: &Options<'_>, key: &str, map: &Map) -> Result<Vec<(String, String)>> {
    let mut pairs = Vec::with_capacity(map.len());
    for (k, v) in map.iter() {
        let (Some(name), Some(value)) = (k.as_str(), v.as_str()) else {
            return Err(artifact.invalid(
                key,
                format!(
                    "string keys and values expected, got a {} = {}",
                    k.type_name(),
                    v.type_name()
                ),
            ));
        };
        pairs.push((name.to_owned(), value.to_owned()));
    }
    pairs.sort();
    Ok(pairs)
}

fn annotations_json(pairs: &[(String, String)]) -> serde_json::Value {
    pairs
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::from(v.as_str())))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// The sha256 of each blob, on a blocking thread: hashing a large layer on the Lua thread
/// (where the plugin's I/O runs) would stall the script's other coroutines.
async fn digests_of(blobs: Vec<Vec<u8>>) -> Result<(Vec<Vec<u8>>, Vec<Digest>)> {
    tokio::task::spawn_blocking(move || {
        let digests = blobs.iter().map(|b| Digest::sha256_of(b)).collect();
        (blobs, digests)
    })
    .await
    .map_err(|e| Error::new(format!("hashing the blobs failed: {e}")))
}

/// A blob's bytes (taken out of `source`), counted against [`MAX_PUSH`].
async fn load(source: &mut Source, key: &str, total: &mut u64) -> Result<Vec<u8>> {
    let data = match source {
        Source::Data(data) => {
            *total += data.len() as u64;
            if *total > MAX_PUSH {
                return Err(too_large(key));
            }
            std::mem::take(data)
        }
        Source::Path(path) => {
            let path = path.as_str();
            let meta = tokio::fs::metadata(path)
                .await
                .map_err(|e| Error::new(format!("{key}: cannot read {path}: {e}")))?;
            if !meta.is_file() {
                return Err(Error::new(format!("{key}: {path} is not a regular file")));
            }
            *total += meta.len();
            if *total > MAX_PUSH {
                return Err(too_large(key));
            }
            tokio::fs::read(path)
                .await
                .map_err(|e| Error::new(format!("{key}: cannot read {path}: {e}")))?
        }
    };
    Ok(data)
}

fn too_large(key: &str) -> Error {
    Error::new(format!(
        "{key}: the artifact's blobs are larger than 1 GiB in all (one push holds them in memory)"
    ))
}
