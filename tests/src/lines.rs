//! A child process's output, line by line, as it comes: for tests that talk to a peer or a
//! server while it runs.

use std::io::{BufRead as _, Read};
use std::sync::mpsc::Receiver;

/// The lines of `output` (a child's stdout), read on a thread of their own so the child never
/// blocks on a full pipe; the channel closes when the output ends.
pub fn lines(output: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(output).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    lines
}
