//! `opts.static = {["/assets"] = "public"}`: content types, folder indexes, HEAD, conditional
//! GET, and paths that try to leave the folder.

use crate::Server;
use crate::curl::{curl, raw};

#[test]
fn content_types() {
    let server = Server::start();
    let cases = [
        ("index.html", "text/html"),
        ("style.css", "text/css"),
        ("app.js", "javascript"),
        ("data.json", "application/json"),
        ("pixel.png", "image/png"),
    ];
    for (file, expected) in cases {
        let r = curl(&[&server.url(&format!("/assets/{file}"))]);
        assert_eq!(r.status, 200, "{file}: {}", r.describe());
        let content_type = r.header("content-type").unwrap_or_default();
        assert!(
            content_type.starts_with(expected) || content_type.ends_with(expected),
            "{file}: content-type {content_type:?}, expected {expected}"
        );
        let on_disk = std::fs::read(crate::fixtures().join("public").join(file)).expect("fixture");
        assert!(r.body == on_disk, "{file}: the body differs from the file");
    }
    // The PNG arrives byte for byte.
    let png = curl(&[&server.url("/assets/pixel.png")]);
    assert!(png.body.starts_with(b"\x89PNG\r\n\x1a\n"));
}

#[test]
fn folder_index() {
    let server = Server::start();
    let r = curl(&[&server.url("/assets/sub/")]);
    assert_eq!(r.status, 200, "{}", r.describe());
    assert!(r.text().contains("sub folder index"), "{}", r.describe());
    let r = curl(&[&server.url("/assets/")]);
    assert_eq!(r.status, 200, "{}", r.describe());
    assert!(r.text().contains("root index page"), "{}", r.describe());
}

/// `/assets/sub` (no slash) redirects to the folder, which must keep the `/assets` prefix.
#[test]
fn folder_redirect_keeps_prefix() {
    let server = Server::start();
    let r = curl(&[&server.url("/assets/sub")]);
    assert!(
        (301..=308).contains(&r.status),
        "expected a redirect: {}",
        r.describe()
    );
    assert_eq!(
        r.header("location"),
        Some("/assets/sub/"),
        "{}",
        r.describe()
    );
    let r = curl(&["-L", &server.url("/assets/sub")]);
    assert_eq!(r.status, 200, "{}", r.describe());
    assert!(r.text().contains("sub folder index"), "{}", r.describe());
}

