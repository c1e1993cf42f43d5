//! Key order for decoded objects.
//!
//! A Lua table forgets the order its keys were set in, and `yaml.encode` would otherwise sort
//! them: a manifest's `apiVersion` and `kind` would move below `metadata`, a config file's
//! sections would be reshuffled. So YAML and TOML decoding records, for every object, the list
//! of its keys in document order, in a registry with weak keys ([`super::Markers::order`]):
//! the record lives exactly as long as the table, costs nothing to tables built in Lua, and is
//! invisible to scripts (`pairs`, `next` and `#` see a plain table).
//!
//! Encoding with `keep_order` emits the recorded keys still present, in their order, then the
//! keys added since (sorted, for the formats that sort). Keys removed since are skipped; a key
//! removed and set again keeps its old place.

use mlua::{Lua, Table};

use super::Markers;

/// Records `keys` (in document order) as the order of the decoded object `table`.
pub fn record(
    lua: &Lua,
    markers: &Markers,
    table: &Table,
    keys: &[mlua::LuaString],
) -> mlua::Result<()> {
    let list = lua.create_table_with_capacity(keys.len(), 0)?;
    for (i, key) in keys.iter().enumerate() {
        list.raw_seti(i + 1, key)?;
    }
    markers.order.raw_set(table, list)
}
