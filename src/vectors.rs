//! In-memory vector set searched by exact scan: flat f32 rows, one per embedded chunk.
//!
//! Measured on this class of machine, an exact scan of 100k × 384 vectors takes about 5 ms on one core
//! and needs no build step. Workspaces beyond a threshold add the approximate tier of [`crate::ann`],
//! which still rescores its candidates with these vectors; see `docs/ARCHITECTURE.md` for the numbers.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::ids::ChunkId;

/// Vectors from which [`VectorSet::top_k`] scans on every thread of the current rayon pool.
const PARALLEL_SCAN: usize = 16_384;

/// Source of [`VectorSet::generation`] values: unique across every set of the process.
static GENERATION: AtomicU64 = AtomicU64::new(1);

fn next_generation() -> u64 {
    GENERATION.fetch_add(1, Ordering::Relaxed)
}

/// A set of unit vectors keyed by chunk id.
#[derive(Clone, Debug, Default)]
pub struct VectorSet {
    dims: usize,
    ids: Vec<ChunkId>,
    data: Vec<f32>,
    pos: HashMap<ChunkId, usize>,
    generation: u64,
}

impl VectorSet {
    /// An empty set of `dims`-dimensional vectors.
    pub fn new(dims: usize) -> Self {
        VectorSet {
            dims,
            generation: next_generation(),
            ..Default::default()
        }
    }

    /// Identifies the contents: changes with every insert or removal and differs between sets built
    /// apart, while a clone keeps it. Lets callers cache what they derive from a set.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The vector of a chunk.
    pub fn get(&self, id: ChunkId) -> Option<&[f32]> {
        let p = *self.pos.get(&id)?;
        Some(&self.data[p * self.dims..(p + 1) * self.dims])
    }

    /// The chunks that have a vector, in no particular order.
    pub fn ids(&self) -> &[ChunkId] {
        &self.ids
    }

    /// Exact similarity of `query` to each of `ids` that has a vector (others are skipped).
    pub fn score(
        &self,
        query: &[f32],
        ids: impl IntoIterator<Item = ChunkId>,
    ) -> Vec<(ChunkId, f32)> {
        if query.len() != self.dims {
            return Vec::new();
        }
        ids.into_iter()
            .filter_map(|id| self.get(id).map(|v| (id, dot(v, query))))
            .collect()
    }

    /// Dimensionality.
    pub fn dims(&self) -> usize {
        self.dims
    }

    /// Number of vectors.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Whether a chunk has a vector.
    pub fn contains(&self, id: ChunkId) -> bool {
        self.pos.contains_key(&id)
    }

    /// Adds or replaces the vector of a chunk. Vectors of the wrong length are ignored.
    pub fn insert(&mut self, id: ChunkId, v: &[f32]) {
        if v.len() != self.dims {
            return;
        }
        self.generation = next_generation();
        if let Some(&p) = self.pos.get(&id) {
            self.data[p * self.dims..(p + 1) * self.dims].copy_from_slice(v);
            return;
        }
        self.pos.insert(id, self.ids.len());
        self.ids.push(id);
        self.data.extend_from_slice(v);
    }

    /// Removes the vector of a chunk (swap-remove; order is not kept).
    pub fn remove(&mut self, id: ChunkId) {
        let Some(p) = self.pos.remove(&id) else {
            return;
        };
        self.generation = next_generation();
        let last = self.ids.len() - 1;
        if p != last {
            let moved = self.ids[last];
            self.ids.swap(p, last);
            let (head, tail) = self.data.split_at_mut(last * self.dims);
            head[p * self.dims..(p + 1) * self.dims].copy_from_slice(&tail[..self.dims]);
            self.pos.insert(moved, p);
        }
        self.ids.pop();
        self.data.truncate(last * self.dims);
    }

    /// The `k` chunks most similar to `query` (dot product, i.e. cosine for unit vectors), best first.
    pub fn top_k(&self, query: &[f32], k: usize) -> Vec<(ChunkId, f32)> {
        self.top_k_with_stats(query, k).0
    }

    /// [`Self::top_k`], with the mean and standard deviation of the similarity over the whole set (to put
    /// the scores of two vector spaces on one scale).
    pub fn top_k_with_stats(&self, query: &[f32], k: usize) -> (Vec<(ChunkId, f32)>, f32, f32) {
        if query.len() != self.dims || k == 0 || self.is_empty() {
            return (Vec::new(), 0.0, 0.0);
        }
        // A large set is read at the memory's pace: split over the pool's threads, each reads its share.
        let score = |(i, row): (usize, &[f32])| (dot(row, query), i as u32);
        let mut scored: Vec<(f32, u32)> = if self.len() >= PARALLEL_SCAN {
            use rayon::prelude::*;
            self.data
                .par_chunks_exact(self.dims)
                .enumerate()
                .map(score)
                .collect()
        } else {
            self.data
                .chunks_exact(self.dims)
                .enumerate()
                .map(score)
                .collect()
        };
        let n = scored.len() as f64;
        let mean = scored.iter().map(|s| s.0 as f64).sum::<f64>() / n;
        let var = scored
            .iter()
            .map(|s| (s.0 as f64 - mean).powi(2))
            .sum::<f64>()
            / n;
        let k = k.min(scored.len());
        if k < scored.len() {
            scored.select_nth_unstable_by(k - 1, |a, b| b.0.total_cmp(&a.0));
            scored.truncate(k);
        }
        scored.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let hits = scored
            .into_iter()
            .map(|(s, i)| (self.ids[i as usize], s))
            .collect();
        (hits, mean as f32, var.sqrt() as f32)
    }
}

