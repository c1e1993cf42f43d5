//! Errors a plugin function returns. The host raises them in Lua as
//! `"<global>.<function>: <message>"`, with the caller's position in front.

use std::cell::{Cell, RefCell};
use std::fmt;

/// A failed call, with a message for the script's author.
///
/// Any `std::error::Error` converts into it, so `?` works on I/O, parse and library errors;
/// [`Error::new`] makes one from text.
pub struct Error {
    message: String,
}

impl Error {
    pub fn new(message: impl fmt::Display) -> Self {
        Self {
            message: message.to_string(),
        }
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn into_message(self) -> String {
        self.message
    }
}

impl<E: std::error::Error> From<E> for Error {
    fn from(e: E) -> Self {
        Error::new(e)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The result of a plugin function.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The text of a caught panic: its message and, when the hook saw it, where it happened.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let text = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".to_owned());
    match LAST_LOCATION.with(|l| l.borrow_mut().take()) {
        Some(at) => format!("plugin panicked at {at}: {text}"),
        None => format!("plugin panicked: {text}"),
    }
}

thread_local! {
    /// Whether this thread is inside an entry point that catches panics.
    static IN_CALL: Cell<bool> = const { Cell::new(false) };
    static LAST_LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Runs `f` with panics caught, marking the thread so the hook stays quiet: the panic becomes
/// the call's error, with its location, and is not also printed.
pub(crate) fn catching<T>(f: impl FnOnce() -> T) -> std::thread::Result<T> {
    let outer = IN_CALL.with(|c| c.replace(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    IN_CALL.with(|c| c.set(outer));
    result
}

/// Installs the plugin's panic hook (its own copy of std has its own hook). Panics inside
/// calls are caught and reported to Lua; any other panic (a thread the plugin started) is
/// printed as one line naming the plugin.
pub(crate) fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
        if IN_CALL.with(Cell::get) {
            LAST_LOCATION.with(|l| *l.borrow_mut() = at);
            return;
        }
        let text = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        eprintln!(
            "assay: plugin '{}' panicked at {}: {text}",
            crate::plugin::name(),
            at.unwrap_or_else(|| "?".into())
        );
    }));
}
