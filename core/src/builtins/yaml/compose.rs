//! YAML parser events straight into Lua values, with the meanings of [`super::resolve`].
//!
//! - Mapping keys are always strings: the key's text as written (`on:`, `200:`, `yes:` stay
//!   `"on"`, `"200"`, `"yes"`). Kubernetes makes every key a string too, but from its value
//!   (`yes:` becomes `"true"`), which would break a GitHub workflow's `on:`; a key that is not
//!   a scalar (`? [a, b]`) is an error.
//! - A duplicate key is an error naming it (yaml.v2 silently keeps the last; a strict decoder,
//!   as `kubectl` uses, refuses it): nothing is dropped unseen.
//! - Merge keys (`<<: *base`, `<<: [*a, *b]`) copy the keys the mapping does not set itself,
//!   earlier sources first (the YAML merge spec; yaml.v2 lets a `<<` after a key override it).
//! - An alias is the anchored value itself, not a copy (as in PyYAML and Go): an anchored table
//!   changed through one path is changed through every path. This also makes alias bombs cost
//!   nothing.
//! - Every mapping records its key order (`codec::order`), merged keys where the `<<` was.
//! - Quoted and block scalars are strings; `!!str`, `!!int`, `!!float`, `!!bool`, `!!null` and
//!   `!!binary` (base64, decoded to a byte string) are honoured; other tags are dropped, the
//!   scalar then read as a string (as yaml.v2 does).

use std::collections::{HashMap, HashSet};

use base64::Engine as _;
use granit_parser::{Event, Parser, ScalarStyle, ScanError, Span, Tag};
use mlua::{Lua, LuaString, Table, Value};

use super::resolve::{self, Resolved};
use crate::builtins::codec::{self, Budget, Markers};
use crate::builtins::function::Raise;

/// Collections nested deeper than this are refused, by `yaml.parse` and by `yaml.encode`.
pub const MAX_DEPTH: usize = 256;

/// A stream with more documents than this is refused (each costs a table entry even when
/// empty; real streams, `helm template` output included, have hundreds).
pub const MAX_DOCUMENTS: usize = 100_000;

const CORE_TAGS: &str = "tag:yaml.org,2002:";

/// The documents of `text`, each a Lua value (`json.null` for an empty document).
pub fn documents(
    lua: &Lua,
    markers: &Markers,
    budget: &Budget<'_>,
    text: &str,
) -> Result<Vec<Value>, Raise> {
    let mut options = granit_parser::Options::default();
    options.flow_nesting_limit = MAX_DEPTH;
    options.block_nesting_limit = MAX_DEPTH;
    let mut composer = Composer {
        lua,
        markers,
        budget,
        stack: Vec::new(),
        anchors: HashMap::new(),
        root: None,
        documents: Vec::new(),
    };
    for event in Parser::new_from_str_with_options(text, options) {
        let (event, span) = event.map_err(syntax)?;
        composer.event(event, span)?;
    }
    Ok(composer.documents)
}

fn syntax(e: ScanError) -> Raise {
    let mark = e.marker();
    Raise::Message(format!(
        "invalid YAML: {} (line {}, column {})",
        e.info(),
        mark.line(),
        mark.col() + 1
    ))
}

fn at(span: Span, message: impl std::fmt::Display) -> Raise {
    Raise::Message(format!(
        "invalid YAML: {message} (line {}, column {})",
        span.start.line(),
        span.start.col() + 1
    ))
}

struct Composer<'a> {
    lua: &'a Lua,
    markers: &'a Markers,
    budget: &'a Budget<'a>,
    stack: Vec<Frame>,
    /// Anchored values, and the text of anchored scalars.
    anchors: HashMap<usize, (Value, Option<LuaString>)>,
    root: Option<Value>,
    documents: Vec<Value>,
}

enum Frame {
    Sequence { table: Table, len: usize },
    Mapping(Box<Mapping>),
}

struct Mapping {
    table: Table,
    /// Keys in document order.
    keys: Vec<LuaString>,
    seen: HashSet<Vec<u8>>,
    /// The key whose value comes next.
    key: Option<Key>,
    /// `<<` sources, with the number of keys set before each.
    merges: Vec<(usize, Table, Span)>,
}

struct Key {
    text: LuaString,
    merge: bool,
    span: Span,
}

/// A finished node: its value, and when it is a scalar, its text (what a key is named by) and
/// whether it is the merge key.
struct Node {
    value: Value,
    text: Option<(LuaString, bool)>,
}

