//! The routes table (`{ GET = { ["/users/:id"] = fn }, POST = {...} }`) and static folders as
//! an axum router.
//!
//! Patterns: `:name` matches one path segment (`req.params.name`); a last segment `*` matches
//! the rest of the path (`req.params["*"]`), `*name` the same under `name`. Literal segments win
//! over parameters (`/users/new` before `/users/:id`) whatever the order in the table. HEAD is
//! answered by GET routes (body dropped); a path that exists for another method gets 405 with
//! `Allow`; anything else 404.
//!
//! Routes the router cannot tell apart are refused when the server is made, with an error
//! naming both: one segment captured under two names (`/users/:id` and `/users/:name`, whatever
//! their methods), `:name` and `*` at the same place, one method twice on a path (`GET` and
//! `ANY`), a route at a static folder's prefix or capturing below it (a literal path below it,
//! `/assets/special`, is fine and wins over the folder).

use std::path::PathBuf;
use std::sync::Arc;

use assay_sdk::{Callback, Error, Map, Result, Value};
use axum::Router;
use axum::extract::Request;
use axum::http::{Method, StatusCode, Uri};
use axum::routing::{MethodFilter, on};

use super::app::{self, App, Route};
use super::log;
use super::response::{self, HttpResponse};

// Static folders: a part of the router, in a file beside this one.

/// Method keys a routes table may use; `ANY` matches every method.
const METHODS: &[&str] = &[
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY",
];

pub fn router(routes: &Map, statics: &[(String, PathBuf)], app: &Arc<App>) -> Result<Router> {
    let mut planned = plan(routes)?;
    // A fixed order, so a conflict is reported the same way on every run (a Lua table's
    // order is not).
    planned.sort_by(|a, b| (a.rank, &a.pattern).cmp(&(b.rank, &b.pattern)));
    let mut placed: Vec<Entry> = Vec::new();
    for p in &planned {
        if let Some(why) = conflict(&placed, &p.entry) {
            return Err(Error::new(format!("bad argument 'routes' ({why})")));
        }
        placed.push(p.entry.clone());
    }
    let mut folders: Vec<&(String, PathBuf)> = statics.iter().filter(|s| !s.0.is_empty()).collect();
    folders.sort_by(|a, b| a.0.cmp(&b.0));
    for (prefix, _) in &folders {
        let entries = static_entries(prefix);
        if let Some(why) = entries.iter().find_map(|e| conflict(&placed, e)) {
            return Err(Error::new(format!(
                "bad argument 'opts' (field 'static': {why})"
            )));
        }
        placed.extend(entries);
    }
    let mut router = Router::new();
    for p in planned {
        let path = axum_path(&p.entry.segments);
        let route = Arc::new(Route {
            app: app.clone(),
            handler: p.handler,
            label: p.entry.label.clone(),
        });
        let service = on(p.filter, move |req| serve(route.clone(), req));
        router = unpanicked(&p.entry.label, || router.route(&path, service))
            .map_err(|why| Error::new(format!("bad argument 'routes' ({why})")))?;
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
        let files = super::statics::folder(prefix, folder);
        if prefix.is_empty() {
            root_folder = Some(files);
        } else {
            let label = format!("static folder {prefix}");
            router = unpanicked(&label, || router.nest_service(prefix, guarded(files))).map_err(
                |why| Error::new(format!("bad argument 'opts' (field 'static': {why})")),
            )?;
        }
    }
    let fallback = match root_folder {
        Some(files) => files,
        None => Router::new().fallback(|| async { response::error(StatusCode::NOT_FOUND) }),
    };
    let router = router.fallback_service(guarded(fallback));
    if app.after.is_none() {
        return Ok(router);
    }
    // Outermost: `after` sees every response, 405s and 404s included.
    let app = app.clone();
    Ok(
        router.layer(axum::middleware::from_fn(move |req: Request, next| {
            super::middleware::after(app.clone(), req, next)
        })),
    )
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

/// A route read from the table, before it goes into the router.
struct Planned {
    entry: Entry,
    /// The method's place in `METHODS`, for a stable order.
    rank: usize,
    pattern: String,
    filter: MethodFilter,
    handler: Callback,
}

/// Reads and checks every route of the table (methods, patterns, handlers).
fn plan(routes: &Map) -> Result<Vec<Planned>> {
    let mut planned = Vec::new();
    for (method, table) in routes.iter() {
        let method_name = method.as_str().unwrap_or("");
        let (Some(filter), Some(rank)) = (
            filter(method_name),
            METHODS.iter().position(|m| *m == method_name),
        ) else {
            return Err(Error::new(format!(
                "bad argument 'routes' (unknown method {method:?}; expected one of {})",
                METHODS.join(", ")
            )));
        };
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
            let segments = parse(pattern).map_err(|why| {
                Error::new(format!(
                    "bad argument 'routes' ({method_name} {pattern}: {why})"
                ))
            })?;
            planned.push(Planned {
                entry: Entry {
                    label: format!("{method_name} {pattern}"),
                    segments,
                    methods: Methods::Route(method_bits(rank)),
                },
                rank,
                pattern: pattern.to_owned(),
                filter,
                handler: handler.clone(),
            });
        }
    }
    Ok(planned)
}

