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

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use anyhow::{Context, anyhow, bail};
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config as BertConfig};
use rayon::prelude::*;
use serde::Deserialize;
use tokenizers::{
    Encoding, PaddingDirection, PaddingParams, PaddingStrategy, Tokenizer, TruncationDirection,
    TruncationParams, TruncationStrategy,
};

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
/// How many recent queries [`BertEmbedder::embed_query`] remembers.
const QUERY_CACHE_CAPACITY: usize = 64;

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

/// Mean of `hidden` over the positions where `mask` is non-zero, then L2-normalised; computed in f32.
///
/// `hidden` is `(batch, tokens, dims)` in any float dtype, `mask` is `(batch, tokens)` in any dtype (1 for a real
/// token, 0 for padding). Returns `(batch, dims)` f32. Only differentiable tensor ops are used, so training can
/// backpropagate through it. Rows without any real token (which the tokenizer never produces, since it adds
/// `[CLS]` and `[SEP]`) come out as zeros rather than NaN.
pub fn mean_pool_l2(hidden: &Tensor, mask: &Tensor) -> candle_core::Result<Tensor> {
    let hidden = hidden.to_dtype(DType::F32)?;
    let m = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
    let summed = hidden.broadcast_mul(&m)?.sum(1)?;
    let counts = m.sum(1)?.maximum(1e-9)?;
    let mean = summed.broadcast_div(&counts)?;
    // Same epsilon as PyTorch's `F.normalize`, which sentence-transformers uses.
    let norms = mean.sqr()?.sum_keepdim(1)?.sqrt()?.maximum(1e-12)?;
    mean.broadcast_div(&norms)
}

/// How token vectors become one text vector.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pooling {
    /// Average of the token vectors over the attention mask ([`mean_pool_l2`]); BERT models.
    Mean,
    /// Average of the stored rows of a text's tokens, whose lengths carry each token's weight; static models.
    WeightedMean,
}

impl Pooling {
    fn as_str(self) -> &'static str {
        match self {
            Pooling::Mean => "mean",
            Pooling::WeightedMean => "weighted_mean",
        }
    }
}

/// Which embedder reads a model folder (the manifest's `kind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelKind {
    /// A BERT-family transformer ([`BertEmbedder`]).
    Bert,
    /// A table of token vectors ([`StaticEmbedder`]).
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

/// Settings for [`BertEmbedder::load`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmbedOptions {
    /// Longest input in word pieces; `0` takes the manifest's `max_tokens` (128 for the default model).
    /// Capped by the model's position embeddings. Part of the fingerprint.
    pub max_tokens: usize,
    /// Texts per forward pass in [`Embedder::embed_documents`]. 8 by default: at 256 word pieces the
    /// attention buffers of a batch dominate memory, and `sg index` on a small repository peaked at
    /// 347 MB with 8 against 521 MB with 16, at no loss of throughput (texts are sorted by length, so
    /// smaller batches pad no more).
    pub batch_size: usize,
    /// Threads for [`Embedder::embed_documents`]; `0` means all available cores. Queries use every core (up to 4) while no such call runs, one thread otherwise.
    pub threads: usize,
}

impl Default for EmbedOptions {
    fn default() -> Self {
        EmbedOptions {
            max_tokens: 0,
            batch_size: 8,
            threads: 0,
        }
    }
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

/// all-MiniLM-L6-v2 or any other BERT-family model, run by candle on the CPU in f32.
pub struct BertEmbedder {
    model: BertModel,
    tokenizer: Tokenizer,
    manifest: ModelManifest,
    fingerprint: ModelFingerprint,
    max_tokens: usize,
    pad_id: u32,
    batch_size: usize,
    /// One thread, for queries while a bulk job runs: they must not queue behind, or spin against, it.
    query_pool: rayon::ThreadPool,
    /// Every core, for queries while no bulk job runs (a short query embeds in ~13 ms on one core of this
    /// class of machine, ~9 ms on two).
    query_pool_wide: Option<rayon::ThreadPool>,
    bulk_pool: rayon::ThreadPool,
    /// Bulk jobs (`embed_documents` calls) running now.
    bulk_active: std::sync::atomic::AtomicUsize,
    cache: Mutex<VecDeque<(String, Vec<f32>)>>,
}

impl BertEmbedder {
    /// Loads the model folder `dir` (see the module docs). Fails with an error naming the file when one is
    /// missing or unreadable.
    pub fn load(dir: &Path, opts: &EmbedOptions) -> anyhow::Result<Self> {
        Self::load_source(&ModelSource::dir(dir), opts)
    }

