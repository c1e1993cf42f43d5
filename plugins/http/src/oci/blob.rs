//! `oci.blob(ref, digest, opts)`: one blob of a repository, verified against its digest.
//!
//! ```lua
//! local text = oci.blob("127.0.0.1:5000/pkgs/k8s", m.config.digest, {plain_http = true})
//! local got = oci.blob("127.0.0.1:5000/pkgs/k8s", m.layers[1].digest, {
//!   output = "/tmp/k8s.tar.gz",
//!   on_progress = function(done, total) bar:set(done, total) end,
//! })                                       --> {bytes = 1234}
//! ```
//!
//! - The repository of `ref` is used (a tag or digest in it is ignored: a blob is named by
//!   `digest` alone). `digest` is `sha256:<hex>` or `sha512:<hex>`.
//! - The data is hashed as it arrives and compared with `digest` before anything is handed
//!   over: a string is returned only when it matches, and a file is renamed into place only
//!   when it matches. A mismatch raises, naming both digests, and leaves no file (the
//!   temporary one beside the target is removed; see `client::download` for the atomic write,
//!   shared with `http`'s `output`).
//! - Without `output` the blob becomes a Lua string of at most `max_size` bytes (default 8
//!   MiB), and never more than the script's memory limit (the bytes are buffered outside it
//!   until they become a string, and a larger one could not become one): a larger blob raises
//!   before it is read (by its announced length) or as soon as it passes the bound. With `output` the data is streamed to the file and `max_size` bounds
//!   it only when given.
//! - `on_progress = function(done, total)`: called as bytes arrive, at most 10 times a second,
//!   and once at the end; `total` is the announced length or nil. An error it raises stops the
//!   download and is raised as it was.
//! - A blob the registry does not have raises (`... not found`): a manifest named it, so the
//!   artifact is broken.
//! - `timeout` bounds the wait for the answer and for each next piece of the body, not the
//!   whole transfer: a large blob that keeps arriving is never cut off.

use std::path::PathBuf;
use std::time::Duration;

use assay_sdk::{Args, Callback, Error, Map, Result, Value};
use futures_util::StreamExt as _;
use oci_client::errors::{DigestError, OciDistributionError};

use super::digest::Digest;
use super::errors::{self, Cx};
use super::options::{self, Connection};
use super::reference::Ref;
use crate::client::download::Sink;

/// The largest blob returned as a string when `max_size` is not given.
const DEFAULT_MAX_SIZE: u64 = 8 << 20;

/// The shortest time between two `on_progress` calls (at most 10 a second).
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

pub(crate) struct BlobCall {
    reference: Ref,
    digest: Digest,
    output: Option<PathBuf>,
    max_size: Option<u64>,
    /// The calling script's memory limit (a string past it could never be made).
    memory_limit: Option<u64>,
    on_progress: Option<Callback>,
    conn: Connection,
}

impl BlobCall {
    pub(crate) fn read(args: &Args) -> Result<Self> {
        args.at_most(3, 0)?;
        let reference =
            Ref::parse(args.str(1, "ref")?).map_err(|why| args.invalid(1, "ref", why))?;
        let digest =
            Digest::parse(args.str(2, "digest")?).map_err(|why| args.invalid(2, "digest", why))?;
        let opts = args.options(3, "opts")?;
        let conn = Connection::read(&opts, &["output", "max_size", "on_progress"])?;
        let on_progress = match opts.get("on_progress") {
            None => None,
            Some(Value::Function(f)) => Some(f.clone()),
            Some(v) => {
                return Err(opts.invalid(
                    "on_progress",
                    format!("function expected, got {}", v.type_name()),
                ));
            }
        };
        Ok(Self {
            reference,
            digest,
            output: opts.str("output")?.map(PathBuf::from),
            max_size: options::byte_count(&opts, "max_size")?,
            memory_limit: assay_sdk::host::memory_limit(),
            on_progress,
            conn,
        })
    }

    pub(crate) async fn run(self) -> Result<Value> {
        let client = self.conn.client()?;
        let image = self.reference.oci();
        let repository = format!("{}/{}", self.reference.registry, self.reference.repository);
        let cx = Cx {
            registry: &self.reference.registry,
            subject: format!("blob {} of {repository}", self.digest),
            conn: &self.conn,
        };
        let limit = match (&self.output, self.max_size) {
            (Some(_), Some(max)) => Some(Bound::MaxSize(max)),
            (Some(_), None) => None,
            (None, wanted) => Some(string_bound(wanted, self.memory_limit)),
        };
        client
            .store_auth_if_needed(image.resolve_registry(), &self.conn.auth)
            .await;
        let digest_text = self.digest.to_string();
        let mut stream = errors::within(self.conn.timeout, &self.conn, cx.registry, async {
            client
                .pull_blob_stream(&image, digest_text.as_str())
                .await
                .map_err(|e| {
                    if errors::is_not_found(&e) {
                        Error::new(format!("{} not found", cx.subject))
                    } else {
                        errors::describe(&e, &cx)
                    }
                })
        })
        .await?;
        let total = stream.content_length;
        if let (Some(bound), Some(announced)) = (limit, total)
            && announced > bound.bytes()
        {
            return Err(too_large(&cx, bound));
        }

        let mut sink = match &self.output {
            Some(path) => Some(Sink::open(path).await?),
            None => None,
        };
        let mut kept: Vec<u8> = Vec::new();
        let mut hasher = self.digest.hasher();
        let mut done: u64 = 0;
        let mut progress = Progress::new(self.on_progress.clone(), total);
        loop {
            let next = errors::within(self.conn.timeout, &self.conn, cx.registry, async {
                Ok(stream.next().await)
            })
            .await?;
            let chunk = match next {
                None => break,
                Some(Ok(chunk)) => chunk,
                // oci-client checks the digest too, at the end: ours, below, says it better.
                Some(Err(e)) if is_digest_error(&e) => break,
                Some(Err(e)) => return Err(stream_error(e, &cx)),
            };
            done += chunk.len() as u64;
            if let Some(bound) = limit
                && done > bound.bytes()
            {
                return Err(too_large(&cx, bound));
            }
            hasher.update(&chunk);
            match &mut sink {
                Some(sink) => sink.write(&chunk).await?,
                None => kept.extend_from_slice(&chunk),
            }
            progress.report(done, false).await?;
        }
        let got = hasher.finish();
        if got != self.digest {
            // The sink is dropped unfinished: its temporary file goes with it.
            return Err(Error::new(format!(
                "{} from {}: digest mismatch, the data received hashes to {got} ({done} \
                 bytes); nothing was kept",
                cx.subject, cx.registry
            )));
        }
        progress.report(done, true).await?;
        match sink {
            Some(sink) => {
                sink.finish().await?;
                let mut out = Map::new();
                out.insert("bytes", Value::Int(i64::try_from(done).unwrap_or(i64::MAX)));
                Ok(Value::Map(out))
            }
            None => Ok(Value::from(kept)),
        }
    }
}

