//! Text embeddings: the `Embedder` trait, the candle BERT model, static token-vector models, and the shared
//! pooling function.
//!
//! A model lives in a folder (see `models/README.md`) described by its `manifest.json`, whose `kind` says which
//! embedder reads it ([`load_model`] picks). A `bert` folder holds `model.safetensors`, `tokenizer.json`,
//! `config.json` (the manifest is optional: it can be inferred); [`BertEmbedder`] loads it on the CPU and always
//! computes in f32, whatever the dtype on disk (half precision gives NaN in candle's BERT and is slower on CPU
//! anyway). A `static` folder holds `embeddings.safetensors` (one vector per vocabulary token, token weights folded
//! in) and `tokenizer.json`; [`StaticEmbedder`] averages the rows of a text's tokens, which takes microseconds.
//! Every non-empty text leaves this module as an L2-normalised vector, so a dot product is a cosine similarity.
//!
//! [`mean_pool_l2`] is the single definition of "hidden states to sentence vector"; the training crate reuses it so
//! that trained models and the indexer agree exactly.
//!
//! [`FakeEmbedder`] is a deterministic hashed bag of words with the same interface, for pipeline tests that should
//! not load a transformer.
//!
//! One file per part: `manifest` (the manifest and model kinds), `pooling`, `bert`, `quantized` (BERT's forward
//! pass over bf16 or int8 dense layers), `static_model` with its ASCII fast path `wordpiece`, `fake`, and
//! `text` (what the models read of a unit); this file holds the trait, the options, and where models are found
//! and how they are loaded.

mod bert;
mod fake;
mod manifest;
mod pooling;
mod quantized;
mod static_model;
#[cfg(test)]
mod tests;
mod text;
mod wordpiece;

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use tokenizers::Tokenizer;

pub use bert::BertEmbedder;
pub use fake::FakeEmbedder;
pub use manifest::{ModelKind, ModelManifest};
pub use pooling::{Pooling, mean_pool_l2};
pub use quantized::QuantizedBert;
pub use static_model::StaticEmbedder;
pub use text::{embedding_text, strip_comment_leaders};

use crate::ids::ModelFingerprint;
use crate::models::ModelSource;

/// File name of the weights inside a model folder.
pub const WEIGHTS_FILE: &str = "model.safetensors";
/// File name of the tokenizer inside a model folder.
pub const TOKENIZER_FILE: &str = "tokenizer.json";
/// File name of the BERT configuration inside a model folder.
pub const CONFIG_FILE: &str = "config.json";
/// File name of the token vectors of a static model.
pub const STATIC_EMBEDDINGS_FILE: &str = "embeddings.safetensors";
/// Name of the `vocab × dims` tensor inside [`STATIC_EMBEDDINGS_FILE`].
pub const STATIC_EMBEDDINGS_TENSOR: &str = "embeddings";
/// File name of the optional manifest inside a model folder.
pub const MANIFEST_FILE: &str = "manifest.json";
/// Folder name of the model shipped in the repository.
pub const DEFAULT_MODEL_NAME: &str = "all-MiniLM-L6-v2";
/// Environment variable that points at a model folder, overriding the default search.
pub const MODEL_PATH_ENV: &str = "SG_MODEL_PATH";

/// Token limit used when neither a manifest nor `sentence_bert_config.json` gives one.
const DEFAULT_MAX_TOKENS: usize = 256;

/// Turns text into unit-length vectors of one fixed model.
///
/// Implementations are shared between the indexer thread and query handlers, hence `Send + Sync`.
pub trait Embedder: Send + Sync {
    /// Identifies the vector space: weights, tokenizer, token limit and pooling. Vectors with different
    /// fingerprints must never be compared.
    fn fingerprint(&self) -> ModelFingerprint;
    /// Length of every vector this embedder returns.
    fn dims(&self) -> usize;
    /// Human-readable model name, for logs and status output.
    fn name(&self) -> &str;
    /// Embeds documents (code chunks). Sorts by token length internally, batches, returns vectors in input
    /// order, each L2-normalised. An empty slice gives an empty result.
    fn embed_documents(&self, texts: &[&str]) -> anyhow::Result<Vec<Vec<f32>>>;
    /// Embeds one query on a single thread, remembering a few recent queries.
    fn embed_query(&self, text: &str) -> anyhow::Result<Vec<f32>>;
}

