//! Check mode (`assay check FILE...`, `assay FILE.yaml`): YAML files of checks, validated
//! whole before anything runs, then run with retries, backoff, deadlines and parallelism, and
//! reported through [`crate::report`].
//!
//! Being built (issue 14): the file's tree with lines ([`tree`]), field reading with
//! line-numbered errors ([`fields`]), durations and `${name}` templates are in; the schema,
//! the runner and the check kinds come next.

pub mod attempt;
pub mod config;
pub mod duration;
pub mod expect;
mod expectations;
pub mod fields;
pub mod graph;
pub mod include;
pub mod jsonpath;
pub mod kinds;
pub mod pairs;
pub mod run;
pub mod secrets;
pub mod template;
pub mod tree;
pub mod validate;
