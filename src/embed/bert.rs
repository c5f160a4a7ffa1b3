//! [`BertEmbedder`]: a BERT-family transformer on the CPU, through its reduced-precision twin
//! ([`QuantizedBert`]: bf16 for queries and documents where the CPU multiplies bf16, int8 for queries elsewhere)
//! or candle in f32 pooled by [`mean_pool_l2`]; its fingerprint, and its cache of recent queries.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;

use anyhow::{Context, bail};
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config as BertConfig};
use rayon::prelude::*;
use serde::Deserialize;
use tokenizers::{
    Encoding, PaddingDirection, PaddingParams, PaddingStrategy, Tokenizer, TruncationDirection,
    TruncationParams, TruncationStrategy,
};

use super::manifest::ModelManifest;
use super::pooling::{Pooling, mean_pool_l2};
use super::quantized::QuantizedBert;
use super::{
    CONFIG_FILE, EmbedOptions, Embedder, MANIFEST_FILE, TOKENIZER_FILE, WEIGHTS_FILE, file_digest,
    read_source_tokenizer, to_anyhow,
};
use crate::ids::ModelFingerprint;
use crate::models::ModelSource;

/// How many recent queries [`BertEmbedder::embed_query`] remembers.
const QUERY_CACHE_CAPACITY: usize = 64;

/// all-MiniLM-L6-v2 or any other BERT-family model on the CPU. Queries run through reduced-precision dense
/// layers when the model allows ([`QuantizedBert`]: bf16 where the CPU multiplies bf16, int8 elsewhere);
/// documents through the same layers when they are bf16, through candle in f32 otherwise.
pub struct BertEmbedder {
    /// Candle's f32 model, when a path needs it (documents or queries not on `reduced`).
    model: Option<BertModel>,
    /// The same model with reduced-precision dense layers.
    pub(super) reduced: Option<QuantizedBert>,
    /// Whether queries go through `reduced` ([`EmbedOptions::quantized_queries`]).
    quantized_queries: bool,
    /// Whether documents go through `reduced` ([`EmbedOptions::quantized_documents`]).
    quantized_documents: bool,
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
        let invalid = || {
            format!(
                "invalid BERT configuration in {}",
                src.describe(CONFIG_FILE)
            )
        };
        // Read once: candle's configuration, and the fields the reduced path checks.
        let config_json: serde_json::Value =
            serde_json::from_slice(&config_bytes).with_context(invalid)?;
        let config = BertConfig::deserialize(&config_json).with_context(invalid)?;
        if config.hidden_size != manifest.dims {
            bail!(
                "{} says dims {} but {} has hidden_size {}",
                MANIFEST_FILE,
                manifest.dims,
                src.describe(CONFIG_FILE),
                config.hidden_size
            );
        }
        let max_tokens = opts
            .max_tokens_or(&manifest)
            .clamp(2, config.max_position_embeddings);

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

        let (model, query_model, quantized_documents) = {
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
            let query_model =
                if (opts.quantized_queries || opts.quantized_documents)
                    && manifest.pooling == Pooling::Mean
                    && super::quantized::supports(&config_json)
                {
                    Some(QuantizedBert::load(&vb, &config).with_context(|| {
                        format!("cannot quantise the weights in {weights_name}")
                    })?)
                } else {
                    None
                };
            let quantized_documents = opts.quantized_documents
                && query_model.as_ref().is_some_and(QuantizedBert::is_bf16);
            let query_model = query_model.filter(|_| opts.quantized_queries || quantized_documents);
            // Candle's f32 copy is needed only by a path the reduced model does not take.
            let model = if quantized_documents && opts.quantized_queries {
                None
            } else {
                Some(BertModel::load(vb, &config).with_context(|| {
                    format!(
                        "weights in {weights_name} do not fit {}",
                        src.describe(CONFIG_FILE)
                    )
                })?)
            };
            (model, query_model, quantized_documents)
        };

        let weights_digest = file_digest(&manifest, src, WEIGHTS_FILE)?;
        let fingerprint = bert_fingerprint(
            &weights_digest,
            &tokenizer_bytes,
            max_tokens,
            manifest.pooling,
            quantized_documents,
        );

        let threads = opts.thread_count();
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
        let bulk_pool = super::bulk_pool(threads)?;

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
            reduced: query_model,
            quantized_queries: opts.quantized_queries,
            quantized_documents,
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

    /// The reduced-precision model, when the model allows one and an option asks for it.
    pub fn reduced_model(&self) -> Option<&QuantizedBert> {
        self.reduced.as_ref()
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
    /// attention mask `(rows, width)` (1 for a real token), ready for [`mean_pool_l2`]. Candle's f32 model
    /// runs them, so this fails when neither path needed it loaded ([`EmbedOptions::quantized_documents`]).
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
        let model = self.model.as_ref().context(
            "the f32 model is not loaded: documents and queries take the bf16 path (SG_F32_DOCUMENTS=1 loads it)",
        )?;
        let hidden = model.forward(&ids, &token_types, Some(&mask))?;
        Ok((hidden.to_dtype(DType::F32)?, mask))
    }

