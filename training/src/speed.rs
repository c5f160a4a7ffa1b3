//! `speed`: how fast a model folder embeds, through sg's own loading path: query latency one text at a time, and
//! document throughput on the chunks of a code folder.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

use sg::config::IndexConfig;
use sg::embed::{EmbedOptions, load_model};

use crate::corpus;
use crate::exclude::ExclusionList;

/// Options of `training speed`.
#[derive(Clone, Debug, clap::Args)]
pub struct SpeedArgs {
    /// The model folder (BERT or static).
    #[arg(long)]
    pub model: PathBuf,
    /// A code folder whose chunks are embedded as documents.
    #[arg(long)]
    pub source: PathBuf,
    /// Distinct queries to time.
    #[arg(long, default_value_t = 200)]
    pub queries: usize,
}

/// Measured speeds.
#[derive(Clone, Debug)]
pub struct SpeedReport {
    /// Median query embedding time, microseconds.
    pub query_p50_us: f64,
    /// 95th percentile query embedding time, microseconds.
    pub query_p95_us: f64,
    /// Chunks embedded as documents.
    pub chunks: usize,
    /// Wall time of embedding them, seconds.
    pub documents_s: f64,
    /// Process CPU time (user + system) spent embedding them, seconds: on a busy machine, wall time
    /// overstates the cost.
    pub documents_cpu_s: f64,
}

/// Process CPU time (user + system) in seconds, from `/proc/self/stat`; 0 where it is unavailable.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // After the name: state is field 0, utime field 11, stime field 12 (in clock ticks, 100 per second on Linux).
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// Runs `speed`. Reading the source folder is not timed; only the embedder calls are.
pub fn run(args: &SpeedArgs) -> anyhow::Result<SpeedReport> {
    let model = load_model(&args.model, &EmbedOptions::default())?;
    let texts = Mutex::new(Vec::new());
    corpus::for_each_chunk(
        std::slice::from_ref(&args.source),
        &ExclusionList::default(),
        &IndexConfig::default(),
        None,
        &|t| {
            texts
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(t.to_owned())
        },
    )?;
    let mut texts = texts.into_inner().unwrap_or_else(|e| e.into_inner());
    texts.sort();

    let words = [
        "read", "file", "retry", "request", "parse", "config", "spawn", "task", "timeout",
        "buffer", "error", "handler",
    ];
    let mut times = Vec::with_capacity(args.queries);
    for i in 0..args.queries {
        // Distinct texts, so that no embedder-side cache answers.
        let query = format!(
            "how to {} the {} of a {} {i}",
            words[i % words.len()],
            words[(i / 3) % words.len()],
            words[(i / 7) % words.len()]
        );
        let started = Instant::now();
        model.embed_query(&query)?;
        times.push(started.elapsed().as_secs_f64() * 1e6);
    }
    times.sort_by(f64::total_cmp);
    let pick = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];

    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let (started, cpu) = (Instant::now(), cpu_seconds());
    let vectors = model.embed_documents(&refs)?;
    let documents_s = started.elapsed().as_secs_f64();
    let documents_cpu_s = cpu_seconds() - cpu;
    anyhow::ensure!(vectors.len() == refs.len(), "one vector per chunk");
    Ok(SpeedReport {
        query_p50_us: pick(0.5),
        query_p95_us: pick(0.95),
        chunks: refs.len(),
        documents_s,
        documents_cpu_s,
    })
}
