//! `oci.tags(ref, opts)` and `oci.catalog(registry, opts)`: whole lists, page after page.
//!
//! ```lua
//! local tags, why = oci.tags("127.0.0.1:5000/pkgs/k8s", {plain_http = true})  --> {"1.0.0", "1.1.0"}
//! local repos = oci.catalog("127.0.0.1:5000", {plain_http = true})           --> {"pkgs/k8s", ...}
//! ```
//!
//! - Pages are followed with `last` (the distribution spec's pagination), each from the last
//!   name of the one before, until a page brings nothing new. No page size (`n`) is asked
//!   for: the registry's own is used (a distribution registry answers 400 to an `n` above its
//!   `maxentries`). A registry that ignores `last` and sends the whole list each time (the
//!   distribution registry 2.8 does for tags) works as well: names already seen are skipped,
//!   and the end is the first page without a new one. At most 100 000 names are gathered (the
//!   lists live in the plugin's memory, which the script's memory limit does not see); a longer
//!   list raises.
//! - Each page must arrive within `timeout`.
//! - `tags` of a repository that does not exist is `nil, "not found"`; an existing repository
//!   without tags is an empty list. `tags` uses the repository of `ref` (a tag in it is
//!   ignored).
//! - `catalog` takes `host[:port]`. Many registries refuse to list their repositories (Docker
//!   Hub, GHCR, ECR; a token service may not grant `registry:catalog:*`): that raises, saying
//!   the registry refuses to list them. With a token flow and `auth = {user, password}`, the
//!   token asked for is `registry:catalog:*` (see [`super::catalog_token`]).

use std::collections::HashSet;

use assay_sdk::{Args, Error, List, Result, Value};
use oci_client::Reference;

use oci_client::errors::OciDistributionError;
use oci_client::secrets::RegistryAuth;

use super::Found;
use super::catalog_token;
use super::errors::{self, Cx};
use super::options::Connection;
use super::reference::{Ref, check_registry};

/// The most names gathered by one call.
const MAX_NAMES: usize = 100_000;

enum Kind {
    Tags,
    Catalog,
}

pub(crate) struct Listing {
    kind: Kind,
    registry: String,
    image: Reference,
    subject: String,
    conn: Connection,
}

impl Listing {
    pub(crate) fn tags(args: &Args) -> Result<Self> {
        args.at_most(2, 0)?;
        let reference =
            Ref::parse(args.str(1, "ref")?).map_err(|why| args.invalid(1, "ref", why))?;
        let conn = Connection::read(&args.options(2, "opts")?, &[])?;
        Ok(Self {
            kind: Kind::Tags,
            subject: format!(
                "the tags of {}/{}",
                reference.registry, reference.repository
            ),
            registry: reference.registry.clone(),
            image: reference.oci(),
            conn,
        })
    }

    pub(crate) fn catalog(args: &Args) -> Result<Self> {
        args.at_most(2, 0)?;
        let registry = args.str(1, "registry")?;
        if registry.contains('/') {
            return Err(args.invalid(
                1,
                "registry",
                format!("'{registry}': expected host[:port], without a path"),
            ));
        }
        check_registry(registry)
            .map_err(|why| args.invalid(1, "registry", format!("{why} (expected host[:port])")))?;
        let conn = Connection::read(&args.options(2, "opts")?, &[])?;
        Ok(Self {
            kind: Kind::Catalog,
            subject: format!("the catalog of {registry}"),
            // oci-client wants a repository even for the catalog; it only uses its registry.
            image: Reference::with_tag(
                registry.to_owned(),
                "catalog".to_owned(),
                "latest".to_owned(),
            ),
            registry: registry.to_owned(),
            conn,
        })
    }

    pub(crate) async fn run(self) -> Result<Found> {
        let cx = Cx {
            registry: &self.registry,
            subject: self.subject.clone(),
            conn: &self.conn,
        };
        let first = self.gather(&self.conn.auth).await?;
        let gathered = match (first, &self.kind, &self.conn.auth) {
            // oci-client asks a token service for `repository:<name>:pull` even for the
            // catalog, which needs `registry:catalog:*`: ask for that one ourselves.
            (
                Err(OciDistributionError::UnauthorizedError { .. }),
                Kind::Catalog,
                RegistryAuth::Basic(..),
            ) => match catalog_token::fetch(&self.conn, &self.registry).await? {
                Some(token) => self.gather(&RegistryAuth::Bearer(token)).await?,
                None => return Err(refused(&cx, &unauthorized())),
            },
            (other, ..) => other,
        };
        let names = match gathered {
            Ok(names) => names,
            Err(e) if errors::is_not_found(&e) && matches!(self.kind, Kind::Tags) => {
                return Ok(Found::No);
            }
            Err(e) => {
                return Err(match self.kind {
                    Kind::Catalog => refused(&cx, &e),
                    Kind::Tags => errors::describe(&e, &cx),
                });
            }
        };
        let mut list = List::with_capacity(names.len());
        for name in names {
            list.push(name);
        }
        Ok(Found::Yes(Value::Array(list)))
    }

    /// Every page, with `auth` (on a client of its own: oci-client keeps the first credentials
    /// it saw for a registry); the registry's refusal as it came, a time limit as an error.
    async fn gather(
        &self,
        auth: &RegistryAuth,
    ) -> Result<std::result::Result<Vec<String>, OciDistributionError>> {
        let client = self.conn.client()?;
        let mut seen: HashSet<String> = HashSet::new();
        let mut names: Vec<String> = Vec::new();
        let mut last: Option<String> = None;
        loop {
            let page = errors::within(self.conn.timeout, &self.conn, &self.registry, async {
                Ok(match self.kind {
                    Kind::Tags => client
                        .list_tags(&self.image, auth, None, last.as_deref())
                        .await
                        .map(|r| r.tags),
                    Kind::Catalog => client
                        .catalog(&self.image, auth, None, last.as_deref())
                        .await
                        .map(|r| r.repositories),
                })
            })
            .await?;
            let page = match page {
                Ok(page) => page,
                Err(e) => return Ok(Err(e)),
            };
            let before = names.len();
            for name in page {
                if seen.insert(name.clone()) {
                    names.push(name);
                }
            }
            if names.len() == before {
                return Ok(Ok(names));
            }
            if names.len() > MAX_NAMES {
                return Err(Error::new(format!(
                    "{} holds more than {MAX_NAMES} names",
                    self.subject
                )));
            }
            last = names.last().cloned();
        }
    }
}

/// The error a 401 is, for [`refused`].
fn unauthorized() -> OciDistributionError {
    OciDistributionError::UnauthorizedError { url: String::new() }
}

/// The catalog's failure: a refusal by the registry (an error status other than 401) says so
/// plainly; missing or refused credentials and network failures are worded as anywhere else.
fn refused(cx: &Cx<'_>, e: &oci_client::errors::OciDistributionError) -> Error {
    use OciDistributionError as E;
    use oci_client::errors::OciErrorCode;
    let why = errors::describe(e, cx);
    match e {
        E::ServerError { code, .. } if *code != 401 => Error::new(format!(
            "{} refuses to list its repositories (/v2/_catalog): {}",
            cx.registry,
            why.message()
        )),
        E::RegistryError { envelope, .. }
            if !envelope
                .errors
                .iter()
                .any(|e| matches!(e.code, OciErrorCode::Unauthorized | OciErrorCode::Denied)) =>
        {
            Error::new(format!(
                "{} refuses to list its repositories (/v2/_catalog): {}",
                cx.registry,
                why.message()
            ))
        }
        _ => why,
    }
}
