//! One test per scenario of the peer: what the Lua script sees (it asserts it) and what the
//! peer saw of the close.

use serde_json::json;

use crate::peer::Peer;
use crate::{lua, succeeded};

/// Runs `lua/<name>` against a fresh peer; the peer, for its reports.
fn play(name: &str) -> Peer {
    let peer = Peer::start(None);
    let run = lua(name, &[&peer.url("ws")]);
    succeeded(&run);
    peer
}

#[test]
fn echo_kinds_timeout_ping_and_our_close() {
    let peer = play("echo.lua");
    let report = peer.report_of(1, "/echo");
    // Our close frame reached the peer as sent, and it answered: we closed first.
    assert_eq!(report["rcvd"], json!([1000, "done"]), "{report}");
    assert_eq!(report["rcvd_then_sent"], true, "{report}");
    assert_eq!(report["messages"], 4, "{report}");
    peer.assert_no_close_wait();
}

#[test]
fn server_close_code_and_reason() {
    let peer = play("server_close.lua");
    let report = peer.report_of(1, "/close");
    assert_eq!(report["sent"], json!([4000, "bye"]), "{report}");
    // We answered its close with its code (RFC 6455 5.5.1), so the peer closed first.
    assert_eq!(report["rcvd"], json!([4000, "bye"]), "{report}");
    assert_eq!(report["rcvd_then_sent"], false, "{report}");
    peer.assert_no_close_wait();
}

#[test]
fn subprotocols_negotiated_and_refused() {
    let peer = play("chat.lua");
    // The two accepted connections; the refused handshake makes no report.
    for report in peer.reports(2) {
        assert_eq!(report["path"], "/chat", "{report}");
        assert_eq!(report["rcvd"], json!([1000, ""]), "{report}");
    }
    peer.assert_no_close_wait();
}

#[test]
fn four_mib_messages_and_1009_over_max_message() {
    let peer = play("big.lua");
    let reports = peer.reports(2);
    assert_eq!(reports[0]["rcvd"], json!([1000, ""]), "{reports:?}");
    let refused = &reports[1];
    assert_eq!(
        refused["rcvd"],
        json!([1009, "message too big (max 1048576 bytes)"]),
        "{refused}"
    );
    peer.assert_no_close_wait();
}

#[test]
fn fragmented_messages_arrive_whole_and_close_ends_them() {
    let peer = play("fragments.lua");
    // `<close>` closed the conn with 1000 when the script's block ended.
    let report = peer.report_of(1, "/fragments");
    assert_eq!(report["rcvd"], json!([1000, ""]), "{report}");
    peer.assert_no_close_wait();
}

#[test]
fn pings_both_ways() {
    let peer = play("ping.lua");
    let report = peer.report_of(1, "/ping");
    assert_eq!(report["rcvd"], json!([1000, ""]), "{report}");
    peer.assert_no_close_wait();
}

#[test]
fn a_vanished_peer_is_1006() {
    let peer = play("vanish.lua");
    let report = peer.report_of(1, "/vanish");
    assert_eq!(report["rcvd"], json!(null), "{report}");
    peer.assert_no_close_wait();
}

#[test]
fn an_idle_peer_is_a_timeout_not_a_close() {
    let peer = play("idle.lua");
    let report = peer.report_of(1, "/idle");
    assert_eq!(report["rcvd"], json!([4001, "enough"]), "{report}");
    peer.assert_no_close_wait();
}

#[test]
fn headers_path_and_credentials_reach_the_server() {
    let peer = play("headers.lua");
    peer.reports(2);
    peer.assert_no_close_wait();
}

#[test]
fn a_peer_that_stops_reading_cannot_hold_the_conn() {
    let peer = play("deaf.lua");
    peer.assert_no_close_wait();
}

#[test]
fn unsolicited_pongs_answer_no_ping() {
    let peer = play("heartbeat.lua");
    let report = peer.report_of(1, "/heartbeat");
    assert_eq!(report["rcvd"], json!([1000, ""]), "{report}");
}
