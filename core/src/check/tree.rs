//! A check file as a tree of YAML nodes that remember their line, so that every mistake in a
//! check file is reported at its line (`checks.yaml:12: ...`). Scalars mean what they mean to
//! `yaml.parse` (the same resolver); anchors, aliases and merge keys (`<<: *defaults`) work as
//! there, a duplicate key is an error, and the whole file may hold at most [`MAX_NODES`] nodes
//! after aliases are expanded (an alias bomb is an error, not gigabytes).

use std::collections::HashMap;

use granit_parser::{Event, Parser, ScalarStyle, ScanError, Span};

use crate::builtins::yaml::resolve::{self, Resolved};

/// Nodes a check file may expand to; real ones have hundreds.
pub const MAX_NODES: usize = 1_000_000;

/// How deep collections may nest.
const MAX_DEPTH: usize = 64;

/// The most text aliases may copy, all together (a 1 MB string aliased 5000 times is 5 GB).
pub const MAX_ALIAS_BYTES: usize = 16 << 20;

/// A YAML node and the line (1-based) where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub line: usize,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// A string, and whether it was a plain (unquoted) scalar.
    Str(String),
    Seq(Vec<Node>),
    /// Keys in document order, each with its own line.
    Map(Vec<(Key, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub name: String,
    pub line: usize,
}

impl Node {
    /// What kind of value this is, for messages ("a mapping expected, got a list").
    pub fn kind(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Float(f) if f.is_nan() => "not a number (.nan)",
            Value::Float(f) if f.is_infinite() => "an infinite number",
            Value::Int(_) | Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

/// A mistake in the YAML itself, at a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub line: usize,
    pub message: String,
}

fn at(span: Span, message: impl Into<String>) -> SyntaxError {
    SyntaxError {
        line: span.start.line(),
        message: message.into(),
    }
}

fn scan(e: ScanError) -> SyntaxError {
    SyntaxError {
        line: e.marker().line(),
        message: format!("invalid YAML: {}", e.info()),
    }
}

/// The first document of `text` (`None` when the file is empty); a second document is an
/// error, as a check file is one document.
pub fn parse(text: &str) -> Result<Option<Node>, SyntaxError> {
    let mut options = granit_parser::Options::default();
    options.flow_nesting_limit = MAX_DEPTH;
    options.block_nesting_limit = MAX_DEPTH;
    let mut builder = Builder::default();
    for event in Parser::new_from_str_with_options(text, options) {
        let (event, span) = event.map_err(scan)?;
        builder.event(event, span)?;
    }
    Ok(builder.document)
}

#[derive(Default)]
struct Builder {
    stack: Vec<Open>,
    anchors: HashMap<usize, Node>,
    document: Option<Node>,
    documents: usize,
    nodes: usize,
    alias_bytes: usize,
}

enum Open {
    Seq {
        line: usize,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        line: usize,
        anchor: usize,
        entries: Vec<(Key, Node)>,
        /// Each key's line, to find a duplicate without a scan per entry.
        lines: HashMap<String, usize>,
        /// The key read, whose value comes next (`None` for `<<`, a merge).
        key: Option<Option<Key>>,
        merges: Vec<Node>,
    },
}

impl Builder {
    fn event(&mut self, event: Event<'_>, span: Span) -> Result<(), SyntaxError> {
        match event {
            Event::DocumentStart(..) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(at(
                        span,
                        "a second YAML document ('---'): a check file is one document; use \
                         `include` for more files",
                    ));
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                let line = span.start.line();
                let plain = style == ScalarStyle::Plain;
                if self.expects_key() {
                    let merge = plain && text == "<<";
                    let key = (!merge).then(|| Key {
                        name: text.to_string(),
                        line,
                    });
                    if let Some(Open::Map { key: slot, .. }) = self.stack.last_mut() {
                        *slot = Some(key);
                    }
                    return Ok(());
                }
                let value = match tag.as_deref() {
                    Some(tag) => resolve::tagged(tag.suffix(), &text),
                    None if plain => Some(resolve::plain(&text)),
                    None => Some(Resolved::Str),
                };
                let value = match value.unwrap_or(Resolved::Str) {
                    Resolved::Null => Value::Null,
                    Resolved::Bool(b) => Value::Bool(b),
                    Resolved::Int(i) => Value::Int(i),
                    Resolved::Float(f) => Value::Float(f),
                    Resolved::Str => Value::Str(text.to_string()),
                };
                let node = Node { line, value };
                if anchor != 0 {
                    self.anchors.insert(anchor, node.clone());
                }
                self.finish(node, span)?;
            }
            Event::Alias(id) => {
                let node = self
                    .anchors
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| at(span, "an alias to an unknown anchor"))?;
                self.count(&node, span)?;
                if self.expects_key() {
                    return Err(at(span, "an alias as a mapping key"));
                }
                self.finish(node, span)?;
            }
            Event::UnresolvedAlias(name) => {
                return Err(at(span, format!("an alias to an unknown anchor '{name}'")));
            }
            Event::SequenceStart(_, anchor, _) => {
                self.open(span)?;
                self.stack.push(Open::Seq {
                    line: span.start.line(),
                    anchor,
                    items: Vec::new(),
                });
            }
            Event::MappingStart(_, anchor, _) => {
                self.open(span)?;
                self.stack.push(Open::Map {
                    line: span.start.line(),
                    anchor,
                    entries: Vec::new(),
                    lines: HashMap::new(),
                    key: None,
                    merges: Vec::new(),
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let node = match self.stack.pop() {
                    Some(Open::Seq {
                        line,
                        anchor,
                        items,
                    }) => self.close(line, anchor, Value::Seq(items)),
                    Some(Open::Map {
                        line,
                        anchor,
                        entries,
                        merges,
                        ..
                    }) => {
                        let entries = merged(entries, merges, span)?;
                        self.close(line, anchor, Value::Map(entries))
                    }
                    None => return Ok(()),
                };
                self.finish(node, span)?;
            }
            _ => {}
        }
        Ok(())
    }

    fn expects_key(&self) -> bool {
        matches!(self.stack.last(), Some(Open::Map { key: None, .. }))
    }

    fn open(&mut self, span: Span) -> Result<(), SyntaxError> {
        if self.expects_key() {
            return Err(at(span, "a mapping key that is not a plain value"));
        }
        if self.stack.len() >= MAX_DEPTH {
            return Err(at(span, format!("nested deeper than {MAX_DEPTH} levels")));
        }
        Ok(())
    }

    fn close(&mut self, line: usize, anchor: usize, value: Value) -> Node {
        let node = Node { line, value };
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        node
    }

    /// Counts the nodes and the text an alias adds: a short alias of a big string costs
    /// what the copy costs.
    fn count(&mut self, node: &Node, span: Span) -> Result<(), SyntaxError> {
        /// (nodes, bytes of text)
        fn size(node: &Node) -> (usize, usize) {
            let (mut nodes, mut bytes) = (1, 0);
            match &node.value {
                Value::Str(text) => bytes += text.len(),
                Value::Seq(items) => {
                    for (n, b) in items.iter().map(size) {
                        (nodes, bytes) = (nodes + n, bytes + b);
                    }
                }
                Value::Map(entries) => {
                    for (key, value) in entries {
                        let (n, b) = size(value);
                        (nodes, bytes) = (nodes + n, bytes + b + key.name.len());
                    }
                }
                _ => {}
            }
            (nodes, bytes)
        }
        let (nodes, bytes) = size(node);
        self.nodes += nodes;
        self.alias_bytes += bytes;
        if self.nodes > MAX_NODES {
            return Err(at(
                span,
                format!("more than {MAX_NODES} nodes once aliases are expanded"),
            ));
        }
        if self.alias_bytes > MAX_ALIAS_BYTES {
            return Err(at(
                span,
                format!(
                    "aliases copy more than {} MiB of text",
                    MAX_ALIAS_BYTES >> 20
                ),
            ));
        }
        Ok(())
    }

    /// Puts a finished node where it belongs: in the open collection, or as the document.
    fn finish(&mut self, node: Node, span: Span) -> Result<(), SyntaxError> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(at(span, format!("more than {MAX_NODES} nodes")));
        }
        match self.stack.last_mut() {
            None => self.document = Some(node),
            Some(Open::Seq { items, .. }) => items.push(node),
            Some(Open::Map {
                entries,
                lines,
                key,
                merges,
                ..
            }) => match key.take() {
                Some(Some(key)) => {
                    if let Some(first) = lines.get(&key.name) {
                        return Err(SyntaxError {
                            line: key.line,
                            message: format!(
                                "duplicate key '{}' (first at line {first})",
                                key.name
                            ),
                        });
                    }
                    lines.insert(key.name.clone(), key.line);
                    entries.push((key, node));
                }
                Some(None) => merges.push(node),
                // Not reached: a key is read before its value (kept an error, not a panic).
                None => return Err(at(span, "a value without a key")),
            },
        }
        Ok(())
    }
}

