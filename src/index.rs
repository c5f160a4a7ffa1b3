//! One workspace index on disk: the LMDB store, the tantivy index and the shared embedding cache, kept
//! consistent with each other and with the files, plus the in-memory vector set searched by queries.
//!
//! [`Workspace`] is the single writer of an index (it holds tantivy's writer lock); a second process
//! opening the same folder gets a read-only [`Workspace`] and says so in the log.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use anyhow::{Context, Result};
use rayon::prelude::*;

use crate::ann::{AnnIndex, AnnStatus, BuildReport};
use crate::chunk::{self, Analysis, Chunk, Pack};
use crate::config::IndexConfig;
use crate::embed::{Embedder, embedding_text};
use crate::graph::{RefTable, Reference};
use crate::ids::{ChunkId, ContentHash, FileId, ModelFingerprint};
use crate::imports::ImportGraph;
use crate::index_dir::{self, IndexDirError, Part};
use crate::lexical::{LexDoc, LexicalError, LexicalIndex, LexicalWriter};
use crate::store::{Access, ChunkRecord, EmbeddingCache, FileRecord, Store, SymbolRecord};
use crate::symbols::SymbolTable;
use crate::syntax::Language;
use crate::vectors::VectorSet;
use crate::vfs;

/// Where indexes live unless told otherwise: `$SG_INDEX_DIR`, else the user's cache folder.
pub fn default_base_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SG_INDEX_DIR") {
        return PathBuf::from(dir);
    }
    dirs::cache_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("sg")
}

/// Where the embedding cache shared by every workspace lives unless told otherwise:
/// `$SG_CACHE_DIR`, else `embeddings` under [`default_base_dir`] (`~/.cache/sg/embeddings` on
/// Linux). It never depends on a workspace's index folder.
pub fn default_cache_dir() -> PathBuf {
    match std::env::var_os("SG_CACHE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => default_base_dir().join("embeddings"),
    }
}

/// The index folder of a workspace root under `base`: named after the root's last component and a hash
/// of its canonical path, so two checkouts never share an index.
pub fn index_dir_for(base: &Path, canonical_root: &Path) -> PathBuf {
    let name: String = canonical_root
        .file_name()
        .map(|n| {
            n.to_string_lossy()
                .chars()
                .filter(|c| c.is_alphanumeric() || "-_.".contains(*c))
                .collect()
        })
        .unwrap_or_default();
    let hash = blake3::hash(canonical_root.as_os_str().as_encoded_bytes()).to_hex();
    base.join("indexes").join(format!("{name}-{}", &hash[..16]))
}

/// Reports indexing progress (a terminal bar, LSP `$/progress`, or nothing).
pub trait Progress: Send + Sync {
    /// A phase starts with `total` units of work.
    fn begin(&self, phase: Phase, total: u64);
    /// `done` units of the current phase are finished (absolute count).
    fn report(&self, done: u64);
    /// The current phase ended.
    fn end(&self);
}

/// Phases of an index update.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Reading and chunking files, writing the lexical index.
    Scan,
    /// Computing embeddings for new chunks.
    Embed,
}

impl Phase {
    /// A short human name.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Scan => "indexing files",
            Phase::Embed => "embedding chunks",
        }
    }
}

/// Progress sink that drops everything.
pub struct NoProgress;

impl Progress for NoProgress {
    fn begin(&self, _: Phase, _: u64) {}
    fn report(&self, _: u64) {}
    fn end(&self) {}
}

/// How a workspace is opened.
#[derive(Clone, Default)]
pub struct OpenOptions {
    /// Folder of this workspace's index (default: derived from the root under [`default_base_dir`]).
    pub index_dir: Option<PathBuf>,
    /// Folder of the shared embedding cache (default: [`default_cache_dir`]); opened, and created,
    /// only when there is an embedder.
    pub cache_dir: Option<PathBuf>,
    /// What to index.
    pub config: IndexConfig,
    /// The embedder (None: lexical only).
    pub embedder: Option<Arc<dyn Embedder>>,
    /// A fast embedder (a static model) that gives every chunk a vector at once, until `embedder` has
    /// embedded it.
    pub fast_embedder: Option<Arc<dyn Embedder>>,
}

/// What an update did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UpdateStats {
    /// Files found by discovery.
    pub files_seen: usize,
    /// Files whose chunks were (re)written.
    pub files_changed: usize,
    /// Files removed from the index.
    pub files_removed: usize,
    /// Files skipped (binary, minified, unreadable).
    pub files_skipped: usize,
    /// Chunks written.
    pub chunks_written: usize,
    /// Chunks embedded by the model (cache misses).
    pub chunks_embedded: usize,
    /// Time spent scanning (files read, chunked, written; lexical search complete), in ms.
    pub scan_ms: u64,
    /// Time spent embedding, in ms.
    pub embed_ms: u64,
}

/// Counts describing how complete an index is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IndexStatus {
    /// Files in the index.
    pub files: u64,
    /// Chunks in the index.
    pub chunks: u64,
    /// Chunks that have a vector of the main model.
    pub embedded: u64,
    /// Chunks that have only a fast-tier vector (0 without a fast tier).
    pub embedded_fast: u64,
    /// Whether this process can write the index.
    pub writable: bool,
}

/// A chunk ready to be written: the output of reading and chunking one file.
struct PreparedFile {
    rel: String,
    mtime_ns: u64,
    size: u64,
    hash: ContentHash,
    language: Language,
    /// The units, each with its pack's embedding hash and (on a pack's first member) the pack's text.
    chunks: Vec<(Chunk, ContentHash, Option<String>)>,
    symbols: Vec<SymbolRecord>,
    references: Vec<Reference>,
}

/// The texts the main model embeds for a file: one per pack (the pack's span of the file, after the
/// enclosing chain of its largest member), in file order.
pub fn pack_texts<'a>(
    analysis: &'a Analysis,
    text: &'a str,
) -> impl Iterator<Item = (&'a Pack, String)> + 'a {
    analysis.packs.iter().map(move |p| {
        let body = text
            .get(p.start_byte as usize..p.end_byte as usize)
            .unwrap_or("");
        (p, embedding_text(&p.enclosing, body))
    })
}

/// Texts a server's indexer embeds before it looks for new work again. A slice, not the whole backlog: each
/// call gathers its texts from the store, and at 331k units gathering them all (reading every record and
/// cloning its text) took longer than an edit should wait.
const EMBED_SLICE: usize = 1024;

/// A text the main model has yet to embed: a pack's (or a lone unit's).
struct PendingText {
    /// The unit that carries the text (a pack's first member).
    id: ChunkId,
    /// The embedding text.
    text: String,
    /// Its hash (the cache key).
    hash: ContentHash,
    /// The units that wait for this vector (the pack's members, and copies of the text elsewhere).
    units: Vec<ChunkId>,
}

/// The locked writer of a workspace (present by construction).
struct WriterGuard<'a>(std::sync::MutexGuard<'a, Option<LexicalWriter>>);

impl std::ops::Deref for WriterGuard<'_> {
    type Target = LexicalWriter;
    fn deref(&self) -> &LexicalWriter {
        self.0.as_ref().expect("checked when the guard was made")
    }
}

impl std::ops::DerefMut for WriterGuard<'_> {
    fn deref_mut(&mut self) -> &mut LexicalWriter {
        self.0.as_mut().expect("checked when the guard was made")
    }
}