    /// [`BertEmbedder::load`] from any model source (a folder or a model compiled into the binary).
    pub fn load_source(src: &ModelSource, opts: &EmbedOptions) -> anyhow::Result<Self> {
        let started = Instant::now();
        src.check_exists()?;
        for file in [CONFIG_FILE, TOKENIZER_FILE, WEIGHTS_FILE] {
            if !src.has(file) {
                bail!("model file missing: {}", src.describe(file));
            }
        }
        let manifest = ModelManifest::load_source(src)?;

        let config_bytes = src.read(CONFIG_FILE)?;
        let config: BertConfig = serde_json::from_slice(&config_bytes).with_context(|| {
            format!(
                "invalid BERT configuration in {}",
                src.describe(CONFIG_FILE)
            )
        })?;
        if config.hidden_size != manifest.dims {
            bail!(
                "{} says dims {} but {} has hidden_size {}",
                MANIFEST_FILE,
                manifest.dims,
                src.describe(CONFIG_FILE),
                config.hidden_size
            );
        }
        let requested = if opts.max_tokens == 0 {
            manifest.max_tokens
        } else {
            opts.max_tokens
        };
        let max_tokens = requested.clamp(2, config.max_position_embeddings);

        let (mut tokenizer, tokenizer_bytes) = read_source_tokenizer(src)?;
        // The file may carry its own padding and truncation (this one pads every input to 128 tokens and cuts at
        // 128). Replace both: right padding to the longest text of a batch, truncation at our token limit.
        let pad_id = tokenizer
            .get_padding()
            .map(|p| p.pad_id)
            .unwrap_or(config.pad_token_id as u32);
        let pad_token = tokenizer
            .get_padding()
            .map(|p| p.pad_token.clone())
            .unwrap_or_else(|| "[PAD]".to_owned());
        tokenizer.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::BatchLongest,
            direction: PaddingDirection::Right,
            pad_to_multiple_of: None,
            pad_id,
            pad_type_id: 0,
            pad_token,
        }));
        tokenizer
            .with_truncation(Some(TruncationParams {
                direction: TruncationDirection::Right,
                max_length: max_tokens,
                strategy: TruncationStrategy::LongestFirst,
                stride: 0,
            }))
            .map_err(to_anyhow)?;

        let model = {
            let weights_name = src.describe(WEIGHTS_FILE);
            let vb = match src {
                // SAFETY: the file is memory-mapped only while the weights are copied out of it: every tensor is
                // converted to f32 (a fresh allocation) and the mapping is dropped with `vb` at the end of this
                // block. A concurrent writer truncating the file during those milliseconds is the only hazard,
                // as with any mmap.
                ModelSource::Dir(dir) => unsafe {
                    VarBuilder::from_mmaped_safetensors(
                        &[dir.join(WEIGHTS_FILE)],
                        DType::F32,
                        &Device::Cpu,
                    )
                },
                ModelSource::Builtin(m) => {
                    let bytes = m
                        .files
                        .iter()
                        .find(|(n, _)| *n == WEIGHTS_FILE)
                        .map(|(_, b)| *b)
                        .unwrap_or_default();
                    VarBuilder::from_slice_safetensors(bytes, DType::F32, &Device::Cpu)
                }
            }
            .with_context(|| format!("cannot load weights from {weights_name}"))?;
            BertModel::load(vb, &config).with_context(|| {
                format!(
                    "weights in {weights_name} do not fit {}",
                    src.describe(CONFIG_FILE)
                )
            })?
        };

        let weights_digest = file_digest(&manifest, src, WEIGHTS_FILE)?;
        let fingerprint = bert_fingerprint(
            &weights_digest,
            &tokenizer_bytes,
            max_tokens,
            manifest.pooling,
        );

        let threads = if opts.threads == 0 {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        } else {
            opts.threads
        };
        let query_pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .thread_name(|_| "sg-embed-query".to_owned())
            .build()?;
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .min(4);
        let query_pool_wide = if cores > 1 {
            Some(
                rayon::ThreadPoolBuilder::new()
                    .num_threads(cores)
                    .thread_name(|i| format!("sg-embed-query-{i}"))
                    .build()?,
            )
        } else {
            None
        };
        let bulk_pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("sg-embed-{i}"))
            .build()?;

        tracing::info!(
            target: "sg::embed",
            model = %manifest.name,
            source = %src,
            max_tokens,
            threads,
            fingerprint = %fingerprint,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "embedding model loaded"
        );
        Ok(BertEmbedder {
            model,
            tokenizer,
            manifest,
            fingerprint,
            max_tokens,
            pad_id,
            batch_size: opts.batch_size.max(1),
            query_pool,
            query_pool_wide,
            bulk_pool,
            bulk_active: std::sync::atomic::AtomicUsize::new(0),
            cache: Mutex::new(VecDeque::with_capacity(QUERY_CACHE_CAPACITY)),
        })
    }

    /// The manifest the model was loaded with.
    pub fn manifest(&self) -> &ModelManifest {
        &self.manifest
    }

    /// The effective token limit (`[CLS]` and `[SEP]` included).
    pub fn max_tokens(&self) -> usize {
        self.max_tokens
    }

    /// Number of word pieces `text` becomes, after truncation at [`Self::max_tokens`].
    pub fn token_count(&self, text: &str) -> anyhow::Result<usize> {
        Ok(self
            .tokenizer
            .encode_fast(text, true)
            .map_err(to_anyhow)?
            .len())
    }

    /// The tokenizer, with sg's padding (to the longest text of a batch) and truncation (at
    /// [`Self::max_tokens`]) in place.
    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// Runs BERT on rows of token ids (special tokens included, as the caller wants them; rows may differ in
    /// length and are right-padded here). Returns the last hidden states `(rows, width, dims)` in f32 and the
    /// attention mask `(rows, width)` (1 for a real token), ready for [`mean_pool_l2`].
    pub fn hidden_states(&self, rows: &[&[u32]]) -> anyhow::Result<(Tensor, Tensor)> {
        let n = rows.len();
        let width = rows.iter().map(|r| r.len()).max().unwrap_or(0);
        let mut ids = Vec::with_capacity(n * width);
        let mut mask = Vec::with_capacity(n * width);
        for row in rows {
            ids.extend_from_slice(row);
            mask.extend(std::iter::repeat_n(1u32, row.len()));
            let pad = width - row.len();
            ids.extend(std::iter::repeat_n(self.pad_id, pad));
            mask.extend(std::iter::repeat_n(0u32, pad));
        }
        let ids = Tensor::from_vec(ids, (n, width), &Device::Cpu)?;
        let mask = Tensor::from_vec(mask, (n, width), &Device::Cpu)?;
        let token_types = ids.zeros_like()?;
        let hidden = self.model.forward(&ids, &token_types, Some(&mask))?;
        Ok((hidden.to_dtype(DType::F32)?, mask))
    }

    /// Runs BERT on already tokenised, unpadded encodings and pools them; one row per encoding.
    fn forward(&self, encodings: &[&Encoding]) -> anyhow::Result<Vec<Vec<f32>>> {
        let rows: Vec<&[u32]> = encodings.iter().map(|e| e.get_ids()).collect();
        let (hidden, mask) = self.hidden_states(&rows)?;
        Ok(mean_pool_l2(&hidden, &mask)?.to_vec2::<f32>()?)
    }

    fn encode(&self, text: &str) -> anyhow::Result<Encoding> {
        self.tokenizer.encode_fast(text, true).map_err(to_anyhow)
    }

    fn cached(&self, text: &str) -> Option<Vec<f32>> {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        let pos = cache.iter().position(|(t, _)| t == text)?;
        let entry = cache.remove(pos)?;
        let vector = entry.1.clone();
        cache.push_front(entry);
        Some(vector)
    }

    fn remember(&self, text: &str, vector: &[f32]) {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.iter().any(|(t, _)| t == text) {
            return;
        }
        if cache.len() >= QUERY_CACHE_CAPACITY {
            cache.pop_back();
        }
        cache.push_front((text.to_owned(), vector.to_vec()));
    }
}

