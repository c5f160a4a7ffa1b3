//! Benchmark of the lexical index: indexes N code chunks (40-line windows of the `.rs` files under a
//! directory, by default the local cargo registry sources) and times add + commit, reopening, and
//! queries.
//!
//! `cargo run --example lex_bench -- [DIR] [N]`

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sg::lexical::{CodeTokenizer, LexDoc, LexQuery, LexicalIndex};
use tantivy::tokenizer::{TokenStream, Tokenizer};

struct Chunk {
    file_id: u32,
    path: String,
    symbol: Option<String>,
    text: String,
}

fn collect_rs(dir: &Path, out: &mut Vec<PathBuf>, limit: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if out.len() >= limit {
            return;
        }
        if p.is_dir() {
            collect_rs(&p, out, limit);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

fn first_fn_name(text: &str) -> Option<String> {
    let i = text.find("fn ")?;
    let name: String = text[i + 3..]
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty()).then_some(name)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().map(PathBuf::from).unwrap_or_else(|| {
        std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| dirs::home_dir().map(|h| h.join(".cargo")))
            .expect("no home directory")
            .join("registry/src")
    });
    let n: usize = args
        .next()
        .map_or(50_000, |s| s.parse().expect("N must be a number"));

    let t = Instant::now();
    let mut files = Vec::new();
    collect_rs(&dir, &mut files, 20_000);
    let mut chunks = Vec::new();
    'files: for (fi, path) in files.iter().enumerate() {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let lines: Vec<&str> = text.lines().collect();
        for window in lines.chunks(40) {
            let text = window.join("\n");
            if text.trim().len() < 40 {
                continue;
            }
            let rel = path
                .strip_prefix(&dir)
                .unwrap_or(path)
                .to_string_lossy()
                .into_owned();
            chunks.push(Chunk {
                file_id: fi as u32,
                path: rel,
                symbol: first_fn_name(&text),
                text,
            });
            if chunks.len() == n {
                break 'files;
            }
        }
    }
    let bytes: usize = chunks.iter().map(|c| c.text.len()).sum();
    println!(
        "corpus: {} chunks from {} files, {:.1} MB, gathered in {:.2?}",
        chunks.len(),
        chunks.last().map_or(0, |c| c.file_id + 1),
        bytes as f64 / 1e6,
        t.elapsed()
    );

    let t = Instant::now();
    let mut tokenizer = CodeTokenizer::default();
    let mut tokens = 0usize;
    for c in &chunks {
        let mut stream = tokenizer.token_stream(&c.text);
        while stream.advance() {
            tokens += 1;
        }
    }
    println!("tokenize only: {:.2?} for {tokens} tokens", t.elapsed());

    let tmp = tempfile::tempdir().expect("tempdir");
    let index = LexicalIndex::open(tmp.path()).expect("open");
    let t = Instant::now();
    let mut w = index.writer(100_000_000).expect("writer");
    for (i, c) in chunks.iter().enumerate() {
        w.add(&LexDoc {
            chunk_id: i as u32,
            file_id: c.file_id,
            path: &c.path,
            symbol: c.symbol.as_deref(),
            enclosing: "",
            kind: "window",
            language: "rust",
            text: &c.text,
        })
        .expect("add");
    }
    let added = t.elapsed();
    w.commit().expect("commit");
    let committed = t.elapsed();
    index.reload().expect("reload");
    drop(w);
    let size: u64 = std::fs::read_dir(tmp.path())
        .expect("read_dir")
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum();
    println!(
        "index: add {:.2?}, add+commit {:.2?} ({:.0} docs/s), {} docs, {:.1} MiB on disk",
        added,
        committed,
        chunks.len() as f64 / committed.as_secs_f64(),
        index.num_docs(),
        size as f64 / (1024.0 * 1024.0)
    );
    drop(index);

    let t = Instant::now();
    let index = LexicalIndex::open(tmp.path()).expect("reopen");
    println!("reopen (checksums + reader): {:.2?}", t.elapsed());

    let mut queries: Vec<String> = [
        "read file to string",
        "retry failed http requests",
        "parse config",
        "hash map insert or update",
        "where do we spawn threads",
        "serialize struct to json",
        "HTTPServerError",
        "readToString",
        "lock mutex poisoned",
        "utf8 decode error",
        "iterator over bytes",
        "buffered writer flush",
        "how is the allocator aligned",
        "parse command line arguments",
        "unicode normalization",
        "binary search sorted slice",
        "atomic compare exchange",
        "random number generator seed",
        "base64 encode",
        "timeout duration elapsed",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let symbols: Vec<&str> = chunks.iter().filter_map(|c| c.symbol.as_deref()).collect();
    let step = (symbols.len() / 80).max(1);
    queries.extend(
        symbols
            .iter()
            .step_by(step)
            .take(80)
            .map(|s| s.replace('_', " ")),
    );

    let searcher = index.searcher();
    let mut times: Vec<Duration> = Vec::new();
    let mut total_hits = 0;
    for _ in 0..3 {
        for q in &queries {
            let t = Instant::now();
            let hits = searcher
                .search(&LexQuery { text: q, limit: 10 })
                .expect("search");
            times.push(t.elapsed());
            total_hits += hits.len();
        }
    }
    times.sort();
    let pct = |p: f64| times[((times.len() - 1) as f64 * p) as usize];
    println!(
        "query ({} queries x 3, limit 10): p50 {:.3?}, p90 {:.3?}, p99 {:.3?}, max {:.3?}, {:.1} hits/query",
        queries.len(),
        pct(0.5),
        pct(0.9),
        pct(0.99),
        times[times.len() - 1],
        total_hits as f64 / times.len() as f64
    );
}
