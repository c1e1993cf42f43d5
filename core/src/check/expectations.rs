//! Reading an http check's `expect` and `capture` (the shapes are in `kinds`' docs).

use super::fields::{ConfigError, Fields};
use super::jsonpath::JsonPath;
use super::kinds::{Capture, HttpExpect, Op, json_template};
use super::template::Template;
use super::tree::{Node, Value};

pub(super) fn regex_of(
    fields: &Fields<'_>,
    name: &str,
    node: &Node,
) -> Result<regex::Regex, ConfigError> {
    let text = fields.text(name, node)?;
    regex::RegexBuilder::new(&text)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| fields.error(node.line, format!("'{name}': not a valid regex: {e}")))
}

pub(super) fn http_expect(fields: &Fields<'_>) -> Result<HttpExpect, ConfigError> {
    let mut expect = HttpExpect::default();
    if let Some(node) = fields.get("status") {
        let items: Vec<&Node> = match &node.value {
            Value::Seq(items) => items.iter().collect(),
            _ => vec![node],
        };
        for item in items {
            let text = fields.text("status", item)?;
            expect.status.push(status_range(&text).ok_or_else(|| {
                fields.error(
                    item.line,
                    format!(
                        "'status': '{text}' is not a status (like 200, \"2xx\" or \"200-299\")"
                    ),
                )
            })?);
        }
    }
    expect.headers = super::kinds::templates(fields, "headers")?;
    expect.body_contains = fields
        .strings("body_contains")?
        .into_iter()
        .map(|(line, text)| {
            Template::parse(&text)
                .map_err(|why| fields.error(line, format!("'body_contains': {why}")))
        })
        .collect::<Result<_, _>>()?;
    if let Some(node) = fields.get("body_matches") {
        expect.body_matches = Some(regex_of(fields, "body_matches", node)?);
    }
    if let Some(node) = fields.get("json") {
        let Value::Map(entries) = &node.value else {
            return Err(fields.error(
                node.line,
                format!(
                    "'json': a mapping of JSON paths expected, got {}",
                    node.kind()
                ),
            ));
        };
        for (key, value) in entries {
            let path = JsonPath::parse(&key.name)
                .map_err(|why| fields.error(key.line, format!("'json': {why}")))?;
            expect.json.push((path, op(fields, value)?));
        }
    }
    expect.latency_ms = fields.count("latency_ms", 86_400_000)?;
    fields.finish(&[
        "status",
        "headers",
        "body_contains",
        "body_matches",
        "json",
        "latency_ms",
    ])?;
    Ok(expect)
}

/// `200`, `"2xx"`, `"200-299"`.
fn status_range(text: &str) -> Option<(u16, u16)> {
    let valid = |n: u16| (100..=599).contains(&n);
    if let Some(class) = text.strip_suffix("xx").or_else(|| text.strip_suffix("XX")) {
        let digit: u16 = class.parse().ok().filter(|d| (1..=5).contains(d))?;
        return Some((digit * 100, digit * 100 + 99));
    }
    if let Some((low, high)) = text.split_once('-') {
        let (low, high): (u16, u16) = (low.trim().parse().ok()?, high.trim().parse().ok()?);
        return (valid(low) && valid(high) && low <= high).then_some((low, high));
    }
    let n: u16 = text.trim().parse().ok()?;
    valid(n).then_some((n, n))
}

const OPS: &[&str] = &["==", "!=", "<", "<=", ">", ">=", "exists", "matches"];

fn op(fields: &Fields<'_>, node: &Node) -> Result<Op, ConfigError> {
    let Value::Map(entries) = &node.value else {
        return Ok(Op::Eq(json_template(fields, node)?));
    };
    let is_op = entries.len() == 1 && OPS.contains(&entries[0].0.name.as_str());
    if !is_op {
        // A mapping that is not one operator is a value to compare whole.
        return Ok(Op::Eq(json_template(fields, node)?));
    }
    let (key, value) = &entries[0];
    let number = || match value.value {
        Value::Int(i) => Ok(i as f64),
        Value::Float(f) if f.is_finite() => Ok(f),
        _ => Err(fields.error(
            value.line,
            format!(
                "'{}': a finite number expected, got {}",
                key.name,
                value.kind()
            ),
        )),
    };
    Ok(match key.name.as_str() {
        "==" => Op::Eq(json_template(fields, value)?),
        "!=" => Op::Ne(json_template(fields, value)?),
        "<" => Op::Lt(number()?),
        "<=" => Op::Le(number()?),
        ">" => Op::Gt(number()?),
        ">=" => Op::Ge(number()?),
        "exists" => match value.value {
            Value::Bool(b) => Op::Exists(b),
            _ => return Err(fields.error(value.line, "'exists': true or false expected")),
        },
        _ => Op::Matches(regex_of(fields, "matches", value)?),
    })
}

pub(super) fn captures(fields: &Fields<'_>) -> Result<Vec<(String, Capture)>, ConfigError> {
    let mut out = Vec::new();
    for (key, node) in fields.all() {
        let what = format!("{}.{}", fields.what, key.name);
        let capture = match &node.value {
            Value::Str(text) => {
                Capture::Json(JsonPath::parse(text).map_err(|why| fields.error(node.line, why))?)
            }
            Value::Map(_) => {
                let spec = Fields::of(fields.file(), what, node)?;
                let capture = if let Some(path) = spec.string("json")? {
                    Capture::Json(JsonPath::parse(&path).map_err(|why| spec.error(node.line, why))?)
                } else if let Some(header) = spec.string("header")? {
                    Capture::Header(header.to_ascii_lowercase())
                } else if let Some(pattern) = spec.get("regex") {
                    let re = regex_of(&spec, "regex", pattern)?;
                    let group = spec.count("group", 99)?.unwrap_or(1) as usize;
                    if group >= re.captures_len() {
                        return Err(spec.error(
                            node.line,
                            format!("'group': the regex has no group {group}"),
                        ));
                    }
                    Capture::Regex(re, group)
                } else {
                    return Err(
                        spec.error(node.line, "one of 'json', 'header' or 'regex' expected")
                    );
                };
                spec.finish(&["json", "header", "regex", "group"])?;
                capture
            }
            _ => {
                return Err(fields.error(
                    node.line,
                    format!(
                        "'{}': a JSON path or a mapping expected, got {}",
                        key.name,
                        node.kind()
                    ),
                ));
            }
        };
        out.push((key.name.clone(), capture));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        assert_eq!(status_range("200"), Some((200, 200)));
        assert_eq!(status_range("2xx"), Some((200, 299)));
        assert_eq!(status_range("200-204"), Some((200, 204)));
        assert_eq!(status_range("700"), None);
        assert_eq!(status_range("6xx"), None);
        assert_eq!(status_range("300-200"), None);
    }
}
