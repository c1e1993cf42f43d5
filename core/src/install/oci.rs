//! Packages in an OCI registry (`oci://host[:port]/path`), as OCI artifacts:
//!
//! - package `k8s` version `0.2.1` is the manifest tagged `0.2.1` in repository
//!   `<path>/k8s`, with artifact type [`ARTIFACT_TYPE`];
//! - its config blob ([`CONFIG_TYPE`]) is the package's index entry (the JSON `assay package`
//!   prints), so versions and dependencies are known without downloading archives;
//! - its one layer ([`LAYER_TYPE`]) is the archive itself, so the layer's digest is
//!   `sha256:<the archive's sha256>` and the registry checks it too.
//!
//! The registry's API is the http plugin's `oci` global (a maintained OCI client underneath:
//! the token flow, pagination, digests), called through `remote.lua`. Credentials:
//! `ASSAY_REGISTRY_USER` and `ASSAY_REGISTRY_PASSWORD` for a registry the user configured
//! (never for one only a lock file names), else the host's entry in Docker's
//! `~/.docker/config.json` (`auths.<host>.auth`), else anonymous.

use std::path::Path;

use base64::Engine as _;
use mlua::{MultiValue, Value};

use super::index::{Entry, Index};
use super::remote::Remote;

pub const ARTIFACT_TYPE: &str = "application/vnd.assay.package.v1";
pub const CONFIG_TYPE: &str = "application/vnd.assay.package.config.v1+json";
pub const LAYER_TYPE: &str = "application/vnd.assay.package.layer.v1.tar+gzip";

/// An OCI registry holding packages under a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OciRegistry {
    /// `host[:port]`.
    pub host: String,
    /// The repository path the packages are under (may be empty).
    pub path: String,
    /// `oci+http://`: no TLS.
    pub plain_http: bool,
    /// User and password the user configured for this registry (see
    /// `Registry::with_credentials_from_env`); else Docker's config for the host is used.
    pub credentials: Option<(String, String)>,
}

impl OciRegistry {
    /// `host[:port][/path]`, after the scheme.
    pub fn parse(rest: &str, plain_http: bool) -> Result<Self, String> {
        let rest = rest.trim_end_matches('/');
        let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
        if host.is_empty() || host.contains('@') {
            return Err("an OCI registry is oci://host[:port]/path (credentials go in ASSAY_REGISTRY_USER and ASSAY_REGISTRY_PASSWORD)".into());
        }
        let valid = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-/".contains(c);
        if !path.chars().all(valid) {
            return Err(format!(
                "'{path}' is not an OCI repository path (lower-case letters, digits, '.', '_', '-', '/')"
            ));
        }
        Ok(Self {
            host: host.to_owned(),
            path: path.to_owned(),
            plain_http,
            credentials: None,
        })
    }

    pub fn display(&self) -> String {
        let scheme = if self.plain_http { "oci+http" } else { "oci" };
        match self.path.as_str() {
            "" => format!("{scheme}://{}", self.host),
            path => format!("{scheme}://{}/{path}", self.host),
        }
    }

    /// `host/path/name`: package `name`'s repository.
    pub fn repository(&self, name: &str) -> String {
        match self.path.as_str() {
            "" => format!("{}/{name}", self.host),
            path => format!("{}/{path}/{name}", self.host),
        }
    }

    /// The `oci` functions' options: TLS or not, and credentials.
    fn options(&self, remote: &Remote) -> Result<Value, String> {
        let lua = remote.lua();
        let t = lua.create_table().map_err(|e| e.to_string())?;
        let e = |e: mlua::Error| e.to_string();
        if self.plain_http {
            t.raw_set("plain_http", true).map_err(e)?;
        }
        let credentials = self
            .credentials
            .clone()
            .or_else(|| docker_credentials(&self.host));
        if let Some((user, password)) = credentials {
            let auth = lua.create_table().map_err(e)?;
            auth.raw_set("user", user).map_err(e)?;
            auth.raw_set("password", password).map_err(e)?;
            t.raw_set("auth", auth).map_err(e)?;
        }
        Ok(Value::Table(t))
    }
}

/// The credentials Docker's config file (`docker login`) holds for `host`: kept per host by
/// Docker itself, so they go to that host only.
fn docker_credentials(host: &str) -> Option<(String, String)> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let config = match env("DOCKER_CONFIG") {
        Some(dir) => Path::new(&dir).join("config.json"),
        None => Path::new(&env("HOME")?).join(".docker/config.json"),
    };
    let text = assay_files::read_regular_text(&config, 1 << 20).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    let encoded = json.get("auths")?.get(host)?.get("auth")?.as_str()?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let (user, password) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// The `oci` global's advice is for Lua callers (`pass auth = ...`, `pass timeout = ...`); a
