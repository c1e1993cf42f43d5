//! `ws.connect(url, opts)`: DNS, TCP, TLS and the HTTP upgrade, all within `timeout`.

use std::sync::Arc;

use assay_sdk::{Args, Object, Result};
use assay_websocket::Io;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_tungstenite::tungstenite::handshake::client::Request;
use tokio_tungstenite::tungstenite::http::header::SEC_WEBSOCKET_PROTOCOL;

use crate::Conn;
use crate::errors;
use crate::options::ConnectOptions;
use crate::request::{self, Target};

pub async fn connect(args: Args) -> Result<Object> {
    args.at_most(2, 0)?;
    let url = args.str(1, "url")?.to_owned();
    let opts = ConnectOptions::parse(&args, 2)?;
    let (target, request) = request::build(&url, &opts)?;
    // A bad `ca_cert` or SSL_CERT_FILE is the script's mistake: said before connecting.
    let tls = match target.tls {
        true => Some(connector(&opts)?),
        false => None,
    };
    let opening = open(&url, &target, request, tls, &opts);
    let conn = match opts.timeout {
        None => opening.await?,
        Some(limit) => tokio::time::timeout(limit, opening)
            .await
            .map_err(|_| errors::timed_out(&url, limit))??,
    };
    Ok(Object::new(conn))
}

fn connector(opts: &ConnectOptions) -> Result<TlsConnector> {
    assay_sdk::tls::install_ring();
    let config = assay_sdk::tls::client_config(opts.roots.clone(), opts.insecure)
        .map_err(|e| assay_sdk::Error::new(e.to_string()))?;
    Ok(TlsConnector::from(Arc::new(config)))
}

async fn open(
    url: &str,
    target: &Target,
    request: Request,
    tls: Option<TlsConnector>,
    opts: &ConnectOptions,
) -> Result<Conn> {
    let tcp = tcp(target).await?;
    let io: Box<dyn Io> = match tls {
        None => Box::new(tcp),
        Some(connector) => {
            let name = ServerName::try_from(target.host.clone()).map_err(|_| {
                assay_sdk::Error::new(format!("'{}' is not a TLS server name", target.host))
            })?;
            let stream = connector
                .connect(name, tcp)
                .await
                .map_err(|e| errors::tls_failed(target, &e))?;
            Box::new(stream)
        }
    };
    let config = assay_websocket::config(opts.max_message);
    let (socket, response) = tokio_tungstenite::client_async_with_config(request, io, Some(config))
        .await
        .map_err(|e| errors::handshake_failed(url, target, &opts.subprotocols, e))?;
    let protocol = response
        .headers()
        .get(SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    Ok(Conn::from_socket(socket, protocol, opts.max_message))
}

/// A TCP connection to the first of the host's addresses that answers, without Nagle's delay
/// (a message is written whole, and waiting for an ACK would add 40 ms to small round trips).
async fn tcp(target: &Target) -> Result<TcpStream> {
    let addresses = tokio::net::lookup_host((target.host.as_str(), target.port))
        .await
        .map_err(|e| errors::unresolved(target, &e))?;
    let mut last = None;
    for address in addresses {
        match TcpStream::connect(address).await {
            Ok(stream) => {
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Err(e) => last = Some(e),
        }
    }
    let e = last.unwrap_or_else(|| std::io::Error::other("the host has no address"));
    Err(errors::unconnected(target, &e))
}
