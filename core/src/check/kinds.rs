//! What each check type reads from its mapping (besides `name`, `type`, `retries`,
//! `backoff`, `interval`, `timeout` and `depends_on`, which every check has).
//!
//! - `http`: `url`, `method` (GET), `headers`, `body` (text) or `json` (any YAML, sent as JSON),
//!   `auth` (`{user, password}` or `{bearer}`), `insecure`, `expect`, `capture`.
//!   `expect`: `status` (a number, a list, `"2xx"` or `"200-299"`; default 200-399),
//!   `headers` (name -> exact value, names in any case), `body_contains` (text or list),
//!   `body_matches` (a regex), `json` (path -> value for `==`, or `{op: value}` with op one of
//!   `==`, `!=`, `<`, `<=`, `>`, `>=`, `exists` (true/false), `matches` (a regex)),
//!   `latency_ms`. `capture`: name -> a JSON path (`"$.token"`), `{json: path}`,
//!   `{header: name}` or `{regex: pattern, group: n}` (group 1 by default, 0 the whole match).
//! - `prometheus`: `url` (the server), `query` (PromQL, instant), `headers`, `expect`:
//!   `min`, `max`, `equals` (on the scalar, or on every series of a vector), `empty: true`
//!   (no series). A vector with no series fails min/max/equals.
//! - `script`: `file` (beside the check file) or `lua` (inline); runs in a fresh sandboxed VM.
//! - `tcp`: `host` and `port`, or `address: host:port`: connects within the attempt's time.
//! - `dns`: `host` (the name to resolve); `expect: {addresses: [...]}` (each must be among the
//!   answers).
//!
//! Every string may use `${name}` (see `template`).

use std::path::PathBuf;

use super::fields::{ConfigError, Fields};
use super::jsonpath::JsonPath;
use super::template::Template;
use super::tree::{Node, Value};

pub const NAMES: &[&str] = &["http", "prometheus", "script", "tcp", "dns"];

#[derive(Debug, Clone)]
pub enum Kind {
    Http(Box<Http>),
    Prometheus(Prometheus),
    Script(Script),
    Tcp(Tcp),
    Dns(Dns),
}

#[derive(Debug, Clone)]
pub struct Http {
    pub method: String,
    pub url: Template,
    pub headers: Vec<(String, Template)>,
    pub body: Option<Body>,
    pub auth: Option<Auth>,
    pub insecure: bool,
    pub expect: HttpExpect,
    pub capture: Vec<(String, Capture)>,
}

#[derive(Debug, Clone)]
pub enum Body {
    Text(Template),
    /// JSON with `${name}` in its strings.
    Json(JsonTemplate),
}

#[derive(Debug, Clone)]
pub enum JsonTemplate {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Template),
    List(Vec<JsonTemplate>),
    Object(Vec<(String, JsonTemplate)>),
}

impl JsonTemplate {
    /// The JSON value, each string rendered by `render`.
    pub fn render(
        &self,
        render: &dyn Fn(&Template) -> Result<String, String>,
    ) -> Result<serde_json::Value, String> {
        Ok(match self {
            JsonTemplate::Null => serde_json::Value::Null,
            JsonTemplate::Bool(b) => (*b).into(),
            JsonTemplate::Int(i) => (*i).into(),
            JsonTemplate::Float(f) => {
                serde_json::Number::from_f64(*f).map_or(serde_json::Value::Null, Into::into)
            }
            JsonTemplate::Str(t) => render(t)?.into(),
            JsonTemplate::List(items) => items
                .iter()
                .map(|i| i.render(render))
                .collect::<Result<_, _>>()?,
            JsonTemplate::Object(entries) => entries
                .iter()
                .map(|(k, v)| Ok((k.clone(), v.render(render)?)))
                .collect::<Result<serde_json::Map<_, _>, String>>()?
                .into(),
        })
    }
}

#[derive(Debug, Clone)]
pub enum Auth {
    Basic { user: Template, password: Template },
    Bearer(Template),
}

