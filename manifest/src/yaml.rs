//! The full YAML reader, for manifests outside the flat subset (`flat.rs`): granit-parser's
//! events (the parser behind the core's `yaml` builtin, so the binary carries one YAML parser,
//! not two) composed into a small tree that serde reads.
//!
//! What a manifest holds is text, lists and maps, so the tree keeps scalars as written:
//! a field that wants text takes any scalar as it stands (`version: 1.0` is `"1.0"`), a
//! number field takes a plain integer, and `null`, `~` or nothing is an absent value. Aliases
//! are copies, bounded by [`MAX_NODES`]; a duplicate key, a key that is not a scalar and more
//! than one document are errors. Messages carry the line they are about.

use std::fmt;

use granit_parser::{Event, Parser, ScalarStyle, Span};
use serde::de::value::{MapDeserializer, SeqDeserializer};
use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};

/// Nodes a manifest may expand to, aliases included (a manifest has a few dozen; the bound
/// keeps an alias bomb from costing more than a refusal).
const MAX_NODES: usize = 10_000;

/// Nesting deeper than this is refused.
const MAX_DEPTH: usize = 64;

/// Parses `text` as one YAML document into `T`.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, Error> {
    let tree = compose(text)?;
    T::deserialize(&tree)
}

/// A reason, with the line it is about when it has one.
#[derive(Debug)]
pub struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<M: fmt::Display>(message: M) -> Self {
        Error(message.to_string())
    }
}

fn at(span: Span, message: impl fmt::Display) -> Error {
    Error(format!("{message} at line {}", span.start.line()))
}

#[derive(Clone, Debug)]
enum Tree {
    Scalar {
        text: String,
        plain: bool,
        line: usize,
    },
    Seq(Vec<Tree>),
    Map(Vec<(String, Tree)>),
}

enum Frame {
    Seq(Vec<Tree>, usize),
    Map(Vec<(String, Tree)>, Option<String>, usize),
}

fn compose(text: &str) -> Result<Tree, Error> {
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: Vec<(usize, Tree)> = Vec::new();
    let mut root: Option<Tree> = None;
    let mut documents = 0;
    let mut nodes = 0usize;
    for event in Parser::new_from_str(text) {
        let (event, span) =
            event.map_err(|e| Error(format!("{} at line {}", e.info(), e.marker().line())))?;
        let (node, anchor) = match event {
            Event::DocumentStart(..) => {
                documents += 1;
                if documents > 1 {
                    return Err(at(span, "more than one document"));
                }
                continue;
            }
            Event::Scalar(text, style, anchor, _) => {
                let plain = style == ScalarStyle::Plain;
                let line = span.start.line();
                let text = text.into_owned();
                (Tree::Scalar { text, plain, line }, anchor)
            }
            Event::Alias(id) => match anchors.iter().rev().find(|(a, _)| *a == id) {
                Some((_, tree)) => {
                    nodes = nodes.saturating_add(count(tree));
                    (tree.clone(), 0)
                }
                None => return Err(at(span, "an alias to an unknown anchor")),
            },
            Event::UnresolvedAlias(name) => {
                return Err(at(span, format!("an alias to an unknown anchor '{name}'")));
            }
            Event::SequenceStart(..) | Event::MappingStart(..) if stack.len() >= MAX_DEPTH => {
                return Err(at(span, format!("nesting deeper than {MAX_DEPTH} levels")));
            }
            Event::SequenceStart(_, anchor, _) => {
                stack.push(Frame::Seq(Vec::new(), anchor));
                continue;
            }
            Event::MappingStart(_, anchor, _) => {
                stack.push(Frame::Map(Vec::new(), None, anchor));
                continue;
            }
            Event::SequenceEnd => match stack.pop() {
                Some(Frame::Seq(items, anchor)) => (Tree::Seq(items), anchor),
                _ => return Err(at(span, "unbalanced sequence")),
            },
            Event::MappingEnd => match stack.pop() {
                Some(Frame::Map(entries, _, anchor)) => (Tree::Map(entries), anchor),
                _ => return Err(at(span, "unbalanced mapping")),
            },
            _ => continue,
        };
        nodes += 1;
        if nodes > MAX_NODES {
            return Err(at(span, format!("more than {MAX_NODES} nodes")));
        }
        if anchor != 0 {
            anchors.push((anchor, node.clone()));
        }
        match stack.last_mut() {
            None => root = Some(node),
            Some(Frame::Seq(items, _)) => items.push(node),
            Some(Frame::Map(entries, key, _)) => match key.take() {
                Some(k) => entries.push((k, node)),
                None => match node {
                    Tree::Scalar { text, .. } if entries.iter().any(|(k, _)| *k == text) => {
                        return Err(at(span, format!("duplicate key `{text}`")));
                    }
                    Tree::Scalar { text, .. } => *key = Some(text),
                    _ => return Err(at(span, "a key that is not a scalar")),
                },
            },
        }
    }
    Ok(root.unwrap_or(Tree::Scalar {
        text: String::new(),
        plain: true,
        line: 1,
    }))
}

fn count(tree: &Tree) -> usize {
    match tree {
        Tree::Scalar { .. } => 1,
        Tree::Seq(items) => 1 + items.iter().map(count).sum::<usize>(),
        Tree::Map(entries) => 1 + entries.iter().map(|(_, v)| 1 + count(v)).sum::<usize>(),
    }
}

