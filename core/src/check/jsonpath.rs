//! JSON paths as checks use them: `$` then `.name`, `['any name']` and `[index]` steps
//! (`[-1]` is the last item): `$.items[0].status`, `$['app.kubernetes.io/name']`. One value per
//! path; no wildcards or filters (a script check can do anything more).

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(i64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath {
    text: String,
    steps: Vec<Step>,
}

impl std::fmt::Display for JsonPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl JsonPath {
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = |why: &str| format!("'{text}' is not a JSON path: {why} (like $.items[0].name)");
        let mut rest = text
            .strip_prefix('$')
            .ok_or_else(|| bad("it must start with '$'"))?;
        let mut steps = Vec::new();
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('.') {
                let end = after.find(['.', '[']).unwrap_or(after.len());
                let name = &after[..end];
                if name.is_empty() {
                    return Err(bad("a '.' without a name after it"));
                }
                steps.push(Step::Key(name.to_owned()));
                rest = &after[end..];
            } else if let Some(after) = rest.strip_prefix("['") {
                let end = after
                    .find("']")
                    .ok_or_else(|| bad("a \"['\" without its \"']\""))?;
                steps.push(Step::Key(after[..end].to_owned()));
                rest = &after[end + 2..];
            } else if let Some(after) = rest.strip_prefix('[') {
                let end = after
                    .find(']')
                    .ok_or_else(|| bad("a '[' without its ']'"))?;
                let index = after[..end]
                    .trim()
                    .parse()
                    .map_err(|_| bad("an index must be a whole number, or a name in ['...']"))?;
                steps.push(Step::Index(index));
                rest = &after[end + 1..];
            } else {
                return Err(bad("expected '.', '[' or the end"));
            }
        }
        Ok(JsonPath {
            text: text.to_owned(),
            steps,
        })
    }

    /// The value at the path, if there is one.
    pub fn find<'v>(&self, mut value: &'v Value) -> Option<&'v Value> {
        for step in &self.steps {
            value = match (step, value) {
                (Step::Key(key), Value::Object(map)) => map.get(key)?,
                (Step::Index(i), Value::Array(items)) => {
                    let at = if *i < 0 { items.len() as i64 + i } else { *i };
                    items.get(usize::try_from(at).ok()?)?
                }
                _ => return None,
            };
        }
        Some(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps() {
        let doc: Value = serde_json::json!({
            "items": [{"status": "up"}, {"status": "down"}],
            "app.kubernetes.io/name": "web",
            "n": 3
        });
        let at = |p: &str| JsonPath::parse(p).expect("valid").find(&doc).cloned();
        assert_eq!(at("$.items[0].status"), Some("up".into()));
        assert_eq!(at("$.items[-1].status"), Some("down".into()));
        assert_eq!(at("$['app.kubernetes.io/name']"), Some("web".into()));
        assert_eq!(at("$.n"), Some(3.into()));
        assert_eq!(at("$"), Some(doc.clone()));
        assert_eq!(at("$.items[5]"), None);
        assert_eq!(at("$.n.x"), None);
    }

    #[test]
    fn mistakes() {
        for bad in ["items", "$.", "$[x]", "$['a'", "$[0", "$a"] {
            assert!(JsonPath::parse(bad).is_err(), "{bad}");
        }
    }
}
