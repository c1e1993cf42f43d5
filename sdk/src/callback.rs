//! Callbacks: a Lua function handed to a plugin.
//!
//! A [`Callback`] is `Send + Sync` and cheap to clone. Calling it from any thread queues the
//! call onto the Lua thread, where the function runs as a coroutine (it may sleep or wait on
//! I/O without blocking other calls); the returned future completes with its results, or with
//! its error (message and traceback). A plugin that returns that error unchanged as its own
//! (`Err(e)` as it came) has the host raise what the function raised, as it was: the value,
//! without the plugin's name or the traceback, as Lua's `table.sort` passes a comparator's
//! error on. Callbacks do not keep a script running: the run ends when
//! the script and its tasks are done (a plugin that will call back later holds a
//! [`crate::KeepAlive`]). A call that arrives between runs waits for the VM's next
//! run (the REPL's next line, an embedder's next `run_*`), and fails once the VM is dropped.

use std::ffi::c_void;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use abi_stable::std_types::{RErr, ROk, RString, RVec};
use async_ffi::FutureExt as _;

use crate::abi::{CallFuture, CallResult, CallbackVTable, RawCallback};
use crate::args::Args;
use crate::error::{Error, Result, catching, panic_message};
use crate::function::IntoResults;
use crate::value::Value;

/// A Lua function a plugin can call.
#[repr(transparent)]
#[derive(abi_stable::StableAbi)]
pub struct Callback(RawCallback);

// SAFETY: the vtable contract requires implementations to be `Send + Sync` (see
// `CallbackImpl`).
unsafe impl Send for Callback {}
unsafe impl Sync for Callback {}

impl Callback {
    /// Calls the function with `args`; completes with its return values.
    pub fn call(
        &self,
        args: Vec<Value>,
    ) -> impl Future<Output = Result<Vec<Value>>> + Send + 'static {
        let future = (self.0.vtable.call)(self.0.data, RVec::from(args));
        async move {
            future
                .await
                .into_result()
                .map(RVec::into_vec)
                .map_err(Error::new)
        }
    }

    /// The host's identity of the function: equal ids, same Lua function.
    pub fn id(&self) -> u64 {
        (self.0.vtable.id)(self.0.data)
    }

    /// A function implemented by the plugin itself, handed to Lua as a value: `resp.json`, so
    /// that `resp:json()` works on a plain table. It runs on the Lua thread when called, like a
    /// sync plugin function (keep it short); panics become Lua errors. Make it once and clone
    /// it into every value that needs it: the host caches the Lua function per callback.
    ///
    /// ```
    /// use assay_sdk::{Callback, Value};
    /// let twice = Callback::from_fn(|args| Ok(args.int(1, "n")? * 2));
    /// # let _ = twice;
    /// ```
    pub fn from_fn<F, R>(f: F) -> Callback
    where
        F: Fn(Args) -> Result<R> + Send + Sync + 'static,
        R: IntoResults,
    {
        Callback::from_impl(Arc::new(NativeFn(Box::new(move |args| {
            match catching(|| f(Args::new(args))) {
                Ok(Ok(results)) => ROk(results.into_results()),
                Ok(Err(e)) => RErr(RString::from(e.into_message())),
                Err(payload) => RErr(RString::from(panic_message(&*payload))),
            }
        }))))
    }

    /// The raw handle, for the host (its data pointer identifies the function).
    #[doc(hidden)]
    pub fn raw(&self) -> &RawCallback {
        &self.0
    }

    /// Makes a callback from its implementation (the host's side of Lua functions).
    #[doc(hidden)]
    pub fn from_impl<T: CallbackImpl>(imp: Arc<T>) -> Callback {
        Callback(RawCallback {
            data: Arc::into_raw(imp) as *const c_void,
            vtable: VTable::<T>::VTABLE,
        })
    }

    /// The implementation behind a callback made by [`Callback::from_impl`] with the same `T`
    /// in this same binary.
    #[doc(hidden)]
    pub fn downcast_ref<T: CallbackImpl>(&self) -> Option<&T> {
        if std::ptr::eq(self.0.vtable, VTable::<T>::VTABLE) {
            // SAFETY: the vtable is `T`'s, so `data` is an `Arc<T>` pointer.
            Some(unsafe { &*(self.0.data as *const T) })
        } else {
            None
        }
    }
}

/// A plugin-made function behind [`Callback::from_fn`].
struct NativeFn(Box<dyn Fn(RVec<Value>) -> CallResult + Send + Sync>);

impl CallbackImpl for NativeFn {
    fn call(&self, args: RVec<Value>) -> CallFuture {
        let result = (self.0)(args);
        async move { result }.into_ffi()
    }

    fn id(&self) -> u64 {
        self as *const Self as u64
    }
}

/// The host's side of a callback.
#[doc(hidden)]
pub trait CallbackImpl: Send + Sync + 'static {
    fn call(&self, args: RVec<Value>) -> CallFuture;
    fn id(&self) -> u64;
}

struct VTable<T>(std::marker::PhantomData<T>);

impl<T: CallbackImpl> VTable<T> {
    const VTABLE: &'static CallbackVTable = &CallbackVTable {
        call: call::<T>,
        id: id::<T>,
        retain: retain::<T>,
        release: release::<T>,
    };
}

extern "C" fn call<T: CallbackImpl>(data: *const c_void, args: RVec<Value>) -> CallFuture {
    // SAFETY: `data` is an `Arc<T>` pointer owned by a live `Callback`.
    unsafe { &*(data as *const T) }.call(args)
}

extern "C" fn id<T: CallbackImpl>(data: *const c_void) -> u64 {
    // SAFETY: as above.
    unsafe { &*(data as *const T) }.id()
}

extern "C" fn retain<T: CallbackImpl>(data: *const c_void) {
    // SAFETY: as above; a clone adds a reference.
    unsafe { Arc::increment_strong_count(data as *const T) };
}

extern "C" fn release<T: CallbackImpl>(data: *const c_void) {
    // SAFETY: the dropped `Callback` gives up the reference it owned.
    drop(unsafe { Arc::from_raw(data as *const T) });
}

impl Clone for Callback {
    fn clone(&self) -> Self {
        (self.0.vtable.retain)(self.0.data);
        Callback(RawCallback {
            data: self.0.data,
            vtable: self.0.vtable,
        })
    }
}

impl Drop for Callback {
    fn drop(&mut self) {
        (self.0.vtable.release)(self.0.data);
    }
}

impl fmt::Debug for Callback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "function #{}", self.id())
    }
}
