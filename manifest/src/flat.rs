//! A reader for the flat YAML subset that manifests are written in, so discovery at start-up
//! does not pay for a general YAML parser (serde-saphyr cost ~90K instructions and cold code
//! pages per manifest; this reader a few thousand). It accepts only what it can read exactly
//! like YAML does and returns `None` for anything else, which then goes to the full reader (`yaml.rs`):
//!
//! - `key: scalar`: plain (text without YAML indicators), `"double"` (with `\"`, `\\`, `\n`,
//!   `\t`, `\uXXXX` escapes) or `'single'` (`''` for a quote);
//! - `key: [a, "b"]`: a flow list of scalars; `key:` followed by `- scalar` lines;
//! - `key:` followed by indented `sub: scalar` lines (one level);
//! - blank lines and `#` comment lines.
//!
//! A plain scalar that YAML would read as something other than text (`true`, `null`, `~`, a
//! number) is returned with `plain: true`, so callers can send doubtful cases to the full parser.

/// A scalar and whether it was plain (unquoted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scalar {
    pub text: String,
    pub plain: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Scalar(Scalar),
    List(Vec<Scalar>),
    Map(Vec<(String, Scalar)>),
}

/// The document's top-level entries, or `None` when it is not in the flat subset.
pub fn parse(text: &str) -> Option<Vec<(String, Node)>> {
    let mut entries: Vec<(String, Node)> = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if skippable(line) {
            continue;
        }
        if line.starts_with([' ', '\t', '-']) {
            return None;
        }
        let (key, rest) = key_value(line)?;
        if entries.iter().any(|(k, _)| *k == key) {
            return None;
        }
        let node = if rest.is_empty() {
            block(&mut lines)?
        } else if let Some(inner) = rest.strip_prefix('[') {
            Node::List(flow_list(inner)?)
        } else {
            Node::Scalar(scalar(rest)?)
        };
        entries.push((key, node));
    }
    Some(entries)
}

fn skippable(line: &str) -> bool {
    let t = line.trim();
    t.is_empty() || t.starts_with('#')
}

/// `key: rest` with a plain key.
fn key_value(line: &str) -> Option<(String, &str)> {
    let (key, rest) = line.split_once(':')?;
    if key.is_empty()
        || !key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return None;
    }
    if !rest.is_empty() && !rest.starts_with(' ') {
        return None;
    }
    Some((key.to_owned(), rest.trim()))
}

/// The lines under `key:`: a block list or a one-level map.
fn block<'a>(lines: &mut std::iter::Peekable<impl Iterator<Item = &'a str>>) -> Option<Node> {
    let mut list = Vec::new();
    let mut map: Vec<(String, Scalar)> = Vec::new();
    // Every line of a block has the indentation of its first line (YAML reads anything else
    // differently, e.g. a deeper "- b" continues the previous scalar).
    let mut block_indent = None;
    while let Some(line) = lines.peek().copied() {
        if skippable(line) {
            lines.next();
            continue;
        }
        let indent = line.len() - line.trim_start_matches(' ').len();
        let body = &line[indent..];
        if body.starts_with('\t') {
            return None;
        }
        let is_item = body.starts_with("- ");
        if is_item || indent > 0 {
            match block_indent {
                None => block_indent = Some(indent),
                Some(first) if first != indent => return None,
                Some(_) => {}
            }
        }
        if let Some(item) = body.strip_prefix("- ") {
            if !map.is_empty() {
                return None;
            }
            list.push(scalar(item.trim())?);
        } else if indent > 0 && list.is_empty() {
            let (key, rest) = key_value(body)?;
            if rest.is_empty() || map.iter().any(|(k, _)| *k == key) {
                return None;
            }
            map.push((key, scalar(rest)?));
        } else {
            break;
        }
        lines.next();
    }
    match (list.is_empty(), map.is_empty()) {
        (false, true) => Some(Node::List(list)),
        (true, false) => Some(Node::Map(map)),
        _ => None,
    }
}

fn flow_list(inner: &str) -> Option<Vec<Scalar>> {
    let inner = inner.strip_suffix(']')?.trim();
    if inner.is_empty() {
        return Some(Vec::new());
    }
    let mut items = Vec::new();
    let mut rest = inner;
    loop {
        let (item, after) = if rest.starts_with('"') || rest.starts_with('\'') {
            let end = quoted_end(rest)?;
            (&rest[..end], rest[end..].trim_start())
        } else {
            match rest.find(',') {
                Some(i) => (rest[..i].trim_end(), &rest[i..]),
                None => (rest.trim_end(), ""),
            }
        };
        items.push(scalar(item)?);
        match after.strip_prefix(',') {
            Some(next) => rest = next.trim_start(),
            None if after.is_empty() => return Some(items),
            None => return None,
        }
    }
}