/// Fixes the thread count candle gives every matrix product, before any thread starts.
///
/// Without `RAYON_NUM_THREADS`, candle works out the number of physical cores again for every matrix
/// product by reading `/proc/cpuinfo`: 48 reads per query embedding, about 3 of its 13 ms here (measured
/// with `sg search --batch` on tokio: p50 13.3–14.8 ms before, 10.6–11.6 ms after). This sets the
/// variable, when it is not set, to that same count, so candle's choice does not change; rayon's global
/// pool, which reads the same variable, keeps one thread per logical core as before.
///
/// # Safety
/// It changes the process environment: call it first thing in `main`, while no other thread exists.
pub unsafe fn init_compute_threads() {
    if std::env::var_os("RAYON_NUM_THREADS").is_some() {
        return;
    }
    let logical = std::thread::available_parallelism().map_or(1, |n| n.get());
    let physical = num_cpus::get_physical().max(1);
    // SAFETY: the caller guarantees no other thread runs, so nothing reads the environment concurrently.
    unsafe { std::env::set_var("RAYON_NUM_THREADS", physical.to_string()) };
    // An error only means a global pool exists already (then it was sized before this call).
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(logical)
        .build_global();
}

/// Settings for [`BertEmbedder::load`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmbedOptions {
    /// Longest input in word pieces; `0` takes the manifest's `max_tokens` (64 for the default model).
    /// Capped by the model's position embeddings. Part of the fingerprint.
    pub max_tokens: usize,
    /// Texts per forward pass in [`Embedder::embed_documents`]. 8 by default: at 256 word pieces the
    /// attention buffers of a batch dominate memory, and `sg index` on a small repository peaked at
    /// 347 MB with 8 against 521 MB with 16, at no loss of throughput (texts are sorted by length, so
    /// smaller batches pad no more).
    pub batch_size: usize,
    /// Threads for [`Embedder::embed_documents`]; `0` means all available cores. Queries use every core (up to 4) while no such call runs, one thread otherwise.
    pub threads: usize,
    /// Embed queries with reduced-precision dense layers ([`QuantizedBert`]: bf16 or int8) when the model
    /// allows. Not part of the fingerprint: it changes no stored vector.
    pub quantized_queries: bool,
    /// Embed documents with the same layers when they are bf16 (the CPU has AVX512-BF16), in f32 through
    /// candle otherwise. Part of the fingerprint: stored vectors come from one path.
    pub quantized_documents: bool,
}

impl Default for EmbedOptions {
    fn default() -> Self {
        EmbedOptions {
            max_tokens: 0,
            batch_size: 8,
            threads: 0,
            quantized_queries: true,
            quantized_documents: true,
        }
    }
}

impl EmbedOptions {
    /// The word pieces an embedder reads: `max_tokens`, or the manifest's when it is 0.
    fn max_tokens_or(&self, manifest: &ModelManifest) -> usize {
        if self.max_tokens == 0 {
            manifest.max_tokens
        } else {
            self.max_tokens
        }
    }

    /// The threads of the bulk pool: `threads`, or every core when it is 0.
    fn thread_count(&self) -> usize {
        if self.threads == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            self.threads
        }
    }
}

/// The pool that embeds documents: `threads` threads named `sg-embed-N`.
fn bulk_pool(threads: usize) -> Result<rayon::ThreadPool, rayon::ThreadPoolBuildError> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("sg-embed-{i}"))
        .build()
}

/// A model fingerprint: the first 16 bytes of a hash of what decides its vectors.
fn fingerprint_of(hasher: &blake3::Hasher) -> ModelFingerprint {
    let mut out = [0u8; 16];
    out.copy_from_slice(&hasher.finalize().as_bytes()[..16]);
    ModelFingerprint(out)
}

/// First existing model folder among: `$SG_MODEL_PATH`, `<exe dir>/models/all-MiniLM-L6-v2`,
/// `<exe dir>/../../models/all-MiniLM-L6-v2` (a `target/release/sg` inside a checkout), and the source tree's
/// `models/all-MiniLM-L6-v2` as of the build.
pub fn default_model_dir() -> Option<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(path) = std::env::var_os(MODEL_PATH_ENV) {
        let path = PathBuf::from(path);
        if !path.is_dir() {
            tracing::warn!(target: "sg::embed", path = %path.display(), "{MODEL_PATH_ENV} is not a folder; ignoring it");
        }
        candidates.push(path);
    }
    candidates.extend(shipped_model_candidates(DEFAULT_MODEL_NAME));
    candidates.into_iter().find(|p| p.is_dir())
}

/// Folder name of the fast (static) model shipped in the repository, if one is.
pub const DEFAULT_FAST_MODEL_NAME: &str = "sg-static-minilm";

/// The default transformer: `$SG_MODEL_PATH` when set, else the model compiled into the binary, else the first
/// shipped folder found like [`default_model_dir`]'s.
pub fn default_model_source() -> Option<ModelSource> {
    if let Some(path) = std::env::var_os(MODEL_PATH_ENV) {
        let path = PathBuf::from(path);
        if path.is_dir() {
            return Some(ModelSource::Dir(path));
        }
        tracing::warn!(target: "sg::embed", path = %path.display(), "{MODEL_PATH_ENV} is not a folder; ignoring it");
    }
    crate::models::builtin_model()
        .map(ModelSource::Builtin)
        .or_else(|| {
            shipped_model_candidates(DEFAULT_MODEL_NAME)
                .into_iter()
                .find(|p| p.is_dir())
                .map(ModelSource::Dir)
        })
}