/// One workspace's index.
pub struct Workspace {
    root: PathBuf,
    dir: PathBuf,
    /// Opened read-only: nothing is written, not even a lock.
    read_only: bool,
    /// The index folder's writer lock, held while this process is the writer.
    writer_lock: Mutex<Option<std::fs::File>>,
    /// The index and cache folders, canonical: never indexed, even when they lie in the workspace.
    private: Vec<PathBuf>,
    cfg: RwLock<IndexConfig>,
    store: Store,
    /// The shared embedding cache (only with an embedder).
    cache: Option<Arc<EmbeddingCache>>,
    lexical: LexicalIndex,
    writer: Mutex<Option<LexicalWriter>>,
    embedder: Option<Arc<dyn Embedder>>,
    vectors: RwLock<Arc<VectorSet>>,
    fast: Option<Arc<dyn Embedder>>,
    /// Fast-tier vectors of every chunk (kept after the main model takes over: a search puts the two
    /// spaces on one scale through each space's score distribution over the whole workspace).
    fast_vectors: RwLock<Arc<VectorSet>>,
    symbols: RwLock<Option<Arc<SymbolTable>>>,
    /// Which files use which name (loaded on first use, then kept up to date by writes).
    refs: RwLock<Option<Arc<RefTable>>>,
    imports: Mutex<Option<ImportGraph>>,
    /// The approximate tier, opened once the workspace passes the threshold.
    ann: Mutex<Option<Arc<AnnIndex>>>,
    /// The background build of the approximate tier, if one was started.
    ann_job: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Workspace {
    /// Waits for the background build of the approximate tier, if one runs.
    fn join_ann_job(&self) {
        let job = self
            .ann_job
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(job) = job {
            let _ = job.join();
        }
    }

    /// Stores fast-tier vectors (a new set when the fast model's size differs from the stored one's).
    fn insert_fast(&self, dims: usize, items: impl Iterator<Item = (ChunkId, Vec<f32>)>) {
        let mut guard = self.fast_vectors.write().unwrap_or_else(|e| e.into_inner());
        if guard.dims() != dims {
            *guard = Arc::new(VectorSet::new(dims));
        }
        let fv = Arc::make_mut(&mut guard);
        for (id, v) in items {
            fv.insert(id, &v);
        }
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        // A background build is rolled back rather than waited for.
        if let Some(ann) = self.ann.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            ann.cancel();
        }
        self.join_ann_job();
    }
}

/// Whether an error of an LMDB environment means its files are damaged.
fn is_lmdb_damage(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<crate::store::StoreError>()
            .is_some_and(|e| e.is_damage())
            || e.downcast_ref::<heed::Error>().is_some_and(|e| {
                crate::store::StoreError::Lmdb(match e {
                    heed::Error::Mdb(m) => heed::Error::Mdb(*m),
                    _ => return false,
                })
                .is_damage()
            })
    })
}

/// A file's language and its chunks' texts by first line, for the import graph.
type FileParts<'a> = (Language, Vec<(u32, &'a str)>);

/// The lexical document of a unit: its own name (one per unit), its enclosing chain, kind, language and text.
fn lexical_doc<'a>(id: ChunkId, rec: &'a ChunkRecord, path: &'a str) -> LexDoc<'a> {
    LexDoc {
        chunk_id: id.0,
        file_id: rec.file.0,
        path,
        symbol: rec.symbol.as_deref().filter(|n| !n.is_empty()),
        enclosing: &rec.enclosing,
        kind: rec.kind.name(),
        language: rec.language.name(),
        text: &rec.text,
    }
}

/// An error of the embedding cache met while reading vectors (kept apart so that damage to the
/// cache is told from damage to the store).
#[derive(Debug, thiserror::Error)]
#[error("embedding cache {dir}: {source}")]
struct CacheError {
    dir: String,
    source: crate::store::StoreError,
}

impl Workspace {
    /// Opens the index of `root`, creating it if needed. The index folder must be empty, missing,
    /// or an sg index (see [`crate::index_dir`]); a damaged index is rebuilt with a warning (the
    /// store from the files, the lexical index from the store), removing only sg's own files; an
    /// index written by another process, or one this process may not write, is opened read-only.
    pub fn open(root: &Path, opts: OpenOptions) -> Result<Self> {
        Self::open_with(root, opts, false)
    }

    /// Opens an existing index for reading only, writing nothing at all (no lock, no marker, no
    /// repair): what [`Workspace::open`] falls back to when the index folder or the embedding
    /// cache cannot be written (a read-only mount or permissions).
    pub fn open_read_only(root: &Path, opts: OpenOptions) -> Result<Self> {
        Self::open_with(root, opts, true)
    }

    fn open_with(root: &Path, opts: OpenOptions, mut read_only: bool) -> Result<Self> {
        let root = root
            .canonicalize()
            .with_context(|| format!("cannot open workspace {}", root.display()))?;
        anyhow::ensure!(root.is_dir(), "{} is not a folder", root.display());
        let dir = opts
            .index_dir
            .clone()
            .unwrap_or_else(|| index_dir_for(&default_base_dir(), &root));
        match index_dir::claim(&dir, !read_only) {
            Ok(_) => {}
            Err(IndexDirError::Io { source, .. })
                if !read_only && index_dir::is_permission(&source) && dir.is_dir() =>
            {
                read_only = true;
                index_dir::claim(&dir, false)?;
            }
            Err(e) => return Err(e.into()),
        }
        let lock = if read_only {
            None
        } else {
            match index_dir::try_lock_writer(&dir) {
                Ok(lock) => lock,
                Err(IndexDirError::Io { source, .. }) if index_dir::is_permission(&source) => {
                    read_only = true;
                    None
                }
                Err(e) => return Err(e.into()),
            }
        };
        if read_only {
            tracing::info!(target: "sg::index", "reading {} without writing (read-only)", dir.display());
        }
        let access = if read_only {
            Access::ReadOnly
        } else {
            Access::ReadWrite
        };
        let (store, lexical, writer, rebuild) = Self::open_parts(&dir, access, lock.is_some())?;
        let writes = writer.lock().unwrap_or_else(|e| e.into_inner()).is_some();
        let lock = if writes { lock } else { None };
        // Either tier's vectors are cached: the cache exists only when something embeds.
        let embeds = opts.embedder.is_some() || opts.fast_embedder.is_some();
        let cache = match embeds {
            false => None,
            true => {
                let cache_dir = opts.cache_dir.clone().unwrap_or_else(default_cache_dir);
                match EmbeddingCache::open_shared(&cache_dir, access) {
                    Ok(c) => Some(c),
                    Err(err) if read_only => {
                        tracing::warn!(
                            target: "sg::index",
                            "cannot read the embedding cache {} ({err}); no vectors",
                            cache_dir.display()
                        );
                        None
                    }
                    Err(err) => {
                        return Err(anyhow::Error::new(err).context(format!(
                            "cannot open embedding cache {}",
                            cache_dir.display()
                        )));
                    }
                }
            }
        };
        let cache_dir = opts.cache_dir.clone().unwrap_or_else(default_cache_dir);
        let private = [&dir, &cache_dir]
            .iter()
            .map(|d| d.canonicalize().unwrap_or_else(|_| d.to_path_buf()))
            .collect();
        let mut ws = Workspace {
            root,
            dir,
            read_only,
            writer_lock: Mutex::new(lock),
            private,
            cfg: RwLock::new(opts.config),
            store,
            cache,
            lexical,
            writer,
            embedder: opts.embedder,
            vectors: RwLock::new(Arc::new(VectorSet::default())),
            fast: opts.fast_embedder,
            fast_vectors: RwLock::new(Arc::new(VectorSet::default())),
            symbols: RwLock::new(None),
            refs: RwLock::new(None),
            imports: Mutex::new(None),
            ann: Mutex::new(None),
            ann_job: Mutex::new(None),
        };
        if ws.is_writable() {
            ws.repair_lexical(rebuild)?;
        }
        if let Err(err) = ws.load_vectors() {
            let damaged = err
                .downcast_ref::<CacheError>()
                .filter(|e| e.source.is_damage() && !read_only);
            let (Some(why), Some(cache)) = (damaged, ws.cache.take()) else {
                return Err(err);
            };
            ws.cache = Some(cache.recover(&why.source)?);
            ws.load_vectors()?;
        }
        Ok(ws)
    }

