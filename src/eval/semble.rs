//! The public benchmark's repositories and annotations as specs.

use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use super::spec::{Spec, SpecQuery, Target};

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
                    language: None,
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
