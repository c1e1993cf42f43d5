//! Judging an HTTP response against a check's `expect`, and taking its `capture`s. Each
//! failure says what was seen and what was expected, in one line.

use super::kinds::{Capture, HttpExpect, Op};
use super::template::Template;
use crate::report::Mask;

/// What an HTTP attempt saw.
#[derive(Debug, Clone, Default)]
pub struct Response {
    pub status: u16,
    /// Lower-case names; repeated headers joined as the client joins them.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub latency_ms: f64,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON, or why it is not.
    pub fn json(&self, mask: &Mask) -> Result<serde_json::Value, String> {
        serde_json::from_slice(&self.body).map_err(|e| {
            format!(
                "the body is not JSON ({e}): {}",
                excerpt(&String::from_utf8_lossy(&self.body), mask)
            )
        })
    }
}

/// At most 120 characters of `text`, secrets masked (before the cut, which could otherwise
/// leave part of one), quoted, for a message.
pub fn excerpt(text: &str, mask: &Mask) -> String {
    let text = mask.apply(text);
    let clipped = clip(&text, &Mask::default());
    match clipped.strip_suffix("...") {
        Some(start) if clipped.len() < text.len() => format!("{start:?}..."),
        _ => format!("{text:?}"),
    }
}

/// At most 120 characters of `text` (JSON, already quoted where it needs to be), secrets
/// masked first.
fn clip(text: &str, mask: &Mask) -> String {
    const SHOWN: usize = 120;
    let text = mask.apply(text);
    match text.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text,
    }
}

/// `Ok` when `response` meets every expectation, else the first one it misses.
pub fn http(
    expect: &HttpExpect,
    response: &Response,
    render: &dyn Fn(&Template) -> Result<String, String>,
    mask: &Mask,
) -> Result<(), String> {
    let allowed: &[(u16, u16)] = if expect.status.is_empty() {
        &[(200, 399)]
    } else {
        &expect.status
    };
    if !allowed
        .iter()
        .any(|(low, high)| (*low..=*high).contains(&response.status))
    {
        let wanted: Vec<String> = allowed
            .iter()
            .map(|(low, high)| match (low, high) {
                (l, h) if l == h => l.to_string(),
                (l, h) if l % 100 == 0 && h - l == 99 => format!("{}xx", l / 100),
                (l, h) => format!("{l}-{h}"),
            })
            .collect();
        return Err(format!(
            "status {}, expected {}; body: {}",
            response.status,
            wanted.join(" or "),
            excerpt(&String::from_utf8_lossy(&response.body), mask)
        ));
    }
    for (name, value) in &expect.headers {
        let wanted = render(value)?;
        match response.header(name) {
            Some(seen) if seen == wanted => {}
            Some(seen) => {
                return Err(format!("header {name} is {seen:?}, expected {wanted:?}"));
            }
            None => return Err(format!("header {name} is missing, expected {wanted:?}")),
        }
    }
    if !expect.body_contains.is_empty() || expect.body_matches.is_some() {
        let body = String::from_utf8_lossy(&response.body);
        for needle in &expect.body_contains {
            let needle = render(needle)?;
            if !body.contains(&needle) {
                return Err(format!(
                    "the body does not contain {needle:?}: {}",
                    excerpt(&body, mask)
                ));
            }
        }
        if let Some(re) = &expect.body_matches
            && !re.is_match(&body)
        {
            return Err(format!(
                "the body does not match /{re}/: {}",
                excerpt(&body, mask)
            ));
        }
    }
    if !expect.json.is_empty() {
        let doc = response.json(mask)?;
        for (path, op) in &expect.json {
            judge(&path.to_string(), path.find(&doc), op, render, mask)?;
        }
    }
    if let Some(bound) = expect.latency_ms
        && response.latency_ms > bound as f64
    {
        return Err(format!(
            "took {:.0} ms, expected at most {bound} ms",
            response.latency_ms
        ));
    }
    Ok(())
}

/// A JSON value found at `path` (or not) against `op`.
pub fn judge(
    path: &str,
    found: Option<&serde_json::Value>,
    op: &Op,
    render: &dyn Fn(&Template) -> Result<String, String>,
    mask: &Mask,
) -> Result<(), String> {
    let shown = |v: Option<&serde_json::Value>| match v {
        Some(v) => clip(&v.to_string(), mask),
        None => "missing".to_owned(),
    };
    let number = found.and_then(|v| match v {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.parse().ok(),
        _ => None,
    });
    let compare = |wanted: f64, ok: fn(f64, f64) -> bool, sign: &str| match number {
        Some(n) if ok(n, wanted) => Ok(()),
        Some(_) => Err(format!(
            "{path} is {}, expected {sign} {wanted}",
            shown(found)
        )),
        None => Err(format!(
            "{path} is {}, expected a number {sign} {wanted}",
            shown(found)
        )),
    };
    match op {
        Op::Eq(wanted) => {
            let wanted = &wanted.render(render)?;
            if found.is_some_and(|v| same(v, wanted)) {
                Ok(())
            } else {
                Err(format!(
                    "{path} is {}, expected {}",
                    shown(found),
                    excerpt(&wanted.to_string(), mask)
                ))
            }
        }
        Op::Ne(unwanted) => {
            let unwanted = &unwanted.render(render)?;
            if found.is_some_and(|v| same(v, unwanted)) {
                Err(format!(
                    "{path} is {}, expected anything else",
                    shown(found)
                ))
            } else {
                Ok(())
            }
        }
        Op::Lt(w) => compare(*w, |a, b| a < b, "<"),
        Op::Le(w) => compare(*w, |a, b| a <= b, "<="),
        Op::Gt(w) => compare(*w, |a, b| a > b, ">"),
        Op::Ge(w) => compare(*w, |a, b| a >= b, ">="),
        Op::Exists(true) if found.is_none() => Err(format!("{path} is missing")),
        Op::Exists(false) if found.is_some() => {
            Err(format!("{path} is {}, expected it missing", shown(found)))
        }
        Op::Exists(_) => Ok(()),
        Op::Matches(re) => {
            let text = match found {
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => return Err(format!("{path} is missing, expected a match of /{re}/")),
            };
            if re.is_match(&text) {
                Ok(())
            } else {
                Err(format!(
                    "{path} is {}, expected a match of /{re}/",
                    shown(found)
                ))
            }
        }
    }
}

