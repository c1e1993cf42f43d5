//! `time`: wall clock, monotonic clock, formatting and parsing in time zones; and `sleep`,
//! which yields the coroutine.
//!
//! - `time()` / `time.now()`: epoch seconds as a float (microsecond resolution).
//! - `time.format(ts, fmt, {tz})`: strftime (directives in [`strftime`]); `ts` nil is now.
//! - `time.iso(ts, {tz, precision})`: RFC 3339. `Z` in UTC, else the zone's offset
//!   (`+02:00`). Without `precision`, as many fractional digits as needed (none for whole
//!   seconds, at most six); with it, exactly that many (0-9), cut rather than rounded as
//!   Python's `isoformat(timespec=...)` does.
//! - `time.parse(s, {format, tz})` -> epoch seconds: with `format`, that strftime format;
//!   without, RFC 3339 (`2026-11-22T04:28:45Z`, `...+02:00`, fractions, `T` or a space), a
//!   local date-time without offset (`2026-11-22T04:28:45`, read on `tz`'s clock), a bare date
//!   (midnight on `tz`'s clock) and the three HTTP date forms of RFC 9110 (IMF-fixdate
//!   `Sun, 06 Nov 1994 08:49:37 GMT`, RFC 850 `Sunday, 06-Nov-94 08:49:37 GMT`, asctime
//!   `Sun Nov  6 08:49:37 1994`), and RFC 1123/2822 dates with a numeric offset. An offset in
//!   the text wins over `tz`.
//!
//! `tz` (default `"UTC"` everywhere, so a script's output does not depend on the machine):
//! see [`zone`], which also says how skipped and repeated local times are read. A float
//! timestamp holds microseconds: like Python's `datetime`, timestamps are rounded to the
//! microsecond first, so digits past the sixth are 0. Years 1-9999 only (as `datetime`).
//! Unknown option fields and extra arguments are errors.

mod strftime;
mod zone;

use std::sync::OnceLock;
use std::time::Instant;

use mlua::{Lua, Table};
use time::{OffsetDateTime, macros::format_description};

use super::args::{Args, Options};
use super::function::{BuiltinResult, Raise, async_function, function};
use strftime::Civil;
use zone::{Zone, offset_text};

