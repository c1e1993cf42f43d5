//! The text report for people: a line per case (`✓`, `✗`, `-`), its attempts with `-v`,
//! then a summary; colours on a terminal.

use std::io::Write;

use super::{Outcome, Run, Style};

pub fn write(run: &Run, style: &Style, out: &mut dyn Write) -> std::io::Result<()> {
    let paint = |code: &str, text: &str| {
        if style.colour {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    };
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    for case in &run.cases {
        let name = style.mask.apply(&case.name);
        let message = style.mask.apply(&case.message);
        let took = crate::check::duration::show(case.duration);
        let tries = match case.attempts.len() {
            0 | 1 => String::new(),
            n => format!(", {n} attempts"),
        };
        match case.outcome {
            Outcome::Passed => {
                passed += 1;
                writeln!(out, "{} {name} ({took}{tries})", paint("32", "✓"))?;
            }
            Outcome::Skipped => {
                skipped += 1;
                writeln!(out, "{} {name} ({message})", paint("33", "-"))?;
            }
            Outcome::Failed | Outcome::Error => {
                failed += 1;
                writeln!(
                    out,
                    "{} {name} ({took}{tries}): {message}",
                    paint("31", "✗")
                )?;
            }
        }
        if style.verbose && case.attempts.len() > 1 {
            for (i, attempt) in case.attempts.iter().enumerate() {
                let how = if attempt.passed {
                    "passed".to_owned()
                } else {
                    style.mask.apply(&attempt.message)
                };
                writeln!(
                    out,
                    "    attempt {} ({}): {how}",
                    i + 1,
                    crate::check::duration::show(attempt.duration)
                )?;
            }
        }
    }
    let summary = format!(
        "{passed} passed, {failed} failed, {skipped} skipped in {}",
        crate::check::duration::show(run.duration)
    );
    let colour = if failed > 0 { "31" } else { "32" };
    writeln!(out, "{}", paint(colour, &summary))
}
