//! What the client sends, checked by tests/conformance/transfer_peer.py (aiohttp): Basic and
//! Bearer `auth`, a `form`, and a `multipart` upload with a 50 MB file streamed from disk,
//! which the server parses with aiohttp's multipart reader and hashes.

use std::io::Write as _;
use std::process::Command;

use crate::bounds::measured;
use crate::{Peer, lua, succeeded};

#[test]
fn basic_and_bearer_auth_are_checked_by_the_server() {
    let peer = Peer::start("transfer_peer.py", &[]);
    let code = r#"
        local base = env.get("PEER")
        -- The password has a colon and non-ASCII letters (sent as UTF-8).
        local resp = http.get(base .. "/basic", {auth = {"assay-user", "pä ss:wörd"}})
        assert.eq(resp.status, 200, resp.body)
        assert.eq(resp:json().user, "assay-user")
        resp = http.get(base .. "/basic", {auth = {user = "assay-user", password = "pä ss:wörd"}})
        assert.eq(resp.status, 200, resp.body)
        assert.eq(http.get(base .. "/basic", {auth = {"assay-user", "wrong"}}).status, 401)
        assert.eq(http.get(base .. "/basic").status, 401)
        resp = http.get(base .. "/bearer", {auth = {bearer = "t0ken.with-chars_~+/="}})
        assert.eq(resp.status, 200, resp.body)
        assert.eq(http.get(base .. "/bearer", {auth = {bearer = "other"}}).status, 401)
        -- A client's default authorization header is replaced by a call's auth.
        local c = http.client{headers = {authorization = "Bearer other"}}
        assert.eq(c:get(base .. "/bearer").status, 401)
        assert.eq(c:get(base .. "/bearer", {auth = {bearer = "t0ken.with-chars_~+/="}}).status, 200)
        print("ok")"#;
    succeeded(&lua(code, &[("PEER", &peer.url("http"))]));
}

#[test]
fn a_form_is_urlencoded_with_repeated_keys() {
    let peer = Peer::start("transfer_peer.py", &[]);
    let code = r#"
        local base = env.get("PEER")
        local resp = http.post(base .. "/form", nil, {form = {
          name = "a b&c=d", tag = {"x", "y"}, n = 3, ["clé"] = "é+%", empty = "",
        }})
        assert.eq(resp.status, 200, resp.body)
        assert.eq(resp:json().fields, {
          name = {"a b&c=d"}, tag = {"x", "y"}, n = {"3"}, ["clé"] = {"é+%"}, empty = {""},
        })
        -- A client's default content type (for its JSON bodies) does not apply to a form.
        local c = http.client{headers = {["content-type"] = "application/json"}}
        assert.eq(c:post(base .. "/form", nil, {form = {a = 1}}):json().fields, {a = {"1"}})
        -- put/patch/request take it too; a body and a form exclude each other.
        assert.eq(http.request("POST", base .. "/form", {form = {a = 1}}):json().fields, {a = {"1"}})
        assert.raises(function() http.post(base .. "/form", "x", {form = {a = 1}}) end,
          "field 'form': cannot be used with a body")
        print("ok")"#;
    succeeded(&lua(code, &[("PEER", &peer.url("http"))]));
}

