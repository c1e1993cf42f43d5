//! Turning a plugin author's closures into [`Callable`]s that never unwind into the host.

use std::ffi::c_void;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use abi_stable::std_types::{RErr, ROk, RString, RVec};
use async_ffi::FutureExt as _;

use crate::abi::{CallFuture, CallResult, Callable};
use crate::args::Args;
use crate::error::{Error, Result, catching, panic_message};
use crate::value::Value;

/// What a plugin function may return: nothing, one value, or several ([`Multi`]).
pub trait IntoResults {
    fn into_results(self) -> RVec<Value>;
}

impl IntoResults for () {
    fn into_results(self) -> RVec<Value> {
        RVec::new()
    }
}

impl<T: Into<Value>> IntoResults for T {
    fn into_results(self) -> RVec<Value> {
        let mut v = RVec::with_capacity(1);
        v.push(self.into());
        v
    }
}

/// Several return values: `Ok(Multi(vec![a.into(), b.into()]))` is `return a, b` in Lua.
pub struct Multi(pub Vec<Value>);

impl IntoResults for Multi {
    fn into_results(self) -> RVec<Value> {
        RVec::from(self.0)
    }
}

fn to_call_result<R: IntoResults>(result: Result<R>) -> CallResult {
    match result {
        Ok(r) => ROk(r.into_results()),
        Err(e) => RErr(RString::from(e.into_message())),
    }
}

/// A closure over the raw object pointer (null for free functions) and the arguments.
type Erased = dyn Fn(*const c_void, Args) -> CallResult + Send + Sync;
type ErasedAsync = dyn Fn(*const c_void, Args) -> CallFuture + Send + Sync;

extern "C" fn call_sync(data: *const c_void, this: *const c_void, args: RVec<Value>) -> CallResult {
    // SAFETY: `data` was made from a leaked `Box<Box<Erased>>` by `sync_callable`.
    let f = unsafe { &*(data as *const Box<Erased>) };
    catching(|| f(this, Args::new(args)))
        .unwrap_or_else(|payload| RErr(RString::from(panic_message(&*payload))))
}

extern "C" fn call_async(
    data: *const c_void,
    this: *const c_void,
    args: RVec<Value>,
) -> CallFuture {
    // SAFETY: `data` was made from a leaked `Box<Box<ErasedAsync>>` by `async_callable`.
    let f = unsafe { &*(data as *const Box<ErasedAsync>) };
    catching(|| f(this, Args::new(args))).unwrap_or_else(|payload| {
        let message = RString::from(panic_message(&*payload));
        async move { RErr(message) }.into_ffi()
    })
}

/// A synchronous function: runs on the Lua thread, must not block for long.
pub(crate) fn sync_callable<F, R>(f: F) -> Callable
where
    F: Fn(*const c_void, Args) -> Result<R> + Send + Sync + 'static,
    R: IntoResults,
{
    let erased: Box<Erased> = Box::new(move |this, args| to_call_result(f(this, args)));
    Callable::Sync {
        data: Box::into_raw(Box::new(erased)) as *const c_void,
        call: call_sync,
    }
}

/// An async function. Like a JavaScript `async function`, its body runs on the calling (Lua)
/// thread up to its first `.await` that is not ready, inside the plugin's runtime context (so
/// it may spawn, start timers and register sockets): a call that completes at once costs no
/// thread hop and no wake-up. Otherwise the future moves to the plugin's runtime, which
/// completes it while the caller's coroutine waits.
pub(crate) fn async_callable<F, Fut, R>(f: F) -> Callable
where
    F: Fn(*const c_void, Args) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<R>> + Send + 'static,
    R: IntoResults + Send + 'static,
{
    let erased: Box<ErasedAsync> = Box::new(move |this, args| {
        let runtime = crate::runtime::runtime();
        let mut call = Caught(Box::pin(f(this, args)));
        let first = {
            let _context = runtime.enter();
            // A no-op waker: if the call is not ready, the runtime polls it again with its own.
            Pin::new(&mut call).poll(&mut Context::from_waker(Waker::noop()))
        };
        if let Poll::Ready(result) = first {
            return std::future::ready(result).into_ffi();
        }
        // The host drops its future when the caller goes away (a cancelled task, a run that
        // ended): the call must end with it, or a request would run on, its socket open.
        let handle = AbortOnDrop(runtime.spawn(call));
        async move {
            match handle.await {
                Ok(result) => result,
                Err(e) if e.is_panic() => RErr(RString::from(panic_message(&*e.into_panic()))),
                Err(_) => RErr(RString::from("the plugin's runtime cancelled the call")),
            }
        }
        .into_ffi()
    });
    Callable::Async {
        data: Box::into_raw(Box::new(erased)) as *const c_void,
        call: call_async,
    }
}

/// A spawned call, aborted when its waiter is dropped.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Future for AbortOnDrop<T> {
    type Output = std::result::Result<T, tokio::task::JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx)
    }
}

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A plugin's future, polled with panics caught: a panic completes it with an error.
struct Caught<R>(Pin<Box<dyn Future<Output = Result<R>> + Send>>);

impl<R: IntoResults> Future for Caught<R> {
    type Output = CallResult;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<CallResult> {
        match catching(|| self.0.as_mut().poll(cx)) {
            Ok(Poll::Ready(result)) => Poll::Ready(to_call_result(result)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => Poll::Ready(RErr(RString::from(panic_message(&*payload)))),
        }
    }
}

/// Runs `f`, turning a panic into an [`Error`] (for entry points that are not calls).
pub(crate) fn guarded<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    catching(f).unwrap_or_else(|payload| Err(Error::new(panic_message(&*payload))))
}
