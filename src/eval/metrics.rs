//! Ranking metrics of one query (NDCG@10, P@1, MRR@10, Recall@k, Recall AUC) and their means.

use serde::Serialize;

use super::spec::{HitRef, Target};

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
    fn repeated_file_hits_earn_nothing_extra() {
        let t = vec![Target::Path("a.rs".into())];
        let m = metrics(&[hit("a.rs", 1, 2), hit("a.rs", 5, 9)], &t);
        assert_eq!(m.ndcg10, 1.0);
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(|x| x as f64).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert_eq!(percentile(&[], 50.0), 0.0);
    }
}
