//! Time zones for `time.format`, `time.iso` and `time.parse`: `"UTC"`, `"local"`, a fixed
//! offset (`"+02:00"`, `"-0530"`, `"+02"`) or an IANA name (`"Europe/Berlin"`) read from the
//! system's tz database: `$TZDIR` when set, else `/usr/share/zoneinfo` (images built FROM
//! scratch or distroless need those files copied in; a missing zone is an error naming the
//! file looked for). `"local"` is what libc would use: `$TZ` (a zone name, `:name`, a file or
//! a POSIX TZ string), else `/etc/localtime`, else UTC. A zone is read once per VM, on its
//! first use (`env.set("TZ", ...)` later does not change what `"local"` means).
//!
//! Local times that a zone skips or repeats (DST changes) are read as Python's `zoneinfo`
//! reads them with `fold=0`: with the offset in force *before* the change. In a gap
//! (Berlin's 02:30 on the last Sunday of March) that is the winter offset, so 02:30 is read
//! as 01:30 UTC (= 03:30 summer time); in a repeated hour (02:30 on the last Sunday of
//! October) it is the first of the two, in summer time.

use std::collections::HashMap;
use std::path::PathBuf;
use std::rc::Rc;

use mlua::Lua;
use tz::TimeZone;

/// A resolved `tz` option.
#[derive(Clone)]
pub enum Zone {
    Utc,
    /// Seconds east of UTC.
    Fixed(i32),
    /// A zone from the database (or the local one), with the name it was asked by.
    Rules(Rc<TimeZone>),
}

/// The offset and abbreviation in force at one instant.
pub struct Offset {
    pub seconds: i32,
    pub abbreviation: String,
}

/// Zones read once per VM: `tz` is usually the same few names.
#[derive(Default)]
struct Cache(HashMap<String, Rc<TimeZone>>);

impl Zone {
    /// `name` as the `tz` option means it, or why it means nothing.
    pub fn resolve(lua: &Lua, name: &str) -> Result<Zone, String> {
        if name.eq_ignore_ascii_case("UTC") || name == "Z" {
            return Ok(Zone::Utc);
        }
        if let Some(seconds) = parse_offset(name) {
            return Ok(Zone::Fixed(seconds?));
        }
        if lua.app_data_ref::<Cache>().is_none() {
            lua.set_app_data(Cache::default());
        }
        if let Some(cache) = lua.app_data_ref::<Cache>()
            && let Some(tz) = cache.0.get(name)
        {
            return Ok(Zone::Rules(tz.clone()));
        }
        let tz = Rc::new(if name == "local" {
            local()?
        } else {
            from_database(name)?
        });
        if let Some(mut cache) = lua.app_data_mut::<Cache>() {
            cache.0.insert(name.to_owned(), tz.clone());
        }
        Ok(Zone::Rules(tz))
    }

    /// The offset in force at `unix` seconds.
    pub fn at(&self, unix: i64) -> Result<Offset, String> {
        match self {
            Zone::Utc => Ok(Offset {
                seconds: 0,
                abbreviation: "UTC".into(),
            }),
            Zone::Fixed(seconds) => Ok(Offset {
                seconds: *seconds,
                // What Python's `datetime.timezone(offset).tzname()` says.
                abbreviation: format!("UTC{}", offset_text(*seconds, true)),
            }),
            Zone::Rules(tz) => {
                let t = tz
                    .find_local_time_type(unix)
                    .map_err(|e| format!("no offset for {unix}: {e}"))?;
                Ok(Offset {
                    seconds: t.ut_offset(),
                    abbreviation: t.time_zone_designation().to_owned(),
                })
            }
        }
    }

    /// The instant a local wall-clock time (seconds since 1970-01-01T00:00 on that clock)
    /// means in this zone, by `fold=0` (see the module docs).
    pub fn to_utc(&self, local: i64) -> Result<i64, String> {
        const DAY: i64 = 86_400;
        let before = self.at(local - DAY)?.seconds;
        let after = self.at(local + DAY)?.seconds;
        let mut first: Option<i64> = None;
        for offset in [before, after] {
            let utc = local - i64::from(offset);
            if self.at(utc)?.seconds == offset {
                first = Some(first.map_or(utc, |f| f.min(utc)));
            }
        }
        // Neither offset gives this wall-clock time: it falls in a gap; read it with the
        // offset before the change.
        Ok(first.unwrap_or(local - i64::from(before)))
    }
}

