//! Corpus reading for training: the chunk texts sg would embed for the files of some folders, found with sg's
//! own discovery (`vfs`) and cut by its own chunker (`chunk`).

use std::path::{Path, PathBuf};

use anyhow::bail;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use sg::config::IndexConfig;
use sg::{chunk, index, vfs};

use crate::exclude::{ExclusionList, folder_name};

/// Files read per parallel step; the chunk limit is checked between steps.
const FILES_PER_STEP: usize = 256;

/// What was read from the corpus folders.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CorpusSummary {
    /// Final path component of each folder, in the order given.
    pub folders: Vec<String>,
    /// Files that were chunked.
    pub files: usize,
    /// Files left out because a path component is on the exclusion list.
    pub excluded_files: usize,
    /// Chunks passed to the visitor.
    pub chunks: usize,
}

/// Calls `visit` with the embedding text of each chunk of the indexable files under `folders` (in parallel, in
/// no particular order), at most `max_chunks` in all (`None`: no limit). Folders on the exclusion list are
/// refused; files inside them whose path has an excluded component are skipped. Files are taken in an order
/// shuffled by a hash of their path, so that a chunk limit samples every project rather than the first ones.
pub fn for_each_chunk(
    folders: &[PathBuf],
    exclusions: &ExclusionList,
    cfg: &IndexConfig,
    max_chunks: Option<usize>,
    visit: &(dyn Fn(&str) + Sync),
) -> anyhow::Result<CorpusSummary> {
    let mut summary = CorpusSummary::default();
    let mut files = Vec::new();
    for folder in folders {
        exclusions.check_corpus(folder)?;
        if !folder.is_dir() {
            bail!("corpus folder not found: {}", folder.display());
        }
        summary.folders.push(folder_name(folder));
        for f in vfs::discover(folder, cfg)? {
            if let Some(component) = exclusions.matching_component(&f.rel_path) {
                tracing::debug!(path = %f.rel_path, component, "skipping an excluded project's file");
                summary.excluded_files += 1;
                continue;
            }
            files.push(f);
        }
    }
    files.sort_by_cached_key(|f| {
        *blake3::hash(f.abs_path.as_os_str().as_encoded_bytes()).as_bytes()
    });
    if summary.excluded_files > 0 {
        tracing::info!(
            files = summary.excluded_files,
            "skipped files of projects on the exclusion list"
        );
    }

    let limit = max_chunks.unwrap_or(usize::MAX);
    let bar = ProgressBar::new(files.len() as u64).with_style(
        ProgressStyle::with_template("corpus {bar:40} {pos}/{len} files, {msg} [{elapsed}<{eta}]")
            .expect("valid template"),
    );
    let chunk_cfg = cfg.chunk.clone();
    for step in files.chunks(FILES_PER_STEP) {
        if summary.chunks >= limit {
            break;
        }
        let texts: Vec<Vec<String>> = step
            .par_iter()
            .map(|f| file_chunks(&f.abs_path, &f.rel_path, &chunk_cfg))
            .collect();
        for file_texts in texts {
            if summary.chunks >= limit {
                break;
            }
            let take = file_texts.len().min(limit - summary.chunks);
            file_texts[..take].par_iter().for_each(|t| visit(t));
            summary.chunks += take;
            summary.files += 1;
        }
        bar.inc(step.len() as u64);
        bar.set_message(format!("{} chunks", summary.chunks));
    }
    bar.finish_and_clear();
    tracing::info!(
        folders = summary.folders.len(),
        files = summary.files,
        chunks = summary.chunks,
        "corpus read"
    );
    Ok(summary)
}

/// The embedding texts of one file's chunks, as the indexer builds them; nothing for unreadable or binary files.
fn file_chunks(abs: &Path, rel: &str, cfg: &chunk::ChunkConfig) -> Vec<String> {
    let Ok(bytes) = std::fs::read(abs) else {
        tracing::warn!(path = %abs.display(), "cannot read; skipped");
        return Vec::new();
    };
    if vfs::classify_text(&bytes).is_err() {
        return Vec::new();
    }
    let text = vfs::decode_text(bytes);
    let language = vfs::detect_language(rel, &text);
    let analysis = chunk::analyze(language, &text, cfg);
    index::pack_texts(&analysis, &text)
        .map(|(_, t)| t)
        .collect()
}
