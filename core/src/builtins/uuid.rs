//! `uuid`: RFC 9562 UUIDs as lower-case hyphenated strings.
//!
//! - `uuid.v4()`: 122 random bits from the operating system's CSPRNG.
//! - `uuid.v7()`: a 48-bit Unix timestamp in milliseconds, then (RFC 9562 section 6.2,
//!   method 1) a 12-bit counter in `rand_a`, then 62 random bits. The counter starts at a
//!   random value below 2048 each new millisecond and counts up within one, so UUIDs made by
//!   one process sort in the order they were made, even many in one millisecond; when the
//!   counter runs out, or the clock steps back, the timestamp is carried forward by one
//!   millisecond instead (the ids stay ordered; the timestamp runs ahead of the clock until it
//!   catches up). The state is per process, shared by every VM in it.

use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use mlua::{Lua, Table};

use super::args::Args;
use super::function::{BuiltinResult, Raise, function};

pub fn fill(lua: &Lua, t: &Table) -> mlua::Result<()> {
    t.raw_set("v4", function(lua, "uuid.v4", v4)?)?;
    t.raw_set("v7", function(lua, "uuid.v7", v7)?)?;
    Ok(())
}

fn random<const N: usize>() -> BuiltinResult<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::getrandom(&mut bytes)
        .map_err(|e| Raise::msg(format!("the system's random source failed: {e}")))?;
    Ok(bytes)
}

fn v4(_: &Lua, args: Args) -> BuiltinResult<String> {
    args.at_most(0)?;
    let mut bytes: [u8; 16] = random()?;
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    Ok(format_uuid(&bytes))
}

/// The last v7 timestamp and counter handed out in this process.
static V7_STATE: Mutex<(u64, u16)> = Mutex::new((0, 0));

const COUNTER_MAX: u16 = 0x0fff;

fn v7(_: &Lua, args: Args) -> BuiltinResult<String> {
    args.at_most(0)?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let random: [u8; 10] = random()?;
    let (millis, counter) = {
        let mut state = V7_STATE.lock().unwrap_or_else(|p| p.into_inner());
        *state = next_v7(
            *state,
            now,
            u16::from_be_bytes([random[0], random[1]]) & 0x07ff,
        );
        *state
    };
    let mut bytes = [0u8; 16];
    bytes[..6].copy_from_slice(&millis.to_be_bytes()[2..]);
    bytes[6] = 0x70 | (counter >> 8) as u8;
    bytes[7] = counter as u8;
    bytes[8..].copy_from_slice(&random[2..]);
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    Ok(format_uuid(&bytes))
}

/// The (timestamp, counter) after `last` at clock `now`: a new millisecond starts the counter
/// at `seed`; the same one (or an earlier one: the clock stepped back) counts up, and past
/// the counter's end moves the timestamp on.
fn next_v7(last: (u64, u16), now: u64, seed: u16) -> (u64, u16) {
    let (last_millis, last_counter) = last;
    if now > last_millis {
        (now, seed)
    } else if last_counter < COUNTER_MAX {
        (last_millis, last_counter + 1)
    } else {
        (last_millis + 1, seed)
    }
}

fn format_uuid(bytes: &[u8; 16]) -> String {
    let mut out = String::with_capacity(36);
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push_str(&format!("{b:02x}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v7_counts_within_a_millisecond_and_carries() {
        assert_eq!(next_v7((10, 5), 11, 7), (11, 7));
        assert_eq!(next_v7((10, 5), 10, 7), (10, 6));
        assert_eq!(next_v7((10, 5), 9, 7), (10, 6));
        assert_eq!(next_v7((10, COUNTER_MAX), 10, 7), (11, 7));
    }

    #[test]
    fn formats() {
        let bytes: [u8; 16] = core::array::from_fn(|i| i as u8);
        assert_eq!(format_uuid(&bytes), "00010203-0405-0607-0809-0a0b0c0d0e0f");
    }
}
