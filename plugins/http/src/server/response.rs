//! What a handler returns, turned into an HTTP response.
//!
//! - a string: 200, `text/plain; charset=utf-8`;
//! - `{status, headers, body}` or `{status, json}` (status defaults to 200; `json` is encoded
//!   with `content-type: application/json` unless the handler set one);
//! - `{websocket = function(conn) ... end, protocols = {...}}`: the connection is upgraded
//!   (`protocols`: subprotocols accepted, the first one the client offers is chosen);
//! - nothing (`nil`): 204 No Content, the honest answer to a handler that produced no body.
//!
//! Anything else is the handler's bug: 500 and a log line saying what came back.

use assay_sdk::{Callback, Map, Value};
use axum::body::Body;
use axum::http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use axum::http::{Response, StatusCode};

use crate::json;

pub type HttpResponse = Response<Body>;

/// A handler's answer.
pub enum Reply {
    Response(HttpResponse),
    WebSocket {
        function: Callback,
        protocols: Vec<String>,
    },
}

const TEXT: HeaderValue = HeaderValue::from_static("text/plain; charset=utf-8");
const JSON: HeaderValue = HeaderValue::from_static("application/json");

/// Interprets a handler's first return value; `Err` says why it is not a response.
pub fn from_value(value: Value) -> Result<Reply, String> {
    match value {
        Value::Str(body) => Ok(Reply::Response(text(StatusCode::OK, body.into_vec()))),
        Value::Nil => Ok(Reply::Response(empty(StatusCode::NO_CONTENT))),
        Value::Map(map) => from_map(map),
        other => Err(format!(
            "a handler must return a string or a table, not a {}",
            other.type_name()
        )),
    }
}

fn from_map(map: Map) -> Result<Reply, String> {
    if let Some(ws) = map.get("websocket") {
        let Value::Function(function) = ws else {
            return Err(format!(
                "'websocket' must be a function, not a {}",
                ws.type_name()
            ));
        };
        let protocols = match map.get("protocols") {
            None => Vec::new(),
            Some(Value::Str(p)) => vec![String::from_utf8_lossy(p.as_slice()).into_owned()],
            Some(Value::Array(list)) => list
                .iter()
                .map(|p| p.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or("'protocols' must be a list of strings")?,
            Some(other) => {
                return Err(format!(
                    "'protocols' must be a list of strings, not a {}",
                    other.type_name()
                ));
            }
        };
        return Ok(Reply::WebSocket {
            function: function.clone(),
            protocols,
        });
    }
    let status = match map.get("status") {
        None => StatusCode::OK,
        Some(v) => v
            .as_int()
            .and_then(|n| u16::try_from(n).ok())
            .and_then(|n| StatusCode::from_u16(n).ok())
            .ok_or_else(|| format!("'status' must be an HTTP status code (100-999), got {v:?}"))?,
    };
    let (body, default_type) = match (map.get("json"), map.get("body")) {
        (Some(_), Some(_)) => return Err("give 'json' or 'body', not both".into()),
        (Some(value), None) => (
            json::encode(value).map_err(|e| format!("'json': {e}"))?,
            Some(JSON),
        ),
        (None, Some(Value::Str(bytes))) => (bytes.as_slice().to_vec(), None),
        (None, Some(other)) => {
            return Err(format!(
                "'body' must be a string, not a {} (use 'json' for tables)",
                other.type_name()
            ));
        }
        (None, None) => (Vec::new(), None),
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    if let Some(headers) = map.get("headers") {
        let Value::Map(headers) = headers else {
            return Err(format!(
                "'headers' must be a table, not a {}",
                headers.type_name()
            ));
        };
        for (name, value) in headers.iter() {
            let (name, value) = header(name, value)?;
            response.headers_mut().append(name, value);
        }
    }
    if let Some(content_type) = default_type {
        response
            .headers_mut()
            .entry(CONTENT_TYPE)
            .or_insert(content_type);
    }
    Ok(Reply::Response(response))
}

fn header(name: &Value, value: &Value) -> Result<(HeaderName, HeaderValue), String> {
    let name_bytes = name.as_bytes().ok_or("header names must be strings")?;
    let name = HeaderName::from_bytes(name_bytes).map_err(|_| {
        format!(
            "'{}' is not a valid header name",
            String::from_utf8_lossy(name_bytes)
        )
    })?;
    let text = match value {
        Value::Str(b) => b.as_slice().to_vec(),
        Value::Int(i) => i.to_string().into_bytes(),
        Value::Float(f) => f.to_string().into_bytes(),
        other => {
            return Err(format!(
                "header '{name}' must be a string or number, not a {}",
                other.type_name()
            ));
        }
    };
    let value = HeaderValue::from_bytes(&text)
        .map_err(|_| format!("header '{name}' has a value with invalid characters"))?;
    Ok((name, value))
}

pub fn text(status: StatusCode, body: impl Into<Body>) -> HttpResponse {
    let mut response = Response::new(body.into());
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, TEXT);
    response
}

pub fn empty(status: StatusCode) -> HttpResponse {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    response
}

/// A plain-text error page: the status's reason phrase.
pub fn error(status: StatusCode) -> HttpResponse {
    text(status, status.canonical_reason().unwrap_or("Error"))
}
