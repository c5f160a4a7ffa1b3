//! Search-quality evaluation: query specs, the public benchmark importer, ranking metrics (NDCG@10,
//! P@1, MRR@10, Recall@k, Recall AUC) and latency, for each retrieval mode side by side.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use serde::{Deserialize, Serialize};

use crate::query::{SearchHit, SearchRequest};
use crate::search::{Mode, RankConfig, SearchContext};
use crate::setup::CommonArgs;
use crate::terminal::Bar;

/// A query spec: a workspace and queries with their relevant targets.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Spec {
    /// Name shown in reports.
    #[serde(default)]
    pub name: String,
    /// Workspace root; relative paths are relative to the spec file.
    pub root: PathBuf,
    /// Index programming-language files only (the public benchmark's protocol).
    #[serde(default)]
    pub code_only: bool,
    /// The queries.
    pub queries: Vec<SpecQuery>,
}

/// One query of a spec.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct SpecQuery {
    /// The query text.
    pub query: String,
    /// A category for per-category tables (e.g. semantic, architecture, symbol).
    #[serde(default)]
    pub category: Option<String>,
    /// What counts as a right answer.
    pub relevant: Vec<Target>,
    /// Editor context to search with.
    #[serde(default)]
    pub context: Option<SpecContext>,
}

/// A relevant target: a file, a line span of a file, or a symbol of a file.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Target {
    /// A whole file.
    Path(String),
    /// A file with an optional span or symbol and an optional graded gain.
    Detailed {
        /// Path relative to the root.
        path: String,
        /// First line of the span, 1-based.
        #[serde(default)]
        start_line: Option<u32>,
        /// Last line of the span, 1-based inclusive.
        #[serde(default)]
        end_line: Option<u32>,
        /// Symbol name that must match.
        #[serde(default)]
        symbol: Option<String>,
        /// Gain for graded NDCG (default 1).
        #[serde(default)]
        gain: Option<f64>,
    },
}

/// Editor context of a spec query.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct SpecContext {
    /// The current file.
    #[serde(default)]
    pub current: Option<String>,
    /// Open files.
    #[serde(default)]
    pub open: Vec<String>,
}

/// A ranked answer as the metrics see it.
#[derive(Clone, Debug, PartialEq)]
pub struct HitRef {
    /// Path relative to the root.
    pub path: String,
    /// First line.
    pub start_line: u32,
    /// Last line.
    pub end_line: u32,
    /// Symbol, if any.
    pub symbol: Option<String>,
}

impl From<&SearchHit> for HitRef {
    fn from(h: &SearchHit) -> Self {
        HitRef {
            path: h.path.clone(),
            start_line: h.start_line,
            end_line: h.end_line,
            symbol: h.symbol.clone(),
        }
    }
}

fn path_matches(hit: &str, target: &str) -> bool {
    let hit = hit.trim_matches('/');
    let target = target.trim_matches('/');
    hit == target
        || (hit.len() > target.len()
            && hit.ends_with(target)
            && hit.as_bytes()[hit.len() - target.len() - 1] == b'/')
        || (target.len() > hit.len()
            && target.ends_with(hit)
            && target.as_bytes()[target.len() - hit.len() - 1] == b'/')
}

impl Target {
    fn gain(&self) -> f64 {
        match self {
            Target::Path(_) => 1.0,
            Target::Detailed { gain, .. } => gain.unwrap_or(1.0),
        }
    }

    /// Whether a hit matches this target (same rules as the public benchmark's scorer: path by `/`-suffix
    /// either way, overlapping lines when the target has a span, equal symbol when it names one).
    pub fn matches(&self, h: &HitRef) -> bool {
        match self {
            Target::Path(p) => path_matches(&h.path, p),
            Target::Detailed {
                path,
                start_line,
                end_line,
                symbol,
                ..
            } => {
                if !path_matches(&h.path, path) {
                    return false;
                }
                let span_ok = match (start_line, end_line) {
                    (Some(s), Some(e)) => h.end_line >= *s && h.start_line <= *e,
                    _ => true,
                };
                let symbol_ok = symbol
                    .as_ref()
                    .is_none_or(|sym| h.symbol.as_deref() == Some(sym.as_str()));
                span_ok && symbol_ok
            }
        }
    }
}