/// JSON equality where numbers compare by value (`1` equals `1.0`).
fn same(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    match (a, b) {
        (serde_json::Value::Number(x), serde_json::Value::Number(y)) => x.as_f64() == y.as_f64(),
        (serde_json::Value::Array(x), serde_json::Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (serde_json::Value::Object(x), serde_json::Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// The values `captures` take from `response`; a capture that finds nothing is an error.
pub fn captures(
    captures: &[(String, Capture)],
    response: &Response,
    mask: &Mask,
) -> Result<Vec<(String, String)>, String> {
    let mut doc = None;
    let mut out = Vec::new();
    for (name, capture) in captures {
        let value = match capture {
            Capture::Json(path) => {
                if doc.is_none() {
                    doc = Some(response.json(mask)?);
                }
                let found = doc.as_ref().and_then(|d| path.find(d));
                match found {
                    Some(serde_json::Value::String(s)) => s.clone(),
                    Some(serde_json::Value::Null) | None => {
                        return Err(format!("capture '{name}': {path} is missing"));
                    }
                    Some(other) => other.to_string(),
                }
            }
            Capture::Header(header) => response
                .header(header)
                .map(str::to_owned)
                .ok_or_else(|| format!("capture '{name}': header {header} is missing"))?,
            Capture::Regex(re, group) => {
                let body = String::from_utf8_lossy(&response.body);
                re.captures(&body)
                    .and_then(|c| c.get(*group))
                    .map(|m| m.as_str().to_owned())
                    .ok_or_else(|| format!("capture '{name}': /{re}/ does not match the body"))?
            }
        };
        out.push((name.clone(), value));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::jsonpath::JsonPath;
    use crate::check::kinds::JsonTemplate;

    fn response(status: u16, body: &str) -> Response {
        Response {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.as_bytes().to_vec(),
            latency_ms: 12.0,
        }
    }

    fn plain(t: &Template) -> Result<String, String> {
        t.render(|_| None)
    }

    #[test]
    fn status_body_json_and_latency() {
        let mut expect = HttpExpect::default();
        let ok = response(200, r#"{"status":"up","n":3,"items":[1]}"#);
        assert_eq!(http(&expect, &ok, &plain, &Mask::default()), Ok(()));
        let err = http(&expect, &response(503, "busy"), &plain, &Mask::default()).expect_err("503");
        assert_eq!(err, "status 503, expected 200-399; body: \"busy\"");
        expect.status = vec![(200, 299)];
        expect.json = vec![
            (
                JsonPath::parse("$.status").expect("path"),
                Op::Eq(JsonTemplate::Str(Template::parse("up").expect("text"))),
            ),
            (JsonPath::parse("$.n").expect("path"), Op::Gt(2.0)),
        ];
        assert_eq!(http(&expect, &ok, &plain, &Mask::default()), Ok(()));
        expect
            .json
            .push((JsonPath::parse("$.n").expect("path"), Op::Lt(3.0)));
        assert_eq!(
            http(&expect, &ok, &plain, &Mask::default()),
            Err("$.n is 3, expected < 3".into())
        );
        expect.json.clear();
        expect.latency_ms = Some(5);
        assert_eq!(
            http(&expect, &ok, &plain, &Mask::default()),
            Err("took 12 ms, expected at most 5 ms".into())
        );
    }

    #[test]
    fn captures_take_values() {
        let ok = response(200, r#"{"token":"t1","n":3}"#);
        let list = vec![
            (
                "token".to_owned(),
                Capture::Json(JsonPath::parse("$.token").expect("path")),
            ),
            (
                "n".to_owned(),
                Capture::Json(JsonPath::parse("$.n").expect("path")),
            ),
            ("type".to_owned(), Capture::Header("content-type".into())),
        ];
        assert_eq!(
            captures(&list, &ok, &Mask::default()).expect("found"),
            [
                ("token".into(), "t1".into()),
                ("n".into(), "3".into()),
                ("type".into(), "application/json".into())
            ]
        );
        let missing = vec![(
            "x".to_owned(),
            Capture::Json(JsonPath::parse("$.x").expect("path")),
        )];
        assert_eq!(
            captures(&missing, &ok, &Mask::default()),
            Err("capture 'x': $.x is missing".into())
        );
    }
}
