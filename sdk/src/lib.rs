//! The Assay plugin SDK: everything a native plugin needs, with the stable ABI hidden.
//!
//! A plugin is a Rust `cdylib` that the `assay` binary finds on its lib path and loads the first
//! time a script touches one of its globals. Values cross as [`Value`]s (no Lua state crosses),
//! async functions run on the plugin's own tokio [`runtime`], objects carry methods and a drop
//! hook, and Lua functions arrive as [`Callback`]s callable from any thread. Every entry point
//! catches panics: a panicking function is a Lua error, never a crash.
//!
//! A complete plugin (`src/lib.rs`; the `build` module, feature `build`, shows `Cargo.toml` and
//! `build.rs`):
//!
//! ```ignore
//! use std::time::Duration;
//! use assay_sdk::{Args, Methods, Object, ObjectType, Plugin, Result, Value};
//!
//! struct Greeter { greeting: String }
//!
//! impl ObjectType for Greeter {
//!     const TYPE_NAME: &'static str = "hello.Greeter";
//!     fn methods(m: &mut Methods<Self>) {
//!         m.method("greet", |this, args| Ok(format!("{}, {}!", this.greeting, args.str(1, "name")?)));
//!     }
//! }
//!
//! fn register(plugin: &mut Plugin) {
//!     plugin
//!         .global("hello")
//!         .function("add", |args: Args| Ok(args.int(1, "a")? + args.int(2, "b")?))
//!         .async_function("later", |args: Args| {
//!             let seconds = args.float(1, "seconds");
//!             async move {
//!                 tokio::time::sleep(Duration::from_secs_f64(seconds?)).await;
//!                 Ok("done")
//!             }
//!         })
//!         .function("greeter", |args: Args| {
//!             Ok(Object::new(Greeter { greeting: args.str(1, "greeting")?.to_owned() }))
//!         })
//!         .async_function("map", |mut args: Args| {
//!             let f = args.callback(2, "fn");
//!             let items = args.take(1);
//!             async move {
//!                 let f = f?;
//!                 let mut out = Vec::new();
//!                 for item in items.as_list().into_iter().flatten() {
//!                     out.extend(f.call(vec![item.clone()]).await?);
//!                 }
//!                 Ok(Value::from(out))
//!             }
//!         });
//! }
//!
//! assay_sdk::plugin!(register);
//! ```
//!
//! From Lua: `hello.add(1, 2)`, `hello.later(0.1)` (the coroutine waits, others run),
//! `hello.greeter("hi"):greet("you")`, `hello.map({1, 2}, function(x) return x * 2 end)`.
//!
//! # Compatibility
//!
//! The host refuses, with one line naming the plugin, a plugin whose manifest's
//! `requires.assay` does not match the core, whose [`ABI_VERSION`] differs, or whose ABI types'
//! layout differs from the host's (checked by abi_stable at load).

#[cfg(feature = "plugin")]
#[doc(hidden)]
pub mod abi;
#[cfg(feature = "plugin")]
mod args;
#[cfg(feature = "build")]
pub mod build;
#[cfg(feature = "plugin")]
mod callback;
#[cfg(feature = "plugin")]
mod error;
#[cfg(feature = "plugin")]
mod function;
#[cfg(feature = "plugin")]
pub mod host;
#[cfg(feature = "json")]
pub mod json;
#[cfg(feature = "plugin")]
mod keepalive;
#[cfg(feature = "plugin")]
mod object;
#[cfg(feature = "pem")]
pub mod pem;
#[cfg(feature = "plugin")]
mod plugin;
#[cfg(feature = "plugin")]
pub mod reactor;
#[cfg(feature = "plugin")]
mod runtime;
#[cfg(feature = "tls")]
pub mod tls;
#[cfg(feature = "plugin")]
mod value;

#[cfg(feature = "plugin")]
pub use args::{Args, Options};
/// Reading a file whose path came from a script, a manifest or the environment: regular files
/// only, never more than a cap (`files::read_regular(path, max)`); `/dev/zero`, a FIFO or a
/// 10 GB log given as a certificate path is a clear error, not a hang or an allocation.
#[cfg(feature = "plugin")]
pub use assay_files as files;
#[cfg(feature = "plugin")]
pub use callback::{Callback, CallbackImpl};
#[cfg(feature = "plugin")]
pub use error::{Error, Result};
#[cfg(feature = "plugin")]
pub use function::{IntoResults, Multi};
#[cfg(feature = "plugin")]
pub use keepalive::KeepAlive;
#[cfg(feature = "plugin")]
pub use object::{Methods, Object, ObjectType};
#[cfg(feature = "plugin")]
pub use plugin::{Global, Plugin, name};
#[cfg(feature = "plugin")]
pub use runtime::runtime;
/// The tokio the plugin's [`runtime`] runs, for `tokio::time`, `tokio::sync` and friends.
#[cfg(feature = "plugin")]
pub use tokio;
#[cfg(feature = "plugin")]
pub use value::{Bytes, List, Map, Value};

/// The version of the plugin ABI (the types in the hidden `abi` module). A host loads only
/// plugins built with the same number. It changes only if the frozen layout has to break.
pub const ABI_VERSION: u32 = 1;

#[cfg(feature = "plugin")]
#[doc(hidden)]
pub mod __private {
    pub use crate::abi::{PluginModuleRef, Registration};
    pub use crate::plugin::private::*;
    pub type RegistrationResult =
        abi_stable::std_types::RResult<Registration, abi_stable::std_types::RString>;
}

#[cfg(all(test, feature = "plugin"))]
mod tests {
    #[test]
    fn exported_symbol_is_the_one_abi_stable_looks_up() {
        let macro_text = include_str!("plugin.rs");
        let symbol = abi_stable::library::ROOT_MODULE_LOADER_NAME;
        assert!(
            macro_text.contains(&format!("export_name = \"{symbol}\"")),
            "the plugin! macro must export `{symbol}`"
        );
    }
}
