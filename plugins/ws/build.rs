//! Writes the plugin's manifest (see `assay_sdk::build`).

fn main() {
    if let Err(e) = assay_sdk::build::write_manifest() {
        panic!("{e}");
    }
}
