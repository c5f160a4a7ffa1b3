//! `export` and `eval`: a trained model as a folder sg loads (`model.safetensors` in f16, the base model's
//! tokenizer, configuration and licence, and a manifest with kind, dims, pooling, checksums and what it was trained
//! on), and `sg eval` run on such a folder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use candle_core::{DType, Device};
use clap::{Args, Parser};
use sg::embed::ModelManifest;
use sha2::{Digest, Sha256};

use crate::bert::TrainableBert;

/// What goes into an exported model's manifest besides what the base model says.
#[derive(Clone, Debug)]
pub struct ExportInfo {
    /// The model's name.
    pub name: String,
    /// What it was trained on and how (copied into the manifest's `training`).
    pub training: serde_json::Value,
    /// The manifest's `max_tokens` (word pieces sg embeds per chunk); `None`: the base model's.
    pub max_tokens: Option<usize>,
}

/// Files copied unchanged from the base model folder when present.
const COPIED: &[&str] = &["tokenizer.json", "config.json", "LICENSE", "NOTICE"];

/// Writes `model` as a model folder at `out`, taking the tokenizer, configuration, licence and token limit from
/// the base model folder `base`.
pub fn export_model(
    model: &TrainableBert,
    base: &Path,
    out: &Path,
    info: &ExportInfo,
) -> anyhow::Result<()> {
    let manifest = ModelManifest::load(base)?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    model.save(out, DType::F16)?;
    let mut files = BTreeMap::new();
    for name in COPIED {
        let from = base.join(name);
        if from.is_file() {
            std::fs::copy(&from, out.join(name))
                .with_context(|| format!("cannot copy {} to {}", from.display(), out.display()))?;
        }
    }
    for name in std::iter::once("model.safetensors").chain(COPIED.iter().copied()) {
        let path = out.join(name);
        if path.is_file() {
            let bytes =
                std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
            files.insert(name.to_owned(), format!("{:x}", Sha256::digest(&bytes)));
        }
    }
    let json = serde_json::json!({
        "name": info.name,
        "kind": "bert",
        "dims": manifest.dims,
        "pooling": "mean",
        "normalize": true,
        "max_tokens": info.max_tokens.unwrap_or(manifest.max_tokens),
        "source": format!("{} fine-tuned on code by sg's training crate; f32 weights stored as f16", manifest.name),
        "source_model": manifest.name,
        "license": manifest.license,
        "training": info.training,
        "files": files,
    });
    std::fs::write(
        out.join("manifest.json"),
        serde_json::to_string_pretty(&json)? + "\n",
    )
    .with_context(|| format!("cannot write {}", out.join("manifest.json").display()))?;
    Ok(())
}

/// Arguments of `export`.
#[derive(Args, Clone, Debug)]
pub struct ExportArgs {
    /// A checkpoint folder written by `train` (`<out>/checkpoint`) or any folder with `model.safetensors` and
    /// `config.json`.
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// The model folder training started from (tokenizer, licence, token limit).
    #[arg(long)]
    pub base: PathBuf,
    /// Where to write the model folder.
    #[arg(long)]
    pub out: PathBuf,
    /// The model's name.
    #[arg(long, default_value = "sg-code-minilm")]
    pub name: String,
    /// Word pieces sg embeds per chunk with this model (default: the base model's limit).
    #[arg(long)]
    pub max_tokens: Option<usize>,
}

/// Runs `export`.
pub fn run_export(args: &ExportArgs) -> anyhow::Result<()> {
    let model = TrainableBert::load(&args.checkpoint, None, &Device::Cpu)?;
    let state = std::fs::read_to_string(args.checkpoint.join("state.json"))
        .ok()
        .and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok())
        .unwrap_or(serde_json::Value::Null);
    export_model(
        &model,
        &args.base,
        &args.out,
        &ExportInfo {
            name: args.name.clone(),
            training: state,
            max_tokens: args.max_tokens,
        },
    )
}

/// Arguments of `eval`.
#[derive(Args, Clone, Debug)]
pub struct EvalArgs {
    /// The model folder to evaluate.
    #[arg(long)]
    pub model: PathBuf,
    /// Arguments passed on to `sg eval` (after `--`), e.g. `--semble <bench> --corpus <repos> --mode all`.
    #[arg(last = true)]
    pub sg_args: Vec<String>,
}

#[derive(Parser)]
struct SgEval {
    #[command(flatten)]
    args: sg::eval::EvalArgs,
}

/// Runs `sg eval` with `--model-path <model>` and no fast tier; returns its exit code.
pub fn run_eval(args: &EvalArgs) -> anyhow::Result<i32> {
    let mut argv: Vec<String> = vec![
        "sg eval".into(),
        "--model-path".into(),
        args.model.display().to_string(),
        "--fast-model".into(),
        "none".into(),
    ];
    argv.extend(args.sg_args.iter().cloned());
    let parsed = SgEval::try_parse_from(&argv).map_err(|e| anyhow::anyhow!("{e}"))?;
    sg::eval::run(parsed.args)
}

/// The folder of the model shipped with sg, for defaults and tests.
pub fn shipped_model() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("models")
        .join("all-MiniLM-L6-v2")
}
