//! `train`: fine-tunes a BERT embedder on (anchor, positive[, negative]) pairs with symmetric in-batch InfoNCE,
//! candle-nn's AdamW, linear warm-up and decay, gradient clipping and accumulation; validation MRR@10 every N
//! steps keeps the best model (exported as a folder sg loads); checkpoints allow resuming.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use candle_core::backprop::GradStore;
use candle_core::{D, DType, Device, Tensor};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};
use sg::embed::{BertEmbedder, EmbedOptions, mean_pool_l2};

use crate::bert::{Lora, TrainableBert};
use crate::export::{ExportInfo, export_model};
use crate::pairs::{Pair, read_pairs};

/// Arguments of `train`.
#[derive(Args, Clone, Debug)]
pub struct TrainArgs {
    /// The model folder to start from.
    #[arg(long)]
    pub model: PathBuf,
    /// Training pairs (JSONL, from `extract`, optionally `mine`d).
    #[arg(long)]
    pub train: PathBuf,
    /// Validation pairs (JSONL); their repositories must not be in --train.
    #[arg(long)]
    pub valid: PathBuf,
    /// Output folder: `checkpoint/` (latest, for --resume), `best/` (a model folder sg loads), `log.jsonl`.
    #[arg(long)]
    pub out: PathBuf,
    /// Pairs per optimiser step (in-batch negatives come from the same micro-batch).
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    /// Micro-batches whose gradients are summed per optimiser step.
    #[arg(long, default_value_t = 1)]
    pub accumulate: usize,
    /// Peak learning rate.
    #[arg(long, default_value_t = 2e-5)]
    pub lr: f64,
    /// AdamW weight decay.
    #[arg(long, default_value_t = 0.01)]
    pub weight_decay: f64,
    /// Share of the steps spent warming the learning rate up linearly (then it decays linearly to zero).
    #[arg(long, default_value_t = 0.1)]
    pub warmup: f64,
    /// Passes over the training pairs.
    #[arg(long, default_value_t = 1)]
    pub epochs: usize,
    /// Stop after this many optimiser steps (0: no limit).
    #[arg(long, default_value_t = 0)]
    pub max_steps: usize,
    /// InfoNCE temperature.
    #[arg(long, default_value_t = 0.05)]
    pub temperature: f64,
    /// Longest code text in word pieces.
    #[arg(long, default_value_t = 128)]
    pub max_tokens: usize,
    /// Longest anchor in word pieces.
    #[arg(long, default_value_t = 64)]
    pub anchor_tokens: usize,
    /// Global gradient-norm limit (0: no clipping).
    #[arg(long, default_value_t = 1.0)]
    pub clip: f64,
    /// Validate (MRR@10) and save a checkpoint every this many steps.
    #[arg(long, default_value_t = 100)]
    pub eval_every: usize,
    /// Validation pairs used (a fixed prefix of --valid).
    #[arg(long, default_value_t = 1000)]
    pub valid_limit: usize,
    /// LoRA rank on the attention query/value projections (0: train every weight).
    #[arg(long, default_value_t = 0)]
    pub lora_rank: usize,
    /// LoRA alpha.
    #[arg(long, default_value_t = 16.0)]
    pub lora_alpha: f64,
    /// Continue from `<out>/checkpoint`.
    #[arg(long)]
    pub resume: bool,
    /// Seed of the batch order.
    #[arg(long, default_value_t = 17)]
    pub seed: u64,
    /// What a batch's pairs share, so its in-batch negatives are hard: `repo` (one repository per batch where
    /// it has enough pairs, its leftovers grouped by language), `language`, or `none` (random batches).
    #[arg(long, value_enum, default_value_t = Group::None)]
    pub group: Group,
    /// Name written into the exported model's manifest.
    #[arg(long, default_value = "sg-code-minilm")]
    pub name: String,
    /// Run on a CUDA or Metal GPU when sg was built with the feature and one is present.
    #[arg(long)]
    pub gpu: bool,
}

