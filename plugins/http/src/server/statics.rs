//! Static folders (`opts.static = { ["/assets"] = "./public" }`): tower-http's `ServeDir`
//! (content types, ranges, conditional GET, `index.html` for folders) behind a check of each
//! path, so that only what lies inside the folder is ever served:
//!
//! - symlinks are followed while they stay inside: the path is resolved (every link in it,
//!   the folder's own included) and served only when the result is inside the folder's own
//!   resolved path. A link to a sibling file or folder is served; `passwd -> /etc/passwd`, a
//!   linked folder in the middle of the path that leads out, or a folder whose `index.html`
//!   leads out, are not. The folder is resolved at each request, so a folder given as a link
//!   (`current -> releases/7`) serves the new release as soon as the link is moved;
//! - only regular files and folders are served: a FIFO would block the request (and one of the
//!   runtime's blocking threads) until a writer comes, a device would stream forever;
//! - `..` segments are refused, percent-encoded ones too (`%2e%2e`, `..%2f`): the path is
//!   decoded before it is split, as `ServeDir` does;
//! - every refusal is the same 404 as a missing file, so a response tells nothing about what
//!   lies outside the folder.
//!
//! Known limit: the check and `ServeDir`'s open are two steps; someone who can write into the
//! folder could swap a checked file for a link in between (nginx's `disable_symlinks` closes
//! that gap with a no-follow open of each path component).

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use axum::Router;
use axum::extract::{Request, State};
use axum::handler::HandlerWithoutStateExt as _;
use axum::http::StatusCode;
use axum::http::header::{HeaderValue, LOCATION};
use axum::middleware::Next;
use tower_http::services::ServeDir;

use super::middleware::Streamed;
use super::response::{self, HttpResponse};

/// The router serving `folder` (mounted at `prefix`, "" for the root).
pub fn folder(prefix: &str, folder: &Path) -> Router {
    let not_found = (|| async { response::error(StatusCode::NOT_FOUND) }).into_service();
    let files = Router::new()
        .fallback_service(
            ServeDir::new(folder)
                .append_index_html_on_directories(true)
                // Missing files look like refused ones (and like the router's own 404).
                .not_found_service(not_found),
        )
        .layer(axum::middleware::from_fn_with_state(
            folder.to_path_buf(),
            inside_only,
        ));
    if prefix.is_empty() {
        return files;
    }
    // Nested, the folder sees paths without the prefix; put it back into the redirect
    // tower-http sends for a folder named without its slash.
    let mount = prefix.to_owned();
    files.layer(axum::middleware::map_response(
        move |response: HttpResponse| {
            let mount = mount.clone();
            async move { with_prefixed_location(response, &mount) }
        },
    ))
}

/// Middleware of a static `folder`: 404 for every path `servable` refuses.
async fn inside_only(State(folder): State<PathBuf>, req: Request, next: Next) -> HttpResponse {
    let path = req.uri().path().to_owned();
    // Resolving links is blocking file-system work.
    let allowed = tokio::task::spawn_blocking(move || servable(&folder, &path))
        .await
        .unwrap_or(false);
    if !allowed {
        return response::error(StatusCode::NOT_FOUND);
    }
    let mut response = next.run(req).await;
    if response.status() != StatusCode::NOT_FOUND {
        // A file (or a part of one): `after` must not read it into Lua.
        response.extensions_mut().insert(Streamed::File);
    }
    response
}

/// Whether `uri_path` (as sent: percent-encoded) may be served from `folder`: every link on
/// the way resolves inside the folder, and the path is a regular file, or a folder whose
/// `index.html` is (or that has none, which `ServeDir` answers with its 404). Missing paths
/// are refused here already.
fn servable(folder: &Path, uri_path: &str) -> bool {
    let Ok(decoded) = percent_encoding::percent_decode_str(uri_path).decode_utf8() else {
        return false;
    };
    let Ok(root) = folder.canonicalize() else {
        return false;
    };
    let mut path = folder.to_path_buf();
    for segment in decoded.split('/') {
        match segment {
            "" | "." => {}
            ".." => return false,
            s => {
                path.push(s);
                if !stays_inside(&root, &path) {
                    return false;
                }
            }
        }
    }
    let Ok(meta) = std::fs::metadata(&path) else {
        return false;
    };
    if meta.is_file() {
        return true;
    }
    if !meta.is_dir() {
        return false;
    }
    let index = path.join("index.html");
    match std::fs::symlink_metadata(&index) {
        Err(e) => e.kind() == ErrorKind::NotFound,
        Ok(_) => {
            stays_inside(&root, &index) && std::fs::metadata(&index).is_ok_and(|m| m.is_file())
        }
    }
}

/// Whether `path`, whose parent is inside `root` (resolved), exists and is inside too: only
/// a link can lead out, and it is judged by where it resolves (through any further links).
fn stays_inside(root: &Path, path: &Path) -> bool {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => path
            .canonicalize()
            .is_ok_and(|target| target.starts_with(root)),
        Ok(_) => true,
        Err(_) => false,
    }
}

/// A redirect's `Location: /sub/` as `/<mount>/sub/`.
fn with_prefixed_location(mut response: HttpResponse, mount: &str) -> HttpResponse {
    if !response.status().is_redirection() {
        return response;
    }
    let location = response
        .headers()
        .get(LOCATION)
        .and_then(|l| l.to_str().ok())
        .filter(|l| l.starts_with('/'))
        .and_then(|l| HeaderValue::from_str(&format!("{mount}{l}")).ok());
    if let Some(location) = location {
        response.headers_mut().insert(LOCATION, location);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::servable;

    #[test]
    fn only_what_resolves_inside_is_servable() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let root = dir.path().join("site");
        std::fs::create_dir_all(root.join("sub")).expect("mkdir");
        std::fs::write(root.join("a.txt"), "a").expect("write");
        std::fs::write(dir.path().join("out.txt"), "out").expect("write");
        std::os::unix::fs::symlink("a.txt", root.join("in_link")).expect("symlink");
        std::os::unix::fs::symlink("../out.txt", root.join("out_link")).expect("symlink");
        std::os::unix::fs::symlink("..", root.join("up")).expect("symlink");
        assert!(servable(&root, "/a.txt"));
        assert!(servable(&root, "/in_link"));
        assert!(
            servable(&root, "/sub/"),
            "a folder without index.html is ServeDir's 404"
        );
        assert!(!servable(&root, "/./sub/../a.txt"), "'..' is refused");
        assert!(!servable(&root, "/out_link"));
        assert!(!servable(&root, "/up/out.txt"));
        assert!(
            !servable(&root, "/up/site/a.txt"),
            "a link out, even to come back in"
        );
        assert!(!servable(&root, "/%2e%2e/out.txt"));
        assert!(!servable(&root, "/missing"));
        assert!(!servable(&root, "/%ff"), "not UTF-8 once decoded");
    }
}
