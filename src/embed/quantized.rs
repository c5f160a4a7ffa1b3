//! The query path of a BERT model with int8 weights: a forward pass of its own over plain slices, for one short
//! text at a time.
//!
//! A query is a handful of word pieces, so its forward pass multiplies a few rows by every weight matrix once:
//! the time goes into reading the weights (42 MB in f32 for MiniLM-L6, more than this class of machine's
//! last-level cache holds), not into arithmetic. Here every dense layer's weights are int8 with a scale per
//! group of [`GROUP`] inputs of an output row (10.6 MB for MiniLM-L6), multiplied by the f32 activations
//! with AVX2 when the CPU has it (checked at run time, so the binary runs anywhere) and by portable code
//! otherwise. The rest (embeddings, layer norms, attention, GELU, mean pooling) is f32, as in candle's BERT,
//! whose tensor names and configuration this reads. Documents are still embedded by candle in f32 (a batch
//! of documents is many rows, where a matrix library wins); `embed::tests` and `examples/embed_bench.rs`
//! measure how close the two are.

use anyhow::{Context, bail};
use candle_core::DType;
use candle_nn::VarBuilder;
use candle_transformers::models::bert::Config as BertConfig;
use rayon::prelude::*;

/// Inputs per quantisation scale.
pub const GROUP: usize = 32;

/// A dense layer `y = x·Wᵀ + b` with int8 weights, one scale per [`GROUP`] inputs of each output row.
struct QLinear {
    inputs: usize,
    outputs: usize,
    /// `outputs × inputs`, row-major.
    weights: Vec<i8>,
    /// `outputs × inputs / GROUP`.
    scales: Vec<f32>,
    bias: Vec<f32>,
}

impl QLinear {
    fn load(vb: &VarBuilder, outputs: usize, inputs: usize) -> anyhow::Result<Self> {
        if !inputs.is_multiple_of(GROUP) {
            bail!("{inputs} inputs is not a multiple of {GROUP}");
        }
        let w: Vec<f32> = vb
            .get((outputs, inputs), "weight")?
            .to_dtype(DType::F32)?
            .flatten_all()?
            .to_vec1()?;
        let bias: Vec<f32> = vb.get(outputs, "bias")?.to_dtype(DType::F32)?.to_vec1()?;
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
        Ok(QLinear {
            inputs,
            outputs,
            weights,
            scales,
            bias,
        })
    }

    /// `x` holds `rows × inputs`; returns `rows × outputs`. Output rows are shared out over the current rayon
    /// pool in blocks.
    fn forward(&self, x: &[f32], rows: usize) -> Vec<f32> {
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
                    let w = &self.weights[o * self.inputs..(o + 1) * self.inputs];
                    let s = &self.scales[o * self.inputs / GROUP..(o + 1) * self.inputs / GROUP];
                    dot_rows(x, self.inputs, w, s, slot);
                    for v in slot.iter_mut() {
                        *v += self.bias[o];
                    }
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
        let d = self.weight.len();
        for row in x.chunks_exact_mut(d) {
            let mean = row.iter().sum::<f32>() / d as f32;
            let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / d as f32;
            let inv = 1.0 / (var + self.eps).sqrt();
            for ((v, w), b) in row.iter_mut().zip(&self.weight).zip(&self.bias) {
                *v = (*v - mean) * inv * w + b;
            }
        }
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
    /// Reads the weights candle's BERT reads (`vb` at the model's root) and quantises the dense layers.
    pub fn load(vb: &VarBuilder, config: &BertConfig) -> anyhow::Result<Self> {
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
                QLinear::load(&att.pp("self.query"), d, d)?,
                QLinear::load(&att.pp("self.key"), d, d)?,
                QLinear::load(&att.pp("self.value"), d, d)?,
            );
            let qkv = QLinear {
                inputs: d,
                outputs: 3 * d,
                weights: [q.weights, k.weights, v.weights].concat(),
                scales: [q.scales, k.scales, v.scales].concat(),
                bias: [q.bias, k.bias, v.bias].concat(),
            };
            layers.push(Layer {
                qkv,
                attention_out: QLinear::load(&att.pp("output.dense"), d, d)?,
                attention_norm: LayerNorm::load(
                    &att.pp("output.LayerNorm"),
                    d,
                    config.layer_norm_eps,
                )?,
                intermediate: QLinear::load(
                    &l.pp("intermediate.dense"),
                    config.intermediate_size,
                    d,
                )?,
                output: QLinear::load(&l.pp("output.dense"), d, config.intermediate_size)?,
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
            let ctx = self.attention(&qkv, n);
            let mut h = layer.attention_out.forward(&ctx, n);
            for (a, b) in h.iter_mut().zip(&x) {
                *a += b;
            }
            layer.attention_norm.apply(&mut h);
            let mut inter = layer.intermediate.forward(&h, n);
            for v in inter.iter_mut() {
                *v = gelu(*v);
            }
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

    /// Multi-head self-attention over `n` tokens, no padding: `qkv` holds each token's query, key and value.
    fn attention(&self, qkv: &[f32], n: usize) -> Vec<f32> {
        let d = self.dims;
        let hd = d / self.heads;
        let scale = 1.0 / (hd as f32).sqrt();
        let mut ctx = vec![0f32; n * d];
        let mut p = vec![0f32; n];
        for h in 0..self.heads {
            for t in 0..n {
                let q = &qkv[t * 3 * d + h * hd..t * 3 * d + (h + 1) * hd];
                let mut max = f32::MIN;
                for (s, slot) in p.iter_mut().enumerate() {
                    let k = &qkv[s * 3 * d + d + h * hd..s * 3 * d + d + (h + 1) * hd];
                    let v: f32 = q.iter().zip(k).map(|(a, b)| a * b).sum::<f32>() * scale;
                    *slot = v;
                    max = max.max(v);
                }
                let mut sum = 0f32;
                for v in p.iter_mut() {
                    *v = (*v - max).exp();
                    sum += *v;
                }
                let out = &mut ctx[t * d + h * hd..t * d + (h + 1) * hd];
                for (s, w) in p.iter().enumerate() {
                    let v = &qkv[s * 3 * d + 2 * d + h * hd..s * 3 * d + 2 * d + (h + 1) * hd];
                    for (o, x) in out.iter_mut().zip(v) {
                        *o += w / sum * x;
                    }
                }
            }
        }
        ctx
    }
}

/// GELU with the error function, as BERT's `gelu` (candle's `gelu_erf`).
fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x / std::f32::consts::SQRT_2))
}

/// The error function, to about 1e-7 (Abramowitz and Stegun 7.1.26 in f64).
fn erf(x: f32) -> f32 {
    let x = x as f64;
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs());
    let y = 1.0
        - (((((1.061_405_429 * t - 1.453_152_027) * t) + 1.421_413_741) * t - 0.284_496_736) * t
            + 0.254_829_592)
            * t
            * (-x * x).exp();
    (if x >= 0.0 { y } else { -y }) as f32
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
    use crate::embed::tests::{cos, model, norm};

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

    #[test]
    fn int8_query_vectors_agree_with_the_float_model() {
        let m = model();
        let q = m
            .query_model
            .as_ref()
            .expect("the shipped model is quantised for queries");
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
            let b = reference(m, ids).unwrap();
            assert!((norm(&a) - 1.0).abs() < 1e-4);
            let c = cos(&a, &b);
            assert!(c >= 0.995, "{t:?}: cosine {c}");
        }
        // Different texts stay apart: the int8 path is not a constant.
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
