//! Dense layers in bf16 for CPUs that multiply bf16 pairs (AVX512-BF16): weights packed in panels of
//! [`PANEL`] outputs, activations rounded to bf16 per call, sums in f32.
//!
//! One `vdpbf16ps` multiplies 32 pairs, twice what an f32 FMA does, and the packing lets the kernel broadcast
//! each activation pair against 16 outputs' weights, so no horizontal sums are needed and every weight is read
//! once per block of rows. bf16 keeps f32's exponent: no scales, and activations with outliers lose no range.

use rayon::prelude::*;

/// Outputs per panel: one 512-bit register of f32 sums.
pub const PANEL: usize = 16;
/// Panels a kernel call covers (and a rayon task owns).
const PANELS_PER_TASK: usize = 2;
/// Rows of activations a kernel call multiplies at once (`ROWS × PANELS_PER_TASK` registers of sums).
const ROWS: usize = 8;

/// Whether this CPU has the instructions (checked at run time, so the binary runs anywhere).
pub fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512bf16")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Whether a layer of this shape packs into whole tasks.
pub fn fits(outputs: usize, inputs: usize) -> bool {
    outputs.is_multiple_of(PANEL * PANELS_PER_TASK) && inputs.is_multiple_of(2) && inputs > 0
}

/// `f32` to bf16 bits, rounding to nearest even (what `vcvtne2ps2bf16` does).
pub fn round(v: f32) -> u16 {
    let b = v.to_bits();
    if v.is_nan() {
        return ((b >> 16) | 0x40) as u16;
    }
    (b.wrapping_add(0x7fff + ((b >> 16) & 1)) >> 16) as u16
}

/// bf16 bits back to `f32` (exact).
pub fn widen(b: u16) -> f32 {
    f32::from_bits((b as u32) << 16)
}

/// A weight matrix in bf16, packed by panels: panel `j`, input pair `p` holds 32 values, output `16j + i`'s
/// inputs `2p` and `2p + 1` at `2i` and `2i + 1`.
pub struct Panels {
    inputs: usize,
    outputs: usize,
    packed: Vec<u16>,
}

impl Panels {
    /// Packs `outputs × inputs` row-major f32 weights ([`fits`] must hold).
    pub fn pack(w: &[f32], outputs: usize, inputs: usize) -> Self {
        assert!(fits(outputs, inputs) && w.len() == outputs * inputs);
        let pairs = inputs / 2;
        let mut packed = vec![0u16; outputs * inputs];
        for o in 0..outputs {
            let (panel, i) = (o / PANEL, o % PANEL);
            for p in 0..pairs {
                for e in 0..2 {
                    packed[panel * pairs * 2 * PANEL + p * 2 * PANEL + 2 * i + e] =
                        round(w[o * inputs + 2 * p + e]);
                }
            }
        }
        Panels {
            inputs,
            outputs,
            packed,
        }
    }

    /// `x·Wᵀ` for `rows × inputs` activations: `rows × outputs`, row-major.
    pub fn forward(&self, x: &[f32], rows: usize) -> Vec<f32> {
        assert_eq!(x.len(), rows * self.inputs);
        let pairs = self.inputs / 2;
        let xb = round_pairs(x);
        let width = PANEL * PANELS_PER_TASK;
        let task_weights = pairs * 2 * width;
        // Laid out by task (`rows × width` each), then copied row-major.
        let mut blocks = vec![0f32; rows * self.outputs];
        blocks
            .par_chunks_mut(rows * width)
            .zip(self.packed.par_chunks(task_weights))
            .for_each(|(out, w)| multiply(&xb, rows, pairs, w, out));
        let mut y = vec![0f32; rows * self.outputs];
        for (task, block) in blocks.chunks_exact(rows * width).enumerate() {
            for (r, src) in block.chunks_exact(width).enumerate() {
                y[r * self.outputs + task * width..][..width].copy_from_slice(src);
            }
        }
        y
    }
}

/// Each pair of activations rounded to bf16 as one u32 (the first value in the low half), as the kernel
/// broadcasts it.
fn round_pairs(x: &[f32]) -> Vec<u32> {
    let mut out = vec![0u32; x.len() / 2];
    #[cfg(target_arch = "x86_64")]
    if available() && x.len().is_multiple_of(32) {
        // SAFETY: the CPU has AVX512-BF16 (checked above); the lengths fit (checked above and inside).
        unsafe { avx512::pairs(x, &mut out) };
        return out;
    }
    for (o, p) in out.iter_mut().zip(x.chunks_exact(2)) {
        *o = round(p[0]) as u32 | (round(p[1]) as u32) << 16;
    }
    out
}