    /// Rebuilds the lexical index from the store when it must (`rebuild`, a set dirty flag) or when
    /// its document count differs from the store's chunk count (files of tantivy lost or damaged).
    fn repair_lexical(&self, rebuild: bool) -> Result<()> {
        let txn = self.store.read_txn()?;
        let dirty = self.store.lexical_dirty(&txn)?;
        let (_, chunks) = self.store.counts(&txn)?;
        drop(txn);
        let docs = self.lexical.num_docs();
        if !rebuild && !dirty && docs != chunks {
            tracing::warn!(
                target: "sg::index",
                "the lexical index of {} holds {docs} chunks and the store {chunks}; rebuilding it from the store",
                self.dir.display()
            );
        }
        if rebuild || dirty || docs != chunks {
            self.rebuild_lexical()?;
        }
        Ok(())
    }

    /// Opens the store and the lexical index. Only the writer (`writer`: it holds the writer lock)
    /// repairs: a damaged store is rebuilt empty (the next scan refills it from the files) and a
    /// damaged lexical index is recreated (the caller refills it from the store). Returns whether
    /// the lexical index must be rebuilt.
    #[allow(clippy::type_complexity)]
    fn open_parts(
        dir: &Path,
        access: Access,
        writer: bool,
    ) -> Result<(Store, LexicalIndex, Mutex<Option<LexicalWriter>>, bool)> {
        let lmdb = dir.join(Part::Store.folder());
        let opened = Store::open(&lmdb, access).and_then(|(s, reset)| {
            let t = Instant::now();
            let chunks = s.verify()?;
            tracing::debug!(target: "sg::index", "verified the store: {chunks} chunks in {:?}", t.elapsed());
            Ok((s, reset))
        });
        let (store, mut rebuild) = match opened {
            Ok((store, reset)) => {
                if reset {
                    tracing::warn!(target: "sg::index", "index format changed; rebuilding {}", dir.display());
                    // Chunk ids start over: an approximate index of the old ids would mislead.
                    index_dir::remove_part(dir, Part::Ann)?;
                }
                (store, reset)
            }
            Err(err) if err.is_damage() && writer => {
                tracing::warn!(
                    target: "sg::index",
                    "the index at {} is damaged ({err}); rebuilding it from the files",
                    dir.display()
                );
                for part in [Part::Store, Part::Lexical, Part::Ann] {
                    index_dir::remove_part(dir, part)?;
                }
                let (store, _) = Store::open(&lmdb, access).with_context(|| {
                    format!("cannot recreate the index store in {}", lmdb.display())
                })?;
                (store, true)
            }
            Err(err) if err.is_damage() => {
                return Err(anyhow::Error::new(err).context(format!(
                    "the index at {} is damaged; the next `sg index` rebuilds it (this process \
                     cannot: it does not write the index)",
                    dir.display()
                )));
            }
            Err(err) => {
                return Err(anyhow::Error::new(err)
                    .context(format!("cannot open the index store in {}", lmdb.display())));
            }
        };
        let lex_dir = dir.join(Part::Lexical.folder());
        let lexical = if access == Access::ReadOnly {
            LexicalIndex::open_read_only(&lex_dir).with_context(|| {
                format!("cannot open the lexical index in {}", lex_dir.display())
            })?
        } else {
            match LexicalIndex::open(&lex_dir) {
                Ok(l) => l,
                Err(err @ (LexicalError::Corrupt(_) | LexicalError::SchemaMismatch(_)))
                    if writer =>
                {
                    tracing::warn!(target: "sg::index", "lexical index unusable ({err}); rebuilding it from the store");
                    index_dir::remove_part(dir, Part::Lexical)?;
                    rebuild = true;
                    LexicalIndex::open(&lex_dir)?
                }
                Err(err) => {
                    return Err(anyhow::Error::new(err).context(format!(
                        "cannot open the lexical index in {}",
                        lex_dir.display()
                    )));
                }
            }
        };
        let writer = if !writer {
            if access == Access::ReadWrite {
                tracing::info!(
                    target: "sg::index",
                    "another sg process is updating {}; this one reads the index without writing",
                    dir.display()
                );
            }
            None
        } else {
            match lexical.writer(64 << 20) {
                Ok(w) => Some(w),
                Err(LexicalError::Locked) => {
                    tracing::info!(
                        target: "sg::index",
                        "another sg process is updating {}; this one reads the index without writing",
                        dir.display()
                    );
                    None
                }
                Err(err) => return Err(err.into()),
            }
        };
        Ok((store, lexical, Mutex::new(writer), rebuild))
    }

    /// The canonical workspace root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The index folder.
    pub fn index_dir(&self) -> &Path {
        &self.dir
    }

    /// The folder of the embedding cache in use (`None` without an embedder).
    pub fn cache_dir(&self) -> Option<&Path> {
        self.cache.as_deref().map(EmbeddingCache::dir)
    }

    /// Whether the index was opened read-only (it cannot be written by this process at all).
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// The folders this index keeps for itself (its own folder and the embedding cache), canonical:
    /// discovery and the file watcher never enter them, even when they lie inside the workspace.
    pub fn private_dirs(&self) -> &[PathBuf] {
        &self.private
    }

