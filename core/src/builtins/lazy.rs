//! Lazy globals: start-up installs each builtin module as an empty table whose functions are
//! created the first time the script touches it (index, call, assignment or `pairs`), so
//! `print("hi")` pays for no builtin it does not use. `rawget` on an untouched module sees
//! nothing; everything else behaves as if the module had always been there.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::c_void;
use std::rc::Rc;

use mlua::{Lua, Table};

/// Fills a module's table (and may give it a metatable of its own).
pub type Fill = fn(&Lua, &Table) -> mlua::Result<()>;

/// A fill that carries data (a plugin's global); its error is raised at the first use.
pub type FillWith = Rc<dyn Fn(&Lua, &Table) -> mlua::Result<()>>;

struct Lazy {
    pending: RefCell<HashMap<*const c_void, FillWith>>,
    stub: Table,
}

/// Prepares the shared stub metatable (from the glue chunk); call once per VM before
/// [`global`].
pub fn install(lua: &Lua) -> mlua::Result<()> {
    let stub: Table = super::function::glue(lua, "stub")?;
    lua.set_app_data(Lazy {
        pending: RefCell::new(HashMap::new()),
        stub,
    });
    Ok(())
}

/// Installs global `name`, to be filled by `fill` on first use.
pub fn global(lua: &Lua, name: &str, fill: Fill) -> mlua::Result<()> {
    global_with(lua, name, Rc::new(fill))
}

/// Like [`global`], with a fill that carries data.
pub fn global_with(lua: &Lua, name: &str, fill: FillWith) -> mlua::Result<()> {
    let table = table(lua, fill)?;
    lua.globals().raw_set(name, table)
}

/// A module table, to be filled by `fill` on first use, that is not a global (`assert`'s
/// checks, reached as `assert.eq`).
pub fn table(lua: &Lua, fill: FillWith) -> mlua::Result<Table> {
    let table = lua.create_table()?;
    let lazy = lua
        .app_data_ref::<Lazy>()
        .ok_or_else(|| mlua::Error::runtime("assay: lazy globals used before install"))?;
    table.set_metatable(Some(lazy.stub.clone()))?;
    lazy.pending.borrow_mut().insert(table.to_pointer(), fill);
    Ok(table)
}

/// Fills `table` now if it is a lazy module not yet used. If memory runs out half-way, the
/// table stays lazy (a later use tries again) and the memory error is raised.
pub fn materialize(lua: &Lua, table: &Table) -> mlua::Result<()> {
    let (fill, stub) = match lua.app_data_ref::<Lazy>() {
        Some(lazy) => match lazy.pending.borrow().get(&table.to_pointer()) {
            Some(fill) => (fill.clone(), lazy.stub.clone()),
            None => return Ok(()),
        },
        None => return Ok(()),
    };
    table.set_metatable(None)?;
    let filled = fill(lua, table).or_else(|e| match e {
        // The script may sit right at its limit with garbage Lua has not collected yet.
        mlua::Error::MemoryError(_) => lua.gc_collect().and_then(|()| fill(lua, table)),
        e => Err(e),
    });
    match filled {
        Ok(()) => {
            if let Some(lazy) = lua.app_data_ref::<Lazy>() {
                lazy.pending.borrow_mut().remove(&table.to_pointer());
            }
            Ok(())
        }
        Err(e) => {
            table.set_metatable(Some(stub))?;
            Err(e)
        }
    }
}
