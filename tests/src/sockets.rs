//! What `ss` shows of a test's TCP connections, to check that nothing is left half-closed.

use std::process::Command;

/// The TCP sockets in `state` (`close-wait`, `established`, ...) matching the `ss` filter
/// `filter` (`sport = :8080`: a server's; `dport = :8080`: its clients'), one line each.
pub fn tcp_sockets(state: &str, filter: &str) -> Vec<String> {
    let mut args = vec!["-tanH", "state", state];
    args.extend(filter.split_whitespace());
    let out = Command::new("ss")
        .args(&args)
        .output()
        .unwrap_or_else(|e| panic!("`ss` (iproute2) is required for the socket checks: {e}"));
    assert!(
        out.status.success(),
        "ss {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect()
}