/// Runs an axum call that panics on a conflict. `conflict` finds every conflict axum knows
/// first, in our words; this is the net for one it would miss, so it still never panics.
fn unpanicked(label: &str, f: impl FnOnce() -> Router) -> std::result::Result<Router, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .map_err(|_| format!("{label} conflicts with another route"))
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

/// The methods of `METHODS[rank]` as bits (one per method before `ANY`, which has them all).
fn method_bits(rank: usize) -> u8 {
    let any = METHODS.len() - 1;
    if rank >= any {
        (1u8 << any) - 1
    } else {
        1 << rank
    }
}

/// One segment of a pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Literal(String),
    /// `:name`: one segment.
    Param(String),
    /// `*` (name "") or `*name`: the rest of the path.
    Rest(String),
}

impl Segment {
    /// As the script wrote it: `':id'`, `'*'`.
    fn shown(&self) -> String {
        match self {
            Segment::Literal(text) => format!("'{text}'"),
            Segment::Param(name) => format!("':{name}'"),
            Segment::Rest(name) => format!("'*{name}'"),
        }
    }
}

/// matchit (axum's router) numbers a path's parameters `a` to `z` and panics past that.
const MAX_PARAMS: usize = 25;

/// `/users/:id/*` as segments; `Err` says what is wrong with the pattern.
fn parse(pattern: &str) -> std::result::Result<Vec<Segment>, String> {
    let Some(rest) = pattern.strip_prefix('/') else {
        return Err("paths must start with '/'".into());
    };
    let parts: Vec<&str> = rest.split('/').collect();
    let mut segments = Vec::with_capacity(parts.len());
    let mut names: Vec<&str> = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let segment = if let Some(name) = part.strip_prefix(':') {
            check_name(name)?;
            Segment::Param(name.to_owned())
        } else if let Some(name) = part.strip_prefix('*') {
            if i + 1 != parts.len() {
                return Err("'*' must be the last segment".into());
            }
            if !name.is_empty() {
                check_name(name)?;
            }
            Segment::Rest(name.to_owned())
        } else {
            segments.push(Segment::Literal((*part).to_owned()));
            continue;
        };
        let name = &part[1..];
        // Both would land in `req.params` under one key.
        if !name.is_empty() && names.contains(&name) {
            return Err(format!("'{name}' names two parameters of the path"));
        }
        names.push(name);
        segments.push(segment);
    }
    let params = segments
        .iter()
        .filter(|s| matches!(s, Segment::Param(_)))
        .count();
    if params > MAX_PARAMS {
        return Err(format!(
            "{params} parameters; a path may have at most {MAX_PARAMS}"
        ));
    }
    Ok(segments)
}

