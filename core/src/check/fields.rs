//! Reading a YAML mapping of a check file field by field: each value checked for its type,
//! each mistake reported at its line, and every key the schema does not know an error that
//! names the known ones (and the nearest, for a typo).

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::template::Template;
use super::tree::{Key, Node, Value};

/// A mistake in a check file, at a line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}: {message}", file.display())]
pub struct ConfigError {
    pub file: PathBuf,
    pub line: usize,
    pub message: String,
}

/// The entries of one mapping, and which of them have been read.
pub struct Fields<'a> {
    file: &'a Path,
    /// What the mapping is, for messages: `checks[2] 'api'`, `expect`.
    pub what: String,
    pub line: usize,
    entries: &'a [(Key, Node)],
    used: Vec<Cell<bool>>,
}

impl<'a> Fields<'a> {
    /// The mapping `node` is, or an error saying it should be one.
    pub fn of(
        file: &'a Path,
        what: impl Into<String>,
        node: &'a Node,
    ) -> Result<Self, ConfigError> {
        let what = what.into();
        match &node.value {
            Value::Map(entries) => Ok(Fields {
                file,
                what,
                line: node.line,
                entries,
                used: entries.iter().map(|_| Cell::new(false)).collect(),
            }),
            _ => Err(error(
                file,
                node.line,
                format!("{what}: a mapping expected, got {}", node.kind()),
            )),
        }
    }

    /// An error at `line` about this mapping.
    pub fn error(&self, line: usize, message: impl std::fmt::Display) -> ConfigError {
        error(self.file, line, format!("{}: {message}", self.what))
    }

    pub fn file(&self) -> &'a Path {
        self.file
    }

    /// The value of `name`, marked as read.
    pub fn get(&self, name: &str) -> Option<&'a Node> {
        let at = self.entries.iter().position(|(k, _)| k.name == name)?;
        self.used[at].set(true);
        Some(&self.entries[at].1)
    }

    /// Every entry, in order, all marked as read (for mappings of user-chosen names).
    pub fn all(&self) -> Vec<(&'a Key, &'a Node)> {
        self.used.iter().for_each(|u| u.set(true));
        self.entries.iter().map(|(k, n)| (k, n)).collect()
    }

    /// Whether the mapping sets `name` (without reading it).
    pub fn has(&self, name: &str) -> bool {
        self.entries.iter().any(|(k, _)| k.name == name)
    }

    /// Errors for the first key not read, naming those that are `known`.
    pub fn finish(&self, known: &[&str]) -> Result<(), ConfigError> {
        let unread = self
            .entries
            .iter()
            .zip(&self.used)
            .find(|(_, used)| !used.get());
        match unread {
            Some(((key, _), _)) => Err(self.unknown(key, known)),
            None => Ok(()),
        }
    }

    /// Errors for the first key that is not `known`, before anything is read: a typo is
    /// reported as itself, not as the key it misspells being missing.
    pub fn only(&self, known: &[&str]) -> Result<(), ConfigError> {
        match self
            .entries
            .iter()
            .find(|(k, _)| !known.contains(&k.name.as_str()))
        {
            Some((key, _)) => Err(self.unknown(key, known)),
            None => Ok(()),
        }
    }

    fn unknown(&self, key: &Key, known: &[&str]) -> ConfigError {
        let hint = nearest(&key.name, known)
            .map(|near| format!("did you mean '{near}'? "))
            .unwrap_or_default();
        self.error(
            key.line,
            format!(
                "unknown key '{}' ({hint}known: {})",
                key.name,
                known.join(", ")
            ),
        )
    }

    fn wrong(&self, name: &str, node: &Node, expected: &str) -> ConfigError {
        self.error(
            node.line,
            format!("'{name}': {expected} expected, got {}", node.kind()),
        )
    }

    /// A required value.
    pub fn required(&self, name: &str) -> Result<&'a Node, ConfigError> {
        self.get(name)
            .ok_or_else(|| self.error(self.line, format!("'{name}' is missing")))
    }

    /// A string (numbers and booleans are written as YAML wrote them: `port: 80` is "80").
    pub fn string(&self, name: &str) -> Result<Option<String>, ConfigError> {
        self.get(name).map(|node| self.text(name, node)).transpose()
    }

    /// A node's text, if it is a scalar.
    pub fn text(&self, name: &str, node: &Node) -> Result<String, ConfigError> {
        match &node.value {
            Value::Str(s) => Ok(s.clone()),
            Value::Int(i) => Ok(i.to_string()),
            Value::Float(f) => Ok(crate::builtins::inspect::format_float(*f)),
            Value::Bool(b) => Ok(b.to_string()),
            _ => Err(self.wrong(name, node, "a string")),
        }
    }

    /// A string with `${name}`s.
    pub fn template(&self, name: &str) -> Result<Option<Template>, ConfigError> {
        match self.get(name) {
            None => Ok(None),
            Some(node) => self.template_of(name, node).map(Some),
        }
    }

    pub fn template_of(&self, name: &str, node: &Node) -> Result<Template, ConfigError> {
        let text = self.text(name, node)?;
        Template::parse(&text).map_err(|why| self.error(node.line, format!("'{name}': {why}")))
    }

    /// A whole number from 0 to `max`.
    pub fn count(&self, name: &str, max: u64) -> Result<Option<u64>, ConfigError> {
        let Some(node) = self.get(name) else {
            return Ok(None);
        };
        match node.value {
            Value::Int(i) if (0..=max as i64).contains(&i) => Ok(Some(i as u64)),
            Value::Int(i) => {
                Err(self.error(node.line, format!("'{name}': {i} is not in 0..{max}")))
            }
            _ => Err(self.wrong(name, node, "a whole number")),
        }
    }

    pub fn number(&self, name: &str) -> Result<Option<f64>, ConfigError> {
        let Some(node) = self.get(name) else {
            return Ok(None);
        };
        match node.value {
            Value::Int(i) => Ok(Some(i as f64)),
            Value::Float(f) if f.is_finite() => Ok(Some(f)),
            _ => Err(self.wrong(name, node, "a finite number")),
        }
    }

    pub fn boolean(&self, name: &str) -> Result<Option<bool>, ConfigError> {
        let Some(node) = self.get(name) else {
            return Ok(None);
        };
        match node.value {
            Value::Bool(b) => Ok(Some(b)),
            _ => Err(self.wrong(name, node, "true or false")),
        }
    }

    /// A duration (`500ms`, `30s`, `2m`, or seconds).
    pub fn duration(&self, name: &str) -> Result<Option<Duration>, ConfigError> {
        let Some(node) = self.get(name) else {
            return Ok(None);
        };
        self.duration_of(name, node).map(Some)
    }

    pub fn duration_of(&self, name: &str, node: &Node) -> Result<Duration, ConfigError> {
        let parsed = match &node.value {
            Value::Int(i) => super::duration::seconds(*i as f64),
            Value::Float(f) => super::duration::seconds(*f),
            Value::Str(s) => super::duration::parse(s),
            _ => return Err(self.wrong(name, node, "a duration (like 500ms, 30s or 2m)")),
        };
        parsed.map_err(|why| {
            let shown = self.text(name, node).unwrap_or_default();
            self.error(
                node.line,
                format!("'{name}': '{shown}' is not a duration: {why}"),
            )
        })
    }

    /// A list of strings; a single string is a list of one.
    pub fn strings(&self, name: &str) -> Result<Vec<(usize, String)>, ConfigError> {
        let Some(node) = self.get(name) else {
            return Ok(Vec::new());
        };
        match &node.value {
            Value::Seq(items) => items
                .iter()
                .map(|item| Ok((item.line, self.text(name, item)?)))
                .collect(),
            _ => Ok(vec![(node.line, self.text(name, node)?)]),
        }
    }

    /// A mapping of names to strings, in order.
    pub fn string_map(&self, name: &str) -> Result<Vec<(Key, String)>, ConfigError> {
        let Some(node) = self.get(name) else {
            return Ok(Vec::new());
        };
        match &node.value {
            Value::Map(entries) => entries
                .iter()
                .map(|(key, value)| {
                    Ok((
                        key.clone(),
                        self.text(&format!("{name}.{}", key.name), value)?,
                    ))
                })
                .collect(),
            _ => Err(self.wrong(name, node, "a mapping")),
        }
    }
}

