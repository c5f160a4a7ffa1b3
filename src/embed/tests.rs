//! What the embedders' tests share (the shipped model, loaded once; cosine and length of vectors), and the
//! tests of finding the shipped model.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::*;

pub(super) fn model_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("models")
        .join(DEFAULT_MODEL_NAME)
}

/// One model shared by the tests that need it: loading takes a fraction of a second, but only once.
pub(super) fn model() -> &'static BertEmbedder {
    static MODEL: OnceLock<BertEmbedder> = OnceLock::new();
    MODEL.get_or_init(|| {
        BertEmbedder::load(&model_dir(), &EmbedOptions::default()).expect("default model loads")
    })
}

/// The shipped model with every path in f32 through candle: the reference the reduced paths are held to.
pub(super) fn float_model() -> &'static BertEmbedder {
    static MODEL: OnceLock<BertEmbedder> = OnceLock::new();
    MODEL.get_or_init(|| {
        let opts = EmbedOptions {
            quantized_queries: false,
            quantized_documents: false,
            ..EmbedOptions::default()
        };
        BertEmbedder::load(&model_dir(), &opts).expect("default model loads")
    })
}

pub(super) fn cos(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

pub(super) fn norm(v: &[f32]) -> f32 {
    v.iter().map(|x| x * x).sum::<f32>().sqrt()
}

#[test]
fn default_model_dir_finds_the_shipped_model() {
    // The test binary lives in target/debug/deps, so the source-tree fallback (or the checkout-relative
    // candidate) applies unless SG_MODEL_PATH points elsewhere.
    if std::env::var_os(MODEL_PATH_ENV).is_none() {
        let dir = default_model_dir().unwrap();
        assert!(dir.join(WEIGHTS_FILE).is_file(), "{}", dir.display());
        assert!(dir.ends_with(DEFAULT_MODEL_NAME));
    }
}
