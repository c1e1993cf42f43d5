//! Plugin objects as userdata: `__index` finds methods (made once per class and VM) and then
//! fields, `__tostring` describes, `__close` releases the object at once (`local c <close> =
//! db.connect(...)`), and `__gc` releases it when Lua collects it. The plugin's drop hook runs
//! when its last reference goes.

use std::cell::{Ref, RefCell};

use assay_sdk::Object;
use assay_sdk::abi::ObjectClass;
use mlua::{AnyUserData, Lua, MetaMethod, Table, UserData, UserDataMethods};

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

impl UserData for PluginObject {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        m.add_meta_function(
            MetaMethod::Index,
            |lua, (ud, key): (AnyUserData, mlua::Value)| {
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
            },
        );
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
