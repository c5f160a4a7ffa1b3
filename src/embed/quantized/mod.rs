//! BERT's forward pass over reduced-precision dense layers, on plain slices, one text at a time: every query,
//! and every document on CPUs that multiply bf16.
//!
//! The dense layers hold nearly all of the arithmetic. Where the CPU has AVX512-BF16 their weights are bf16,
//! packed for a kernel that multiplies 32 pairs an instruction ([`bf16`]); vectors agree with f32 to a cosine
//! of 0.99997 at worst, so documents take this path too (2.8 times candle's f32 at 128 word pieces, and no
//! padding: one text a pass). Elsewhere the weights are int8 with a scale per group of [`GROUP`] inputs of an
//! output row (10.6 MB for MiniLM-L6, where f32 needs 42 MB, more than a last-level cache holds), multiplied
//! by f32 activations with AVX-512 or AVX2, and only queries take it (a few rows, where reading the weights
//! is the cost). Either way the kernels are picked at run time, so the binary runs on any x86-64, with
//! portable code elsewhere. Layer norms, attention, GELU and pooling are f32 ([`ops`]), as in candle's BERT,
//! whose tensor names and configuration this reads; `embed::tests` and `examples/embed_bench.rs` measure how
//! close the paths are.

use anyhow::{Context, bail};
use candle_core::DType;
use candle_nn::VarBuilder;
use candle_transformers::models::bert::Config as BertConfig;
use rayon::prelude::*;

mod bf16;
mod ops;

/// Inputs per quantisation scale.
pub const GROUP: usize = 32;

/// A dense layer `y = x·Wᵀ + b` with reduced-precision weights: bf16 in panels of [`bf16::PANEL`] outputs when
/// the CPU multiplies bf16 pairs (AVX512-BF16), int8 with one scale per [`GROUP`] inputs of each output row
/// otherwise.
struct QLinear {
    inputs: usize,
    outputs: usize,
    weights: Weights,
    bias: Vec<f32>,
}

enum Weights {
    Int8 {
        /// `outputs × inputs`, row-major.
        weights: Vec<i8>,
        /// `outputs × inputs / GROUP`.
        scales: Vec<f32>,
    },
    Bf16(bf16::Panels),
}

impl QLinear {
    /// The f32 weights (`outputs × inputs`) and bias of the layer under `vb`.
    fn read(
        vb: &VarBuilder,
        outputs: usize,
        inputs: usize,
    ) -> anyhow::Result<(Vec<f32>, Vec<f32>)> {
        let w: Vec<f32> = vb
            .get((outputs, inputs), "weight")?
            .to_dtype(DType::F32)?
            .flatten_all()?
            .to_vec1()?;
        let bias: Vec<f32> = vb.get(outputs, "bias")?.to_dtype(DType::F32)?.to_vec1()?;
        Ok((w, bias))
    }

    fn load(
        vb: &VarBuilder,
        outputs: usize,
        inputs: usize,
        use_bf16: bool,
    ) -> anyhow::Result<Self> {
        let (w, bias) = Self::read(vb, outputs, inputs)?;
        Self::new(&w, bias, outputs, inputs, use_bf16)
    }

    /// bf16 weights when `use_bf16` and the shape fits, int8 otherwise.
    fn new(
        w: &[f32],
        bias: Vec<f32>,
        outputs: usize,
        inputs: usize,
        use_bf16: bool,
    ) -> anyhow::Result<Self> {
        let weights = if use_bf16 && bf16::fits(outputs, inputs) {
            Weights::Bf16(bf16::Panels::pack(w, outputs, inputs))
        } else {
            let (weights, scales) = quantize_int8(w, inputs)?;
            Weights::Int8 { weights, scales }
        };
        Ok(QLinear {
            inputs,
            outputs,
            weights,
            bias,
        })
    }

