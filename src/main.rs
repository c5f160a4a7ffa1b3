//! The `sg` binary: sets up logging on stderr (stdout may be the LSP pipe) and runs the CLI.

use std::io::IsTerminal;
use std::sync::Mutex;

use clap::Parser;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::writer::MakeWriterExt;

fn main() {
    // SAFETY: first thing in main, before any other thread exists.
    unsafe { sg::embed::init_compute_threads() };
    let cli = sg::cli::Cli::parse();
    let filter = || {
        EnvFilter::try_from_env("SG_LOG")
            .or_else(|_| EnvFilter::try_from_default_env())
            .unwrap_or_else(|_| EnvFilter::new("warn"))
    };
    let log_file = cli.log_file().map(|p| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
    });
    match log_file {
        Some(Ok(file)) => tracing_subscriber::fmt()
            .with_env_filter(filter())
            .with_ansi(false)
            .with_writer(std::io::stderr.and(Mutex::new(file)))
            .init(),
        other => {
            tracing_subscriber::fmt()
                .with_env_filter(filter())
                .with_ansi(sg::terminal::use_color(std::io::stderr().is_terminal()))
                .with_writer(std::io::stderr)
                .with_target(false)
                .init();
            if let Some(Err(err)) = other {
                tracing::warn!("cannot open the log file: {err}");
            }
        }
    }
    let code = match sg::cli::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("sg: error: {err:#}");
            2
        }
    };
    std::process::exit(code);
}
