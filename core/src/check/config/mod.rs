//! The schema of a check file, read whole before anything runs.
//!
//! ```yaml
//! timeout: 60s          # the whole run's deadline
//! retries: 3            # attempts after the first, per check (default 0)
//! backoff: 1s           # exponential with full jitter from 1s (doubling, at most 30s)
//! # backoff: {initial: 1s, max: 30s, factor: 2, jitter: true}
//! # interval: 5s        # or a fixed wait, as Kubernetes probes (not with backoff)
//! attempt_timeout: 10s  # each attempt's limit, unless a check sets its own `timeout`
//! parallel: 4           # checks at once (default 1: in file order)
//! include: [common/*.yaml]
//! env: {KEY: value}     # for scripts and ${KEY}
//! vars: {base: "http://api"}
//! secrets: [API_TOKEN]  # names of vars or env variables masked as *** everywhere
//! checks: [...]         # each with name, type and the type's fields (see `kinds`)
//! ```
//!
//! An included file (paths and `*`/`?` globs beside the including file, matched in sorted
//! order; a glob may match nothing, a plain path must exist) adds its `checks`, `vars`, `env`
//! and `secrets`; its `retries`/`backoff`/`interval`/`attempt_timeout` are defaults for its own checks;
//! the whole run's `timeout` and `parallel` belong to the first file only. A var set twice
//! keeps the first value (the including file wins), and `--var` wins over all.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::fields::{ConfigError, Fields, error};
use super::kinds::{self, Kind};
use super::pairs::Pairs;
use super::tree::{self, Node, Value};

/// A check file is refused past this size (they are hand-written).
const MAX_FILE: u64 = 4 << 20;

/// Included files, all told.
const MAX_FILES: usize = 256;

/// Checks in a run.
const MAX_CHECKS: usize = 10_000;

/// How a check retries.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// Attempts after the first.
    pub retries: u32,
    pub wait: Wait,
    /// One attempt's time limit (`None`: up to the run's deadline).
    pub timeout: Option<Duration>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            retries: 0,
            wait: Wait::Backoff {
                initial: Duration::from_secs(1),
                max: Duration::from_secs(30),
                factor: 2.0,
                jitter: true,
            },
            timeout: None,
        }
    }
}

/// The wait between attempts.
#[derive(Debug, Clone, PartialEq)]
pub enum Wait {
    /// Exponential with full jitter: before attempt n (n >= 1) a random wait in
    /// `0..=min(max, initial * factor^(n-1))`.
    Backoff {
        initial: Duration,
        max: Duration,
        factor: f64,
        /// Full jitter (the default): a random wait up to the ceiling, so that many clients
        /// retrying the same server spread out; without it, the ceiling itself.
        jitter: bool,
    },
    /// The same wait every time.
    Interval(Duration),
}

/// One check as the file wrote it.
#[derive(Debug, Clone)]
pub struct Check {
    pub name: String,
    pub file: PathBuf,
    pub line: usize,
    pub policy: Policy,
    pub depends_on: Vec<String>,
    pub kind: Kind,
}

/// A whole run's configuration: the first file and what it includes.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub timeout: Option<Duration>,
    pub parallel: usize,
    pub env: Pairs,
    pub vars: Pairs,
    pub secrets: Vec<Secret>,
    pub checks: Vec<Check>,
}

/// A name in `secrets`, with where it was written (for the error when it names nothing).
#[derive(Debug, Clone)]
pub struct Secret {
    pub name: String,
    pub file: PathBuf,
    pub line: usize,
}

impl Config {
    /// Reads `paths` (each with what it includes), then checks the whole: unique names,
    /// known dependencies without cycles, and every `${name}` a var, a capture or an
    /// environment variable. `vars` (from `--var`, the last of a name) win over the files'.
    pub fn load(paths: &[PathBuf], vars: &[(String, String)]) -> Result<Config, ConfigError> {
        let mut config = Config {
            parallel: 1,
            ..Config::default()
        };
        // The last `--var` of a name wins, as with most command lines.
        for (name, value) in vars.iter().rev() {
            config.vars.add(name.clone(), value.clone());
        }
        let mut seen = HashSet::new();
        for (i, path) in paths.iter().enumerate() {
            read(&mut config, path, i == 0, &Policy::default(), &mut seen)?;
        }
        if let (Some(first), true) = (paths.first(), config.checks.is_empty()) {
            return Err(error(
                first,
                1,
                "no checks to run (the 'checks' lists are empty)",
            ));
        }
        super::validate::validate(&config)?;
        Ok(config)
    }

    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars.get(name)
    }

    pub fn env(&self, name: &str) -> Option<&str> {
        self.env.get(name)
    }
}

