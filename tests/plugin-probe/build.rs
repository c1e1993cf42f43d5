fn main() {
    if let Err(e) = assay_sdk::build::write_manifest() {
        panic!("{e}");
    }
}
