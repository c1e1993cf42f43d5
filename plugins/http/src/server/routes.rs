//! The routes table (`{ GET = { ["/users/:id"] = fn }, POST = {...} }`) and static folders as
//! an axum router.
//!
//! Patterns: `:name` matches one path segment (`req.params.name`); a last segment `*` matches
//! the rest of the path (`req.params["*"]`), `*name` the same under `name`. Literal segments win
//! over parameters (`/users/new` before `/users/:id`) whatever the order in the table. HEAD is
//! answered by GET routes (body dropped); a path that exists for another method gets 405 with
//! `Allow`; anything else 404.

use std::path::PathBuf;
use std::sync::Arc;

use assay_sdk::{Error, Map, Result, Value};
use axum::Router;
use axum::extract::Request;
use axum::http::{Method, StatusCode, Uri};
use axum::routing::{MethodFilter, on};

use super::app::{self, App, Route};
use super::log;
use super::response::{self, HttpResponse};

// Static folders: a part of the router, in a file beside this one.
#[path = "statics.rs"]
mod statics;

/// Method keys a routes table may use; `ANY` matches every method.
const METHODS: &[&str] = &[
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY",
];

pub fn router(routes: &Map, statics: &[(String, PathBuf)], app: &Arc<App>) -> Result<Router> {
    let mut router = Router::new();
    for (method, table) in routes.iter() {
        let method_name = method.as_str().unwrap_or("");
        let filter = filter(method_name).ok_or_else(|| {
            Error::new(format!(
                "bad argument 'routes' (unknown method {method:?}; expected one of {})",
                METHODS.join(", ")
            ))
        })?;
        let Value::Map(table) = table else {
            return Err(Error::new(format!(
                "bad argument 'routes' ({method_name}: table of path = function expected, got {})",
                table.type_name()
            )));
        };
        for (pattern, handler) in table.iter() {
            let Some(pattern) = pattern.as_str() else {
                return Err(Error::new(format!(
                    "bad argument 'routes' ({method_name}: paths must be strings)"
                )));
            };
            let Value::Function(handler) = handler else {
                return Err(Error::new(format!(
                    "bad argument 'routes' ({method_name} {pattern}: function expected, got {})",
                    handler.type_name()
                )));
            };
            let path = axum_path(pattern).map_err(|why| {
                Error::new(format!(
                    "bad argument 'routes' ({method_name} {pattern}: {why})"
                ))
            })?;
            let route = Arc::new(Route {
                app: app.clone(),
                handler: handler.clone(),
                label: format!("{method_name} {pattern}"),
            });
            let service = on(filter, move |req| serve(route.clone(), req));
            // axum refuses conflicting routes by panicking; say which route instead.
            router = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                router.route(&path, service)
            }))
            .map_err(|payload| {
                let why = payload
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| payload.downcast_ref::<&str>().copied())
                    .unwrap_or("conflicts with another route");
                Error::new(format!(
                    "bad argument 'routes' ({method_name} {pattern}: {why})"
                ))
            })?;
        }
    }
    // Static folders and the 404 fallback run `before` too (see `app::guard`), whose answer
    // is settled like a route's.
    let guarded = |router: Router| {
        let app = app.clone();
        router.layer(axum::middleware::from_fn(move |req: Request, next| {
            let app = app.clone();
            async move {
                let head = req.method() == Method::HEAD;
                let (method, uri) = (req.method().clone(), req.uri().clone());
                let response = app::guard(app, req, next).await;
                response::declared_length(response, head)
                    .unwrap_or_else(|why| invalid(&why, &method, &uri, "(static or not found)"))
            }
        }))
    };
    let mut root_folder = None;
    for (prefix, folder) in statics {
        let files = statics::folder(prefix, folder);
        if prefix.is_empty() {
            root_folder = Some(files);
        } else {
            router = router.nest_service(prefix, guarded(files));
        }
    }
    let fallback = match root_folder {
        Some(files) => files,
        None => Router::new().fallback(|| async { response::error(StatusCode::NOT_FOUND) }),
    };
    Ok(router.fallback_service(guarded(fallback)))
}

/// A route's answer to `req`, its framing settled once the method is known.
async fn serve(route: Arc<Route>, req: Request) -> HttpResponse {
    let head = req.method() == Method::HEAD;
    let (method, uri) = (req.method().clone(), req.uri().clone());
    let response = app::handle(route.clone(), req).await;
    response::declared_length(response, head)
        .unwrap_or_else(|why| invalid(&why, &method, &uri, &route.label))
}

/// 500 and its log line for a handler's answer found invalid here (as `app` logs those it
/// finds itself).
fn invalid(why: &str, method: &Method, uri: &Uri, route: &str) -> HttpResponse {
    log::error(
        "handler returned no valid response",
        &[
            ("method", method.as_str()),
            ("path", uri.path()),
            ("route", route),
            ("error", why),
        ],
    );
    response::error(StatusCode::INTERNAL_SERVER_ERROR)
}

fn filter(name: &str) -> Option<MethodFilter> {
    if name == "ANY" {
        return Some(
            MethodFilter::GET
                .or(MethodFilter::POST)
                .or(MethodFilter::PUT)
                .or(MethodFilter::PATCH)
                .or(MethodFilter::DELETE)
                .or(MethodFilter::HEAD)
                .or(MethodFilter::OPTIONS),
        );
    }
    if !METHODS.contains(&name) {
        return None;
    }
    MethodFilter::try_from(Method::from_bytes(name.as_bytes()).ok()?).ok()
}

/// `/users/:id/*` in axum's syntax (`/users/{id}/{*wildcard}`); braces are escaped.
fn axum_path(pattern: &str) -> std::result::Result<String, String> {
    if !pattern.starts_with('/') {
        return Err("paths must start with '/'".into());
    }
    let segments: Vec<&str> = pattern[1..].split('/').collect();
    let mut out = String::with_capacity(pattern.len() + 8);
    for (i, segment) in segments.iter().enumerate() {
        out.push('/');
        if let Some(name) = segment.strip_prefix(':') {
            check_name(name)?;
            out.push_str(&format!("{{{name}}}"));
        } else if let Some(name) = segment.strip_prefix('*') {
            if i + 1 != segments.len() {
                return Err("'*' must be the last segment".into());
            }
            let name = if name.is_empty() { WILDCARD } else { name };
            if name != WILDCARD {
                check_name(name)?;
            }
            out.push_str(&format!("{{*{name}}}"));
        } else {
            out.push_str(&segment.replace('{', "{{").replace('}', "}}"));
        }
    }
    Ok(out)
}

/// axum's name for a bare `*`; `req.params["*"]` in Lua (matchit wants a name).
pub const WILDCARD: &str = "assay_wildcard_";

fn check_name(name: &str) -> std::result::Result<(), String> {
    if name.is_empty() {
        return Err("a parameter needs a name (':name')".into());
    }
    if name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        Ok(())
    } else {
        Err(format!(
            "'{name}' is not a parameter name (letters, digits, '_')"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::axum_path;

    #[test]
    fn converts_patterns() {
        assert_eq!(axum_path("/users/:id").as_deref(), Ok("/users/{id}"));
        assert_eq!(
            axum_path("/static/*").as_deref(),
            Ok("/static/{*assay_wildcard_}")
        );
        assert_eq!(axum_path("/f/*rest").as_deref(), Ok("/f/{*rest}"));
        assert_eq!(axum_path("/").as_deref(), Ok("/"));
        assert!(axum_path("/a/*/b").is_err());
        assert!(axum_path("nope").is_err());
        assert!(axum_path("/x/:").is_err());
    }
}
