//! `opts.stream = true`: the call returns once the response headers have arrived, as an
//! `http.Response` object the script reads piece by piece while the server is still sending:
//! a Kubernetes watch (NDJSON), server-sent events, a long log.
//!
//! - `resp.status`, `resp.ok`, `resp.headers`, `resp.url` and `resp:header_values(name)` as
//!   for any response.
//! - `resp:read()`: the next piece of the body as it arrived (at most what one read of the
//!   connection gave, tens of KiB), or nil at the end.
//! - `resp:read_line()`: the next line without its "\n" (or "\r\n"), or nil at the end; a last
//!   line without a newline is returned too. Empty lines are returned (server-sent events
//!   separate events with them). `resp:lines()` is an iterator over them:
//!   `for line in resp:lines() do ... end`.
//! - `resp:json()`: the rest of the body (what `read`/`read_line` have not taken) read to its
//!   end and decoded as JSON, as a buffered response's `resp:json()` decodes `resp.body`;
//!   bounded as a buffered body is (`max_body`, default 64 MiB, and the script's memory limit).
//!   The stream is then at its end. For a long-lived stream (a watch), read lines instead.
//! - Each of them yields the calling coroutine while it waits: other coroutines run.
//! - `resp:close()` ends the response and closes the connection; so does `<close>`
//!   (`local resp <close> = http.get(url, {stream = true})`), and so does the garbage
//!   collector for a response nobody closed; `resp.closed` tells. Reading a closed response
//!   raises, and `close()` from another coroutine ends a read that is waiting.
//!
//! Bounds: a line is at most `max_body` bytes (default 64 MiB, and never more than the script's
//! memory limit), an error naming the limit past it; the stream as a whole is not bounded (a
//! watch may run for days). Time: `timeout` (the call's, else the client's, else 60 s) bounds
//! the wait for the headers and then each wait for more of the body, as Python requests'
//! read timeout does, not the whole stream; `timeout = false` waits as long as the server is
//! silent. The client's `connect_timeout` applies as usual.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use assay_sdk::{Args, Callback, Error, Map, Methods, Object, ObjectType, Result, Value};
use reqwest::Url;
use reqwest::header::HeaderMap;
use tokio::sync::{Mutex, Notify};

use super::decode::{Body, Plan};
use super::errors::{self, Context};
use super::options::BodyLimit;
use crate::budget::{Budget, Buffer, Charge};

/// Makes `resp:lines()`'s iterator on the Lua side: a closure over the response.
const LINES_GLUE: &str = "return function(resp) return function() return resp:read_line() end end";

/// What a stream needs to describe its failures as the call would have.
pub(crate) struct StreamContext {
    pub url: Url,
    /// The wait for each piece of the body.
    pub timeout: Option<Duration>,
    pub default_timeout: bool,
    pub connect_timeout: Option<Duration>,
    pub max_redirects: usize,
}

impl StreamContext {
    fn cx(&self) -> Context<'_> {
        Context {
            url: &self.url,
            timeout: self.timeout,
            default_timeout: self.default_timeout,
            connect_timeout: self.connect_timeout,
            max_redirects: self.max_redirects,
        }
    }

    /// The error for a wait that passed `timeout`: `what` we were waiting for.
    pub(crate) fn timed_out(&self, what: &str) -> Error {
        let limit = self.timeout.map(errors::seconds).unwrap_or_default();
        let hint = if self.default_timeout {
            "; that is the default limit: pass timeout = <seconds>, or timeout = false for none"
        } else {
            ""
        };
        Error::new(format!(
            "timed out after {limit} waiting for {what} ({}){hint}",
            self.url
        ))
    }
}

/// A response being read by the script. Lua sees it as `http.Response`.
pub struct ResponseStream {
    status: u16,
    headers: HeaderMap,
    url: String,
    context: StreamContext,
    line_limit: BodyLimit,
    budget: Budget,
    /// The host's JSON decoder (`resp:json()` of a buffered response), made on the Lua thread.
    json: Callback,
    state: Mutex<State>,
    /// Set by `close()`; a read in progress is woken through `closing` and gives up.
    closed: AtomicBool,
    closing: Notify,
}

struct State {
    response: Option<Body>,
    /// Bytes read but not yet returned (the start of the next line).
    pending: Vec<u8>,
    /// How much of `pending` is known to hold no newline.
    scanned: usize,
    /// `pending`'s bytes, charged to the bytes in flight.
    charge: Charge,
}