/// Metrics of one query.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct QueryMetrics {
    /// NDCG@10.
    pub ndcg10: f64,
    /// Whether the first hit is relevant.
    pub p1: f64,
    /// Reciprocal rank of the first relevant hit within 10.
    pub mrr10: f64,
    /// Recall at 1, 5, 10, 100.
    pub recall: [f64; 4],
    /// Mean of recall@k for k = 1..=100.
    pub recall_auc: f64,
}

/// Ranks (1-based) at which each target is first credited; `None` when not found. A hit credits at
/// most... every target it matches, each once, at its first matching hit.
fn target_ranks(hits: &[HitRef], targets: &[Target], k: usize) -> Vec<Option<usize>> {
    targets
        .iter()
        .map(|t| {
            hits.iter()
                .take(k)
                .position(|h| t.matches(h))
                .map(|p| p + 1)
        })
        .collect()
}

/// Computes the metrics of one query from its ranked hits.
pub fn metrics(hits: &[HitRef], targets: &[Target]) -> QueryMetrics {
    if targets.is_empty() {
        return QueryMetrics::default();
    }
    let ranks = target_ranks(hits, targets, 100);
    let mut dcg = 0.0;
    // Binary gains match the public scorer: a rank shared by two targets counts once.
    let mut credited = std::collections::BTreeSet::new();
    for (t, r) in targets.iter().zip(&ranks) {
        if let Some(r) = r.filter(|r| *r <= 10) {
            if t.gain() == 1.0 {
                if credited.insert(r) {
                    dcg += 1.0 / ((r + 1) as f64).log2();
                }
            } else {
                dcg += t.gain() / ((r + 1) as f64).log2();
            }
        }
    }
    let mut gains: Vec<f64> = targets.iter().map(Target::gain).collect();
    gains.sort_by(|a, b| b.total_cmp(a));
    let idcg: f64 = gains
        .iter()
        .take(10)
        .enumerate()
        .map(|(i, g)| g / ((i + 2) as f64).log2())
        .sum();
    let first = hits
        .iter()
        .take(10)
        .position(|h| targets.iter().any(|t| t.matches(h)));
    let recall_at = |k: usize| {
        ranks.iter().filter(|r| r.is_some_and(|r| r <= k)).count() as f64 / targets.len() as f64
    };
    QueryMetrics {
        ndcg10: if idcg > 0.0 {
            (dcg / idcg).min(1.0)
        } else {
            0.0
        },
        p1: if first == Some(0) { 1.0 } else { 0.0 },
        mrr10: first.map(|p| 1.0 / (p + 1) as f64).unwrap_or(0.0),
        recall: [recall_at(1), recall_at(5), recall_at(10), recall_at(100)],
        recall_auc: (1..=100).map(recall_at).sum::<f64>() / 100.0,
    }
}

/// Mean metrics and latency over a set of queries.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    /// Number of queries.
    pub queries: usize,
    /// Mean NDCG@10.
    pub ndcg10: f64,
    /// Mean P@1.
    pub p1: f64,
    /// Mean MRR@10.
    pub mrr10: f64,
    /// Mean recall at 1, 5, 10, 100.
    pub recall: [f64; 4],
    /// Mean recall AUC.
    pub recall_auc: f64,
    /// Latency percentiles in ms: p50, p95, p99.
    pub latency_ms: [f64; 3],
}

/// Percentile (nearest rank) of unsorted values.
pub fn percentile(values: &[f64], p: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let rank = ((p / 100.0) * v.len() as f64).ceil().max(1.0) as usize;
    v[rank.min(v.len()) - 1]
}

/// Averages query metrics.
pub fn summarise(rows: &[(QueryMetrics, f64)]) -> Summary {
    let n = rows.len().max(1) as f64;
    let mut s = Summary {
        queries: rows.len(),
        ..Default::default()
    };
    for (m, _) in rows {
        s.ndcg10 += m.ndcg10 / n;
        s.p1 += m.p1 / n;
        s.mrr10 += m.mrr10 / n;
        for i in 0..4 {
            s.recall[i] += m.recall[i] / n;
        }
        s.recall_auc += m.recall_auc / n;
    }
    let lat: Vec<f64> = rows.iter().map(|(_, l)| *l).collect();
    s.latency_ms = [
        percentile(&lat, 50.0),
        percentile(&lat, 95.0),
        percentile(&lat, 99.0),
    ];
    s
}

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
    /// Override a ranking weight, e.g. `--rank file_support=0.3` (repeatable; for tuning).
    #[arg(long = "rank", value_name = "NAME=VALUE")]
    rank: Vec<String>,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Deserialize)]
