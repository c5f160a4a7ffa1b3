//! A trainable BERT encoder for fine-tuning: the same architecture and weight names as the checkpoints sg loads
//! (`embeddings.*`, `encoder.layer.N.*`), built from differentiable candle ops only (candle's fused layer-norm
//! and the model in candle-transformers do not backpropagate), with optional LoRA adapters on the attention
//! projections. Its pooled output is sg's own [`sg::embed::mean_pool_l2`].

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, bail};
use candle_core::{D, DType, Device, Tensor, Var};
use candle_transformers::models::bert::{Config, HiddenAct};

/// LoRA settings: rank and scale (`alpha / rank`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Lora {
    /// The adapters' rank.
    pub rank: usize,
    /// LoRA's alpha; the update is scaled by `alpha / rank`.
    pub alpha: f64,
}

/// A dense layer whose weight and bias are either trained directly or frozen with a trained low-rank update.
struct Dense {
    name: String,
    weight: Tensor,
    bias: Tensor,
    /// `(A: rank × in, B: out × rank, scale)`.
    lora: Option<(Var, Var, f64)>,
}

impl Dense {
    /// `x` is `(batch, tokens, in)`; it is multiplied as one `(batch·tokens, in)` matrix (a broadcast batched
    /// product would copy the weight once per row of the batch, and sum its gradient back the same way).
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let (b, t, i) = x.dims3()?;
        let flat = x.reshape((b * t, i))?;
        let mut y = flat.matmul(&self.weight.t()?)?.broadcast_add(&self.bias)?;
        if let Some((a, bm, scale)) = &self.lora {
            let update = flat
                .matmul(&a.as_tensor().t()?)?
                .matmul(&bm.as_tensor().t()?)?;
            y = (y + (update * *scale)?)?;
        }
        let o = y.dim(1)?;
        y.reshape((b, t, o))
    }

    /// The weight with any LoRA update merged in.
    fn merged_weight(&self) -> candle_core::Result<Tensor> {
        match &self.lora {
            None => Ok(self.weight.clone()),
            Some((a, b, scale)) => &self.weight + (b.as_tensor().matmul(a.as_tensor())? * *scale)?,
        }
    }
}

struct LayerNorm {
    name: String,
    weight: Tensor,
    bias: Tensor,
    eps: f32,
}

impl LayerNorm {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        candle_nn::ops::layer_norm_slow(x, &self.weight, &self.bias, self.eps)
    }
}

struct Layer {
    query: Dense,
    key: Dense,
    value: Dense,
    attn_out: Dense,
    attn_norm: LayerNorm,
    intermediate: Dense,
    output: Dense,
    out_norm: LayerNorm,
}

/// The encoder, its trainable variables and the frozen tensors.
pub struct TrainableBert {
    config: Config,
    word: Tensor,
    position: Tensor,
    token_type: Tensor,
    emb_norm: LayerNorm,
    layers: Vec<Layer>,
    vars: Vec<Var>,
}