/// The default fast model: the one compiled into the binary, else the shipped folder.
pub fn default_fast_model_source() -> Option<ModelSource> {
    crate::models::builtin_fast_model()
        .map(ModelSource::Builtin)
        .or_else(|| default_fast_model_dir().map(ModelSource::Dir))
}

/// The shipped fast model's folder, found like [`default_model_dir`]'s (without the environment variable).
pub fn default_fast_model_dir() -> Option<PathBuf> {
    shipped_model_candidates(DEFAULT_FAST_MODEL_NAME)
        .into_iter()
        .find(|p| p.is_dir())
}

/// Where a model shipped in `models/` may be: beside the executable, in the checkout holding a
/// `target/<profile>/sg`, and in the source tree as of the build.
fn shipped_model_candidates(name: &str) -> Vec<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(exe_dir) = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
    {
        candidates.push(exe_dir.join("models").join(name));
        candidates.push(exe_dir.join("..").join("..").join("models").join(name));
    }
    candidates.push(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("models")
            .join(name),
    );
    candidates
}

/// Loads a model from any source (see [`load_model`]).
pub fn load_model_source(
    src: &ModelSource,
    opts: &EmbedOptions,
) -> anyhow::Result<std::sync::Arc<dyn Embedder>> {
    src.check_exists()?;
    let kind = if src.has(MANIFEST_FILE) {
        ModelManifest::load_source(src)?.model_kind()?
    } else {
        ModelKind::Bert
    };
    Ok(match kind {
        ModelKind::Bert => std::sync::Arc::new(BertEmbedder::load_source(src, opts)?),
        ModelKind::Static => std::sync::Arc::new(StaticEmbedder::load_source(src, opts)?),
    })
}

fn read_required(path: &Path) -> anyhow::Result<Vec<u8>> {
    if !path.is_file() {
        bail!("model file missing: {}", path.display());
    }
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

fn to_anyhow(e: tokenizers::Error) -> anyhow::Error {
    anyhow!("{e}")
}

/// Reads a `tokenizer.json`: the tokenizer exactly as stored (its own padding and truncation settings included,
/// which every embedder replaces) and the file's bytes (for fingerprints). The error names the file.
pub fn read_tokenizer(path: &Path) -> anyhow::Result<(Tokenizer, Vec<u8>)> {
    let bytes = read_required(path)?;
    let tokenizer = Tokenizer::from_bytes(&bytes)
        .map_err(to_anyhow)
        .with_context(|| format!("invalid tokenizer in {}", path.display()))?;
    Ok((tokenizer, bytes))
}

/// [`read_tokenizer`] for a model source's `tokenizer.json`.
fn read_source_tokenizer(src: &ModelSource) -> anyhow::Result<(Tokenizer, Vec<u8>)> {
    let bytes = src.read(TOKENIZER_FILE)?.into_owned();
    let tokenizer = Tokenizer::from_bytes(&bytes)
        .map_err(to_anyhow)
        .with_context(|| format!("invalid tokenizer in {}", src.describe(TOKENIZER_FILE)))?;
    Ok((tokenizer, bytes))
}

/// Loads the model folder `dir` with the embedder its manifest's `kind` names: [`BertEmbedder`] for `bert` (also
/// when there is no manifest), [`StaticEmbedder`] for `static`.
pub fn load_model(dir: &Path, opts: &EmbedOptions) -> anyhow::Result<std::sync::Arc<dyn Embedder>> {
    load_model_source(&ModelSource::dir(dir), opts)
}

/// SHA-256 from the manifest if it lists `file`, else the blake3 of the file: the digest of a model file that
/// goes into a fingerprint.
fn file_digest(manifest: &ModelManifest, src: &ModelSource, file: &str) -> anyhow::Result<Vec<u8>> {
    if let Some(sha) = manifest.files.get(file) {
        return Ok(sha.clone().into_bytes());
    }
    let mut hasher = blake3::Hasher::new();
    match src {
        ModelSource::Dir(dir) => {
            let path = dir.join(file);
            let mut f = std::fs::File::open(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            std::io::copy(&mut f, &mut hasher)
                .with_context(|| format!("cannot read {}", path.display()))?;
        }
        ModelSource::Builtin(_) => {
            hasher.update(&src.read(file)?);
        }
    }
    Ok(hasher.finalize().as_bytes().to_vec())
}
