//! The JSON report: `{passed, duration_ms, <noun>: [{name, passed, skipped, attempts,
//! duration_ms, message, captures}]}` (API.md "Check mode"), one document, pretty-printed.

use std::io::Write;

use serde_json::{Map, Value, json};

use super::{Outcome, Run, Style};

pub fn write(run: &Run, style: &Style, out: &mut dyn Write) -> std::io::Result<()> {
    let mask = |s: &str| style.mask.apply(s);
    let cases: Vec<Value> = run
        .cases
        .iter()
        .map(|case| {
            let captures: Map<String, Value> = case
                .captures
                .iter()
                .map(|(k, v)| (mask(k), Value::String(mask(v))))
                .collect();
            json!({
                "name": mask(&case.name),
                "file": mask(&case.group),
                "passed": case.outcome == Outcome::Passed,
                "skipped": case.outcome == Outcome::Skipped,
                "error": case.outcome == Outcome::Error,
                "attempts": case.attempts.len(),
                "duration_ms": millis(case.duration),
                "message": mask(&case.message),
                "captures": captures,
            })
        })
        .collect();
    let mut doc = Map::new();
    doc.insert("passed".into(), run.passed().into());
    doc.insert("duration_ms".into(), millis(run.duration).into());
    doc.insert(run.noun.into(), Value::Array(cases));
    serde_json::to_writer_pretty(&mut *out, &Value::Object(doc))?;
    writeln!(out)
}

fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
