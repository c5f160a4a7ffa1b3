//! The `training` command line: `extract`, `mine`, `train`, `export`, `eval`, `distill` and `speed` (see the
//! modules of the same names in the `training` library).

use std::io::IsTerminal;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// Builds sg's embedding models.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Training pairs (doc → code, README → code, test → code) from source trees, split by repository.
    Extract(training::extract::ExtractArgs),
    /// Hard negatives for training pairs, from BM25 near-misses and a model's top results.
    Mine(training::mine::MineArgs),
    /// Fine-tune a BERT embedder on pairs with in-batch InfoNCE; keeps the best model by validation MRR@10.
    Train(training::train::TrainArgs),
    /// Write a training checkpoint as a model folder sg loads.
    Export(training::export::ExportArgs),
    /// Run `sg eval` on a model folder (arguments after `--` go to `sg eval`).
    Eval(training::export::EvalArgs),
    /// Distil a static (token-vector) model from a BERT model, with token weights from a code corpus.
    Distill(training::distill::DistillArgs),
    /// Time a model folder: query embedding latency and document throughput on a code folder.
    Speed(training::speed::SpeedArgs),
}

fn main() -> std::process::ExitCode {
    // SAFETY: first thing in main, before any other thread exists.
    unsafe { sg::embed::init_compute_threads() };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            EnvFilter::try_from_env("TRAINING_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Extract(args) => training::extract::run(&args).map(|s| {
            println!(
                "{}: {} train + {} validation pairs ({} validation repositories) from {} repositories, {} files; \
                 {} candidates, {} duplicates; by source {:?}; by language {:?}",
                args.out.display(),
                s.train,
                s.valid,
                s.valid_repos.len(),
                s.repos,
                s.files,
                s.candidates,
                s.duplicates,
                s.by_source,
                s.by_language
            );
        }),
        Command::Mine(args) => training::mine::run(&args).map(|r| {
            println!(
                "{}: {} pairs, negatives from BM25 {}, from the model {}",
                args.out.display(),
                r.pairs,
                r.lexical,
                r.semantic
            );
        }),
        Command::Train(args) => training::train::run(&args).map(|r| {
            println!(
                "{}: {} steps on {} pairs in {:.0} s; loss {:.4} -> {:.4}; validation MRR@10 {:.4} -> {:.4} \
                 (best at step {})",
                args.out.display(),
                r.steps,
                r.train_pairs,
                r.seconds,
                r.first_loss,
                r.last_loss,
                r.base_mrr,
                r.best_mrr,
                r.best_step
            );
        }),
        Command::Export(args) => training::export::run_export(&args).map(|()| {
            println!("{}: model folder written", args.out.display());
        }),
        Command::Eval(args) => match training::export::run_eval(&args) {
            Ok(0) => Ok(()),
            Ok(code) => return std::process::ExitCode::from(code.clamp(1, 255) as u8),
            Err(e) => Err(e),
        },
        Command::Distill(args) => training::distill::run(&args).map(|report| {
            println!(
                "{}: {} token vectors ({} computed) of {} dims, {:.1}% of the variance kept; corpus: {} files, \
                 {} chunks",
                args.out.display(),
                report.vocab,
                report.computed,
                report.dims,
                report.explained_variance * 100.0,
                report.corpus.files,
                report.corpus.chunks
            );
        }),
        Command::Speed(args) => training::speed::run(&args).map(|r| {
            println!(
                "{}: query p50 {:.1} µs, p95 {:.1} µs; {} chunks in {:.3} s ({:.0} chunks/s, {:.2} CPU s)",
                args.model.display(),
                r.query_p50_us,
                r.query_p95_us,
                r.chunks,
                r.documents_s,
                r.chunks as f64 / r.documents_s.max(1e-9),
                r.documents_cpu_s
            );
        }),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