fn bert_fingerprint(
    weights_digest: &[u8],
    tokenizer: &[u8],
    max_tokens: usize,
    pooling: Pooling,
) -> ModelFingerprint {
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"sg-embed-bert-v1\0");
    hasher.update(weights_digest);
    hasher.update(b"\0");
    hasher.update(blake3::hash(tokenizer).as_bytes());
    hasher.update(&(max_tokens as u64).to_le_bytes());
    hasher.update(pooling.as_str().as_bytes());
    let mut out = [0u8; 16];
    out.copy_from_slice(&hasher.finalize().as_bytes()[..16]);
    ModelFingerprint(out)
}

impl Embedder for BertEmbedder {
    fn fingerprint(&self) -> ModelFingerprint {
        self.fingerprint
    }

    fn dims(&self) -> usize {
        self.manifest.dims
    }

    fn name(&self) -> &str {
        &self.manifest.name
    }

    fn embed_documents(&self, texts: &[&str]) -> anyhow::Result<Vec<Vec<f32>>> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let started = Instant::now();
        struct Active<'a>(&'a std::sync::atomic::AtomicUsize);
        impl Drop for Active<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
            }
        }
        self.bulk_active
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let _active = Active(&self.bulk_active);
        self.bulk_pool.install(|| {
            let encodings = texts
                .par_iter()
                .map(|t| self.encode(t))
                .collect::<anyhow::Result<Vec<_>>>()?;
            // Longest first, so that texts of similar length share a batch and padding stays small.
            let mut order: Vec<usize> = (0..texts.len()).collect();
            order.sort_by_key(|&i| (std::cmp::Reverse(encodings[i].len()), i));
            let mut out = vec![Vec::new(); texts.len()];
            for batch in order.chunks(self.batch_size) {
                let encs: Vec<&Encoding> = batch.iter().map(|&i| &encodings[i]).collect();
                for (&i, vector) in batch.iter().zip(self.forward(&encs)?) {
                    out[i] = vector;
                }
            }
            tracing::debug!(
                target: "sg::embed",
                texts = texts.len(),
                tokens = encodings.iter().map(Encoding::len).sum::<usize>(),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "embedded documents"
            );
            Ok(out)
        })
    }

    fn embed_query(&self, text: &str) -> anyhow::Result<Vec<f32>> {
        if let Some(vector) = self.cached(text) {
            return Ok(vector);
        }
        let idle = self.bulk_active.load(std::sync::atomic::Ordering::SeqCst) == 0;
        let pool = match &self.query_pool_wide {
            Some(wide) if idle => wide,
            _ => &self.query_pool,
        };
        let vector = pool.install(|| -> anyhow::Result<Vec<f32>> {
            let enc = self.encode(text)?;
            let mut rows = self.forward(&[&enc])?;
            Ok(rows.pop().unwrap_or_default())
        })?;
        self.remember(text, &vector);
        Ok(vector)
    }
}

/// A static (model2vec-style) model: one vector per vocabulary token, read from `embeddings.safetensors`.
///
/// A text is tokenised without special tokens and cut at [`Self::max_tokens`] word pieces; its vector is the mean
/// of its tokens' rows, L2-normalised. Each row already carries its token's weight in its length (the training
/// crate folds the weights in), so the mean of rows is the weighted mean of the underlying token vectors. A text
/// without any token (empty or only whitespace) embeds to the zero vector, which matches nothing.
pub struct StaticEmbedder {
    tokenizer: Tokenizer,
    /// Same ids as `tokenizer` for ASCII text, several times faster; `None` for tokenizers it does not model.
    fast: Option<AsciiWordPiece>,
    /// `vocab × dims`, row-major, f32.
    rows: Vec<f32>,
    vocab: usize,
    manifest: ModelManifest,
    fingerprint: ModelFingerprint,
    max_tokens: usize,
    bulk_pool: rayon::ThreadPool,
}

impl StaticEmbedder {
    /// Loads a `static` model folder: `manifest.json`, `tokenizer.json` and `embeddings.safetensors` (a f16 or f32
    /// tensor `embeddings` of `vocab × dims`, with a row for every id the tokenizer can produce). `opts.max_tokens`
    /// overrides the manifest's token limit; `opts.threads` sizes the pool of [`Embedder::embed_documents`].
    pub fn load(dir: &Path, opts: &EmbedOptions) -> anyhow::Result<Self> {
        Self::load_source(&ModelSource::dir(dir), opts)
    }