    /// `x` holds `rows × inputs`; returns `rows × outputs`. Output columns are shared out over the current
    /// rayon pool in blocks.
    fn forward(&self, x: &[f32], rows: usize) -> Vec<f32> {
        let mut y = match &self.weights {
            Weights::Bf16(p) => p.forward(x, rows),
            Weights::Int8 { weights, scales } => self.forward_int8(weights, scales, x, rows),
        };
        for row in y.chunks_exact_mut(self.outputs) {
            for (v, b) in row.iter_mut().zip(&self.bias) {
                *v += b;
            }
        }
        y
    }

    fn forward_int8(&self, weights: &[i8], scales: &[f32], x: &[f32], rows: usize) -> Vec<f32> {
        let mut y = vec![0f32; rows * self.outputs];
        // Transposed while computing (each task owns whole output columns), then laid out row-major.
        let per_task = 64;
        let mut cols = vec![0f32; self.outputs * rows];
        cols.par_chunks_mut(per_task * rows)
            .enumerate()
            .for_each(|(task, out)| {
                let first = task * per_task;
                for (k, slot) in out.chunks_exact_mut(rows).enumerate() {
                    let o = first + k;
                    let w = &weights[o * self.inputs..(o + 1) * self.inputs];
                    let s = &scales[o * self.inputs / GROUP..(o + 1) * self.inputs / GROUP];
                    dot_rows(x, self.inputs, w, s, slot);
                }
            });
        for o in 0..self.outputs {
            for r in 0..rows {
                y[r * self.outputs + o] = cols[o * rows + r];
            }
        }
        y
    }
}

/// Int8 weights with one scale per [`GROUP`] inputs of an output row, from `outputs × inputs` f32 weights.
fn quantize_int8(w: &[f32], inputs: usize) -> anyhow::Result<(Vec<i8>, Vec<f32>)> {
    if !inputs.is_multiple_of(GROUP) {
        bail!("{inputs} inputs is not a multiple of {GROUP}");
    }
    let mut weights = Vec::with_capacity(w.len());
    let mut scales = Vec::with_capacity(w.len() / GROUP);
    for g in w.chunks_exact(GROUP) {
        let max = g.iter().fold(0f32, |m, x| m.max(x.abs()));
        let scale = if max > 0.0 { max / 127.0 } else { 1.0 };
        scales.push(scale);
        weights.extend(
            g.iter()
                .map(|x| (x / scale).round().clamp(-127.0, 127.0) as i8),
        );
    }
    Ok((weights, scales))
}

/// `out[r] = Σ_g scale[g] · Σ_{i in group g} x[r][i] · w[i]` for every row `r` of `x` (`out.len()` rows of
/// `inputs` values).
fn dot_rows(x: &[f32], inputs: usize, w: &[i8], scales: &[f32], out: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F (checked above); the slices' lengths are checked inside.
            unsafe { avx512::dot_rows(x, inputs, w, scales, out) };
            return;
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU has AVX2 and FMA (checked above); the slices' lengths are checked inside.
            unsafe { avx2::dot_rows(x, inputs, w, scales, out) };
            return;
        }
    }
    dot_rows_portable(x, inputs, w, scales, out);
}

