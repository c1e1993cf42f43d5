//! What a check file must satisfy as a whole, once every file of the run is read.

use std::collections::{HashMap, HashSet};

use super::config::Config;
use super::fields::{ConfigError, error};
use super::graph;
use super::kinds::Kind;

/// The checks as a whole: unique names, dependencies that exist and do not loop, and every
/// `${name}` something can give.
pub fn validate(config: &Config) -> Result<(), ConfigError> {
    let mut names = HashSet::new();
    for check in &config.checks {
        if !names.insert(check.name.as_str()) {
            let first = config
                .checks
                .iter()
                .find(|c| c.name == check.name)
                .map_or(0, |c| c.line);
            return Err(error(
                &check.file,
                check.line,
                format!(
                    "check '{}': a second check of that name (the first is at line {first})",
                    check.name
                ),
            ));
        }
    }
    for check in &config.checks {
        for dep in &check.depends_on {
            if !names.contains(dep.as_str()) {
                return Err(error(
                    &check.file,
                    check.line,
                    format!(
                        "check '{}': depends_on '{dep}', which no check is named",
                        check.name
                    ),
                ));
            }
        }
    }
    let needs = graph::dependencies(config);
    if let Some(cycle) = graph::find_cycle(&needs) {
        let check = &config.checks[cycle[0]];
        let path: Vec<&str> = cycle
            .iter()
            .map(|i| config.checks[*i].name.as_str())
            .collect();
        return Err(error(
            &check.file,
            check.line,
            format!(
                "check '{}': its dependencies make a cycle ({} -> {}; a check waits for those \
                 its depends_on names and for those capturing a ${{name}} it uses)",
                check.name,
                path.join(" -> "),
                path[0]
            ),
        ));
    }
    let mut capturers: HashMap<&str, Vec<usize>> = HashMap::new();
    for (j, check) in config.checks.iter().enumerate() {
        for name in check.kind.captures() {
            capturers.entry(name).or_default().push(j);
        }
    }
    for (i, check) in config.checks.iter().enumerate() {
        let captured_by_others = |name: &str| {
            capturers
                .get(name)
                .is_some_and(|by| by.iter().any(|j| *j != i))
        };
        let given = |name: &str| {
            config.var(name).is_some()
                || config.env(name).is_some()
                || std::env::var_os(name).is_some()
        };
        // A script's captures are known only when it returns them: a name may be one if
        // the check runs after a script check (its value is then checked as it renders).
        let after_script = || {
            graph::upstream(&needs, i)
                .into_iter()
                .any(|j| matches!(config.checks[j].kind, Kind::Script(_)))
        };
        for name in check.kind.names() {
            if given(name) || captured_by_others(name) {
                continue;
            }
            let why = if check.kind.captures().any(|n| n == name) {
                "is this check's own capture: it has no value before the check has passed"
                    .to_owned()
            } else if after_script() {
                continue;
            } else {
                format!(
                    "is not a var, a capture of another check or an environment variable (set it \
                     in 'vars', with --var {name}=..., or in the environment; a script check's \
                     capture needs depends_on that check)"
                )
            };
            return Err(error(
                &check.file,
                check.line,
                format!("check '{}': '${{{name}}}' {why}", check.name),
            ));
        }
    }
    // A secret names something to mask (a typo would leave the real value shown), or what
    // a script check may capture.
    let any_script = config
        .checks
        .iter()
        .any(|c| matches!(c.kind, Kind::Script(_)));
    for secret in &config.secrets {
        let known = config.var(&secret.name).is_some()
            || config.env(&secret.name).is_some()
            || capturers.contains_key(secret.name.as_str())
            || std::env::var_os(&secret.name).is_some();
        if !known && !any_script {
            return Err(error(
                &secret.file,
                secret.line,
                format!(
                    "secret '{}' is not a var, an env variable or a capture (nothing to mask)",
                    secret.name
                ),
            ));
        }
    }
    Ok(())
}