    /// [`StaticEmbedder::load`] from any model source (a folder or a model compiled into the binary).
    pub fn load_source(src: &ModelSource, opts: &EmbedOptions) -> anyhow::Result<Self> {
        let started = Instant::now();
        src.check_exists()?;
        let manifest_name = src.describe(MANIFEST_FILE);
        if !src.has(MANIFEST_FILE) {
            bail!("model file missing: {manifest_name}");
        }
        let manifest = ModelManifest::load_source(src)?;
        if manifest.model_kind()? != ModelKind::Static {
            bail!(
                "{manifest_name} describes a {:?} model, not a static one",
                manifest.kind
            );
        }
        let embeddings_name = src.describe(STATIC_EMBEDDINGS_FILE);
        let (mut tokenizer, tokenizer_bytes) = read_source_tokenizer(src)?;
        tokenizer.with_padding(None);
        tokenizer.with_truncation(None).map_err(to_anyhow)?;
        let fast = AsciiWordPiece::new(&tokenizer_bytes, &tokenizer);

        let tensors = match src {
            ModelSource::Dir(dir) => {
                let path = dir.join(STATIC_EMBEDDINGS_FILE);
                if !path.is_file() {
                    bail!("model file missing: {embeddings_name}");
                }
                candle_core::safetensors::load(&path, &Device::Cpu)
            }
            ModelSource::Builtin(_) => candle_core::safetensors::load_buffer(
                &src.read(STATIC_EMBEDDINGS_FILE)?,
                &Device::Cpu,
            ),
        }
        .with_context(|| format!("cannot load weights from {embeddings_name}"))?;
        let table = tensors.get(STATIC_EMBEDDINGS_TENSOR).with_context(|| {
            format!("{embeddings_name} has no tensor {STATIC_EMBEDDINGS_TENSOR:?}")
        })?;
        let (vocab, dims) = table.dims2().with_context(|| {
            format!("tensor {STATIC_EMBEDDINGS_TENSOR:?} in {embeddings_name} is not a matrix")
        })?;
        if dims != manifest.dims {
            bail!(
                "{} says dims {} but {embeddings_name} holds vectors of {dims}",
                MANIFEST_FILE,
                manifest.dims,
            );
        }
        let needed = tokenizer.get_vocab_size(true);
        if vocab < needed {
            bail!("{embeddings_name} has {vocab} rows but the tokenizer has {needed} tokens");
        }
        let rows = table
            .to_dtype(DType::F32)?
            .flatten_all()?
            .to_vec1::<f32>()?;

        let max_tokens = if opts.max_tokens == 0 {
            manifest.max_tokens
        } else {
            opts.max_tokens
        }
        .max(1);
        let mut hasher = blake3::Hasher::new();
        hasher.update(b"sg-embed-static-v1\0");
        hasher.update(&file_digest(&manifest, src, STATIC_EMBEDDINGS_FILE)?);
        hasher.update(b"\0");
        hasher.update(blake3::hash(&tokenizer_bytes).as_bytes());
        hasher.update(&(max_tokens as u64).to_le_bytes());
        hasher.update(manifest.pooling.as_str().as_bytes());
        let mut out = [0u8; 16];
        out.copy_from_slice(&hasher.finalize().as_bytes()[..16]);
        let fingerprint = ModelFingerprint(out);

        let threads = if opts.threads == 0 {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        } else {
            opts.threads
        };
        let bulk_pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("sg-embed-{i}"))
            .build()?;
        tracing::info!(
            target: "sg::embed",
            model = %manifest.name,
            source = %src,
            vocab,
            dims,
            max_tokens,
            fingerprint = %fingerprint,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "static embedding model loaded"
        );
        Ok(StaticEmbedder {
            tokenizer,
            fast,
            rows,
            vocab,
            manifest,
            fingerprint,
            max_tokens,
            bulk_pool,
        })
    }

    /// The manifest the model was loaded with.
    pub fn manifest(&self) -> &ModelManifest {
        &self.manifest
    }

    /// The effective token limit.
    pub fn max_tokens(&self) -> usize {
        self.max_tokens
    }

    /// The token ids a text is averaged over: no special tokens, at most [`Self::max_tokens`].
    pub fn token_ids(&self, text: &str) -> anyhow::Result<Vec<u32>> {
        if let Some(ids) = self
            .fast
            .as_ref()
            .and_then(|f| f.encode(text, self.max_tokens))
        {
            return Ok(ids);
        }
        self.token_ids_slow(text)
    }

    /// [`Self::token_ids`] through the tokenizers crate only.
    fn token_ids_slow(&self, text: &str) -> anyhow::Result<Vec<u32>> {
        let enc = self.tokenizer.encode_fast(text, false).map_err(to_anyhow)?;
        let mut ids = enc.get_ids().to_vec();
        ids.truncate(self.max_tokens);
        Ok(ids)
    }

    fn embed(&self, text: &str) -> anyhow::Result<Vec<f32>> {
        let dims = self.manifest.dims;
        let mut v = vec![0f32; dims];
        for id in self.token_ids(text)? {
            let id = id as usize;
            if id >= self.vocab {
                continue;
            }
            let row = &self.rows[id * dims..(id + 1) * dims];
            v.iter_mut().zip(row).for_each(|(a, b)| *a += b);
        }
        // The mean's 1/n factor vanishes in the normalisation.
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            v.iter_mut().for_each(|x| *x /= norm);
        }
        Ok(v)
    }
}

impl Embedder for StaticEmbedder {
    fn fingerprint(&self) -> ModelFingerprint {
        self.fingerprint
    }

    fn dims(&self) -> usize {
        self.manifest.dims
    }

    fn name(&self) -> &str {
        &self.manifest.name
    }

    fn embed_documents(&self, texts: &[&str]) -> anyhow::Result<Vec<Vec<f32>>> {
        self.bulk_pool
            .install(|| texts.par_iter().map(|t| self.embed(t)).collect())
    }

    fn embed_query(&self, text: &str) -> anyhow::Result<Vec<f32>> {
        self.embed(text)
    }
}

/// BERT's uncased WordPiece tokenisation (`BertNormalizer` with lowercasing, `BertPreTokenizer`, `WordPiece`) for
/// ASCII text, without the tokenizers crate's per-token allocations and alignment bookkeeping. It gives the same
/// ids as the tokenizer it was built from (a test checks this on sg's own sources); texts it does not model
/// (non-ASCII, or containing an added token such as `[SEP]`) are left to the tokenizer.
struct AsciiWordPiece {
    vocab: std::collections::HashMap<String, u32>,
    prefix: String,
    unk: u32,
    max_word_chars: usize,
    /// Lowercased contents of the added tokens, which the tokenizer matches before normalising.
    added: Vec<String>,
}

impl AsciiWordPiece {
    /// `None` unless `tokenizer.json` has exactly the pipeline this models.
    fn new(tokenizer_json: &[u8], tokenizer: &Tokenizer) -> Option<Self> {
        let json: serde_json::Value = serde_json::from_slice(tokenizer_json).ok()?;
        let normalizer = &json["normalizer"];
        let model = &json["model"];
        let modelled = normalizer["type"] == "BertNormalizer"
            && normalizer["clean_text"] == true
            && normalizer["lowercase"] == true
            && json["pre_tokenizer"]["type"] == "BertPreTokenizer"
            && model["type"] == "WordPiece";
        if !modelled {
            return None;
        }
        let unk = tokenizer.token_to_id(model["unk_token"].as_str()?)?;
        let added = json["added_tokens"]
            .as_array()?
            .iter()
            .filter_map(|t| t["content"].as_str().map(str::to_lowercase))
            .collect();
        Some(AsciiWordPiece {
            vocab: tokenizer.get_vocab(false).into_iter().collect(),
            prefix: model["continuing_subword_prefix"].as_str()?.to_owned(),
            unk,
            max_word_chars: model["max_input_chars_per_word"].as_u64()? as usize,
            added,
        })
    }

    /// The first `limit` ids of `text`, or `None` if the text is not one this models.
    fn encode(&self, text: &str, limit: usize) -> Option<Vec<u32>> {
        if !text.is_ascii() {
            return None;
        }
        // Clean and lowercase: control characters vanish, whitespace separates.
        let mut clean = String::with_capacity(text.len());
        for b in text.bytes() {
            match b {
                b'\t' | b'\n' | b'\r' | b' ' => clean.push(' '),
                0..=0x1f | 0x7f => {}
                _ => clean.push(b.to_ascii_lowercase() as char),
            }
        }
        if self.added.iter().any(|a| clean.contains(a.as_str())) {
            return None;
        }
        let mut ids = Vec::new();
        let mut buf = String::with_capacity(self.prefix.len() + self.max_word_chars);
        let bytes = clean.as_bytes();
        let mut i = 0;
        while i < bytes.len() && ids.len() < limit {
            let b = bytes[i];
            if b == b' ' {
                i += 1;
                continue;
            }
            let end = if b.is_ascii_punctuation() {
                i + 1
            } else {
                i + bytes[i..]
                    .iter()
                    .position(|c| *c == b' ' || c.is_ascii_punctuation())
                    .unwrap_or(bytes.len() - i)
            };
            self.word(&clean[i..end], &mut buf, &mut ids);
            i = end;
        }
        ids.truncate(limit);
        Some(ids)
    }

