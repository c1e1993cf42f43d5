//! Errors a plugin function returns. The host raises them in Lua as
//! `"<global>.<function>: <message>"`, with the caller's position in front.

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

/// The text of a caught panic's payload.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let text = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".to_owned());
    format!("plugin panicked: {text}")
}