    /// The configuration in force.
    pub fn config(&self) -> IndexConfig {
        self.cfg.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Replaces the configuration; the next [`Workspace::scan`] applies it (files now excluded are
    /// removed, files now included are added).
    pub fn set_config(&self, cfg: IndexConfig) {
        *self.cfg.write().unwrap_or_else(|e| e.into_inner()) = cfg;
    }

    /// Tries to take the writer role (after another process released it). Returns whether this
    /// process is now the writer.
    pub fn try_become_writer(&self) -> bool {
        if self.read_only {
            return false;
        }
        {
            let mut w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
            if w.is_some() {
                return true;
            }
            let mut lock = self.writer_lock.lock().unwrap_or_else(|e| e.into_inner());
            if lock.is_none() {
                *lock = index_dir::try_lock_writer(&self.dir).ok().flatten();
            }
            if lock.is_none() {
                return false;
            }
            match self.lexical.writer(64 << 20) {
                Ok(new) => *w = Some(new),
                Err(_) => {
                    *lock = None;
                    return false;
                }
            }
        }
        tracing::info!(target: "sg::index", "took over writing {}", self.dir.display());
        if let Err(err) = self.repair_lexical(false) {
            tracing::warn!(target: "sg::index", "cannot check the lexical index: {err:#}");
        }
        true
    }

    /// For a reader: picks up what the writing process committed since the last call (lexical segments,
    /// new vectors, symbols).
    pub fn refresh(&self) -> Result<()> {
        self.lexical.reload()?;
        self.load_vectors()?;
        *self.symbols.write().unwrap_or_else(|e| e.into_inner()) = None;
        *self.refs.write().unwrap_or_else(|e| e.into_inner()) = None;
        *self.imports.lock().unwrap_or_else(|e| e.into_inner()) = None;
        Ok(())
    }

    /// The metadata store (read access for searches and status).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The lexical index.
    pub fn lexical(&self) -> &LexicalIndex {
        &self.lexical
    }

    /// The embedder, if semantic search is on.
    pub fn embedder(&self) -> Option<&Arc<dyn Embedder>> {
        self.embedder.as_ref()
    }

    /// The fast embedder, if a fast tier is on.
    pub fn fast_embedder(&self) -> Option<&Arc<dyn Embedder>> {
        self.fast.as_ref()
    }

    /// The fast tier's vectors, one per chunk (a cheap snapshot).
    pub fn fast_vectors(&self) -> Arc<VectorSet> {
        self.fast_vectors
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Gives every chunk a fast-tier vector: from the embedding cache when it has one, else computed (a static
    /// model embeds thousands of chunks per second) and cached. Returns how many chunks got one.
    fn embed_fast_pending(&self) -> Result<usize> {
        let Some(fast) = self.fast.clone() else {
            return Ok(0);
        };
        let have = self.fast_vectors();
        let t = Instant::now();
        let txn = self.store.read_txn()?;
        let cache = self.cache.as_deref();
        let ctxn = cache.map(EmbeddingCache::read_txn).transpose()?;
        let model = fast.fingerprint();
        let mut cached: Vec<(ChunkId, Vec<f32>)> = Vec::new();
        let mut todo: Vec<(ChunkId, String, ContentHash)> = Vec::new();
        self.store.for_each_chunk_until(
            &txn,
            |id| have.contains(id),
            |id, rec| {
                let hit = match (cache, &ctxn) {
                    (Some(c), Some(t)) => c.get(t, model, rec.hash)?,
                    _ => None,
                };
                match hit {
                    Some(v) => cached.push((id, v.into_owned())),
                    None => todo.push((id, embedding_text(&rec.enclosing, &rec.text), rec.hash)),
                }
                Ok(true)
            },
        )?;
        drop(ctxn);
        drop(txn);
        let from_cache = cached.len();
        if !cached.is_empty() {
            self.insert_fast(fast.dims(), cached.into_iter());
        }
        if todo.is_empty() {
            return Ok(from_cache);
        }
        let texts: Vec<&str> = todo.iter().map(|(_, t, _)| t.as_str()).collect();
        let vecs = fast.embed_documents(&texts)?;
        self.cache_fast(model, todo.iter().map(|(_, _, h)| *h).zip(&vecs));
        self.insert_fast(fast.dims(), todo.iter().map(|(id, _, _)| *id).zip(vecs));
        tracing::info!(target: "sg::index", "fast tier: embedded {} chunks ({from_cache} from the cache) in {:?}", todo.len(), t.elapsed());
        Ok(todo.len() + from_cache)
    }

    /// Keeps fast-tier vectors in the embedding cache (under the fast model's fingerprint), so the next process
    /// reads them instead of tokenising every chunk again. Best effort: a cache that cannot be written (a
    /// read-only index) only costs that time again.
    fn cache_fast<'v>(
        &self,
        model: ModelFingerprint,
        items: impl Iterator<Item = (ContentHash, &'v Vec<f32>)>,
    ) {
        let items: Vec<(ContentHash, &[f32])> = items.map(|(h, v)| (h, v.as_slice())).collect();
        // (No writer check here: the caller may hold the writer's lock. The cache is shared and has its own.)
        let Some(cache) = self.cache.as_deref() else {
            return;
        };
        if items.is_empty() || self.read_only {
            return;
        }
        if let Err(err) = cache.put_many(model, &items) {
            tracing::debug!(target: "sg::index", "fast-tier vectors not cached: {err:#}");
        }
    }

    /// Drops the fast-tier vectors of chunks that no longer exist.
    fn prune_fast(&self, gone: &[ChunkId]) {
        if self.fast.is_none() || gone.is_empty() {
            return;
        }
        let mut guard = self.fast_vectors.write().unwrap_or_else(|e| e.into_inner());
        let fv = Arc::make_mut(&mut guard);
        for id in gone {
            fv.remove(*id);
        }
    }

    /// The current vector set (a cheap snapshot).
    pub fn vectors(&self) -> Arc<VectorSet> {
        self.vectors
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Whether this process holds the writer.
    pub fn is_writable(&self) -> bool {
        self.writer
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
    }

    /// Whether a full scan has completed at least once.
    pub fn is_scanned(&self) -> Result<bool> {
        let txn = self.store.read_txn()?;
        Ok(self.store.scan_complete(&txn)?)
    }

    /// Counts of files, chunks and embedded chunks.
    pub fn status(&self) -> Result<IndexStatus> {
        let txn = self.store.read_txn()?;
        let (files, chunks) = self.store.counts(&txn)?;
        Ok(IndexStatus {
            files,
            chunks,
            embedded: self.vectors().len() as u64,
            // Chunks only the fast tier covers.
            embedded_fast: (self.fast_vectors().len() as u64)
                .min(chunks)
                .saturating_sub(self.vectors().len() as u64),
            writable: self.is_writable(),
        })
    }

    fn writer(&self) -> Result<WriterGuard<'_>> {
        let guard = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        anyhow::ensure!(
            !self.read_only,
            "the index at {} is open read-only",
            self.dir.display()
        );
        anyhow::ensure!(
            guard.is_some(),
            "the index is being written by another sg process; try again when it finishes"
        );
        Ok(WriterGuard(guard))
    }

    /// Rebuilds the lexical index from the chunk records (after a crash between the two commits).
    fn rebuild_lexical(&self) -> Result<()> {
        let t = Instant::now();
        let mut w = self.writer()?;
        w.delete_all();
        let txn = self.store.read_txn()?;
        let files = self.store.files(&txn)?;
        let live: HashSet<ChunkId> = files
            .iter()
            .flat_map(|(_, r)| r.chunks.iter().copied())
            .collect();
        let paths: HashMap<FileId, String> =
            files.into_iter().map(|(id, r)| (id, r.path)).collect();
        let mut n = 0usize;
        let mut orphans = Vec::new();
        self.store.for_each_chunk(&txn, |id, rec| {
            if !live.contains(&id) {
                orphans.push(id);
                return Ok(());
            }
            let path = paths.get(&rec.file).map(String::as_str).unwrap_or("");
            w.add(&lexical_doc(id, &rec, path))
                .map_err(|_| crate::store::StoreError::Corrupt("lexical"))?;
            n += 1;
            Ok(())
        })?;
        drop(txn);
        w.commit()?;
        self.lexical.reload()?;
        let mut wtxn = self.store.write_txn()?;
        self.store.remove_chunks(&mut wtxn, &orphans)?;
        self.store.set_lexical_dirty(&mut wtxn, false)?;
        self.store.commit(wtxn)?;
        tracing::info!(target: "sg::index", "rebuilt the lexical index: {n} chunks in {:?}", t.elapsed());
        Ok(())
    }

    /// A read transaction of the cache, its errors told apart as the cache's.
    fn cache_txn<'c>(&self, cache: &'c EmbeddingCache) -> Result<heed::RoTxn<'c, heed::WithTls>> {
        cache.read_txn().map_err(|source| {
            CacheError {
                dir: cache.dir().display().to_string(),
                source,
            }
            .into()
        })
    }

    /// The cached vector of `hash`, if it is there and usable: a vector of another size, or with
    /// a value that is not a finite number (damaged bytes), counts as missing and is embedded again.
    fn cached_vector<'t>(
        cache: &EmbeddingCache,
        txn: &'t heed::RoTxn<'_, heed::WithTls>,
        model: crate::ids::ModelFingerprint,
        dims: usize,
        hash: ContentHash,
    ) -> std::result::Result<Option<std::borrow::Cow<'t, [f32]>>, crate::store::StoreError> {
        Ok(cache
            .get(txn, model, hash)?
            .filter(|v| v.len() == dims && v.iter().all(|x| x.is_finite())))
    }

