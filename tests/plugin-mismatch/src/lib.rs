//! A stand-in for a plugin built with an incompatible SDK: it exports abi_stable's root module
//! under the SDK's type name and version, but with a different layout (one field's type
//! differs). The host must refuse it in one line, not crash and not print abi_stable's dump.

use abi_stable::library::RootModule;
use abi_stable::prefix_type::PrefixTypeTrait;
use abi_stable::sabi_types::VersionStrings;
use abi_stable::std_types::RStr;
use abi_stable::{StableAbi, declare_root_module_statics, export_root_module};

#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = PluginModuleRef)))]
#[sabi(missing_field(panic))]
pub struct PluginModule {
    pub abi_version: u64,
    pub name: RStr<'static>,
    #[sabi(last_prefix_field)]
    pub version: RStr<'static>,
}

impl RootModule for PluginModuleRef {
    declare_root_module_statics! {PluginModuleRef}
    const BASE_NAME: &'static str = "assay_plugin";
    const NAME: &'static str = "assay_plugin";
    const VERSION_STRINGS: VersionStrings = VersionStrings::new(env!("CARGO_PKG_VERSION"));
}

#[export_root_module]
pub fn root() -> PluginModuleRef {
    PluginModule {
        abi_version: 1,
        name: RStr::from_str("mismatch"),
        version: RStr::from_str("0.1.0"),
    }
    .leak_into_prefix()
}
