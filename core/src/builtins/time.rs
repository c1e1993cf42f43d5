//! `time`: wall clock, monotonic clock, RFC 3339; and `sleep`, which yields the coroutine.
//!
//! `time()` is epoch seconds as a float (microsecond resolution). `time.iso(ts)` formats in UTC
//! with as many fractional digits as needed (none for whole seconds, at most six).
//! `time.parse(s)` accepts RFC 3339 (`2026-11-22T04:28:45Z`, `...+02:00`, fractions) and a bare
//! date (`2026-11-22`, midnight UTC).

use std::sync::OnceLock;
use std::time::Instant;

use mlua::{Lua, Table};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, UtcOffset, macros::format_description};

use super::args::Args;
use super::function::{BuiltinResult, Raise, async_function, function};

pub fn fill(lua: &Lua, t: &Table) -> mlua::Result<()> {
    t.raw_set("now", function(lua, "time.now", |_, _| Ok(now()))?)?;
    t.raw_set(
        "monotonic",
        function(lua, "time.monotonic", |_, _| Ok(monotonic()))?,
    )?;
    t.raw_set("iso", function(lua, "time.iso", iso)?)?;
    t.raw_set("parse", function(lua, "time.parse", parse)?)?;
    let mt = lua.create_table()?;
    mt.raw_set("__call", function(lua, "time", |_, _| Ok(now()))?)?;
    t.set_metatable(Some(mt))
}

/// `sleep(seconds)`: a global function of its own. Creating the first async function loads
/// mlua's async glue, so the real `sleep` is made on its first call, not at start-up.
pub fn install_sleep(lua: &Lua) -> mlua::Result<()> {
    let make = lua.create_function(|lua, ()| {
        crate::vm::ensure_open()?;
        async_function(lua, "sleep", sleep)
    })?;
    let on_first_call: mlua::Function = super::function::glue(lua, "on_first_call")?;
    let sleep: mlua::Function = on_first_call.call(make)?;
    lua.globals().raw_set("sleep", sleep)
}

fn now() -> f64 {
    let micros = OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000;
    micros as f64 / 1e6
}

fn monotonic() -> f64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_secs_f64()
}

fn iso(_: &Lua, args: Args) -> BuiltinResult<String> {
    let ts = args.opt_number(1, "ts")?.unwrap_or_else(now);
    let micros = (ts * 1e6).round();
    let moment = OffsetDateTime::from_unix_timestamp_nanos(micros as i128 * 1_000)
        .map_err(|_| args.invalid(1, "ts", format!("{ts} is outside the years 1..9999")))?;
    moment
        .format(&Rfc3339)
        .map_err(|_| args.invalid(1, "ts", format!("{ts} is outside the years 0..9999")))
}

fn parse(_: &Lua, args: Args) -> BuiltinResult<f64> {
    let text = args.string(1, "text")?;
    let trimmed = text.trim();
    let moment = OffsetDateTime::parse(trimmed, &Rfc3339).or_else(|_| {
        Date::parse(trimmed, format_description!("[year]-[month]-[day]"))
            .map(|d| d.midnight().assume_offset(UtcOffset::UTC))
    });
    match moment {
        Ok(m) => Ok(m.unix_timestamp_nanos() as f64 / 1e9),
        Err(_) => Err(Raise::Message(format!(
            "{text:?} is not an RFC 3339 timestamp (like 2026-11-22T04:28:45Z) or a date (2026-11-22)"
        ))),
    }
}

async fn sleep(_: Lua, args: Args) -> BuiltinResult<()> {
    let duration = args.seconds(1, "seconds")?;
    crate::vm::timers::sleep(duration).await;
    Ok(())
}

/// For `log` and others: the current UTC time as RFC 3339 with exactly three fractional digits.
pub fn timestamp_millis() -> String {
    let format =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    OffsetDateTime::now_utc()
        .format(&format)
        .unwrap_or_default()
}