impl State {
    /// Takes the line that ends at `pending[end]` (a newline), without it and a "\r" before
    /// it; what follows stays pending, and the charge and the buffer shrink back to it.
    fn take_line(&mut self, end: usize) -> Vec<u8> {
        let mut line: Vec<u8> = self.pending.drain(..=end).collect();
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        self.scanned = 0;
        self.release_spare();
        line
    }

    /// Takes everything pending.
    fn take_all(&mut self) -> Vec<u8> {
        self.scanned = 0;
        let all = std::mem::take(&mut self.pending);
        self.release_spare();
        all
    }

    /// After a long line: gives the buffer's spare room back, and its charge with it.
    fn release_spare(&mut self) {
        const KEEP: usize = 64 * 1024;
        if self.pending.capacity() > KEEP && self.pending.len() < self.pending.capacity() / 4 {
            self.pending.shrink_to(self.pending.len().max(KEEP));
            self.charge.shrink_to(self.pending.capacity() as u64);
        }
    }
}

impl ResponseStream {
    pub(crate) fn open(
        response: reqwest::Response,
        plan: Option<Plan>,
        context: StreamContext,
        line_limit: BodyLimit,
        budget: Budget,
        json: Callback,
    ) -> Object {
        Object::new(ResponseStream {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            url: response.url().to_string(),
            context,
            line_limit,
            budget,
            json,
            state: Mutex::new(State {
                response: Some(Body::new(response, plan, budget)),
                pending: Vec::new(),
                scanned: 0,
                charge: Charge::new(budget),
            }),
            closed: AtomicBool::new(false),
            closing: Notify::new(),
        })
    }

    /// The next piece of the body, `None` at its end (the response is then released).
    async fn next_chunk(&self, state: &mut State) -> Result<Option<bytes::Bytes>> {
        // Made before the flag is read, so a close() between the two still wakes it.
        let closing = self.closing.notified();
        if self.closed.load(Ordering::Acquire) {
            state.response = None;
            return Err(self.closed_error());
        }
        let Some(response) = state.response.as_mut() else {
            return Ok(None);
        };
        let cx = self.context.cx();
        let chunk = async {
            match self.context.timeout {
                Some(limit) => tokio::time::timeout(limit, response.chunk(&cx))
                    .await
                    .map_err(|_| self.context.timed_out("more of the body"))?,
                None => response.chunk(&cx).await,
            }
        };
        let outcome = tokio::select! {
            got = chunk => Some(got),
            () = closing => None,
        };
        let Some(got) = outcome else {
            // Closed while waiting (from another coroutine): the connection goes now.
            state.response = None;
            return Err(self.closed_error());
        };
        let got = got?;
        if got.is_none() {
            state.response = None;
        }
        Ok(got)
    }

    fn closed_error(&self) -> Error {
        Error::new(format!("the response from {} is closed", self.url))
    }

    fn check_open(&self) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            Err(self.closed_error())
        } else {
            Ok(())
        }
    }

    async fn read(&self) -> Result<Value> {
        self.check_open()?;
        let mut state = self.state.lock().await;
        if !state.pending.is_empty() {
            return Ok(Value::from(state.take_all()));
        }
        Ok(match self.next_chunk(&mut state).await? {
            Some(chunk) => Value::from(&chunk[..]),
            None => Value::Nil,
        })
    }

    async fn read_line(&self) -> Result<Value> {
        self.check_open()?;
        let mut state = self.state.lock().await;
        loop {
            let from = state.scanned;
            if let Some(at) = state.pending[from..].iter().position(|&b| b == b'\n') {
                return Ok(Value::from(state.take_line(from + at)));
            }
            state.scanned = state.pending.len();
            let Some(chunk) = self.next_chunk(&mut state).await? else {
                if state.pending.is_empty() {
                    return Ok(Value::Nil);
                }
                return Ok(Value::from(state.take_all()));
            };
            let held = state.pending.len() as u64 + chunk.len() as u64;
            let newline = chunk.iter().position(|&b| b == b'\n');
            let line_len = newline.map_or(held, |at| state.pending.len() as u64 + at as u64);
            if line_len > self.line_limit.bytes {
                return Err(Error::new(format!(
                    "a line of the response from {} is larger than {}",
                    errors::authority(&self.context.url),
                    self.line_limit.describe()
                )));
            }
            let capacity_after = (state.pending.capacity() as u64).max(held);
            state.charge.grow_to(capacity_after).map_err(|e| {
                Error::new(format!(
                    "cannot buffer a line of the response from {}: {e}",
                    errors::authority(&self.context.url)
                ))
            })?;
            state.pending.extend_from_slice(&chunk);
        }
    }

    /// The rest of the body, read to its end (bounded as a buffered body), decoded as JSON.
    async fn json(&self) -> Result<Value> {
        self.check_open()?;
        let mut state = self.state.lock().await;
        let cx = self.context.cx();
        let refused = super::response::refusal(self.line_limit, &cx);
        let mut body = Buffer::new(self.line_limit.bytes, None, self.budget).map_err(&refused)?;
        let pending = state.take_all();
        body.push(&pending).map_err(&refused)?;
        drop(pending);
        while let Some(chunk) = self.next_chunk(&mut state).await? {
            body.push(&chunk).map_err(&refused)?;
        }
        drop(state);
        let (bytes, _charge) = body.finish();
        let mut table = Map::with_capacity(1);
        table.push("body".into(), Value::from(bytes));
        let decoded = self.json.call(vec![Value::Map(table)]).await?;
        Ok(decoded.into_iter().next().unwrap_or(Value::Nil))
    }

    fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.closing.notify_waiters();
        if let Ok(mut state) = self.state.try_lock() {
            state.response = None;
            state.pending = Vec::new();
        }
    }
}

