//! A handler past the server's `timeout` is stopped, not only answered for: its client gets
//! 503 and its coroutine ends. One waiting in `sleep` is closed at once (its `<close>`
//! variables run); one computing is stopped by the VM's count hook, so it cannot hold the
//! Lua thread and make every route answer 503 forever, and SIGTERM still ends the process.
//! Before, all 20 sleeping handlers kept running and `/spin` took the server down.

use std::time::{Duration, Instant};

use crate::curl::curl;
use crate::{Server, fixtures};

/// `(ticks, closed)` from `/stats`.
fn stats(server: &Server) -> (u64, u64) {
    let reply = curl(&[&server.url("/stats")]);
    assert_eq!(reply.status, 200, "{}", reply.describe());
    let text = reply.text();
    let mut numbers = text.split(' ').map(|n| n.parse::<u64>().expect("a count"));
    (
        numbers.next().expect("ticks"),
        numbers.next().expect("closed"),
    )
}

#[test]
fn handlers_past_their_timeout_are_stopped() {
    let mut server = Server::start_script(&fixtures().join("timeouts.lua"), &[]);
    let url = server.url("/sleepy");
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let calls: Vec<_> = (0..20)
            .map(|_| scope.spawn(|| curl(&[&url]).status))
            .collect();
        calls
            .into_iter()
            .map(|c| c.join().expect("a curl thread"))
            .collect()
    });
    assert!(statuses.iter().all(|s| *s == 503), "{statuses:?}");
    // Every sleeping handler was closed: its <close> ran and it ticks no more.
    let (ticks, closed) = stats(&server);
    assert_eq!(closed, 20, "{}", server.describe());
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(stats(&server), (ticks, 20), "handlers still running");

    // A computing handler is interrupted: the server answers again right after its 503.
    let start = Instant::now();
    let spin = curl(&[&server.url("/spin")]);
    assert_eq!(spin.status, 503, "{}", spin.describe());
    let hello = curl(&["--max-time", "2", &server.url("/hello")]);
    assert_eq!((hello.status, hello.text().as_str()), (200, "hi"));
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "took {:?}",
        start.elapsed()
    );
    let stderr = server.stderr();
    assert_eq!(
        stderr.matches("handler timed out").count(),
        21,
        "{}",
        server.describe()
    );
    server.stop();
}