impl TrainableBert {
    /// Loads `config.json` and `model.safetensors` from a model folder (any float dtype; trained in f32). With
    /// `lora`, the pre-trained weights are frozen and only adapters on the query and value projections train.
    pub fn load(dir: &Path, lora: Option<Lora>, device: &Device) -> anyhow::Result<Self> {
        let config_path = dir.join("config.json");
        let config: Config = serde_json::from_slice(
            &std::fs::read(&config_path)
                .with_context(|| format!("cannot read {}", config_path.display()))?,
        )
        .with_context(|| format!("invalid BERT configuration in {}", config_path.display()))?;
        let weights_path = dir.join("model.safetensors");
        let mut tensors = candle_core::safetensors::load(&weights_path, device)
            .with_context(|| format!("cannot load {}", weights_path.display()))?;
        // Checkpoints from other tools may prefix every name with `bert.`.
        let prefixed: Vec<String> = tensors
            .keys()
            .filter(|k| k.starts_with("bert."))
            .cloned()
            .collect();
        for k in prefixed {
            let t = tensors.remove(&k).expect("listed");
            tensors.insert(k["bert.".len()..].to_owned(), t);
        }
        let mut vars = Vec::new();
        let mut take = |name: &str, trainable: bool| -> anyhow::Result<Tensor> {
            let t = tensors
                .get(name)
                .with_context(|| format!("{} has no tensor {name}", weights_path.display()))?
                .to_dtype(DType::F32)?;
            if trainable {
                let v = Var::from_tensor(&t)?;
                let tensor = v.as_tensor().clone();
                vars.push(v);
                Ok(tensor)
            } else {
                Ok(t)
            }
        };
        let full = lora.is_none();
        let eps = config.layer_norm_eps as f32;
        let norm = |take: &mut dyn FnMut(&str, bool) -> anyhow::Result<Tensor>,
                    name: &str|
         -> anyhow::Result<LayerNorm> {
            Ok(LayerNorm {
                name: name.to_owned(),
                weight: take(&format!("{name}.weight"), full)?,
                bias: take(&format!("{name}.bias"), full)?,
                eps,
            })
        };
        let word = take("embeddings.word_embeddings.weight", full)?;
        let position = take("embeddings.position_embeddings.weight", full)?;
        let token_type = take("embeddings.token_type_embeddings.weight", full)?;
        let emb_norm = norm(&mut take, "embeddings.LayerNorm")?;
        let mut adapters = Vec::new();
        let mut layers = Vec::new();
        for i in 0..config.num_hidden_layers {
            let p = format!("encoder.layer.{i}");
            let mut dense = |take: &mut dyn FnMut(&str, bool) -> anyhow::Result<Tensor>,
                             name: String,
                             adapt: bool|
             -> anyhow::Result<Dense> {
                let weight = take(&format!("{name}.weight"), full)?;
                let bias = take(&format!("{name}.bias"), full)?;
                let lora = match lora {
                    Some(l) if adapt => {
                        let (out, inp) = weight.dims2()?;
                        // A small random, B zero: training starts from the pre-trained function exactly.
                        let a = Var::from_tensor(
                            &(Tensor::randn(0f32, 1.0, (l.rank, inp), device)?
                                * (1.0 / (inp as f64).sqrt()))?,
                        )?;
                        let b = Var::zeros((out, l.rank), DType::F32, device)?;
                        adapters.push(a.clone());
                        adapters.push(b.clone());
                        Some((a, b, l.alpha / l.rank as f64))
                    }
                    _ => None,
                };
                Ok(Dense {
                    name,
                    weight,
                    bias,
                    lora,
                })
            };
            layers.push(Layer {
                query: dense(&mut take, format!("{p}.attention.self.query"), true)?,
                key: dense(&mut take, format!("{p}.attention.self.key"), false)?,
                value: dense(&mut take, format!("{p}.attention.self.value"), true)?,
                attn_out: dense(&mut take, format!("{p}.attention.output.dense"), false)?,
                attn_norm: norm(&mut take, &format!("{p}.attention.output.LayerNorm"))?,
                intermediate: dense(&mut take, format!("{p}.intermediate.dense"), false)?,
                output: dense(&mut take, format!("{p}.output.dense"), false)?,
                out_norm: norm(&mut take, &format!("{p}.output.LayerNorm"))?,
            });
        }
        vars.extend(adapters);
        if !config
            .hidden_size
            .is_multiple_of(config.num_attention_heads)
        {
            bail!(
                "hidden size {} is not a multiple of {} heads",
                config.hidden_size,
                config.num_attention_heads
            );
        }
        Ok(TrainableBert {
            config,
            word,
            position,
            token_type,
            emb_norm,
            layers,
            vars,
        })
    }

    /// The variables an optimiser updates.
    pub fn vars(&self) -> &[Var] {
        &self.vars
    }

