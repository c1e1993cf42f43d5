pub fn register(_http: &mut assay_sdk::Global) {}