struct SembleRepo {
    name: String,
    #[serde(default)]
    language: String,
    benchmark_root: Option<String>,
}

#[derive(Deserialize)]
struct SembleQuery {
    query: String,
    #[serde(default)]
    category: Option<String>,
    relevant: Vec<Target>,
    #[serde(default)]
    secondary: Vec<Target>,
}

/// Builds one spec per repository of the public benchmark. Target paths are given relative to the
/// checkout; hits are relative to the benchmark root, and matching is by path suffix as in the scorer.
pub fn import_semble(
    bench: &Path,
    corpus: &Path,
    only: &[String],
) -> Result<Vec<(String, String, Spec)>> {
    let repos: Vec<SembleRepo> = serde_json::from_str(
        &std::fs::read_to_string(bench.join("repos.json")).context("cannot read repos.json")?,
    )?;
    let mut out = Vec::new();
    for r in repos {
        if !only.is_empty() && !only.contains(&r.name) {
            continue;
        }
        let ann = bench.join("annotations").join(format!("{}.json", r.name));
        let qs: Vec<SembleQuery> = serde_json::from_str(
            &std::fs::read_to_string(&ann)
                .with_context(|| format!("cannot read {}", ann.display()))?,
        )?;
        let mut root = corpus.join(&r.name);
        if let Some(b) = &r.benchmark_root {
            root = root.join(b);
        }
        let queries = qs
            .into_iter()
            .map(|q| {
                let category = q.category.clone().or_else(|| {
                    Some(
                        if !q.query.contains(' ') {
                            "symbol"
                        } else if q.query.to_lowercase().starts_with("how ") {
                            "architecture"
                        } else {
                            "semantic"
                        }
                        .into(),
                    )
                });
                let mut relevant = q.relevant;
                relevant.extend(q.secondary);
                SpecQuery {
                    query: q.query,
                    category,
                    relevant,
                    context: None,
                }
            })
            .collect();
        out.push((
            r.name.clone(),
            r.language,
            Spec {
                name: r.name,
                root,
                code_only: true,
                queries,
            },
        ));
    }
    if out.is_empty() {
        bail!("no benchmark repository matched");
    }
    Ok(out)
}

/// A simulated editor context for benchmark queries, to measure the context boosts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContextScenario {
    /// No editor context.
    None,
    /// The current (and open) file is related to a relevant file: it imports one, is imported by
    /// one, or, failing both, sits in the same folder.
    Related,
    /// The current file is unrelated to every relevant file: another folder, no import edge.
    Unrelated,
}

impl ContextScenario {
    /// The scenario's name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            ContextScenario::None => "none",
            ContextScenario::Related => "related",
            ContextScenario::Unrelated => "unrelated",
        }
    }

    /// The scenario called `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::None, Self::Related, Self::Unrelated]
            .into_iter()
            .find(|c| c.name() == name)
    }
}

fn target_path(t: &Target) -> &str {
    match t {
        Target::Path(p) => p,
        Target::Detailed { path, .. } => path,
    }
}

fn folder(p: &str) -> &str {
    p.rsplit_once('/').map(|x| x.0).unwrap_or("")
}

/// The editor context a query is run with in `scenario`: the current file (also open) is picked
/// from the candidates by a hash of the query, so runs are repeatable. `None` when no file fits.
fn simulated_context(
    ws: &crate::index::Workspace,
    files: &[String],
    q: &SpecQuery,
    scenario: ContextScenario,
) -> Result<Option<SearchContext>> {
    let targets: Vec<&String> = files
        .iter()
        .filter(|f| q.relevant.iter().any(|t| path_matches(f, target_path(t))))
        .collect();
    if targets.is_empty() {
        return Ok(None);
    }
    let mut related: BTreeSet<String> = BTreeSet::new();
    for t in &targets {
        related.extend(ws.related_files(t, 64)?);
    }
    let is_target = |f: &str| targets.iter().any(|t| t.as_str() == f);
    let is_code = |f: &str| crate::syntax::Language::from_path(Path::new(f)).is_code();
    let candidates: Vec<&String> = match scenario {
        ContextScenario::None => return Ok(None),
        ContextScenario::Related => {
            let mut c: Vec<&String> = files
                .iter()
                .filter(|f| related.contains(*f) && !is_target(f))
                .collect();
            if c.is_empty() {
                c = files
                    .iter()
                    .filter(|f| {
                        !is_target(f)
                            && is_code(f)
                            && targets.iter().any(|t| folder(t) == folder(f))
                    })
                    .collect();
            }
            c
        }
        ContextScenario::Unrelated => files
            .iter()
            .filter(|f| {
                !is_target(f)
                    && is_code(f)
                    && !related.contains(*f)
                    && !targets.iter().any(|t| folder(t) == folder(f))
            })
            .collect(),
    };
    if candidates.is_empty() {
        return Ok(None);
    }
    let h = blake3::hash(q.query.as_bytes());
    let n = u64::from_le_bytes(h.as_bytes()[..8].try_into().expect("8 bytes"));
    let pick = candidates[(n % candidates.len() as u64) as usize].clone();
    Ok(Some(SearchContext {
        current_file: Some(pick.clone()),
        open_files: vec![pick],
        ..SearchContext::default()
    }))
}

