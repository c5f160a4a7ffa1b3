//! The `training` command line: `distill` (see `training::distill`) and `speed` (see `training::speed`).

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
    /// Distil a static (token-vector) model from a BERT model, with token weights from a code corpus.
    Distill(training::distill::DistillArgs),
    /// Time a model folder: query embedding latency and document throughput on a code folder.
    Speed(training::speed::SpeedArgs),
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            EnvFilter::try_from_env("TRAINING_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
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
