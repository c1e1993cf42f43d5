//! `assay update [PKG...]`: a project's packages moved within their requirements.

use super::Failure;
use super::spec::Matches;
use crate::install::plan::Mode;

pub fn run(matches: &Matches) -> Result<u8, Failure> {
    super::install::execute("update", matches, Mode::Update(matches.positionals.clone()))
}
