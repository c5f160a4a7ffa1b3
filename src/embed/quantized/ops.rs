//! The steps of the reduced-precision forward pass between its dense layers (layer norm, GELU, attention), as
//! plain loops over contiguous lanes, compiled for AVX-512 and for AVX2 beside the portable build and picked
//! at run time, so that they vectorise on the CPUs that can.

use multiversion::multiversion;

/// `e^x` to about 2 ulp, written so that loops over it vectorise: `2^n · e^r` with `|r| ≤ ln 2 / 2` and the
/// Taylor series of `e^r` to the 7th power (its remainder is below 1e-8 there). Inputs below −87 give about
/// `e^-87` instead of smaller values; above 88 they give about `e^88`.
#[inline(always)]
fn exp(x: f32) -> f32 {
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    let x = x.clamp(-87.0, 88.0);
    let n = (x * std::f32::consts::LOG2_E + 0.5).floor();
    let r = x - n * LN2_HI - n * LN2_LO;
    let p = 1.0
        + r * (1.0
            + r * (1.0 / 2.0
                + r * (1.0 / 6.0
                    + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r / 5040.0))))));
    p * f32::from_bits(((n as i32 + 127) as u32) << 23)
}

/// The error function to about 2e-7 (Abramowitz and Stegun 7.1.26), branch-free.
#[inline(always)]
fn erf(x: f32) -> f32 {
    let a = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let y = 1.0
        - (((((1.061_405_4 * t - 1.453_152_1) * t) + 1.421_413_7) * t - 0.284_496_74) * t
            + 0.254_829_6)
            * t
            * exp(-a * a);
    y.copysign(x)
}

/// GELU with the error function, as BERT's `gelu` (candle's `gelu_erf`), over every value of `v`.
#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl+avx512dq+fma", "x86_64+avx2+fma"))]
pub fn gelu(v: &mut [f32]) {
    for x in v.iter_mut() {
        *x = 0.5 * *x * (1.0 + erf(*x * std::f32::consts::FRAC_1_SQRT_2));
    }
}

/// A sum in 16 lanes, so that it vectorises (f32 addition is not reordered otherwise).
#[inline(always)]
fn sum(v: &[f32]) -> f32 {
    let mut lanes = [0f32; 16];
    let mut chunks = v.chunks_exact(16);
    for c in &mut chunks {
        for (l, x) in lanes.iter_mut().zip(c) {
            *l += x;
        }
    }
    lanes.iter().sum::<f32>() + chunks.remainder().iter().sum::<f32>()
}

/// Layer norm over each row of `weight.len()` values in `x`.
#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl+avx512dq+fma", "x86_64+avx2+fma"))]
pub fn layer_norm(x: &mut [f32], weight: &[f32], bias: &[f32], eps: f32) {
    let d = weight.len();
    let mut centred = vec![0f32; d];
    for row in x.chunks_exact_mut(d) {
        let mean = sum(row) / d as f32;
        for (c, v) in centred.iter_mut().zip(row.iter()) {
            *c = (v - mean) * (v - mean);
        }
        let inv = 1.0 / (sum(&centred) / d as f32 + eps).sqrt();
        for ((v, w), b) in row.iter_mut().zip(weight).zip(bias) {
            *v = (*v - mean) * inv * w + b;
        }
    }
}

/// Multi-head self-attention over `n` tokens, no padding: `qkv` holds each token's query, key and value
/// (`3 · dims` values a token); returns `n × dims` contexts.
#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl+avx512dq+fma", "x86_64+avx2+fma"))]
pub fn attention(qkv: &[f32], n: usize, dims: usize, heads: usize) -> Vec<f32> {
    match dims / heads {
        // MiniLM's heads: sums held in registers.
        32 => attend::<32>(qkv, n, dims, heads),
        64 => attend::<64>(qkv, n, dims, heads),
        _ => attend_any(qkv, n, dims, heads),
    }
}

/// Lanes of one block of scores.
const LANES: usize = 16;

/// Attention for heads of `HD` dims. Keys are transposed (feature-major, rows padded to whole blocks of
/// [`LANES`] tokens), so one query's scores over a block of tokens are `HD` multiply-adds into one block of
/// sums; a context row is summed in `HD` lanes the same way.
#[inline(always)]
fn attend<const HD: usize>(qkv: &[f32], n: usize, d: usize, heads: usize) -> Vec<f32> {
    let scale = 1.0 / (HD as f32).sqrt();
    let width = n.next_multiple_of(LANES);
    let mut keys = vec![0f32; d * width];
    for s in 0..n {
        for (c, k) in qkv[s * 3 * d + d..s * 3 * d + 2 * d].iter().enumerate() {
            keys[c * width + s] = *k;
        }
    }
    let mut ctx = vec![0f32; n * d];
    let mut p = vec![0f32; width];
    for h in 0..heads {
        let head_keys = &keys[h * HD * width..(h + 1) * HD * width];
        for t in 0..n {
            let mut q = [0f32; HD];
            for (a, b) in q.iter_mut().zip(&qkv[t * 3 * d + h * HD..]) {
                *a = b * scale;
            }
            for (block, out) in p.chunks_exact_mut(LANES).enumerate() {
                let mut acc = [0f32; LANES];
                for (k, qk) in q.iter().enumerate() {
                    let row = &head_keys[k * width + block * LANES..][..LANES];
                    for (a, kv) in acc.iter_mut().zip(row) {
                        *a += qk * kv;
                    }
                }
                out.copy_from_slice(&acc);
            }
            let scores = &mut p[..n];
            let max = scores.iter().fold(f32::MIN, |m, v| m.max(*v));
            for v in scores.iter_mut() {
                *v = exp(*v - max);
            }
            let inv = 1.0 / sum(scores);
            let mut acc = [0f32; HD];
            for (s, w) in scores.iter().enumerate() {
                let v = &qkv[s * 3 * d + 2 * d + h * HD..][..HD];
                for (a, x) in acc.iter_mut().zip(v) {
                    *a += w * x;
                }
            }
            for (o, a) in ctx[t * d + h * HD..][..HD].iter_mut().zip(&acc) {
                *o = a * inv;
            }
        }
    }
    ctx
}