    /// Greedy longest-match-first WordPiece of one word; the whole word is unknown if any part is.
    fn word(&self, word: &str, buf: &mut String, ids: &mut Vec<u32>) {
        if word.len() > self.max_word_chars {
            ids.push(self.unk);
            return;
        }
        let mark = ids.len();
        let mut start = 0;
        while start < word.len() {
            let mut end = word.len();
            let mut found = None;
            while start < end {
                buf.clear();
                if start > 0 {
                    buf.push_str(&self.prefix);
                }
                buf.push_str(&word[start..end]);
                if let Some(&id) = self.vocab.get(buf.as_str()) {
                    found = Some(id);
                    break;
                }
                end -= 1;
            }
            match found {
                Some(id) => {
                    ids.push(id);
                    start = end;
                }
                None => {
                    ids.truncate(mark);
                    ids.push(self.unk);
                    return;
                }
            }
        }
    }
}

/// A deterministic stand-in for a real model: a signed, hashed bag of lowercase word tokens (identifiers are also
/// split into their camelCase and snake_case parts), L2-normalised. Texts sharing words get similar vectors.
#[derive(Clone, Debug)]
pub struct FakeEmbedder {
    dims: usize,
    name: String,
}

impl FakeEmbedder {
    /// A fake embedder producing `dims`-long vectors (at least 1).
    pub fn new(dims: usize) -> Self {
        let dims = dims.max(1);
        FakeEmbedder {
            dims,
            name: format!("fake-{dims}"),
        }
    }

    fn embed(&self, text: &str) -> Vec<f32> {
        let mut v = vec![0f32; self.dims];
        for token in word_tokens(text) {
            let h = blake3::hash(token.as_bytes());
            let bytes = h.as_bytes();
            let slot =
                u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")) % self.dims as u64;
            let sign = if bytes[8] & 1 == 0 { 1.0 } else { -1.0 };
            v[slot as usize] += sign;
        }
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm == 0.0 {
            // No words at all: a fixed unit vector keeps the output normalised.
            v[0] = 1.0;
        } else {
            v.iter_mut().for_each(|x| *x /= norm);
        }
        v
    }
}

/// Lowercase word tokens of `text`: every identifier-like run, plus its camelCase / snake_case parts when it has
/// more than one.
fn word_tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for word in text
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
    {
        let parts = split_identifier(word);
        out.push(word.to_lowercase());
        if parts.len() > 1 {
            out.extend(parts);
        }
    }
    out
}

/// `HTTPServerError` → `http, server, error`; `read_to_string` → `read, to, string`.
fn split_identifier(word: &str) -> Vec<String> {
    let chars: Vec<char> = word.chars().collect();
    let mut parts = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c == '_' {
            if !current.is_empty() {
                parts.push(std::mem::take(&mut current));
            }
            continue;
        }
        let prev = i.checked_sub(1).map(|j| chars[j]);
        let next = chars.get(i + 1).copied();
        let boundary = c.is_uppercase()
            && prev.is_some_and(|p| {
                p.is_lowercase()
                    || p.is_numeric()
                    || (p.is_uppercase() && next.is_some_and(char::is_lowercase))
            });
        if boundary && !current.is_empty() {
            parts.push(std::mem::take(&mut current));
        }
        current.extend(c.to_lowercase());
    }
    if !current.is_empty() {
        parts.push(current);
    }
    parts
}

impl Embedder for FakeEmbedder {
    fn fingerprint(&self) -> ModelFingerprint {
        let mut hasher = blake3::Hasher::new();
        hasher.update(b"sg-embed-fake-v1\0");
        hasher.update(&(self.dims as u64).to_le_bytes());
        let mut out = [0u8; 16];
        out.copy_from_slice(&hasher.finalize().as_bytes()[..16]);
        ModelFingerprint(out)
    }