impl Tree {
    fn is_null(&self) -> bool {
        matches!(self, Tree::Scalar { text, plain: true, .. }
            if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    fn kind(&self) -> &'static str {
        match self {
            Tree::Scalar { .. } => "a scalar",
            Tree::Seq(_) => "a list",
            Tree::Map(_) => "a map",
        }
    }

    fn line(&self) -> Option<usize> {
        match self {
            Tree::Scalar { line, .. } => Some(*line),
            _ => None,
        }
    }

    fn invalid(&self, expected: &str) -> Error {
        let shown = match self {
            Tree::Scalar { text, .. } => format!("`{text}`"),
            other => other.kind().to_owned(),
        };
        match self.line() {
            Some(line) => Error(format!("expected {expected}, found {shown} at line {line}")),
            None => Error(format!("expected {expected}, found {shown}")),
        }
    }
}

impl<'de> IntoDeserializer<'de, Error> for &Tree {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

macro_rules! integer {
    ($($method:ident => $visit:ident: $ty:ty),*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            match self {
                Tree::Scalar { text, plain: true, .. } => match text.parse::<$ty>() {
                    Ok(n) => visitor.$visit(n),
                    Err(_) => Err(self.invalid("an integer")),
                },
                _ => Err(self.invalid("an integer")),
            }
        }
    )*};
}

impl<'de> de::Deserializer<'de> for &Tree {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self {
            _ if self.is_null() => visitor.visit_unit(),
            Tree::Scalar { text, plain, .. } => {
                if *plain {
                    match text.as_str() {
                        "true" | "True" | "TRUE" => return visitor.visit_bool(true),
                        "false" | "False" | "FALSE" => return visitor.visit_bool(false),
                        _ => {}
                    }
                    if let Ok(n) = text.parse::<i64>() {
                        return visitor.visit_i64(n);
                    }
                }
                visitor.visit_str(text)
            }
            Tree::Seq(items) => visitor.visit_seq(SeqDeserializer::new(items.iter())),
            Tree::Map(entries) => visitor.visit_map(MapDeserializer::new(
                entries.iter().map(|(k, v)| (k.as_str(), v)),
            )),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self {
            Tree::Scalar { text, .. } if !self.is_null() => visitor.visit_str(text),
            _ => Err(self.invalid("text")),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.is_null() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self {
            Tree::Seq(items) => visitor.visit_seq(SeqDeserializer::new(items.iter())),
            _ => Err(self.invalid("a list")),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self {
            Tree::Map(entries) => visitor.visit_map(MapDeserializer::new(
                entries.iter().map(|(k, v)| (k.as_str(), v)),
            )),
            _ if self.is_null() => {
                visitor.visit_map(MapDeserializer::new(std::iter::empty::<(&str, &Tree)>()))
            }
            _ => Err(self.invalid("a map")),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_map(visitor)
    }

    integer! {
        deserialize_u8 => visit_u8: u8, deserialize_u16 => visit_u16: u16,
        deserialize_u32 => visit_u32: u32, deserialize_u64 => visit_u64: u64,
        deserialize_i8 => visit_i8: i8, deserialize_i16 => visit_i16: i16,
        deserialize_i32 => visit_i32: i32, deserialize_i64 => visit_i64: i64
    }

    serde::forward_to_deserialize_any! {
        bool i128 u128 f32 f64 char bytes byte_buf unit unit_struct newtype_struct tuple
        tuple_struct enum identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Deserialize;

    use super::from_str;

    #[derive(Deserialize, Debug, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct M {
        name: String,
        version: String,
        #[serde(default)]
        abi: Option<u32>,
        #[serde(default)]
        list: Vec<String>,
        #[serde(default)]
        map: BTreeMap<String, String>,
    }

    fn err(text: &str) -> String {
        from_str::<M>(text).expect_err(text).to_string()
    }

    #[test]
    fn scalars_lists_maps_and_aliases() {
        let m: M = from_str(
            "name: &n web\nversion: 1.0\nabi: 2\nlist: [*n, 'b', \"c\"]\nmap:\n  k8s: ^0.2\n",
        )
        .expect("valid");
        assert_eq!(m.name, "web");
        assert_eq!(
            m.version, "1.0",
            "a field that wants text takes the scalar as written"
        );
        assert_eq!(m.abi, Some(2));
        assert_eq!(m.list, ["web", "b", "c"]);
        assert_eq!(m.map.get("k8s").map(String::as_str), Some("^0.2"));
        let m: M = from_str("{name: a, version: '1', abi: null}").expect("flow");
        assert_eq!(m.abi, None);
    }

    #[test]
    fn refusals_name_what_and_where() {
        assert!(err("name: a\nversion: '1'\nbogus: 1\n").contains("unknown field `bogus`"));
        assert!(err("name: a\n").contains("missing field `version`"));
        assert!(err("name: a\nname: b\nversion: '1'\n").contains("duplicate key `name` at line 2"));
        assert!(err("name: a\nversion: '1'\nabi: one\n").contains("`one` at line 3"));
        assert!(err("name: [a\n").contains("line"));
        assert!(err("name: a\nversion: '1'\n---\nname: b\n").contains("more than one document"));
        assert!(err("name: *x\nversion: '1'\n").contains("unknown anchor"));
        assert!(err("? [a]\n: b\n").contains("not a scalar"));
        assert!(err("name: a\nversion: ~\n").contains("expected text, found `~` at line 2"));
    }

    #[test]
    fn alias_bombs_are_bounded() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..8 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        assert!(
            err(&text).contains("more than 10000 nodes"),
            "{}",
            err(&text)
        );
    }
}
