//! The description of a model folder: its `manifest.json` ([`ModelManifest`]), the embedder it asks for
//! ([`ModelKind`]), and the manifest inferred from `config.json` for a BERT-family folder without one.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, bail};
use serde::Deserialize;

use super::pooling::Pooling;
use super::{CONFIG_FILE, DEFAULT_MAX_TOKENS, MANIFEST_FILE, read_required};
use crate::models::ModelSource;

/// Which embedder reads a model folder (the manifest's `kind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelKind {
    /// A BERT-family transformer ([`BertEmbedder`](super::BertEmbedder)).
    Bert,
    /// A table of token vectors ([`StaticEmbedder`](super::StaticEmbedder)).
    Static,
}

/// The description of a model folder, read from its `manifest.json` (or inferred from `config.json`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct ModelManifest {
    /// Model name, e.g. `all-MiniLM-L6-v2`.
    pub name: String,
    /// Architecture family: `bert` or `static` (see [`ModelManifest::model_kind`]).
    pub kind: String,
    /// Length of the output vectors (the BERT hidden size).
    pub dims: usize,
    /// How token vectors are pooled into one vector.
    pub pooling: Pooling,
    /// Whether output vectors are L2-normalised; must be `true`, since search relies on it.
    pub normalize: bool,
    /// Longest input in word pieces (for BERT, `[CLS]` and `[SEP]` included); longer texts are truncated.
    pub max_tokens: usize,
    /// Where the weights came from.
    #[serde(default)]
    pub source: Option<String>,
    /// SPDX licence of the weights.
    #[serde(default)]
    pub license: Option<String>,
    /// SHA-256 (hex) of each file in the folder, by file name.
    #[serde(default)]
    pub files: BTreeMap<String, String>,
}

/// The few `config.json` fields needed to infer a manifest.
#[derive(Deserialize)]
struct ConfigProbe {
    model_type: Option<String>,
    hidden_size: usize,
    max_position_embeddings: usize,
}

/// `sentence_bert_config.json`, written by sentence-transformers next to its models.
#[derive(Deserialize)]
struct SentenceBertConfig {
    max_seq_length: usize,
}

/// `1_Pooling/config.json` of a sentence-transformers model.
#[derive(Deserialize)]
struct PoolingConfig {
    #[serde(default)]
    pooling_mode_mean_tokens: bool,
}

impl ModelManifest {
    /// Parses and checks the text of a `manifest.json`.
    pub fn from_json(text: &str) -> anyhow::Result<Self> {
        let manifest: ModelManifest = serde_json::from_str(text)?;
        manifest.validate()?;
        Ok(manifest)
    }

