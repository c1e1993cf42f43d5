//! The `http` plugin: an HTTP client and an HTTP/WebSocket server for Assay scripts, and the
//! `oci` global, a client for OCI registries (see [`oci`]).
//!
//! ```lua
//! local resp = http.get("https://example.com/api", {headers = {accept = "application/json"}})
//! print(resp.status, resp:json().name)
//! local api = http.client{base_url = "https://vault:8200", ca_cert = "/etc/ca.pem", timeout = 5}
//! api:post("/v1/secret/data/x", {data = {password = pw}})
//!
//! http.serve(8080, {
//!   GET = { ["/users/:id"] = function(req) return {status = 200, json = {id = req.params.id}} end },
//! })
//! ```
//!
//! The client is reqwest over rustls (ring provider, system roots plus `ca_cert`); the server is
//! axum on the Lua thread's reactor (see `assay_sdk::reactor`), with route handlers running as
//! coroutines on that thread.

mod budget;
pub mod client;
mod headers;
pub mod json;
pub mod oci;
pub mod server;

/// Registers the `http` global: the client functions and the server.
pub fn register(plugin: &mut assay_sdk::Plugin) {
    // A server's requests and a client's round trips are many and small: run them on the
    // Lua thread, without a hop per call (see `assay_sdk::reactor`).
    plugin.io_on_lua_thread();
    let http = plugin.global("http");
    client::register(http);
    server::register(http);
    oci::register(plugin.global("oci"));
}

assay_sdk::plugin!(register);

/// mimalloc for this library's own allocations: request values are made on the server's
/// thread and freed on the Lua thread; glibc's arenas serialize such frees behind a lock,
/// mimalloc takes them without one (measured: about 1.5 µs less CPU per request). Only this
/// plugin uses it: in the core binary it cost 40% more start-up time and 4 MiB of RSS.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
