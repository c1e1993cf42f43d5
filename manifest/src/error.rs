/// A manifest that cannot be read or understood.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The file could not be read (missing, not a regular file, larger than
    /// [`crate::MAX_MANIFEST_BYTES`], not UTF-8); the message names it.
    #[error(transparent)]
    Read(#[from] assay_files::ReadError),
    #[error("{origin}: not a valid manifest: {message}")]
    Syntax { origin: String, message: String },
    #[error("{origin}: field `{field}`: {message}")]
    Field {
        origin: String,
        field: String,
        message: String,
    },
}

/// A well-formed manifest whose requirements the running core does not meet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} '{name}' {version} requires assay {requirement}, but this is assay {core}")]
pub struct Incompatible {
    /// "package" or "plugin".
    pub kind: &'static str,
    pub name: String,
    pub version: String,
    pub requirement: String,
    pub core: String,
}
