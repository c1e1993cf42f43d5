// Writes the plugin's manifest.yaml from Cargo.toml (name, version, description, provides,
// library file, ABI version) into target/<profile>/assay-lib/plugins/hello/.
fn main() {
    if let Err(e) = assay_sdk::build::write_manifest() {
        panic!("{e}");
    }
}
