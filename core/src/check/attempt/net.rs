//! `tcp` and `dns` attempts. Name lookups go through the system resolver (`getaddrinfo`,
//! as every other program on the machine), on a thread of their own so that the attempt's
//! time limit holds even when the resolver does not answer.

use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::Context;
use crate::check::kinds::{Dns, Tcp};

/// The addresses of `host` (with `port`), within `limit`.
fn resolve(host: &str, port: u16, limit: Duration) -> Result<Vec<SocketAddr>, String> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let (tx, rx) = mpsc::channel();
    let name = host.to_owned();
    std::thread::Builder::new()
        .name("assay-resolve".into())
        .spawn(move || {
            let _ = tx.send(
                (name.as_str(), port)
                    .to_socket_addrs()
                    .map(Iterator::collect),
            );
        })
        .map_err(|e| format!("cannot start a lookup: {e}"))?;
    match rx.recv_timeout(limit) {
        Ok(Ok(addresses)) => Ok(addresses),
        Ok(Err(e)) => Err(format!("cannot resolve {host}: {e}")),
        Err(_) => Err(format!(
            "resolving {host} took longer than {}",
            crate::check::duration::show(limit)
        )),
    }
}

pub fn tcp(
    check: &Tcp,
    context: &Context,
    limit: Duration,
) -> Result<Vec<(String, String)>, String> {
    let host = context.render(&check.host)?;
    let port_text = context.render(&check.port)?;
    let port: u16 = port_text
        .trim()
        .parse()
        .map_err(|_| format!("port '{port_text}' is not a port number"))?;
    let started = Instant::now();
    let addresses = resolve(&host, port, limit)?;
    let mut last = format!("{host} has no address");
    for address in addresses {
        let left = limit.saturating_sub(started.elapsed());
        if left.is_zero() {
            return Err(format!(
                "cannot connect to {host}:{port} within {}",
                crate::check::duration::show(limit)
            ));
        }
        match TcpStream::connect_timeout(&address, left) {
            Ok(_) => return Ok(Vec::new()),
            Err(e) => last = format!("cannot connect to {host}:{port} ({address}): {e}"),
        }
    }
    Err(last)
}

pub fn dns(
    check: &Dns,
    context: &Context,
    limit: Duration,
) -> Result<Vec<(String, String)>, String> {
    let name = context.render(&check.name)?;
    let found: Vec<IpAddr> = resolve(&name, 0, limit)?
        .into_iter()
        .map(|a| a.ip())
        .collect();
    if found.is_empty() {
        return Err(format!("{name} has no address"));
    }
    for wanted in &check.addresses {
        let text = context.render(wanted)?;
        let ip: IpAddr = text
            .parse()
            .map_err(|_| format!("'{text}' is not an IP address"))?;
        if !found.contains(&ip) {
            let shown: Vec<String> = found.iter().map(ToString::to_string).collect();
            return Err(format!("{name} resolves to {}, not {ip}", shown.join(", ")));
        }
    }
    Ok(Vec::new())
}