pub fn error(file: &Path, line: usize, message: impl Into<String>) -> ConfigError {
    ConfigError {
        file: file.to_owned(),
        line,
        message: message.into(),
    }
}

/// The known name closest to `typo`, when it is close (a typo, not another word).
fn nearest<'k>(typo: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        .map(|k| (distance(typo, k), *k))
        .filter(|(d, k)| *d <= (k.len() / 3).max(1))
        .min()
        .map(|(_, k)| k)
}

/// Levenshtein distance.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = (previous + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(current + 1);
            previous = current;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::tree;

    #[test]
    fn unknown_keys_name_the_known_and_the_nearest() {
        let doc = tree::parse("name: a\nurll: x\n")
            .expect("valid")
            .expect("doc");
        let file = Path::new("c.yaml");
        let fields = Fields::of(file, "checks[0] 'a'", &doc).expect("map");
        assert_eq!(fields.string("name").expect("string"), Some("a".into()));
        let err = fields
            .finish(&["name", "url", "method"])
            .expect_err("unknown");
        assert_eq!(
            err.to_string(),
            "c.yaml:2: checks[0] 'a': unknown key 'urll' (did you mean 'url'? known: name, url, method)"
        );
    }

    #[test]
    fn values_are_checked() {
        let doc = tree::parse("t: 5 minutes\nn: -1\nl: [a, 1]\nm: x\n")
            .expect("valid")
            .expect("doc");
        let fields = Fields::of(Path::new("c.yaml"), "top", &doc).expect("map");
        let err = fields.duration("t").expect_err("bad duration");
        assert!(
            err.to_string()
                .starts_with("c.yaml:1: top: 't': '5 minutes' is not a duration"),
            "{err}"
        );
        assert!(
            fields
                .count("n", 100)
                .expect_err("negative")
                .to_string()
                .contains("-1 is not in 0..100")
        );
        assert_eq!(
            fields.strings("l").expect("list"),
            [(3, "a".to_owned()), (3, "1".to_owned())]
        );
        assert!(
            fields
                .string_map("m")
                .expect_err("not a map")
                .to_string()
                .contains("a mapping expected, got a string")
        );
    }

    #[test]
    fn typos_are_near_other_words_are_not() {
        assert_eq!(nearest("urll", &["url", "name"]), Some("url"));
        assert_eq!(nearest("retires", &["retries", "timeout"]), Some("retries"));
        assert_eq!(nearest("banana", &["url", "name"]), None);
    }
}
