//! The semver rules, in one place.
//!
//! Requirements are Cargo's: `0.2` and `^0.2` accept `>=0.2.0, <0.3.0`; `>=1, <2`, `~1.4`, `*`
//! and `=1.2.3` mean what they mean in Cargo. A pre-release core (`0.2.0-rc.1`) satisfies a
//! requirement only when the requirement names that pre-release's `major.minor.patch`, as in Cargo.

use semver::{Version, VersionReq};

/// Parses a requirement, with an error a manifest author can act on.
pub fn parse_requirement(text: &str) -> Result<VersionReq, String> {
    VersionReq::parse(text.trim())
        .map_err(|e| format!("'{text}' is not a version requirement ({e})"))
}

/// Whether `version` meets `requirement`.
pub fn satisfies(requirement: &VersionReq, version: &Version) -> bool {
    requirement.matches(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(req: &str, v: &str) -> bool {
        satisfies(
            &parse_requirement(req).expect("valid requirement"),
            &Version::parse(v).expect("valid version"),
        )
    }

    #[test]
    fn caret_is_the_default() {
        assert!(ok("0.2", "0.2.7"));
        assert!(!ok("0.2", "0.3.0"));
        assert!(ok("1", "1.9.0"));
        assert!(!ok("1", "2.0.0"));
    }

    #[test]
    fn ranges_and_exact() {
        assert!(ok(">=0.1, <0.3", "0.2.0"));
        assert!(!ok(">=0.1, <0.3", "0.3.0"));
        assert!(ok("=1.2.3", "1.2.3"));
        assert!(!ok(">=99", "0.1.0"));
        assert!(ok("*", "0.0.1"));
    }

    #[test]
    fn pre_releases_need_to_be_named() {
        assert!(!ok(">=0.1", "0.2.0-rc.1"));
        assert!(ok(">=0.2.0-rc.1", "0.2.0-rc.1"));
    }

    #[test]
    fn bad_requirement_is_explained() {
        let e = parse_requirement(">= banana").expect_err("must fail");
        assert!(
            e.contains("'>= banana' is not a version requirement"),
            "{e}"
        );
    }
}
