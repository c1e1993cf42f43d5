//! `assay --version`.

pub fn print() {
    println!("assay {}", crate::core_version());
    println!("{}", crate::lua_version());
    println!("plugin ABI {}", assay_sdk::ABI_VERSION);
}
