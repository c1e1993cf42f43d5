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
    /// Masks each secret as written and in the forms a message may quote it in: escaped as
    /// Rust's `{:?}` and JSON show strings, and percent-encoded as URLs carry it (every byte
    /// but the unreserved ones, and the WHATWG path, query and userinfo sets).
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Self {
        let mut secrets: Vec<String> = secrets
            .into_iter()
            .filter(|s| !s.is_empty())
            .flat_map(|s| quoted_forms(&s).into_iter().chain([s]))
            .collect();
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

/// The ways `secret` can appear quoted or encoded in a message (may repeat it).
fn quoted_forms(secret: &str) -> Vec<String> {
    let unquote = |s: String| s[1..s.len() - 1].to_owned();
    let mut forms = vec![
        unquote(format!("{secret:?}")),
        unquote(serde_json::Value::from(secret).to_string()),
    ];
    // Percent-encoding sets, from the strictest (everything but A-Z a-z 0-9 - . _ ~).
    let path = |b: u8| b" \"#<>?`{}".contains(&b);
    let sets: [&dyn Fn(u8) -> bool; 4] = [
        &|b: u8| !(b.is_ascii_alphanumeric() || b"-._~".contains(&b)),
        &path,
        &|b: u8| b" \"#<>'".contains(&b),
        &|b: u8| path(b) || b"/:;=@[\\]^|".contains(&b),
    ];
    for encode in sets {
        let mut out = String::new();
        for &b in secret.as_bytes() {
            if !(0x21..0x7f).contains(&b) || encode(b) {
                out.push_str(&format!("%{b:02X}"));
            } else {
                out.push(b as char);
            }
        }
        forms.push(out.replace("%20", "+"));
        forms.push(out);
    }
    forms.retain(|f| f != secret);
    forms
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
