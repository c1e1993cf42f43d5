//! What `ws.connect` says when it cannot open a connection, and what it refuses to try.

use std::net::TcpListener;

use crate::peer::Peer;
use crate::{lua, succeeded};

#[test]
fn refused_rejected_timed_out_and_bad_arguments() {
    let peer = Peer::start(None);
    // A port nobody listens on: bind one, note it, let it go.
    let closed = TcpListener::bind("127.0.0.1:0").expect("bind");
    let closed_port = closed.local_addr().expect("addr").port().to_string();
    drop(closed);
    // A listener that accepts and never answers the upgrade.
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let silent_port = silent.local_addr().expect("addr").port().to_string();
    let run = lua("errors.lua", &[&peer.url("ws"), &closed_port, &silent_port]);
    succeeded(&run);
    drop(silent);
}