fn dot_rows_portable(x: &[f32], inputs: usize, w: &[i8], scales: &[f32], out: &mut [f32]) {
    for (r, slot) in out.iter_mut().enumerate() {
        let row = &x[r * inputs..(r + 1) * inputs];
        let mut total = 0f32;
        for ((xg, wg), s) in row
            .chunks_exact(GROUP)
            .zip(w.chunks_exact(GROUP))
            .zip(scales)
        {
            let dot: f32 = xg.iter().zip(wg).map(|(a, b)| a * *b as f32).sum();
            total += dot * s;
        }
        *slot = total;
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::GROUP;
    use std::arch::x86_64::*;

    /// Four rows of `x` at a time share each group's weights, converted to f32 once.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn dot_rows(
        x: &[f32],
        inputs: usize,
        w: &[i8],
        scales: &[f32],
        out: &mut [f32],
    ) {
        let rows = out.len();
        assert!(x.len() >= rows * inputs && w.len() >= inputs && scales.len() * GROUP >= inputs);
        let groups = inputs / GROUP;
        let mut r = 0;
        while r < rows {
            let block = (rows - r).min(4);
            let mut total = [_mm256_setzero_ps(); 4];
            for (g, &scale) in scales.iter().enumerate().take(groups) {
                let mut acc = [_mm256_setzero_ps(); 4];
                for k in 0..GROUP / 8 {
                    let i = g * GROUP + k * 8;
                    // SAFETY: `i + 8 <= inputs`, within `w` and within each row of `x` (asserted above).
                    let wv = unsafe {
                        _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(
                            w.as_ptr().add(i) as *const __m128i
                        )))
                    };
                    for (b, a) in acc.iter_mut().enumerate().take(block) {
                        // SAFETY: row `r + b < rows` of `x` holds `inputs` values past `i + 8`.
                        let xv = unsafe { _mm256_loadu_ps(x.as_ptr().add((r + b) * inputs + i)) };
                        *a = _mm256_fmadd_ps(xv, wv, *a);
                    }
                }
                let s = _mm256_set1_ps(scale);
                for b in 0..block {
                    total[b] = _mm256_fmadd_ps(acc[b], s, total[b]);
                }
            }
            for b in 0..block {
                out[r + b] = hsum(total[b]);
            }
            r += block;
        }
    }

    #[target_feature(enable = "avx2,fma")]
    fn hsum(v: __m256) -> f32 {
        let lo = _mm256_castps256_ps128(v);
        let hi = _mm256_extractf128_ps::<1>(v);
        let s = _mm_add_ps(lo, hi);
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        let s = _mm_add_ss(s, _mm_shuffle_ps::<1>(s, s));
        _mm_cvtss_f32(s)
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::GROUP;
    use std::arch::x86_64::*;

    /// Rows of `x` in blocks of eight share each group's weights, converted to f32 once (16 lanes).
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn dot_rows(
        x: &[f32],
        inputs: usize,
        w: &[i8],
        scales: &[f32],
        out: &mut [f32],
    ) {
        const BLOCK: usize = 8;
        let rows = out.len();
        assert!(x.len() >= rows * inputs && w.len() >= inputs && scales.len() * GROUP >= inputs);
        let groups = inputs / GROUP;
        let mut r = 0;
        while r < rows {
            let block = (rows - r).min(BLOCK);
            let mut total = [_mm512_setzero_ps(); BLOCK];
            for (g, &scale) in scales.iter().enumerate().take(groups) {
                let mut acc = [_mm512_setzero_ps(); BLOCK];
                for k in 0..GROUP / 16 {
                    let i = g * GROUP + k * 16;
                    // SAFETY: `i + 16 <= inputs`, within `w` and within each row of `x` (asserted above).
                    let wv = unsafe {
                        _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(
                            w.as_ptr().add(i) as *const __m128i
                        )))
                    };
                    for (b, a) in acc.iter_mut().enumerate().take(block) {
                        // SAFETY: row `r + b < rows` of `x` holds `inputs` values past `i + 16`.
                        let xv = unsafe { _mm512_loadu_ps(x.as_ptr().add((r + b) * inputs + i)) };
                        *a = _mm512_fmadd_ps(xv, wv, *a);
                    }
                }
                let s = _mm512_set1_ps(scale);
                for b in 0..block {
                    total[b] = _mm512_fmadd_ps(acc[b], s, total[b]);
                }
            }
            for b in 0..block {
                out[r + b] = _mm512_reduce_add_ps(total[b]);
            }
            r += block;
        }
    }
}

struct LayerNorm {
    weight: Vec<f32>,
    bias: Vec<f32>,
    eps: f32,
}

