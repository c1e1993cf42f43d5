//! `hello`: an example Assay plugin.
//!
//! - `hello.greet(name)` -> `"hello, <name>!"` (a sync function);
//! - `hello.after(seconds, value)` -> `value`, after waiting on the plugin's own runtime (async:
//!   the calling coroutine waits, the others run);
//! - `hello.counter(start)` -> an object with `:add(n)`, `:get()` and the field `.value`; its
//!   `Drop` is the drop hook, counted by `hello.dropped()`;
//! - `hello.each(list, fn)` -> the list of `fn(item)` results, each call made from a thread of
//!   the plugin's (a callback).

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use assay_sdk::{Args, Methods, Object, ObjectType, Plugin, Result, Value};

static DROPPED: AtomicI64 = AtomicI64::new(0);

struct Counter {
    value: AtomicI64,
}

impl ObjectType for Counter {
    const TYPE_NAME: &'static str = "hello.Counter";

    fn methods(m: &mut Methods<Self>) {
        m.method("add", |this, args| {
            let n = args.opt_int(1, "n")?.unwrap_or(1);
            Ok(this.value.fetch_add(n, Ordering::SeqCst) + n)
        });
        m.method("get", |this, _| Ok(this.value.load(Ordering::SeqCst)));
    }

    fn field(&self, name: &str) -> Option<Value> {
        (name == "value").then(|| Value::Int(self.value.load(Ordering::SeqCst)))
    }
}

impl Drop for Counter {
    fn drop(&mut self) {
        DROPPED.fetch_add(1, Ordering::SeqCst);
    }
}

fn greet(args: Args) -> Result<String> {
    Ok(format!("hello, {}!", args.str(1, "name")?))
}

fn register(plugin: &mut Plugin) {
    plugin
        .global("hello")
        .function("greet", greet)
        .async_function("after", |mut args: Args| {
            let seconds = args.float(1, "seconds");
            let value = args.take(2);
            async move {
                assay_sdk::tokio::time::sleep(Duration::from_secs_f64(seconds?)).await;
                Ok(value)
            }
        })
        .function("counter", |args: Args| {
            let start = args.opt_int(1, "start")?.unwrap_or(0);
            Ok(Object::new(Counter {
                value: AtomicI64::new(start),
            }))
        })
        .function("dropped", |_| Ok(DROPPED.load(Ordering::SeqCst)))
        .async_function("each", |mut args: Args| {
            let f = args.callback(2, "fn");
            let list = args.take(1);
            async move {
                let f = f?;
                let items = list.as_list().map(|l| l.to_vec()).unwrap_or_default();
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    let results = f.call(vec![item]).await?;
                    out.push(results.into_iter().next().unwrap_or_default());
                }
                Ok(Value::from(out))
            }
        });
}

assay_sdk::plugin!(register);
