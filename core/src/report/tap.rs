//! TAP: a plan, `ok`/`not ok` per case, `# SKIP` for skipped ones, and a YAML block under
//! each failure (message, attempts, duration). Everything here is TAP 13, which TAP 14
//! harnesses read too (the 14 spec keeps 13 documents valid); the document says
//! `TAP version 13` because `prove` (Test::Harness 3.44, what Debian ships) refuses a
//! version 14 line as "later than 13", and subtests, 14's addition, are not needed.

use std::io::Write;

use super::{Outcome, Run, Style};

pub fn write(run: &Run, style: &Style, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "TAP version 13")?;
    writeln!(out, "1..{}", run.cases.len())?;
    for (i, case) in run.cases.iter().enumerate() {
        // A description may not hold '#' unescaped (it starts a directive) nor a line break.
        let name = style
            .mask
            .apply(&case.name)
            .replace('\\', "\\\\")
            .replace('#', "\\#")
            .replace(['\n', '\r'], " ");
        let message = style.mask.apply(&case.message);
        match case.outcome {
            Outcome::Passed => writeln!(out, "ok {} - {name}", i + 1)?,
            Outcome::Skipped => writeln!(
                out,
                "ok {} - {name} # SKIP {}",
                i + 1,
                message.replace(['\n', '\r'], " ")
            )?,
            Outcome::Failed | Outcome::Error => {
                writeln!(out, "not ok {} - {name}", i + 1)?;
                writeln!(out, "  ---")?;
                writeln!(out, "  message: {}", yaml_string(&message))?;
                writeln!(
                    out,
                    "  severity: {}",
                    if case.outcome == Outcome::Error {
                        "error"
                    } else {
                        "fail"
                    }
                )?;
                writeln!(out, "  attempts: {}", case.attempts.len())?;
                writeln!(out, "  duration_ms: {}", case.duration.as_millis())?;
                writeln!(out, "  ...")?;
            }
        }
    }
    Ok(())
}

/// A YAML double-quoted string (JSON's escapes are YAML's).
fn yaml_string(text: &str) -> String {
    serde_json::Value::String(text.to_owned()).to_string()
}