/// The byte just past the closing quote of the quoted scalar `s` starts with.
fn quoted_end(s: &str) -> Option<usize> {
    let quote = s.chars().next()?;
    let bytes = s.as_bytes();
    let mut i = 1;
    while i < bytes.len() {
        match (quote, bytes[i]) {
            ('"', b'\\') => i += 2,
            ('"', b'"') => return Some(i + 1),
            ('\'', b'\'') if bytes.get(i + 1) == Some(&b'\'') => i += 2,
            ('\'', b'\'') => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

fn scalar(s: &str) -> Option<Scalar> {
    if let Some(body) = s.strip_prefix('"') {
        let body = body.strip_suffix('"')?;
        return Some(Scalar {
            text: unescape_double(body)?,
            plain: false,
        });
    }
    if let Some(body) = s.strip_prefix('\'') {
        let body = body.strip_suffix('\'')?;
        if body.replace("''", "").contains('\'') {
            return None;
        }
        return Some(Scalar {
            text: body.replace("''", "'"),
            plain: false,
        });
    }
    // A plain scalar: nothing YAML would read as structure, an alias, a tag or a comment.
    let indicator = |c: char| "[]{}&*!|>'\"%@`#".contains(c);
    if s.is_empty()
        || s.starts_with(indicator)
        || s.starts_with("- ")
        || s.contains(" #")
        || s.contains("\t#")
        || s.contains(": ")
        || s.contains(":\t")
        || s.contains('\t')
    {
        return None;
    }
    Some(Scalar {
        text: s.to_owned(),
        plain: true,
    })
}

fn unescape_double(body: &str) -> Option<String> {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return None,
            '\\' => match chars.next()? {
                '"' => out.push('"'),
                '\\' => out.push('\\'),
                '/' => out.push('/'),
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'u' => {
                    let hex: String = chars.by_ref().take(4).collect();
                    if hex.len() != 4 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                        return None;
                    }
                    out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                }
                _ => return None,
            },
            c => out.push(c),
        }
    }
    Some(out)
}

impl Scalar {
    /// The text, when YAML would read this scalar as a string.
    pub fn as_text(&self) -> Option<&str> {
        let t = self.text.as_str();
        let special = matches!(
            t,
            "~" | "null" | "Null" | "NULL" | "true" | "True" | "TRUE" | "false" | "False" | "FALSE"
        ) || t.parse::<f64>().is_ok()
            || t.starts_with("0x")
            || t.starts_with("0o")
            || t.starts_with('.');
        (!self.plain || !special).then_some(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str, plain: bool) -> Scalar {
        Scalar {
            text: s.to_owned(),
            plain,
        }
    }

    #[test]
    fn reads_the_subset() {
        let doc = "# c\nname: crypto\nversion: \"0.1.0\"\ndesc: 'it''s'\nprovides:\n- crypto\n- \"x\"\nlist: [a, \"b, c\", 'd']\nrequires:\n  assay: \">=0.1.0, <0.2.0\"\nabi: 1\n";
        let entries = parse(doc).expect("flat");
        assert_eq!(
            entries[0],
            ("name".into(), Node::Scalar(text("crypto", true)))
        );
        assert_eq!(entries[1].1, Node::Scalar(text("0.1.0", false)));
        assert_eq!(entries[2].1, Node::Scalar(text("it's", false)));
        assert_eq!(
            entries[3].1,
            Node::List(vec![text("crypto", true), text("x", false)])
        );
        assert_eq!(
            entries[4].1,
            Node::List(vec![text("a", true), text("b, c", false), text("d", false)])
        );
        assert_eq!(
            entries[5].1,
            Node::Map(vec![("assay".into(), text(">=0.1.0, <0.2.0", false))])
        );
        assert_eq!(entries[6].1, Node::Scalar(text("1", true)));
    }

    #[test]
    fn anything_else_is_left_to_the_full_parser() {
        for doc in [
            "a: &x 1\nb: *x\n",
            "a: {b: 1}\n",
            "a: |\n  text\n",
            "a: b # comment\n",
            "a: 1\na: 2\n",
            "  a: 1\n",
            "a:\n  b:\n    c: 1\n",
            "a: \"unterminated\n",
            "a: [x, [y]]\n",
            "a: !!str 1\n",
            "a:\n- x\n  b: 1\n",
            "a: b\t# comment\n",
            "a:\n  - x\n    - y\n",
            "a:\n    - x\n  - y\n",
            "a: \"\\u12\"\n",
            "a: \"\\u+123\"\n",
        ] {
            assert_eq!(parse(doc), None, "{doc:?}");
        }
    }

    #[test]
    fn doubtful_plain_scalars_are_not_text() {
        for s in ["1", "1.0", "true", "null", "~", "0x1f", ".inf"] {
            assert_eq!(text(s, true).as_text(), None, "{s}");
            assert_eq!(text(s, false).as_text(), Some(s));
        }
        assert_eq!(text("0.1.0", true).as_text(), Some("0.1.0"));
    }
}
