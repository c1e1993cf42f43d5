//! `host[:port]/repository[:tag|@digest]`, as the `oci` functions take it.
//!
//! The first component is always the registry: `registry.local/pkgs/k8s` and `myhost/k8s`
//! both name the host first (`docker pull` would read `myhost/k8s` as a Docker Hub repository;
//! a package reference means one thing wherever it is written). The repository follows the
//! distribution spec's grammar (lower case components joined by `/`), a tag is at most 128 of
//! `[A-Za-z0-9_.-]` not starting with `.` or `-`, and a digest is `algorithm:hex` (see
//! [`super::digest`]).

use oci_client::Reference;

use super::digest::Digest;

/// What a reference names beyond its repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    None,
    Tag(String),
    Digest(Digest),
}

/// A parsed reference.
#[derive(Debug, Clone)]
pub(crate) struct Ref {
    pub registry: String,
    pub repository: String,
    pub target: Target,
}

impl Ref {
    /// Parses `text`; the error says what is wrong with it.
    pub(crate) fn parse(text: &str) -> Result<Ref, String> {
        let bad = |why: &str| format!("invalid reference '{text}': {why}");
        let (registry, rest) = text
            .split_once('/')
            .ok_or_else(|| bad("expected host[:port]/repository[:tag|@digest]"))?;
        check_registry(registry).map_err(|why| bad(&why))?;
        let (name, target) = match rest.split_once('@') {
            Some((name, digest)) => (
                name,
                Target::Digest(Digest::parse(digest).map_err(|why| bad(&why))?),
            ),
            None => match rest.rsplit_once(':') {
                Some((name, tag)) if !tag.contains('/') => {
                    check_tag(tag).map_err(|why| bad(&why))?;
                    (name, Target::Tag(tag.to_owned()))
                }
                _ => (rest, Target::None),
            },
        };
        check_repository(name).map_err(|why| bad(&why))?;
        Ok(Ref {
            registry: registry.to_owned(),
            repository: name.to_owned(),
            target,
        })
    }

    /// The reference oci-client takes (its tag `latest` when none was given: only calls that
    /// do not use the tag pass such a reference, see [`Ref::require_target`]).
    pub(crate) fn oci(&self) -> Reference {
        match &self.target {
            Target::Digest(d) => Reference::with_digest(
                self.registry.clone(),
                self.repository.clone(),
                d.to_string(),
            ),
            Target::Tag(tag) => {
                Reference::with_tag(self.registry.clone(), self.repository.clone(), tag.clone())
            }
            Target::None => Reference::with_tag(
                self.registry.clone(),
                self.repository.clone(),
                "latest".to_owned(),
            ),
        }
    }

    /// Refuses a reference without a tag or digest, for calls about one manifest: no implicit
    /// `latest` (a package version is always explicit).
    pub(crate) fn require_target(&self) -> Result<(), String> {
        match self.target {
            Target::None => Err(format!(
                "reference '{self}' names no tag or digest (add :<tag> or @<digest>)"
            )),
            _ => Ok(()),
        }
    }
}

impl std::fmt::Display for Ref {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        match &self.target {
            Target::None => Ok(()),
            Target::Tag(tag) => write!(f, ":{tag}"),
            Target::Digest(d) => write!(f, "@{d}"),
        }
    }
}

/// `host[:port]`: a host name or IPv4 address (IPv6 in brackets), an optional port.
pub(crate) fn check_registry(registry: &str) -> Result<(), String> {
    if registry.is_empty() {
        return Err("no registry host".to_owned());
    }
    let (host, port) = if let Some(rest) = registry.strip_prefix('[') {
        let (inside, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("registry '{registry}': unclosed '['"))?;
        if inside.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!("registry '{registry}': not an IPv6 address"));
        }
        (
            "",
            match after {
                "" => None,
                p => Some(p.strip_prefix(':').ok_or_else(|| {
                    format!("registry '{registry}': expected ':<port>' after ']'")
                })?),
            },
        )
    } else {
        match registry.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (registry, None),
        }
    };
    let host_ok = host.split('.').all(|label| {
        !label.is_empty()
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    });
    if !registry.starts_with('[') && !host_ok {
        return Err(format!("registry '{registry}': not a host name"));
    }
    if let Some(port) = port
        && port.parse::<u16>().map_or(true, |p| p == 0)
    {
        return Err(format!("registry '{registry}': bad port '{port}'"));
    }
    Ok(())
}

/// The distribution spec's repository grammar:
/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*`.
fn check_repository(name: &str) -> Result<(), String> {
    let bad = || {
        format!(
            "repository '{name}': lower case letters, digits and separators (. _ __ -) \
             between them, in components joined by /"
        )
    };
    if name.is_empty() {
        return Err("no repository".to_owned());
    }
    if name.len() > 255 {
        return Err(format!("repository '{name}' is longer than 255 characters"));
    }
    for component in name.split('/') {
        let bytes = component.as_bytes();
        let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
        if !bytes.first().is_some_and(alnum) || !bytes.last().is_some_and(alnum) {
            return Err(bad());
        }
        // Between alphanumeric runs: one '.', one or two '_', or any number of '-'.
        let mut i = 0;
        while i < bytes.len() {
            if alnum(&bytes[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < bytes.len() && !alnum(&bytes[i]) {
                i += 1;
            }
            let sep = &component[start..i];
            let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|b| b == b'-');
            if !ok {
                return Err(bad());
            }
        }
    }
    Ok(())
}

/// `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
fn check_tag(tag: &str) -> Result<(), String> {
    let ok = !tag.is_empty()
        && tag.len() <= 128
        && tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
        && !tag.starts_with(['.', '-']);
    if ok {
        Ok(())
    } else {
        Err(format!(
            "tag '{tag}': 1 to 128 of A-Z a-z 0-9 _ . -, not starting with . or -"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_component_is_the_registry() {
        let r = Ref::parse("myhost/pkgs/k8s:1.2.0").expect("ref");
        assert_eq!(r.registry, "myhost");
        assert_eq!(r.repository, "pkgs/k8s");
        assert_eq!(r.target, Target::Tag("1.2.0".into()));
        let r = Ref::parse("127.0.0.1:5000/k8s").expect("ref");
        assert_eq!(
            (r.registry.as_str(), &r.target),
            ("127.0.0.1:5000", &Target::None)
        );
        assert_eq!(r.oci().tag(), Some("latest"));
        let digest = format!("sha256:{}", "a".repeat(64));
        let r = Ref::parse(&format!("[::1]:5000/a/b@{digest}")).expect("ref");
        assert_eq!(r.to_string(), format!("[::1]:5000/a/b@{digest}"));
    }

    #[test]
    fn bad_references_say_why() {
        let why = |t: &str| Ref::parse(t).expect_err(t);
        assert!(why("k8s").contains("expected host[:port]/repository"));
        assert!(why("host/K8s").contains("repository 'K8s'"));
        assert!(why("host/a//b").contains("repository"));
        assert!(why("host/a:-x").contains("tag '-x'"));
        assert!(why("host:99999/a").contains("bad port"));
        assert!(why("ho st/a").contains("not a host name"));
        assert!(why("host/a@sha256:xyz").contains("sha256"));
        assert!(Ref::parse("host/a_b__c.d-e---f/g").is_ok());
        assert!(why("host/a___b").contains("repository"));
    }
}
