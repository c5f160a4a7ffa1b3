//! Plain configuration structs, passed explicitly: what to index and how to search.

use crate::chunk::ChunkConfig;

/// What gets indexed and how.
#[derive(Clone, Debug)]
pub struct IndexConfig {
    /// Files larger than this many bytes are skipped.
    pub max_file_size: u64,
    /// Extra exclusion globs (gitignore syntax, relative to the root).
    pub exclude: Vec<String>,
    /// Index only programming-language files (no Markdown, JSON, YAML...).
    pub code_only: bool,
    /// How files are cut into chunks.
    pub chunk: ChunkConfig,
    /// Compute embeddings (false: lexical only).
    pub embed: bool,
    /// Chunks embedded per batch written to the cache (a killed run loses at most one batch). The live indexer
    /// looks for edits between batches, so this bounds how long an edit waits while the backlog embeds: 16
    /// (tokio, language server, backlog embedding: edit to rank 1 in 111–121 ms against 331–385 ms with 64, for
    /// about 2 % more embedding time).
    pub embed_batch: usize,
    /// Chunks with vectors above which semantic search uses the approximate tier ([`crate::ann`]);
    /// below it every query scans all vectors exactly and no approximate index exists. The default keeps
    /// the exact scan near ~10 ms on one idle core (see `docs/ARCHITECTURE.md`).
    pub ann_threshold: usize,
}

/// Default of [`IndexConfig::ann_threshold`].
pub const DEFAULT_ANN_THRESHOLD: usize = 200_000;

impl Default for IndexConfig {
    fn default() -> Self {
        IndexConfig {
            max_file_size: 1_000_000,
            exclude: Vec::new(),
            code_only: false,
            chunk: ChunkConfig::default(),
            embed: true,
            embed_batch: 16,
            ann_threshold: DEFAULT_ANN_THRESHOLD,
        }
    }
}