/// A 50 MB file and two fields as multipart/form-data: the server's sha256 of the file part is
/// `sha256sum`'s, names, file names and content types arrive as given (or guessed from the
/// name), and the peak RSS under a 16 MiB limit shows the file was streamed, not read whole.
#[test]
fn a_multipart_upload_streams_a_50_mb_file() {
    let peer = Peer::start("transfer_peer.py", &[]);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("backup.tar.gz");
    let mut file = std::fs::File::create(&path).expect("create");
    let mut state: u32 = 12345;
    let mut block = vec![0u8; 1 << 20];
    for _ in 0..50 {
        for byte in block.iter_mut() {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
            *byte = (state >> 16) as u8;
        }
        file.write_all(&block).expect("write");
    }
    drop(file);
    let out = Command::new("sha256sum")
        .arg(&path)
        .output()
        .expect("sha256sum");
    let digest = String::from_utf8(out.stdout).expect("text");
    let digest = digest.split_whitespace().next().expect("digest").to_owned();
    let code = r#"
        local resp = http.post(env.get("PEER") .. "/multipart", nil, {multipart = {
          {name = "title", value = "nightly backup"},
          {name = "meta", value = '{"v":1}', content_type = "application/json"},
          {name = "archive", file = env.get("FILE")},
          {name = "renamed", file = env.get("FILE"), filename = "data.bin",
           content_type = "application/x-custom"},
        }})
        assert.eq(resp.status, 200, resp.body)
        local parts = resp:json().parts
        assert.eq(#parts, 4)
        assert.eq(parts[1].name, "title")
        assert.eq(parts[1].text, "nightly backup")
        assert.eq(parts[1].filename, json.null)
        assert.eq(parts[2].content_type, "application/json")
        assert.eq(parts[2].text, '{"v":1}')
        assert.eq(parts[3].filename, "backup.tar.gz")
        assert.eq(parts[3].content_type, "application/gzip")
        assert.eq(parts[4].filename, "data.bin")
        assert.eq(parts[4].content_type, "application/x-custom")
        for i = 3, 4 do
          assert.eq(parts[i].size, 50 * 1024 * 1024)
          assert.eq(parts[i].sha256, env.get("DIGEST"))
        end
        print("ok")"#;
    let (run, peak) = measured(
        &["--memory-limit", "16M"],
        code,
        &[
            ("PEER", &peer.url("http")),
            ("FILE", &path.display().to_string()),
            ("DIGEST", &digest),
        ],
    );
    succeeded(&run);
    println!("multipart upload of 2 x 50 MB under --memory-limit 16M: peak RSS {peak} MiB");
    assert!(peak < 64, "peak RSS {peak} MiB: the file was read whole");
}

/// In the sandbox a script reads and writes no file: `output` and multipart files are refused
/// by name before anything is sent.
#[test]
fn the_sandbox_refuses_files() {
    let code = r#"
        local ok, err = pcall(http.get, "http://127.0.0.1:1/", {output = "/tmp/x"})
        print(err)
        ok, err = pcall(http.post, "http://127.0.0.1:1/", nil,
          {multipart = {{name = "f", file = "/etc/hostname"}}})
        print(err)"#;
    let mut cmd = assay_tests::assay_with_plugin("http");
    cmd.args(["--sandbox", "-e", code]);
    let run = assay_tests::run(cmd, None, std::time::Duration::from_secs(30)).expect("run");
    succeeded(&run);
    assert!(
        run.stdout
            .contains("field 'output': writing files is not available in sandbox"),
        "{}",
        run.describe()
    );
    assert!(
        run.stdout
            .contains("field 'multipart': part 1: reading files is not available in sandbox"),
        "{}",
        run.describe()
    );
}

/// A FIFO as a multipart file is refused by name at once: opening it for reading would wait
/// for a writer that never comes, freezing the whole runtime (no timeout fires during an open).
#[test]
fn a_fifo_as_a_multipart_file_is_refused_without_waiting() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("f");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success(), "mkfifo failed");
    let code = r#"
        local fifo = env.get("FIFO")
        local ok, err = pcall(http.post, "http://127.0.0.1:1/", nil,
          {timeout = 2, multipart = {{name = "f", file = fifo}}})
        assert.eq(ok, false)
        assert.matches(err, "part 1: cannot read .*/f: it is a FIFO, not a regular file")
        print("ok")"#;
    let started = std::time::Instant::now();
    let run = lua(code, &[("FIFO", &fifo.display().to_string())]);
    succeeded(&run);
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

/// Part names and file names are escaped as browsers do (WHATWG HTML: `"` -> %22, CR -> %0D,
/// LF -> %0A, UTF-8 as it is, never `name*=`): a CRLF in a file name cannot add a part header.
/// aiohttp's parser sees one header per part and the Content-Disposition exactly as written.
#[test]
fn multipart_names_cannot_inject_part_headers() {
    let peer = Peer::start("transfer_peer.py", &[]);
    let code = r#"
        local resp = http.post(env.get("PEER") .. "/multipart", nil, {multipart = {
          {name = "n", value = "v", filename = "a\r\nContent-Type: text/evil"},
          {name = 'q"uo\nte', value = "w"},
          {name = "clé", value = "x", filename = "résumé \"v2\".txt"},
        }})
        assert.eq(resp.status, 200, resp.body)
        local parts = resp:json().parts
        assert.eq(#parts, 3)
        assert.eq(parts[1].headers, 1)
        assert.eq(parts[1].content_type, json.null)
        assert.eq(parts[1].disposition,
          'form-data; name="n"; filename="a%0D%0AContent-Type: text/evil"')
        assert.eq(parts[1].text, "v")
        assert.eq(parts[2].disposition, 'form-data; name="q%22uo%0Ate"')
        assert.eq(parts[3].disposition,
          'form-data; name="clé"; filename="résumé %22v2%22.txt"')
        assert.eq(parts[3].name, "clé")
        print("ok")"#;
    succeeded(&lua(code, &[("PEER", &peer.url("http"))]));
}
