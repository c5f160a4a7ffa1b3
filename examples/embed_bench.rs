//! Measures the default embedding model: document throughput, query latency, the effect of the query thread pool,
//! and (given the original f32 weights) how far the shipped f16 weights move the embeddings.
//!
//! ```text
//! cargo run --release --example embed_bench -- bench [SOURCE_DIR]   # SOURCE_DIR: code to cut into ~700-char texts
//! cargo run --release --example embed_bench -- compare F32_MODEL_DIR
//! cargo run --release --example embed_bench -- queries   # the reduced query path alone, one thread (to profile)
//! cargo run --release --example embed_bench -- documents # the default document path alone (to profile)
//! ```

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use sg::embed::{BertEmbedder, EmbedOptions, Embedder, default_model_dir};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let model_dir = default_model_dir().context("default model folder not found")?;
    // The source folder a mode cuts texts from: its argument, or this crate's `src`.
    let src = || {
        args.get(1)
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("src"))
    };
    match args.first().map(String::as_str) {
        Some("bench") => bench(&model_dir, &src()),
        Some("compare") => {
            let other = args
                .get(1)
                .context("compare needs the folder of the f32 model")?;
            compare(&model_dir, Path::new(other))
        }
        Some("queries") => reduced_queries(&model_dir),
        Some("documents") => documents(&model_dir, &src()),
        _ => bail!(
            "usage: embed_bench bench [SOURCE_DIR] | compare F32_MODEL_DIR | queries | documents [SOURCE_DIR]"
        ),
    }
}

/// Process CPU time (user + system) from /proc/self/stat, so contention on a shared machine can be told apart.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields 14 and 15 of the file (utime, stime) are at 11 and 12 after the command name; clock ticks of 10 ms.
    let ticks: u64 = fields
        .get(11..13)
        .map_or(0, |f| f.iter().filter_map(|x| x.parse::<u64>().ok()).sum());
    Duration::from_millis(ticks * 10)
}