#[test]
fn head_and_conditional_get() {
    let server = Server::start();
    let r = curl(&[&server.url("/assets/style.css")]);
    assert_eq!(r.status, 200);
    let last_modified = r
        .header("last-modified")
        .unwrap_or_else(|| panic!("no Last-Modified: {}", r.describe()))
        .to_owned();
    // HEAD: the same headers, no body on the wire.
    let head = raw(
        &server,
        "HEAD /assets/style.css HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    );
    let head = String::from_utf8_lossy(&head).into_owned();
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    let lower = head.to_ascii_lowercase();
    assert!(lower.contains("\r\ncontent-type: text/css"), "{head}");
    assert!(lower.contains("\r\ncontent-length: 22\r\n"), "{head}");
    assert!(head.ends_with("\r\n\r\n"), "HEAD sent a body: {head:?}");
    // Not modified since: 304, no body.
    let r = curl(&[
        "-H",
        &format!("If-Modified-Since: {last_modified}"),
        &server.url("/assets/style.css"),
    ]);
    assert_eq!(r.status, 304, "{}", r.describe());
    assert!(r.body.is_empty());
    // Modified since an old date: the file.
    let r = curl(&[
        "-H",
        "If-Modified-Since: Mon, 01 Jan 2001 00:00:00 GMT",
        &server.url("/assets/style.css"),
    ]);
    assert_eq!(r.status, 200, "{}", r.describe());
    assert_eq!(r.text(), "body { color: #333; }\n");
}

#[test]
fn no_escape_from_the_folder() {
    let server = Server::start();
    // fixtures/server/secret.txt sits next to public/.
    let secret = "the secret outside the static folder";
    let attempts = [
        "/assets/../secret.txt",
        "/assets/%2e%2e/secret.txt",
        "/assets/%2E%2E/secret.txt",
        "/assets/..%2fsecret.txt",
        "/assets/%2e%2e%2fsecret.txt",
        "/assets/sub/../../secret.txt",
        "/assets/sub/%2e%2e/%2e%2e/secret.txt",
        "/assets/..%5csecret.txt",
        "/assets/%2fetc%2fpasswd",
        "/assets//etc/passwd",
        "/assets/....//secret.txt",
    ];
    for path in attempts {
        // --path-as-is: curl must not tidy the dots away itself.
        let r = curl(&["--path-as-is", &server.url(path)]);
        assert!(
            r.status == 404 || r.status == 400,
            "{path}: status {} (expected 404 or 400)\n{}",
            r.status,
            r.describe()
        );
        assert!(!r.text().contains(secret), "{path} leaked the file");
        assert!(!r.text().contains("root:"), "{path} leaked /etc/passwd");
    }
    // Also on the raw wire, where no client normalizes anything.
    for path in ["/assets/../secret.txt", "/assets/../../../../etc/passwd"] {
        let response = raw(
            &server,
            &format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"),
        );
        let text = String::from_utf8_lossy(&response).into_owned();
        assert!(
            text.starts_with("HTTP/1.1 404") || text.starts_with("HTTP/1.1 400"),
            "{path}: {text}"
        );
        assert!(
            !text.contains(secret) && !text.contains("root:"),
            "{path}: {text}"
        );
    }
}

/// `before` guards static files and 404s too, not only routes.
#[test]
fn before_guards_static_files_and_not_found() {
    let server = Server::start();
    let token = "Authorization: Bearer let-me-in";
    let r = curl(&[&server.url("/assets/guarded.txt")]);
    assert_eq!(r.status, 401, "{}", r.describe());
    let r = curl(&["-H", token, &server.url("/assets/guarded.txt")]);
    assert_eq!(r.status, 200, "{}", r.describe());
    assert!(
        r.text().contains("a guarded static file"),
        "{}",
        r.describe()
    );
    let r = curl(&[&server.url("/guarded-nothing-here")]);
    assert_eq!(r.status, 401, "{}", r.describe());
    let r = curl(&["-H", token, &server.url("/guarded-nothing-here")]);
    assert_eq!(r.status, 404, "{}", r.describe());
}

/// A static folder holding a FIFO, a symlink to a device, or a folder whose index.html is a
/// FIFO: those are 404 at once. tower-http would open the FIFO and wait for a writer (the
/// request, and one of the runtime's blocking threads, forever).
#[test]
fn fifos_and_devices_in_a_static_folder_are_not_served() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let root = dir.path();
    std::fs::write(root.join("plain.txt"), "plain").expect("write");
    std::fs::create_dir(root.join("sub")).expect("mkdir");
    for fifo in ["pipe", "sub/index.html"] {
        let made = std::process::Command::new("mkfifo")
            .arg(root.join(fifo))
            .status()
            .expect("mkfifo");
        assert!(made.success(), "mkfifo {fifo}");
    }
    std::os::unix::fs::symlink("/dev/zero", root.join("zero")).expect("symlink");
    let script = crate::fixtures().join("limits.lua");
    let root_text = root.to_str().expect("a UTF-8 path");
    let server = Server::start_with(&[], &script, &[root_text]);
    let start = std::time::Instant::now();
    for path in [
        "/files/pipe",
        "/files/zero",
        "/files/sub/",
        "/pipe",
        "/zero",
    ] {
        let r = curl(&[&server.url(path)]);
        assert_eq!(r.status, 404, "{path}: {}", r.describe());
    }
    assert!(
        start.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    // Regular files are served as ever, from the prefix and from the root.
    assert_eq!(curl(&[&server.url("/files/plain.txt")]).text(), "plain");
    assert_eq!(curl(&[&server.url("/plain.txt")]).text(), "plain");
}

/// `site/` for the symlink tests, next to `outside/` (what no link may reach):
///
/// ```text
/// site/plain.txt                  site/sub/page.txt
/// site/inside -> plain.txt        site/inside_dir -> sub          (resolve inside: served)
/// site/passwd_link -> /etc/passwd site/escape -> ../outside/secret.txt
/// site/out_dir -> ../outside      site/indexed/index.html -> ../../outside/secret.txt
/// site/loop -> loop               site/pipe_link -> /tmp/.../outside/pipe (a FIFO)
/// ```
fn symlinked_site(dir: &std::path::Path) -> std::path::PathBuf {
    use std::os::unix::fs::symlink;
    let site = dir.join("site");
    let outside = dir.join("outside");
    for folder in [&site, &site.join("sub"), &site.join("indexed"), &outside] {
        std::fs::create_dir_all(folder).expect("mkdir");
    }
    std::fs::write(site.join("plain.txt"), "plain").expect("write");
    std::fs::write(site.join("sub/page.txt"), "page").expect("write");
    std::fs::write(outside.join("secret.txt"), "the outside secret").expect("write");
    std::fs::write(outside.join("index.html"), "the outside index").expect("write");
    let made = std::process::Command::new("mkfifo")
        .arg(outside.join("pipe"))
        .status()
        .expect("mkfifo");
    assert!(made.success(), "mkfifo");
    symlink("plain.txt", site.join("inside")).expect("symlink");
    symlink("sub", site.join("inside_dir")).expect("symlink");
    symlink("/etc/passwd", site.join("passwd_link")).expect("symlink");
    symlink("../outside/secret.txt", site.join("escape")).expect("symlink");
    symlink("../outside", site.join("out_dir")).expect("symlink");
    symlink("../../outside/secret.txt", site.join("indexed/index.html")).expect("symlink");
    symlink("loop", site.join("loop")).expect("symlink");
    symlink(outside.join("pipe"), site.join("pipe_link")).expect("symlink");
    site
}

/// What a path that does not exist gets: a link leading outside must look the same.
fn not_found(server: &Server) -> (u16, String) {
    let r = curl(&[&server.url("/files/no-such-file")]);
    (r.status, r.text())
}

/// Links that resolve inside the static folder are served; links that lead outside it (to
/// a file, as a folder in the middle of the path, as a folder's index.html) are 404 exactly
/// like a missing file, so the response tells nothing about what is out there.
#[test]
fn symlinks_out_of_the_static_folder_are_not_followed() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let site = symlinked_site(dir.path());
    let script = crate::fixtures().join("limits.lua");
    let server = Server::start_with(&[], &script, &[site.to_str().expect("a UTF-8 path")]);
    let missing = not_found(&server);
    assert_eq!(missing.0, 404);
    for (path, body) in [
        ("/files/inside", "plain"),
        ("/files/inside_dir/page.txt", "page"),
        ("/inside", "plain"),
        ("/inside_dir/page.txt", "page"),
    ] {
        let r = curl(&[&server.url(path)]);
        assert_eq!((r.status, r.text().as_str()), (200, body), "{path}");
    }
    let start = std::time::Instant::now();
    for path in [
        "/files/passwd_link",
        "/files/escape",
        "/files/out_dir/secret.txt",
        "/files/out_dir/",
        "/files/out_dir",
        "/files/out_dir/index.html",
        "/files/indexed/",
        "/files/indexed/index.html",
        "/files/loop",
        "/files/pipe_link",
        "/files/out_dir/pipe",
        "/files/%6fut_dir/secret.txt",
        "/files/out_dir%2fsecret.txt",
        "/files/inside_dir/%2e%2e/escape",
        "/files/out_dir/%2e%2e/site/plain.txt",
        "/passwd_link",
        "/out_dir/secret.txt",
        "/indexed/",
    ] {
        let r = curl(&["--path-as-is", &server.url(path)]);
        assert_eq!(
            (r.status, r.text()),
            missing,
            "{path}: not the plain 404 of a missing file\n{}",
            r.describe()
        );
    }
    assert!(
        start.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    // HEAD and a raw request (nothing normalized on the way) say no more.
    for request in [
        "HEAD /files/passwd_link HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        "GET /files/out_dir/../out_dir/secret.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    ] {
        let text = String::from_utf8_lossy(&raw(&server, request)).into_owned();
        assert!(text.starts_with("HTTP/1.1 404"), "{request:?}: {text}");
        assert!(
            !text.contains("root:") && !text.contains("secret"),
            "{text}"
        );
    }
}

/// A static folder that is itself a symlink (`current -> releases/7`, as deployments do) is
/// served through the link, and its children's links are judged against where it points.
#[test]
fn a_symlinked_static_folder_keeps_its_links_inside() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let site = symlinked_site(dir.path());
    let current = dir.path().join("current");
    std::os::unix::fs::symlink(&site, &current).expect("symlink");
    let script = crate::fixtures().join("limits.lua");
    let server = Server::start_with(&[], &script, &[current.to_str().expect("a UTF-8 path")]);
    let missing = not_found(&server);
    for (path, body) in [
        ("/files/plain.txt", "plain"),
        ("/files/inside", "plain"),
        ("/files/sub/page.txt", "page"),
        ("/files/inside_dir/page.txt", "page"),
    ] {
        let r = curl(&[&server.url(path)]);
        assert_eq!((r.status, r.text().as_str()), (200, body), "{path}");
    }
    for path in [
        "/files/passwd_link",
        "/files/escape",
        "/files/out_dir/secret.txt",
        "/files/indexed/",
    ] {
        let r = curl(&[&server.url(path)]);
        assert_eq!((r.status, r.text()), missing, "{path}: {}", r.describe());
    }
}
