//! `mine`: a hard negative for each training pair, from BM25 near-misses (sg's own lexical index over every
//! pair's code) and, with `--model`, from the model's own top results; never the positive or a copy of it, nor the
//! code of a pair with the same anchor. Writes the pairs back with `negative` set.

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use sg::embed::{EmbedOptions, load_model};
use sg::lexical::{LexDoc, LexQuery, LexicalIndex};

use crate::pairs::{normalized, read_pairs, write_pairs};

/// Embeddings of every pair's anchor and of every pair's code, in pair order.
type AnchorAndDocVectors = (Vec<Vec<f32>>, Vec<Vec<f32>>);

/// Arguments of `mine`.
#[derive(Args, Clone, Debug)]
pub struct MineArgs {
    /// Pairs to mine negatives for (JSONL).
    #[arg(long)]
    pub pairs: PathBuf,
    /// Where to write the pairs with negatives (may be the same file).
    #[arg(long)]
    pub out: PathBuf,
    /// Also take negatives from this model's top results (every other pair), besides BM25's.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Skip this many of the best non-positive candidates (the very best are the likeliest to be unlabelled
    /// positives).
    #[arg(long, default_value_t = 0)]
    pub skip: usize,
    /// Word pieces per text when embedding with --model.
    #[arg(long, default_value_t = 128)]
    pub max_tokens: usize,
}

/// What `mine` did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MineReport {
    /// Pairs read.
    pub pairs: usize,
    /// Negatives from BM25.
    pub lexical: usize,
    /// Negatives from the model.
    pub semantic: usize,
}

/// Runs `mine`.
pub fn run(args: &MineArgs) -> anyhow::Result<MineReport> {
    let mut pairs = read_pairs(&args.pairs)?;
    let mut report = MineReport {
        pairs: pairs.len(),
        ..Default::default()
    };
    // Candidates are the distinct positives; a pair may not get its own positive (or a copy) or the positive of
    // a pair with the same anchor (the same doc on two definitions: both are right).
    let keys: Vec<String> = pairs.iter().map(|p| normalized(&p.positive)).collect();
    let mut by_anchor: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, p) in pairs.iter().enumerate() {
        by_anchor.entry(normalized(&p.anchor)).or_default().push(i);
    }
    let forbidden = |i: usize, j: usize| -> bool {
        keys[i] == keys[j]
            || by_anchor
                .get(&normalized(&pairs[i].anchor))
                .is_some_and(|same| same.iter().any(|&k| keys[k] == keys[j]))
    };

    let tmp = tempfile::tempdir().context("cannot create a temporary folder")?;
    let lexical = LexicalIndex::open(tmp.path()).map_err(|e| anyhow::anyhow!("{e}"))?;
    {
        let mut writer = lexical
            .writer(64 << 20)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        for (i, p) in pairs.iter().enumerate() {
            writer
                .add(&LexDoc {
                    chunk_id: i as u32,
                    file_id: i as u32,
                    path: "",
                    symbol: None,
                    enclosing: "",
                    kind: "",
                    language: &p.language,
                    text: &p.positive,
                })
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        writer.commit().map_err(|e| anyhow::anyhow!("{e}"))?;
        lexical.reload().map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let searcher = lexical.searcher();

    let semantic: Option<AnchorAndDocVectors> = match &args.model {
        None => None,
        Some(dir) => {
            let model = load_model(
                dir,
                &EmbedOptions {
                    max_tokens: args.max_tokens,
                    ..EmbedOptions::default()
                },
            )?;
            let anchors: Vec<&str> = pairs.iter().map(|p| p.anchor.as_str()).collect();
            let docs: Vec<&str> = pairs.iter().map(|p| p.positive.as_str()).collect();
            tracing::info!(
                texts = anchors.len() + docs.len(),
                "embedding pairs for mining"
            );
            Some((
                model.embed_documents(&anchors)?,
                model.embed_documents(&docs)?,
            ))
        }
    };

    let bar = ProgressBar::new(pairs.len() as u64).with_style(
        ProgressStyle::with_template("mine {bar:40} {pos}/{len} pairs [{elapsed}<{eta}]")
            .expect("valid template"),
    );
    let picks: Vec<(Option<usize>, bool)> = (0..pairs.len())
        .into_par_iter()
        .map(|i| {
            bar.inc(1);
            let from_model = semantic.is_some() && i % 2 == 1;
            let ranked: Vec<usize> = if let (true, Some((a, d))) = (from_model, &semantic) {
                let mut scored: Vec<(f32, usize)> = d
                    .iter()
                    .enumerate()
                    .map(|(j, v)| (a[i].iter().zip(v).map(|(x, y)| x * y).sum::<f32>(), j))
                    .collect();
                let top = (args.skip + 20).min(scored.len());
                scored.select_nth_unstable_by(top.saturating_sub(1), |x, y| y.0.total_cmp(&x.0));
                scored.truncate(top);
                scored.sort_by(|x, y| y.0.total_cmp(&x.0));
                scored.into_iter().map(|(_, j)| j).collect()
            } else {
                searcher
                    .search(&LexQuery {
                        text: &pairs[i].anchor,
                        limit: args.skip + 20,
                    })
                    .map(|hits| hits.into_iter().map(|h| h.chunk_id as usize).collect())
                    .unwrap_or_default()
            };
            let pick = ranked
                .into_iter()
                .filter(|&j| !forbidden(i, j))
                .nth(args.skip);
            (pick, from_model)
        })
        .collect();
    bar.finish_and_clear();
    let negatives: Vec<Option<String>> = picks
        .iter()
        .map(|(pick, _)| pick.map(|j| pairs[j].positive.clone()))
        .collect();
    for ((pair, negative), (pick, from_model)) in pairs.iter_mut().zip(negatives).zip(&picks) {
        if pick.is_some() {
            if *from_model {
                report.semantic += 1;
            } else {
                report.lexical += 1;
            }
        }
        pair.negative = negative;
    }
    write_pairs(&args.out, &pairs)?;
    Ok(report)
}