pub fn fill(lua: &Lua, t: &Table) -> mlua::Result<()> {
    t.raw_set(
        "now",
        function(lua, "time.now", |_, args| {
            args.at_most(0)?;
            Ok(now())
        })?,
    )?;
    t.raw_set(
        "monotonic",
        function(lua, "time.monotonic", |_, args| {
            args.at_most(0)?;
            Ok(monotonic())
        })?,
    )?;
    t.raw_set("iso", function(lua, "time.iso", iso)?)?;
    t.raw_set("format", function(lua, "time.format", format)?)?;
    t.raw_set("parse", function(lua, "time.parse", parse)?)?;
    let mt = lua.create_table()?;
    // `time()` passes the table itself first.
    mt.raw_set(
        "__call",
        function(lua, "time", |_, args| {
            args.at_most(1)?;
            Ok(now())
        })?,
    )?;
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

/// The timestamp argument at `pos` (nil: now) as whole seconds and nanoseconds, rounded to
/// the microsecond.
fn timestamp(args: &Args, pos: usize) -> BuiltinResult<(i64, u32)> {
    let ts = args.opt_number(pos, "ts")?.unwrap_or_else(now);
    // Beyond ±3e11 s lies outside the years 1..9999 anyway; refuse before converting.
    if !ts.is_finite() || ts.abs() > 3e11 {
        let shown = super::inspect::format_float(ts);
        return Err(args.invalid(pos, "ts", format!("{shown} is outside the years 1..9999")));
    }
    // As Python's `datetime.fromtimestamp`: the fraction alone (exact) to microseconds, ties
    // to even; scaling the whole timestamp first would lose digits past 2^52 microseconds.
    let whole = ts.floor();
    let micros = ((ts - whole) * 1e6).round_ties_even() as u32;
    let (secs, micros) = if micros >= 1_000_000 {
        (whole as i64 + 1, micros - 1_000_000)
    } else {
        (whole as i64, micros)
    };
    Ok((secs, micros * 1000))
}

/// The zone of the `tz` field of `opts` (UTC when absent).
fn zone_option(lua: &Lua, opts: &Options) -> BuiltinResult<Zone> {
    match opts.string("tz")? {
        None => Ok(Zone::Utc),
        Some(name) => Zone::resolve(lua, &name).map_err(Raise::Message),
    }
}

fn civil(args: &Args, zone: &Zone, (secs, nanos): (i64, u32)) -> BuiltinResult<Civil> {
    Civil::new(secs, nanos, zone).map_err(|why| args.invalid(1, "ts", why))
}

fn iso(lua: &Lua, args: Args) -> BuiltinResult<String> {
    args.at_most(2)?;
    let ts = timestamp(&args, 1)?;
    let opts = args.options(2)?;
    opts.only(&["tz", "precision"])?;
    let precision = opts.integer_in("precision", 0..=9)?;
    let zone = zone_option(lua, &opts)?;
    let civil = civil(&args, &zone, ts)?;
    let mut out = strftime::format(&civil, "%Y-%m-%dT%H:%M:%S").map_err(Raise::Message)?;
    let digits = format!("{:09}", civil.nanos);
    let fraction = match precision {
        Some(n) => &digits[..n as usize],
        None => digits[..6].trim_end_matches('0'),
    };
    if !fraction.is_empty() {
        out.push('.');
        out.push_str(fraction);
    }
    match zone {
        Zone::Utc => out.push('Z'),
        _ => out.push_str(&offset_text(civil.offset.seconds, true)),
    }
    Ok(out)
}

fn format(lua: &Lua, args: Args) -> BuiltinResult<String> {
    args.at_most(3)?;
    let ts = timestamp(&args, 1)?;
    let fmt = args.string(2, "fmt")?;
    let opts = args.options(3)?;
    opts.only(&["tz"])?;
    let zone = zone_option(lua, &opts)?;
    let civil = civil(&args, &zone, ts)?;
    strftime::format(&civil, &fmt).map_err(|why| args.invalid(2, "fmt", why))
}

/// The formats `time.parse` tries without `{format}`, in order.
const KNOWN_FORMATS: &[&str] = &[
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%dT%H:%M:%S.%f%z",
    "%Y-%m-%d %H:%M:%S%z",
    "%Y-%m-%d %H:%M:%S.%f%z",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d",
    "%a, %d %b %Y %H:%M:%S %Z",
    "%a, %d %b %Y %H:%M:%S %z",
    "%d %b %Y %H:%M:%S %Z",
    "%d %b %Y %H:%M:%S %z",
    "%A, %d-%b-%y %H:%M:%S %Z",
    ASCTIME,
];

/// C's `asctime` form, one of HTTP's three: it has no zone and means UTC (RFC 9110 5.6.7).
const ASCTIME: &str = "%a %b %e %H:%M:%S %Y";

fn parse(lua: &Lua, args: Args) -> BuiltinResult<f64> {
    args.at_most(2)?;
    let text = args.string(1, "text")?;
    let shown = quoted_excerpt(&text);
    let opts = args.options(2)?;
    opts.only(&["format", "tz"])?;
    let zone = zone_option(lua, &opts)?;
    let (secs, nanos) = match opts.string("format")? {
        Some(format) => {
            let fields = strftime::parse(&text, &format).map_err(|why| {
                Raise::msg(format!("{shown} does not match format {format:?}: {why}"))
            })?;
            fields
                .instant(&zone)
                .map_err(|why| Raise::msg(format!("{shown}: {why}")))?
        }
        None => parse_known(&text, &zone)?,
    };
    Ok(secs as f64 + f64::from(nanos) / 1e9)
}

fn parse_known(text: &str, zone: &Zone) -> BuiltinResult<(i64, u32)> {
    let trimmed = text.trim();
    for format in KNOWN_FORMATS {
        if let Ok(fields) = strftime::parse(trimmed, format) {
            let zone = if *format == ASCTIME { &Zone::Utc } else { zone };
            return fields
                .instant(zone)
                .map_err(|why| Raise::msg(format!("{}: {why}", quoted_excerpt(text))));
        }
    }
    Err(Raise::Message(format!(
        "{} is not an RFC 3339 timestamp (like 2026-11-22T04:28:45Z), a local date-time \
         (2026-11-22T04:28:45), a date (2026-11-22) or an HTTP date (Sun, 06 Nov 1994 08:49:37 GMT); \
         pass {{format = ...}} for other forms",
        quoted_excerpt(text)
    )))
}

/// `text` quoted for an error message, its first 64 characters at most: a megabyte of input
/// must not become a megabyte of message.
fn quoted_excerpt(text: &str) -> String {
    const SHOWN: usize = 64;
    match text.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("{:?}... ({} bytes)", &text[..cut], text.len()),
        None => format!("{text:?}"),
    }
}

async fn sleep(_: Lua, args: Args) -> BuiltinResult<()> {
    args.at_most(1)?;
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
