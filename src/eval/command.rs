//! `sg eval`: its options and the command that runs them.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;

use super::{
    ContextScenario, EvalOptions, Spec, evaluate, generate_spec, import_semble, render_report,
};
use crate::search::{Mode, RankConfig};
use crate::setup::CommonArgs;

/// Options of `sg eval`.
#[derive(Args, Debug)]
pub struct EvalArgs {
    /// A query spec (JSON; see eval/README.md).
    #[arg(long, required_unless_present_any = ["semble", "generate"])]
    spec: Vec<PathBuf>,
    /// Instead of evaluating: write a doc-to-code spec of this folder into --generate-out.
    #[arg(long, requires = "generate_out")]
    generate: Option<PathBuf>,
    /// Where --generate writes `spec.json` and the blanked `corpus/`.
    #[arg(long)]
    generate_out: Option<PathBuf>,
    /// Most queries --generate writes.
    #[arg(long, default_value_t = 200)]
    max_queries: usize,
    /// The public benchmark folder (holding repos.json and annotations/), instead of --spec.
    #[arg(long, requires = "corpus")]
    semble: Option<PathBuf>,
    /// Where the benchmark's repositories were materialized.
    #[arg(long)]
    corpus: Option<PathBuf>,
    /// Only these benchmark repositories (repeatable).
    #[arg(long = "repo")]
    repos: Vec<String>,
    /// hybrid, lexical, semantic or all.
    #[arg(long, default_value = "all")]
    mode: String,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// Also write the report (JSON) to this file.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Write the ranked results as JSONL in the public scorer's format, one file per mode
    /// (`<prefix>.<mode>.jsonl`).
    #[arg(long)]
    results: Option<PathBuf>,
    /// Per-query lines on stderr.
    #[arg(long)]
    verbose: bool,
    /// Editor context to simulate, comma-separated: `none`; `related` (the current file imports a
    /// relevant file, is imported by one, or sits beside one); `unrelated` (a file elsewhere); `all`.
    #[arg(long, default_value = "none")]
    context: String,
    /// Leave out the reference row `bm25-functions` (plain BM25 over one document per function).
    #[arg(long)]
    no_reference: bool,
    /// Override a ranking weight, e.g. `--rank file_support=0.3` (repeatable; for tuning).
    #[arg(long = "rank", value_name = "NAME=VALUE")]
    rank: Vec<String>,
    /// The route every query takes: auto (guessed from its words, as the CLI, the language server and
    /// the MCP server do), or one of search, symbol, definition, references.
    #[arg(long, default_value = "auto")]
    intent: String,
    #[command(flatten)]
    common: CommonArgs,
}

/// Runs `sg eval`.
pub fn run(a: EvalArgs) -> Result<i32> {
    if let (Some(src), Some(out)) = (&a.generate, &a.generate_out) {
        let spec = generate_spec(src, out, a.max_queries)?;
        eprintln!(
            "wrote {} queries to {}",
            spec.queries.len(),
            out.join("spec.json").display()
        );
        return Ok(0);
    }
    let modes: Vec<Mode> = match a.mode.as_str() {
        "all" => vec![Mode::Hybrid, Mode::Lexical, Mode::Semantic],
        m => vec![Mode::from_name(m).with_context(|| format!("unknown mode {m:?}"))?],
    };
    let mut specs: Vec<(String, String, Spec)> = Vec::new();
    if let Some(bench) = &a.semble {
        specs.extend(import_semble(
            bench,
            a.corpus.as_deref().unwrap_or(Path::new(".")),
            &a.repos,
        )?);
    }
    for path in &a.spec {
        let mut spec: Spec = serde_json::from_str(
            &std::fs::read_to_string(path)
                .with_context(|| format!("cannot read spec {}", path.display()))?,
        )
        .with_context(|| format!("invalid spec {}", path.display()))?;
        if spec.root.is_relative() {
            spec.root = path.parent().unwrap_or(Path::new(".")).join(&spec.root);
        }
        let name = if spec.name.is_empty() {
            path.display().to_string()
        } else {
            spec.name.clone()
        };
        specs.push((name, String::new(), spec));
    }
    let embedder = if a.common.no_embed {
        None
    } else {
        crate::setup::load_embedder(
            a.common.model_path.as_deref(),
            a.common.threads,
            a.common.max_tokens,
        )?
    };
    let mut contexts = Vec::new();
    for c in a.context.split(',') {
        match c.trim() {
            "all" => contexts.extend([
                ContextScenario::None,
                ContextScenario::Related,
                ContextScenario::Unrelated,
            ]),
            c => contexts.push(
                ContextScenario::from_name(c)
                    .with_context(|| format!("--context: unknown scenario {c:?}"))?,
            ),
        }
    }
    let mut rank = RankConfig::default();
    for kv in &a.rank {
        let (k, v) = kv
            .split_once('=')
            .with_context(|| format!("--rank {kv:?}: expected NAME=VALUE"))?;
        let v: f32 = v
            .parse()
            .with_context(|| format!("--rank {kv:?}: not a number"))?;
        rank.set(k, v).map_err(anyhow::Error::msg)?;
    }
    let run = evaluate(
        &specs,
        &modes,
        &EvalOptions {
            embedder,
            config: a.common.index_config(),
            index_base: None,
            rank,
            verbose: a.verbose,
            intent: crate::intent::Intent::parse(Some(&a.intent)).map_err(anyhow::Error::msg)?,
            contexts,
            progress: true,
            fast_embedder: a.common.fast_embedder()?,
            reference: !a.no_reference,
        },
    )?;
    if let Some(prefix) = &a.results {
        run.write_results(prefix)?;
    }
    let report = run.report;
    if let Some(out) = &a.out {
        std::fs::write(out, serde_json::to_string_pretty(&report)?)?;
    }
    let mut stdout = std::io::stdout().lock();
    if a.json {
        writeln!(stdout, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        write!(stdout, "{}", render_report(&report))?;
    }
    Ok(0)
}