    /// Loads the vectors of every chunk that has one in the cache for the current model.
    fn load_vectors(&self) -> Result<()> {
        let (Some(embedder), Some(cache)) = (&self.embedder, &self.cache) else {
            self.embed_fast_pending()?;
            return Ok(());
        };
        let model = embedder.fingerprint();
        let dims = embedder.dims();
        let mut vs = VectorSet::new(dims);
        let txn = self.store.read_txn()?;
        let ctxn = self.cache_txn(cache)?;
        let mut cache_err = None;
        self.store
            .for_each_chunk(&txn, |id, rec| {
                match Self::cached_vector(cache, &ctxn, model, dims, rec.embed_hash) {
                    Ok(Some(v)) => vs.insert(id, &v),
                    Ok(None) => {}
                    Err(e) => {
                        cache_err = Some(e);
                        return Err(crate::store::StoreError::Corrupt("embedding cache"));
                    }
                }
                Ok(())
            })
            .map_err(|e| match cache_err.take() {
                Some(source) => CacheError {
                    dir: cache.dir().display().to_string(),
                    source,
                }
                .into(),
                None => anyhow::Error::new(e),
            })?;
        drop(ctxn);
        drop(txn);
        *self.vectors.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(vs);
        self.embed_fast_pending()?;
        Ok(())
    }

    /// Reads and chunks one file from disk. `None` when it should not be indexed (with the reason logged).
    fn prepare_disk_file(&self, f: &vfs::FoundFile) -> Option<PreparedFile> {
        let text = match vfs::read_text(&self.root, &f.rel_path, self.config().max_file_size) {
            Ok(t) => t,
            Err(vfs::ReadError::Skipped(skip)) => {
                tracing::debug!(target: "sg::index", "skipping {}: {skip}", f.rel_path);
                return None;
            }
            Err(vfs::ReadError::Io(err)) => {
                tracing::warn!(target: "sg::index", "cannot read {}: {err}", f.rel_path);
                return None;
            }
        };
        Some(self.prepare_text(&f.rel_path, f.mtime_ns, &text))
    }

    fn prepare_text(&self, rel: &str, mtime_ns: u64, text: &str) -> PreparedFile {
        let language = vfs::detect_language(rel, text);
        let chunk_cfg = self
            .cfg
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .chunk
            .clone();
        let mut analysis = chunk::analyze(language, text, &chunk_cfg);
        let references = std::mem::take(&mut analysis.references);
        // Each unit's main-model text is its pack's: the pack's hash on every member, its text on the first.
        let mut embed: Vec<(ContentHash, Option<String>)> =
            vec![(ContentHash([0; 16]), None); analysis.chunks.len()];
        for (p, t) in pack_texts(&analysis, text) {
            let hash = ContentHash::of(t.as_bytes());
            for i in p.members.clone() {
                embed[i].0 = hash;
            }
            if p.members.len() > 1 {
                embed[p.members.start].1 = Some(t);
            }
        }
        let chunks = analysis
            .chunks
            .into_iter()
            .zip(embed)
            .map(|(c, (h, t))| (c, h, t))
            .collect();
        let symbols = analysis
            .symbols
            .into_iter()
            .map(|s| SymbolRecord {
                name: s.name,
                kind: s.kind,
                container: s.container,
                start_line: s.start_line,
                end_line: s.end_line,
            })
            .collect();
        PreparedFile {
            rel: rel.to_owned(),
            mtime_ns,
            size: text.len() as u64,
            hash: ContentHash::of(text.as_bytes()),
            language,
            chunks,
            symbols,
            references,
        }
    }

    /// Writes prepared files and removals in one LMDB transaction, then the lexical index.
    fn write_batch(
        &self,
        files: Vec<PreparedFile>,
        removed: &[String],
        stats: &mut UpdateStats,
    ) -> Result<Vec<ChunkId>> {
        if files.is_empty() && removed.is_empty() {
            return Ok(Vec::new());
        }
        let mut w = self.writer()?;
        let mut txn = self.store.write_txn()?;
        let mut new_chunks = Vec::new();
        let mut dropped = Vec::new();
        let mut docs: Vec<(ChunkId, ChunkRecord, String)> = Vec::new();
        let mut sym_updates: Vec<(FileId, String, Option<Vec<SymbolRecord>>)> = Vec::new();
        let mut ref_updates: Vec<(FileId, Option<Vec<Reference>>)> = Vec::new();
        for rel in removed {
            if let Some(id) = self.store.file_id(&txn, rel)? {
                dropped.extend(self.store.remove_file_record(&mut txn, id)?);
                w.delete_file(id.0);
                stats.files_removed += 1;
                sym_updates.push((id, rel.clone(), None));
                ref_updates.push((id, None));
            }
        }
        for pf in files {
            let fid = self.store.file_id_or_alloc(&mut txn, &pf.rel)?;
            // Old chunk records stay until the lexical index stops returning them (below), so a
            // search between the two commits still finds the file.
            if let Some(old) = self.store.file(&txn, fid)? {
                dropped.extend(old.chunks);
            }
            w.delete_file(fid.0);
            let first = self
                .store
                .alloc_chunk_ids(&mut txn, pf.chunks.len() as u32)?;
            let mut ids = Vec::with_capacity(pf.chunks.len());
            for (i, (c, embed_hash, embed_text)) in pf.chunks.into_iter().enumerate() {
                let id = ChunkId(first + i as u32);
                let hash = ContentHash::of(embedding_text(&c.enclosing, &c.text).as_bytes());
                let rec = ChunkRecord {
                    file: fid,
                    start_line: c.start_line,
                    end_line: c.end_line,
                    start_byte: c.start_byte,
                    end_byte: c.end_byte,
                    kind: c.kind,
                    language: pf.language,
                    symbol: c.symbol,
                    enclosing: c.enclosing,
                    hash,
                    text: c.text,
                    embed_hash,
                    embed_text,
                };
                self.store.put_chunk(&mut txn, id, &rec)?;
                ids.push(id);
                docs.push((id, rec, pf.rel.clone()));
            }
            stats.chunks_written += ids.len();
            stats.files_changed += 1;
            new_chunks.extend_from_slice(&ids);
            self.store.put_symbols(&mut txn, fid, &pf.symbols)?;
            sym_updates.push((fid, pf.rel.clone(), Some(pf.symbols)));
            self.store.put_refs(&mut txn, fid, &pf.references)?;
            ref_updates.push((fid, Some(pf.references)));
            let rec = FileRecord {
                path: pf.rel,
                mtime_ns: pf.mtime_ns,
                size: pf.size,
                hash: pf.hash,
                chunks: ids,
            };
            self.store.put_file(&mut txn, fid, &rec)?;
        }
        self.store.set_lexical_dirty(&mut txn, true)?;
        self.store.commit(txn)?;
        for (id, rec, path) in &docs {
            w.add(&lexical_doc(*id, rec, path))?;
        }
        w.commit()?;
        self.lexical.reload()?;
        let mut txn = self.store.write_txn()?;
        self.store.remove_chunks(&mut txn, &dropped)?;
        self.store.set_lexical_dirty(&mut txn, false)?;
        self.store.commit(txn)?;
        if let Some(table) = self
            .refs
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .as_mut()
        {
            let t = Arc::make_mut(table);
            for (fid, refs) in ref_updates {
                match refs {
                    Some(r) => t.set_file(fid, &r),
                    None => t.remove_file(fid),
                }
            }
        }
        let sym_updates_paths: Vec<(FileId, String, bool)> = sym_updates
            .iter()
            .map(|(f, p, s)| (*f, p.clone(), s.is_some()))
            .collect();
        if let Some(table) = self
            .symbols
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .as_mut()
        {
            let t = Arc::make_mut(table);
            for (fid, path, syms) in sym_updates.drain(..) {
                match syms {
                    Some(s) => t.set_file(fid, &path, s),
                    None => t.remove_file(fid),
                }
            }
        }
        if let Some(g) = self
            .imports
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_mut()
        {
            for (_, path, syms) in &sym_updates_paths {
                if !syms {
                    g.remove_file(path);
                }
            }
            let mut by_file: HashMap<&str, FileParts<'_>> = HashMap::new();
            for (_, rec, path) in &docs {
                let e = by_file
                    .entry(path.as_str())
                    .or_insert_with(|| (rec.language, Vec::new()));
                e.1.push((rec.start_line, rec.text.as_str()));
            }
            for (path, (lang, mut parts)) in by_file {
                parts.sort_by_key(|p| p.0);
                let text: Vec<&str> = parts.into_iter().map(|p| p.1).collect();
                g.set_file(path, lang, &text.join("\n"));
            }
        }
        if let Some(fast) = &self.fast {
            // New chunks are searchable by meaning at once through the fast tier.
            let texts: Vec<String> = docs
                .iter()
                .map(|(_, rec, _)| embedding_text(&rec.enclosing, &rec.text))
                .collect();
            let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
            let vecs = fast.embed_documents(&refs)?;
            self.cache_fast(
                fast.fingerprint(),
                docs.iter().map(|(_, rec, _)| rec.hash).zip(&vecs),
            );
            self.insert_fast(fast.dims(), docs.iter().map(|(id, _, _)| *id).zip(vecs));
        }
        if !dropped.is_empty() {
            {
                let mut guard = self.vectors.write().unwrap_or_else(|e| e.into_inner());
                let vs = Arc::make_mut(&mut guard);
                for id in &dropped {
                    vs.remove(*id);
                }
            }
            self.prune_fast(&dropped);
        }
        Ok(new_chunks)
    }

