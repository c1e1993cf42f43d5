//! `probe`: a plugin that exercises the host for its tests and benchmarks. Not shipped.
//!
//! - `probe.noop()`: nothing, for measuring call overhead;
//! - `probe.echo(...)`: its arguments back, for the Lua <-> Value bridge;
//! - `probe.fail(msg)`, `probe.panic(msg)`, `probe.async_panic(msg)`: the three ways to fail;
//! - `probe.sleep(seconds, value)`: waits on the plugin's runtime, returns `value`;
//! - `probe.ready(...)`: an async function that completes at once with its arguments, for
//!   measuring an awaited async call;
//! - `probe.tracked(name)`: an object whose drop hook counts; `probe.live()` says how many are
//!   alive;
//! - `probe.hammer(fn, n)`: calls `fn(i)` for i = 1..n from a thread of its own, one call after
//!   the other, and returns the results in order;
//! - `probe.call_later(fn, seconds)`: calls `fn()` from a plugin thread after a delay, without
//!   the script waiting for it.
//! - `probe.strings(count, size)`: a list of `count` strings of `size` bytes made by the plugin
//!   (values crossing into Lua must respect the memory limit);
//! - `probe.memory_limit()`, `probe.json_method()`: what the host's `assay.host.v2` services
//!   answer during the call (nil when they do not);
//! - `probe.twice()`: a function made by the plugin (`Callback::from_fn`): `n * 2`.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use assay_sdk::{Args, Error, Methods, Multi, Object, ObjectType, Plugin, Value};

static LIVE: AtomicI64 = AtomicI64::new(0);

struct Tracked {
    name: String,
}

impl ObjectType for Tracked {
    const TYPE_NAME: &'static str = "probe.Tracked";

    fn methods(m: &mut Methods<Self>) {
        m.method("name", |this, _| Ok(this.name.clone()));
        m.method("panic", |_, _| -> assay_sdk::Result<()> {
            panic!("method panicked")
        });
        m.async_method("later", |this, args| {
            let seconds = args.float(1, "seconds");
            async move {
                assay_sdk::tokio::time::sleep(Duration::from_secs_f64(seconds?)).await;
                Ok(this.name.clone())
            }
        });
    }

    fn field(&self, name: &str) -> Option<Value> {
        (name == "label").then(|| Value::from(format!("<{}>", self.name)))
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, Ordering::SeqCst);
    }
}

fn register(plugin: &mut Plugin) {
    plugin
        .global("probe")
        .function("noop", |_| Ok(()))
        .function("echo", |args: Args| Ok(Multi(args.into_vec())))
        .function("fail", |args: Args| -> assay_sdk::Result<()> {
            Err(Error::new(args.str(1, "message")?))
        })
        .function("panic", |args: Args| -> assay_sdk::Result<()> {
            panic!("{}", args.str(1, "message")?)
        })
        .async_function("async_panic", |args: Args| {
            let message = args.str(1, "message").map(str::to_owned);
            async move {
                let message = message?;
                if !message.is_empty() {
                    panic!("{message}");
                }
                Ok(())
            }
        })
        .async_function(
            "ready",
            |args: Args| async move { Ok(Multi(args.into_vec())) },
        )
        .async_function("sleep", |mut args: Args| {
            let seconds = args.float(1, "seconds");
            let value = args.take(2);
            async move {
                assay_sdk::tokio::time::sleep(Duration::from_secs_f64(seconds?)).await;
                Ok(value)
            }
        })
        .function("tracked", |args: Args| {
            LIVE.fetch_add(1, Ordering::SeqCst);
            Ok(Object::new(Tracked {
                name: args.str(1, "name")?.to_owned(),
            }))
        })
        .function("live", |_| Ok(LIVE.load(Ordering::SeqCst)))
        .async_function("hammer", |args: Args| {
            let f = args.callback(1, "fn");
            let n = args.int(2, "n");
            async move {
                let (f, n) = (f?, n?);
                let handle = assay_sdk::runtime().handle().clone();
                let worker = std::thread::spawn(move || {
                    (1..=n)
                        .map(|i| handle.block_on(f.call(vec![Value::Int(i)])))
                        .collect::<assay_sdk::Result<Vec<Vec<Value>>>>()
                });
                let results = assay_sdk::tokio::task::spawn_blocking(move || worker.join())
                    .await
                    .map_err(Error::new)?
                    .map_err(|_| Error::new("the calling thread panicked"))??;
                Ok(Value::from(
                    results
                        .into_iter()
                        .map(|r| r.into_iter().next().unwrap_or_default())
                        .collect::<Vec<Value>>(),
                ))
            }
        })
        .function("strings", |args: Args| {
            let count = usize::try_from(args.int(1, "count")?).map_err(Error::new)?;
            let size = usize::try_from(args.int(2, "size")?).map_err(Error::new)?;
            Ok(Value::from(
                (0..count)
                    .map(|i| Value::from(vec![b'a' + (i % 26) as u8; size]))
                    .collect::<Vec<Value>>(),
            ))
        })
        .function("twice", |_| {
            Ok(assay_sdk::Callback::from_fn(|args| {
                Ok(args.int(1, "n")? * 2)
            }))
        })
        .function("memory_limit", |_| Ok(assay_sdk::host::memory_limit()))
        .function("json_method", |_| Ok(assay_sdk::host::json_method()))
        .function("call_later", |args: Args| {
            let f = args.callback(1, "fn")?;
            let seconds = args.float(2, "seconds")?;
            assay_sdk::runtime().spawn(async move {
                assay_sdk::tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
                let _ = f.call(Vec::new()).await;
            });
            Ok(())
        });
}

assay_sdk::plugin!(register);