/// The most bytes a call takes, and what set it (for the message).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Bound {
    MaxSize(u64),
    Default(u64),
    /// The script's memory limit, below `max_size` (or its default).
    MemoryLimit(u64),
}

impl Bound {
    fn bytes(self) -> u64 {
        match self {
            Bound::MaxSize(n) | Bound::Default(n) | Bound::MemoryLimit(n) => n,
        }
    }
}

/// The bound on a blob returned as a string: `max_size` or its default, and never past the
/// script's memory limit.
fn string_bound(max_size: Option<u64>, memory_limit: Option<u64>) -> Bound {
    let wanted = match max_size {
        Some(n) => Bound::MaxSize(n),
        None => Bound::Default(DEFAULT_MAX_SIZE),
    };
    match memory_limit {
        Some(limit) if limit < wanted.bytes() => Bound::MemoryLimit(limit),
        _ => wanted,
    }
}

fn too_large(cx: &Cx<'_>, bound: Bound) -> Error {
    Error::new(match bound {
        Bound::MaxSize(max) => format!("{} is larger than max_size ({max} bytes)", cx.subject),
        Bound::Default(max) => format!(
            "{} is larger than the default max_size ({}; pass max_size, or output = <path> to \
             stream it to a file)",
            cx.subject,
            assay_sdk::files::describe_size(max)
        ),
        Bound::MemoryLimit(max) => format!(
            "{} is larger than the script's memory limit of {} (raise --memory-limit, or pass \
             output = <path> to stream it to a file)",
            cx.subject,
            assay_sdk::files::describe_size(max)
        ),
    })
}

fn is_digest_error(e: &std::io::Error) -> bool {
    e.get_ref()
        .is_some_and(|inner| inner.downcast_ref::<DigestError>().is_some())
}

/// A failure while the body streams: the reqwest error inside, worded as `http` words it.
fn stream_error(e: std::io::Error, cx: &Cx<'_>) -> Error {
    if e.get_ref()
        .is_some_and(|inner| inner.is::<reqwest::Error>())
    {
        if let Ok(inner) = e
            .into_inner()
            .ok_or(())
            .and_then(|b| b.downcast::<reqwest::Error>().map_err(|_| ()))
        {
            return errors::describe(&OciDistributionError::RequestError(*inner), cx);
        }
        return Error::new(format!(
            "{}: reading from {} failed",
            cx.subject, cx.registry
        ));
    }
    Error::new(format!(
        "{}: reading from {} failed: {e}",
        cx.subject, cx.registry
    ))
}

/// `on_progress` calls, at most one per [`PROGRESS_EVERY`] and one at the end.
struct Progress {
    callback: Option<Callback>,
    total: Option<u64>,
    last: Option<tokio::time::Instant>,
    /// The `done` of the last call (the final call is skipped when it would repeat it).
    reported: Option<u64>,
}

impl Progress {
    fn new(callback: Option<Callback>, total: Option<u64>) -> Self {
        Self {
            callback,
            total,
            last: None,
            reported: None,
        }
    }

    async fn report(&mut self, done: u64, last: bool) -> Result<()> {
        let Some(callback) = &self.callback else {
            return Ok(());
        };
        let now = tokio::time::Instant::now();
        let early = self
            .last
            .is_some_and(|at| now.duration_since(at) < PROGRESS_EVERY);
        if (!last && early) || (last && self.reported == Some(done)) {
            return Ok(());
        }
        self.last = Some(now);
        self.reported = Some(done);
        let total = self.total.map_or(Value::Nil, |t| {
            Value::Int(i64::try_from(t).unwrap_or(i64::MAX))
        });
        let done = Value::Int(i64::try_from(done).unwrap_or(i64::MAX));
        // Its error, unchanged, is what the host raises (see `assay_sdk::Callback`).
        callback.call(vec![done, total]).await.map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_bounded_by_the_memory_limit_too() {
        assert_eq!(string_bound(None, None), Bound::Default(8 << 20));
        assert_eq!(string_bound(Some(10), Some(1 << 20)), Bound::MaxSize(10));
        assert_eq!(
            string_bound(None, Some(1 << 20)),
            Bound::MemoryLimit(1 << 20)
        );
        assert_eq!(
            string_bound(Some(1 << 30), Some(64 << 20)),
            Bound::MemoryLimit(64 << 20)
        );
    }
}
