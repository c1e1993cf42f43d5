//! Responses read other than whole, against tests/conformance/transfer_peer.py (aiohttp): a
//! 300 MB body written to a file under a 16 MiB memory limit, a download cut half-way that
//! leaves nothing behind, an NDJSON stream read line by line while the server is still
//! sending, compressed bodies decoded (and kept raw on request), a decoded body bounded by
//! `max_body`, repeated `Set-Cookie` headers and a cookie jar.

use crate::bounds::measured;
use crate::{Peer, failed_with, lua, succeeded};

/// `output`: 300 MB to a file under `--memory-limit 16M`, its sha256 the server's, the peak
/// RSS of the process far below the body (it is never in memory), no temporary file left.
#[test]
fn a_300_mb_download_to_a_file_stays_in_bounded_memory() {
    let peer = Peer::start("transfer_peer.py", &[]);
    let dir = tempfile::tempdir().expect("tempdir");
    let target = dir.path().join("image.bin");
    let code = r#"
        local base, target = env.get("PEER"), env.get("TARGET")
        local size = 300 * 1000 * 1000
        local resp = http.get(base .. "/download?size=" .. size, {output = target})
        assert.eq(resp.status, 200)
        assert.eq(resp.bytes, size)
        assert.is_nil(resp.body)
        assert.eq(resp.headers["content-length"], tostring(size))
        assert.eq(fs.stat(target).size, size)
        local expected = http.get(base .. "/digest?size=" .. size):json().sha256
        assert.eq(crypto.hash_file(target), expected)
        print("ok " .. #fs.list(env.get("DIR")))"#;
    let (run, peak) = measured(
        &["--memory-limit", "16M"],
        code,
        &[
            ("PEER", &peer.url("http")),
            ("TARGET", &target.display().to_string()),
            ("DIR", &dir.path().display().to_string()),
        ],
    );
    succeeded(&run);
    assert_eq!(run.stdout, "ok 1\n", "only the file: {}", run.describe());
    println!("300 MB download to a file under --memory-limit 16M: peak RSS {peak} MiB");
    assert!(
        peak < 64,
        "peak RSS {peak} MiB: the body was held in memory"
    );
}

/// A download the server cuts half-way: the call raises, the target keeps its old content
/// (or stays absent), and the temporary file is gone. A target that is a directory, or in a
/// folder that does not exist, fails naming it.
#[test]
fn a_failed_download_leaves_no_file() {
    let peer = Peer::start("transfer_peer.py", &[]);
    let dir = tempfile::tempdir().expect("tempdir");
    let code = r#"
        local base, dir = env.get("PEER"), env.get("DIR")
        local cut = base .. "/download?size=5000000&cut=2000000"
        local ok, err = pcall(http.get, cut, {output = dir .. "/new.bin"})
        assert.eq(ok, false)
        assert.matches(err, "http.get: reading the response from 127.0.0.1:[0-9]+ failed")
        assert.eq(fs.exists(dir .. "/new.bin"), false)
        -- An existing file is replaced only by a whole body.
        fs.write(dir .. "/old.bin", "old content")
        assert.raises(function() http.get(cut, {output = dir .. "/old.bin"}) end, "failed")
        assert.eq(fs.read(dir .. "/old.bin"), "old content")
        -- max_body, when given, bounds the file.
        assert.raises(function()
          http.get(base .. "/download?size=5000000", {output = dir .. "/big.bin", max_body = 1000})
        end, [[is larger than max_body \(1000 bytes\)]])
        assert.raises(function() http.get(base .. "/download?size=10", {output = dir}) end,
          "output: " .. dir .. " is a directory")
        assert.raises(function()
          http.get(base .. "/download?size=10", {output = dir .. "/none/x.bin"})
        end, "output: cannot write " .. dir .. "/none/x.bin: No such file or directory")
        -- Through a symlink: the file it leads to is replaced, the link stays.
        fs.mkdir(dir .. "/real")
        assert(os.execute("ln -s real/linked.bin " .. dir .. "/link.bin"))
        local resp = http.get(base .. "/download?size=1000", {output = dir .. "/link.bin"})
        assert.eq(resp.bytes, 1000)
        assert.eq(fs.stat(dir .. "/real/linked.bin").size, 1000)
        assert.eq(#fs.list(dir .. "/real"), 1)
        os.remove(dir .. "/link.bin")
        fs.remove(dir .. "/real", {recursive = true})
        -- A time limit that fires half-way also leaves nothing.
        assert.raises(function()
          http.get(base .. "/ndjson?lines=3&pause=1", {output = dir .. "/slow.bin", timeout = 0.5})
        end, "timed out after 0.5s")
        print(table.concat(fs.list(dir), ","))"#;
    let run = lua(
        code,
        &[
            ("PEER", &peer.url("http")),
            ("DIR", &dir.path().display().to_string()),
        ],
    );
    succeeded(&run);
    assert_eq!(run.stdout, "old.bin\n", "{}", run.describe());
    // The process ends (here past its --timeout) while a download is under way: its
    // temporary file is removed at exit.
    let mut cmd = assay_tests::assay_with_plugin("http");
    cmd.args(["--timeout", "1", "-e"]).arg(
        r#"http.get(env.get("PEER") .. "/ndjson?lines=3&pause=1",
             {output = env.get("DIR") .. "/late.bin", timeout = false})"#,
    );
    cmd.env("PEER", peer.url("http")).env("DIR", dir.path());
    let run = assay_tests::run(cmd, None, std::time::Duration::from_secs(20)).expect("run");
    assert_eq!(run.code, Some(1), "{}", run.describe());
    assert!(
        run.stderr.contains("timed out after 1 s"),
        "{}",
        run.describe()
    );
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(left, ["old.bin"], "{}", run.describe());
}

/// `stream = true`: 1,000 NDJSON lines read with `resp:lines()` as they arrive. The server
/// stops after line 500 until the script, having read it, signals it; a client that waited
/// for the whole body would read the server's "no signal" line instead. Meanwhile another
/// coroutine keeps running.
#[test]
fn an_ndjson_stream_is_read_while_the_server_is_sending() {
    let peer = Peer::start("transfer_peer.py", &[]);
    let code = r#"
        local base = env.get("PEER")
        local ticks = 0
        local ticker = async.spawn(function()
          while true do sleep(0.01) ticks = ticks + 1 end
        end)
        local resp <close> = http.get(base .. "/ndjson?lines=1000&pause=500", {stream = true})
        assert.eq(resp.status, 200)
        assert.eq(resp.ok, true)
        assert.eq(resp.headers["content-type"], "application/x-ndjson")
        assert.eq(resp:header_values("Content-Type"), {"application/x-ndjson"})
        local count, ticks_at_pause = 0, nil
        for line in resp:lines() do
          local doc = json.parse(line)
          assert.is_nil(doc.error, line)
          count = count + 1
          assert.eq(doc.i, count)
          if count == 500 then
            ticks_at_pause = ticks
            -- The server holds line 501 until this arrives.
            sleep(0.2)
            assert.eq(http.post(base .. "/signal?line=500").status, 200)
          end
        end
        assert.eq(count, 1000)
        assert.is_nil(resp:read_line())
        assert.is_nil(resp:read())
        assert(ticks > ticks_at_pause + 5, "the ticker ran while the stream waited")
        ticker:cancel()
        resp:close()
        assert.raises(function() resp:read() end, "is closed")
        print("lines " .. count)"#;
    let run = lua(code, &[("PEER", &peer.url("http"))]);
    succeeded(&run);
    assert_eq!(run.stdout, "lines 1000\n", "{}", run.describe());
}

/// A stream's reads: raw pieces with `read()`, a line past `max_body` refused naming it, the
/// wait for more of the body bounded by `timeout` (not the whole stream), and a closed
/// response that raises on use.
#[test]
fn stream_reads_are_bounded() {
    let peer = Peer::start("transfer_peer.py", &[]);
    let code = r#"
        local base = env.get("PEER")
        local resp = http.get(base .. "/download?size=100000", {stream = true})
        local total, pieces = 0, 0
        while true do
          local piece = resp:read()
          if not piece then break end
          total, pieces = total + #piece, pieces + 1
        end
        assert.eq(total, 100000)
        assert(pieces >= 1)
        -- Lines longer than max_body (1 MiB of zeros, no newline): refused naming the limit.
        local long = http.get(base .. "/bomb?mib=1", {stream = true, max_body = 1000})
        local ok, err = pcall(long.read_line, long)
        assert.eq(ok, false)
        assert.matches(err, [[a line of the response from 127\.0\.0\.1:\d+ is larger than max_body \(1000 bytes\)]])
        -- The server pauses at line 2 (and gives up after 10 s): each wait is bounded.
        local slow = http.get(base .. "/ndjson?lines=3&pause=2", {stream = true, timeout = 0.5})
        assert.eq(slow:read_line(), '{"i": 1}')
        assert.eq(slow:read_line(), '{"i": 2}')
        assert.raises(function() slow:read_line() end,
          "timed out after 0.5s waiting for more of the body")
        slow:close()
        assert.raises(function() slow:read_line() end, "is closed")
        -- close() from another coroutine ends a read that waits, with no time limit.
        local waiting = http.get(base .. "/ndjson?lines=3&pause=1", {stream = true, timeout = false})
        assert.eq(waiting:read_line(), '{"i": 1}')
        local reader = async.spawn(function() return pcall(waiting.read_line, waiting) end)
        sleep(0.2)
        waiting:close()
        local ok, err = reader:await()
        assert.eq(ok, false)
        assert.matches(err, "the response from http://127.0.0.1:[0-9]+/ndjson.* is closed")
        print("ok")"#;
    let run = lua(code, &[("PEER", &peer.url("http"))]);
    succeeded(&run);
}

/// gzip, br, zstd and deflate bodies decoded, `accept-encoding` sent (the server answers 406
/// otherwise); with `decompress = false` the raw body and its `content-encoding` come through;
/// a small gzip body that expands to 50 MiB is refused at `max_body`.
#[test]
fn compressed_responses_are_decoded() {
    let peer = Peer::start("transfer_peer.py", &[]);
    let code = r#"
        local base = env.get("PEER")
        local text = string.rep("The quick brown fox jumps over the lazy dog. ", 200)
        for _, coding in ipairs({"gzip", "br", "zstd", "deflate"}) do
          local resp = http.get(base .. "/compressed?coding=" .. coding)
          assert.eq(resp.status, 200, coding .. ": " .. resp.body)
          assert.eq(resp.body, text, coding)
          assert.is_nil(resp.headers["content-encoding"])
        end
        -- Raw: no accept-encoding of ours (the server refuses), then one given by the script.
        assert.eq(http.get(base .. "/compressed?coding=gzip", {decompress = false}).status, 406)
        local raw = http.get(base .. "/compressed?coding=br",
          {decompress = false, headers = {["accept-encoding"] = "br"}})
        assert.eq(raw.status, 200)
        assert.eq(raw.headers["content-encoding"], "br")
        assert(#raw.body < #text / 10, "the body is still compressed")
        local ok, err = pcall(http.get, base .. "/bomb?mib=50", {max_body = 1000000})
        assert.eq(ok, false)
        assert.matches(err, [[is larger than max_body \(1000000 bytes\)]])
        print("ok")"#;
    let run = lua(code, &[("PEER", &peer.url("http"))]);
    succeeded(&run);
    // The default bound on a decoded body is the memory limit.
    let run = crate::lua(
        r#"http.get(env.get("PEER") .. "/bomb?mib=200")"#,
        &[("PEER", &peer.url("http"))],
    );
    failed_with(
        &run,
        "is larger than the default max_body (64 MiB; pass max_body to change it)",
    );
}

/// Two `Set-Cookie` headers stay two in `resp:header_values`, and are joined with "\n" in
/// `resp.headers` (as the server's `req.headers` joins them); `http.client{cookies = true}`
/// sends them back, the shared client does not.
#[test]
fn set_cookie_headers_and_the_cookie_jar() {
    let peer = Peer::start("transfer_peer.py", &[]);
    let code = r#"
        local base = env.get("PEER")
        local resp = http.get(base .. "/cookies/set")
        assert.eq(resp:header_values("set-cookie"), {
          "session=abc123; Path=/; HttpOnly",
          "theme=dark; Expires=Wed, 21 Oct 2037 07:28:00 GMT; Path=/",
        })
        assert.eq(resp.headers["set-cookie"],
          "session=abc123; Path=/; HttpOnly\ntheme=dark; Expires=Wed, 21 Oct 2037 07:28:00 GMT; Path=/")
        assert.eq(resp:header_values("x-absent"), {})
        assert.raises(function() resp:header_values(1) end, "bad argument #1 'name'")
        -- The shared client keeps no cookies.
        assert.eq(http.get(base .. "/cookies/check"):json().cookie, json.null)
        local session = http.client{cookies = true}
        assert.eq(session:get(base .. "/cookies/check"):json().cookie, json.null)
        session:get(base .. "/cookies/set")
        local sent = session:get(base .. "/cookies/check"):json().cookie
        local names = {}
        for pair in sent:gmatch("[^; ]+") do names[#names + 1] = pair end
        table.sort(names)
        assert.eq(names, {"session=abc123", "theme=dark"})
        -- Another client has its own jar.
        assert.eq(http.client{cookies = true}:get(base .. "/cookies/check"):json().cookie, json.null)
        assert.raises(function() http.client{cookies = "yes"} end,
          "field 'cookies': boolean expected, got string")
        print("ok")"#;
    let run = lua(code, &[("PEER", &peer.url("http"))]);
    succeeded(&run);
}

/// `output` naming a character device or a FIFO writes in place, as `curl -o /dev/null` does:
/// `/dev/null` stays the device, a FIFO stays a FIFO and its reader gets the body,
/// `/dev/stdout` reaches the (piped) standard output, a FIFO nobody reads is an error at once.
#[test]
fn output_to_a_device_or_a_fifo_writes_in_place() {
    use std::io::Read as _;
    use std::os::unix::fs::{FileTypeExt as _, OpenOptionsExt as _};
    let peer = Peer::start("transfer_peer.py", &[]);
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("pipe");
    let nobody = dir.path().join("nobody");
    for path in [&fifo, &nobody] {
        let made = std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .expect("mkfifo");
        assert!(made.success(), "mkfifo failed");
    }
    // The reader is open before the download starts (non-blocking: no writer yet); the body
    // fits in the pipe's buffer, read once the run is over.
    let mut reader = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&fifo)
        .expect("reader");
    let code = r#"
        local base = env.get("PEER")
        local resp = http.get(base .. "/download?size=1000", {output = "/dev/null"})
        assert.eq(resp.bytes, 1000)
        resp = http.get(base .. "/download?size=50000", {output = env.get("FIFO")})
        assert.eq(resp.bytes, 50000)
        assert.raises(function()
          http.get(base .. "/download?size=10", {output = env.get("NOBODY")})
        end, "output: cannot write .*/nobody: it is a FIFO with no reader")
        resp = http.get(base .. "/download?size=10", {output = "/dev/stdout"})
        assert.eq(resp.bytes, 10)
        print("|ok")"#;
    let run = lua(
        code,
        &[
            ("PEER", &peer.url("http")),
            ("FIFO", &fifo.display().to_string()),
            ("NOBODY", &nobody.display().to_string()),
        ],
    );
    succeeded(&run);
    let pattern =
        |n: usize| -> Vec<u8> { (0..n).map(|i| ((i * 7 + i / 251) % 256) as u8).collect() };
    let mut expected_stdout = pattern(10);
    expected_stdout.extend_from_slice(b"|ok\n");
    assert_eq!(run.stdout.as_bytes(), expected_stdout, "{}", run.describe());
    let mut got = Vec::new();
    reader.read_to_end(&mut got).expect("read the fifo");
    assert_eq!(got, pattern(50000));
    let kind = std::fs::metadata("/dev/null").expect("stat").file_type();
    assert!(kind.is_char_device(), "/dev/null is no longer a device");
    let kind = std::fs::metadata(&fifo).expect("stat").file_type();
    assert!(kind.is_fifo(), "the FIFO was replaced");
    assert_eq!(std::fs::read_dir(dir.path()).expect("list").count(), 2);
}
