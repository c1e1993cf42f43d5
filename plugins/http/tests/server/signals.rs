//! SIGTERM stops the server gracefully: the listener closes at once, requests in flight
//! finish with their answers, the script goes on after `server:wait()` and exits 0.

use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::Server;
use crate::curl::curl;
use crate::load::wrk;

#[test]
fn sigterm_finishes_the_request_in_flight() {
    let mut server = Server::start();
    let url = server.url("/slow?s=1&tell=in-flight");
    let request = std::thread::spawn(move || {
        let start = Instant::now();
        let reply = curl(&[&url]);
        (reply, start.elapsed())
    });
    // The handler has started (it says so) before the signal goes.
    server.wait_line("STARTED in-flight", Duration::from_secs(10));
    let signalled = Instant::now();
    server.signal("TERM");

    // The listener closes while the request is still running; the process is still there.
    let deadline = Instant::now() + Duration::from_millis(500);
    let refused = loop {
        match TcpStream::connect(("127.0.0.1", server.port)) {
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => break true,
            _ if Instant::now() > deadline => break false,
            _ => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    let still_running = signalled.elapsed() < Duration::from_millis(900);
    assert!(
        refused,
        "new connections were still accepted 0.5 s after SIGTERM\n{}",
        server.describe()
    );
    assert!(still_running, "the check came too late to mean anything");

    let (reply, took) = request.join().expect("the request thread");
    assert_eq!(reply.status, 200, "{}", reply.describe());
    assert_eq!(reply.text(), "slept");
    assert!(
        took >= Duration::from_millis(900),
        "the handler was cut short: {took:?}"
    );
    let (handled, raised) = server.stopped();
    assert_eq!((handled, raised), (1, 0));
    assert!(
        signalled.elapsed() < Duration::from_secs(5),
        "stopping took {:?}",
        signalled.elapsed()
    );
}

#[test]
fn sigterm_under_load() {
    let mut server = Server::start();
    let pid = server.pid();
    // 50 connections on a route that takes 20 ms: about 50 requests are always in a handler.
    // SIGTERM after 1.2 s of a 2 s run; wrk keeps trying (and failing) to reconnect after, in
    // a busy loop, so the run is no longer than needed.
    let killer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1200));
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
        status.is_ok_and(|s| s.success())
    });
    let run = wrk(&server.url("/slow?s=0.02"), 50, 2, &[]);
    assert!(
        killer.join().expect("the signal thread"),
        "kill -TERM failed"
    );
    let (handled, raised) = server.stopped();
    assert_eq!(raised, 0);
    assert!(handled > 0, "{}", run.output);
    // Every request a handler took was answered, and answered 200.
    assert_eq!(run.status(200), handled, "{}", run.output);
    assert_eq!(run.non_2xx, 0, "{}", run.output);
    assert_eq!(run.errors("timeout"), 0, "{}", run.output);
    // A connection whose next request was sent but not read when the server closed it ends
    // with a read error: at most one per connection. After that, wrk's reconnects are
    // refused (counted as connect or write errors).
    assert!(run.errors("read") <= 50, "{}", run.output);
    assert!(
        !server.stderr().contains("ERROR"),
        "the server logged errors\n{}",
        server.describe()
    );
}

/// A listening server keeps the program alive after the main chunk ends, until it stops; then
/// the program ends by itself with 0.
#[test]
fn unwaited_server_keeps_the_program_alive() {
    let mut server = Server::start_script(&crate::fixtures().join("unwaited.lua"), &[]);
    std::thread::sleep(Duration::from_millis(300));
    let r = curl(&[&server.url("/ping")]);
    assert_eq!(r.status, 200, "{}", r.describe());
    let r = curl(&[&server.url("/stop")]);
    assert_eq!(r.status, 200, "{}", r.describe());
    let status = server.wait_exit(Duration::from_secs(10));
    assert_eq!(status.code(), Some(0), "{}", server.describe());
}

/// SIGTERM stops a server nobody waits on gracefully too: the program ends with 0.
#[test]
fn unwaited_server_stops_on_sigterm() {
    let mut server = Server::start_script(&crate::fixtures().join("unwaited.lua"), &[]);
    let r = curl(&[&server.url("/ping")]);
    assert_eq!(r.status, 200, "{}", r.describe());
    server.signal("TERM");
    let status = server.wait_exit(Duration::from_secs(10));
    assert_eq!(status.code(), Some(0), "{}", server.describe());
}