    /// Brings the index up to date with the files on disk: new, changed and deleted files are
    /// re-chunked, then new chunks are embedded (cache hits cost nothing). Lexical search sees every
    /// file once the scan phase ends; vectors follow batch by batch.
    pub fn update(&self, progress: &dyn Progress) -> Result<UpdateStats> {
        let mut stats = self.scan(progress)?;
        if self.config().embed {
            let t = Instant::now();
            stats.chunks_embedded = self.embed_pending(progress)?;
            stats.embed_ms = t.elapsed().as_millis() as u64;
        }
        Ok(stats)
    }

    /// The first half of [`Workspace::update`]: files and the lexical index, no embeddings.
    pub fn scan(&self, progress: &dyn Progress) -> Result<UpdateStats> {
        drop(self.writer()?);
        let t = Instant::now();
        let private = self.private.clone();
        let found = vfs::discover_filtered(&self.root, &self.config(), move |p| {
            !private.iter().any(|d| p.starts_with(d))
        })?;
        let mut stats = UpdateStats {
            files_seen: found.len(),
            ..Default::default()
        };
        let txn = self.store.read_txn()?;
        let known: HashMap<String, FileRecord> = self
            .store
            .files(&txn)?
            .into_iter()
            .map(|(_, r)| (r.path.clone(), r))
            .collect();
        drop(txn);
        let found_paths: HashSet<&str> = found.iter().map(|f| f.rel_path.as_str()).collect();
        let removed: Vec<String> = known
            .keys()
            .filter(|p| !found_paths.contains(p.as_str()))
            .cloned()
            .collect();
        let todo: Vec<&vfs::FoundFile> = found
            .iter()
            .filter(|f| match known.get(&f.rel_path) {
                Some(r) => r.mtime_ns != f.mtime_ns || r.size != f.size,
                None => true,
            })
            .collect();
        progress.begin(Phase::Scan, todo.len() as u64);
        let mut done = 0u64;
        let mut first = true;
        for batch in todo.chunks(512) {
            let prepared: Vec<Option<PreparedFile>> = batch
                .par_iter()
                .map(|f| self.prepare_disk_file(f))
                .collect();
            let mut to_write = Vec::new();
            let mut to_remove: Vec<String> = if first { removed.clone() } else { Vec::new() };
            first = false;
            for (f, p) in batch.iter().zip(prepared) {
                match p {
                    Some(p) => {
                        // Same content under a new mtime: nothing to re-chunk.
                        if let Some(old) = known.get(&p.rel).filter(|o| o.hash == p.hash) {
                            let mut txn = self.store.write_txn()?;
                            if let Some(fid) = self.store.file_id(&txn, &p.rel)? {
                                let rec = FileRecord {
                                    mtime_ns: p.mtime_ns,
                                    ..old.clone()
                                };
                                self.store.put_file(&mut txn, fid, &rec)?;
                            }
                            self.store.commit(txn)?;
                        } else {
                            to_write.push(p);
                        }
                    }
                    None => {
                        stats.files_skipped += 1;
                        if known.contains_key(&f.rel_path) {
                            to_remove.push(f.rel_path.clone());
                        }
                    }
                }
            }
            self.write_batch(to_write, &to_remove, &mut stats)?;
            done += batch.len() as u64;
            progress.report(done);
        }
        if first && !removed.is_empty() {
            self.write_batch(Vec::new(), &removed, &mut stats)?;
        }
        let mut txn = self.store.write_txn()?;
        self.store.set_scan_complete(&mut txn, true)?;
        self.store.commit(txn)?;
        progress.end();
        tracing::info!(
            target: "sg::index",
            "scan: {} files seen, {} changed, {} removed in {:?}",
            stats.files_seen, stats.files_changed, stats.files_removed, t.elapsed()
        );
        stats.scan_ms = t.elapsed().as_millis() as u64;
        Ok(stats)
    }

    /// Indexes the text of one file given by the caller (an editor buffer or a watcher event), or removes
    /// the file when `text` is `None`. Returns the new chunk ids.
    pub fn update_file(&self, rel: &str, text: Option<&str>) -> Result<Vec<ChunkId>> {
        let mut stats = UpdateStats::default();
        match text {
            Some(text) => {
                let p = self.prepare_text(rel, 0, text);
                self.write_batch(vec![p], &[], &mut stats)
            }
            None => self.write_batch(Vec::new(), &[rel.to_owned()], &mut stats),
        }
    }

