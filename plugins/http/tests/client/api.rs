//! The contract suite (tests/lua/http/client_api.lua) against both peers, and the argument
//! checks (client_args.lua).

use crate::{Peer, lua_file, succeeded};

fn api_against(script: &str) {
    let peer = Peer::start(script, &[]);
    let url = peer.url("http");
    let run = lua_file("client_api.lua", &[("ASSAY_TEST_PEER", &url)]);
    succeeded(&run);
    // The suite checks the bound (5 s); the time itself is worth seeing in the output.
    print!("{script}: {}", run.stdout);
}

#[test]
fn api_against_python_http_server() {
    api_against("http_peer.py");
}

#[test]
fn api_against_aiohttp() {
    api_against("aiohttp_peer.py");
}

#[test]
fn argument_errors() {
    succeeded(&lua_file("client_args.lua", &[]));
}