    fn dims(&self) -> usize {
        self.dims
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn embed_documents(&self, texts: &[&str]) -> anyhow::Result<Vec<Vec<f32>>> {
        Ok(texts.iter().map(|t| self.embed(t)).collect())
    }

    fn embed_query(&self, text: &str) -> anyhow::Result<Vec<f32>> {
        Ok(self.embed(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::OnceLock;

    fn model_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("models")
            .join(DEFAULT_MODEL_NAME)
    }

    /// One model shared by the tests that need it: loading takes a fraction of a second, but only once.
    fn model() -> &'static BertEmbedder {
        static MODEL: OnceLock<BertEmbedder> = OnceLock::new();
        MODEL.get_or_init(|| {
            BertEmbedder::load(&model_dir(), &EmbedOptions::default()).expect("default model loads")
        })
    }

    fn cos(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    fn norm(v: &[f32]) -> f32 {
        v.iter().map(|x| x * x).sum::<f32>().sqrt()
    }

    #[test]
    fn reference_sentence_matches_sentence_transformers() {
        let v = model().embed_query("This is an example sentence").unwrap();
        assert_eq!(v.len(), 384);
        let expected = [
            0.06765684f32,
            0.06349595,
            0.04871314,
            0.07930497,
            0.03744807,
        ];
        for (got, want) in v.iter().zip(expected) {
            assert!(
                (got - want).abs() < 1e-3,
                "got {:?}, want {expected:?}",
                &v[..5]
            );
        }
        assert!((norm(&v) - 1.0).abs() < 1e-5);
    }

    #[test]
    fn related_texts_are_close_and_unrelated_far() {
        let m = model();
        let q = m.embed_query("how to read a file").unwrap();
        let docs = m
            .embed_documents(&["open a file and read its contents", "binary tree rotation"])
            .unwrap();
        let related = cos(&q, &docs[0]);
        let unrelated = cos(&q, &docs[1]);
        assert!(related > 0.8, "related {related}");
        assert!(unrelated < 0.2, "unrelated {unrelated}");
    }

    #[test]
    fn batching_and_sorting_keep_order_and_do_not_change_vectors() {
        let m = model();
        let texts = [
            "fn main() { println!(\"hello\"); }",
            "x",
            "",
            "def read_config(path):\n    with open(path) as f:\n        return json.load(f)\n",
            "pub struct HttpServer { addr: SocketAddr, routes: Vec<Route>, workers: usize }",
            "binary tree rotation",
            "impl Iterator for Counter { type Item = u32; fn next(&mut self) -> Option<u32> { self.n += 1; Some(self.n) } }",
        ];
        let batched = m.embed_documents(&texts).unwrap();
        assert_eq!(batched.len(), texts.len());
        for (text, vector) in texts.iter().zip(&batched) {
            let single = m.embed_documents(&[text]).unwrap().remove(0);
            assert!(
                cos(&single, vector) > 0.9999,
                "{text:?}: {}",
                cos(&single, vector)
            );
            assert!((norm(vector) - 1.0).abs() < 1e-5);
            let query = m.embed_query(text).unwrap();
            assert!(cos(&query, vector) > 0.9999);
        }
        // Distinct texts give distinct vectors, so a mix-up of positions would show.
        assert!(cos(&batched[0], &batched[5]) < 0.9);
    }

    #[test]
    fn empty_input_gives_empty_output_and_empty_text_embeds() {
        let m = model();
        assert!(m.embed_documents(&[]).unwrap().is_empty());
        let v = m.embed_query("").unwrap();
        assert_eq!(v.len(), 384);
        assert!((norm(&v) - 1.0).abs() < 1e-5);
    }

    #[test]
    fn long_texts_are_truncated_at_max_tokens() {
        let m = model();
        assert_eq!(m.max_tokens(), 128);
        let long = "word ".repeat(1000);
        assert_eq!(m.token_count(&long).unwrap(), 128);
        assert_eq!(m.token_count("how to read a file").unwrap(), 7);
        let v = m.embed_documents(&[&long]).unwrap();
        assert!((norm(&v[0]) - 1.0).abs() < 1e-5);
    }

    #[test]
    fn query_cache_returns_identical_vectors() {
        let m = model();
        let a = m.embed_query("parse command line arguments").unwrap();
        let b = m.embed_query("parse command line arguments").unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn fingerprint_depends_on_max_tokens_and_differs_from_fake() {
        let dir = model_dir();
        let short = BertEmbedder::load(
            &dir,
            &EmbedOptions {
                max_tokens: 64,
                ..EmbedOptions::default()
            },
        )
        .unwrap();
        assert_eq!(short.max_tokens(), 64);
        assert_ne!(short.fingerprint(), model().fingerprint());
        assert_eq!(
            model().fingerprint(),
            BertEmbedder::load(&dir, &EmbedOptions::default())
                .unwrap()
                .fingerprint()
        );
        assert_ne!(model().fingerprint(), FakeEmbedder::new(384).fingerprint());
        assert_eq!(model().name(), "all-MiniLM-L6-v2");
        assert_eq!(model().dims(), 384);
    }

    #[test]
    fn mean_pool_ignores_padding_and_normalises() {
        let hidden = Tensor::new(
            &[[[3f32, 4.0], [100.0, 100.0]], [[1.0, 0.0], [0.0, 1.0]]],
            &Device::Cpu,
        )
        .unwrap();
        let mask = Tensor::new(&[[1u32, 0], [1, 1]], &Device::Cpu).unwrap();
        let out = mean_pool_l2(&hidden, &mask)
            .unwrap()
            .to_vec2::<f32>()
            .unwrap();
        let h = std::f32::consts::FRAC_1_SQRT_2;
        assert_eq!(out.len(), 2);
        assert!(
            (out[0][0] - 0.6).abs() < 1e-6 && (out[0][1] - 0.8).abs() < 1e-6,
            "{out:?}"
        );
        assert!(
            (out[1][0] - h).abs() < 1e-6 && (out[1][1] - h).abs() < 1e-6,
            "{out:?}"
        );
    }

    #[test]
    fn fake_embedder_is_deterministic_and_normalised() {
        let fake = FakeEmbedder::new(64);
        let texts = [
            "fn readToString(path: &Path)",
            "read_to_string",
            "",
            "!!!",
            "HTTPServerError",
        ];
        let a = fake.embed_documents(&texts).unwrap();
        let b = FakeEmbedder::new(64).embed_documents(&texts).unwrap();
        assert_eq!(a, b);
        for v in &a {
            assert_eq!(v.len(), 64);
            assert!((norm(v) - 1.0).abs() < 1e-5);
        }
        assert_eq!(fake.embed_query(texts[0]).unwrap(), a[0]);
        // Shared split parts (read, to, string) make camelCase and snake_case spellings similar: 3 of 4 tokens.
        let wide = FakeEmbedder::new(1024);
        let (x, y) = (
            wide.embed_query("readToString").unwrap(),
            wide.embed_query("read_to_string").unwrap(),
        );
        assert!((cos(&x, &y) - 0.75).abs() < 1e-6, "{}", cos(&x, &y));
        assert_ne!(fake.fingerprint(), FakeEmbedder::new(32).fingerprint());
        assert_eq!(fake.dims(), 64);
    }

    #[test]
    fn identifiers_split_into_words() {
        assert_eq!(
            split_identifier("HTTPServerError"),
            ["http", "server", "error"]
        );
        assert_eq!(split_identifier("read_to_string"), ["read", "to", "string"]);
        assert_eq!(split_identifier("sha256Hash"), ["sha256", "hash"]);
        assert_eq!(
            word_tokens("let fooBar = 1;"),
            ["let", "foobar", "foo", "bar", "1"]
        );
    }

    #[test]
    fn manifest_parses_the_shipped_file() {
        let m = ModelManifest::load(&model_dir()).unwrap();
        assert_eq!(m.name, "all-MiniLM-L6-v2");
        assert_eq!(m.kind, "bert");
        assert_eq!(m.dims, 384);
        assert_eq!(m.pooling, Pooling::Mean);
        assert!(m.normalize);
        assert_eq!(m.max_tokens, 128);
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

    #[test]
    fn model_without_manifest_loads_with_the_same_vectors() {
        let tmp = tempfile::tempdir().unwrap();
        let src = model_dir();
        for f in [CONFIG_FILE, TOKENIZER_FILE] {
            std::fs::copy(src.join(f), tmp.path().join(f)).unwrap();
        }
        // A hard link (or a copy where links are impossible) avoids duplicating 45 MB.
        if std::fs::hard_link(src.join(WEIGHTS_FILE), tmp.path().join(WEIGHTS_FILE)).is_err() {
            std::fs::copy(src.join(WEIGHTS_FILE), tmp.path().join(WEIGHTS_FILE)).unwrap();
        }
        let m = BertEmbedder::load(
            tmp.path(),
            &EmbedOptions {
                threads: 1,
                ..EmbedOptions::default()
            },
        )
        .unwrap();
        assert_eq!(m.max_tokens(), 256);
        let a = m.embed_query("how to read a file").unwrap();
        let b = model().embed_query("how to read a file").unwrap();
        assert!(cos(&a, &b) > 0.99999);
    }

    #[test]
    fn missing_or_corrupt_files_are_named_in_the_error() {
        let tmp = tempfile::tempdir().unwrap();
        let missing = tmp.path().join("nope");
        let err = BertEmbedder::load(&missing, &EmbedOptions::default())
            .err()
            .unwrap();
        assert_eq!(
            err.to_string(),
            format!("model folder not found: {}", missing.display())
        );

        let err = BertEmbedder::load(tmp.path(), &EmbedOptions::default())
            .err()
            .unwrap();
        assert_eq!(
            err.to_string(),
            format!(
                "model file missing: {}",
                tmp.path().join(CONFIG_FILE).display()
            )
        );

        for f in [CONFIG_FILE, TOKENIZER_FILE, MANIFEST_FILE] {
            std::fs::copy(model_dir().join(f), tmp.path().join(f)).unwrap();
        }
        let err = BertEmbedder::load(tmp.path(), &EmbedOptions::default())
            .err()
            .unwrap();
        assert_eq!(
            err.to_string(),
            format!(
                "model file missing: {}",
                tmp.path().join(WEIGHTS_FILE).display()
            )
        );

        std::fs::write(tmp.path().join(WEIGHTS_FILE), b"not a safetensors file").unwrap();
        let err = BertEmbedder::load(tmp.path(), &EmbedOptions::default())
            .err()
            .unwrap();
        assert_eq!(
            err.to_string(),
            format!(
                "cannot load weights from {}",
                tmp.path().join(WEIGHTS_FILE).display()
            )
        );

        std::fs::write(tmp.path().join(TOKENIZER_FILE), b"{").unwrap();
        let err = BertEmbedder::load(tmp.path(), &EmbedOptions::default())
            .err()
            .unwrap();
        assert_eq!(
            err.to_string(),
            format!(
                "invalid tokenizer in {}",
                tmp.path().join(TOKENIZER_FILE).display()
            )
        );
    }

    /// Writes a static model folder: a word-level tokenizer over `vocab` (whitespace split) and its `rows` as f16.
    fn write_static_model(dir: &Path, vocab: &[&str], rows: &[[f32; 3]], max_tokens: usize) {
        std::fs::create_dir_all(dir).unwrap();
        let ids: serde_json::Map<String, serde_json::Value> = vocab
            .iter()
            .enumerate()
            .map(|(i, t)| (t.to_string(), serde_json::Value::from(i)))
            .collect();
        let tokenizer = serde_json::json!({
            "version": "1.0",
            "truncation": null,
            "padding": null,
            "added_tokens": [],
            "normalizer": null,
            "pre_tokenizer": {"type": "Whitespace"},
            "post_processor": null,
            "decoder": null,
            "model": {"type": "WordLevel", "vocab": ids, "unk_token": "[UNK]"}
        });
        std::fs::write(dir.join(TOKENIZER_FILE), tokenizer.to_string()).unwrap();
        let flat: Vec<f32> = rows.iter().flatten().copied().collect();
        let table = Tensor::from_vec(flat, (rows.len(), 3), &Device::Cpu)
            .unwrap()
            .to_dtype(DType::F16)
            .unwrap();
        let tensors =
            std::collections::HashMap::from([(STATIC_EMBEDDINGS_TENSOR.to_owned(), table)]);
        candle_core::safetensors::save(&tensors, dir.join(STATIC_EMBEDDINGS_FILE)).unwrap();
        let manifest = serde_json::json!({
            "name": "tiny-static", "kind": "static", "dims": 3, "pooling": "weighted_mean",
            "normalize": true, "max_tokens": max_tokens
        });
        std::fs::write(dir.join(MANIFEST_FILE), manifest.to_string()).unwrap();
    }

    const TINY_VOCAB: [&str; 5] = ["[UNK]", "read", "a", "file", "tree"];
    // Values exact in f16, so the expected vectors can be computed by hand.
    const TINY_ROWS: [[f32; 3]; 5] = [
        [0.5, 0.5, 0.5],
        [1.0, 0.0, 0.0],
        [0.0, 0.25, 0.0],
        [0.0, 2.0, 2.0],
        [-3.0, 1.0, 0.0],
    ];

    fn unit(v: [f32; 3]) -> Vec<f32> {
        let n = norm(&v);
        v.iter().map(|x| x / n).collect()
    }

    fn assert_close(got: &[f32], want: &[f32]) {
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-6, "got {got:?}, want {want:?}");
        }
    }

    #[test]
    fn static_model_embeds_the_weighted_mean_of_token_rows() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("tiny");
        write_static_model(&dir, &TINY_VOCAB, &TINY_ROWS, 3);
        let m = StaticEmbedder::load(&dir, &EmbedOptions::default()).unwrap();
        assert_eq!((m.dims(), m.name(), m.max_tokens()), (3, "tiny-static", 3));

        // read + a + file: the rows' lengths weigh the tokens, repeated tokens count twice.
        let q = m.embed_query("read a file").unwrap();
        assert_close(&q, &unit([1.0, 2.25, 2.0]));
        let docs = m
            .embed_documents(&[
                "file read file",
                "tree",
                "unknown words",
                "",
                "read a file tree",
            ])
            .unwrap();
        assert_close(&docs[0], &unit([1.0, 4.0, 4.0]));
        assert_close(&docs[1], &unit([-3.0, 1.0, 0.0]));
        // Unknown words take the [UNK] row, once per word.
        assert_close(&docs[2], &unit([1.0, 1.0, 1.0]));
        // No tokens: the zero vector.
        assert_eq!(docs[3], vec![0.0; 3]);
        // Cut at max_tokens = 3: "tree" is dropped.
        assert_close(&docs[4], &q);
        assert_eq!(m.token_ids("read a file tree").unwrap(), [1, 2, 3]);

        // A longer limit is part of the fingerprint and changes the vector.
        let long = StaticEmbedder::load(
            &dir,
            &EmbedOptions {
                max_tokens: 8,
                ..EmbedOptions::default()
            },
        )
        .unwrap();
        assert_close(
            &long.embed_query("read a file tree").unwrap(),
            &unit([-2.0, 3.25, 2.0]),
        );
        assert_ne!(long.fingerprint(), m.fingerprint());
    }

    #[test]
    fn static_fingerprint_follows_the_vectors_and_load_model_picks_the_kind() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
        write_static_model(&a, &TINY_VOCAB, &TINY_ROWS, 16);
        write_static_model(&b, &TINY_VOCAB, &TINY_ROWS, 16);
        let fa = StaticEmbedder::load(&a, &EmbedOptions::default())
            .unwrap()
            .fingerprint();
        assert_eq!(
            fa,
            StaticEmbedder::load(&b, &EmbedOptions::default())
                .unwrap()
                .fingerprint()
        );
        let mut other = TINY_ROWS;
        other[4][2] = 1.0;
        write_static_model(&b, &TINY_VOCAB, &other, 16);
        assert_ne!(
            fa,
            StaticEmbedder::load(&b, &EmbedOptions::default())
                .unwrap()
                .fingerprint()
        );
        assert_ne!(fa, model().fingerprint());

        let loaded = load_model(&a, &EmbedOptions::default()).unwrap();
        assert_eq!(
            (loaded.name(), loaded.dims(), loaded.fingerprint()),
            ("tiny-static", 3, fa)
        );
        let bert = load_model(&model_dir(), &EmbedOptions::default()).unwrap();
        assert_eq!((bert.name(), bert.dims()), ("all-MiniLM-L6-v2", 384));
        let err = StaticEmbedder::load(&model_dir(), &EmbedOptions::default())
            .err()
            .unwrap();
        assert!(err.to_string().contains("not a static one"), "{err:#}");
        let missing = tmp.path().join("nope");
        let err = load_model(&missing, &EmbedOptions::default())
            .err()
            .unwrap();
        assert_eq!(
            err.to_string(),
            format!("model folder not found: {}", missing.display())
        );
    }

    #[test]
    fn static_model_checks_its_table() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("short");
        // Fewer rows than tokens: an id would have no vector.
        write_static_model(&dir, &TINY_VOCAB, &TINY_ROWS[..4], 16);
        let err = StaticEmbedder::load(&dir, &EmbedOptions::default())
            .err()
            .unwrap();
        assert!(
            err.to_string()
                .contains("has 4 rows but the tokenizer has 5 tokens"),
            "{err:#}"
        );
        std::fs::remove_file(dir.join(STATIC_EMBEDDINGS_FILE)).unwrap();
        let err = StaticEmbedder::load(&dir, &EmbedOptions::default())
            .err()
            .unwrap();
        assert_eq!(
            err.to_string(),
            format!(
                "model file missing: {}",
                dir.join(STATIC_EMBEDDINGS_FILE).display()
            )
        );
    }

