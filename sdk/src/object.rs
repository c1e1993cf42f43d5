//! Objects: plugin values with methods and fields (`client:get(url)`, `conn.protocol`).
//!
//! The host wraps an [`Object`] in a userdata with `__index`, `__tostring`, `__gc` and
//! `__close`. The object is reference-counted across the boundary; when the last reference goes
//! (Lua collected it, `<close>` closed it, and the plugin holds no clone) the type's `Drop` runs:
//! that is the drop hook.

use std::any::TypeId;
use std::ffi::c_void;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};

use abi_stable::std_types::{RErr, ROk, RResult, RSlice, RStr, RString};

use crate::abi::{FunctionEntry, ObjectClass, RawObject};
use crate::args::Args;
use crate::error::{Result, catching, panic_message};
use crate::function::{IntoResults, async_callable, sync_callable};
use crate::value::Value;

/// A Rust type that Lua sees as an object.
///
/// ```
/// use assay_sdk::{Args, Methods, Object, ObjectType, Result, Value};
/// struct Counter(std::sync::atomic::AtomicI64);
/// impl ObjectType for Counter {
///     const TYPE_NAME: &'static str = "example.Counter";
///     fn methods(m: &mut Methods<Self>) {
///         m.method("add", |this, args| {
///             let n = args.int(1, "n")?;
///             Ok(this.0.fetch_add(n, std::sync::atomic::Ordering::SeqCst) + n)
///         });
///     }
/// }
/// let counter = Object::new(Counter(0.into()));
/// assert_eq!(counter.type_name(), "example.Counter");
/// ```
pub trait ObjectType: Send + Sync + Sized + 'static {
    /// Shown by `tostring(obj)` and in error messages, e.g. `"http.Client"`.
    const TYPE_NAME: &'static str;

    /// Declares the methods, once per type.
    fn methods(methods: &mut Methods<Self>);

    /// A field read from Lua (`obj.name`) that is not a method; `None` reads as `nil`.
    fn field(&self, _name: &str) -> Option<Value> {
        None
    }

    /// What `tostring(obj)` shows.
    fn describe(&self) -> String {
        format!("{}: {:p}", Self::TYPE_NAME, self as *const Self)
    }
}

/// The method table of an [`ObjectType`], filled by [`ObjectType::methods`].
pub struct Methods<T> {
    entries: Vec<FunctionEntry>,
    _type: std::marker::PhantomData<fn(T)>,
}

impl<T: ObjectType> Methods<T> {
    /// A method run on the Lua thread: `obj:name(args...)`.
    pub fn method<F, R>(&mut self, name: &str, f: F) -> &mut Self
    where
        F: Fn(&T, Args) -> Result<R> + Send + Sync + 'static,
        R: IntoResults,
    {
        let callable = sync_callable(move |this, args| {
            // SAFETY: the host passes the `this` of an object whose class is `T`'s.
            let this = unsafe { &*(this as *const T) };
            f(this, args)
        });
        self.entries.push(FunctionEntry {
            name: RString::from(name),
            callable,
        });
        self
    }

    /// A method whose future runs on the plugin's runtime while the calling coroutine waits.
    /// It gets its own reference to the object, so the future may outlive the call site.
    pub fn async_method<F, Fut, R>(&mut self, name: &str, f: F) -> &mut Self
    where
        F: Fn(Arc<T>, Args) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R>> + Send + 'static,
        R: IntoResults + Send + 'static,
    {
        let callable = async_callable(move |this, args| {
            // SAFETY: as above; the count is raised first, so the new Arc owns a reference.
            let this = unsafe {
                Arc::increment_strong_count(this as *const T);
                Arc::from_raw(this as *const T)
            };
            f(this, args)
        });
        self.entries.push(FunctionEntry {
            name: RString::from(name),
            callable,
        });
        self
    }
}

extern "C" fn field<T: ObjectType>(this: *const c_void, name: RStr<'_>) -> RResult<Value, RString> {
    // SAFETY: `this` is an `Arc<T>` pointer of this class.
    let this = unsafe { &*(this as *const T) };
    match catching(|| this.field(name.as_str())) {
        Ok(v) => ROk(v.unwrap_or(Value::Nil)),
        Err(payload) => RErr(RString::from(panic_message(&*payload))),
    }
}