impl LayerNorm {
    fn load(vb: &VarBuilder, dims: usize, eps: f64) -> anyhow::Result<Self> {
        Ok(LayerNorm {
            weight: vb.get(dims, "weight")?.to_dtype(DType::F32)?.to_vec1()?,
            bias: vb.get(dims, "bias")?.to_dtype(DType::F32)?.to_vec1()?,
            eps: eps as f32,
        })
    }

    fn apply(&self, x: &mut [f32]) {
        ops::layer_norm(x, &self.weight, &self.bias, self.eps);
    }
}

struct Layer {
    qkv: QLinear,
    attention_out: QLinear,
    attention_norm: LayerNorm,
    intermediate: QLinear,
    output: QLinear,
    output_norm: LayerNorm,
}

/// A BERT encoder with int8 dense layers, for queries.
pub struct QuantizedBert {
    dims: usize,
    heads: usize,
    word: Vec<f32>,
    position: Vec<f32>,
    token_type: Vec<f32>,
    max_positions: usize,
    embedding_norm: LayerNorm,
    layers: Vec<Layer>,
}

impl QuantizedBert {
    /// Whether every dense layer is bf16 (the CPU has AVX512-BF16): close enough to f32 (cosine 0.99999) and fast
    /// enough at 128 word pieces to embed documents too.
    pub fn is_bf16(&self) -> bool {
        self.layers.iter().all(|l| {
            [&l.qkv, &l.attention_out, &l.intermediate, &l.output]
                .iter()
                .all(|q| matches!(q.weights, Weights::Bf16(_)))
        })
    }

    /// Reads the weights candle's BERT reads (`vb` at the model's root) and quantises the dense layers.
    pub fn load(vb: &VarBuilder, config: &BertConfig) -> anyhow::Result<Self> {
        Self::load_as(vb, config, bf16::available())
    }

    /// [`QuantizedBert::load`] with bf16 weights when `use_bf16` (fast with AVX512-BF16; the portable code
    /// computes the same otherwise), int8 when not.
    fn load_as(vb: &VarBuilder, config: &BertConfig, use_bf16: bool) -> anyhow::Result<Self> {
        let d = config.hidden_size;
        if !d.is_multiple_of(config.num_attention_heads) {
            bail!(
                "{d} dims do not split into {} heads",
                config.num_attention_heads
            );
        }
        let emb = vb.pp("embeddings");
        let table = |name: &str, rows: usize| -> anyhow::Result<Vec<f32>> {
            Ok(emb
                .pp(name)
                .get((rows, d), "weight")?
                .to_dtype(DType::F32)?
                .flatten_all()?
                .to_vec1()?)
        };
        let word = table("word_embeddings", config.vocab_size)?;
        let position = table("position_embeddings", config.max_position_embeddings)?;
        let token_type = table("token_type_embeddings", config.type_vocab_size)?;
        let embedding_norm = LayerNorm::load(&emb.pp("LayerNorm"), d, config.layer_norm_eps)?;
        let mut layers = Vec::with_capacity(config.num_hidden_layers);
        for i in 0..config.num_hidden_layers {
            let l = vb.pp(format!("encoder.layer.{i}"));
            let att = l.pp("attention");
            let (q, k, v) = (
                QLinear::read(&att.pp("self.query"), d, d)?,
                QLinear::read(&att.pp("self.key"), d, d)?,
                QLinear::read(&att.pp("self.value"), d, d)?,
            );
            let qkv = QLinear::new(
                &[q.0, k.0, v.0].concat(),
                [q.1, k.1, v.1].concat(),
                3 * d,
                d,
                use_bf16,
            )?;
            layers.push(Layer {
                qkv,
                attention_out: QLinear::load(&att.pp("output.dense"), d, d, use_bf16)?,
                attention_norm: LayerNorm::load(
                    &att.pp("output.LayerNorm"),
                    d,
                    config.layer_norm_eps,
                )?,
                intermediate: QLinear::load(
                    &l.pp("intermediate.dense"),
                    config.intermediate_size,
                    d,
                    use_bf16,
                )?,
                output: QLinear::load(
                    &l.pp("output.dense"),
                    d,
                    config.intermediate_size,
                    use_bf16,
                )?,
                output_norm: LayerNorm::load(&l.pp("output.LayerNorm"), d, config.layer_norm_eps)?,
            });
        }
        Ok(QuantizedBert {
            dims: d,
            heads: config.num_attention_heads,
            word,
            position,
            token_type,
            max_positions: config.max_position_embeddings,
            embedding_norm,
            layers,
        })
    }