fn collect_texts(dir: &Path, want: usize) -> anyhow::Result<Vec<String>> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in
            std::fs::read_dir(&d).with_context(|| format!("cannot list {}", d.display()))?
        {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs" || e == "py") {
                files.push(path);
            }
        }
    }
    files.sort();
    // Cut every file into windows of whole lines, about 700 characters each.
    let mut windows = Vec::new();
    for f in &files {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        let mut cur = String::new();
        for line in text.lines() {
            cur.push_str(line);
            cur.push('\n');
            if cur.len() >= 700 {
                windows.push(std::mem::take(&mut cur));
            }
        }
    }
    if windows.len() < want {
        bail!(
            "only {} texts of ~700 characters under {}",
            windows.len(),
            dir.display()
        );
    }
    let step = windows.len() / want;
    Ok(windows.into_iter().step_by(step).take(want).collect())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn bench(model_dir: &Path, src: &Path) -> anyhow::Result<()> {
    let texts = collect_texts(src, 200)?;
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let avg_chars = texts.iter().map(String::len).sum::<usize>() as f64 / texts.len() as f64;
    println!(
        "corpus: {} texts from {}, {avg_chars:.0} chars on average",
        texts.len(),
        src.display()
    );
    println!(
        "cores available: {}",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );

    let mut vectors: Vec<Vec<Vec<f32>>> = Vec::new();
    for (max_tokens, threads, quantized_documents) in [
        (256, 0, true),
        (128, 0, false),
        (128, 0, true),
        (128, 1, false),
        (128, 1, true),
    ] {
        let t0 = Instant::now();
        let opts = EmbedOptions {
            max_tokens,
            batch_size: 16,
            threads,
            quantized_documents,
            ..EmbedOptions::default()
        };
        let m = BertEmbedder::load(model_dir, &opts)?;
        let load = t0.elapsed();
        let tokens: usize = refs.iter().map(|t| m.token_count(t).unwrap_or(0)).sum();
        m.embed_documents(&refs[..16])?; // warm-up
        let (w0, c0) = (Instant::now(), cpu_time());
        let out = m.embed_documents(&refs)?;
        let (wall, cpu) = (w0.elapsed(), cpu_time() - c0);
        assert_eq!(out.len(), refs.len());
        println!(
            "documents ({}): max_tokens {max_tokens}, threads {}, batch 16: {:.1} docs/s ({:.1} per CPU-second), \
             {:.0} tokens/doc, {:.1} s wall, {:.1} s CPU, load {} ms",
            if m.reduced_model().is_some_and(|r| r.is_bf16()) && quantized_documents {
                "bf16"
            } else {
                "f32"
            },
            if threads == 0 {
                "all".to_owned()
            } else {
                threads.to_string()
            },
            refs.len() as f64 / wall.as_secs_f64(),
            refs.len() as f64 / cpu.as_secs_f64().max(1e-9),
            tokens as f64 / refs.len() as f64,
            wall.as_secs_f64(),
            cpu.as_secs_f64(),
            load.as_millis()
        );
        if max_tokens == 128 && threads == 0 {
            vectors.push(out);
        }
    }
    if let [f32_docs, bf16_docs] = vectors.as_slice() {
        let agreement: Vec<f32> = f32_docs
            .iter()
            .zip(bf16_docs)
            .map(|(a, b)| a.iter().zip(b).map(|(x, y)| x * y).sum())
            .collect();
        println!(
            "bf16 against f32 document vectors (128 word pieces): cosine min {:.5}, mean {:.5}",
            agreement.iter().copied().fold(f32::MAX, f32::min),
            agreement.iter().sum::<f32>() / agreement.len() as f32
        );
    }

    let m = BertEmbedder::load(model_dir, &EmbedOptions::default())?;
    let f32_queries = BertEmbedder::load(
        model_dir,
        &EmbedOptions {
            quantized_queries: false,
            ..EmbedOptions::default()
        },
    )?;
    // Distinct queries, so the query cache never answers.
    let queries: Vec<String> = (0..100)
        .map(|i| format!("how to read a file number {i}"))
        .collect();
    m.embed_query("warm up")?;
    let run = |label: &str, f: &dyn Fn(&str) -> anyhow::Result<Vec<f32>>| -> anyhow::Result<()> {
        let c0 = cpu_time();
        let mut times = Vec::new();
        for q in &queries {
            let t = Instant::now();
            f(q)?;
            times.push(t.elapsed());
        }
        let cpu = cpu_time() - c0;
        times.sort();
        println!(
            "query ({label}): p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, CPU {:.2} ms per query",
            percentile(&times, 0.5).as_secs_f64() * 1e3,
            percentile(&times, 0.9).as_secs_f64() * 1e3,
            percentile(&times, 0.99).as_secs_f64() * 1e3,
            cpu.as_secs_f64() * 1e3 / queries.len() as f64
        );
        Ok(())
    };
    run("embed_query, reduced", &|q| m.embed_query(q))?;
    run("embed_query, f32", &|q| f32_queries.embed_query(q))?;
    if let Some(reduced) = m.reduced_model() {
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
        let one_thread = |q: &str| -> anyhow::Result<Vec<f32>> {
            let enc = m
                .tokenizer()
                .encode_fast(q, true)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            one.install(|| reduced.embed(enc.get_ids()))
        };
        run(
            "reduced forward pass on one thread, tokenizing included",
            &one_thread,
        )?;
        for long in [false, true] {
            println!("{}", long_reduced_queries(&m, 100, long)?);
        }
    }
    let agreement: Vec<f32> = queries
        .iter()
        .map(|q| -> anyhow::Result<f32> {
            let (a, b) = (m.embed_query(q)?, f32_queries.embed_query(q)?);
            Ok(a.iter().zip(&b).map(|(x, y)| x * y).sum())
        })
        .collect::<anyhow::Result<_>>()?;
    println!(
        "reduced against f32 query vectors: cosine min {:.5}, mean {:.5}",
        agreement.iter().copied().fold(f32::MAX, f32::min),
        agreement.iter().sum::<f32>() / agreement.len() as f32
    );
    run("embed_documents of one text, bulk pool", &|q| {
        Ok(m.embed_documents(&[q])?.remove(0))
    })?;
    let t = Instant::now();
    for _ in 0..100 {
        m.embed_query(&queries[0])?;
    }
    println!(
        "query (cache hit): {:.1} µs",
        t.elapsed().as_secs_f64() * 1e6 / 100.0
    );
    Ok(())
}

