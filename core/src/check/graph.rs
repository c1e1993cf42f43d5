//! The order checks run in: what each check waits for, and the cycle that would make any
//! order impossible. A check waits for the checks its `depends_on` names and, without saying
//! so, for the checks that capture a `${name}` it uses (unless a var gives that name: vars
//! come first). Both the validator (a cycle is a config error) and the scheduler use this one
//! graph, so a loop through captures is caught before anything runs.

use std::collections::HashMap;

use super::config::Config;

/// Each check's dependencies, as indexes into `config.checks`.
pub fn dependencies(config: &Config) -> Vec<Vec<usize>> {
    let index: HashMap<&str, usize> = config
        .checks
        .iter()
        .enumerate()
        .map(|(i, c)| (c.name.as_str(), i))
        .collect();
    let mut capturers: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, check) in config.checks.iter().enumerate() {
        for name in check.kind.captures() {
            capturers.entry(name).or_default().push(i);
        }
    }
    config
        .checks
        .iter()
        .enumerate()
        .map(|(i, check)| {
            let mut needs: Vec<usize> = check
                .depends_on
                .iter()
                .filter_map(|d| index.get(d.as_str()).copied())
                .collect();
            for name in check.kind.names() {
                if config.var(name).is_some() {
                    continue;
                }
                for &j in capturers.get(name).map_or(&[][..], Vec::as_slice) {
                    if j != i && !needs.contains(&j) {
                        needs.push(j);
                    }
                }
            }
            needs
        })
        .collect()
}

/// The checks `i` waits for, directly or not.
pub fn upstream(needs: &[Vec<usize>], i: usize) -> Vec<usize> {
    let mut seen = vec![false; needs.len()];
    let mut found = Vec::new();
    let mut todo = vec![i];
    while let Some(k) = todo.pop() {
        for &j in &needs[k] {
            if !seen[j] {
                seen[j] = true;
                found.push(j);
                todo.push(j);
            }
        }
    }
    found
}

/// A cycle, as check indexes in the order they wait for each other, if there is one.
/// Iterative, so a long chain of checks cannot overflow the stack.
pub fn find_cycle(needs: &[Vec<usize>]) -> Option<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnPath,
        Done,
    }
    let mut mark = vec![Mark::New; needs.len()];
    for start in 0..needs.len() {
        if mark[start] != Mark::New {
            continue;
        }
        // The current path, each entry with the next dependency to look at.
        let mut path: Vec<(usize, usize)> = vec![(start, 0)];
        mark[start] = Mark::OnPath;
        while let Some((at, next)) = path.last_mut() {
            let at = *at;
            let Some(&dep) = needs[at].get(*next) else {
                mark[at] = Mark::Done;
                path.pop();
                continue;
            };
            *next += 1;
            match mark[dep] {
                Mark::OnPath => {
                    let from = path.iter().position(|(p, _)| *p == dep).unwrap_or(0);
                    return Some(path[from..].iter().map(|(p, _)| *p).collect());
                }
                Mark::New => {
                    mark[dep] = Mark::OnPath;
                    path.push((dep, 0));
                }
                Mark::Done => {}
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cycles_are_found_without_recursion() {
        assert_eq!(find_cycle(&[vec![1], vec![2], vec![]]), None);
        assert_eq!(
            find_cycle(&[vec![1], vec![2], vec![0]]),
            Some(vec![0, 1, 2])
        );
        assert_eq!(find_cycle(&[vec![], vec![2], vec![1]]), Some(vec![1, 2]));
        // A chain far longer than any stack would take recursively.
        let n = 1_000_000;
        let mut chain: Vec<Vec<usize>> = (0..n).map(|i| vec![i + 1]).collect();
        chain[n - 1] = vec![];
        assert_eq!(find_cycle(&chain), None);
        chain[n - 1] = vec![0];
        assert_eq!(find_cycle(&chain).map(|c| c.len()), Some(n));
        assert_eq!(upstream(&[vec![1], vec![2], vec![]], 0), vec![1, 2]);
    }
}
