//! The evaluation report: aggregation per mode, category, spec and language, and its text rendering.

use std::collections::BTreeMap;

use serde::Serialize;

use super::metrics::{QueryMetrics, Summary, summarise};
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
    /// Mode → language → mean NDCG over that language's specs.
    pub by_language: BTreeMap<String, BTreeMap<String, f64>>,
    /// Spec → index time in seconds (cold or warm, as it happened).
    pub index_seconds: BTreeMap<String, f64>,
}

pub(crate) fn build_report(
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
