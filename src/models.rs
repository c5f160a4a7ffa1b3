//! Where an embedding model's files come from: a folder on disk, or the default models compiled into the
//! binary (feature `bundled-models`, on by default), so an installed `sg` needs no checkout beside it.
//!
//! Both sources hand out the same bytes for the same file names, so a model loaded from either has the same
//! fingerprint and shares the embedding cache.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// A model compiled into the binary: its name (the folder name under `models/`) and its files.
#[derive(Debug)]
pub struct BuiltinModel {
    /// Folder name of the model in the repository's `models/`.
    pub name: &'static str,
    /// File name → contents.
    pub files: &'static [(&'static str, &'static [u8])],
}

/// A model's files: a folder, or a model compiled into the binary.
#[derive(Clone, Debug)]
pub enum ModelSource {
    /// A model folder (see `models/README.md`).
    Dir(PathBuf),
    /// A model compiled into the binary.
    Builtin(&'static BuiltinModel),
}

impl ModelSource {
    /// A folder source.
    pub fn dir(path: impl Into<PathBuf>) -> Self {
        ModelSource::Dir(path.into())
    }

    /// The folder, for a folder source.
    pub fn as_dir(&self) -> Option<&Path> {
        match self {
            ModelSource::Dir(p) => Some(p),
            ModelSource::Builtin(_) => None,
        }
    }

    /// Whether the source holds `file`.
    pub fn has(&self, file: &str) -> bool {
        match self {
            ModelSource::Dir(p) => p.join(file).is_file(),
            ModelSource::Builtin(m) => m.files.iter().any(|(n, _)| *n == file),
        }
    }

    /// Fails unless the source exists (a folder that is there; a built-in model always is).
    pub fn check_exists(&self) -> anyhow::Result<()> {
        match self {
            ModelSource::Dir(p) if !p.is_dir() => bail!("model folder not found: {}", p.display()),
            _ => Ok(()),
        }
    }

    /// The contents of `file`; the error names the file.
    pub fn read(&self, file: &str) -> anyhow::Result<Cow<'static, [u8]>> {
        match self {
            ModelSource::Dir(p) => {
                let path = p.join(file);
                if !path.is_file() {
                    bail!("model file missing: {}", path.display());
                }
                Ok(Cow::Owned(std::fs::read(&path).with_context(|| {
                    format!("cannot read {}", path.display())
                })?))
            }
            ModelSource::Builtin(m) => m
                .files
                .iter()
                .find(|(n, _)| *n == file)
                .map(|(_, bytes)| Cow::Borrowed(*bytes))
                .with_context(|| format!("model file missing: {}", self.describe(file))),
        }
    }

    /// How to name `file` of this source in messages: its path, or `built-in <model>/<file>`.
    pub fn describe(&self, file: &str) -> String {
        match self {
            ModelSource::Dir(p) => p.join(file).display().to_string(),
            ModelSource::Builtin(m) => format!("built-in {}/{file}", m.name),
        }
    }
}

impl std::fmt::Display for ModelSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ModelSource::Dir(p) => write!(f, "{}", p.display()),
            ModelSource::Builtin(m) => write!(f, "built-in {}", m.name),
        }
    }
}

/// The transformer shipped in `models/`, compiled in.
#[cfg(feature = "bundled-models")]
pub static BUILTIN_MODEL: BuiltinModel = BuiltinModel {
    name: "all-MiniLM-L6-v2",
    files: &[
        (
            "manifest.json",
            include_bytes!("../models/all-MiniLM-L6-v2/manifest.json"),
        ),
        (
            "config.json",
            include_bytes!("../models/all-MiniLM-L6-v2/config.json"),
        ),
        (
            "tokenizer.json",
            include_bytes!("../models/all-MiniLM-L6-v2/tokenizer.json"),
        ),
        (
            "model.safetensors",
            include_bytes!("../models/all-MiniLM-L6-v2/model.safetensors"),
        ),
        (
            "LICENSE",
            include_bytes!("../models/all-MiniLM-L6-v2/LICENSE"),
        ),
        (
            "NOTICE",
            include_bytes!("../models/all-MiniLM-L6-v2/NOTICE"),
        ),
    ],
};

/// The fast (static) model shipped in `models/`, compiled in.
#[cfg(feature = "bundled-models")]
pub static BUILTIN_FAST_MODEL: BuiltinModel = BuiltinModel {
    name: "sg-static-minilm",
    files: &[
        (
            "manifest.json",
            include_bytes!("../models/sg-static-minilm/manifest.json"),
        ),
        (
            "tokenizer.json",
            include_bytes!("../models/sg-static-minilm/tokenizer.json"),
        ),
        (
            "embeddings.safetensors",
            include_bytes!("../models/sg-static-minilm/embeddings.safetensors"),
        ),
        (
            "LICENSE",
            include_bytes!("../models/sg-static-minilm/LICENSE"),
        ),
        (
            "NOTICE",
            include_bytes!("../models/sg-static-minilm/NOTICE"),
        ),
    ],
};

/// The compiled-in transformer, if this build has one.
pub fn builtin_model() -> Option<&'static BuiltinModel> {
    #[cfg(feature = "bundled-models")]
    {
        Some(&BUILTIN_MODEL)
    }
    #[cfg(not(feature = "bundled-models"))]
    {
        None
    }
}

/// The compiled-in fast model, if this build has one.
pub fn builtin_fast_model() -> Option<&'static BuiltinModel> {
    #[cfg(feature = "bundled-models")]
    {
        Some(&BUILTIN_FAST_MODEL)
    }
    #[cfg(not(feature = "bundled-models"))]
    {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_source_names_missing_files_by_path() {
        let tmp = tempfile::tempdir().unwrap();
        let src = ModelSource::dir(tmp.path());
        assert!(!src.has("config.json"));
        let err = src.read("config.json").unwrap_err().to_string();
        assert!(err.contains("model file missing"), "{err}");
        assert!(err.contains("config.json"), "{err}");
        assert!(
            ModelSource::dir(tmp.path().join("nope"))
                .check_exists()
                .unwrap_err()
                .to_string()
                .contains("model folder not found")
        );
    }

    #[cfg(feature = "bundled-models")]
    #[test]
    fn builtin_models_hold_the_files_of_the_shipped_folders() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
        for m in [&BUILTIN_MODEL, &BUILTIN_FAST_MODEL] {
            let src = ModelSource::Builtin(m);
            for (name, bytes) in m.files {
                let on_disk = std::fs::read(root.join(m.name).join(name)).unwrap();
                assert_eq!(&on_disk[..], *bytes, "{}/{name}", m.name);
                assert!(src.has(name));
            }
            let err = src.read("missing.bin").unwrap_err().to_string();
            assert_eq!(
                err,
                format!("model file missing: built-in {}/missing.bin", m.name)
            );
        }
    }
}