impl ObjectType for ResponseStream {
    const TYPE_NAME: &'static str = "http.Response";

    fn methods(m: &mut Methods<Self>) {
        m.async_method("read", |this: Arc<Self>, args: Args| async move {
            args.at_most(0, 0)?;
            this.read().await
        });
        m.async_method("read_line", |this: Arc<Self>, args: Args| async move {
            args.at_most(0, 0)?;
            this.read_line().await
        });
        m.async_method("lines", |this: Arc<Self>, args: Args| {
            let extra = args.at_most(0, 0);
            let glue = assay_sdk::host::lua_function("http.lines", LINES_GLUE);
            async move {
                extra?;
                let glue = glue.ok_or_else(|| {
                    Error::new("resp:lines() needs a newer assay; call resp:read_line() instead")
                })??;
                let made = glue
                    .call(vec![Value::Object(Object::from_arc(this))])
                    .await?;
                made.into_iter()
                    .next()
                    .ok_or_else(|| Error::new("resp:lines(): the iterator was not made"))
            }
        });
        m.async_method("json", |this: Arc<Self>, args: Args| async move {
            args.at_most(0, 0)?;
            this.json().await
        });
        m.method("close", |this: &Self, args: Args| {
            args.at_most(0, 0)?;
            this.close();
            Ok(())
        });
        m.method("header_values", |this: &Self, args: Args| {
            args.at_most(1, 0)?;
            super::response::header_values(&this.headers, &args, 1)
        });
    }

    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "status" => Some(Value::Int(i64::from(self.status))),
            "ok" => Some(Value::Bool((200..300).contains(&self.status))),
            "headers" => Some(Value::Map(super::response::headers(&self.headers))),
            "url" => Some(Value::from(self.url.as_str())),
            "closed" => Some(Value::Bool(self.closed.load(Ordering::Acquire))),
            _ => None,
        }
    }

    fn describe(&self) -> String {
        format!("http.Response: {} {}", self.status, self.url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(pending: &[u8]) -> State {
        State {
            response: None,
            pending: pending.to_vec(),
            scanned: 0,
            charge: Charge::new(Budget::unlimited()),
        }
    }

    #[test]
    fn lines_lose_their_newline_and_a_carriage_return_before_it() {
        let mut s = state(b"a\r\nb\n\nc");
        assert_eq!(s.take_line(2), b"a");
        assert_eq!(s.take_line(1), b"b");
        assert_eq!(s.take_line(0), b"");
        assert_eq!(s.take_all(), b"c");
        assert!(s.pending.is_empty());
    }

    #[test]
    fn a_long_line_gives_its_room_back() {
        let mut long = vec![b'x'; 1 << 20];
        long.extend_from_slice(b"\nnext");
        let mut s = state(&long);
        assert_eq!(s.take_line(1 << 20).len(), 1 << 20);
        assert_eq!(s.pending, b"next");
        assert!(
            s.pending.capacity() <= 64 * 1024,
            "{}",
            s.pending.capacity()
        );
    }
}
