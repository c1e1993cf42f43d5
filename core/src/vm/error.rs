use super::memory::format_size;
use super::traced::Report;

/// Why a run did not succeed. [`RunError::exit_code`] maps it to the CLI's exit status.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Read(#[from] assay_files::ReadError),
    #[error("{}", .0.message)]
    Syntax(Report),
    #[error("{}", .0.message)]
    Script(Report),
    /// The run passed its deadline (`--timeout`); the traceback says where it was.
    #[error("{}", .0.message)]
    Timeout(Report),
    #[error("not enough memory: the script exceeded its memory limit of {} (raise it with --memory-limit)", format_size(*limit))]
    Memory { limit: usize },
    /// Failures nobody looked at: tasks never awaited, intervals stopped by an error (each
    /// reported when it happened, but for tasks someone was waiting for then).
    #[error("{}", unobserved_summary(.0))]
    Unobserved(crate::builtins::r#async::Unseen),
    #[error("setting up the VM failed: {0}")]
    Setup(#[source] mlua::Error),
    #[error("starting the executor failed: {0}")]
    Executor(#[source] std::io::Error),
}

impl RunError {
    /// 2 for what the user must fix before running (a missing file), 1 for what the script did.
    pub fn exit_code(&self) -> u8 {
        match self {
            RunError::Read(_) => 2,
            _ => 1,
        }
    }

    /// Everything a user needs on stderr: the message, then the traceback(s).
    pub fn report(&self) -> String {
        match self {
            RunError::Script(r) | RunError::Syntax(r) | RunError::Timeout(r) => join(r),
            RunError::Unobserved(unseen) => {
                let mut out = self.to_string();
                let tasks = &unseen.unreported;
                for r in tasks.iter().take(MAX_REPORTED) {
                    out.push('\n');
                    out.push_str(&join(r));
                }
                if tasks.len() > MAX_REPORTED {
                    let more = tasks.len() - MAX_REPORTED;
                    out.push_str(&format!("\n(and {more} more failed task(s))"));
                }
                out
            }
            other => other.to_string(),
        }
    }
}

/// Failed tasks whose reports are printed in full; a thousand identical tracebacks help nobody.
const MAX_REPORTED: usize = 10;

fn join(r: &Report) -> String {
    if r.traceback.is_empty() {
        r.message.clone()
    } else {
        format!("{}\n{}", r.message, r.traceback)
    }
}

fn unobserved_summary(unseen: &crate::builtins::r#async::Unseen) -> String {
    let mut parts = Vec::new();
    if unseen.tasks > 0 {
        let mut part = format!(
            "{} spawned task(s) failed and were never awaited",
            unseen.tasks
        );
        let shown = unseen.tasks - unseen.unreported.len();
        if shown > 0 {
            part.push_str(&format!(" ({shown} shown above as they failed)"));
        }
        parts.push(part);
    }
    if unseen.intervals > 0 {
        parts.push(format!(
            "{} interval(s) stopped by an error (shown above)",
            unseen.intervals
        ));
    }
    parts.join("; ")
}