impl Composer<'_> {
    fn event(&mut self, event: Event<'_>, span: Span) -> Result<(), Raise> {
        match event {
            Event::DocumentStart(..) if self.documents.len() >= MAX_DOCUMENTS => {
                return Err(at(span, format!("more than {MAX_DOCUMENTS} documents")));
            }
            Event::DocumentEnd => {
                let root = self.root.take().unwrap_or_else(codec::null);
                self.documents.push(root);
                self.anchors.clear();
            }
            Event::Scalar(text, style, anchor, tag) => {
                let value = self.scalar(&text, style, tag.as_deref(), span)?;
                // `<<` plain, or tagged `!!merge`, is a merge key.
                let merge = match tag.as_deref() {
                    None => style == ScalarStyle::Plain && text == "<<",
                    Some(tag) => tag.handle() == CORE_TAGS && tag.suffix() == "merge",
                };
                // The text as written names the scalar as a key (the value itself when it is
                // that text, rather than a second copy).
                let name = match &value {
                    Value::String(s) if s.as_bytes() == text.as_bytes() => s.clone(),
                    _ => self.string(text.as_bytes())?,
                };
                if anchor != 0 {
                    self.anchors
                        .insert(anchor, (value.clone(), Some(name.clone())));
                }
                self.finish(
                    Node {
                        value,
                        text: Some((name, merge)),
                    },
                    span,
                )?;
            }
            Event::Alias(id) => {
                let Some((value, name)) = self.anchors.get(&id).cloned() else {
                    return Err(at(span, "an alias to an unknown anchor"));
                };
                // An aliased scalar names a key by its anchor's text, as written.
                let text = name.map(|name| (name, false));
                self.finish(Node { value, text }, span)?;
            }
            Event::UnresolvedAlias(name) => {
                return Err(at(span, format!("an alias to an unknown anchor '{name}'")));
            }
            Event::SequenceStart(_, anchor, _) => {
                let table = self.open(anchor, span)?;
                table.set_metatable(Some(self.markers.array.clone()))?;
                self.stack.push(Frame::Sequence { table, len: 0 });
            }
            Event::MappingStart(_, anchor, _) => {
                let table = self.open(anchor, span)?;
                self.stack.push(Frame::Mapping(Box::new(Mapping {
                    table,
                    keys: Vec::new(),
                    seen: HashSet::new(),
                    key: None,
                    merges: Vec::new(),
                })));
            }
            Event::SequenceEnd => {
                if let Some(Frame::Sequence { table, .. }) = self.stack.pop() {
                    let value = Value::Table(table);
                    self.finish(Node { value, text: None }, span)?;
                }
            }
            Event::MappingEnd => {
                if let Some(Frame::Mapping(mapping)) = self.stack.pop() {
                    let Mapping {
                        table,
                        keys,
                        mut seen,
                        merges,
                        ..
                    } = *mapping;
                    let order = self.merge(&table, keys, &mut seen, merges)?;
                    codec::order::record(self.lua, self.markers, &table, &order)?;
                    let value = Value::Table(table);
                    self.finish(Node { value, text: None }, span)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// A new collection's table, registered under its anchor.
    fn open(&mut self, anchor: usize, span: Span) -> Result<Table, Raise> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(at(span, format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        self.budget.tick()?;
        let table = self.lua.create_table()?;
        if anchor != 0 {
            self.anchors
                .insert(anchor, (Value::Table(table.clone()), None));
        }
        Ok(table)
    }

    fn string(&self, bytes: &[u8]) -> Result<LuaString, Raise> {
        self.budget.string(bytes.len())?;
        Ok(self.lua.create_string(bytes)?)
    }

    fn scalar(
        &self,
        text: &str,
        style: ScalarStyle,
        tag: Option<&Tag>,
        span: Span,
    ) -> Result<Value, Raise> {
        self.budget.tick()?;
        let resolved = match tag {
            Some(tag) if tag.handle() == CORE_TAGS && tag.suffix() == "binary" => {
                let compact: String = text.split_whitespace().collect();
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(compact)
                    .map_err(|e| at(span, format!("!!binary is not base64: {e}")))?;
                return Ok(Value::String(self.string(&bytes)?));
            }
            Some(tag) if tag.handle() == CORE_TAGS => resolve::tagged(tag.suffix(), text)
                .ok_or_else(|| at(span, format!("!!{} cannot be '{text}'", tag.suffix())))?,
            Some(_) => Resolved::Str,
            None if style == ScalarStyle::Plain => resolve::plain(text),
            None => Resolved::Str,
        };
        Ok(match resolved {
            Resolved::Null => codec::null(),
            Resolved::Bool(b) => Value::Boolean(b),
            Resolved::Int(n) => Value::Integer(n),
            Resolved::Float(f) => Value::Number(f),
            Resolved::Str => Value::String(self.string(text.as_bytes())?),
        })
    }

    /// Puts a finished node where it belongs: the document's root, the next item of a
    /// sequence, a mapping's next key or the value of its key.
    fn finish(&mut self, node: Node, span: Span) -> Result<(), Raise> {
        let Some(frame) = self.stack.last_mut() else {
            self.root = Some(node.value);
            return Ok(());
        };
        match frame {
            Frame::Sequence { table, len } => {
                *len += 1;
                table.raw_seti(*len, node.value)?;
            }
            Frame::Mapping(mapping) => {
                let Mapping {
                    table,
                    keys,
                    seen,
                    key,
                    merges,
                } = &mut **mapping;
                match key.take() {
                    None => {
                        let Some((text, plain)) = node.text else {
                            return Err(at(span, "a mapping key must be a scalar"));
                        };
                        let merge = plain && text.as_bytes() == b"<<";
                        *key = Some(Key { text, merge, span });
                    }
                    Some(Key {
                        merge: true, span, ..
                    }) => {
                        let Value::Table(source) = node.value else {
                            return Err(at(
                                span,
                                "a merge key (<<) needs a mapping or a list of them",
                            ));
                        };
                        merges.push((keys.len(), source, span));
                    }
                    Some(Key { text, span, .. }) => {
                        if !seen.insert(text.as_bytes().to_vec()) {
                            let name = text.to_string_lossy();
                            return Err(at(span, format!("duplicate key '{name}'")));
                        }
                        table.raw_set(&text, node.value)?;
                        keys.push(text);
                    }
                }
            }
        }
        Ok(())
    }

    /// Applies a mapping's merge keys: each source's keys that are not set yet, in the
    /// source's order; returns the mapping's key order, merged keys where their `<<` was.
    fn merge(
        &self,
        table: &Table,
        keys: Vec<LuaString>,
        seen: &mut HashSet<Vec<u8>>,
        merges: Vec<(usize, Table, Span)>,
    ) -> Result<Vec<LuaString>, Raise> {
        if merges.is_empty() {
            return Ok(keys);
        }
        let mut merged: Vec<(usize, Vec<LuaString>)> = Vec::new();
        for (place, source, span) in merges {
            let sources = if self.is_sequence(&source) {
                source
                    .sequence_values::<Value>()
                    .collect::<mlua::Result<Vec<_>>>()?
            } else {
                vec![Value::Table(source)]
            };
            let mut added = Vec::new();
            for source in sources {
                let Value::Table(source) = source.clone() else {
                    return Err(at(
                        span,
                        "a merge key (<<) needs a mapping or a list of them",
                    ));
                };
                if self.is_sequence(&source) {
                    return Err(at(
                        span,
                        "a merge key (<<) needs a mapping or a list of them",
                    ));
                }
                for key in self.keys_of(&source)? {
                    // Each copy counts: many merges of a large mapping add up.
                    self.budget.tick()?;
                    if seen.contains(key.as_bytes().as_ref()) {
                        continue;
                    }
                    let value: Value = source.raw_get(&key)?;
                    table.raw_set(&key, value)?;
                    seen.insert(key.as_bytes().to_vec());
                    added.push(key);
                }
            }
            merged.push((place, added));
        }
        let mut order = Vec::with_capacity(seen.len());
        let mut merged = merged.into_iter().peekable();
        for (i, key) in keys.into_iter().enumerate() {
            while let Some((_, added)) = merged.next_if(|(place, _)| *place <= i) {
                order.extend(added);
            }
            order.push(key);
        }
        order.extend(merged.flat_map(|(_, added)| added));
        Ok(order)
    }

    fn is_sequence(&self, table: &Table) -> bool {
        table
            .metatable()
            .is_some_and(|mt| mt.to_pointer() == self.markers.array.to_pointer())
    }

    /// A decoded mapping's keys in its document order.
    fn keys_of(&self, table: &Table) -> Result<Vec<LuaString>, Raise> {
        match self.markers.order.raw_get::<Option<Table>>(table)? {
            Some(list) => Ok(list.sequence_values().collect::<mlua::Result<_>>()?),
            None => Ok(Vec::new()),
        }
    }
}