#[derive(Debug, Clone, Default)]
pub struct HttpExpect {
    /// Allowed status ranges (inclusive); empty: 200-399.
    pub status: Vec<(u16, u16)>,
    pub headers: Vec<(String, Template)>,
    pub body_contains: Vec<Template>,
    pub body_matches: Option<regex::Regex>,
    pub json: Vec<(JsonPath, Op)>,
    pub latency_ms: Option<u64>,
}

/// A comparison of a JSON value.
#[derive(Debug, Clone)]
pub enum Op {
    /// Equal to the value, its strings' `${name}`s filled in as the check runs.
    Eq(JsonTemplate),
    Ne(JsonTemplate),
    Lt(f64),
    Le(f64),
    Gt(f64),
    Ge(f64),
    Exists(bool),
    Matches(regex::Regex),
}

#[derive(Debug, Clone)]
pub enum Capture {
    Json(JsonPath),
    Header(String),
    Regex(regex::Regex, usize),
}

#[derive(Debug, Clone)]
pub struct Prometheus {
    pub url: Template,
    pub query: Template,
    pub headers: Vec<(String, Template)>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub equals: Option<f64>,
    pub empty: Option<bool>,
}

#[derive(Debug, Clone)]
pub enum Script {
    File(PathBuf),
    Inline(String),
}

#[derive(Debug, Clone)]
pub struct Tcp {
    pub host: Template,
    pub port: Template,
}

#[derive(Debug, Clone)]
pub struct Dns {
    pub name: Template,
    pub addresses: Vec<Template>,
}

impl Kind {
    /// The names this check captures for later ones.
    pub fn captures(&self) -> impl Iterator<Item = &str> {
        let list: &[(String, Capture)] = match self {
            Kind::Http(h) => &h.capture,
            _ => &[],
        };
        list.iter().map(|(name, _)| name.as_str())
    }

    /// Every `${name}` this check uses.
    pub fn names(&self) -> Vec<&str> {
        let mut templates: Vec<&Template> = Vec::new();
        match self {
            Kind::Http(h) => {
                templates.push(&h.url);
                templates.extend(h.headers.iter().map(|(_, t)| t));
                match &h.body {
                    Some(Body::Text(t)) => templates.push(t),
                    Some(Body::Json(j)) => json_templates(j, &mut templates),
                    None => {}
                }
                match &h.auth {
                    Some(Auth::Basic { user, password }) => templates.extend([user, password]),
                    Some(Auth::Bearer(t)) => templates.push(t),
                    None => {}
                }
                templates.extend(h.expect.headers.iter().map(|(_, t)| t));
                templates.extend(&h.expect.body_contains);
                for (_, op) in &h.expect.json {
                    if let Op::Eq(j) | Op::Ne(j) = op {
                        json_templates(j, &mut templates);
                    }
                }
            }
            Kind::Prometheus(p) => {
                templates.extend([&p.url, &p.query]);
                templates.extend(p.headers.iter().map(|(_, t)| t));
            }
            Kind::Script(_) => {}
            Kind::Tcp(t) => templates.extend([&t.host, &t.port]),
            Kind::Dns(d) => {
                templates.push(&d.name);
                templates.extend(&d.addresses);
            }
        }
        templates.into_iter().flat_map(Template::names).collect()
    }
}

fn json_templates<'a>(json: &'a JsonTemplate, out: &mut Vec<&'a Template>) {
    match json {
        JsonTemplate::Str(t) => out.push(t),
        JsonTemplate::List(items) => items.iter().for_each(|i| json_templates(i, out)),
        JsonTemplate::Object(entries) => entries.iter().for_each(|(_, v)| json_templates(v, out)),
        _ => {}
    }
}

