//! How token vectors become one text vector: the [`Pooling`] a manifest names, [`mean_pool_l2`] (the single
//! definition of "hidden states to sentence vector", which the training crate reuses), and the L2 normalisation of
//! a plain vector shared by the static and fake embedders.

use candle_core::{DType, Tensor};
use serde::Deserialize;

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
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Pooling::Mean => "mean",
            Pooling::WeightedMean => "weighted_mean",
        }
    }
}

/// Scales `v` to unit length in place, for embedders that pool without tensors. Returns `false`, leaving `v` as it
/// is, when its length is zero.
pub(super) fn normalize_l2(v: &mut [f32]) -> bool {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
        true
    } else {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

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
    fn normalize_l2_scales_to_unit_length_and_leaves_zero_alone() {
        let mut v = [3f32, 0.0, -4.0];
        assert!(normalize_l2(&mut v));
        assert_eq!(v, [0.6, 0.0, -0.8]);
        let mut zero = [0f32; 3];
        assert!(!normalize_l2(&mut zero));
        assert_eq!(zero, [0.0; 3]);
        assert!(!normalize_l2(&mut []));
    }
}