extern "C" fn describe<T: ObjectType>(this: *const c_void) -> RString {
    // SAFETY: as above.
    let this = unsafe { &*(this as *const T) };
    catching(|| this.describe())
        .unwrap_or_else(|_| T::TYPE_NAME.to_owned())
        .into()
}

extern "C" fn retain<T: ObjectType>(this: *const c_void) {
    // SAFETY: `this` came from `Arc::into_raw` and is still owned by the caller.
    unsafe { Arc::increment_strong_count(this as *const T) };
}

extern "C" fn release<T: ObjectType>(this: *const c_void) {
    // A panicking drop hook must not unwind into the host; it is reported and swallowed.
    let dropped = catching(|| {
        // SAFETY: the caller gives up one reference it owned.
        drop(unsafe { Arc::from_raw(this as *const T) });
    });
    if let Err(payload) = dropped {
        eprintln!(
            "assay: {} drop hook: {}",
            T::TYPE_NAME,
            panic_message(&*payload)
        );
    }
}

/// Classes built so far in this plugin, one per Rust type, leaked like the plugin itself.
static CLASSES: Mutex<Vec<(TypeId, &'static ObjectClass)>> = Mutex::new(Vec::new());

fn class_of<T: ObjectType>() -> &'static ObjectClass {
    let mut classes = CLASSES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((_, class)) = classes.iter().find(|(id, _)| *id == TypeId::of::<T>()) {
        return class;
    }
    let mut methods = Methods::<T> {
        entries: Vec::new(),
        _type: std::marker::PhantomData,
    };
    T::methods(&mut methods);
    let methods: &'static [FunctionEntry] = Box::leak(methods.entries.into_boxed_slice());
    let class: &'static ObjectClass = Box::leak(Box::new(ObjectClass {
        type_name: RStr::from_str(T::TYPE_NAME),
        methods: RSlice::from_slice(methods),
        field: field::<T>,
        describe: describe::<T>,
        retain: retain::<T>,
        release: release::<T>,
    }));
    classes.push((TypeId::of::<T>(), class));
    class
}

/// A handle on a plugin object; cloning adds a reference, dropping removes one.
#[repr(transparent)]
#[derive(abi_stable::StableAbi)]
pub struct Object(RawObject);

// SAFETY: objects are made only from `ObjectType`s, which are `Send + Sync`; the class is
// immutable after it is built.
unsafe impl Send for Object {}
unsafe impl Sync for Object {}

impl Object {
    /// Wraps `value` for Lua.
    pub fn new<T: ObjectType>(value: T) -> Object {
        Self::from_arc(Arc::new(value))
    }

    /// Wraps a value the plugin keeps a reference to as well.
    pub fn from_arc<T: ObjectType>(value: Arc<T>) -> Object {
        Object(RawObject {
            this: Arc::into_raw(value) as *const c_void,
            class: class_of::<T>(),
        })
    }

    /// The object as `T`, when it is one of this plugin's `T`s.
    pub fn downcast_ref<T: ObjectType>(&self) -> Option<&T> {
        if std::ptr::eq(self.0.class, class_of::<T>()) {
            // SAFETY: the class is `T`'s, so `this` is an `Arc<T>` pointer.
            Some(unsafe { &*(self.0.this as *const T) })
        } else {
            None
        }
    }

    pub fn type_name(&self) -> &'static str {
        self.0.class.type_name.as_str()
    }

    /// Whether both handles point at the same object.
    pub fn same(&self, other: &Object) -> bool {
        std::ptr::eq(self.0.this, other.0.this)
    }

    #[doc(hidden)]
    pub fn raw(&self) -> &RawObject {
        &self.0
    }
}

impl Clone for Object {
    fn clone(&self) -> Self {
        (self.0.class.retain)(self.0.this);
        Object(RawObject {
            this: self.0.this,
            class: self.0.class,
        })
    }
}

impl Drop for Object {
    fn drop(&mut self) {
        (self.0.class.release)(self.0.this);
    }
}

impl fmt::Debug for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str((self.0.class.describe)(self.0.this).as_str())
    }
}
