//! Network failures raise one clear line: refused (with host and port), timed out (with the
//! limit), and many requests in flight when the server is slow.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use crate::{Peer, failed_with, lua, succeeded};

/// A port nothing listens on: bound, then closed.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}

#[test]
fn connection_refused_names_host_and_port() {
    let port = closed_port().to_string();
    let run = lua(
        r#"http.get("http://127.0.0.1:" .. env.get("PORT") .. "/x")"#,
        &[("PORT", &port)],
    );
    failed_with(
        &run,
        &format!("http.get: cannot connect to 127.0.0.1:{port}: connection refused"),
    );
}

#[test]
fn timeout_says_after_how_long() {
    // A server that accepts and never answers.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port().to_string();
    let start = Instant::now();
    let run = lua(
        r#"http.get("http://127.0.0.1:" .. env.get("PORT") .. "/", {timeout = 0.3})"#,
        &[("PORT", &port)],
    );
    failed_with(&run, "http.get: timed out after 0.3s");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    drop(listener);
}

/// The client's own `timeout` applies to its calls; a call's `timeout = false` turns any limit
/// off (the call then waits as long as the server does).
#[test]
fn client_timeouts_and_turning_them_off() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port().to_string();
    let start = Instant::now();
    let run = lua(
        r#"
        local url = "http://127.0.0.1:" .. env.get("PORT") .. "/"
        local c = http.client{timeout = 0.2}
        local ok, err = pcall(c.get, c, url)
        assert.eq(ok, false)
        assert.matches(err, [[^\(command line\):\d+: http\.Client:get: timed out after 0\.2s \(http://127\.0\.0\.1:\d+/\)$]])
        -- A call's own limit wins over the client's.
        assert.raises(function() c:get(url, {timeout = 0.3}) end, "timed out after 0.3s")
        -- timeout = false: still waiting well past the client's 0.2 s.
        local waiting = async.spawn(function() return c:get(url, {timeout = false}) end)
        sleep(0.8)
        print("still waiting " .. tostring(waiting:done() == false))
        waiting:cancel()
        "#,
        &[("PORT", &port)],
    );
    succeeded(&run);
    assert!(
        run.stdout.contains("still waiting true"),
        "{}",
        run.describe()
    );
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    drop(listener);
}

#[test]
fn fifty_slow_requests_overlap() {
    let peer = Peer::start("aiohttp_peer.py", &[]);
    let url = peer.url("http");
    let run = lua(
        r#"
        local base = env.get("PEER")
        local t0 = time.monotonic()
        local tasks = {}
        for i = 1, 50 do
          tasks[i] = async.spawn(function()
            return http.get(base .. "/slow?s=0.5&i=" .. i).status
          end)
        end
        for _, status in ipairs(async.all(tasks)) do assert.eq(status, 200) end
        print(("%.3f"):format(time.monotonic() - t0))
        "#,
        &[("PEER", &url)],
    );
    succeeded(&run);
    let elapsed: f64 = run.stdout.trim().parse().expect("elapsed seconds");
    // In sequence they would take 25 s; overlapped, a little over 0.5 s.
    assert!(elapsed < 3.0, "50 x 0.5 s requests took {elapsed} s");
    println!("50 concurrent 0.5 s requests: {elapsed} s");
}
