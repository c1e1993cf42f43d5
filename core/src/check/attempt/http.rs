//! `http` and `prometheus` attempts: the request is made by the http plugin in a sandboxed VM
//! (the core has no HTTP client of its own: DESIGN.md), and judged here.

use std::time::{Duration, Instant};

use mlua::{Lua, MultiValue, Value};

use super::{Context, Worker};
use crate::check::duration::show;
use crate::check::expect::{self, Response};
use crate::check::kinds::{Auth, Body, Http, Prometheus};

/// Makes the request and returns what the core judges: status, body, headers, latency.
const REQUEST: &str = r#"
local method, url, opts, client_opts = ...
-- One client per kind, kept in the worker's VM: pooled connections, roots loaded once.
local key = client_opts.insecure and "insecure" or "verified"
local client = __check_clients[key]
if not client then
  client = http.client(client_opts)
  __check_clients[key] = client
end
local started = time.monotonic()
local resp = client:request(method, url, opts)
return resp.status, resp.body, resp.headers, (time.monotonic() - started) * 1000
"#;

struct Request {
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: Option<String>,
    auth: Option<(Option<String>, String)>,
    insecure: bool,
}

fn send(
    request: &Request,
    context: &Context,
    limit: Duration,
    worker: &mut Worker,
) -> Result<Response, String> {
    // The request's own timeout bounds the run (the worker's VM has no deadline of its own).
    let runtime = worker.http_vm(context)?;
    let lua = runtime.lua();
    if lua
        .globals()
        .raw_get::<Value>("__check_clients")
        .map_or(true, |v| v.is_nil())
    {
        let clients = lua.create_table().map_err(|e| e.to_string())?;
        lua.globals()
            .raw_set("__check_clients", clients)
            .map_err(|e| e.to_string())?;
    }
    let args =
        arguments(lua, request, limit).map_err(|e| format!("cannot build the request: {e}"))?;
    let values = runtime
        .eval_chunk(REQUEST.as_bytes(), "=[check]", args)
        .map_err(|e| strip_position(&e.to_string()))?;
    response(values).map_err(|e| format!("unexpected response from the http plugin: {e}"))
}

/// The plugin's messages start with the glue's position; the check's name says enough.
fn strip_position(message: &str) -> String {
    let message = message.strip_prefix("[check]:").map_or(message, |rest| {
        rest.split_once(": ").map_or(rest, |(_, text)| text)
    });
    message.to_owned()
}

fn arguments(lua: &Lua, request: &Request, limit: Duration) -> mlua::Result<MultiValue> {
    let opts = lua.create_table()?;
    let headers = lua.create_table()?;
    for (name, value) in &request.headers {
        headers.raw_set(name.as_str(), value.as_str())?;
    }
    opts.raw_set("headers", headers)?;
    if let Some(body) = &request.body {
        opts.raw_set("body", body.as_str())?;
    }
    opts.raw_set("timeout", limit.as_secs_f64().max(0.001))?;
    if let Some((user, secret)) = &request.auth {
        let auth = lua.create_table()?;
        match user {
            Some(user) => {
                auth.raw_set("user", user.as_str())?;
                auth.raw_set("password", secret.as_str())?;
            }
            None => auth.raw_set("bearer", secret.as_str())?,
        }
        opts.raw_set("auth", auth)?;
    }
    let client = lua.create_table()?;
    client.raw_set("insecure", request.insecure)?;
    Ok(MultiValue::from_iter([
        Value::String(lua.create_string(&request.method)?),
        Value::String(lua.create_string(&request.url)?),
        Value::Table(opts),
        Value::Table(client),
    ]))
}

fn response(values: MultiValue) -> Result<Response, String> {
    let mut values = values.into_iter();
    let status = match values.next() {
        Some(Value::Integer(s)) => u16::try_from(s).map_err(|_| format!("status {s}"))?,
        other => return Err(format!("status {other:?}")),
    };
    let body = match values.next() {
        Some(Value::String(s)) => s.as_bytes().to_vec(),
        _ => Vec::new(),
    };
    let mut headers = Vec::new();
    if let Some(Value::Table(t)) = values.next() {
        for pair in t.pairs::<mlua::LuaString, mlua::LuaString>() {
            let (name, value) = pair.map_err(|e| e.to_string())?;
            headers.push((
                String::from_utf8_lossy(&name.as_bytes()).to_ascii_lowercase(),
                String::from_utf8_lossy(&value.as_bytes()).into_owned(),
            ));
        }
    }
    let latency_ms = match values.next() {
        Some(Value::Number(n)) => n,
        Some(Value::Integer(n)) => n as f64,
        _ => 0.0,
    };
    Ok(Response {
        status,
        headers,
        body,
        latency_ms,
    })
}

pub fn http(
    check: &Http,
    context: &Context,
    limit: Duration,
    worker: &mut Worker,
) -> Result<Vec<(String, String)>, String> {
    let mut headers = check
        .headers
        .iter()
        .map(|(name, value)| Ok((name.clone(), context.render(value)?)))
        .collect::<Result<Vec<_>, String>>()?;
    let body = match &check.body {
        None => None,
        Some(Body::Text(t)) => Some(context.render(t)?),
        Some(Body::Json(j)) => {
            if !headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
            {
                headers.push(("content-type".into(), "application/json".into()));
            }
            Some(j.render(&|t| context.render(t))?.to_string())
        }
    };
    let auth = match &check.auth {
        None => None,
        Some(Auth::Basic { user, password }) => {
            Some((Some(context.render(user)?), context.render(password)?))
        }
        Some(Auth::Bearer(token)) => Some((None, context.render(token)?)),
    };
    let request = Request {
        method: check.method.clone(),
        url: context.render(&check.url)?,
        headers,
        body,
        auth,
        insecure: check.insecure,
    };
    let started = Instant::now();
    let response = send(&request, context, limit, worker)?;
    let (expectations, captures) = (check.expect.clone(), check.capture.clone());
    let context = context.clone();
    within(started + limit, limit, move || {
        expect::http(
            &expectations,
            &response,
            &|t| context.render(t),
            &context.mask,
        )?;
        expect::captures(&captures, &response, &context.mask)
    })
}

