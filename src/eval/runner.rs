//! Indexing each spec's workspace and running its queries in every mode.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use serde::Serialize;

use super::context::{ContextScenario, simulated_context};
use super::metrics::{QueryMetrics, metrics};
use super::reference::{BM25_FUNCTIONS, FunctionIndex};
use super::report::{Report, build_report};
use super::spec::{HitRef, Spec, SpecQuery};
use crate::query::SearchRequest;
use crate::search::{Mode, RankConfig, SearchContext};
use crate::terminal::Bar;

/// One query's outcome in one mode.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct QueryOutcome {
    pub(crate) spec: String,
    pub(crate) query: String,
    pub(crate) category: String,
    /// The query's language, or its workspace's; empty when neither is known.
    pub(crate) language: String,
    pub(crate) metrics: QueryMetrics,
    pub(crate) latency_ms: f64,
    #[serde(skip)]
    pub(crate) hits: Vec<HitRef>,
}

/// How [`evaluate`] runs.
pub struct EvalOptions {
    /// The embedder (None: lexical only).
    pub embedder: Option<std::sync::Arc<dyn crate::embed::Embedder>>,
    /// Index configuration (a spec's `code_only` is added to it).
    pub config: crate::config::IndexConfig,
    /// Base folder of the indexes and the embedding cache (default: the user's cache folder).
    pub index_base: Option<PathBuf>,
    /// Ranking weights.
    pub rank: RankConfig,
    /// Per-query lines on stderr.
    pub verbose: bool,
    /// The route every query takes (`None`: guessed from the query, as the front ends do).
    pub intent: Option<crate::intent::Intent>,
    /// Editor contexts to run every query in (each gives its own rows, `mode@context`).
    pub contexts: Vec<ContextScenario>,
    /// Progress bars on a terminal.
    pub progress: bool,
    /// The fast tier, blended into the main model's ranking when `rank.fast_blend` is above 0.
    pub fast_embedder: Option<std::sync::Arc<dyn crate::embed::Embedder>>,
    /// Also run the reference row [`BM25_FUNCTIONS`] (plain BM25 over one document per function).
    pub reference: bool,
}

/// The outcome of an evaluation.
pub struct EvalRun {
    /// Aggregated metrics.
    pub report: Report,
    outcomes: BTreeMap<String, Vec<QueryOutcome>>,
}

impl EvalRun {
    /// Writes the ranked results in the public scorer's JSONL format, one file per mode
    /// (`<prefix>.<mode>.jsonl`, top 10 hits per query).
    pub fn write_results(&self, prefix: &Path) -> Result<()> {
        for (mode, rows) in &self.outcomes {
            let path = PathBuf::from(format!("{}.{mode}.jsonl", prefix.display()));
            let mut f = std::io::BufWriter::new(std::fs::File::create(&path)?);
            for o in rows {
                let hits: Vec<_> = o
                    .hits
                    .iter()
                    .take(10)
                    .map(|h| serde_json::json!({"path": h.path, "start_line": h.start_line, "end_line": h.end_line}))
                    .collect();
                writeln!(
                    f,
                    "{}",
                    serde_json::json!({"repo": o.spec, "query": o.query, "hits": hits})
                )?;
            }
        }
        Ok(())
    }
}

fn outcome(
    spec: &str,
    spec_language: &str,
    q: &SpecQuery,
    metrics: QueryMetrics,
    latency_ms: f64,
    hits: Vec<HitRef>,
) -> QueryOutcome {
    QueryOutcome {
        spec: spec.to_string(),
        query: q.query.clone(),
        category: q.category.clone().unwrap_or_else(|| "all".into()),
        language: q
            .language
            .clone()
            .unwrap_or_else(|| spec_language.to_string()),
        metrics,
        latency_ms,
        hits,
    }
}

