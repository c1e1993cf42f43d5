//! Plugin objects as userdata: `__index` finds methods (made once per class and VM) and then
//! fields, `__tostring` describes, `__close` releases the object at once (`local c <close> =
//! db.connect(...)`), and `__gc` releases it when Lua collects it. The plugin's drop hook runs
//! when its last reference goes.

use std::cell::{Ref, RefCell};
use std::collections::HashMap;

use assay_sdk::Object;
use assay_sdk::abi::ObjectClass;
use mlua::{AnyUserData, Lua, MetaMethod, Table, UserData, UserDataMethods};

use super::call::{Receiver, lua_function};
use crate::builtins::codec;

pub struct PluginObject(RefCell<Option<Object>>);

impl PluginObject {
    /// The object, unless it was closed.
    pub fn get(&self) -> Result<Ref<'_, Object>, String> {
        Ref::filter_map(self.0.borrow(), Option::as_ref).map_err(|_| "the object is closed".to_owned())
    }

    pub fn class(&self) -> Option<&'static ObjectClass> {
        self.0.borrow().as_ref().map(|o| o.raw().class)
    }
}

pub fn wrap(lua: &Lua, obj: Object) -> mlua::Result<AnyUserData> {
    lua.create_userdata(PluginObject(RefCell::new(Some(obj))))
}

/// Method tables by class, per VM.
#[derive(Default)]
struct Classes(RefCell<HashMap<usize, Table>>);

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
        table.raw_set(entry.name.as_str(), lua_function(lua, name, entry.callable, Receiver::Object(class))?)?;
    }
    if let Some(classes) = lua.app_data_ref::<Classes>() {
        classes.0.borrow_mut().insert(key, table.clone());
    }
    Ok(table)
}

impl UserData for PluginObject {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        m.add_meta_function(MetaMethod::Index, |lua, (ud, key): (AnyUserData, mlua::Value)| {
            let this = ud.borrow::<PluginObject>()?;
            let Some(class) = this.class() else {
                return Err(mlua::Error::runtime("the object is closed"));
            };
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
                Ok(value) => super::bridge::to_lua(lua, &codec::markers(lua)?, value),
                Err(e) => Err(mlua::Error::runtime(format!("{}.{name}: {e}", class.type_name))),
            }
        });
        m.add_meta_method(MetaMethod::ToString, |_, this, ()| {
            Ok(match this.get() {
                Ok(obj) => format!("{obj:?}"),
                Err(_) => "closed object".to_owned(),
            })
        });
        m.add_meta_method(MetaMethod::Close, |_, this, _: mlua::MultiValue| {
            let mut slot = this
                .0
                .try_borrow_mut()
                .map_err(|_| mlua::Error::runtime("the object is in use and cannot be closed now"))?;
            drop(slot.take());
            Ok(())
        });
    }
}