/// Dot product with eight independent accumulators (lets the compiler vectorise).
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let ca = a.chunks_exact(8);
    let cb = b.chunks_exact(8);
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    let mut s: f32 = acc.iter().sum();
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_set_scanned_in_parallel_ranks_as_the_plain_scan_does() {
        let n = PARALLEL_SCAN + 3_001;
        let mut vs = VectorSet::new(4);
        let vector = |i: usize| {
            let v = [
                (i % 97) as f32,
                (i % 89) as f32 - 44.0,
                (i % 13) as f32,
                1.0,
            ];
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            v.map(|x| x / norm)
        };
        for i in 0..n {
            vs.insert(ChunkId(i as u32 * 3), &vector(i));
        }
        let q = vector(12_345);
        let mut want: Vec<(ChunkId, f32)> = (0..n)
            .map(|i| (ChunkId(i as u32 * 3), dot(&vector(i), &q)))
            .collect();
        want.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        want.truncate(25);
        let (got, mean, _) = vs.top_k_with_stats(&q, 25);
        assert_eq!(got, want);
        assert_eq!(got[0].0, ChunkId(12_345 * 3));
        let plain_mean = (0..n).map(|i| dot(&vector(i), &q) as f64).sum::<f64>() / n as f64;
        assert!(
            (mean as f64 - plain_mean).abs() < 1e-4,
            "{mean} vs {plain_mean}"
        );
    }

    #[test]
    fn top_k_orders_by_similarity_and_handles_updates() {
        let mut vs = VectorSet::new(3);
        vs.insert(ChunkId(1), &[1.0, 0.0, 0.0]);
        vs.insert(ChunkId(2), &[0.0, 1.0, 0.0]);
        vs.insert(ChunkId(3), &[0.6, 0.8, 0.0]);
        vs.insert(ChunkId(9), &[1.0, 0.0]); // wrong length: ignored
        assert_eq!(vs.len(), 3);
        let ids: Vec<_> = vs
            .top_k(&[1.0, 0.0, 0.0], 2)
            .into_iter()
            .map(|x| x.0)
            .collect();
        assert_eq!(ids, vec![ChunkId(1), ChunkId(3)]);
        vs.remove(ChunkId(1));
        vs.insert(ChunkId(2), &[0.9, 0.1, 0.0]);
        let ids: Vec<_> = vs
            .top_k(&[1.0, 0.0, 0.0], 5)
            .into_iter()
            .map(|x| x.0)
            .collect();
        assert_eq!(ids, vec![ChunkId(2), ChunkId(3)]);
        assert!(!vs.contains(ChunkId(1)));
        assert_eq!(vs.get(ChunkId(2)), Some(&[0.9, 0.1, 0.0][..]));
        assert_eq!(vs.get(ChunkId(1)), None);
    }

    #[test]
    fn generation_follows_changes_and_survives_clones() {
        let mut vs = VectorSet::new(2);
        let g0 = vs.generation();
        assert_ne!(g0, VectorSet::new(2).generation());
        vs.insert(ChunkId(1), &[1.0, 0.0]);
        let g1 = vs.generation();
        assert_ne!(g0, g1);
        assert_eq!(vs.clone().generation(), g1);
        vs.remove(ChunkId(7)); // absent: no change
        assert_eq!(vs.generation(), g1);
        vs.remove(ChunkId(1));
        assert_ne!(vs.generation(), g1);
        let scored = vs.score(&[1.0, 0.0], [ChunkId(1)]);
        assert!(scored.is_empty());
    }

    #[test]
    fn stats_cover_the_whole_set() {
        let mut vs = VectorSet::new(2);
        vs.insert(ChunkId(1), &[1.0, 0.0]);
        vs.insert(ChunkId(2), &[0.0, 1.0]);
        vs.insert(ChunkId(3), &[0.6, 0.8]);
        let (hits, mean, std) = vs.top_k_with_stats(&[1.0, 0.0], 1);
        assert_eq!(hits, vec![(ChunkId(1), 1.0)]);
        assert!((mean - 1.6 / 3.0).abs() < 1e-6, "{mean}");
        let var = ((1.0f32 - mean).powi(2) + mean.powi(2) + (0.6 - mean).powi(2)) / 3.0;
        assert!((std - var.sqrt()).abs() < 1e-6, "{std}");
    }

    #[test]
    fn dot_matches_naive_sum() {
        let a: Vec<f32> = (0..19).map(|i| i as f32 * 0.5).collect();
        let b: Vec<f32> = (0..19).map(|i| 1.0 - i as f32 * 0.1).collect();
        let naive: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((dot(&a, &b) - naive).abs() < 1e-4);
    }
}