    /// Reads `dir/manifest.json`, or infers the manifest from `dir/config.json` when there is none.
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        Self::load_source(&ModelSource::dir(dir))
    }

    /// Reads the source's `manifest.json`, or, for a folder without one, infers it from `config.json`.
    pub fn load_source(src: &ModelSource) -> anyhow::Result<Self> {
        if src.has(MANIFEST_FILE) {
            let bytes = src.read(MANIFEST_FILE)?;
            let text = std::str::from_utf8(&bytes)
                .with_context(|| format!("invalid {}", src.describe(MANIFEST_FILE)))?;
            Self::from_json(text)
                .with_context(|| format!("invalid {}", src.describe(MANIFEST_FILE)))
        } else if let Some(dir) = src.as_dir() {
            Self::infer(dir)
        } else {
            bail!("model file missing: {}", src.describe(MANIFEST_FILE))
        }
    }

    /// Infers a manifest for a BERT-family folder without one: dims from `config.json`, the token limit from
    /// `sentence_bert_config.json` if present (else 256, capped by the position embeddings), mean pooling and
    /// normalisation (refused if `1_Pooling/config.json` says the model was trained with another pooling).
    pub fn infer(dir: &Path) -> anyhow::Result<Self> {
        let config_path = dir.join(CONFIG_FILE);
        let text = read_required(&config_path)?;
        let config: ConfigProbe = serde_json::from_slice(&text)
            .with_context(|| format!("invalid {}", config_path.display()))?;
        match config.model_type.as_deref() {
            Some("bert") | None => {}
            Some(other) => bail!(
                "unsupported model_type {other:?} in {}: only BERT-family models can be loaded",
                config_path.display()
            ),
        }
        let mut max_tokens = DEFAULT_MAX_TOKENS;
        let st_path = dir.join("sentence_bert_config.json");
        if st_path.is_file() {
            let text = read_required(&st_path)?;
            let st: SentenceBertConfig = serde_json::from_slice(&text)
                .with_context(|| format!("invalid {}", st_path.display()))?;
            max_tokens = st.max_seq_length;
        }
        let pooling_path = dir.join("1_Pooling").join(CONFIG_FILE);
        if pooling_path.is_file() {
            let text = read_required(&pooling_path)?;
            let pooling: PoolingConfig = serde_json::from_slice(&text)
                .with_context(|| format!("invalid {}", pooling_path.display()))?;
            if !pooling.pooling_mode_mean_tokens {
                bail!(
                    "{} asks for a pooling other than mean pooling, which is not supported",
                    pooling_path.display()
                );
            }
        }
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "bert".to_owned());
        let manifest = ModelManifest {
            name,
            kind: "bert".to_owned(),
            dims: config.hidden_size,
            pooling: Pooling::Mean,
            normalize: true,
            max_tokens: max_tokens.min(config.max_position_embeddings),
            source: None,
            license: None,
            files: BTreeMap::new(),
        };
        manifest.validate()?;
        Ok(manifest)
    }

    /// The embedder this manifest asks for.
    pub fn model_kind(&self) -> anyhow::Result<ModelKind> {
        match self.kind.as_str() {
            "bert" => Ok(ModelKind::Bert),
            "static" => Ok(ModelKind::Static),
            other => bail!(
                "unsupported model kind {other:?}: only \"bert\" and \"static\" are supported"
            ),
        }
    }

    fn validate(&self) -> anyhow::Result<()> {
        let expected = match self.model_kind()? {
            ModelKind::Bert => Pooling::Mean,
            ModelKind::Static => Pooling::WeightedMean,
        };
        if self.pooling != expected {
            bail!(
                "a {:?} model needs pooling {:?}, not {:?}",
                self.kind,
                expected.as_str(),
                self.pooling.as_str()
            );
        }
        if !self.normalize {
            bail!("models must produce normalised vectors (\"normalize\": true)");
        }
        if self.dims == 0 {
            bail!("dims must be positive");
        }
        if self.model_kind()? == ModelKind::Bert && self.max_tokens < 2 {
            bail!("max_tokens must leave room for [CLS] and [SEP]");
        }
        if self.max_tokens == 0 {
            bail!("max_tokens must be positive");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embed::tests::model_dir;

    #[test]
    fn manifest_parses_the_shipped_file() {
        let m = ModelManifest::load(&model_dir()).unwrap();
        assert_eq!(m.name, "all-MiniLM-L6-v2");
        assert_eq!(m.kind, "bert");
        assert_eq!(m.dims, 384);
        assert_eq!(m.pooling, Pooling::Mean);
        assert!(m.normalize);
        assert_eq!(m.max_tokens, 64);
        assert_eq!(m.license.as_deref(), Some("Apache-2.0"));
        assert_eq!(
            m.files.keys().map(String::as_str).collect::<Vec<_>>(),
            [
                "LICENSE",
                "NOTICE",
                "config.json",
                "model.safetensors",
                "tokenizer.json"
            ]
        );
    }

    #[test]
    fn manifest_rejects_unsupported_settings() {
        let base = r#"{"name":"m","kind":"bert","dims":8,"pooling":"mean","normalize":true,"max_tokens":64}"#;
        assert_eq!(ModelManifest::from_json(base).unwrap().max_tokens, 64);
        let err = ModelManifest::from_json(&base.replace("\"mean\"", "\"cls\"")).unwrap_err();
        assert!(format!("{err:#}").contains("cls"), "{err:#}");
        let err = ModelManifest::from_json(&base.replace("bert", "t5")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unsupported model kind \"t5\": only \"bert\" and \"static\" are supported"
        );
        let err = ModelManifest::from_json(&base.replace("bert", "static")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "a \"static\" model needs pooling \"weighted_mean\", not \"mean\""
        );
        let static_manifest = base
            .replace("bert", "static")
            .replace("\"mean\"", "\"weighted_mean\"");
        let m = ModelManifest::from_json(&static_manifest).unwrap();
        assert_eq!(m.model_kind().unwrap(), ModelKind::Static);
        assert_eq!(m.pooling, Pooling::WeightedMean);
        let err = ModelManifest::from_json(&base.replace("true", "false")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "models must produce normalised vectors (\"normalize\": true)"
        );
    }

    #[test]
    fn manifest_is_inferred_from_config_json() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("my-bert");
        std::fs::create_dir(&dir).unwrap();
        std::fs::copy(model_dir().join(CONFIG_FILE), dir.join(CONFIG_FILE)).unwrap();
        let m = ModelManifest::load(&dir).unwrap();
        assert_eq!(
            (m.name.as_str(), m.dims, m.max_tokens, m.pooling),
            ("my-bert", 384, 256, Pooling::Mean)
        );
        std::fs::write(
            dir.join("sentence_bert_config.json"),
            r#"{"max_seq_length": 128, "do_lower_case": false}"#,
        )
        .unwrap();
        assert_eq!(ModelManifest::load(&dir).unwrap().max_tokens, 128);
        std::fs::create_dir(dir.join("1_Pooling")).unwrap();
        std::fs::write(
            dir.join("1_Pooling").join(CONFIG_FILE),
            r#"{"pooling_mode_cls_token": true}"#,
        )
        .unwrap();
        let err = ModelManifest::load(&dir).unwrap_err();
        assert!(
            err.to_string().contains("pooling other than mean"),
            "{err:#}"
        );
    }
}