/// The mapping's own entries, then those of its `<<` sources that it does not set, earlier
/// sources first (the YAML merge-key spec).
fn merged(
    mut entries: Vec<(Key, Node)>,
    merges: Vec<Node>,
    span: Span,
) -> Result<Vec<(Key, Node)>, SyntaxError> {
    let mut sources = Vec::new();
    for merge in merges {
        match merge.value {
            Value::Map(source) => sources.push(source),
            Value::Seq(items) => {
                for item in items {
                    match item.value {
                        Value::Map(source) => sources.push(source),
                        _ => return Err(at(span, "'<<' merges mappings only")),
                    }
                }
            }
            _ => return Err(at(span, "'<<' merges mappings only")),
        }
    }
    let mut set: std::collections::HashSet<String> =
        entries.iter().map(|(k, _)| k.name.clone()).collect();
    for source in sources {
        for (key, node) in source {
            if set.insert(key.name.clone()) {
                entries.push((key, node));
            }
        }
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(node: &Node) -> &[(Key, Node)] {
        match &node.value {
            Value::Map(entries) => entries,
            other => panic!("a mapping expected, got {other:?}"),
        }
    }

    #[test]
    fn nodes_know_their_lines() {
        let doc = parse("timeout: 60s\nchecks:\n  - name: a\n    retries: 3\n")
            .expect("valid")
            .expect("a document");
        let top = map(&doc);
        assert_eq!(top[0].0.name, "timeout");
        assert_eq!(top[0].1.value, Value::Str("60s".into()));
        let Value::Seq(checks) = &top[1].1.value else {
            panic!("a list")
        };
        let check = map(&checks[0]);
        assert_eq!((check[1].0.name.as_str(), check[1].0.line), ("retries", 4));
        assert_eq!(check[1].1.value, Value::Int(3));
    }

    #[test]
    fn merge_keys_and_aliases() {
        let doc = parse(
            "base: &base {retries: 2, timeout: 5s}\nchecks:\n  - <<: *base\n    name: x\n    retries: 9\n",
        )
        .expect("valid")
        .expect("a document");
        let Value::Seq(checks) = &map(&doc)[1].1.value else {
            panic!("a list")
        };
        let names: Vec<(&str, &Value)> = map(&checks[0])
            .iter()
            .map(|(k, n)| (k.name.as_str(), &n.value))
            .collect();
        assert_eq!(
            names,
            [
                ("name", &Value::Str("x".into())),
                ("retries", &Value::Int(9)),
                ("timeout", &Value::Str("5s".into()))
            ]
        );
    }

    #[test]
    fn mistakes_at_their_line() {
        let dup = parse("a: 1\nb: 2\na: 3\n").expect_err("duplicate");
        assert_eq!(dup.line, 3);
        assert!(
            dup.message.contains("duplicate key 'a' (first at line 1)"),
            "{}",
            dup.message
        );
        let two = parse("a: 1\n---\nb: 2\n").expect_err("two documents");
        assert!(
            two.message.contains("second YAML document"),
            "{}",
            two.message
        );
        let bad = parse("a: [1, 2\n").expect_err("unclosed");
        assert!(bad.message.starts_with("invalid YAML"), "{}", bad.message);
        assert_eq!(parse("").expect("empty"), None);
        let bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n\
                    c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n\
                    e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n";
        assert!(parse(bomb).expect_err("bomb").message.contains("nodes"));
        // Few nodes, but each alias copies a megabyte.
        let big = format!(
            "s: &s {}\nl: [{}]\n",
            "x".repeat(1 << 20),
            vec!["*s"; 20].join(", ")
        );
        let copied = parse(&big).expect_err("text bomb");
        assert!(
            copied.message.contains("aliases copy more than 16 MiB"),
            "{}",
            copied.message
        );
        // Many keys stay linear (a scan per key made 100k keys take 25 s).
        let keys: String = (0..200_000).map(|i| format!("k{i}: {i}\n")).collect();
        assert!(parse(&keys).is_ok());
    }
}
