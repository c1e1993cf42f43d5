//! The results of a run of checks (`assay check`) or tests (`assay test`), and the reporters
//! that write them: text for people, JSON for tools, JUnit XML and TAP 14 for CI. One model,
//! so the two commands report alike and every format says the same thing.
//!
//! Every string a report writes (names, messages, captures) has the run's secrets replaced
//! by `***` first ([`Mask`]), in every format.

mod json;
mod junit;
mod tap;
mod text;

use std::io::Write;
use std::time::Duration;

/// A whole run.
#[derive(Debug, Clone, Default)]
pub struct Run {
    /// What ran, for the reports' titles: the check files or test paths.
    pub name: String,
    /// What the cases are, plural (`checks`, `tests`): the JSON report's key.
    pub noun: &'static str,
    pub cases: Vec<Case>,
    pub duration: Duration,
}

impl Run {
    /// Passed when no case failed (skipped cases do not fail a run).
    pub fn passed(&self) -> bool {
        self.cases
            .iter()
            .all(|c| c.outcome != Outcome::Failed && c.outcome != Outcome::Error)
    }
}

/// How a case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    /// Its expectation was not met (an assertion, a status, a timeout).
    Failed,
    /// It could not be run as written (a script that does not load, a bad capture): JUnit's
    /// `<error>` rather than `<failure>`.
    Error,
    /// Not run: a check it depends on failed, or it was filtered out by `--only`.
    Skipped,
}

/// One check or test case.
#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    /// Where it comes from: a check file, or a test file (JUnit's classname, TAP's subtest).
    pub group: String,
    pub outcome: Outcome,
    /// Why it failed, errored or was skipped; empty when it passed.
    pub message: String,
    /// Every attempt, in order (one for a test case).
    pub attempts: Vec<Attempt>,
    pub duration: Duration,
    /// Values captured for later checks, in capture order.
    pub captures: Vec<(String, String)>,
}

/// One try of a case.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub passed: bool,
    /// What this try saw when it failed (empty when it passed).
    pub message: String,
    pub duration: Duration,
}

/// A report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Junit,
    Tap,
}

impl Format {
    pub fn parse(name: &str) -> Result<Format, String> {
        match name {
            "text" => Ok(Format::Text),
            "json" => Ok(Format::Json),
            "junit" => Ok(Format::Junit),
            "tap" => Ok(Format::Tap),
            other => Err(format!(
                "unknown format '{other}' (text, json, junit or tap)"
            )),
        }
    }
}

/// Secret values, replaced by `***` wherever a report would show them.
#[derive(Debug, Clone, Default)]
pub struct Mask {
    /// Longest first, so a secret containing another is masked whole.
    secrets: Vec<String>,
}

impl Mask {
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Self {
        let mut secrets: Vec<String> = secrets.into_iter().filter(|s| !s.is_empty()).collect();
        secrets.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        secrets.dedup();
        Mask { secrets }
    }

    pub fn apply(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), "***");
            }
        }
        out
    }

    /// [`Mask::apply`] on bytes that may not be UTF-8 (what scripts and processes print).
    pub fn apply_bytes(&self, bytes: &[u8]) -> Vec<u8> {
        let mut out = bytes.to_vec();
        for secret in &self.secrets {
            let secret = secret.as_bytes();
            let mut masked = Vec::with_capacity(out.len());
            let mut rest = &out[..];
            while let Some(at) = rest.windows(secret.len()).position(|w| w == secret) {
                masked.extend_from_slice(&rest[..at]);
                masked.extend_from_slice(b"***");
                rest = &rest[at + secret.len()..];
            }
            masked.extend_from_slice(rest);
            out = masked;
        }
        out
    }

    /// Masks `secrets` too from now on.
    pub fn add(&mut self, secrets: impl IntoIterator<Item = String>) {
        let all = std::mem::take(&mut self.secrets).into_iter().chain(secrets);
        *self = Mask::new(all);
    }
}

/// How to write a report.
#[derive(Debug, Clone, Default)]
pub struct Style {
    /// ANSI colours (text on a terminal).
    pub colour: bool,
    /// Every attempt, not only the outcome (text).
    pub verbose: bool,
    pub mask: Mask,
}

/// Writes `run` as `format`.
pub fn write(run: &Run, format: Format, style: &Style, out: &mut dyn Write) -> std::io::Result<()> {
    match format {
        Format::Text => text::write(run, style, out),
        Format::Json => json::write(run, style, out),
        Format::Junit => junit::write(run, style, out),
        Format::Tap => tap::write(run, style, out),
    }
}