/// How `train` composes batches (see `--group`).
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Group {
    /// Random batches across every repository and language.
    #[default]
    None,
    /// Batches from one repository: the model learns to tell code of one project apart, as a search must.
    Repo,
    /// Batches from one language.
    Language,
}

/// What a training run did.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct TrainReport {
    /// Optimiser steps taken (in all runs, when resumed).
    pub steps: usize,
    /// Training pairs read.
    pub train_pairs: usize,
    /// Validation pairs used.
    pub valid_pairs: usize,
    /// Validation MRR@10 of the starting model.
    pub base_mrr: f64,
    /// Best validation MRR@10 reached, and at which step.
    pub best_mrr: f64,
    /// The step of `best_mrr`.
    pub best_step: usize,
    /// Mean loss of the first and the last `eval_every` steps of this run.
    pub first_loss: f64,
    /// See `first_loss`.
    pub last_loss: f64,
    /// Wall time of this run, seconds.
    pub seconds: f64,
}

/// The state stored beside a checkpoint's weights.
#[derive(Serialize, Deserialize)]
struct CheckpointState {
    step: usize,
    report: TrainReport,
}

/// One pair, tokenised.
struct Example {
    anchor: Vec<u32>,
    positive: Vec<u32>,
    negative: Option<Vec<u32>>,
    weight: f32,
}

fn device(gpu: bool) -> anyhow::Result<Device> {
    if gpu {
        #[cfg(feature = "cuda")]
        if let Ok(d) = Device::new_cuda(0) {
            return Ok(d);
        }
        #[cfg(feature = "metal")]
        if let Ok(d) = Device::new_metal(0) {
            return Ok(d);
        }
        tracing::warn!("no GPU support in this build or no GPU present; training on the CPU");
    }
    Ok(Device::Cpu)
}

