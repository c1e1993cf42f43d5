//! The VM's memory limit: sizes as users write them (`64M`, `512K`, `1G`, `64MiB`,
//! `1048576`; `0` = no limit), and the checks that keep memory Rust allocates for the script
//! (encoder output, a replaced string, a plugin's result) inside that limit.
//!
//! Lua's allocator enforces the limit only for what Lua allocates. Anything a builtin builds
//! in Rust first (a `json.encode` buffer, a `regex.replace` result) is checked with
//! [`ensure_room`] as it grows, so it fails with the same "not enough memory" before it can
//! take gigabytes outside the limit.

use mlua::Lua;

/// The limit the VM was built with (0: none), kept as app data where builtins can read it.
#[derive(Debug, Clone, Copy)]
pub struct Limit(pub usize);

/// Bytes the VM may still allocate; `None` when it has no limit.
pub fn available(lua: &Lua) -> Option<usize> {
    let limit = lua.app_data_ref::<Limit>().map_or(0, |l| l.0);
    (limit > 0).then(|| limit.saturating_sub(lua.used_memory()))
}

/// The VM's limit, `None` when it has none.
pub fn limit(lua: &Lua) -> Option<usize> {
    lua.app_data_ref::<Limit>().map(|l| l.0).filter(|l| *l > 0)
}

/// A memory error unless `bytes` more fit in the VM's limit: called before (or while) Rust
/// builds something of that size for the script. Garbage is collected first when they do not
/// fit, as Lua's own allocator does before it raises.
pub fn ensure_room(lua: &Lua, bytes: usize) -> mlua::Result<()> {
    let fits = |lua: &Lua| available(lua).is_none_or(|room| bytes <= room);
    if fits(lua) || (reclaim(lua) && fits(lua)) {
        Ok(())
    } else {
        Err(out_of_memory())
    }
}

/// Collects all garbage when the VM has a limit, as Lua's allocator does before it raises
/// "not enough memory"; whether that freed anything. A builtin whose output outgrew the room
/// it measured calls this and tries once more, so garbage never makes it fail.
pub fn reclaim(lua: &Lua) -> bool {
    if limit(lua).is_none() {
        return false;
    }
    let before = lua.used_memory();
    // A failing collection (a finalizer that raised) still freed what it could.
    let _ = lua.gc_collect();
    lua.used_memory() < before
}

/// Runs `attempt`; when it ran out of the VM's memory (`out_of_memory` says so) and
/// collecting garbage freed some, runs it once more. For builtins that measure the room once
/// and build their output outside Lua (encoders): garbage must not make them fail.
pub fn with_reclaim<T, E>(
    lua: &Lua,
    out_of_memory: impl Fn(&E) -> bool,
    mut attempt: impl FnMut() -> Result<T, E>,
) -> Result<T, E> {
    match attempt() {
        Err(e) if out_of_memory(&e) && reclaim(lua) => attempt(),
        done => done,
    }
}

/// The room a builtin measures once and checks as its output grows: on the first miss, the
/// garbage is collected and the room measured again.
#[derive(Debug)]
pub struct Room {
    bytes: Option<usize>,
    reclaimed: bool,
}

impl Room {
    pub fn measure(lua: &Lua) -> Self {
        Self {
            bytes: available(lua),
            reclaimed: false,
        }
    }

    /// Whether `needed` bytes fit, collecting garbage once if that is what it takes.
    pub fn fits(&mut self, lua: &Lua, needed: usize) -> bool {
        let fits = |bytes: Option<usize>| bytes.is_none_or(|room| needed <= room);
        if fits(self.bytes) {
            return true;
        }
        if !self.reclaimed {
            self.reclaimed = true;
            if reclaim(lua) {
                self.bytes = available(lua);
            }
        }
        fits(self.bytes)
    }
}

/// Whether `e` is the VM running out of memory.
pub fn is_out_of_memory(e: &mlua::Error) -> bool {
    matches!(e, mlua::Error::MemoryError(_))
}

/// The error Lua's own allocator raises at the limit.
pub fn out_of_memory() -> mlua::Error {
    mlua::Error::MemoryError("not enough memory".into())
}

/// Bytes in a size, or a message naming what is wrong with it.
pub fn parse_size(text: &str) -> Result<usize, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a size (like 64M, 512K, 1G)"))?;
    let multiplier: f64 = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1.0,
        "K" | "KB" | "KIB" => 1024.0,
        "M" | "MB" | "MIB" => 1024.0 * 1024.0,
        "G" | "GB" | "GIB" => 1024.0 * 1024.0 * 1024.0,
        other => return Err(format!("'{text}': unknown unit '{other}' (use K, M or G)")),
    };
    let bytes = number * multiplier;
    if !bytes.is_finite() || bytes > usize::MAX as f64 {
        return Err(format!("'{text}' is too large"));
    }
    Ok(bytes as usize)
}

/// The smallest memory limit a VM starts with (its own state and the builtins' tables take
/// about 40 KiB).
pub const MIN_LIMIT: usize = 64 << 10;

/// A `--memory-limit`: a size of at least [`MIN_LIMIT`], or 0 for none.
pub fn parse_limit(text: &str) -> Result<usize, String> {
    match parse_size(text)? {
        n if n > 0 && n < MIN_LIMIT => Err(format!(
            "'{text}' is less than a VM needs to start (at least {}; 0 for no limit)",
            format_size(MIN_LIMIT)
        )),
        n => Ok(n),
    }
}

/// `67108864` -> `64 MiB`, for messages.
pub fn format_size(bytes: usize) -> String {
    assay_files::describe_size(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("512k"), Ok(512 << 10));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("1.5M"), Ok(3 << 19));
        assert_eq!(parse_size("1048576"), Ok(1 << 20));
        assert_eq!(parse_size("0"), Ok(0));
        assert_eq!(parse_limit("0"), Ok(0));
        assert_eq!(parse_limit("64K"), Ok(64 << 10));
        assert!(parse_limit("1").is_err_and(|e| e.contains("less than a VM needs")));
    }

    #[test]
    fn errors_name_the_input() {
        assert!(
            parse_size("lots")
                .expect_err("not a size")
                .contains("'lots'")
        );
        assert!(
            parse_size("5X")
                .expect_err("unknown unit")
                .contains("unknown unit 'X'")
        );
    }

    #[test]
    fn formats() {
        assert_eq!(format_size(64 << 20), "64 MiB");
        assert_eq!(format_size(2048), "2 KiB");
        assert_eq!(format_size(1000), "1000 bytes");
    }
}