/// One query's outcome in one mode.
#[derive(Clone, Debug, Serialize)]
struct QueryOutcome {
    spec: String,
    query: String,
    category: String,
    metrics: QueryMetrics,
    latency_ms: f64,
    #[serde(skip)]
    hits: Vec<HitRef>,
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
    /// Editor contexts to run every query in (each gives its own rows, `mode@context`).
    pub contexts: Vec<ContextScenario>,
    /// Progress bars on a terminal.
    pub progress: bool,
    /// The fast tier, blended into the main model's ranking when `rank.fast_blend` is above 0.
    pub fast_embedder: Option<std::sync::Arc<dyn crate::embed::Embedder>>,
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

/// Indexes each spec's workspace and runs its queries in every mode.
pub fn evaluate(
    specs: &[(String, String, Spec)],
    modes: &[Mode],
    opts: &EvalOptions,
) -> Result<EvalRun> {
    let mut outcomes: BTreeMap<String, Vec<QueryOutcome>> = BTreeMap::new();
    let mut index_times = BTreeMap::new();
    let mut languages = BTreeMap::new();
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
        languages.insert(name.clone(), lang.clone());
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
                let r = ws.search(&req, &opts.rank)?;
                let latency_ms = t.elapsed().as_secs_f64() * 1000.0;
                let hits: Vec<HitRef> = r.hits.iter().map(HitRef::from).collect();
                let m = metrics(&hits, &q.relevant);
                if opts.verbose {
                    eprintln!("{label:8} {:.3} {name}: {}", m.ndcg10, q.query);
                }
                outcomes
                    .entry(label.clone())
                    .or_default()
                    .push(QueryOutcome {
                        spec: name.clone(),
                        query: q.query.clone(),
                        category: q.category.clone().unwrap_or_else(|| "all".into()),
                        metrics: m,
                        latency_ms,
                        hits,
                    });
            }
        }
    }
    let report = build_report(&outcomes, &index_times, &languages);
    Ok(EvalRun { report, outcomes })
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
            contexts,
            progress: true,
            fast_embedder: a.common.fast_embedder()?,
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

/// The evaluation report: per mode, overall (mean over specs of each spec's mean, like the public
/// table), per category, per spec and per language.
#[derive(Serialize, Debug, Default)]
pub struct Report {
    /// Mode → summary over all queries, with NDCG as the mean of per-spec means.
    pub overall: BTreeMap<String, Summary>,
    /// Mode → category → mean over specs of per-spec means.
    pub by_category: BTreeMap<String, BTreeMap<String, f64>>,
    /// Mode → spec → summary.
    pub by_spec: BTreeMap<String, BTreeMap<String, Summary>>,
    /// Mode → language → mean NDCG over that language's specs.
    pub by_language: BTreeMap<String, BTreeMap<String, f64>>,
    /// Spec → index time in seconds (cold or warm, as it happened).
    pub index_seconds: BTreeMap<String, f64>,
}

