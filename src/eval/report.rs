//! The evaluation report: aggregation per mode, category, spec and language, and its text rendering.

use std::collections::BTreeMap;

use serde::Serialize;

use super::metrics::{QueryMetrics, Summary, summarise};
use super::reference::BM25_FUNCTIONS;
use super::runner::QueryOutcome;

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
    /// Mode → language → summary over that language's queries (a query's own language, or its
    /// workspace's), with NDCG as the mean of per-spec means like `overall`.
    pub by_language: BTreeMap<String, BTreeMap<String, Summary>>,
    /// Spec → index time in seconds (cold or warm, as it happened).
    pub index_seconds: BTreeMap<String, f64>,
}

/// A query's metrics and latency.
type Row = (QueryMetrics, f64);

pub(crate) fn build_report(
    outcomes: &BTreeMap<String, Vec<QueryOutcome>>,
    index_times: &BTreeMap<String, f64>,
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
        let mut by_lang: BTreeMap<&str, BTreeMap<&str, Vec<Row>>> = BTreeMap::new();
        for o in rows.iter().filter(|o| !o.language.is_empty()) {
            by_lang
                .entry(&o.language)
                .or_default()
                .entry(&o.spec)
                .or_default()
                .push((o.metrics.clone(), o.latency_ms));
        }
        rep.by_language.insert(
            mode.to_string(),
            by_lang
                .into_iter()
                .map(|(l, specs)| {
                    let all: Vec<Row> = specs.values().flatten().cloned().collect();
                    let mut s = summarise(&all);
                    s.ndcg10 = specs.values().map(|v| summarise(v).ndcg10).sum::<f64>()
                        / specs.len() as f64;
                    (l.to_string(), s)
                })
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
    let mut modes: Vec<&String> = rep.overall.keys().collect();
    // The reference row comes last.
    modes.sort_by_key(|m| m.as_str() == BM25_FUNCTIONS);
    let w = modes.iter().map(|m| m.len()).max().unwrap_or(0).max(9);
    s.push_str(&format!(
        "{:<w$} {:>7} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>8} {:>8} {:>8}\n",
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
            "{:<w$} {:>7.4} {:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>8.2} {:>8.2} {:>8.2}\n",
            m, o.ndcg10, o.p1, o.mrr10, o.recall[0], o.recall[1], o.recall[2], o.recall[3], o.recall_auc,
            o.latency_ms[0], o.latency_ms[1], o.latency_ms[2]
        ));
    }
    s.push_str("\nNDCG@10 by category\n");
    s.push_str(&format!("{:<16}", "category"));
    for m in &modes {
        s.push_str(&format!(" {:>w$}", m));
    }
    s.push('\n');
    let cats: std::collections::BTreeSet<&String> =
        rep.by_category.values().flat_map(|c| c.keys()).collect();
    for c in cats {
        s.push_str(&format!("{:<16}", c));
        for m in &modes {
            s.push_str(&format!(
                " {:>w$.4}",
                rep.by_category[*m].get(c).copied().unwrap_or(0.0)
            ));
        }
        s.push('\n');
    }
    if rep.by_spec.values().next().is_some_and(|v| v.len() > 1) {
        let ws = rep
            .by_spec
            .values()
            .flat_map(|v| v.keys())
            .map(|k| k.len())
            .max()
            .unwrap_or(0)
            .max(22);
        for (title, metric) in [
            ("NDCG@10", (|x: &Summary| x.ndcg10) as fn(&Summary) -> f64),
            ("MRR@10", |x: &Summary| x.mrr10),
        ] {
            s.push_str(&format!("\n{title} by workspace\n"));
            s.push_str(&format!("{:<ws$}", "workspace"));
            for m in &modes {
                s.push_str(&format!(" {:>w$}", m));
            }
            s.push_str(&format!(" {:>9}\n", "index s"));
            for spec in rep.by_spec[modes[0]].keys() {
                s.push_str(&format!("{:<ws$}", spec));
                for m in &modes {
                    s.push_str(&format!(
                        " {:>w$.4}",
                        rep.by_spec[*m].get(spec).map(metric).unwrap_or(0.0)
                    ));
                }
                s.push_str(&format!(
                    " {:>9.2}\n",
                    rep.index_seconds.get(spec).copied().unwrap_or(0.0)
                ));
            }
        }
    }
    if rep.by_language.values().any(|v| !v.is_empty()) {
        s.push_str("\nBy language\n");
        s.push_str(&format!(
            "{:<12} {:<w$} {:>7} {:>7} {:>6} {:>6} {:>7}\n",
            "language", "mode", "queries", "MRR@10", "P@1", "R@10", "NDCG@10"
        ));
        let langs: std::collections::BTreeSet<&String> =
            rep.by_language.values().flat_map(|c| c.keys()).collect();
        for l in langs {
            for m in &modes {
                if let Some(o) = rep.by_language[*m].get(l) {
                    s.push_str(&format!(
                        "{:<12} {:<w$} {:>7} {:>7.4} {:>6.3} {:>6.3} {:>7.4}\n",
                        l, m, o.queries, o.mrr10, o.p1, o.recall[2], o.ndcg10
                    ));
                }
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(spec: &str, language: &str, rr: f64) -> QueryOutcome {
        QueryOutcome {
            spec: spec.into(),
            query: format!("q{rr}"),
            category: "doc".into(),
            language: language.into(),
            metrics: QueryMetrics {
                ndcg10: rr,
                p1: if rr == 1.0 { 1.0 } else { 0.0 },
                mrr10: rr,
                recall: [0.0, 0.0, if rr > 0.0 { 1.0 } else { 0.0 }, 0.0],
                recall_auc: 0.0,
            },
            latency_ms: 1.0,
            hits: Vec::new(),
        }
    }

    #[test]
    fn languages_are_reported_per_mode_from_each_query() {
        let mut outcomes = BTreeMap::new();
        outcomes.insert(
            "lexical".to_string(),
            vec![
                outcome("a", "python", 1.0),
                outcome("a", "python", 0.5),
                outcome("a", "go", 0.0),
                outcome("b", "python", 0.0),
            ],
        );
        outcomes.insert(
            BM25_FUNCTIONS.to_string(),
            vec![outcome("a", "python", 0.25), outcome("a", "go", 1.0)],
        );
        let rep = build_report(&outcomes, &BTreeMap::new());
        let py = &rep.by_language["lexical"]["python"];
        assert_eq!(py.queries, 3);
        assert!((py.mrr10 - 0.5).abs() < 1e-12);
        assert!((py.p1 - 1.0 / 3.0).abs() < 1e-12);
        assert!((py.recall[2] - 2.0 / 3.0).abs() < 1e-12);
        // NDCG: the mean of spec a's python mean (0.75) and spec b's (0).
        assert!((py.ndcg10 - 0.375).abs() < 1e-12);
        assert_eq!(rep.by_language[BM25_FUNCTIONS]["go"].mrr10, 1.0);
        let text = render_report(&rep);
        let table = &text[text.find("By language").unwrap()..];
        let rows: Vec<&str> = table.lines().skip(2).collect();
        assert!(rows[0].starts_with("go") && rows[0].contains("lexical"));
        assert!(rows[1].starts_with("go") && rows[1].contains(BM25_FUNCTIONS));
        assert!(rows[2].starts_with("python") && rows[2].contains("0.5000"));
        // The reference row is last in the main table.
        let main: Vec<&str> = text.lines().take(3).collect();
        assert!(main[1].starts_with("lexical") && main[2].starts_with(BM25_FUNCTIONS));
    }
}