    /// The model's configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Last hidden states `(batch, tokens, dims)` for token ids `(batch, tokens)` u32 and an attention mask of
    /// the same shape (1 for a real token, 0 for padding).
    pub fn forward(&self, ids: &Tensor, mask: &Tensor) -> candle_core::Result<Tensor> {
        let (b, t) = ids.dims2()?;
        let h = self.config.hidden_size;
        let heads = self.config.num_attention_heads;
        let hd = h / heads;
        let words = self
            .word
            .index_select(&ids.flatten_all()?, 0)?
            .reshape((b, t, h))?;
        let positions = self.position.narrow(0, 0, t)?.unsqueeze(0)?;
        let types = self.token_type.narrow(0, 0, 1)?.unsqueeze(0)?;
        let mut x = self
            .emb_norm
            .forward(&words.broadcast_add(&positions)?.broadcast_add(&types)?)?;
        // 0 where attended, a large negative number at padding: `(b, 1, 1, t)`.
        let bias =
            ((mask.to_dtype(DType::F32)?.affine(1.0, -1.0)?) * 10_000.0)?.reshape((b, 1, 1, t))?;
        let scale = 1.0 / (hd as f64).sqrt();
        for layer in &self.layers {
            let split = |y: Tensor| -> candle_core::Result<Tensor> {
                y.reshape((b, t, heads, hd))?.transpose(1, 2)?.contiguous()
            };
            let q = split(layer.query.forward(&x)?)?;
            let k = split(layer.key.forward(&x)?)?;
            let v = split(layer.value.forward(&x)?)?;
            let scores = (q.matmul(&k.t()?)? * scale)?.broadcast_add(&bias)?;
            let probs = candle_nn::ops::softmax(&scores, D::Minus1)?;
            let ctx = probs
                .matmul(&v)?
                .transpose(1, 2)?
                .contiguous()?
                .reshape((b, t, h))?;
            x = layer
                .attn_norm
                .forward(&(layer.attn_out.forward(&ctx)? + &x)?)?;
            let inter = layer.intermediate.forward(&x)?;
            let inter = match self.config.hidden_act {
                HiddenAct::GeluApproximate => inter.gelu()?,
                HiddenAct::Relu => inter.relu()?,
                _ => inter.gelu_erf()?,
            };
            x = layer
                .out_norm
                .forward(&(layer.output.forward(&inter)? + &x)?)?;
        }
        Ok(x)
    }

    /// Every weight under its checkpoint name, LoRA updates merged, in `dtype`.
    pub fn tensors(&self, dtype: DType) -> anyhow::Result<HashMap<String, Tensor>> {
        let mut out = HashMap::new();
        out.insert(
            "embeddings.word_embeddings.weight".to_owned(),
            self.word.to_dtype(dtype)?,
        );
        out.insert(
            "embeddings.position_embeddings.weight".to_owned(),
            self.position.to_dtype(dtype)?,
        );
        out.insert(
            "embeddings.token_type_embeddings.weight".to_owned(),
            self.token_type.to_dtype(dtype)?,
        );
        let norms = std::iter::once(&self.emb_norm)
            .chain(self.layers.iter().flat_map(|l| [&l.attn_norm, &l.out_norm]));
        for n in norms {
            out.insert(format!("{}.weight", n.name), n.weight.to_dtype(dtype)?);
            out.insert(format!("{}.bias", n.name), n.bias.to_dtype(dtype)?);
        }
        for l in &self.layers {
            for d in [
                &l.query,
                &l.key,
                &l.value,
                &l.attn_out,
                &l.intermediate,
                &l.output,
            ] {
                out.insert(
                    format!("{}.weight", d.name),
                    d.merged_weight()?.to_dtype(dtype)?,
                );
                out.insert(format!("{}.bias", d.name), d.bias.to_dtype(dtype)?);
            }
        }
        Ok(out)
    }

    /// Saves every weight (LoRA merged) as `model.safetensors` in `dtype` under `dir`.
    pub fn save(&self, dir: &Path, dtype: DType) -> anyhow::Result<()> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let path = dir.join("model.safetensors");
        let tmp = dir.join("model.safetensors.tmp");
        candle_core::safetensors::save(&self.tensors(dtype)?, &tmp)
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        std::fs::rename(&tmp, &path).with_context(|| format!("cannot write {}", path.display()))?;
        Ok(())
    }
}