    /// The mean of the last hidden states of `ids` (one text, special tokens included), L2-normalised: what
    /// candle's BERT and [`super::mean_pool_l2`] give, within the int8 weights' rounding.
    pub fn embed(&self, ids: &[u32]) -> anyhow::Result<Vec<f32>> {
        let d = self.dims;
        let n = ids.len();
        if n == 0 {
            return Ok(vec![0.0; d]);
        }
        if n > self.max_positions {
            bail!(
                "{n} tokens, more than the model's {} positions",
                self.max_positions
            );
        }
        let mut x = vec![0f32; n * d];
        for (t, &id) in ids.iter().enumerate() {
            let id = id as usize;
            let word = self
                .word
                .get(id * d..(id + 1) * d)
                .with_context(|| format!("token id {id} outside the vocabulary"))?;
            let pos = &self.position[t * d..(t + 1) * d];
            for (k, v) in x[t * d..(t + 1) * d].iter_mut().enumerate() {
                *v = word[k] + pos[k] + self.token_type[k];
            }
        }
        self.embedding_norm.apply(&mut x);
        for layer in &self.layers {
            let qkv = layer.qkv.forward(&x, n);
            let ctx = ops::attention(&qkv, n, d, self.heads);
            let mut h = layer.attention_out.forward(&ctx, n);
            for (a, b) in h.iter_mut().zip(&x) {
                *a += b;
            }
            layer.attention_norm.apply(&mut h);
            let mut inter = layer.intermediate.forward(&h, n);
            ops::gelu(&mut inter);
            let mut out = layer.output.forward(&inter, n);
            for (a, b) in out.iter_mut().zip(&h) {
                *a += b;
            }
            layer.output_norm.apply(&mut out);
            x = out;
        }
        let mut pooled = vec![0f32; d];
        for row in x.chunks_exact(d) {
            for (p, v) in pooled.iter_mut().zip(row) {
                *p += v;
            }
        }
        for p in pooled.iter_mut() {
            *p /= n as f32;
        }
        super::pooling::normalize_l2(&mut pooled);
        Ok(pooled)
    }
}

/// Whether the int8 path may stand in for the model `config` (its `config.json`) describes: a plain BERT with
/// absolute positions and GELU.
pub fn supports(config: &serde_json::Value) -> bool {
    let field = |k: &str| config.get(k).and_then(|v| v.as_str());
    field("hidden_act").is_none_or(|a| a == "gelu")
        && field("position_embedding_type").is_none_or(|p| p == "absolute")
}

