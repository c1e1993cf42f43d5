//! Compressed responses the plugin decodes itself, against tests/conformance/transfer_peer.py:
//! stacked codings undone in reverse order (and bounded), raw deflate accepted as `deflate`,
//! zstd windows bounded by RFC 9659 and the memory limit, in every way a body is read (whole,
//! `output`, `stream`).

use crate::bounds::measured;
use crate::{Peer, lua, succeeded};

/// `Content-Encoding: gzip, gzip` (and other stacks, raw deflate among them) decode to the
/// text whole, to a file and as a stream; four layers are refused by name.
#[test]
fn stacked_and_raw_deflate_codings_are_decoded() {
    let peer = Peer::start("transfer_peer.py", &[]);
    let dir = tempfile::tempdir().expect("tempdir");
    let code = r#"
        local base, dir = env.get("PEER"), env.get("DIR")
        local text = string.rep("The quick brown fox jumps over the lazy dog. ", 200)
        for _, codings in ipairs({"gzip,gzip", "br,gzip", "deflate-raw", "deflate",
                                  "deflate-raw,zstd", "zstd,br,gzip"}) do
          local url = base .. "/encoded?codings=" .. codings
          local resp = http.get(url)
          assert.eq(resp.status, 200, codings)
          assert.eq(resp.body, text, codings)
          assert.is_nil(resp.headers["content-encoding"], codings)
          assert.is_nil(resp.headers["content-length"], codings)
          local saved = http.get(url, {output = dir .. "/out.txt"})
          assert.eq(saved.bytes, #text, codings)
          assert.eq(fs.read(dir .. "/out.txt"), text, codings)
          local stream <close> = http.get(url, {stream = true})
          local pieces = {}
          for piece in function() return stream:read() end do pieces[#pieces + 1] = piece end
          assert.eq(table.concat(pieces), text, codings)
        end
        -- No body at all (HEAD): empty, whatever the content-encoding, which is kept.
        for _, codings in ipairs({"gzip", "gzip,gzip", "deflate", "deflate-raw", "br", "zstd"}) do
          local head = http.request("HEAD", base .. "/encoded?codings=" .. codings)
          assert.eq(head.status, 200, codings)
          assert.eq(head.body, "", codings)
          assert(head.headers["content-encoding"], codings)
          local stream <close> = http.request("HEAD", base .. "/encoded?codings=" .. codings,
            {stream = true})
          assert.is_nil(stream:read(), codings)
        end
        local raw = http.get(base .. "/encoded?codings=gzip,gzip", {decompress = false})
        assert.eq(raw.headers["content-encoding"], "gzip, gzip")
        assert.raises(function() http.get(base .. "/encoded?codings=gzip,gzip,gzip,gzip") end,
          [[cannot decode the response body from 127\.0\.0\.1:\d+: it is encoded 4 times ]]
          .. [[\(gzip, gzip, gzip, gzip\); at most 3 codings are decoded]])
        print("ok")"#;
    succeeded(&lua(
        code,
        &[
            ("PEER", &peer.url("http")),
            ("DIR", &dir.path().display().to_string()),
        ],
    ));
}

/// A zstd frame asking for a 128 MiB window is refused by name before anything is allocated
/// (RFC 9659 allows 8 MiB), and a smaller memory limit lowers the bound; three concurrent
/// streams of such frames under `--memory-limit 16M` stay far below their windows' sum.
#[test]
fn zstd_windows_are_bounded() {
    let peer = Peer::start("transfer_peer.py", &[]);
    let code = r#"
        local base = env.get("PEER")
        local text = string.rep("The quick brown fox jumps over the lazy dog. ", 200)
        local resp = http.get(base .. "/zstd-window?log=23&kib=9")
        assert.eq(resp.body:sub(1, #text), text)
        assert.eq(#resp.body, 9 * 1024)
        assert.raises(function() http.get(base .. "/zstd-window?log=27") end,
          [[cannot decode the zstd response body from 127\.0\.0\.1:\d+: a zstd frame needs a ]]
          .. [[window of 128 MiB, more than the 8 MiB allowed \(RFC 9659's limit for HTTP\)]])
        local tasks = {}
        for i = 1, 3 do
          tasks[i] = async.spawn(function()
            local s <close> = http.get(base .. "/zstd-window?log=27&kib=1024", {stream = true})
            return pcall(function() return s:read() end)
          end)
        end
        for i = 1, 3 do
          local ok, err = tasks[i]:await()
          assert.eq(ok, false)
          assert.matches(err, "needs a window of 128 MiB")
        end
        print("ok")"#;
    let (run, peak) = measured(
        &["--memory-limit", "16M"],
        code,
        &[("PEER", &peer.url("http"))],
    );
    succeeded(&run);
    println!("three 128 MiB-window zstd streams under --memory-limit 16M: peak RSS {peak} MiB");
    assert!(
        peak < 64,
        "peak RSS {peak} MiB: a zstd window was allocated"
    );
    let code = r#"
        assert.raises(function() http.get(env.get("PEER") .. "/zstd-window?log=22") end,
          [[a zstd frame needs a window of 4 MiB, more than the 3 MiB allowed ]]
          .. [[\(the script's memory limit\)]])
        print("ok")"#;
    let (run, _) = measured(
        &["--memory-limit", "3M"],
        code,
        &[("PEER", &peer.url("http"))],
    );
    succeeded(&run);
}

/// A chunked body with no bytes at all, labelled gzip: empty, not "unexpected end of file".
#[test]
fn an_empty_chunked_body_is_empty_whatever_its_coding() {
    use std::io::{Read as _, Write as _};
    let port = crate::bounds::listen(|mut stream| {
        let mut request = [0u8; 4096];
        let _ = stream.read(&mut request);
        let _ = stream.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\
              Connection: close\r\n\r\n0\r\n\r\n",
        );
    });
    let code = r#"
        local resp = http.get("http://127.0.0.1:" .. env.get("PORT") .. "/")
        assert.eq(resp.status, 200)
        assert.eq(resp.body, "")
        print("ok")"#;
    succeeded(&lua(code, &[("PORT", &port.to_string())]));
}