/// `+hh:mm`, `-hhmm`, `+hh` (and seconds `+hh:mm:ss`): `None` when `text` is not shaped like
/// an offset at all, an error when it is one out of range.
pub fn parse_offset(text: &str) -> Option<Result<i32, String>> {
    let sign = match text.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits: String = text[1..].chars().filter(|c| *c != ':').collect();
    let colons = text[1..].matches(':').count();
    let shaped = digits.bytes().all(|b| b.is_ascii_digit())
        && matches!(digits.len(), 2 | 4 | 6)
        && (colons == 0 || colons == digits.len() / 2 - 1);
    if !shaped {
        return None;
    }
    let part = |i: usize| {
        digits
            .get(i..i + 2)
            .map_or(0, |p| p.parse::<i32>().unwrap_or(0))
    };
    let (h, m, s) = (part(0), part(2), part(4));
    if h > 23 || m > 59 || s > 59 {
        return Some(Err(format!(
            "offset {text:?} is out of range (-23:59..+23:59)"
        )));
    }
    Some(Ok(sign * (h * 3600 + m * 60 + s)))
}

/// `+02:00` (with `colon`) or `+0200`; seconds only when there are some.
pub fn offset_text(seconds: i32, colon: bool) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let abs = seconds.unsigned_abs();
    let (h, m, s) = (abs / 3600, abs / 60 % 60, abs % 60);
    let sep = if colon { ":" } else { "" };
    if s == 0 {
        format!("{sign}{h:02}{sep}{m:02}")
    } else {
        format!("{sign}{h:02}{sep}{m:02}{sep}{s:02}")
    }
}

fn zoneinfo_dir() -> PathBuf {
    std::env::var_os("TZDIR")
        .filter(|d| !d.is_empty())
        .map_or_else(|| PathBuf::from("/usr/share/zoneinfo"), PathBuf::from)
}

/// An IANA zone from the tz database.
fn from_database(name: &str) -> Result<TimeZone, String> {
    let valid = !name.is_empty()
        && !name.starts_with('/')
        && name
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'-' | b'+'));
    if !valid {
        return Err(format!(
            "unknown time zone {name:?} (use \"UTC\", \"local\", an offset like \"+02:00\" or an IANA name like \"Europe/Berlin\")"
        ));
    }
    let path = zoneinfo_dir().join(name);
    read_tzif(&path).map_err(|why| format!("unknown time zone {name:?}: {why}"))
}

fn read_tzif(path: &std::path::Path) -> Result<TimeZone, String> {
    let bytes = std::fs::read(path).map_err(|e| {
        let why = match e.kind() {
            std::io::ErrorKind::NotFound => "no such file".to_owned(),
            _ => e.to_string(),
        };
        format!(
            "cannot read {} ({why}; the system's tz database is needed: install tzdata, or set TZDIR)",
            path.display()
        )
    })?;
    TimeZone::from_tz_data(&bytes)
        .map_err(|e| format!("{} is not a TZif file: {e}", path.display()))
}

/// The zone libc would use for local time.
fn local() -> Result<TimeZone, String> {
    match std::env::var("TZ") {
        Ok(tz) if !tz.is_empty() => {
            let name = tz.strip_prefix(':').unwrap_or(&tz);
            if name.starts_with('/') {
                return read_tzif(std::path::Path::new(name))
                    .map_err(|why| format!("TZ={tz}: {why}"));
            }
            if let Ok(zone) = from_database(name) {
                return Ok(zone);
            }
            TimeZone::from_posix_tz(name)
                .map_err(|e| format!("TZ={tz} is neither a zone name nor a POSIX TZ string ({e})"))
        }
        _ => {
            let path = std::path::Path::new("/etc/localtime");
            if path.exists() {
                read_tzif(path)
            } else {
                // No /etc/localtime: libc's local time is UTC.
                TimeZone::from_posix_tz("UTC0").map_err(|e| e.to_string())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets() {
        assert_eq!(parse_offset("+02:00"), Some(Ok(7200)));
        assert_eq!(parse_offset("-0530"), Some(Ok(-19800)));
        assert_eq!(parse_offset("+02"), Some(Ok(7200)));
        assert!(matches!(parse_offset("+25:00"), Some(Err(_))));
        assert_eq!(parse_offset("Europe/Berlin"), None);
        assert_eq!(parse_offset("+2:00"), None);
        assert_eq!(offset_text(-19800, true), "-05:30");
        assert_eq!(offset_text(37800, false), "+1030");
    }
}