    #[test]
    fn ascii_fast_path_gives_the_tokenizers_ids() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("shipped-tokenizer");
        write_static_model(&dir, &TINY_VOCAB, &TINY_ROWS, 100_000);
        std::fs::copy(model_dir().join(TOKENIZER_FILE), dir.join(TOKENIZER_FILE)).unwrap();
        // Enough rows for the real vocabulary.
        let rows = vec![[0.5f32, -0.25, 1.0]; 30522];
        let flat: Vec<f32> = rows.iter().flatten().copied().collect();
        let table = Tensor::from_vec(flat, (30522, 3), &Device::Cpu).unwrap();
        candle_core::safetensors::save(
            &std::collections::HashMap::from([(STATIC_EMBEDDINGS_TENSOR.to_owned(), table)]),
            dir.join(STATIC_EMBEDDINGS_FILE),
        )
        .unwrap();
        let m = StaticEmbedder::load(&dir, &EmbedOptions::default()).unwrap();
        let fast = m
            .fast
            .as_ref()
            .expect("the shipped tokenizer has a fast path");

        let mut texts: Vec<String> = [
            "HTTPServerError read_to_string(&path)?;",
            "a\x01b\x0bc\x7fd\te\r\nf",
            "supercalifragilisticexpialidociousness antidisestablishmentarianism",
            &"x".repeat(150),
            &format!("{} tail", "ab".repeat(60)),
            "   ",
            "",
            "$$ ## !! ~~ `code` 'q' \"dq\" <T: Ord> [i] {k: v} a.b::c->d => e |x| x^2 @deco #[derive]",
            "##ing ##s unaffable 12345678901234567890 0x7fff_ffff 3.14e-10",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for file in [
            include_str!("mod.rs"),
            include_str!("../chunk/mod.rs"),
            include_str!("../chunk/walker.rs"),
            include_str!("../chunk/tests.rs"),
            include_str!("../query.rs"),
        ] {
            texts.extend(
                file.split("\n\n")
                    .filter(|t| t.is_ascii())
                    .map(str::to_owned),
            );
        }
        let mut modelled = 0;
        for text in &texts {
            let slow = m.token_ids_slow(text).unwrap();
            match fast.encode(text, 100_000) {
                Some(ids) => {
                    assert_eq!(ids, slow, "{text:?}");
                    let cut = slow.len() / 2;
                    assert_eq!(fast.encode(text, cut).unwrap(), slow[..cut], "{text:?}");
                    modelled += 1;
                }
                // Only texts holding an added token such as `[CLS]` (in any case) are left out.
                None => assert!(
                    ["[pad]", "[unk]", "[cls]", "[sep]", "[mask]"]
                        .iter()
                        .any(|t| text.to_lowercase().contains(t)),
                    "{text:?}"
                ),
            }
        }
        assert!(modelled > 200, "{modelled} of {}", texts.len());
        // Texts the fast path does not model are left to the tokenizer.
        assert_eq!(fast.encode("naïve café", 100), None);
        assert_eq!(fast.encode("x [SEP] y", 100), None);
        assert_eq!(
            m.token_ids("x [SEP] y").unwrap(),
            m.token_ids_slow("x [SEP] y").unwrap()
        );
        assert_eq!(
            m.token_ids("naïve").unwrap(),
            m.token_ids_slow("naïve").unwrap()
        );
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
}