/// Segments in axum's syntax: `/users/{id}/{*wildcard}`, braces in literals escaped.
fn axum_path(segments: &[Segment]) -> String {
    let mut out = String::new();
    for segment in segments {
        out.push('/');
        match segment {
            Segment::Literal(text) => out.push_str(&text.replace('{', "{{").replace('}', "}}")),
            Segment::Param(name) => out.push_str(&format!("{{{name}}}")),
            Segment::Rest(name) if name.is_empty() => out.push_str(&format!("{{*{WILDCARD}}}")),
            Segment::Rest(name) => out.push_str(&format!("{{*{name}}}")),
        }
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// What the router holds at one path, for the conflict check.
#[derive(Clone, Debug)]
struct Entry {
    /// `GET /users/:id`, `static folder /assets`: as an error names it.
    label: String,
    segments: Vec<Segment>,
    methods: Methods,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Methods {
    /// A route's methods (see `method_bits`); routes at the same path share it by method.
    Route(u8),
    /// A static folder takes every method of its paths.
    Static,
}

/// A static folder at `prefix` in the router: the prefix, the prefix with a slash, and
/// everything below (as axum's `nest_service` registers it).
fn static_entries(prefix: &str) -> Vec<Entry> {
    let base: Vec<Segment> = prefix[1..]
        .split('/')
        .map(|s| Segment::Literal(s.to_owned()))
        .collect();
    let below = |last: Segment| {
        let mut segments = base.clone();
        segments.push(last);
        segments
    };
    [
        base.clone(),
        below(Segment::Literal(String::new())),
        below(Segment::Rest("assay_nested_".into())),
    ]
    .into_iter()
    .map(|segments| Entry {
        label: format!("static folder {prefix}"),
        segments,
        methods: Methods::Static,
    })
    .collect()
}

/// Why `new` cannot join the router beside `placed`, naming both: the cases axum refuses
/// (with a panic, in its own words), found first.
fn conflict(placed: &[Entry], new: &Entry) -> Option<String> {
    placed.iter().find_map(|old| {
        if old.label == new.label {
            // Only a static folder can repeat (a table has each method and path once).
            return Some(format!("{} is given twice", new.label));
        }
        clash(old, new).map(|why| format!("{} conflicts with {}: {why}", new.label, old.label))
    })
}

/// Why two entries conflict, if they do. axum's router (matchit) walks a path segment by
/// segment: a literal and a parameter at one place are fine (the literal wins), but one
/// segment cannot be captured under two names, nor by `:name` and `*` at once; and one path
/// holds each method once.
fn clash(a: &Entry, b: &Entry) -> Option<String> {
    let folder = |e: &Entry| e.methods == Methods::Static;
    let statics = match (folder(a), folder(b)) {
        (true, _) => Some(&a.label),
        (_, true) => Some(&b.label),
        _ => None,
    };
    let static_why = |folder: &str| {
        format!(
            "the {folder} answers every method at {} and every path below it",
            folder.trim_start_matches("static folder ")
        )
    };
    let mut renamed = None;
    for (x, y) in a.segments.iter().zip(&b.segments) {
        match (x, y) {
            (Segment::Literal(p), Segment::Literal(q)) if p == q => {}
            (Segment::Literal(_), _) | (_, Segment::Literal(_)) => return None,
            (Segment::Param(_), Segment::Rest(_)) | (Segment::Rest(_), Segment::Param(_)) => {
                let (one, rest) = if matches!(x, Segment::Param(_)) {
                    (x, y)
                } else {
                    (y, x)
                };
                return Some(match statics {
                    Some(folder) => static_why(folder),
                    None => format!(
                        "{} takes one segment where {} takes the rest of the path, and the \
                         router cannot try both; give one of them its own prefix",
                        one.shown(),
                        rest.shown()
                    ),
                });
            }
            _ if x != y => {
                renamed.get_or_insert((x, y));
            }
            _ => {}
        }
    }
    if a.segments.len() != b.segments.len() {
        return None;
    }
    if let Some(folder) = statics {
        return Some(static_why(folder));
    }
    if let Some((x, y)) = renamed {
        return Some(format!(
            "both match the same requests but name the parameter differently ({} and {}); use \
             one name",
            x.shown(),
            y.shown()
        ));
    }
    let (Methods::Route(p), Methods::Route(q)) = (a.methods, b.methods) else {
        return None;
    };
    let both: Vec<&str> = (0..METHODS.len() - 1)
        .filter(|i| p & q & (1 << i) != 0)
        .map(|i| METHODS[i])
        .collect();
    if both.is_empty() {
        return None;
    }
    let any = [&a.label, &b.label].iter().any(|l| l.starts_with("ANY "));
    Some(format!(
        "both handle {} on this path{}",
        both.join(", "),
        if any { " (ANY is every method)" } else { "" }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(pattern: &str) -> std::result::Result<String, String> {
        parse(pattern).map(|segments| axum_path(&segments))
    }

    #[test]
    fn converts_patterns() {
        assert_eq!(path("/users/:id").as_deref(), Ok("/users/{id}"));
        assert_eq!(
            path("/static/*").as_deref(),
            Ok("/static/{*assay_wildcard_}")
        );
        assert_eq!(path("/f/*rest").as_deref(), Ok("/f/{*rest}"));
        assert_eq!(path("/").as_deref(), Ok("/"));
        assert_eq!(path("/a{b}").as_deref(), Ok("/a{{b}}"));
        assert!(path("/a/*/b").is_err());
        assert!(path("nope").is_err());
        assert!(path("/x/:").is_err());
        assert!(path("/x/:id/y/:id").is_err());
    }

    /// An entry for `METHOD /pattern`, or `static /prefix`.
    fn entries(spec: &str) -> Vec<Entry> {
        let (method, pattern) = spec.split_once(' ').expect("METHOD /path");
        if method == "static" {
            return static_entries(pattern);
        }
        let rank = METHODS.iter().position(|m| *m == method).expect("a method");
        vec![Entry {
            label: spec.to_owned(),
            segments: parse(pattern).expect("a pattern"),
            methods: Methods::Route(method_bits(rank)),
        }]
    }

    /// Whether axum itself refuses `a` then `b` (it panics).
    fn axum_refuses(a: &str, b: &str) -> bool {
        let add = |router: Router, spec: &str| {
            let (method, pattern) = spec.split_once(' ').expect("METHOD /path");
            if method == "static" {
                return router.nest_service(pattern, Router::new());
            }
            let segments = parse(pattern).expect("a pattern");
            let filter = filter(method).expect("a method");
            router.route(&axum_path(&segments), on(filter, || async {}))
        };
        std::panic::catch_unwind(|| add(add(Router::new(), a), b)).is_err()
    }

    /// The conflict check finds exactly what axum would refuse, in both orders.
    #[test]
    fn conflicts_are_those_axum_refuses() {
        let pairs = [
            ("GET /users/:id", "GET /users/:name", true),
            ("GET /users/:id", "POST /users/:name", true),
            ("GET /users/:id", "POST /users/:id", false),
            ("GET /users/:id", "GET /users/new", false),
            ("GET /users/:id", "GET /users/:id/posts", false),
            ("GET /:a/foo", "GET /:b/bar", false),
            ("GET /:a/foo", "GET /:b/foo", true),
            ("GET /x", "ANY /x", true),
            ("HEAD /x", "ANY /x", true),
            ("GET /x", "HEAD /x", false),
            ("GET /x", "GET /x/", false),
            ("GET /files/:name", "GET /files/*", true),
            ("GET /files/*", "PUT /files/:name/meta", true),
            ("GET /files/*", "GET /files/list", false),
            ("GET /f/*a", "GET /f/*b", true),
            ("GET /f/*a", "POST /f/*a", false),
            ("GET /:a/*", "GET /:b/:c", true),
            ("GET /", "GET /*", false),
            ("GET /a/:x", "GET /a/", false),
            ("static /assets", "GET /assets/:file", true),
            ("static /assets", "POST /assets", true),
            ("static /assets", "GET /assets/", true),
            ("static /assets", "GET /assets/*", true),
            ("static /assets", "GET /assets/logo.png", false),
            ("static /assets", "GET /assetsx", false),
            ("static /assets", "static /assets", true),
            ("static /a", "static /a/b", false),
        ];
        for (a, b, conflicts) in pairs {
            // Static folders go into the router after the routes.
            let orders = match (a.starts_with("static"), b.starts_with("static")) {
                (true, false) => vec![(b, a)],
                (false, true) => vec![(a, b)],
                _ => vec![(a, b), (b, a)],
            };
            for (first, second) in orders {
                let placed = entries(first);
                let found = entries(second).iter().find_map(|e| conflict(&placed, e));
                assert_eq!(
                    axum_refuses(first, second),
                    conflicts,
                    "axum on {first} then {second}"
                );
                assert_eq!(
                    found.is_some(),
                    conflicts,
                    "{first} then {second}: {found:?}"
                );
            }
        }
    }

    #[test]
    fn conflicts_name_both_routes_and_why() {
        let why = |a: &str, b: &str| {
            let placed = entries(a);
            entries(b).iter().find_map(|e| conflict(&placed, e))
        };
        assert_eq!(
            why("GET /users/:id", "GET /users/:name").as_deref(),
            Some(
                "GET /users/:name conflicts with GET /users/:id: both match the same requests \
                 but name the parameter differently (':id' and ':name'); use one name"
            )
        );
        assert_eq!(
            why("GET /x", "ANY /x").as_deref(),
            Some(
                "ANY /x conflicts with GET /x: both handle GET on this path (ANY is every method)"
            )
        );
        assert_eq!(
            why("GET /assets/:file", "static /assets").as_deref(),
            Some(
                "static folder /assets conflicts with GET /assets/:file: the static folder \
                 /assets answers every method at /assets and every path below it"
            )
        );
    }

    /// matchit numbers parameters `a` to `z` and panics past that: the limit is checked first.
    #[test]
    fn too_many_parameters_are_refused_not_a_panic() {
        let pattern = |n: usize| (0..n).map(|i| format!("/:p{i}")).collect::<String>();
        let most = parse(&pattern(MAX_PARAMS)).expect("the most parameters");
        let router: Router =
            Router::new().route(&axum_path(&most), on(MethodFilter::GET, || async {}));
        drop(router);
        assert!(parse(&pattern(MAX_PARAMS + 1)).is_err());
        let past: String = (0..=MAX_PARAMS).map(|i| format!("/{{p{i}}}")).collect();
        let route = || Router::<()>::new().route(&past, on(MethodFilter::GET, || async {}));
        assert!(std::panic::catch_unwind(route).is_err(), "{past}");
    }
}