/// Runs `train`.
pub fn run(args: &TrainArgs) -> anyhow::Result<TrainReport> {
    let started = Instant::now();
    if args.batch < 2 {
        bail!("--batch must be at least 2 (the other pairs of a batch are the negatives)");
    }
    let device = device(args.gpu)?;
    let tokenizer_model = BertEmbedder::load(
        &args.model,
        &EmbedOptions {
            max_tokens: args.max_tokens,
            ..EmbedOptions::default()
        },
    )?;
    let train_pairs = read_pairs(&args.train)?;
    let valid_pairs: Vec<Pair> = read_pairs(&args.valid)?
        .into_iter()
        .take(args.valid_limit)
        .collect();
    if train_pairs.is_empty() || valid_pairs.len() < 2 {
        bail!("need training pairs and at least two validation pairs");
    }
    let train_repos: std::collections::HashSet<&str> =
        train_pairs.iter().map(|p| p.repo.as_str()).collect();
    if let Some(p) = valid_pairs
        .iter()
        .find(|p| train_repos.contains(p.repo.as_str()))
    {
        bail!(
            "repository {:?} is in both the training and the validation pairs",
            p.repo
        );
    }
    let tok = |text: &str, max: usize| -> anyhow::Result<Vec<u32>> {
        encode(&tokenizer_model, text, max)
    };
    let examples: Vec<Example> = train_pairs
        .iter()
        .map(|p| {
            Ok(Example {
                anchor: tok(&p.anchor, args.anchor_tokens)?,
                positive: tok(&p.positive, args.max_tokens)?,
                negative: p
                    .negative
                    .as_deref()
                    .map(|n| tok(n, args.max_tokens))
                    .transpose()?,
                weight: p.weight,
            })
        })
        .collect::<anyhow::Result<_>>()?;
    let valid: Vec<(Vec<u32>, Vec<u32>)> = valid_pairs
        .iter()
        .map(|p| {
            Ok((
                tok(&p.anchor, args.anchor_tokens)?,
                tok(&p.positive, args.max_tokens)?,
            ))
        })
        .collect::<anyhow::Result<_>>()?;
    let valid_repos: Vec<&str> = valid_pairs.iter().map(|p| p.repo.as_str()).collect();

    let checkpoint = args.out.join("checkpoint");
    let (start_dir, mut state) = if args.resume {
        let text = std::fs::read_to_string(checkpoint.join("state.json"))
            .with_context(|| format!("no checkpoint to resume in {}", checkpoint.display()))?;
        let state: CheckpointState = serde_json::from_str(&text)?;
        tracing::info!(
            step = state.step,
            "resuming (optimiser moments start afresh)"
        );
        (checkpoint.clone(), state)
    } else {
        (
            args.model.clone(),
            CheckpointState {
                step: 0,
                report: TrainReport::default(),
            },
        )
    };
    let lora = (args.lora_rank > 0).then_some(Lora {
        rank: args.lora_rank,
        alpha: args.lora_alpha,
    });
    let model = TrainableBert::load(&start_dir, lora, &device)?;
    let mut opt = AdamW::new(
        model.vars().to_vec(),
        ParamsAdamW {
            lr: args.lr,
            weight_decay: args.weight_decay,
            ..ParamsAdamW::default()
        },
    )?;

    let per_step = args.batch * args.accumulate.max(1);
    let steps_per_epoch = examples.len() / per_step;
    if steps_per_epoch == 0 {
        bail!(
            "{} training pairs make no full step of {per_step}",
            examples.len()
        );
    }
    let mut total_steps = steps_per_epoch * args.epochs.max(1);
    if args.max_steps > 0 {
        total_steps = total_steps.min(args.max_steps);
    }
    let warmup = ((total_steps as f64) * args.warmup).ceil().max(1.0) as usize;
    let lr_at = |step: usize| -> f64 {
        if step < warmup {
            args.lr * (step + 1) as f64 / warmup as f64
        } else {
            args.lr * (total_steps - step) as f64 / (total_steps - warmup).max(1) as f64
        }
    };

    let mut report = state.report.clone();
    report.train_pairs = examples.len();
    report.valid_pairs = valid.len();
    if state.step == 0 {
        let mrr = validation_mrr(&model, &valid, &valid_repos, &device)?;
        report.base_mrr = mrr.all;
        report.best_mrr = report.base_mrr;
        tracing::info!(
            mrr = mrr.all,
            within_repo = mrr.within_repo,
            "validation MRR@10 of the starting model"
        );
    }
    let info = |report: &TrainReport| ExportInfo {
        name: args.name.clone(),
        max_tokens: None,
        training: serde_json::json!({
            // The file name only: a manifest must not carry a machine's paths.
            "train": args.train.file_name().map(|n| n.to_string_lossy().into_owned()),
            "train_pairs": report.train_pairs,
            "valid_pairs": report.valid_pairs,
            "steps": report.best_step,
            "batch": args.batch * args.accumulate.max(1),
            "lr": args.lr,
            "temperature": args.temperature,
            "max_tokens": args.max_tokens,
            "lora_rank": args.lora_rank,
            "validation_mrr10": { "base": report.base_mrr, "best": report.best_mrr },
        }),
    };
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open({
            std::fs::create_dir_all(&args.out)
                .with_context(|| format!("cannot create {}", args.out.display()))?;
            args.out.join("log.jsonl")
        })?;

    let bar = ProgressBar::new(total_steps as u64).with_style(
        ProgressStyle::with_template("train {bar:30} {pos}/{len} steps {msg} [{elapsed}<{eta}]")
            .expect("valid template"),
    );
    bar.set_position(state.step as u64);
    let run_started = Instant::now();
    let mut window = Vec::new();
    let mut first_window: Option<f64> = None;
    // What each batch shares (`--group`), and the epoch whose batch order is at hand.
    let keys: Vec<(&str, &str)> = train_pairs
        .iter()
        .map(|p| match args.group {
            Group::None => ("", ""),
            Group::Repo => (p.repo.as_str(), p.language.as_str()),
            Group::Language => (p.language.as_str(), p.language.as_str()),
        })
        .collect();
    let mut epoch_order: Option<(usize, Vec<usize>)> = None;
    let mut pairs_done = 0usize;
    while state.step < total_steps {
        let epoch = state.step / steps_per_epoch;
        let within = state.step % steps_per_epoch;
        if epoch_order.as_ref().is_none_or(|(e, _)| *e != epoch) {
            let seed = format!("{}:{epoch}", args.seed);
            epoch_order = Some((epoch, batch_order(&keys, args.batch, &seed)));
        }
        let idx = &epoch_order.as_ref().expect("set above").1;
        let mut acc: Option<GradStore> = None;
        let mut step_loss = 0.0;
        for micro in 0..args.accumulate.max(1) {
            let start = (within * args.accumulate.max(1) + micro) * args.batch;
            let batch: Vec<&Example> = idx[start..start + args.batch]
                .iter()
                .map(|&i| &examples[i])
                .collect();
            let loss = info_nce(&model, &batch, args.temperature, &device)?;
            let loss = (loss / args.accumulate.max(1) as f64)?;
            step_loss += loss.to_scalar::<f32>()? as f64;
            let grads = loss.backward()?;
            acc = Some(match acc {
                None => grads,
                Some(mut a) => {
                    for v in model.vars() {
                        if let Some(g) = grads.get(v.as_tensor()) {
                            let sum = match a.get(v.as_tensor()) {
                                Some(prev) => (prev + g)?,
                                None => g.clone(),
                            };
                            a.insert(v.as_tensor(), sum);
                        }
                    }
                    a
                }
            });
            pairs_done += args.batch;
        }
        let mut grads = acc.expect("at least one micro-batch");
        if args.clip > 0.0 {
            clip_gradients(&mut grads, &model, args.clip)?;
        }
        opt.set_learning_rate(lr_at(state.step));
        opt.step(&grads)?;
        state.step += 1;
        window.push(step_loss);
        let secs = run_started.elapsed().as_secs_f64();
        bar.set_position(state.step as u64);
        bar.set_message(format!(
            "loss {:.3} {:.1} pairs/s",
            window.iter().rev().take(20).sum::<f64>() / window.len().min(20) as f64,
            pairs_done as f64 / secs.max(1e-9)
        ));
        if state.step % args.eval_every == 0 || state.step == total_steps {
            let mean_loss = window.iter().sum::<f64>() / window.len() as f64;
            first_window.get_or_insert(mean_loss);
            window.clear();
            let ValidationMrr {
                all: mrr,
                within_repo,
            } = validation_mrr(&model, &valid, &valid_repos, &device)?;
            let best = mrr > report.best_mrr;
            if best {
                report.best_mrr = mrr;
                report.best_step = state.step;
            }
            report.steps = state.step;
            report.first_loss = first_window.unwrap_or(mean_loss);
            report.last_loss = mean_loss;
            use std::io::Write;
            writeln!(
                log,
                "{}",
                serde_json::json!({"step": state.step, "loss": mean_loss, "valid_mrr10": mrr,
                    "valid_mrr10_within_repo": within_repo, "lr": lr_at(state.step - 1), "pairs_per_s": pairs_done as f64 / secs})
            )?;
            // Through tracing, not the bar: a hidden bar (stderr not a terminal) drops its printed lines.
            tracing::info!(
                step = state.step,
                loss = mean_loss,
                valid_mrr10 = mrr,
                within_repo,
                best,
                pairs_per_s = pairs_done as f64 / secs,
                "validation"
            );
            if best {
                export_model(&model, &args.model, &args.out.join("best"), &info(&report))?;
            }
            model.save(&checkpoint, DType::F32)?;
            copy_file(&args.model, &checkpoint, "config.json")?;
            std::fs::write(
                checkpoint.join("state.json"),
                serde_json::to_string_pretty(&CheckpointState {
                    step: state.step,
                    report: report.clone(),
                })?,
            )?;
        }
    }
    bar.finish_and_clear();
    report.seconds = started.elapsed().as_secs_f64();
    if report.best_step == 0 && !args.out.join("best").join("model.safetensors").exists() {
        tracing::warn!(
            "no step beat the starting model on validation; best/ is the starting model"
        );
        export_model(
            &model_at(&args.model, &device)?,
            &args.model,
            &args.out.join("best"),
            &info(&report),
        )?;
    }
    std::fs::write(
        args.out.join("report.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    Ok(report)
}

/// The order of examples in one epoch, cut into batches of `batch` by the trainer: examples are shuffled (by a
/// hash of `seed`), then each group of the first key fills whole batches, the leftovers of those groups fill
/// batches by the second key, and whatever remains is mixed. The whole batches come in shuffled order, any
/// partial batch last. With every key equal this is a plain shuffle.
pub fn batch_order(keys: &[(&str, &str)], batch: usize, seed: &str) -> Vec<usize> {
    use std::collections::BTreeMap;
    let hash =
        |tag: &str, i: usize| *blake3::hash(format!("{seed}:{tag}:{i}").as_bytes()).as_bytes();
    let mut idx: Vec<usize> = (0..keys.len()).collect();
    idx.sort_by_cached_key(|&i| hash("pair", i));
    let batch = batch.max(1);
    let mut batches: Vec<Vec<usize>> = Vec::new();
    let mut fill = |members: Vec<usize>, rest: &mut Vec<usize>| {
        let full = members.len() / batch * batch;
        batches.extend(members[..full].chunks(batch).map(<[usize]>::to_vec));
        rest.extend_from_slice(&members[full..]);
    };
    let group = |members: &[usize], second: bool| {
        let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for &i in members {
            let key = if second { keys[i].1 } else { keys[i].0 };
            groups.entry(key).or_default().push(i);
        }
        groups
    };
    let mut leftovers = Vec::new();
    for (_, members) in group(&idx, false) {
        fill(members, &mut leftovers);
    }
    let mut mixed = Vec::new();
    for (_, members) in group(&leftovers, true) {
        fill(members, &mut mixed);
    }
    mixed.sort_by_cached_key(|&i| hash("mixed", i));
    let mut tail = Vec::new();
    fill(mixed, &mut tail);
    let mut order: Vec<usize> = (0..batches.len()).collect();
    order.sort_by_cached_key(|&b| hash("batch", b));
    let mut out: Vec<usize> = order.into_iter().flat_map(|b| batches[b].clone()).collect();
    out.extend(tail);
    out
}

fn model_at(dir: &Path, device: &Device) -> anyhow::Result<TrainableBert> {
    TrainableBert::load(dir, None, device)
}

fn copy_file(from_dir: &Path, to_dir: &Path, name: &str) -> anyhow::Result<()> {
    std::fs::copy(from_dir.join(name), to_dir.join(name)).with_context(|| {
        format!(
            "cannot copy {} to {}",
            from_dir.join(name).display(),
            to_dir.display()
        )
    })?;
    Ok(())
}

/// Token ids of `text` with `[CLS]`/`[SEP]`, at most `max` of them (cut keeps the final `[SEP]`).
pub fn encode(model: &BertEmbedder, text: &str, max: usize) -> anyhow::Result<Vec<u32>> {
    let enc = model
        .tokenizer()
        .encode_fast(text, true)
        .map_err(|e| anyhow::anyhow!("cannot tokenise: {e}"))?;
    let mut ids = enc.get_ids().to_vec();
    if ids.len() > max && max >= 2 {
        let sep = *ids.last().expect("non-empty");
        ids.truncate(max - 1);
        ids.push(sep);
    }
    Ok(ids)
}

/// Pads rows of ids into `(ids, mask)` tensors.
fn batch_tensors(rows: &[&[u32]], device: &Device) -> anyhow::Result<(Tensor, Tensor)> {
    let width = rows.iter().map(|r| r.len()).max().unwrap_or(1);
    let mut ids = Vec::with_capacity(rows.len() * width);
    let mut mask = Vec::with_capacity(rows.len() * width);
    for r in rows {
        ids.extend_from_slice(r);
        mask.extend(std::iter::repeat_n(1u32, r.len()));
        ids.extend(std::iter::repeat_n(0u32, width - r.len()));
        mask.extend(std::iter::repeat_n(0u32, width - r.len()));
    }
    Ok((
        Tensor::from_vec(ids, (rows.len(), width), device)?,
        Tensor::from_vec(mask, (rows.len(), width), device)?,
    ))
}

/// Pooled, normalised embeddings `(rows, dims)` of token-id rows.
pub fn embed_rows(
    model: &TrainableBert,
    rows: &[&[u32]],
    device: &Device,
) -> anyhow::Result<Tensor> {
    let (ids, mask) = batch_tensors(rows, device)?;
    Ok(mean_pool_l2(&model.forward(&ids, &mask)?, &mask)?)
}

/// The symmetric InfoNCE loss of one batch: each anchor against every positive (and the hard negatives), each
/// positive against every anchor; rows weighted by the pairs' weights.
fn info_nce(
    model: &TrainableBert,
    batch: &[&Example],
    temperature: f64,
    device: &Device,
) -> anyhow::Result<Tensor> {
    let n = batch.len();
    let anchors: Vec<&[u32]> = batch.iter().map(|e| e.anchor.as_slice()).collect();
    let mut docs: Vec<&[u32]> = batch.iter().map(|e| e.positive.as_slice()).collect();
    docs.extend(batch.iter().filter_map(|e| e.negative.as_deref()));
    let a = embed_rows(model, &anchors, device)?;
    let d = embed_rows(model, &docs, device)?;
    let m = docs.len();
    let logits_a = (a.matmul(&d.t()?)? / temperature)?; // (n, m)
    let logits_p = (d.narrow(0, 0, n)?.matmul(&a.t()?)? / temperature)?; // (n, n)
    let eye_a = Tensor::eye(n, DType::F32, device)?.pad_with_zeros(1, 0, m - n)?;
    let eye_p = Tensor::eye(n, DType::F32, device)?;
    let ce = |logits: &Tensor, target: &Tensor| -> candle_core::Result<Tensor> {
        let lp = candle_nn::ops::log_softmax(logits, D::Minus1)?;
        (lp * target)?.sum(1)?.neg()
    };
    let per_row = ((ce(&logits_a, &eye_a)? + ce(&logits_p, &eye_p)?)? * 0.5)?;
    let w: Vec<f32> = batch.iter().map(|e| e.weight).collect();
    let wsum: f32 = w.iter().sum::<f32>().max(1e-6);
    let w = Tensor::from_vec(w, n, device)?;
    Ok(((per_row * w)?.sum_all()? / wsum as f64)?)
}

/// Scales gradients so their global L2 norm is at most `max`.
fn clip_gradients(grads: &mut GradStore, model: &TrainableBert, max: f64) -> anyhow::Result<()> {
    let mut sq = 0f64;
    for v in model.vars() {
        if let Some(g) = grads.get(v.as_tensor()) {
            sq += g.sqr()?.sum_all()?.to_scalar::<f32>()? as f64;
        }
    }
    let norm = sq.sqrt();
    if norm > max {
        let f = max / norm;
        for v in model.vars() {
            if let Some(g) = grads.get(v.as_tensor()) {
                let scaled = (g * f)?;
                grads.insert(v.as_tensor(), scaled);
            }
        }
    }
    Ok(())
}

/// Validation MRR@10 of each anchor's own code: among all validation codes, and among its repository's only
/// (what a search of one workspace asks of the model).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ValidationMrr {
    /// Ranked among every validation code.
    pub all: f64,
    /// Ranked among the codes of the anchor's repository.
    pub within_repo: f64,
}

/// Mean reciprocal rank at 10 of each validation anchor's own positive (see [`ValidationMrr`]); `repos[i]` is
/// pair `i`'s repository.
pub fn validation_mrr(
    model: &TrainableBert,
    valid: &[(Vec<u32>, Vec<u32>)],
    repos: &[&str],
    device: &Device,
) -> anyhow::Result<ValidationMrr> {
    let embed = |rows: Vec<&[u32]>| -> anyhow::Result<Vec<Vec<f32>>> {
        // Length-sorted batches waste no time on padding.
        let mut order: Vec<usize> = (0..rows.len()).collect();
        order.sort_by_key(|&i| rows[i].len());
        let mut vecs = vec![Vec::new(); rows.len()];
        for chunk in order.chunks(32) {
            let batch: Vec<&[u32]> = chunk.iter().map(|&i| rows[i]).collect();
            let e = embed_rows(model, &batch, device)?
                .detach()
                .to_vec2::<f32>()?;
            for (&i, v) in chunk.iter().zip(e) {
                vecs[i] = v;
            }
        }
        Ok(vecs)
    };
    let anchors = embed(valid.iter().map(|(a, _)| a.as_slice()).collect())?;
    let docs = embed(valid.iter().map(|(_, p)| p.as_slice()).collect())?;
    Ok(ValidationMrr {
        all: mrr_at_10(&anchors, &docs, None),
        within_repo: mrr_at_10(&anchors, &docs, Some(repos)),
    })
}

/// MRR@10 where query `i`'s answer is document `i` (vectors normalised: the dot product ranks); with `groups`,
/// only documents of query `i`'s group compete.
pub fn mrr_at_10(queries: &[Vec<f32>], docs: &[Vec<f32>], groups: Option<&[&str]>) -> f64 {
    let dot = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>();
    let same = |i: usize, j: usize| groups.is_none_or(|g| g[i] == g[j]);
    let mut total = 0.0;
    for (i, q) in queries.iter().enumerate() {
        let own = dot(q, &docs[i]);
        let better = docs
            .iter()
            .enumerate()
            .filter(|&(j, d)| j != i && same(i, j) && dot(q, d) > own)
            .count();
        if better < 10 {
            total += 1.0 / (better + 1) as f64;
        }
    }
    total / queries.len().max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_batches_hold_one_repository_and_leftovers_share_a_language() {
        // Repository a: 5 rust pairs, b: 3 rust, c: 2 go, d: 1 go; batches of 2.
        let mut keys = Vec::new();
        for (repo, lang, n) in [
            ("a", "rust", 5),
            ("b", "rust", 3),
            ("c", "go", 2),
            ("d", "go", 1),
        ] {
            keys.extend(std::iter::repeat_n((repo, lang), n));
        }
        let order = batch_order(&keys, 2, "7");
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..keys.len()).collect::<Vec<_>>(), "a permutation");
        let batches: Vec<&[usize]> = order.chunks(2).collect();
        // a: 2 batches + 1 left, b: 1 batch + 1 left, c: 1 batch, d: 1 left. Leftovers: rust a+b make one
        // batch, go d is alone: the partial batch at the end.
        let same_repo = batches[..5]
            .iter()
            .filter(|b| keys[b[0]].0 == keys[b[1]].0)
            .count();
        assert_eq!(same_repo, 4);
        assert!(
            batches[..5].iter().all(|b| keys[b[0]].1 == keys[b[1]].1),
            "one language per batch"
        );
        assert_eq!(batches[5].len(), 1);
        assert_eq!(keys[batches[5][0]].0, "d");
        // Another seed, another order; equal keys, a plain shuffle.
        assert_ne!(order, batch_order(&keys, 2, "8"));
        let plain = vec![("", ""); 10];
        let mut shuffled = batch_order(&plain, 4, "7");
        assert_ne!(shuffled, (0..10).collect::<Vec<_>>());
        shuffled.sort_unstable();
        assert_eq!(shuffled, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn mrr_counts_the_rank_of_each_own_document_up_to_ten() {
        let q = vec![vec![1.0, 0.0], vec![0.0, 1.0]];
        let d = vec![vec![0.0, 1.0], vec![0.9, 0.1]];
        // Query 0 ranks its document second, query 1 ranks its own second too.
        assert!((mrr_at_10(&q, &d, None) - 0.5).abs() < 1e-9);
        assert!((mrr_at_10(&q, &q, None) - 1.0).abs() < 1e-9);
        // In different groups, neither query sees the other's document: both rank their own first.
        assert!((mrr_at_10(&q, &d, Some(&["a", "b"])) - 1.0).abs() < 1e-9);
        assert!((mrr_at_10(&q, &d, Some(&["a", "a"])) - 0.5).abs() < 1e-9);
    }
}
