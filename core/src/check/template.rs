//! Strings with `${name}` in them: a var of the file (`vars`, `--var`), a value an earlier
//! check captured, or an environment variable (the file's `env`, then the process's), looked
//! up in that order when a check runs. `$${` writes a literal `${`. Names are letters, digits,
//! `_`, `-` and `.`; a name no var, capture or environment variable can give is a config
//! error before anything runs.

use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Var(String),
}

/// A parsed string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pieces: Vec<Piece>,
}

impl Template {
    /// Parses `text`, or says what is wrong with it.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut pieces = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(at) = rest.find('$') {
            literal.push_str(&rest[..at]);
            let after = &rest[at..];
            if let Some(escaped) = after.strip_prefix("$${") {
                literal.push_str("${");
                rest = escaped;
            } else if let Some(open) = after.strip_prefix("${") {
                let close = open
                    .find('}')
                    .ok_or_else(|| format!("'${{' without its '}}' in {text:?}"))?;
                let name = &open[..close];
                let valid = name
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
                if !valid {
                    return Err(format!(
                        "'${{{name}}}' is not a var name (letters, digits, '_', '-' and '.', \
                         starting with a letter or '_'; '$${{' writes '${{')"
                    ));
                }
                if !literal.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut literal)));
                }
                pieces.push(Piece::Var(name.to_owned()));
                rest = &open[close + 1..];
            } else {
                literal.push('$');
                rest = &after[1..];
            }
        }
        literal.push_str(rest);
        if !literal.is_empty() || pieces.is_empty() {
            pieces.push(Piece::Text(literal));
        }
        Ok(Template { pieces })
    }

    /// The names it uses.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Var(name) => Some(name.as_str()),
            Piece::Text(_) => None,
        })
    }

    /// The text with every name looked up by `lookup`; the first name it does not know is
    /// the error.
    pub fn render(&self, lookup: impl Fn(&str) -> Option<String>) -> Result<String, String> {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::Var(name) => match lookup(name) {
                    Some(value) => out.push_str(&value),
                    None => return Err(format!("'${{{name}}}' has no value")),
                },
            }
        }
        Ok(out)
    }

    /// Renders with a map of values.
    pub fn render_with(&self, values: &HashMap<String, String>) -> Result<String, String> {
        self.render(|name| values.get(name).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> HashMap<String, String> {
        [("base", "http://api"), ("v.1", "x")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    #[test]
    fn names_are_replaced() {
        let t = Template::parse("${base}/health?v=${v.1}").expect("valid");
        assert_eq!(t.names().collect::<Vec<_>>(), ["base", "v.1"]);
        assert_eq!(
            t.render_with(&values()).expect("known"),
            "http://api/health?v=x"
        );
        assert_eq!(
            Template::parse("cost $5, $${literal}")
                .expect("valid")
                .render_with(&values()),
            Ok("cost $5, ${literal}".to_owned())
        );
        assert_eq!(
            Template::parse("").expect("valid").render_with(&values()),
            Ok(String::new())
        );
    }

    #[test]
    fn mistakes() {
        assert!(
            Template::parse("${base")
                .expect_err("open")
                .contains("without its '}'")
        );
        assert!(
            Template::parse("${1x}")
                .expect_err("name")
                .contains("not a var name")
        );
        assert!(Template::parse("${}").is_err());
        let unknown = Template::parse("${nope}")
            .expect("valid")
            .render_with(&values());
        assert_eq!(unknown, Err("'${nope}' has no value".to_owned()));
    }
}