    /// Texts the main model has yet to embed, as (id, embedding text, hash), deduplicated by hash: one per
    /// pack (its first member's id and the pack's text). Members of a pack pick up its vector from the cache
    /// once it is embedded ([`Workspace::load_vectors`]). At most `limit` texts, in chunk order, and whether
    /// more wait. With `texts` false the texts are left empty (for counting: no text is copied).
    fn pending_embeddings(
        &self,
        limit: Option<usize>,
        texts: bool,
    ) -> Result<(Vec<PendingText>, bool)> {
        let (Some(embedder), Some(cache)) = (&self.embedder, &self.cache) else {
            return Ok((Vec::new(), false));
        };
        let limit = limit.unwrap_or(usize::MAX);
        let mut more = false;
        let model = embedder.fingerprint();
        let dims = embedder.dims();
        let vs = self.vectors();
        let txn = self.store.read_txn()?;
        let ctxn = self.cache_txn(cache)?;
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        let mut hits = Vec::new();
        // Units waiting for each text (a pack's members all wait for its one vector).
        let mut waiting: HashMap<ContentHash, Vec<ChunkId>> = HashMap::new();
        self.store.for_each_chunk_until(
            &txn,
            |id| vs.contains(id),
            |id, rec| {
                if out.len() >= limit {
                    more = true;
                    return Ok(false);
                }
                if let Some(v) = Self::cached_vector(cache, &ctxn, model, dims, rec.embed_hash)? {
                    hits.push((id, v.into_owned()));
                    return Ok(true);
                }
                waiting.entry(rec.embed_hash).or_default().push(id);
                if rec.embed_text.is_none() && rec.embed_hash != rec.hash {
                    // A member of a pack: its first member carries the text.
                    return Ok(true);
                }
                let text = match &rec.embed_text {
                    _ if !texts => String::new(),
                    Some(t) => t.clone(),
                    None => embedding_text(&rec.enclosing, &rec.text),
                };
                if seen.insert(rec.embed_hash) {
                    out.push(PendingText {
                        id,
                        text,
                        hash: rec.embed_hash,
                        units: Vec::new(),
                    });
                }
                Ok(true)
            },
        )?;
        for p in &mut out {
            p.units = waiting.remove(&p.hash).unwrap_or_else(|| vec![p.id]);
        }
        drop(txn);
        drop(ctxn);
        if !hits.is_empty() {
            let mut guard = self.vectors.write().unwrap_or_else(|e| e.into_inner());
            let vs = Arc::make_mut(&mut guard);
            for (id, v) in &hits {
                vs.insert(*id, v);
            }
        }
        Ok((out, more))
    }

    /// How many chunks still wait for the main model, after picking up every vector the cache already has
    /// (0 without a model).
    pub fn pending_count(&self) -> Result<usize> {
        // Fully embedded (the common case of a warm search): no pass over every chunk record.
        if self.embedder.is_none() || self.vectors().len() as u64 >= self.status()?.chunks {
            return Ok(0);
        }
        Ok(self
            .pending_embeddings(None, false)?
            .0
            .iter()
            .map(|p| p.units.len())
            .sum())
    }

    /// Embeds every chunk that has no vector yet, in batches written to the cache as they finish (a
    /// killed process loses at most one batch). Returns how many chunks the model embedded.
    pub fn embed_pending(&self, progress: &dyn Progress) -> Result<usize> {
        Ok(self.embed_some(progress, &|| false, None)?.0)
    }

    /// Like [`Workspace::embed_pending`], but stops between batches when `interrupt` returns true.
    /// Returns the number of chunks embedded and whether nothing is left to embed.
    pub fn embed_pending_with(
        &self,
        progress: &dyn Progress,
        interrupt: &dyn Fn() -> bool,
    ) -> Result<(usize, bool)> {
        self.embed_some(progress, interrupt, Some(EMBED_SLICE))
    }

    /// Embeds up to `limit` pending texts (all without a limit), stopping between batches when `interrupt`
    /// says so. Returns the chunks embedded and whether nothing is left.
    fn embed_some(
        &self,
        progress: &dyn Progress,
        interrupt: &dyn Fn() -> bool,
        limit: Option<usize>,
    ) -> Result<(usize, bool)> {
        // The fast tier first: every new chunk is searchable by meaning at once.
        self.embed_fast_pending()?;
        let (Some(embedder), Some(cache)) = (self.embedder.clone(), self.cache.clone()) else {
            return Ok((0, true));
        };
        let model = embedder.fingerprint();
        let (mut pending, more) = self.pending_embeddings(limit, true)?;
        if pending.is_empty() {
            // Duplicates of cached texts may still lack vectors in memory.
            if self.vectors().len() as u64 != self.status()?.chunks {
                self.load_vectors()?;
            }
            self.build_ann_in_background();
            return Ok((0, true));
        }
        let t = Instant::now();
        pending.sort_by_key(|p| p.text.len());
        // Progress counts units (what status calls chunks): a pack's vector covers all its members.
        let total: usize = pending.iter().map(|p| p.units.len()).sum();
        progress.begin(Phase::Embed, total as u64);
        let mut done = 0usize;
        let mut texts_done = 0usize;
        let batch_size = self.config().embed_batch.max(1);
        let mut complete = true;
        for batch in pending.chunks(batch_size) {
            if interrupt() {
                complete = false;
                break;
            }
            let texts: Vec<&str> = batch.iter().map(|p| p.text.as_str()).collect();
            let vecs = embedder.embed_documents(&texts)?;
            let items: Vec<(ContentHash, &[f32])> = batch
                .iter()
                .zip(&vecs)
                .map(|(p, v)| (p.hash, v.as_slice()))
                .collect();
            cache.put_many(model, &items)?;
            {
                let mut guard = self.vectors.write().unwrap_or_else(|e| e.into_inner());
                let vs = Arc::make_mut(&mut guard);
                for (p, v) in batch.iter().zip(&vecs) {
                    for id in &p.units {
                        vs.insert(*id, v);
                    }
                }
            }
            texts_done += batch.len();
            done += batch.iter().map(|p| p.units.len()).sum::<usize>();
            progress.report(done as u64);
        }
        progress.end();
        tracing::info!(target: "sg::index", "embedded {done} chunks ({texts_done} texts) in {:?}", t.elapsed());
        if complete && !more {
            // Chunks sharing a hash with an embedded one pick up the cached vector (a pass over every
            // record, so once the backlog is done rather than after every slice).
            self.load_vectors()?;
            self.build_ann_in_background();
        }
        Ok((done, complete && !more))
    }

    /// Whether `vs` is large enough for the approximate tier.
    pub(crate) fn ann_active(&self, vs: &VectorSet) -> bool {
        vs.len() > self.config().ann_threshold
    }

    /// The approximate index: opened on first use, created only when `create` (the writer building it).
    fn ann(&self, create: bool) -> Result<Option<Arc<AnnIndex>>> {
        let mut guard = self.ann.lock().unwrap_or_else(|e| e.into_inner());
        if guard.is_none() {
            let dir = self.dir.join("ann");
            if !create && !AnnIndex::exists(&dir) {
                return Ok(None);
            }
            let access = if self.read_only {
                Access::ReadOnly
            } else {
                Access::ReadWrite
            };
            let ann = match AnnIndex::open_with(&dir, access) {
                Ok(ann) => ann,
                Err(err) if create && self.is_writable() && is_lmdb_damage(&err) => {
                    // Derived data: rebuilt from the vectors by the build that asked for it.
                    tracing::warn!(target: "sg::ann", "the approximate index is damaged ({err:#}); rebuilding it");
                    index_dir::remove_part(&self.dir, Part::Ann)?;
                    AnnIndex::open(&dir)?
                }
                Err(err) => return Err(err),
            };
            *guard = Some(Arc::new(ann));
        }
        Ok(guard.clone())
    }