/// The tensor the float path would give for the same ids, for tests: candle's hidden states pooled.
#[cfg(test)]
pub(super) fn reference(model: &super::BertEmbedder, ids: &[u32]) -> anyhow::Result<Vec<f32>> {
    let (hidden, mask) = model.hidden_states(&[ids])?;
    let v: candle_core::Tensor = super::mean_pool_l2(&hidden, &mask)?;
    Ok(v.to_vec2::<f32>()?.remove(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embed::tests::{cos, float_model, model, norm};

    #[test]
    fn the_simd_and_portable_kernels_agree() {
        let inputs = 96;
        let rows = 11;
        let x: Vec<f32> = (0..rows * inputs)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 25.0)
            .collect();
        let w: Vec<i8> = (0..inputs)
            .map(|i| ((i * 53 % 255) as i32 - 127) as i8)
            .collect();
        let scales: Vec<f32> = (0..inputs / GROUP).map(|g| 0.01 * (g + 1) as f32).collect();
        let mut b = vec![0f32; rows];
        dot_rows_portable(&x, inputs, &w, &scales, &mut b);
        let check = |a: &[f32]| {
            for (p, q) in a.iter().zip(&b) {
                assert!((p - q).abs() <= 1e-4 * q.abs().max(1.0), "{p} vs {q}");
            }
        };
        let mut a = vec![0f32; rows];
        dot_rows(&x, inputs, &w, &scales, &mut a);
        check(&a);
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                let mut a = vec![0f32; rows];
                // SAFETY: the CPU has AVX-512F.
                unsafe { avx512::dot_rows(&x, inputs, &w, &scales, &mut a) };
                check(&a);
            }
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                let mut a = vec![0f32; rows];
                // SAFETY: the CPU has AVX2 and FMA.
                unsafe { avx2::dot_rows(&x, inputs, &w, &scales, &mut a) };
                check(&a);
            }
        }
        assert!(
            b.iter().any(|v| v.abs() > 1.0),
            "the data must not cancel out: {b:?}"
        );
    }

    /// The shipped model's reduced twin in either precision, whatever this CPU has.
    fn twin(use_bf16: bool) -> QuantizedBert {
        let dir = crate::embed::tests::model_dir();
        let config: BertConfig =
            serde_json::from_slice(&std::fs::read(dir.join(crate::embed::CONFIG_FILE)).unwrap())
                .unwrap();
        // SAFETY: the test's own model file, not written while the test runs.
        let vb = unsafe {
            VarBuilder::from_mmaped_safetensors(
                &[dir.join(crate::embed::WEIGHTS_FILE)],
                DType::F32,
                &candle_core::Device::Cpu,
            )
        }
        .unwrap();
        QuantizedBert::load_as(&vb, &config, use_bf16).unwrap()
    }

    #[test]
    fn int8_and_bf16_vectors_agree_with_the_float_model() {
        let int8 = twin(false);
        assert!(!int8.is_bf16());
        assert_eq!(
            model().reduced.as_ref().unwrap().is_bf16(),
            bf16::available()
        );
        agree_with_the_float_model(&int8, 0.995);
        if !bf16::available() {
            // The portable code would give the same vectors, hundreds of times slower.
            eprintln!("bf16 twin skipped: this CPU has no AVX512-BF16");
            return;
        }
        let bf16 = twin(true);
        assert!(bf16.is_bf16());
        agree_with_the_float_model(&bf16, 0.9999);
    }

    fn agree_with_the_float_model(q: &QuantizedBert, floor: f32) {
        let m = model();
        let texts = [
            "This is an example sentence",
            "where do we retry failed HTTP requests?",
            "parse_config",
            "Returns the length of a combination produced by this iterator",
            "fn main() { println!(\"hello\"); }",
            "def read_config(path):\n    with open(path) as f:\n        return json.load(f)\n",
        ];
        for t in texts {
            let ids = m.encode(t).unwrap();
            let ids = ids.get_ids();
            let a = q.embed(ids).unwrap();
            let b = reference(float_model(), ids).unwrap();
            assert!((norm(&a) - 1.0).abs() < 1e-4);
            let c = cos(&a, &b);
            assert!(c >= floor, "{t:?}: cosine {c}");
        }
        // Different texts stay apart: the reduced path is not a constant.
        let a = q
            .embed(m.encode("binary tree rotation").unwrap().get_ids())
            .unwrap();
        let b = q
            .embed(m.encode("send an email").unwrap().get_ids())
            .unwrap();
        assert!(cos(&a, &b) < 0.5, "{}", cos(&a, &b));
        assert_eq!(q.embed(&[]).unwrap(), vec![0.0; 384]);
        assert!(q.embed(&[u32::MAX]).is_err());
    }
}