/// command's user sets variables or has nothing to pass.
fn for_the_command(message: String) -> String {
    if let Some(at) = message.find(": pass auth = ") {
        return format!(
            "{}: set ASSAY_REGISTRY_USER and ASSAY_REGISTRY_PASSWORD (or log in with docker login)",
            &message[..at]
        );
    }
    match message.find(" (pass timeout = ") {
        Some(at) => message[..at].to_owned(),
        None => message,
    }
}

fn call(remote: &Remote, name: &str, args: MultiValue) -> Result<MultiValue, String> {
    remote.call(name, args).map_err(for_the_command)
}

fn text(remote: &Remote, s: &str) -> Result<Value, String> {
    remote
        .lua()
        .create_string(s)
        .map(Value::String)
        .map_err(|e| e.to_string())
}

/// The versions of package `name` in `registry` (`None`: no such repository).
pub fn versions(
    remote: &Remote,
    registry: &OciRegistry,
    name: &str,
) -> Result<Option<Vec<Entry>>, String> {
    let args = MultiValue::from_iter([
        text(remote, &registry.repository(name))?,
        registry.options(remote)?,
    ]);
    let values = call(remote, "oci_versions", args)?;
    let Some(Value::Table(configs)) = values.into_iter().next() else {
        return Ok(None);
    };
    let mut entries = Vec::new();
    for config in configs.sequence_values::<mlua::LuaString>() {
        let config = config.map_err(|e| e.to_string())?;
        let config = config.to_str().map_err(|e| e.to_string())?;
        let entry = Index::parse_entry(name, &config)
            .map_err(|e| format!("{}: {e}", registry.repository(name)))?;
        entries.push(Entry {
            // The layer is the archive: it is fetched by digest.
            file: format!("sha256:{}", entry.sha256),
            ..entry
        });
    }
    entries.sort_by(|a, b| b.version.cmp(&a.version));
    Ok(Some(entries))
}

/// The package names under `registry`'s path (the registry's catalog).
pub fn catalog(remote: &Remote, registry: &OciRegistry) -> Result<Vec<String>, String> {
    let args = MultiValue::from_iter([
        text(remote, &registry.host)?,
        text(remote, &registry.path)?,
        registry.options(remote)?,
    ]);
    let values = call(remote, "oci_catalog", args)?;
    let Some(Value::Table(names)) = values.into_iter().next() else {
        return Ok(Vec::new());
    };
    names
        .sequence_values::<String>()
        .collect::<mlua::Result<_>>()
        .map_err(|e| e.to_string())
}

/// Downloads `entry`'s archive (its layer) into `dest`, the digest checked by the client.
pub fn download(
    remote: &Remote,
    registry: &OciRegistry,
    entry: &Entry,
    dest: &Path,
    progress: impl Fn(u64) + 'static,
) -> Result<(), String> {
    let lua = remote.lua();
    let done = std::cell::Cell::new(0u64);
    let on_progress = lua
        .create_function(move |_, bytes: u64| {
            progress(bytes.saturating_sub(done.replace(bytes)));
            Ok(())
        })
        .map_err(|e| e.to_string())?;
    let args = MultiValue::from_iter([
        text(remote, &registry.repository(&entry.name))?,
        text(remote, &format!("sha256:{}", entry.sha256))?,
        text(remote, &dest.display().to_string())?,
        Value::Number(entry.size as f64),
        registry.options(remote)?,
        Value::Function(on_progress),
    ]);
    call(remote, "oci_download", args).map(drop)
}

/// Pushes a packed archive (its bytes) as `registry/<name>:<version>`; returns the manifest's
/// digest.
pub fn push(
    remote: &Remote,
    registry: &OciRegistry,
    entry: &Entry,
    archive: &[u8],
) -> Result<String, String> {
    let config = entry.to_json();
    let args = MultiValue::from_iter([
        text(
            remote,
            &format!("{}:{}", registry.repository(&entry.name), entry.version),
        )?,
        Value::String(
            remote
                .lua()
                .create_string(archive)
                .map_err(|e| e.to_string())?,
        ),
        text(remote, &config.to_string())?,
        text(remote, &entry.description)?,
        registry.options(remote)?,
    ]);
    let values = call(remote, "oci_push", args)?;
    match values.into_iter().next() {
        Some(Value::String(digest)) => Ok(digest.to_string_lossy()),
        _ => Err("the registry returned no digest".into()),
    }
}