const TOP_KEYS: &[&str] = &[
    "timeout",
    "retries",
    "backoff",
    "interval",
    "attempt_timeout",
    "parallel",
    "include",
    "env",
    "vars",
    "secrets",
    "checks",
];

fn read(
    config: &mut Config,
    path: &Path,
    first: bool,
    inherited: &Policy,
    seen: &mut HashSet<PathBuf>,
) -> Result<(), ConfigError> {
    let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
    if !seen.insert(canonical) {
        return Err(error(
            path,
            1,
            "included twice (an include cycle, or the same file twice)",
        ));
    }
    if seen.len() > MAX_FILES {
        return Err(error(
            path,
            1,
            format!("more than {MAX_FILES} files included"),
        ));
    }
    let bytes =
        assay_files::read_capped(path, MAX_FILE).map_err(|e| error(path, 0, e.to_string()))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        error(
            path,
            0,
            format!(
                "not UTF-8 text (byte {} is not)",
                e.utf8_error().valid_up_to() + 1
            ),
        )
    })?;
    let root = tree::parse(&text).map_err(|e| error(path, e.line, e.message))?;
    let Some(root) = root else {
        return Err(error(
            path,
            1,
            "the file is empty (a check file has a 'checks' list)",
        ));
    };
    let top = Fields::of(path, "the file", &root)?;
    if first {
        config.timeout = top.duration("timeout")?;
        if config.timeout.is_some_and(|t| t.is_zero()) {
            return Err(top.error(
                top.get("timeout").map_or(top.line, |n| n.line),
                "'timeout': more than 0 (leave it out for no deadline)",
            ));
        }
        if let Some(n) = top.count("parallel", 1024)? {
            if n == 0 {
                return Err(top.error(top.line, "'parallel': at least 1"));
            }
            config.parallel = n as usize;
        }
    } else {
        for key in ["timeout", "parallel"] {
            if let Some(node) = top.get(key) {
                return Err(top.error(
                    node.line,
                    format!(
                        "'{key}' belongs to the first file of a run (the first named on the \
                         command line), not to one it includes or one named after it"
                    ),
                ));
            }
        }
    }
    let policy = policy(&top, inherited, "attempt_timeout")?;
    for (key, value) in top.string_map("vars")? {
        config.vars.add(key.name, value);
    }
    for (key, value) in top.string_map("env")? {
        config.env.add(key.name, value);
    }
    for (line, name) in top.strings("secrets")? {
        if !config.secrets.iter().any(|s| s.name == name) {
            config.secrets.push(Secret {
                name,
                file: path.to_owned(),
                line,
            });
        }
    }
    let includes = top.strings("include")?;
    let checks = top.get("checks");
    top.finish(TOP_KEYS)?;
    match checks {
        Some(node) => read_checks(config, path, node, &policy)?,
        None if first && includes.is_empty() => {
            return Err(top.error(top.line, "'checks' is missing (the list of checks to run)"));
        }
        None => {}
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    for (line, pattern) in includes {
        let here = std::fs::canonicalize(path).ok();
        for included in super::include::expand(dir, &pattern)
            .map_err(|why| error(path, line, format!("include '{pattern}': {why}")))?
        {
            // `include: ["*.yaml"]` means the others beside it, not the file itself.
            let is_self = || std::fs::canonicalize(&included).ok() == here;
            if pattern.contains(['*', '?']) && is_self() {
                continue;
            }
            read(config, &included, false, &policy, seen)?;
        }
    }
    Ok(())
}

