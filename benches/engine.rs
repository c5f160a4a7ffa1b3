//! Criterion benchmarks of the engine's hot paths: chunking throughput, embedding throughput by batch
//! size, fusion, query latency by mode over an index of sg's own source, and `workspace/symbol`'s table at
//! the size of a large monorepo.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sg::chunk::{ChunkConfig, ChunkKind, analyze};
use sg::embed::{BertEmbedder, EmbedOptions, Embedder};
use sg::ids::ChunkId;
use sg::index::{NoProgress, OpenOptions, Workspace};
use sg::query::SearchRequest;
use sg::search::{CandidateInfo, Mode, RankConfig, SearchContext, rank};
use sg::syntax::Language;

fn sources() -> Vec<(Language, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push((Language::Rust, std::fs::read_to_string(&p).unwrap()));
            }
        }
    }
    out
}

fn chunking(c: &mut Criterion) {
    let files = sources();
    let bytes: usize = files.iter().map(|(_, t)| t.len()).sum();
    let mut g = c.benchmark_group("chunking");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("analyze sg/src (rust)", |b| {
        b.iter(|| {
            files
                .iter()
                .map(|(l, t)| analyze(*l, t, &ChunkConfig::default()).chunks.len())
                .sum::<usize>()
        })
    });
    g.finish();
}

fn model() -> Arc<dyn Embedder> {
    let dir = sg::embed::default_model_dir().expect("the shipped model");
    // The manifest's token limit, as `sg index` uses it.
    Arc::new(BertEmbedder::load(&dir, &EmbedOptions::default()).expect("model loads"))
}

fn embedding(c: &mut Criterion) {
    let files = sources();
    let chunks: Vec<String> = files
        .iter()
        .flat_map(|(l, t)| analyze(*l, t, &ChunkConfig::default()).chunks)
        .map(|c| c.text)
        .take(32)
        .collect();
    let e = model();
    let mut g = c.benchmark_group("embedding");
    g.sample_size(10);
    for batch in [1usize, 8, 32] {
        let texts: Vec<&str> = chunks.iter().take(batch).map(String::as_str).collect();
        g.throughput(Throughput::Elements(batch as u64));
        g.bench_with_input(BenchmarkId::new("documents", batch), &texts, |b, t| {
            b.iter(|| e.embed_documents(t).unwrap())
        });
    }
    g.finish();
}

fn fusion(c: &mut Criterion) {
    let paths: Vec<String> = (0..400)
        .map(|i| format!("src/m{}/f{i}.rs", i % 20))
        .collect();
    let symbols: Vec<String> = (0..400).map(|i| format!("handler_{i}")).collect();
    let texts: Vec<String> = (0..400)
        .map(|i| {
            format!(
                "/// Handles a request.\npub fn handler_{i}(request: &Request, retries: u32) -> Result<Response> {{\n    send(request)\n}}\n"
            )
        })
        .collect();
    let info: HashMap<ChunkId, CandidateInfo<'_>> = (0..400u32)
        .map(|i| {
            (
                ChunkId(i),
                CandidateInfo {
                    id: ChunkId(i),
                    path: &paths[i as usize],
                    symbol: Some(&symbols[i as usize]),
                    kind: ChunkKind::Function,
                    language: Language::Rust,
                    start_line: 1 + i,
                    end_line: 20 + i,
                    used_by: i % 7,
                    text: &texts[i as usize],
                },
            )
        })
        .collect();
    let lexical: Vec<(ChunkId, f32)> = (0..100u32)
        .map(|i| (ChunkId(i * 3), 20.0 - i as f32 * 0.1))
        .collect();
    let semantic: Vec<(ChunkId, f32)> = (0..100u32)
        .map(|i| (ChunkId(i * 2), 0.8 - i as f32 * 0.003))
        .collect();
    let cfg = RankConfig::default();
    c.bench_function("fusion 100+100 candidates", |b| {
        b.iter(|| {
            rank(
                "retry failed requests",
                Mode::Hybrid,
                &lexical,
                &semantic,
                &info,
                &SearchContext::default(),
                &cfg,
                10,
            )
        })
    });
}

fn query_latency(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let root: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let ws = Workspace::open(
        &root,
        OpenOptions {
            index_dir: Some(dir.path().join("index")),
            cache_dir: Some(dir.path().join("cache")),
            embedder: Some(model()),
            ..OpenOptions::default()
        },
    )
    .unwrap();
    ws.update(&NoProgress).unwrap();
    let queries = [
        "where are lexical and semantic scores fused",
        "parse_config",
        "VectorSet",
        "walk the folder respecting gitignore",
    ];
    let mut g = c.benchmark_group("query");
    for mode in [Mode::Lexical, Mode::Semantic, Mode::Hybrid] {
        let mut i = 0usize;
        g.bench_function(BenchmarkId::new("search", mode.name()), |b| {
            b.iter(|| {
                // A fresh query each time for semantic modes: the embedder caches recent queries.
                i += 1;
                let mut req = SearchRequest::new(format!("{} {i}", queries[i % queries.len()]), 10);
                req.mode = mode;
                ws.search(&req, &RankConfig::default()).unwrap().hits.len()
            })
        });
    }
    g.finish();
}

/// 330k definitions in 22k files (the scale workspace of eval/scale_bench.md), names made of common words.
fn symbol_table(c: &mut Criterion) {
    use sg::ids::FileId;
    use sg::store::SymbolRecord;
    use sg::symbols::SymbolTable;
    const WORDS: [&str; 24] = [
        "parse", "config", "file", "read", "write", "buffer", "http", "server", "request",
        "handle", "error", "token", "stream", "index", "node", "tree", "cache", "load", "store",
        "retry", "client", "build", "query", "state",
    ];
    let mut t = SymbolTable::default();
    let mut n = 0usize;
    for f in 0..22_000u32 {
        let recs = (0..15u32)
            .map(|i| {
                n += 1;
                let w = |k: usize| WORDS[(n * k + f as usize) % WORDS.len()];
                let name = match n % 3 {
                    0 => format!("{}_{}_{}", w(7), w(11), n % 97),
                    1 => format!("{}{}", w(5), w(13)),
                    _ => format!("{}_{}", w(3), w(17)),
                };
                SymbolRecord {
                    name,
                    kind: ChunkKind::Function,
                    container: None,
                    start_line: i * 10 + 1,
                    end_line: i * 10 + 8,
                }
            })
            .collect();
        t.set_file(FileId(f), &format!("src/m{}/f{f}.rs", f % 50), recs);
    }
    let mut g = c.benchmark_group("workspace symbol, 330k definitions");
    for q in ["parse_con", "HttpSer", "rtry", "zzq"] {
        g.bench_function(q, |b| {
            b.iter(|| t.search(q, 100, Some("src/m3/f3.rs")).len())
        });
    }
    g.finish();
}

criterion_group!(
    benches,
    chunking,
    fusion,
    embedding,
    query_latency,
    symbol_table
);
criterion_main!(benches);