fn build_report(
    outcomes: &BTreeMap<String, Vec<QueryOutcome>>,
    index_times: &BTreeMap<String, f64>,
    languages: &BTreeMap<String, String>,
) -> Report {
    let mut rep = Report {
        index_seconds: index_times.clone(),
        ..Default::default()
    };
    for (mode, rows) in outcomes {
        let mut by_spec: BTreeMap<String, Vec<(QueryMetrics, f64)>> = BTreeMap::new();
        let mut by_cat: BTreeMap<String, BTreeMap<String, Vec<f64>>> = BTreeMap::new();
        for o in rows {
            by_spec
                .entry(o.spec.clone())
                .or_default()
                .push((o.metrics.clone(), o.latency_ms));
            by_cat
                .entry(o.category.clone())
                .or_default()
                .entry(o.spec.clone())
                .or_default()
                .push(o.metrics.ndcg10);
        }
        let spec_summaries: BTreeMap<String, Summary> = by_spec
            .iter()
            .map(|(k, v)| (k.clone(), summarise(v)))
            .collect();
        let all: Vec<(QueryMetrics, f64)> = rows
            .iter()
            .map(|o| (o.metrics.clone(), o.latency_ms))
            .collect();
        let mut overall = summarise(&all);
        let n = spec_summaries.len().max(1) as f64;
        overall.ndcg10 = spec_summaries.values().map(|s| s.ndcg10).sum::<f64>() / n;
        let mean_of_means = |m: &BTreeMap<String, Vec<f64>>| {
            m.values()
                .map(|v| v.iter().sum::<f64>() / v.len() as f64)
                .sum::<f64>()
                / m.len().max(1) as f64
        };
        rep.by_category.insert(
            mode.to_string(),
            by_cat
                .iter()
                .map(|(c, m)| (c.clone(), mean_of_means(m)))
                .collect(),
        );
        let mut by_lang: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        for (spec, s) in &spec_summaries {
            if let Some(l) = languages.get(spec).filter(|l| !l.is_empty()) {
                by_lang.entry(l.clone()).or_default().push(s.ndcg10);
            }
        }
        rep.by_language.insert(
            mode.to_string(),
            by_lang
                .into_iter()
                .map(|(l, v)| (l, v.iter().sum::<f64>() / v.len() as f64))
                .collect(),
        );
        rep.overall.insert(mode.to_string(), overall);
        rep.by_spec.insert(mode.to_string(), spec_summaries);
    }
    rep
}

/// Renders a report as aligned text tables.
pub fn render_report(rep: &Report) -> String {
    let mut s = String::new();
    let modes: Vec<&String> = rep.overall.keys().collect();
    s.push_str(&format!(
        "{:<10} {:>7} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>8} {:>8} {:>8}\n",
        "mode",
        "NDCG@10",
        "P@1",
        "MRR10",
        "R@1",
        "R@5",
        "R@10",
        "R@100",
        "AUC",
        "p50 ms",
        "p95 ms",
        "p99 ms"
    ));
    for m in &modes {
        let o = &rep.overall[*m];
        s.push_str(&format!(
            "{:<10} {:>7.4} {:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>8.2} {:>8.2} {:>8.2}\n",
            m, o.ndcg10, o.p1, o.mrr10, o.recall[0], o.recall[1], o.recall[2], o.recall[3], o.recall_auc,
            o.latency_ms[0], o.latency_ms[1], o.latency_ms[2]
        ));
    }
    s.push_str("\nNDCG@10 by category\n");
    s.push_str(&format!("{:<16}", "category"));
    for m in &modes {
        s.push_str(&format!(" {:>9}", m));
    }
    s.push('\n');
    let cats: std::collections::BTreeSet<&String> =
        rep.by_category.values().flat_map(|c| c.keys()).collect();
    for c in cats {
        s.push_str(&format!("{:<16}", c));
        for m in &modes {
            s.push_str(&format!(
                " {:>9.4}",
                rep.by_category[*m].get(c).copied().unwrap_or(0.0)
            ));
        }
        s.push('\n');
    }
    if rep.by_spec.values().next().is_some_and(|v| v.len() > 1) {
        s.push_str("\nNDCG@10 by workspace\n");
        s.push_str(&format!("{:<22}", "workspace"));
        for m in &modes {
            s.push_str(&format!(" {:>9}", m));
        }
        s.push_str(&format!(" {:>9}\n", "index s"));
        for spec in rep.by_spec[modes[0]].keys() {
            s.push_str(&format!("{:<22}", spec));
            for m in &modes {
                s.push_str(&format!(
                    " {:>9.4}",
                    rep.by_spec[*m].get(spec).map(|x| x.ndcg10).unwrap_or(0.0)
                ));
            }
            s.push_str(&format!(
                " {:>9.2}\n",
                rep.index_seconds.get(spec).copied().unwrap_or(0.0)
            ));
        }
    }
    if rep
        .by_language
        .values()
        .next()
        .is_some_and(|v| !v.is_empty())
    {
        s.push_str("\nNDCG@10 by language\n");
        let langs: std::collections::BTreeSet<&String> =
            rep.by_language.values().flat_map(|c| c.keys()).collect();
        for l in langs {
            s.push_str(&format!("{:<16}", l));
            for m in &modes {
                s.push_str(&format!(
                    " {:>9.4}",
                    rep.by_language[*m].get(l).copied().unwrap_or(0.0)
                ));
            }
            s.push('\n');
        }
    }
    s
}