/// `out` (`rows × 32`) = the rows of `xb` times the two panels in `w`.
fn multiply(xb: &[u32], rows: usize, pairs: usize, w: &[u16], out: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if available() {
        let mut r = 0;
        while r < rows {
            let n = (rows - r).min(ROWS);
            // SAFETY: the CPU has AVX512-BF16 and AVX-512F (checked above); lengths are asserted inside.
            unsafe {
                match n {
                    8 => avx512::block::<8>(xb, r, pairs, w, out),
                    7 => avx512::block::<7>(xb, r, pairs, w, out),
                    6 => avx512::block::<6>(xb, r, pairs, w, out),
                    5 => avx512::block::<5>(xb, r, pairs, w, out),
                    4 => avx512::block::<4>(xb, r, pairs, w, out),
                    3 => avx512::block::<3>(xb, r, pairs, w, out),
                    2 => avx512::block::<2>(xb, r, pairs, w, out),
                    _ => avx512::block::<1>(xb, r, pairs, w, out),
                }
            }
            r += n;
        }
        return;
    }
    portable(xb, rows, pairs, w, out);
}

/// What the kernel computes, in plain code: the same bf16 products, summed in f32 in another order.
fn portable(xb: &[u32], rows: usize, pairs: usize, w: &[u16], out: &mut [f32]) {
    let width = PANEL * PANELS_PER_TASK;
    for r in 0..rows {
        for c in 0..width {
            let (panel, i) = (c / PANEL, c % PANEL);
            let mut sum = 0f32;
            for p in 0..pairs {
                let x = xb[r * pairs + p];
                let wi = panel * pairs * 2 * PANEL + p * 2 * PANEL + 2 * i;
                sum += widen(x as u16) * widen(w[wi]) + widen((x >> 16) as u16) * widen(w[wi + 1]);
            }
            out[r * width + c] = sum;
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::{PANEL, PANELS_PER_TASK};
    use std::arch::x86_64::*;

    /// 32 bf16 values, from the bits the integer loads and broadcasts give.
    #[inline(always)]
    fn bh(v: __m512i) -> __m512bh {
        // SAFETY: both are 512 bits of plain data; every bit pattern is a valid value of either.
        unsafe { std::mem::transmute::<__m512i, __m512bh>(v) }
    }

    /// Rounds `x` to bf16 pairs as [`super::round_pairs`] does, 32 values at a time (`x.len()` a multiple of 32).
    #[target_feature(enable = "avx512f,avx512bf16")]
    pub(super) unsafe fn pairs(x: &[f32], out: &mut [u32]) {
        assert!(x.len().is_multiple_of(32) && out.len() * 2 == x.len());
        for (i, dst) in out.chunks_exact_mut(16).enumerate() {
            // SAFETY: `32 i + 32 <= x.len()` and `dst` holds 16 values (asserted above).
            unsafe {
                let lo = _mm512_loadu_ps(x.as_ptr().add(32 * i));
                let hi = _mm512_loadu_ps(x.as_ptr().add(32 * i + 16));
                let v = _mm512_cvtne2ps_pbh(hi, lo);
                _mm512_storeu_si512(
                    dst.as_mut_ptr().cast(),
                    std::mem::transmute::<__m512bh, __m512i>(v),
                );
            }
        }
    }

    /// Rows `first..first + R` of `out` (`rows × 32`): each activation pair broadcast against both panels.
    #[target_feature(enable = "avx512f,avx512bf16")]
    pub(super) unsafe fn block<const R: usize>(
        xb: &[u32],
        first: usize,
        pairs: usize,
        w: &[u16],
        out: &mut [f32],
    ) {
        let width = PANEL * PANELS_PER_TASK;
        assert!(xb.len() >= (first + R) * pairs);
        assert!(w.len() >= pairs * 2 * width);
        assert!(out.len() >= (first + R) * width);
        let panel = pairs * 2 * PANEL;
        let mut acc = [[_mm512_setzero_ps(); PANELS_PER_TASK]; R];
        let x = xb.as_ptr().wrapping_add(first * pairs);
        for p in 0..pairs {
            // SAFETY: `p < pairs`: both panels' 32 values at `p` lie within `w` (asserted above).
            let (w0, w1) = unsafe {
                (
                    bh(_mm512_loadu_si512(w.as_ptr().add(p * 2 * PANEL).cast())),
                    bh(_mm512_loadu_si512(
                        w.as_ptr().add(panel + p * 2 * PANEL).cast(),
                    )),
                )
            };
            for (r, a) in acc.iter_mut().enumerate() {
                // SAFETY: row `first + r` of `xb` holds `pairs` values (asserted above).
                let xv = bh(_mm512_set1_epi32(unsafe { *x.add(r * pairs + p) } as i32));
                a[0] = _mm512_dpbf16_ps(a[0], xv, w0);
                a[1] = _mm512_dpbf16_ps(a[1], xv, w1);
            }
        }
        for (r, a) in acc.iter().enumerate() {
            for (j, v) in a.iter().enumerate() {
                // SAFETY: row `first + r` of `out` holds `width` values (asserted above).
                unsafe {
                    _mm512_storeu_ps(out.as_mut_ptr().add((first + r) * width + j * PANEL), *v)
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_to_bf16_is_to_nearest_even() {
        assert_eq!(widen(round(1.0)), 1.0);
        assert_eq!(widen(round(-2.5)), -2.5);
        // 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: it rounds to the even one, 1.
        assert_eq!(widen(round(1.0 + 1.0 / 256.0)), 1.0);
        assert_eq!(widen(round(1.0 + 3.0 / 256.0)), 1.0 + 4.0 / 256.0);
        assert!(widen(round(f32::NAN)).is_nan());
        assert_eq!(widen(round(f32::INFINITY)), f32::INFINITY);
    }

    #[test]
    fn packed_layers_multiply_like_the_float_matrix() {
        let (outputs, inputs, rows) = (64, 48, 11);
        let w: Vec<f32> = (0..outputs * inputs)
            .map(|i| ((i * 53 % 255) as f32 - 127.0) / 300.0)
            .collect();
        let x: Vec<f32> = (0..rows * inputs)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 25.0)
            .collect();
        let y = Panels::pack(&w, outputs, inputs).forward(&x, rows);
        for r in 0..rows {
            for o in 0..outputs {
                let exact: f32 = (0..inputs)
                    .map(|k| x[r * inputs + k] * w[o * inputs + k])
                    .sum();
                let got = y[r * outputs + o];
                // bf16 keeps 8 bits of mantissa: each product is within 2^-8 of the true one.
                let bound: f32 = (0..inputs)
                    .map(|k| (x[r * inputs + k] * w[o * inputs + k]).abs())
                    .sum::<f32>()
                    / 128.0;
                assert!((got - exact).abs() <= bound, "({r}, {o}): {got} vs {exact}");
            }
        }
        assert!(
            y.iter().any(|v| v.abs() > 1.0),
            "the data must not cancel out"
        );
    }

    #[test]
    fn the_kernel_and_the_portable_code_agree() {
        let (outputs, inputs, rows) = (32, 64, 13);
        let w: Vec<f32> = (0..outputs * inputs)
            .map(|i| ((i * 29 % 97) as f32 - 48.0) / 50.0)
            .collect();
        let x: Vec<f32> = (0..rows * inputs)
            .map(|i| ((i * 31 % 89) as f32 - 44.0) / 20.0)
            .collect();
        let panels = Panels::pack(&w, outputs, inputs);
        let xb = round_pairs(&x);
        // The vector rounding and the scalar one agree.
        for (p, v) in xb.iter().zip(x.chunks_exact(2)) {
            assert_eq!(*p, round(v[0]) as u32 | (round(v[1]) as u32) << 16);
        }
        let mut a = vec![0f32; rows * 32];
        let mut b = vec![0f32; rows * 32];
        multiply(&xb, rows, inputs / 2, &panels.packed, &mut a);
        portable(&xb, rows, inputs / 2, &panels.packed, &mut b);
        for (p, q) in a.iter().zip(&b) {
            assert!((p - q).abs() <= 1e-4 * q.abs().max(1.0), "{p} vs {q}");
        }
    }
}
