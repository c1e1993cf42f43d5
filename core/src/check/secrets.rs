//! Which values are secret: each name in `secrets` is looked up as a var, in the files' `env`,
//! in the process environment and among captures, and every value found is masked.

use super::config::Config;
use crate::report::Mask;

/// The values of the run's secrets, given what has been captured so far.
pub fn values<'a>(
    config: &Config,
    captured: impl IntoIterator<Item = (&'a str, &'a str)> + Clone,
) -> Vec<String> {
    let mut values = Vec::new();
    for name in config.secrets.iter().map(|s| s.name.as_str()) {
        values.extend(config.var(name).map(str::to_owned));
        values.extend(config.env(name).map(str::to_owned));
        values.extend(std::env::var(name).ok());
        values.extend(
            captured
                .clone()
                .into_iter()
                .filter(|(k, _)| *k == name)
                .map(|(_, v)| v.to_owned()),
        );
    }
    values
}

/// A mask of the run's secrets, given what has been captured so far.
pub fn mask<'a>(
    config: &Config,
    captured: impl IntoIterator<Item = (&'a str, &'a str)> + Clone,
) -> Mask {
    Mask::new(values(config, captured))
}