/// A generated query: a documented function whose doc's first sentence becomes the query.
#[derive(Clone, Debug)]
struct DocQuery {
    path: String,
    query: String,
    language: String,
    target: (u32, u32),
    doc_lines: Vec<usize>,
}

const COMMENT_MARKERS: &[&str] = &["///", "//!", "//", "/**", "/*", "*/", "*", "#", "--", ";;"];

fn strip_comment(line: &str) -> Option<&str> {
    let t = line.trim();
    if t.starts_with("#[")
        || t.starts_with("#include")
        || t.starts_with("#define")
        || t.starts_with("#!")
    {
        return None;
    }
    COMMENT_MARKERS
        .iter()
        .find_map(|m| t.strip_prefix(m))
        .map(|r| r.trim_start_matches(['/', '*', '!', '#', '-']).trim())
}

/// The first sentence of a doc text, if it makes a reasonable query (4 to 30 words, not a tag).
fn first_sentence(doc: &str) -> Option<String> {
    let text = doc.split_whitespace().collect::<Vec<_>>().join(" ");
    let end = text.find(". ").unwrap_or(text.len());
    let s = text[..end].trim_end_matches('.').trim();
    let words = s.split_whitespace().count();
    let bad = s.starts_with('@')
        || s.starts_with(':')
        || s.starts_with("TODO")
        || s.starts_with("FIXME")
        || s.contains("http://")
        || s.contains("https://")
        || s.starts_with('[')
        || s.starts_with('`');
    (!bad && (4..=30).contains(&words)).then(|| s.to_string())
}

/// Finds the doc of a definition starting at 0-based line `def` (ending at `end`): comment lines just
/// above it (attributes and decorators may sit between), or a docstring as its first statement.
fn find_doc(lines: &[&str], def: usize, end: usize) -> Option<(String, Vec<usize>)> {
    let mut doc_lines = Vec::new();
    let mut i = def;
    while i > 0 {
        i -= 1;
        let t = lines[i].trim();
        if t.starts_with("#[") || t.starts_with('@') {
            continue;
        }
        match strip_comment(lines[i]) {
            Some(_) if !t.is_empty() => doc_lines.push(i),
            _ => break,
        }
    }
    doc_lines.reverse();
    if !doc_lines.is_empty() {
        let text: Vec<&str> = doc_lines
            .iter()
            .filter_map(|&l| strip_comment(lines[l]))
            .collect();
        return Some((text.join(" "), doc_lines));
    }
    // A docstring: the first non-blank line after the signature starts with triple quotes.
    let last = end.min(lines.len().saturating_sub(1));
    let body = (def + 1..=last).find(|&l| !lines[l].trim().is_empty())?;
    let t = lines[body].trim_start();
    let quote = ["\"\"\"", "'''", "r\"\"\""]
        .into_iter()
        .find(|q| t.starts_with(q))?;
    let q = &quote[quote.len() - 3..];
    let mut text = String::new();
    let mut l = body;
    loop {
        let line = lines[l].trim();
        let inner = if l == body {
            &line[quote.len()..]
        } else {
            line
        };
        let (part, done) = match inner.find(q) {
            Some(p) => (&inner[..p], true),
            None => (inner, false),
        };
        text.push_str(part);
        text.push(' ');
        doc_lines.push(l);
        if done || l >= last {
            break;
        }
        l += 1;
    }
    Some((text, doc_lines))
}

/// Blanks the text of a doc line, keeping indentation, quotes and comment markers (so line numbers
/// and syntax survive).
fn blank_line(line: &str) -> String {
    let indent = line.len() - line.trim_start().len();
    let mut out = String::from(&line[..indent]);
    for c in line[indent..].chars() {
        out.push(if matches!(c, '"' | '\'' | '/' | '#' | '*' | '-' | ';') {
            c
        } else {
            ' '
        });
    }
    out.trim_end().to_string()
}

