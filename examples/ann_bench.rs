//! Approximate tier against the exact scan: `cargo run --release --example ann_bench -- [SIZES...]
//! [--vectors EMBEDDINGS_DIR]` (sizes default to 100000 300000).
//!
//! With `--vectors`, the vectors of an embedding cache folder (as written by sg) seed the set: each
//! generated vector is a cached one plus a small Gaussian perturbation, renormalised, which keeps the
//! clustered shape of real code embeddings; without it, synthetic clustered unit vectors are used.
//! Queries are perturbed seeds too. Prints build time, incremental rebuild time, disk size, query
//! latency p50 (k = 100, what a search asks for, and k = 10) and recall@10 / recall@100 against the
//! exact scan, for several search budgets.

use std::path::PathBuf;
use std::time::Instant;

use heed::types::Bytes;
use heed::{CommitOrAbort, EnvFlags, EnvOpenOptions};
use rand010::rngs::StdRng;
use rand010::{RngExt, SeedableRng};
use sg::ann::AnnIndex;
use sg::ids::{ChunkId, ModelFingerprint};
use sg::vectors::VectorSet;

const DIMS: usize = 384;
const QUERIES: usize = 200;
const MODEL: ModelFingerprint = ModelFingerprint([1; 16]);

fn gaussian(rng: &mut StdRng) -> f32 {
    // Box-Muller.
    let u1: f32 = rng.random::<f32>().max(1e-7);
    let u2: f32 = rng.random::<f32>();
    (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
}

fn normalise(v: &mut [f32]) {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    v.iter_mut().for_each(|x| *x /= n);
}

fn perturbed(base: &[f32], sigma: f32, rng: &mut StdRng) -> Vec<f32> {
    let mut v: Vec<f32> = base.iter().map(|x| x + sigma * gaussian(rng)).collect();
    normalise(&mut v);
    v
}

/// Every vector of an embedding cache folder that has the benchmark's dimension.
fn cached_vectors(dir: &PathBuf) -> anyhow::Result<Vec<Vec<f32>>> {
    // SAFETY: opened read-only, once, by this process.
    let env = unsafe {
        EnvOpenOptions::new()
            .max_dbs(2)
            .flags(EnvFlags::READ_ONLY)
            .open(dir)?
    };
    let rtxn = env.read_txn()?;
    let db: Option<heed::Database<Bytes, Bytes>> = env
        .open_databases_and_commit(
            rtxn,
            |dbo, rtxn| -> Result<CommitOrAbort<_, ()>, heed::Error> {
                Ok(CommitOrAbort::Commit(
                    dbo.open_database(rtxn, Some("vectors"))?,
                ))
            },
        )?
        .unwrap_commit();
    let db = db.ok_or_else(|| anyhow::anyhow!("no vectors database in {}", dir.display()))?;
    let rtxn = env.read_txn()?;
    let mut out = Vec::new();
    for item in db.iter(&rtxn)? {
        let (_, v) = item?;
        if v.len() == DIMS * 4 {
            out.push(
                v.chunks_exact(4)
                    .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
                    .collect(),
            );
        }
    }
    Ok(out)
}

/// Synthetic clustered unit vectors: 2,000 random centres.
fn synthetic_seeds(rng: &mut StdRng) -> Vec<Vec<f32>> {
    (0..2_000)
        .map(|_| {
            let mut v: Vec<f32> = (0..DIMS).map(|_| gaussian(rng)).collect();
            normalise(&mut v);
            v
        })
        .collect()
}

fn p50(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn recall(exact: &[(ChunkId, f32)], approx: &[(ChunkId, f32)]) -> f64 {
    let hit = approx
        .iter()
        .filter(|(id, _)| exact.iter().any(|e| e.0 == *id))
        .count();
    hit as f64 / exact.len().max(1) as f64
}

fn dir_size(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

fn main() -> anyhow::Result<()> {
    let mut sizes = Vec::new();
    let mut vectors_dir = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--vectors" {
            vectors_dir = args.next().map(PathBuf::from);
        } else {
            sizes.push(a.parse::<usize>()?);
        }
    }
    if sizes.is_empty() {
        sizes = vec![100_000, 300_000];
    }
    let mut rng = StdRng::seed_from_u64(17);
    let (seeds, sigma, source) = match &vectors_dir {
        Some(d) => (cached_vectors(d)?, 0.02, "cached embeddings + noise"),
        None => (synthetic_seeds(&mut rng), 0.04, "synthetic clusters"),
    };
    anyhow::ensure!(!seeds.is_empty(), "no {DIMS}-dimensional vectors found");
    println!(
        "{} seed vectors ({source}), sigma {sigma}, {DIMS} dims, {QUERIES} queries",
        seeds.len()
    );
    for &n in &sizes {
        let mut vs = VectorSet::new(DIMS);
        for i in 0..n {
            let v = perturbed(&seeds[i % seeds.len()], sigma, &mut rng);
            vs.insert(ChunkId(i as u32), &v);
        }
        let queries: Vec<Vec<f32>> = (0..QUERIES)
            .map(|_| {
                let s = &seeds[rng.random_range(0..seeds.len())];
                perturbed(s, sigma * 1.5, &mut rng)
            })
            .collect();
        let mut exact10 = Vec::new();
        let mut exact100 = Vec::new();
        let mut t_exact = Vec::new();
        for q in &queries {
            let t = Instant::now();
            let top = vs.top_k(q, 100);
            t_exact.push(t.elapsed().as_secs_f64() * 1e3);
            exact10.push(top[..10].to_vec());
            exact100.push(top);
        }
        println!("\n## {n} vectors");
        println!("exact scan k=100: p50 {:.2} ms", p50(t_exact));

        let dir = tempfile::tempdir()?;
        let mut ann = AnnIndex::open(dir.path())?;
        let t = Instant::now();
        let r = ann.build_waiting(&vs, MODEL)?;
        println!(
            "build: {} items in {:.1} s (all cores), disk {:.0} MB (vectors alone {:.0} MB)",
            r.items,
            t.elapsed().as_secs_f64(),
            dir_size(dir.path()) as f64 / 1e6,
            (n * DIMS * 4) as f64 / 1e6
        );
        for over in [1, 2, 4, 8] {
            ann.set_oversampling(over);
            let (mut t100, mut t10, mut r10, mut r100) = (vec![], vec![], 0.0, 0.0);
            for (i, q) in queries.iter().enumerate() {
                let t = Instant::now();
                let hits = ann.search(&vs, MODEL, q, 100)?.expect("built");
                t100.push(t.elapsed().as_secs_f64() * 1e3);
                r100 += recall(&exact100[i], &hits);
                let t = Instant::now();
                let hits = ann.search(&vs, MODEL, q, 10)?.expect("built");
                t10.push(t.elapsed().as_secs_f64() * 1e3);
                r10 += recall(&exact10[i], &hits);
            }
            println!(
                "oversampling {over}: k=100 p50 {:.2} ms recall@100 {:.3} | k=10 p50 {:.2} ms recall@10 {:.3}",
                p50(t100),
                r100 / QUERIES as f64,
                p50(t10),
                r10 / QUERIES as f64
            );
        }
        // 1% new chunks: first served by exact scan of recent items, then an incremental build.
        ann.set_oversampling(sg::ann::DEFAULT_OVERSAMPLING);
        for i in n..n + n / 100 {
            let v = perturbed(&seeds[i % seeds.len()], sigma, &mut rng);
            vs.insert(ChunkId(i as u32), &v);
        }
        let mut t_recent = Vec::new();
        for q in &queries {
            let t = Instant::now();
            ann.search(&vs, MODEL, q, 100)?;
            t_recent.push(t.elapsed().as_secs_f64() * 1e3);
        }
        let t = Instant::now();
        let r = ann.build_waiting(&vs, MODEL)?;
        println!(
            "+{} recent chunks: k=100 p50 {:.2} ms before rebuild; incremental build {:.1} s",
            r.added,
            p50(t_recent),
            t.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
