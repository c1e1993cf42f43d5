//! A Lua function's error that comes back through a plugin unchanged is raised again as the
//! value it was. A plugin sees a callback's error as text (what crosses the ABI); when it
//! passes that text on as its own error, as `conn:transaction(fn)` does after rolling back, the
//! script gets back exactly what `fn` raised (`error({code = 409})` stays a table, a message
//! keeps no plugin prefix nor traceback), as with `pcall` around any Lua call. The last few
//! failures are remembered with their text; a plugin error is matched against them by text.

use std::cell::RefCell;
use std::collections::VecDeque;

use mlua::{Lua, Value};

/// How many recent callback failures are remembered per VM.
const REMEMBERED: usize = 8;

#[derive(Default)]
struct Recent(RefCell<VecDeque<(String, Value)>>);

/// Remembers that a callback failed with `value`, reported to its plugin as `text`.
pub fn remember(lua: &Lua, text: &str, value: Value) {
    if lua.app_data_ref::<Recent>().is_none() {
        lua.set_app_data(Recent::default());
    }
    if let Some(recent) = lua.app_data_ref::<Recent>() {
        let mut recent = recent.0.borrow_mut();
        if recent.len() == REMEMBERED {
            recent.pop_front();
        }
        recent.push_back((text.to_owned(), value));
    }
}

/// The value a callback raised, if a plugin's error `text` is that callback's failure.
pub fn take(lua: &Lua, text: &str) -> Option<Value> {
    let recent = lua.app_data_ref::<Recent>()?;
    let mut recent = recent.0.borrow_mut();
    let at = recent.iter().rposition(|(t, _)| t == text)?;
    recent.remove(at).map(|(_, value)| value)
}