/// Writes a CodeSearchNet-style evaluation of `root` into `out_dir`: a copy of its code files under
/// `out_dir/corpus` in which the chosen functions' docs are blanked (line numbers kept), and
/// `out_dir/spec.json` whose queries are those docs' first sentences and whose targets are the
/// functions' line spans. At most `max` queries, spread evenly over the candidates.
pub fn generate_spec(root: &Path, out_dir: &Path, max: usize) -> Result<Spec> {
    let cfg = crate::config::IndexConfig {
        code_only: true,
        ..Default::default()
    };
    let files = crate::vfs::discover(root, &cfg)?;
    let mut texts: BTreeMap<String, String> = BTreeMap::new();
    let mut candidates: Vec<DocQuery> = Vec::new();
    for f in &files {
        let Ok(bytes) = std::fs::read(&f.abs_path) else {
            continue;
        };
        if crate::vfs::classify_text(&bytes).is_err() {
            continue;
        }
        let text = crate::vfs::decode_text(bytes);
        let lang = crate::vfs::detect_language(&f.rel_path, &text);
        let analysis = crate::chunk::analyze(lang, &text, &crate::chunk::ChunkConfig::default());
        let lines: Vec<&str> = text.lines().collect();
        for sym in analysis.symbols {
            if !matches!(
                sym.kind,
                crate::chunk::ChunkKind::Function | crate::chunk::ChunkKind::Method
            ) {
                continue;
            }
            let (def, end) = (sym.start_line as usize - 1, sym.end_line as usize - 1);
            if def >= lines.len() || end < def + 2 {
                continue;
            }
            let Some((doc, doc_lines)) = find_doc(&lines, def, end) else {
                continue;
            };
            let Some(query) = first_sentence(&doc) else {
                continue;
            };
            candidates.push(DocQuery {
                path: f.rel_path.clone(),
                query,
                language: lang.name().to_string(),
                target: (sym.start_line, sym.end_line),
                doc_lines,
            });
        }
        texts.insert(f.rel_path.clone(), text);
    }
    anyhow::ensure!(
        !candidates.is_empty(),
        "no documented functions found under {}",
        root.display()
    );
    let step = (candidates.len() as f64 / max.max(1) as f64).max(1.0);
    let chosen: Vec<DocQuery> = (0..candidates.len().min(max))
        .map(|i| candidates[(i as f64 * step) as usize].clone())
        .collect();
    let corpus = out_dir.join("corpus");
    for (rel, text) in &texts {
        let blank: std::collections::HashSet<usize> = chosen
            .iter()
            .filter(|q| &q.path == rel)
            .flat_map(|q| q.doc_lines.iter().copied())
            .collect();
        let mut out = String::with_capacity(text.len());
        for (i, line) in text.split_inclusive('\n').enumerate() {
            if blank.contains(&i) {
                out.push_str(&blank_line(line.trim_end_matches(['\n', '\r'])));
                out.push('\n');
            } else {
                out.push_str(line);
            }
        }
        let dest = corpus.join(rel);
        std::fs::create_dir_all(dest.parent().unwrap_or(&corpus))?;
        std::fs::write(&dest, out)?;
    }
    let spec = Spec {
        name: format!(
            "docs:{}",
            root.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        ),
        root: PathBuf::from("corpus"),
        code_only: true,
        queries: chosen
            .into_iter()
            .map(|q| SpecQuery {
                query: q.query,
                category: Some(q.language),
                relevant: vec![Target::Detailed {
                    path: q.path,
                    start_line: Some(q.target.0),
                    end_line: Some(q.target.1),
                    symbol: None,
                    gain: None,
                }],
                context: None,
            })
            .collect(),
    };
    std::fs::write(
        out_dir.join("spec.json"),
        serde_json::to_string_pretty(&spec)?,
    )?;
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(p: &str, s: u32, e: u32) -> HitRef {
        HitRef {
            path: p.into(),
            start_line: s,
            end_line: e,
            symbol: None,
        }
    }

    #[test]
    fn perfect_ranking_scores_one() {
        let t = vec![
            Target::Path("src/a.rs".into()),
            Target::Path("src/b.rs".into()),
        ];
        let m = metrics(&[hit("src/a.rs", 1, 5), hit("src/b.rs", 1, 5)], &t);
        assert_eq!(m.ndcg10, 1.0);
        assert_eq!(m.p1, 1.0);
        assert_eq!(m.mrr10, 1.0);
        assert_eq!(m.recall, [0.5, 1.0, 1.0, 1.0]);
    }

    #[test]
    fn known_ranking_gives_known_values() {
        // One target found at rank 3: NDCG = (1/log2 4) / 1 = 0.5, MRR = 1/3.
        let t = vec![Target::Path("x/target.py".into())];
        let hits = [
            hit("a.py", 1, 2),
            hit("b.py", 1, 2),
            hit("repo/x/target.py", 4, 9),
        ];
        let m = metrics(&hits, &t);
        assert!((m.ndcg10 - 0.5).abs() < 1e-12);
        assert!((m.mrr10 - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(m.p1, 0.0);
        // Recall is 0 for k = 1, 2 and 1 from k = 3: AUC = 98/100.
        assert!((m.recall_auc - 0.98).abs() < 1e-12);
        // Two targets, one found at rank 2: DCG = 1/log2 3, IDCG = 1 + 1/log2 3.
        let t2 = vec![Target::Path("a.py".into()), Target::Path("zzz.py".into())];
        let m2 = metrics(&[hit("q.py", 1, 1), hit("a.py", 1, 1)], &t2);
        let expect = (1.0 / 3f64.log2()) / (1.0 + 1.0 / 3f64.log2());
        assert!((m2.ndcg10 - expect).abs() < 1e-12);
    }

    #[test]
    fn spans_and_symbols_must_match() {
        let t = vec![Target::Detailed {
            path: "a.rs".into(),
            start_line: Some(10),
            end_line: Some(20),
            symbol: None,
            gain: None,
        }];
        assert_eq!(metrics(&[hit("a.rs", 1, 9)], &t).ndcg10, 0.0);
        assert_eq!(metrics(&[hit("a.rs", 15, 30)], &t).ndcg10, 1.0);
        let ts = vec![Target::Detailed {
            path: "a.rs".into(),
            start_line: None,
            end_line: None,
            symbol: Some("run".into()),
            gain: None,
        }];
        let mut h = hit("a.rs", 1, 9);
        assert_eq!(metrics(std::slice::from_ref(&h), &ts).ndcg10, 0.0);
        h.symbol = Some("run".into());
        assert_eq!(metrics(&[h], &ts).ndcg10, 1.0);
    }

    #[test]
    fn path_suffix_matching_is_by_whole_segments() {
        assert!(path_matches("tokio/src/sync/mutex.rs", "sync/mutex.rs"));
        assert!(path_matches("src/sync/mutex.rs", "tokio/src/sync/mutex.rs"));
        assert!(!path_matches("src/sync/xmutex.rs", "mutex.rs"));
    }

    #[test]
    fn repeated_file_hits_earn_nothing_extra() {
        let t = vec![Target::Path("a.rs".into())];
        let m = metrics(&[hit("a.rs", 1, 2), hit("a.rs", 5, 9)], &t);
        assert_eq!(m.ndcg10, 1.0);
    }

    #[test]
    fn docs_are_found_and_blanked() {
        let src = "/// Opens the database file and checks its header.\n#[inline]\nfn open_db(p: &str) {\n    a();\n    b();\n}\n";
        let lines: Vec<&str> = src.lines().collect();
        let (doc, at) = find_doc(&lines, 2, 5).unwrap();
        assert_eq!(at, vec![0]);
        assert_eq!(
            first_sentence(&doc).unwrap(),
            "Opens the database file and checks its header"
        );
        assert_eq!(blank_line("    /// Opens it."), "    ///");
        let py = "def load(path):\n    \"\"\"Read the settings file into a dict.\n\n    More.\n    \"\"\"\n    return {}\n";
        let lines: Vec<&str> = py.lines().collect();
        let (doc, at) = find_doc(&lines, 0, 5).unwrap();
        assert_eq!(at, vec![1, 2, 3, 4]);
        assert_eq!(
            first_sentence(&doc).unwrap(),
            "Read the settings file into a dict"
        );
        assert_eq!(first_sentence("Short."), None);
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(|x| x as f64).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert_eq!(percentile(&[], 50.0), 0.0);
    }
}
