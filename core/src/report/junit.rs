//! JUnit XML as CI servers read it (Jenkins, GitLab, GitHub actions that publish results):
//! `<testsuites>` with one `<testsuite>` per file, one `<testcase>` per case, `<failure>` for
//! an expectation not met, `<error>` for a case that could not run, `<skipped>`, and the
//! attempts as a property of the case.

use std::io::Write;

use super::{Case, Outcome, Run, Style};

pub fn write(run: &Run, style: &Style, out: &mut dyn Write) -> std::io::Result<()> {
    let count = |o: Outcome| run.cases.iter().filter(|c| c.outcome == o).count();
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="{}" tests="{}" failures="{}" errors="{}" skipped="{}" time="{:.3}">"#,
        attr(&style.mask.apply(&run.name)),
        run.cases.len(),
        count(Outcome::Failed),
        count(Outcome::Error),
        count(Outcome::Skipped),
        run.duration.as_secs_f64()
    )?;
    let mut groups: Vec<&str> = Vec::new();
    for case in &run.cases {
        if !groups.contains(&case.group.as_str()) {
            groups.push(&case.group);
        }
    }
    for group in groups {
        let cases: Vec<&Case> = run.cases.iter().filter(|c| c.group == group).collect();
        let in_group = |o: Outcome| cases.iter().filter(|c| c.outcome == o).count();
        let time: f64 = cases.iter().map(|c| c.duration.as_secs_f64()).sum();
        writeln!(
            out,
            r#"  <testsuite name="{}" tests="{}" failures="{}" errors="{}" skipped="{}" time="{time:.3}">"#,
            attr(&style.mask.apply(group)),
            cases.len(),
            in_group(Outcome::Failed),
            in_group(Outcome::Error),
            in_group(Outcome::Skipped),
        )?;
        for case in cases {
            write_case(case, style, out)?;
        }
        writeln!(out, "  </testsuite>")?;
    }
    writeln!(out, "</testsuites>")
}

fn write_case(case: &Case, style: &Style, out: &mut dyn Write) -> std::io::Result<()> {
    let message = style.mask.apply(&case.message);
    writeln!(
        out,
        r#"    <testcase name="{}" classname="{}" time="{:.3}">"#,
        attr(&style.mask.apply(&case.name)),
        attr(&style.mask.apply(&case.group)),
        case.duration.as_secs_f64()
    )?;
    writeln!(out, "      <properties>")?;
    writeln!(
        out,
        r#"        <property name="attempts" value="{}"/>"#,
        case.attempts.len()
    )?;
    writeln!(out, "      </properties>")?;
    let first_line = message.lines().next().unwrap_or("");
    match case.outcome {
        Outcome::Passed => {}
        Outcome::Skipped => writeln!(out, r#"      <skipped message="{}"/>"#, attr(first_line))?,
        Outcome::Failed | Outcome::Error => {
            let tag = if case.outcome == Outcome::Error {
                "error"
            } else {
                "failure"
            };
            let mut details = String::new();
            for (i, attempt) in case.attempts.iter().enumerate() {
                let how = if attempt.passed {
                    "passed".to_owned()
                } else {
                    style.mask.apply(&attempt.message)
                };
                details.push_str(&format!("attempt {}: {how}\n", i + 1));
            }
            if details.is_empty() {
                details = message.clone();
            }
            writeln!(
                out,
                r#"      <{tag} message="{}" type="{tag}">{}</{tag}>"#,
                attr(first_line),
                text(&details)
            )?;
        }
    }
    writeln!(out, "    </testcase>")
}

/// Text in an attribute: escaped, and characters XML 1.0 cannot hold dropped.
fn attr(s: &str) -> String {
    text(s).replace('"', "&quot;").replace('\n', "&#10;")
}

fn text(s: &str) -> String {
    s.chars()
        .filter(|c| {
            matches!(c, '\t' | '\n' | '\r') || (*c >= ' ' && *c != '\u{FFFE}' && *c != '\u{FFFF}')
        })
        .collect::<String>()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
