//! [`StaticEmbedder`]: a static (model2vec-style) model, one vector per vocabulary token, whose text vector is the
//! normalised mean of its tokens' rows.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, bail};
use candle_core::{DType, Device};
use rayon::prelude::*;
use tokenizers::Tokenizer;

use super::manifest::{ModelKind, ModelManifest};
use super::pooling::normalize_l2;
use super::wordpiece::AsciiWordPiece;
use super::{
    EmbedOptions, Embedder, MANIFEST_FILE, STATIC_EMBEDDINGS_FILE, STATIC_EMBEDDINGS_TENSOR,
    file_digest, read_source_tokenizer, to_anyhow,
};
use crate::ids::ModelFingerprint;
use crate::models::ModelSource;

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

        let max_tokens = opts.max_tokens_or(&manifest).max(1);
        let mut hasher = blake3::Hasher::new();
        hasher.update(b"sg-embed-static-v1\0");
        hasher.update(&file_digest(&manifest, src, STATIC_EMBEDDINGS_FILE)?);
        hasher.update(b"\0");
        hasher.update(blake3::hash(&tokenizer_bytes).as_bytes());
        hasher.update(&(max_tokens as u64).to_le_bytes());
        hasher.update(manifest.pooling.as_str().as_bytes());
        let fingerprint = super::fingerprint_of(&hasher);

        let threads = opts.thread_count();
        let bulk_pool = super::bulk_pool(threads)?;
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
        normalize_l2(&mut v);
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

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Tensor;

    use crate::embed::tests::{model, model_dir, norm};
    use crate::embed::{MANIFEST_FILE, TOKENIZER_FILE, load_model};

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
            include_str!("manifest.rs"),
            include_str!("pooling.rs"),
            include_str!("bert.rs"),
            include_str!("static_model.rs"),
            include_str!("wordpiece.rs"),
            include_str!("fake.rs"),
            include_str!("tests.rs"),
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
}