    /// Runs BERT on already tokenised, unpadded encodings and pools them; one row per encoding.
    fn forward(&self, encodings: &[&Encoding]) -> anyhow::Result<Vec<Vec<f32>>> {
        let rows: Vec<&[u32]> = encodings.iter().map(|e| e.get_ids()).collect();
        let (hidden, mask) = self.hidden_states(&rows)?;
        Ok(mean_pool_l2(&hidden, &mask)?.to_vec2::<f32>()?)
    }

    pub(super) fn encode(&self, text: &str) -> anyhow::Result<Encoding> {
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
    bf16_documents: bool,
) -> ModelFingerprint {
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"sg-embed-bert-v1\0");
    hasher.update(weights_digest);
    hasher.update(b"\0");
    hasher.update(blake3::hash(tokenizer).as_bytes());
    hasher.update(&(max_tokens as u64).to_le_bytes());
    hasher.update(pooling.as_str().as_bytes());
    if bf16_documents {
        hasher.update(b"\0bf16-documents");
    }
    super::fingerprint_of(&hasher)
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
            let reduced = self.reduced.as_ref().filter(|_| self.quantized_documents);
            let out = match reduced {
                // One text per forward pass: no padding, and texts share the pool.
                Some(q) => encodings
                    .par_iter()
                    .map(|e| q.embed(e.get_ids()))
                    .collect::<anyhow::Result<Vec<_>>>()?,
                None => {
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
                    out
                }
            };
            tracing::debug!(
                target: "sg::embed",
                texts = texts.len(),
                tokens = encodings.iter().map(Encoding::len).sum::<usize>(),
                elapsed_ms = started.elapsed().as_millis() as u64,
                path = if reduced.is_some() { "bf16" } else { "f32" },
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
            if let Some(q) = self.reduced.as_ref().filter(|_| self.quantized_queries) {
                return q.embed(enc.get_ids());
            }
            let mut rows = self.forward(&[&enc])?;
            Ok(rows.pop().unwrap_or_default())
        })?;
        self.remember(text, &vector);
        Ok(vector)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embed::FakeEmbedder;
    use crate::embed::tests::{cos, float_model, model, model_dir, norm};

    #[test]
    fn reference_sentence_matches_sentence_transformers() {
        // The document path (bf16 where the CPU has it, f32 through candle otherwise); queries take the reduced
        // path, within its rounding.
        let m = model();
        let v = m
            .embed_documents(&["This is an example sentence"])
            .unwrap()
            .remove(0);
        let q = m.embed_query("This is an example sentence").unwrap();
        assert!(cos(&q, &v) > 0.995, "{}", cos(&q, &v));
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
            // Queries go through the reduced path.
            let query = m.embed_query(text).unwrap();
            assert!(
                cos(&query, vector) > 0.995,
                "{text:?}: {}",
                cos(&query, vector)
            );
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
        assert_eq!(m.max_tokens(), 64);
        let long = "word ".repeat(1000);
        assert_eq!(m.token_count(&long).unwrap(), 64);
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
                max_tokens: 32,
                ..EmbedOptions::default()
            },
        )
        .unwrap();
        assert_eq!(short.max_tokens(), 32);
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
    fn bf16_documents_agree_with_the_float_path_and_have_a_fingerprint_of_their_own() {
        let m = model();
        if !m.reduced_model().is_some_and(QuantizedBert::is_bf16) {
            eprintln!("skipped: this CPU has no AVX512-BF16, documents take the f32 path");
            return;
        }
        let float = float_model();
        assert_ne!(float.fingerprint(), m.fingerprint());
        // Documents and queries both on the reduced path: candle's copy is not loaded.
        assert!(m.hidden_states(&[&[101, 102]]).is_err());
        assert!(float.hidden_states(&[&[101, 102]]).is_ok());
        let long =
            "pub fn parse(input: &str) -> Result<Ast, Error> { tokenize(input)?.collect() }\n"
                .repeat(9);
        let texts = [
            "fn main() { println!(\"hello\"); }",
            "def read_config(path):\n    with open(path) as f:\n        return json.load(f)\n",
            long.as_str(),
        ];
        let (a, b) = (
            m.embed_documents(&texts).unwrap(),
            float.embed_documents(&texts).unwrap(),
        );
        for ((t, x), y) in texts.iter().zip(&a).zip(&b) {
            assert!(cos(x, y) > 0.9999, "{t:?}: {}", cos(x, y));
            assert!((norm(x) - 1.0).abs() < 1e-5);
        }
        assert!(cos(&a[0], &a[1]) < 0.9, "distinct texts stay apart");
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
}