/// The keys of a check of type `kind` besides the common ones, or an error for a type
/// there is not.
pub fn keys(fields: &Fields<'_>, kind: &str) -> Result<&'static [&'static str], ConfigError> {
    match kind {
        "http" => Ok(HTTP_KEYS),
        "prometheus" => Ok(PROMETHEUS_KEYS),
        "script" => Ok(&["file", "lua"]),
        "tcp" => Ok(&["host", "port", "address"]),
        "dns" => Ok(&["host", "expect"]),
        other => Err(fields.error(
            fields.line,
            format!("unknown type '{other}' (one of {})", NAMES.join(", ")),
        )),
    }
}

/// Reads the fields of a check of type `kind` (one of [`NAMES`]).
pub fn read(fields: &Fields<'_>, kind: &str) -> Result<Kind, ConfigError> {
    Ok(match kind {
        "http" => Kind::Http(Box::new(http(fields)?)),
        "prometheus" => Kind::Prometheus(prometheus(fields)?),
        "script" => Kind::Script(script(fields)?),
        "tcp" => Kind::Tcp(tcp(fields)?),
        _ => Kind::Dns(dns(fields)?),
    })
}

const HTTP_KEYS: &[&str] = &[
    "url", "method", "headers", "body", "json", "auth", "insecure", "expect", "capture",
];
const METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

pub(super) fn templates(
    fields: &Fields<'_>,
    name: &str,
) -> Result<Vec<(String, Template)>, ConfigError> {
    fields
        .string_map(name)?
        .into_iter()
        .map(|(key, text)| {
            Template::parse(&text)
                .map(|t| (key.name.clone(), t))
                .map_err(|why| fields.error(key.line, format!("'{name}.{}': {why}", key.name)))
        })
        .collect()
}

fn http(fields: &Fields<'_>) -> Result<Http, ConfigError> {
    let url = fields
        .template("url")?
        .ok_or_else(|| fields.error(fields.line, "'url' is missing"))?;
    let method = fields
        .string("method")?
        .unwrap_or_else(|| "GET".into())
        .to_uppercase();
    if !METHODS.contains(&method.as_str()) {
        return Err(fields.error(
            fields.line,
            format!("'method': {method} is not one of {}", METHODS.join(", ")),
        ));
    }
    let headers = templates(fields, "headers")?;
    let body = match (fields.get("body"), fields.get("json")) {
        (Some(_), Some(json)) => {
            return Err(fields.error(json.line, "'body' and 'json' cannot both be set"));
        }
        (Some(node), None) => Some(Body::Text(fields.template_of("body", node)?)),
        (None, Some(node)) => Some(Body::Json(json_template(fields, node)?)),
        (None, None) => None,
    };
    let auth = fields
        .get("auth")
        .map(|node| auth(fields, node))
        .transpose()?;
    let insecure = fields.boolean("insecure")?.unwrap_or(false);
    let expect = match fields.get("expect") {
        Some(node) => super::expectations::http_expect(&Fields::of(
            fields.file(),
            format!("{}: expect", fields.what),
            node,
        )?)?,
        None => HttpExpect::default(),
    };
    let capture = match fields.get("capture") {
        Some(node) => super::expectations::captures(&Fields::of(
            fields.file(),
            format!("{}: capture", fields.what),
            node,
        )?)?,
        None => Vec::new(),
    };
    Ok(Http {
        method,
        url,
        headers,
        body,
        auth,
        insecure,
        expect,
        capture,
    })
}

pub(super) fn json_template(fields: &Fields<'_>, node: &Node) -> Result<JsonTemplate, ConfigError> {
    Ok(match &node.value {
        Value::Null => JsonTemplate::Null,
        Value::Bool(b) => JsonTemplate::Bool(*b),
        Value::Int(i) => JsonTemplate::Int(*i),
        Value::Float(f) => JsonTemplate::Float(*f),
        Value::Str(_) => JsonTemplate::Str(fields.template_of("json", node)?),
        Value::Seq(items) => JsonTemplate::List(
            items
                .iter()
                .map(|i| json_template(fields, i))
                .collect::<Result<_, _>>()?,
        ),
        Value::Map(entries) => JsonTemplate::Object(
            entries
                .iter()
                .map(|(k, v)| Ok((k.name.clone(), json_template(fields, v)?)))
                .collect::<Result<_, ConfigError>>()?,
        ),
    })
}

fn auth(fields: &Fields<'_>, node: &Node) -> Result<Auth, ConfigError> {
    let parts = Fields::of(fields.file(), format!("{}: auth", fields.what), node)?;
    let auth = match (parts.template("bearer")?, parts.template("user")?) {
        (Some(token), None) => Auth::Bearer(token),
        (None, Some(user)) => Auth::Basic {
            user,
            password: parts
                .template("password")?
                .unwrap_or(Template::parse("").map_err(|w| parts.error(node.line, w))?),
        },
        _ => return Err(parts.error(node.line, "either {user, password} or {bearer}")),
    };
    parts.finish(&["user", "password", "bearer"])?;
    Ok(auth)
}

const PROMETHEUS_KEYS: &[&str] = &["url", "query", "headers", "expect"];

fn prometheus(fields: &Fields<'_>) -> Result<Prometheus, ConfigError> {
    let url = fields
        .template("url")?
        .ok_or_else(|| fields.error(fields.line, "'url' is missing (the Prometheus server)"))?;
    let query = fields
        .template("query")?
        .ok_or_else(|| fields.error(fields.line, "'query' is missing (PromQL)"))?;
    let headers = templates(fields, "headers")?;
    let node = fields.get("expect").ok_or_else(|| {
        fields.error(
            fields.line,
            "'expect' is missing (min, max, equals or empty)",
        )
    })?;
    let expect = Fields::of(fields.file(), format!("{}: expect", fields.what), node)?;
    let check = Prometheus {
        url,
        query,
        headers,
        min: expect.number("min")?,
        max: expect.number("max")?,
        equals: expect.number("equals")?,
        empty: expect.boolean("empty")?,
    };
    expect.finish(&["min", "max", "equals", "empty"])?;
    if check.min.is_none() && check.max.is_none() && check.equals.is_none() && check.empty.is_none()
    {
        return Err(expect.error(node.line, "one of min, max, equals or empty expected"));
    }
    Ok(check)
}

fn script(fields: &Fields<'_>) -> Result<Script, ConfigError> {
    match (fields.string("file")?, fields.string("lua")?) {
        (Some(file), None) => {
            let dir = fields.file().parent().unwrap_or(std::path::Path::new("."));
            let path = dir.join(&file);
            if !path.is_file() {
                return Err(fields.error(
                    fields.line,
                    format!("'file': {} is not a file", path.display()),
                ));
            }
            Ok(Script::File(path))
        }
        (None, Some(code)) => Ok(Script::Inline(code)),
        (Some(_), Some(_)) => Err(fields.error(fields.line, "'file' and 'lua' cannot both be set")),
        (None, None) => Err(fields.error(fields.line, "'file' or 'lua' is missing")),
    }
}

fn tcp(fields: &Fields<'_>) -> Result<Tcp, ConfigError> {
    if let Some(address) = fields.string("address")? {
        if fields.has("host") || fields.has("port") {
            return Err(fields.error(fields.line, "either 'address' or 'host' and 'port'"));
        }
        let (host, port) = address.rsplit_once(':').ok_or_else(|| {
            fields.error(
                fields.line,
                format!("'address': '{address}' is not host:port"),
            )
        })?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let parse = |t: &str| Template::parse(t).map_err(|why| fields.error(fields.line, why));
        return Ok(Tcp {
            host: parse(host)?,
            port: parse(port)?,
        });
    }
    let host = fields
        .template("host")?
        .ok_or_else(|| fields.error(fields.line, "'host' is missing (or 'address')"))?;
    let port = fields
        .template("port")?
        .ok_or_else(|| fields.error(fields.line, "'port' is missing"))?;
    Ok(Tcp { host, port })
}

fn dns(fields: &Fields<'_>) -> Result<Dns, ConfigError> {
    let name = fields
        .template("host")?
        .ok_or_else(|| fields.error(fields.line, "'host' is missing (the name to resolve)"))?;
    let mut addresses = Vec::new();
    if let Some(node) = fields.get("expect") {
        let expect = Fields::of(fields.file(), format!("{}: expect", fields.what), node)?;
        for (line, text) in expect.strings("addresses")? {
            addresses.push(Template::parse(&text).map_err(|why| expect.error(line, why))?);
        }
        expect.finish(&["addresses"])?;
    }
    Ok(Dns { name, addresses })
}