/// Attention for heads of any width: the same sums, kept in memory.
#[inline(always)]
fn attend_any(qkv: &[f32], n: usize, d: usize, heads: usize) -> Vec<f32> {
    let hd = d / heads;
    let scale = 1.0 / (hd as f32).sqrt();
    let mut ctx = vec![0f32; n * d];
    let mut p = vec![0f32; n];
    for h in 0..heads {
        for t in 0..n {
            let q = &qkv[t * 3 * d + h * hd..t * 3 * d + (h + 1) * hd];
            for (s, slot) in p.iter_mut().enumerate() {
                let k = &qkv[s * 3 * d + d + h * hd..s * 3 * d + d + (h + 1) * hd];
                *slot = q.iter().zip(k).map(|(a, b)| a * b).sum::<f32>() * scale;
            }
            let max = p.iter().fold(f32::MIN, |m, v| m.max(*v));
            for v in p.iter_mut() {
                *v = exp(*v - max);
            }
            let inv = 1.0 / sum(&p);
            let out = &mut ctx[t * d + h * hd..t * d + (h + 1) * hd];
            for (s, w) in p.iter().enumerate() {
                let v = &qkv[s * 3 * d + 2 * d + h * hd..s * 3 * d + 2 * d + (h + 1) * hd];
                for (o, x) in out.iter_mut().zip(v) {
                    *o += w * inv * x;
                }
            }
        }
    }
    ctx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_and_erf_agree_with_the_standard_library() {
        for i in -2000..=2000 {
            let x = i as f32 / 25.0; // −80 … 80
            let (a, b) = (exp(x), x.exp());
            assert!(
                (a - b).abs() <= 4.0 * f32::EPSILON * b,
                "exp({x}): {a} vs {b}"
            );
        }
        assert!(exp(-200.0) < 1e-37 && exp(-200.0) >= 0.0);
        // erf(0.5), erf(1), erf(2), from tables.
        for (x, want) in [
            (0.5f32, 0.520_499_9f32),
            (1.0, 0.842_700_8),
            (2.0, 0.995_322_3),
        ] {
            assert!((erf(x) - want).abs() < 3e-7, "erf({x}) = {}", erf(x));
            assert!((erf(-x) + want).abs() < 3e-7);
        }
        assert!(erf(0.0).abs() < 3e-7);
        assert!((erf(6.0) - 1.0).abs() < 1e-7);
    }

    #[test]
    fn gelu_matches_its_definition() {
        let mut v = [-3.0f32, -1.0, 0.0, 0.5, 2.0];
        gelu(&mut v);
        // x · Φ(x), with Φ from tables.
        let want = [
            -3.0 * 0.001_349_9,
            -0.158_655_3,
            0.0,
            0.5 * 0.691_462_5,
            2.0 * 0.977_249_9,
        ];
        for (a, b) in v.iter().zip(want) {
            assert!((a - b).abs() < 1e-6, "{a} vs {b}");
        }
    }

    #[test]
    fn attention_weighs_values_by_the_softmax_of_scores() {
        // One head of two dims, two tokens: token 0's query matches token 1's key strongly.
        let (n, d) = (2, 2);
        #[rustfmt::skip]
        let qkv = [
            // query       key         value
            0.0, 10.0,     1.0, 0.0,   1.0, 0.0,
            0.0, 0.0,      0.0, 10.0,  0.0, 1.0,
        ];
        let ctx = attention(&qkv, n, d, 1);
        let s = 100.0 / 2f32.sqrt(); // token 0's score against token 1; 0 against itself
        let w1 = 1.0 / (1.0 + (-s).exp());
        assert!(
            (ctx[0] - (1.0 - w1)).abs() < 1e-6 && (ctx[1] - w1).abs() < 1e-6,
            "{ctx:?}"
        );
        // Token 1's query is zero: equal weights.
        assert!(
            (ctx[2] - 0.5).abs() < 1e-6 && (ctx[3] - 0.5).abs() < 1e-6,
            "{ctx:?}"
        );
    }

    #[test]
    fn the_attention_paths_agree() {
        // Two heads of 32 dims (the register path) against the general one, over 21 tokens (a partial block).
        let (n, d, heads) = (21, 64, 2);
        let qkv: Vec<f32> = (0..n * 3 * d)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 40.0)
            .collect();
        let (a, b) = (attention(&qkv, n, d, heads), attend_any(&qkv, n, d, heads));
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() < 1e-5, "{x} vs {y}");
        }
        assert!(
            a.iter().any(|v| v.abs() > 0.1),
            "the data must not cancel out"
        );
    }

    #[test]
    fn layer_norm_centres_and_scales_each_row() {
        let mut x: Vec<f32> = (0..40).map(|i| i as f32).collect();
        layer_norm(&mut x, &[2.0; 20], &[1.0; 20], 0.0);
        for row in x.chunks_exact(20) {
            let mean = row.iter().sum::<f32>() / 20.0;
            let var = row.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / 20.0;
            assert!(
                (mean - 1.0).abs() < 1e-5 && (var - 4.0).abs() < 1e-4,
                "{mean} {var}"
            );
        }
    }
}
