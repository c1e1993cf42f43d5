//! Declaring a plugin: [`Plugin`] collects its globals and functions; [`crate::plugin!`]
//! exports them as the library's root module.

use std::ffi::c_void;
use std::future::Future;
use std::sync::OnceLock;

use abi_stable::prefix_type::PrefixTypeTrait;
use abi_stable::std_types::{RErr, ROk, RResult, RStr, RString, RVec};

use crate::abi::{FunctionEntry, GlobalEntry, PluginModule, PluginModuleRef, Registration};
use crate::args::Args;
use crate::error::Result;
use crate::function::{IntoResults, async_callable, guarded, sync_callable};

/// The globals a plugin provides, filled by the function given to [`crate::plugin!`].
pub struct Plugin {
    globals: Vec<Global>,
}

/// One global table and its functions.
pub struct Global {
    name: String,
    functions: Vec<FunctionEntry>,
}

impl Plugin {
    /// Asks the host to run this plugin's I/O on the Lua thread while a script runs (see
    /// [`crate::reactor`]): for plugins whose calls are many and small (a server's requests,
    /// client round trips), so that each costs no thread hop. Futures then run on a
    /// current-thread runtime, so a plugin must not block in them. Hosts without the
    /// extension, and threads the host does not drive, keep the plugin's own runtime.
    pub fn io_on_lua_thread(&mut self) -> &mut Self {
        crate::reactor::WANTED.store(true, std::sync::atomic::Ordering::Release);
        self
    }

    /// The global table `name` (created on first mention).
    pub fn global(&mut self, name: &str) -> &mut Global {
        let index = match self.globals.iter().position(|g| g.name == name) {
            Some(i) => i,
            None => {
                self.globals.push(Global {
                    name: name.to_owned(),
                    functions: Vec::new(),
                });
                self.globals.len() - 1
            }
        };
        &mut self.globals[index]
    }
}

impl Global {
    /// A function run on the Lua thread. Keep it short: it blocks the script while it runs.
    pub fn function<F, R>(&mut self, name: &str, f: F) -> &mut Self
    where
        F: Fn(Args) -> Result<R> + Send + Sync + 'static,
        R: IntoResults,
    {
        self.functions.push(FunctionEntry {
            name: RString::from(name),
            callable: sync_callable(move |_: *const c_void, args| f(args)),
        });
        self
    }

    /// A function whose future runs on the plugin's runtime; the calling coroutine waits for
    /// it while other coroutines go on.
    pub fn async_function<F, Fut, R>(&mut self, name: &str, f: F) -> &mut Self
    where
        F: Fn(Args) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R>> + Send + 'static,
        R: IntoResults + Send + 'static,
    {
        self.functions.push(FunctionEntry {
            name: RString::from(name),
            callable: async_callable(move |_: *const c_void, args| f(args)),
        });
        self
    }
}

static NAME: OnceLock<&'static str> = OnceLock::new();

/// The plugin's name (from its manifest), once the host has loaded it.
pub fn name() -> &'static str {
    NAME.get().copied().unwrap_or("plugin")
}

#[doc(hidden)]
pub mod private {
    use super::*;

    pub use abi_stable::library::{CheckTypeLayout, LibHeader, RootModuleResult};

    /// Builds the root module; called by the loader the macro exports.
    pub fn root_module(
        name: &'static str,
        version: &'static str,
        register: extern "C" fn() -> RResult<Registration, RString>,
    ) -> PluginModuleRef {
        if NAME.set(name).is_ok() {
            crate::error::install_panic_hook();
        }
        PluginModule {
            abi_version: crate::ABI_VERSION,
            name: RStr::from_str(name),
            version: RStr::from_str(version),
            register,
            extension: crate::host::extension,
        }
        .leak_into_prefix()
    }

    /// Runs the author's registration function, catching its panics.
    pub fn register(f: fn(&mut Plugin)) -> RResult<Registration, RString> {
        let built = guarded(|| {
            let mut plugin = Plugin {
                globals: Vec::new(),
            };
            f(&mut plugin);
            Ok(plugin)
        });
        match built {
            Ok(plugin) => ROk(Registration {
                globals: plugin
                    .globals
                    .into_iter()
                    .map(|g| GlobalEntry {
                        name: RString::from(g.name),
                        functions: RVec::from(g.functions),
                    })
                    .collect(),
            }),
            Err(e) => RErr(RString::from(e.into_message())),
        }
    }

    /// The loader abi_stable looks for, as `#[export_root_module]` would generate it.
    pub fn load_root_module(f: fn() -> PluginModuleRef) -> RootModuleResult {
        abi_stable::library::__call_root_module_loader(f)
    }

    /// The header static's contents.
    pub const fn header(loader: extern "C" fn() -> RootModuleResult) -> LibHeader {
        // SAFETY: `loader` returns the root module of type `PluginModuleRef`, which is what the
        // layout constant describes; the host checks that layout against its own at load.
        unsafe { LibHeader::from_constructor::<PluginModuleRef>(loader, CheckTypeLayout::Yes) }
    }
}

/// Exports a plugin. Give it a function that fills a [`Plugin`]:
///
/// ```ignore
/// fn register(plugin: &mut assay_sdk::Plugin) {
///     plugin.global("hello").function("greet", |args| {
///         Ok(format!("hello, {}", args.str(1, "name")?))
///     });
/// }
/// assay_sdk::plugin!(register);
/// ```
///
/// The plugin's name and version come from its manifest, which the build script writes
/// (see the `build` module, feature `build`).
#[macro_export]
macro_rules! plugin {
    ($register:path) => {
        // A panic must unwind to the SDK's boundary to become a Lua error; with `abort` it
        // would kill the script's whole process.
        #[cfg(not(panic = "unwind"))]
        compile_error!("Assay plugins must be built with panic = \"unwind\" (the default)");
        const _: () = {
            extern "C" fn __assay_register() -> $crate::__private::RegistrationResult {
                $crate::__private::register($register)
            }
            fn __assay_root_module() -> $crate::__private::PluginModuleRef {
                $crate::__private::root_module(
                    env!("ASSAY_PLUGIN_NAME"),
                    env!("CARGO_PKG_VERSION"),
                    __assay_register,
                )
            }
            extern "C" fn __assay_load() -> $crate::__private::RootModuleResult {
                $crate::__private::load_root_module(__assay_root_module)
            }
            // The symbol name abi_stable's loader looks up (checked by an SDK test).
            #[unsafe(export_name = "_1as_0lib_1header_0root_bmodule_bloader")]
            pub static __ASSAY_LIB_HEADER: $crate::__private::LibHeader =
                $crate::__private::header(__assay_load);
        };
    };
}
