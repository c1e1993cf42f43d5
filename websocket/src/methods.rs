//! The conn's methods as Lua calls them, and the checks of their arguments.

use std::time::Duration;

use assay_sdk::{Args, Methods, Multi, ObjectType, Result, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::{Conn, Side};

/// How long `conn:ping()` waits for its pong by default (Python websockets' `ping_timeout`).
const PING_TIMEOUT: Duration = Duration::from_secs(20);

/// A close frame's payload is at most 125 bytes, two of them the code.
const MAX_CLOSE_REASON: usize = 123;

impl<S: Side> ObjectType for Conn<S> {
    const TYPE_NAME: &'static str = S::TYPE_NAME;

    fn methods(m: &mut Methods<Self>) {
        m.async_method("send", |this, args| async move {
            args.at_most(1, 0)?;
            let text = args.str(1, "text")?.to_owned();
            this.send(Message::Text(text.into())).await
        });
        m.async_method("send_binary", |this, args| async move {
            args.at_most(1, 0)?;
            let bytes = args.bytes(1, "data")?.to_vec();
            this.send(Message::Binary(bytes.into())).await
        });
        m.async_method("recv", |this, args| async move {
            args.at_most(1, 0)?;
            let timeout = timeout_arg(&args, 1)?;
            Ok(Multi(this.recv(timeout).await))
        });
        m.async_method("ping", |this, args| async move {
            args.at_most(1, 0)?;
            let timeout = timeout_arg(&args, 1)?.unwrap_or(PING_TIMEOUT);
            Ok(Multi(this.ping(timeout).await))
        });
        m.async_method("close", |this, args| async move {
            args.at_most(2, 0)?;
            let code = close_code_arg(&args, 1)?;
            let reason = args.opt_str(2, "reason")?.unwrap_or("").to_owned();
            if reason.len() > MAX_CLOSE_REASON {
                return Err(args.invalid(
                    2,
                    "reason",
                    format!("longer than {MAX_CLOSE_REASON} bytes"),
                ));
            }
            this.close(code, reason).await;
            Ok(())
        });
    }

    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "protocol" => self.protocol().map(Value::from),
            _ => None,
        }
    }
}

fn timeout_arg(args: &Args, pos: usize) -> Result<Option<Duration>> {
    if args.get(pos).is_nil() {
        return Ok(None);
    }
    let seconds = args.float(pos, "timeout")?;
    // `math.huge`: wait as long as it takes.
    if seconds == f64::INFINITY {
        return Ok(None);
    }
    Duration::try_from_secs_f64(seconds)
        .map(Some)
        .map_err(|_| args.invalid(pos, "timeout", format!("{seconds} is not a duration")))
}

/// A close code an endpoint may send (RFC 6455 7.4: 1000-1003 and 1007-1014 defined, 3000-4999
/// for libraries and applications; 1004-1006 and 1015 must never be sent, the rest is
/// reserved), 1000 when absent. Python websockets allows the same.
fn close_code_arg(args: &Args, pos: usize) -> Result<u16> {
    let Some(n) = args.opt_int(pos, "code")? else {
        return Ok(1000);
    };
    u16::try_from(n)
        .ok()
        .filter(|&code| sendable(code))
        .ok_or_else(|| {
            args.invalid(
                pos,
                "code",
                format!(
                    "{n} is not a close code a script may send (1000-1003, 1007-1014, 3000-4999)"
                ),
            )
        })
}

fn sendable(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_rfc_6455_forbids_sending_are_refused() {
        for code in [1000, 1003, 1007, 1011, 1014, 3000, 4999] {
            assert!(sendable(code), "{code}");
        }
        for code in [999, 1004, 1005, 1006, 1015, 1016, 2999, 5000] {
            assert!(!sendable(code), "{code}");
        }
    }
}
