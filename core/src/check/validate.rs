//! What a check file must satisfy as a whole, once every file of the run is read.

use std::collections::HashSet;

use super::config::Config;
use super::fields::{ConfigError, error};
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
    if let Some(cycle) = find_cycle(config) {
        let check = &config.checks[cycle[0]];
        let path: Vec<&str> = cycle
            .iter()
            .map(|i| config.checks[*i].name.as_str())
            .collect();
        return Err(error(
            &check.file,
            check.line,
            format!(
                "check '{}': depends_on makes a cycle ({} -> {})",
                check.name,
                path.join(" -> "),
                path[0]
            ),
        ));
    }
    let captured: HashSet<&str> = config
        .checks
        .iter()
        .flat_map(|c| c.kind.captures())
        .collect();
    let known = |name: &str| {
        config.var(name).is_some()
            || config.env(name).is_some()
            || captured.contains(name)
            || std::env::var_os(name).is_some()
    };
    for (i, check) in config.checks.iter().enumerate() {
        // A script's captures are known only when it returns them: a name may be one if
        // the check runs after a script check (its value is then checked as it renders).
        let after_script = || {
            upstream(config, i)
                .into_iter()
                .any(|j| matches!(config.checks[j].kind, Kind::Script(_)))
        };
        for name in check.kind.names() {
            if !known(name) && !after_script() {
                return Err(error(
                    &check.file,
                    check.line,
                    format!(
                        "check '{}': '${{{name}}}' is not a var, a capture of another check or an \
                     environment variable (set it in 'vars', with --var {name}=..., or in the \
                     environment; a script check's capture needs depends_on that check)",
                        check.name
                    ),
                ));
            }
        }
    }
    // A secret names something to mask (a typo would leave the real value shown), or what
    // a script check may capture.
    let any_script = config
        .checks
        .iter()
        .any(|c| matches!(c.kind, Kind::Script(_)));
    for secret in &config.secrets {
        if !known(&secret.name) && !any_script {
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

/// The checks check `i` runs after, directly or not (by `depends_on`).
fn upstream(config: &Config, i: usize) -> Vec<usize> {
    let mut found: Vec<usize> = Vec::new();
    let mut todo = vec![i];
    while let Some(k) = todo.pop() {
        for dep in &config.checks[k].depends_on {
            if let Some(j) = config.checks.iter().position(|c| &c.name == dep)
                && !found.contains(&j)
            {
                found.push(j);
                todo.push(j);
            }
        }
    }
    found
}

/// A cycle of `depends_on`, as check indexes, if there is one.
fn find_cycle(config: &Config) -> Option<Vec<usize>> {
    let index = |name: &str| config.checks.iter().position(|c| c.name == name);
    // 0 unvisited, 1 on the current path, 2 done.
    let mut state = vec![0u8; config.checks.len()];
    let mut path = Vec::new();
    fn visit(
        at: usize,
        config: &Config,
        index: &dyn Fn(&str) -> Option<usize>,
        state: &mut [u8],
        path: &mut Vec<usize>,
    ) -> Option<Vec<usize>> {
        state[at] = 1;
        path.push(at);
        for dep in &config.checks[at].depends_on {
            let Some(next) = index(dep) else { continue };
            match state[next] {
                1 => {
                    let from = path.iter().position(|p| *p == next).unwrap_or(0);
                    return Some(path[from..].to_vec());
                }
                0 => {
                    if let Some(cycle) = visit(next, config, index, state, path) {
                        return Some(cycle);
                    }
                }
                _ => {}
            }
        }
        path.pop();
        state[at] = 2;
        None
    }
    (0..config.checks.len()).find_map(|start| {
        if state[start] == 0 {
            visit(start, config, &index, &mut state, &mut path)
        } else {
            None
        }
    })
}