/// The default document path alone (bf16 where the CPU has it), 128 word pieces, for profiling.
fn documents(model_dir: &Path, src: &Path) -> anyhow::Result<()> {
    let texts = collect_texts(src, 400)?;
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let m = BertEmbedder::load(
        model_dir,
        &EmbedOptions {
            max_tokens: 128,
            ..EmbedOptions::default()
        },
    )?;
    let t = Instant::now();
    m.embed_documents(&refs)?;
    println!(
        "{} documents at 128 word pieces: {:.1} docs/s",
        refs.len(),
        refs.len() as f64 / t.elapsed().as_secs_f64()
    );
    Ok(())
}

/// 2,000 distinct queries of 14 and of 16 word pieces through the reduced path on one thread.
fn reduced_queries(model_dir: &Path) -> anyhow::Result<()> {
    let m = BertEmbedder::load(model_dir, &EmbedOptions::default())?;
    for long in [false, true] {
        println!("{}", long_reduced_queries(&m, 2000, long)?);
    }
    Ok(())
}

/// Times `n` distinct queries of 14 word pieces, or 16 when `longer` ([CLS] and [SEP] included; long "typical
/// queries"), through `m`'s reduced forward pass on one thread, tokenized beforehand; returns the report line.
fn long_reduced_queries(m: &BertEmbedder, n: usize, longer: bool) -> anyhow::Result<String> {
    let extra = if longer { "the network " } else { "" };
    let reduced = m.reduced_model().context("the model has no reduced path")?;
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
    let ids: Vec<Vec<u32>> = (0..n)
        .map(|i| -> anyhow::Result<Vec<u32>> {
            let q = format!("where do we retry failed http requests after {extra}timeouts {i}");
            Ok(m.tokenizer()
                .encode_fast(q.as_str(), true)
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .get_ids()
                .to_vec())
        })
        .collect::<anyhow::Result<_>>()?;
    let mut times = Vec::new();
    for q in &ids {
        let t = Instant::now();
        one.install(|| reduced.embed(q))?;
        times.push(t.elapsed());
    }
    times.sort();
    Ok(format!(
        "{} queries of {} word pieces, reduced forward pass on one thread: p50 {:.2} ms, p99 {:.2} ms",
        ids.len(),
        ids[0].len(),
        percentile(&times, 0.5).as_secs_f64() * 1e3,
        percentile(&times, 0.99).as_secs_f64() * 1e3
    ))
}

fn compare(f16_dir: &Path, f32_dir: &Path) -> anyhow::Result<()> {
    let a = BertEmbedder::load(f16_dir, &EmbedOptions::default())?;
    let b = BertEmbedder::load(f32_dir, &EmbedOptions::default())?;
    let texts = [
        "This is an example sentence",
        "how to read a file",
        "open a file and read its contents",
        "binary tree rotation",
        "",
        "fn main() {\n    let args: Vec<String> = std::env::args().collect();\n    println!(\"{args:?}\");\n}\n",
        "def read_config(path):\n    with open(path) as f:\n        return json.load(f)\n",
        "impl<T: Ord> BinaryHeap<T> { pub fn push(&mut self, item: T) { let old_len = self.len(); \
         self.data.push(item); unsafe { self.sift_up(0, old_len) }; } }",
    ];
    let long = "pub fn parse(input: &str) -> Result<Ast, Error> { tokenize(input)?.into_iter().collect() }\n".repeat(20);
    let mut refs: Vec<&str> = texts.to_vec();
    refs.push(&long);
    let va = a.embed_documents(&refs)?;
    let vb = b.embed_documents(&refs)?;
    let mut worst_dist = 0f64;
    let mut worst_abs = 0f32;
    for (x, y) in va.iter().zip(&vb) {
        let c: f64 = x
            .iter()
            .zip(y)
            .map(|(p, q)| f64::from(*p) * f64::from(*q))
            .sum();
        worst_dist = worst_dist.max(1.0 - c);
        worst_abs = worst_abs.max(
            x.iter()
                .zip(y)
                .map(|(p, q)| (p - q).abs())
                .fold(0.0, f32::max),
        );
    }
    println!(
        "f16 vs f32 weights over {} texts: max cosine distance {worst_dist:.3e}, max abs diff {worst_abs:.3e}",
        refs.len()
    );
    println!("first 5 dims, f16: {:?}", &va[0][..5]);
    println!("first 5 dims, f32: {:?}", &vb[0][..5]);
    Ok(())
}
