//! The results of a run of checks (`assay check`) or tests (`assay test`), and the reporters
//! that write them: text for people, JSON for tools, JUnit XML and TAP 14 for CI. One model,
//! so the two commands report alike and every format says the same thing.

use std::time::Duration;

/// A whole run.
#[derive(Debug, Clone, Default)]
pub struct Run {
    /// What ran, for the reports' titles: the check files or test paths.
    pub name: String,
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