/// `retries`, `backoff`, `interval` and the attempt timeout of a mapping (the file's top
/// level, or a check), over `inherited`.
pub fn policy(
    fields: &Fields<'_>,
    inherited: &Policy,
    timeout_key: &str,
) -> Result<Policy, ConfigError> {
    let mut policy = inherited.clone();
    if let Some(n) = fields.count("retries", 1000)? {
        policy.retries = n as u32;
    }
    if let Some(t) = fields.duration(timeout_key)? {
        if t.is_zero() {
            return Err(fields.error(fields.line, format!("'{timeout_key}': must be more than 0")));
        }
        policy.timeout = Some(t);
    }
    match (fields.get("backoff"), fields.get("interval")) {
        (Some(_), Some(interval)) => {
            return Err(fields.error(interval.line, "'backoff' and 'interval' cannot both be set"));
        }
        (Some(node), None) => policy.wait = backoff(fields, node)?,
        (None, Some(node)) => policy.wait = Wait::Interval(fields.duration_of("interval", node)?),
        (None, None) => {}
    }
    Ok(policy)
}

fn backoff(fields: &Fields<'_>, node: &Node) -> Result<Wait, ConfigError> {
    if !matches!(node.value, Value::Map(_)) {
        let initial = fields.duration_of("backoff", node)?;
        return Ok(Wait::Backoff {
            initial,
            max: Duration::from_secs(30).max(initial),
            factor: 2.0,
            jitter: true,
        });
    }
    let parts = Fields::of(fields.file(), format!("{}: backoff", fields.what), node)?;
    let initial = parts.duration("initial")?.unwrap_or(Duration::from_secs(1));
    let max = parts
        .duration("max")?
        .unwrap_or(Duration::from_secs(30).max(initial));
    let factor = parts.number("factor")?.unwrap_or(2.0);
    let jitter = parts.boolean("jitter")?.unwrap_or(true);
    parts.finish(&["initial", "max", "factor", "jitter"])?;
    if !(1.0..=100.0).contains(&factor) {
        return Err(parts.error(node.line, format!("'factor': {factor} is not in 1..100")));
    }
    if max < initial {
        return Err(parts.error(node.line, "'max' is less than 'initial'"));
    }
    Ok(Wait::Backoff {
        initial,
        max,
        factor,
        jitter,
    })
}

const CHECK_KEYS: &[&str] = &[
    "name",
    "type",
    "retries",
    "backoff",
    "interval",
    "timeout",
    "depends_on",
];

fn read_checks(
    config: &mut Config,
    path: &Path,
    node: &Node,
    defaults: &Policy,
) -> Result<(), ConfigError> {
    let Value::Seq(items) = &node.value else {
        return Err(error(
            path,
            node.line,
            format!("'checks': a list expected, got {}", node.kind()),
        ));
    };
    for item in items {
        if config.checks.len() >= MAX_CHECKS {
            return Err(error(
                path,
                item.line,
                format!("more than {MAX_CHECKS} checks"),
            ));
        }
        let index = config.checks.len();
        let mut fields = Fields::of(path, format!("checks[{index}]"), item)?;
        let name = fields
            .string("name")?
            .ok_or_else(|| fields.error(item.line, "'name' is missing"))?;
        if name.trim().is_empty() {
            return Err(fields.error(item.line, "'name' is empty"));
        }
        fields.what = format!("check '{name}'");
        let kind_name = fields.string("type")?.ok_or_else(|| {
            fields.error(
                item.line,
                format!("'type' is missing (one of {})", kinds::NAMES.join(", ")),
            )
        })?;
        let keys = kinds::keys(&fields, &kind_name)?;
        let known: Vec<&str> = CHECK_KEYS.iter().chain(keys).copied().collect();
        fields.only(&known)?;
        let check_policy = policy(&fields, defaults, "timeout")?;
        let depends_on = fields
            .strings("depends_on")?
            .into_iter()
            .map(|(_, n)| n)
            .collect();
        let kind = kinds::read(&fields, &kind_name)?;
        fields.finish(&known)?;
        config.checks.push(Check {
            name,
            file: path.to_owned(),
            line: item.line,
            policy: check_policy,
            depends_on,
            kind,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