/// Indexes each spec's workspace and runs its queries in every mode (and the reference row, if asked).
pub fn evaluate(
    specs: &[(String, String, Spec)],
    modes: &[Mode],
    opts: &EvalOptions,
) -> Result<EvalRun> {
    let mut outcomes: BTreeMap<String, Vec<QueryOutcome>> = BTreeMap::new();
    let mut index_times = BTreeMap::new();
    for (name, lang, spec) in specs {
        let mut cfg = opts.config.clone();
        cfg.code_only |= spec.code_only;
        let (index_dir, cache_dir) = match &opts.index_base {
            Some(base) => {
                let canon = spec
                    .root
                    .canonicalize()
                    .with_context(|| format!("cannot open workspace {}", spec.root.display()))?;
                (
                    Some(crate::index::index_dir_for(base, &canon)),
                    Some(base.join("embeddings")),
                )
            }
            None => (None, None),
        };
        let ws = crate::index::Workspace::open(
            &spec.root,
            crate::index::OpenOptions {
                index_dir,
                cache_dir,
                config: cfg,
                embedder: opts.embedder.clone(),
                // Every chunk gets a main vector before the queries run: the fast tier only counts
                // when it is blended in.
                fast_embedder: opts
                    .fast_embedder
                    .clone()
                    .filter(|_| opts.rank.fast_blend > 0.0),
            },
        )
        .with_context(|| format!("cannot open workspace of {name}"))?;
        let t = Instant::now();
        if !ws.is_writable() {
            tracing::warn!(
                "{name}: another sg process is updating this index; evaluating it as it is"
            );
        } else if opts.progress {
            ws.update(&Bar::new())?;
        } else {
            ws.update(&crate::index::NoProgress)?;
        }
        index_times.insert(name.clone(), t.elapsed().as_secs_f64());
        let files: Vec<String> = {
            let txn = ws.store().read_txn()?;
            let mut v: Vec<String> = ws
                .store()
                .files(&txn)?
                .into_iter()
                .map(|(_, r)| r.path)
                .collect();
            v.sort();
            v
        };
        for (&mode, &scenario) in modes
            .iter()
            .flat_map(|m| opts.contexts.iter().map(move |c| (m, c)))
        {
            let label = match scenario {
                ContextScenario::None => mode.name().to_string(),
                c => format!("{}@{}", mode.name(), c.name()),
            };
            for q in &spec.queries {
                let mut req = SearchRequest::new(q.query.clone(), 100);
                req.mode = mode;
                if let Some(c) = &q.context {
                    req.context = SearchContext {
                        current_file: c.current.clone(),
                        open_files: c.open.clone(),
                        ..SearchContext::default()
                    };
                }
                if scenario != ContextScenario::None
                    && let Some(ctx) = simulated_context(&ws, &files, q, scenario)?
                {
                    req.context = ctx;
                }
                let t = Instant::now();
                let r = crate::agent::route::search(&ws, &req, opts.intent, |r| {
                    ws.search(r, &opts.rank)
                })?
                .response;
                let latency_ms = t.elapsed().as_secs_f64() * 1000.0;
                let hits: Vec<HitRef> = r.hits.iter().map(HitRef::from).collect();
                let m = metrics(&hits, &q.relevant);
                if opts.verbose {
                    eprintln!(
                        "{label:8} ndcg {:.3} rr {:.3} {name}: {}",
                        m.ndcg10, m.mrr10, q.query
                    );
                }
                outcomes
                    .entry(label.clone())
                    .or_default()
                    .push(outcome(name, lang, q, m, latency_ms, hits));
            }
        }
        if opts.reference {
            let reference = FunctionIndex::build(&spec.root, &files, ws.config().max_file_size)
                .with_context(|| format!("{name}: cannot build the {BM25_FUNCTIONS} reference"))?;
            tracing::info!(
                "{name}: {} functions in the reference index",
                reference.len()
            );
            for q in &spec.queries {
                let t = Instant::now();
                let hits = reference.search(&q.query, 100)?;
                let latency_ms = t.elapsed().as_secs_f64() * 1000.0;
                let m = metrics(&hits, &q.relevant);
                if opts.verbose {
                    eprintln!(
                        "{BM25_FUNCTIONS:8} ndcg {:.3} rr {:.3} {name}: {}",
                        m.ndcg10, m.mrr10, q.query
                    );
                }
                outcomes
                    .entry(BM25_FUNCTIONS.to_string())
                    .or_default()
                    .push(outcome(name, lang, q, m, latency_ms, hits));
            }
        }
    }
    let report = build_report(&outcomes, &index_times);
    Ok(EvalRun { report, outcomes })
}
