//! Fetching over the network through the http plugin (see `remote.lua`): a VM of its own,
//! built on first use with the plugins of the lib path, running the glue's functions.
//!
//! Why not an HTTP client in the core: a TLS stack would add megabytes to a binary whose size
//! and start-up are product features, for a command run once per image build. The http plugin
//! already carries one (system roots, proxies, redirects, timeouts). A core alone installs
//! from a folder (`file://`); a registry on the network needs the http plugin, and says so.

use std::cell::RefCell;
use std::rc::Rc;

use mlua::{Function, MultiValue, Table, Value};

use crate::resolve::LibPath;
use crate::vm::{RunError, Runtime};

const GLUE: &str = include_str!("remote.lua");

/// Credentials for a registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    Basic { user: String, password: String },
    Bearer(String),
}

/// The glue's VM.
pub struct Remote {
    runtime: Runtime,
    glue: Table,
}

impl Remote {
    /// A VM with the plugins on `lib_path`.
    pub fn new(lib_path: LibPath) -> Result<Self, String> {
        let runtime = Runtime::builder()
            .lib_path(lib_path)
            .build()
            .map_err(|e| e.to_string())?;
        let glue: Table = runtime
            .lua()
            .load(GLUE)
            .set_name("=remote")
            .eval()
            .map_err(|e| e.to_string())?;
        Ok(Self { runtime, glue })
    }

    /// The body at `url` (at most `max` bytes), or `None` when the server says 404.
    pub fn get(&self, url: &str, auth: Option<&Auth>, max: u64) -> Result<Option<Vec<u8>>, String> {
        let lua = self.runtime.lua();
        let args = MultiValue::from_iter([
            Value::String(lua.create_string(url).map_err(|e| e.to_string())?),
            self.auth_value(auth)?,
            Value::Number(max as f64),
        ]);
        let values = self.call("get", args)?;
        match values.into_iter().next() {
            Some(Value::String(body)) => Ok(Some(body.as_bytes().to_vec())),
            _ => Ok(None),
        }
    }

    /// Streams `url` into `sink`, piece by piece; an error `sink` returns ends the download.
    pub fn download(
        &self,
        url: &str,
        auth: Option<&Auth>,
        sink: impl FnMut(&[u8]) -> Result<(), String> + 'static,
    ) -> Result<(), String> {
        let lua = self.runtime.lua();
        let sink = Rc::new(RefCell::new(sink));
        let write = lua
            // A refusal is returned, not raised: the glue stops with the plain message.
            .create_function(move |_, chunk: mlua::LuaString| {
                Ok(match (sink.borrow_mut())(&chunk.as_bytes()) {
                    Ok(()) => (true, None),
                    Err(message) => (false, Some(message)),
                })
            })
            .map_err(|e| e.to_string())?;
        let args = MultiValue::from_iter([
            Value::String(lua.create_string(url).map_err(|e| e.to_string())?),
            self.auth_value(auth)?,
            Value::Function(write),
        ]);
        self.call("download", args).map(drop)
    }

    fn auth_value(&self, auth: Option<&Auth>) -> Result<Value, String> {
        let Some(auth) = auth else {
            return Ok(Value::Nil);
        };
        let lua = self.runtime.lua();
        let t = lua.create_table().map_err(|e| e.to_string())?;
        let set = |k: &str, v: &str| t.raw_set(k, v).map_err(|e| e.to_string());
        match auth {
            Auth::Basic { user, password } => {
                set("user", user)?;
                set("password", password)?;
            }
            Auth::Bearer(token) => set("bearer", token)?,
        }
        Ok(Value::Table(t))
    }

    /// The glue's VM, to make arguments in.
    pub fn lua(&self) -> &mlua::Lua {
        self.runtime.lua()
    }

    /// Calls the glue's function `name`; its error as plain text.
    pub fn call(&self, name: &str, args: MultiValue) -> Result<MultiValue, String> {
        let function: Function = self.glue.raw_get(name).map_err(|e| e.to_string())?;
        self.runtime.call(function, args).map_err(|e| match e {
            RunError::Script(report) => report.message,
            other => other.to_string(),
        })
    }
}