/// Runs `judge` (regexes and JSON over a body of up to 64 MiB, which can take many seconds
/// on a crafted body and pattern) on a thread of its own, so the attempt ends by its limit
/// whatever the body. A judge still running then goes on in the background until it ends:
/// the regex engine runs in linear time, so it does end, and nothing waits for it.
fn within<T: Send + 'static>(
    deadline: Instant,
    limit: Duration,
    judge: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("assay-check-judge".into())
        .spawn(move || {
            let _ = tx.send(judge());
        })
        .map_err(|e| format!("cannot start a thread to judge the response: {e}"))?;
    let left = deadline.saturating_duration_since(Instant::now());
    rx.recv_timeout(left).unwrap_or_else(|_| {
        Err(format!(
            "judging the response (its expectations and captures) was still running when the \
             attempt's {} ran out",
            show(limit)
        ))
    })
}

pub fn prometheus(
    check: &Prometheus,
    context: &Context,
    limit: Duration,
    worker: &mut Worker,
) -> Result<Vec<(String, String)>, String> {
    let base = context.render(&check.url)?;
    let query = context.render(&check.query)?;
    let mut encoded = Vec::new();
    crate::builtins::url::escape(
        query.as_bytes(),
        &mut encoded,
        |b| b.is_ascii_alphanumeric() || b"-._~".contains(&b),
        false,
    );
    let url = format!(
        "{}/api/v1/query?query={}",
        base.trim_end_matches('/'),
        String::from_utf8_lossy(&encoded)
    );
    let headers = check
        .headers
        .iter()
        .map(|(name, value)| Ok((name.clone(), context.render(value)?)))
        .collect::<Result<Vec<_>, String>>()?;
    let request = Request {
        method: "GET".into(),
        url,
        headers,
        body: None,
        auth: None,
        insecure: false,
    };
    let response = send(&request, context, limit, worker)?;
    if response.status != 200 {
        return Err(format!(
            "Prometheus answered {}: {}",
            response.status,
            expect::excerpt(&String::from_utf8_lossy(&response.body), &context.mask)
        ));
    }
    let doc = response.json(&context.mask)?;
    let values = samples(&doc)?;
    judge_samples(check, &query, &values)?;
    Ok(Vec::new())
}

/// The values of an instant query's result: one per series of a vector, one for a scalar.
fn samples(doc: &serde_json::Value) -> Result<Vec<(String, f64)>, String> {
    if doc["status"] != "success" {
        return Err(format!(
            "the query failed: {}",
            doc["error"].as_str().unwrap_or("no error message")
        ));
    }
    let value_of = |sample: &serde_json::Value| -> Result<f64, String> {
        let text = sample[1].as_str().ok_or("a sample without a value")?;
        match text {
            "NaN" => Ok(f64::NAN),
            "+Inf" => Ok(f64::INFINITY),
            "-Inf" => Ok(f64::NEG_INFINITY),
            _ => text
                .parse()
                .map_err(|_| format!("the sample {text:?} is not a number")),
        }
    };
    let data = &doc["data"];
    match data["resultType"].as_str() {
        Some("vector") => data["result"]
            .as_array()
            .ok_or("a vector without its result")?
            .iter()
            .map(|series| Ok((series_name(&series["metric"]), value_of(&series["value"])?)))
            .collect(),
        Some("scalar") => Ok(vec![("scalar".into(), value_of(&data["result"])?)]),
        other => Err(format!(
            "the query gave {} (an instant vector or a scalar expected)",
            other.unwrap_or("nothing")
        )),
    }
}

/// `up{job="api"}`, as Prometheus writes a series.
fn series_name(metric: &serde_json::Value) -> String {
    let Some(labels) = metric.as_object() else {
        return "{}".into();
    };
    let name = labels
        .get("__name__")
        .and_then(|n| n.as_str())
        .unwrap_or("");
    let rest: Vec<String> = labels
        .iter()
        .filter(|(k, _)| *k != "__name__")
        .map(|(k, v)| format!("{k}={}", v))
        .collect();
    format!("{name}{{{}}}", rest.join(", "))
}

fn judge_samples(check: &Prometheus, query: &str, values: &[(String, f64)]) -> Result<(), String> {
    match check.empty {
        Some(true) if !values.is_empty() => {
            return Err(format!(
                "{query} gave {} series, expected none",
                values.len()
            ));
        }
        Some(false) if values.is_empty() => return Err(format!("{query} gave no series")),
        _ => {}
    }
    let bounded = check.min.is_some() || check.max.is_some() || check.equals.is_some();
    if bounded && values.is_empty() {
        return Err(format!("{query} gave no series"));
    }
    for (series, value) in values {
        // NaN meets no bound.
        let missed = match (check.min, check.max, check.equals) {
            (Some(min), _, _) if value.partial_cmp(&min).is_none_or(|o| o.is_lt()) => {
                Some(format!("at least {min}"))
            }
            (_, Some(max), _) if value.partial_cmp(&max).is_none_or(|o| o.is_gt()) => {
                Some(format!("at most {max}"))
            }
            (_, _, Some(equals)) if *value != equals => Some(format!("{equals}")),
            _ => None,
        };
        if let Some(what) = missed {
            return Err(format!("{series} is {value}, expected {what}"));
        }
    }
    Ok(())
}
