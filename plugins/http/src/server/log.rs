//! Server log lines on stderr, in the core `log` global's formats (`ASSAY_LOG_FORMAT=text`,
//! the default, or `json`), so a service's own lines and the server's read alike.

use std::io::Write;
use std::sync::OnceLock;

use time::OffsetDateTime;

fn json_format() -> bool {
    static JSON: OnceLock<bool> = OnceLock::new();
    *JSON.get_or_init(|| std::env::var("ASSAY_LOG_FORMAT").is_ok_and(|f| f == "json"))
}

/// `2026-11-22T08:33:54.011Z`: milliseconds always three digits, like the core's `log`.
fn timestamp() -> String {
    let now = OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        now.millisecond()
    )
}

/// One ERROR line: `message` plus `key=value` fields (the traceback goes last, on its lines).
pub fn error(message: &str, fields: &[(&str, &str)]) {
    let line = if json_format() {
        let mut object = serde_json::Map::new();
        object.insert("ts".into(), timestamp().into());
        object.insert("level".into(), "error".into());
        object.insert("msg".into(), message.into());
        for (k, v) in fields {
            object.insert((*k).into(), (*v).into());
        }
        serde_json::Value::Object(object).to_string()
    } else {
        let mut line = format!("{} ERROR {message}", timestamp());
        for (k, v) in fields {
            if v.contains(char::is_whitespace) || v.is_empty() {
                line.push_str(&format!(" {k}={}", serde_json::Value::from(*v)));
            } else {
                line.push_str(&format!(" {k}={v}"));
            }
        }
        line
    };
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}");
}
