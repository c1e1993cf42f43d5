//! One attempt of one check, on one of the run's worker threads. Script attempts run in a
//! fresh sandboxed VM each; HTTP and Prometheus attempts in the worker's own sandboxed VM,
//! made once and kept with its http clients, so connections and the clients' certificate
//! stores are reused (a new client cost 2.9 ms); tcp and dns attempts need no VM.

mod http;
mod net;
mod script;

use std::collections::HashMap;
use std::time::Duration;

use super::kinds::Kind;
use super::template::Template;
use crate::{LibPath, Runtime, RuntimeBuilder};

/// What an attempt may use.
#[derive(Debug, Clone)]
pub struct Context {
    pub lib_path: LibPath,
    /// Each VM's memory limit (bytes; 0: none).
    pub memory_limit: usize,
    /// The `log` builtin's level and format in the VMs.
    pub log: crate::builtins::log::LogConfig,
    /// The files' `env`, which scripts see over the process environment.
    pub env: Vec<(String, String)>,
    /// What `${name}` gives: `--var`s and the files' vars, earlier checks' captures, the
    /// files' env (the process environment is asked last).
    pub values: HashMap<String, String>,
    /// The run's secrets so far, masked in messages before they are cut to an excerpt.
    pub mask: crate::report::Mask,
}

impl Context {
    pub fn render(&self, template: &Template) -> Result<String, String> {
        template.render(|name| {
            self.values
                .get(name)
                .cloned()
                .or_else(|| std::env::var(name).ok())
        })
    }

    /// A sandboxed VM whose runs may take `limit` (`None`: no limit of its own).
    fn vm(&self, limit: Option<Duration>) -> Result<Runtime, String> {
        let runtime = RuntimeBuilder::default()
            .sandbox(true)
            .memory_limit(self.memory_limit)
            .timeout(limit)
            .lib_path(self.lib_path.clone())
            .log(self.log)
            .build()
            .map_err(|e| format!("cannot make a VM: {}", e.report()))?;
        runtime
            .lua()
            .set_app_data(crate::builtins::env::Overlay(self.env.clone()));
        Ok(runtime)
    }
}

/// What a worker thread keeps between attempts.
#[derive(Default)]
pub struct Worker {
    /// The VM HTTP attempts run in (its requests bounded by their own timeout).
    http: Option<Runtime>,
}

impl Worker {
    fn http_vm(&mut self, context: &Context) -> Result<&Runtime, String> {
        if self.http.is_none() {
            self.http = Some(context.vm(None)?);
        }
        self.http.as_ref().ok_or_else(|| "no VM".to_owned())
    }
}

/// How an attempt went.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    pub passed: bool,
    /// Why it failed (empty when it passed).
    pub message: String,
    /// Values taken for later checks (on success).
    pub captures: Vec<(String, String)>,
    /// The check could not run as written (a script that does not load): reported as an
    /// error, not a failure, and not retried (nothing will change by the next attempt).
    pub errored: bool,
}

impl Outcome {
    pub fn pass(captures: Vec<(String, String)>) -> Self {
        Outcome {
            passed: true,
            message: String::new(),
            captures,
            errored: false,
        }
    }

    pub fn fail(message: impl Into<String>) -> Self {
        Outcome {
            passed: false,
            message: message.into(),
            captures: Vec::new(),
            errored: false,
        }
    }

    pub fn error(message: impl Into<String>) -> Self {
        Outcome {
            errored: true,
            ..Outcome::fail(message)
        }
    }
}

impl From<Result<Vec<(String, String)>, String>> for Outcome {
    fn from(result: Result<Vec<(String, String)>, String>) -> Self {
        match result {
            Ok(captures) => Outcome::pass(captures),
            Err(message) => Outcome::fail(message),
        }
    }
}

/// Runs one attempt of `kind`, ending within `limit`.
pub fn run(
    name: &str,
    kind: &Kind,
    context: &Context,
    limit: Duration,
    worker: &mut Worker,
) -> Outcome {
    match kind {
        Kind::Http(check) => http::http(check, context, limit, worker).into(),
        Kind::Prometheus(check) => http::prometheus(check, context, limit, worker).into(),
        Kind::Script(check) => script::run(name, check, context, limit),
        Kind::Tcp(check) => net::tcp(check, context, limit).into(),
        Kind::Dns(check) => net::dns(check, context, limit).into(),
    }
}
