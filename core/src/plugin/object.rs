//! Plugin objects as userdata: `__index` finds methods (made once per class and VM, kept as
//! the userdata's user value so the lookup is a table read, not a Rust call) and then
//! fields, `__tostring` describes, `__close` releases the object at once (`local c <close> =
//! db.connect(...)`), and `__gc` releases it when Lua collects it. The plugin's drop hook runs
//! when its last reference goes.

use std::cell::{Ref, RefCell};

use assay_sdk::Object;
use assay_sdk::abi::ObjectClass;
use mlua::{AnyUserData, Lua, MetaMethod, Table, UserData, UserDataFields, UserDataMethods, ffi};

use super::call::{Receiver, lua_function};

use crate::vm::id_map::IdMap;

pub struct PluginObject {
    object: RefCell<Option<Object>>,
    /// Kept after a close, so methods still resolve and say the object is closed.
    class: &'static ObjectClass,
}

impl PluginObject {
    /// The object, unless it was closed.
    pub fn get(&self) -> Result<Ref<'_, Object>, String> {
        Ref::filter_map(self.object.borrow(), Option::as_ref)
            .map_err(|_| format!("the {} is closed", self.class.type_name))
    }

    pub fn class(&self) -> &'static ObjectClass {
        self.class
    }
}

/// Userdata by object, weakly held: an object that comes back from a plugin is the same Lua
/// value it was (`probe.echo(obj) == obj`).
struct Identities(Table);

pub fn wrap(lua: &Lua, obj: Object) -> mlua::Result<AnyUserData> {
    if lua.app_data_ref::<Identities>().is_none() {
        let table = lua.create_table()?;
        let mode = lua.create_table()?;
        mode.raw_set("__mode", "v")?;
        table.set_metatable(Some(mode))?;
        lua.set_app_data(Identities(table));
    }
    let identities = lua
        .app_data_ref::<Identities>()
        .map(|i| i.0.clone())
        .ok_or_else(|| mlua::Error::runtime("assay: object identities missing"))?;
    let key = mlua::LightUserData(obj.raw().this.cast_mut());
    if let Some(existing) = identities.raw_get::<Option<AnyUserData>>(key)?
        && existing
            .borrow::<PluginObject>()
            .is_ok_and(|known| known.get().is_ok_and(|o| o.same(&obj)))
    {
        return Ok(existing);
    }
    let class = obj.raw().class;
    let ud = lua.create_userdata(PluginObject {
        object: RefCell::new(Some(obj)),
        class,
    })?;
    ud.set_user_value(methods(lua, class)?)?;
    identities.raw_set(key, &ud)?;
    Ok(ud)
}

/// Method tables by class, per VM.
#[derive(Default)]
struct Classes(RefCell<IdMap<usize, Table>>);

fn methods(lua: &Lua, class: &'static ObjectClass) -> mlua::Result<Table> {
    let key = class as *const ObjectClass as usize;
    if lua.app_data_ref::<Classes>().is_none() {
        lua.set_app_data(Classes::default());
    }
    if let Some(classes) = lua.app_data_ref::<Classes>()
        && let Some(t) = classes.0.borrow().get(&key)
    {
        return Ok(t.clone());
    }
    let table = lua.create_table()?;
    for entry in class.methods.as_slice() {
        let name = super::intern(&format!("{}:{}", class.type_name, entry.name));
        table.raw_set(
            entry.name.as_str(),
            lua_function(lua, name, entry.callable, Receiver::Object(class))?,
        )?;
    }
    if let Some(classes) = lua.app_data_ref::<Classes>() {
        classes.0.borrow_mut().insert(key, table.clone());
    }
    Ok(table)
}

/// `method_of(ud, key)`: the method `key` of a plugin object, read from the method table
/// `wrap` keeps as its user value (mlua keeps user values in a table, at 1); nothing when
/// there is none. A C function: the common case of `__index` never enters Rust.
unsafe extern "C-unwind" fn method_of(state: *mut ffi::lua_State) -> std::ffi::c_int {
    // SAFETY: called by Lua with its arguments at 1 and 2 and LUA_MINSTACK free slots; each
    // step checks the type it reads.
    unsafe {
        if ffi::lua_type(state, 1) != ffi::LUA_TUSERDATA
            || ffi::lua_getiuservalue(state, 1, 1) != ffi::LUA_TTABLE
            || ffi::lua_rawgeti(state, -1, 1) != ffi::LUA_TTABLE
        {
            return 0;
        }
        ffi::lua_pushvalue(state, 2);
        ffi::lua_rawget(state, -2);
        1
    }
}

/// `__index` when `method_of` found nothing: a method (of an object made without its user
/// value), else a field the plugin gives.
fn index(lua: &Lua, (ud, key): (AnyUserData, mlua::Value)) -> mlua::Result<mlua::Value> {
    crate::vm::ensure_open()?;
    let this = ud.borrow::<PluginObject>()?;
    let class = this.class();
    let found: mlua::Value = methods(lua, class)?.raw_get(&key)?;
    if !found.is_nil() {
        return Ok(found);
    }
    let mlua::Value::String(name) = &key else {
        return Ok(mlua::Value::Nil);
    };
    let obj = this.get().map_err(mlua::Error::runtime)?;
    let name = name.to_string_lossy();
    match (class.field)(obj.raw().this, name.as_str().into()).into_result() {
        Ok(value) => super::bridge::to_lua(lua, value),
        Err(e) => Err(mlua::Error::runtime(format!(
            "{}.{name}: {e}",
            class.type_name
        ))),
    }
}

impl UserData for PluginObject {
    fn add_fields<F: UserDataFields<Self>>(f: &mut F) {
        f.add_meta_field_with(MetaMethod::Index, |lua| {
            // SAFETY: `method_of` follows the Lua C API protocol.
            let method_of = unsafe { lua.create_c_function(method_of)? };
            let make: mlua::Function = crate::builtins::function::glue(lua, "object_index")?;
            make.call::<mlua::Function>((method_of, lua.create_function(index)?))
        });
    }

    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        m.add_meta_method(MetaMethod::ToString, |_, this, ()| {
            crate::vm::ensure_open()?;
            Ok(match this.get() {
                Ok(obj) => format!("{obj:?}"),
                Err(_) => format!("{} (closed)", this.class.type_name),
            })
        });
        m.add_meta_method(MetaMethod::Close, |_, this, _: mlua::MultiValue| {
            let mut slot = this.object.try_borrow_mut().map_err(|_| {
                mlua::Error::runtime("the object is in use and cannot be closed now")
            })?;
            drop(slot.take());
            Ok(())
        });
    }
}