    /// The `k` chunks most similar to `query`, best first, scored exactly: an exact scan below the
    /// approximate threshold (or while nothing is built), otherwise the approximate tier's rescored
    /// candidates plus an exact scan of the chunks embedded since its last build.
    pub fn vector_top_k(&self, vs: &VectorSet, query: &[f32], k: usize) -> Vec<(ChunkId, f32)> {
        if self.ann_active(vs)
            && let Some(model) = self.embedder.as_ref().map(|e| e.fingerprint())
        {
            match self
                .ann(false)
                .and_then(|a| a.map(|a| a.search(vs, model, query, k)).transpose())
            {
                Ok(Some(Some(hits))) => return hits,
                Ok(_) => {}
                Err(err) => {
                    tracing::warn!(target: "sg::ann", "approximate search failed ({err:#}); scanning exactly")
                }
            }
        }
        vs.top_k(query, k)
    }

    /// The approximate tier's state, when the workspace is above the threshold.
    pub fn ann_status(&self) -> Result<Option<AnnStatus>> {
        let vs = self.vectors();
        let Some(model) = self.embedder.as_ref().map(|e| e.fingerprint()) else {
            return Ok(None);
        };
        if !self.ann_active(&vs) {
            return Ok(None);
        }
        Ok(Some(match self.ann(false)? {
            Some(ann) => ann.status(&vs, model)?,
            None => AnnStatus {
                recent: vs.len() as u64,
                ..Default::default()
            },
        }))
    }

    /// Brings the approximate tier fully up to date now (waiting for a background build first), when
    /// the workspace is above the threshold and this process writes the index. Returns what the build
    /// did, or `None` when there is nothing to build.
    pub fn build_ann(&self) -> Result<Option<BuildReport>> {
        self.join_ann_job();
        let vs = self.vectors();
        let Some(model) = self.embedder.as_ref().map(|e| e.fingerprint()) else {
            return Ok(None);
        };
        if !self.ann_active(&vs) || !self.is_writable() {
            return Ok(None);
        }
        let ann = self.ann(true)?.expect("created on demand");
        Ok(Some(ann.build_waiting(&vs, model)?))
    }

    /// Starts a background build of the approximate tier when the workspace is above the threshold and
    /// enough changed since the last build (see [`AnnStatus::wants_build`]). One build at a time; it
    /// runs on a small thread pool of its own so queries keep their threads.
    fn build_ann_in_background(&self) {
        let vs = self.vectors();
        let Some(model) = self.embedder.as_ref().map(|e| e.fingerprint()) else {
            return;
        };
        if !self.ann_active(&vs) || !self.is_writable() {
            return;
        }
        let mut job = self.ann_job.lock().unwrap_or_else(|e| e.into_inner());
        if job.as_ref().is_some_and(|j| !j.is_finished()) {
            return;
        }
        let ann = match self.ann(true) {
            Ok(Some(a)) => a,
            Ok(None) => return,
            Err(err) => {
                tracing::warn!(target: "sg::ann", "cannot open the approximate index: {err:#}");
                return;
            }
        };
        match ann.status(&vs, model) {
            Ok(st) if st.wants_build() && !st.building => {}
            Ok(_) => return,
            Err(err) => {
                tracing::warn!(target: "sg::ann", "cannot read the approximate index: {err:#}");
                return;
            }
        }
        let threads = std::thread::available_parallelism()
            .map(|n| n.get() / 2)
            .unwrap_or(1)
            .max(1);
        let spawned = std::thread::Builder::new()
            .name("sg-ann-build".into())
            .spawn(move || {
                let run = || ann.build(&vs, model);
                let result = match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
                    Ok(pool) => pool.install(run),
                    Err(_) => run(),
                };
                if let Err(err) = result {
                    tracing::warn!(target: "sg::ann", "approximate index build stopped: {err:#}");
                }
            });
        match spawned {
            Ok(handle) => *job = Some(handle),
            Err(err) => {
                tracing::warn!(target: "sg::ann", "cannot start the approximate index build: {err}")
            }
        }
    }

    /// Files that `path` imports, then files that import it (at most `limit`): the import graph is
    /// read from the store on first use, then kept up to date by writes.
    pub fn related_files(&self, path: &str, limit: usize) -> Result<Vec<String>> {
        let mut guard = self.imports.lock().unwrap_or_else(|e| e.into_inner());
        if guard.is_none() {
            *guard = Some(self.load_import_graph()?);
        }
        Ok(guard
            .as_mut()
            .map(|g| g.related(path, limit))
            .unwrap_or_default())
    }

    fn load_import_graph(&self) -> Result<ImportGraph> {
        let txn = self.store.read_txn()?;
        let paths: HashMap<FileId, String> = self
            .store
            .files(&txn)?
            .into_iter()
            .map(|(id, r)| (id, r.path))
            .collect();
        let mut by_file: HashMap<FileId, (Language, Vec<(u32, String)>)> = HashMap::new();
        self.store.for_each_chunk(&txn, |_, rec| {
            let e = by_file
                .entry(rec.file)
                .or_insert_with(|| (rec.language, Vec::new()));
            e.1.push((rec.start_line, rec.text));
            Ok(())
        })?;
        let mut g = ImportGraph::default();
        for (fid, (lang, mut parts)) in by_file {
            let Some(path) = paths.get(&fid) else {
                continue;
            };
            parts.sort_by_key(|p| p.0);
            let text: Vec<&str> = parts.iter().map(|p| p.1.as_str()).collect();
            g.set_file(path, lang, &text.join("\n"));
        }
        Ok(g)
    }

    /// Which files use which name (loaded from the store on first use, then kept up to date by writes).
    pub fn ref_table(&self) -> Result<Arc<RefTable>> {
        if let Some(t) = self.refs.read().unwrap_or_else(|e| e.into_inner()).as_ref() {
            return Ok(t.clone());
        }
        let mut guard = self.refs.write().unwrap_or_else(|e| e.into_inner());
        if let Some(t) = guard.as_ref() {
            return Ok(t.clone());
        }
        let txn = self.store.read_txn()?;
        let mut table = RefTable::default();
        self.store
            .for_each_refs(&txn, |fid, refs| table.set_file(fid, &refs))?;
        let table = Arc::new(table);
        *guard = Some(table.clone());
        Ok(table)
    }

    /// The references of one indexed file, in file order.
    pub fn references_of(&self, file: FileId) -> Result<Vec<Reference>> {
        let txn = self.store.read_txn()?;
        Ok(self.store.refs_of(&txn, file)?)
    }

    /// The symbol table (loaded from the store on first use, then kept up to date by writes).
    pub fn symbol_table(&self) -> Result<Arc<SymbolTable>> {
        if let Some(t) = self
            .symbols
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            return Ok(t.clone());
        }
        let mut guard = self.symbols.write().unwrap_or_else(|e| e.into_inner());
        if let Some(t) = guard.as_ref() {
            return Ok(t.clone());
        }
        let txn = self.store.read_txn()?;
        let paths: HashMap<FileId, String> = self
            .store
            .files(&txn)?
            .into_iter()
            .map(|(id, r)| (id, r.path))
            .collect();
        let mut table = SymbolTable::default();
        self.store.for_each_symbols(&txn, |fid, syms| {
            if let Some(p) = paths.get(&fid) {
                table.set_file(fid, p, syms);
            }
        })?;
        let table = Arc::new(table);
        *guard = Some(table.clone());
        Ok(table)
    }
}
