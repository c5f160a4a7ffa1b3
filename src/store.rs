//! Persistent metadata in LMDB (heed): file records, chunk records with their text, index state, and the
//! embedding cache shared by every workspace.
//!
//! The LMDB environment is the source of truth of a workspace index. The tantivy index beside it is
//! derived data: when the two disagree (a process killed between the two commits) the lexical index is
//! rebuilt from the chunk records kept here, which hold each chunk's text.

use std::borrow::Cow;
use std::path::Path;

use heed::byteorder::BE;
use heed::types::{Bytes, Str, U32};
use heed::{CommitOrAbort, Database, Env, EnvOpenOptions, RoTxn, RwTxn};

use crate::chunk::ChunkKind;
use crate::ids::{ChunkId, ContentHash, FileId, ModelFingerprint};
use crate::syntax::Language;

/// Version of the on-disk layout; a different value in an existing index means it is rebuilt.
pub const SCHEMA_VERSION: u32 = 2;

/// Errors of the metadata store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// LMDB reported an error (I/O, map full, a corrupt file...).
    #[error("lmdb: {0}")]
    Lmdb(#[from] heed::Error),
    /// A record could not be decoded: the index is damaged or from another version.
    #[error("corrupt record in {0}")]
    Corrupt(&'static str),
    /// The folder could not be created or opened.
    #[error("cannot open index folder {path}: {source}")]
    Io {
        /// The folder.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// Result alias of this module.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// What the index knows of one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileRecord {
    /// Path relative to the workspace root, with `/` separators.
    pub path: String,
    /// Modification time in nanoseconds since the epoch (0 for unsaved buffers).
    pub mtime_ns: u64,
    /// Size in bytes of the indexed text.
    pub size: u64,
    /// Hash of the indexed text.
    pub hash: ContentHash,
    /// The file's chunks, in file order.
    pub chunks: Vec<ChunkId>,
}

/// One chunk as stored: everything needed to show it and to rebuild the lexical index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChunkRecord {
    /// The file holding the chunk.
    pub file: FileId,
    /// First line, 1-based.
    pub start_line: u32,
    /// Last line, 1-based, inclusive.
    pub end_line: u32,
    /// Byte offset of the start in the file.
    pub start_byte: u32,
    /// Byte offset of the end in the file (exclusive).
    pub end_byte: u32,
    /// Syntactic kind.
    pub kind: ChunkKind,
    /// Language of the file.
    pub language: Language,
    /// Name of the defined symbol, if any.
    pub symbol: Option<String>,
    /// Enclosing symbols, e.g. `impl Server > fn handle`.
    pub enclosing: String,
    /// Hash of the text that is embedded (the embedding cache key).
    pub hash: ContentHash,
    /// The chunk's source text.
    pub text: String,
    /// Other definitions packed into the chunk.
    pub also: Vec<String>,
}

/// A named definition of a file, for symbol search.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SymbolRecord {
    /// The name.
    pub name: String,
    /// Its kind.
    pub kind: ChunkKind,
    /// The enclosing definition's name, if any.
    pub container: Option<String>,
    /// First line, 1-based.
    pub start_line: u32,
    /// Last line, 1-based, inclusive.
    pub end_line: u32,
}

/// Runs every record decoder on `bytes` (file, chunk, symbols), in that order, and says which
/// accepted them. For the property tests and fuzz targets: a decoder must answer `None` to bad bytes,
/// never panic, and never allocate more than the bytes can hold.
#[doc(hidden)]
pub fn decode_any(bytes: &[u8]) -> [bool; 3] {
    [
        FileRecord::decode(bytes).is_some(),
        ChunkRecord::decode(bytes).is_some(),
        decode_symbols(bytes).is_some(),
    ]
}

/// The fewest bytes one encoded symbol takes (three empty strings and two lines).
const MIN_SYMBOL_BYTES: usize = 5 * 4;

fn decode_symbols(b: &[u8]) -> Option<Vec<SymbolRecord>> {
    let mut d = Dec(b);
    let n = d.u32()? as usize;
    // A damaged count must not reserve more than the bytes left could hold.
    let mut out = Vec::with_capacity(n.min(d.0.len() / MIN_SYMBOL_BYTES));
    for _ in 0..n {
        let name = d.str()?.to_owned();
        let kind = ChunkKind::from_name(d.str()?)?;
        let container = d.str()?;
        let container = (!container.is_empty()).then(|| container.to_owned());
        out.push(SymbolRecord {
            name,
            kind,
            container,
            start_line: d.u32()?,
            end_line: d.u32()?,
        });
    }
    Some(out)
}

struct Enc(Vec<u8>);

impl Enc {
    fn u32(&mut self, v: u32) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn u64(&mut self, v: u64) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn bytes(&mut self, v: &[u8]) -> &mut Self {
        self.u32(v.len() as u32);
        self.0.extend_from_slice(v);
        self
    }
    fn str(&mut self, v: &str) -> &mut Self {
        self.bytes(v.as_bytes())
    }
}

struct Dec<'a>(&'a [u8]);

impl<'a> Dec<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Some(head)
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }
    fn str(&mut self) -> Option<&'a str> {
        std::str::from_utf8(self.bytes()?).ok()
    }
    fn hash(&mut self) -> Option<ContentHash> {
        Some(ContentHash(self.take(16)?.try_into().ok()?))
    }
}

impl FileRecord {
    fn encode(&self) -> Vec<u8> {
        let mut e = Enc(Vec::with_capacity(
            64 + self.path.len() + 4 * self.chunks.len(),
        ));
        e.str(&self.path).u64(self.mtime_ns).u64(self.size);
        e.0.extend_from_slice(&self.hash.0);
        e.u32(self.chunks.len() as u32);
        for c in &self.chunks {
            e.u32(c.0);
        }
        e.0
    }

    fn decode(bytes: &[u8]) -> Option<Self> {
        let mut d = Dec(bytes);
        let path = d.str()?.to_owned();
        let mtime_ns = d.u64()?;
        let size = d.u64()?;
        let hash = d.hash()?;
        let n = d.u32()? as usize;
        // A damaged count must not reserve more than the bytes left could hold.
        let mut chunks = Vec::with_capacity(n.min(d.0.len() / 4));
        for _ in 0..n {
            chunks.push(ChunkId(d.u32()?));
        }
        Some(FileRecord {
            path,
            mtime_ns,
            size,
            hash,
            chunks,
        })
    }
}

impl ChunkRecord {
    fn encode(&self) -> Vec<u8> {
        let mut e = Enc(Vec::with_capacity(96 + self.text.len()));
        e.u32(self.file.0)
            .u32(self.start_line)
            .u32(self.end_line)
            .u32(self.start_byte)
            .u32(self.end_byte)
            .str(self.kind.name())
            .str(self.language.name())
            .str(self.symbol.as_deref().unwrap_or(""))
            .str(&self.enclosing);
        e.0.extend_from_slice(&self.hash.0);
        e.str(&self.text);
        e.str(&self.also.join("\n"));
        e.0
    }

    fn decode(bytes: &[u8]) -> Option<Self> {
        let mut d = Dec(bytes);
        let file = FileId(d.u32()?);
        let start_line = d.u32()?;
        let end_line = d.u32()?;
        let start_byte = d.u32()?;
        let end_byte = d.u32()?;
        let kind = ChunkKind::from_name(d.str()?)?;
        let language = Language::from_name(d.str()?)?;
        let symbol = d.str()?;
        let symbol = (!symbol.is_empty()).then(|| symbol.to_owned());
        let enclosing = d.str()?.to_owned();
        let hash = d.hash()?;
        let text = d.str()?.to_owned();
        let also = d.str()?;
        let also = if also.is_empty() {
            Vec::new()
        } else {
            also.split('\n').map(str::to_owned).collect()
        };
        Some(ChunkRecord {
            file,
            start_line,
            end_line,
            start_byte,
            end_byte,
            kind,
            language,
            symbol,
            enclosing,
            hash,
            text,
            also,
        })
    }
}

type Id32 = U32<BE>;

/// Keys of the `meta` database.
mod key {
    pub const SCHEMA: &str = "schema_version";
    pub const NEXT_FILE: &str = "next_file_id";
    pub const NEXT_CHUNK: &str = "next_chunk_id";
    pub const LEXICAL_DIRTY: &str = "lexical_dirty";
    pub const COMPLETE: &str = "scan_complete";
}

pub(crate) fn open_env(dir: &Path, map_size: usize, max_dbs: u32) -> Result<Env> {
    std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
        path: dir.display().to_string(),
        source,
    })?;
    // SAFETY: the environment is opened once per process per folder (the caller keeps one `Store`),
    // and LMDB's own locking coordinates with other processes.
    let env = unsafe {
        EnvOpenOptions::new()
            .map_size(map_size)
            .max_dbs(max_dbs)
            .max_readers(126)
            .open(dir)?
    };
    Ok(env)
}

/// The metadata store of one workspace index.
pub struct Store {
    env: Env,
    meta: Database<'static, Str, Bytes>,
    paths: Database<'static, Str, Id32>,
    files: Database<'static, Id32, Bytes>,
    chunks: Database<'static, Id32, Bytes>,
    symbols: Database<'static, Id32, Bytes>,
}

/// The databases of a [`Store`], created together.
type StoreDbs<'a> = (
    Database<'a, Str, Bytes>,
    Database<'a, Str, Id32>,
    Database<'a, Id32, Bytes>,
    Database<'a, Id32, Bytes>,
    Database<'a, Id32, Bytes>,
);

impl Store {
    /// Opens (creating if needed) the store in `dir`. An index written by another schema version is
    /// cleared; the returned flag says so.
    pub fn open(dir: &Path) -> Result<(Self, bool)> {
        let env = open_env(dir, 64 << 30, 8)?;
        let wtxn = env.write_txn()?;
        let (meta, paths, files, chunks, symbols) = env
            .create_databases_and_commit(
                wtxn,
                |dbo, wtxn| -> Result<CommitOrAbort<StoreDbs<'_>, ()>, heed::Error> {
                    Ok(CommitOrAbort::Commit((
                        dbo.create_database(wtxn, Some("meta"))?,
                        dbo.create_database(wtxn, Some("paths"))?,
                        dbo.create_database(wtxn, Some("files"))?,
                        dbo.create_database(wtxn, Some("chunks"))?,
                        dbo.create_database(wtxn, Some("symbols"))?,
                    )))
                },
            )?
            .unwrap_commit();
        let store = Store {
            env,
            meta,
            paths,
            files,
            chunks,
            symbols,
        };
        let mut wtxn = store.env.write_txn()?;
        let version = store.meta_u64(&wtxn, key::SCHEMA)?;
        let reset = match version {
            Some(v) if v == SCHEMA_VERSION as u64 => false,
            Some(_) => {
                store.clear_all(&mut wtxn)?;
                true
            }
            None => false,
        };
        store.set_meta_u64(&mut wtxn, key::SCHEMA, SCHEMA_VERSION as u64)?;
        wtxn.commit()?;
        Ok((store, reset))
    }

    /// The LMDB environment, for transactions.
    pub fn env(&self) -> &Env {
        &self.env
    }

    /// Starts a read transaction (a consistent snapshot).
    pub fn read_txn(&self) -> Result<RoTxn<'_, heed::WithTls>> {
        Ok(self.env.read_txn()?)
    }

    /// Starts the write transaction (LMDB allows one at a time, across processes).
    pub fn write_txn(&self) -> Result<RwTxn<'_>> {
        Ok(self.env.write_txn()?)
    }

    fn meta_u64(&self, txn: &RoTxn, k: &str) -> Result<Option<u64>> {
        match self.meta.get(txn, k)? {
            Some(b) => Ok(Some(u64::from_le_bytes(
                b.try_into().map_err(|_| StoreError::Corrupt("meta"))?,
            ))),
            None => Ok(None),
        }
    }

    fn set_meta_u64(&self, txn: &mut RwTxn, k: &str, v: u64) -> Result<()> {
        self.meta.put(txn, k, &v.to_le_bytes())?;
        Ok(())
    }

    /// Removes every file and chunk record and the counters.
    pub fn clear_all(&self, txn: &mut RwTxn) -> Result<()> {
        self.meta.clear(txn)?;
        self.paths.clear(txn)?;
        self.files.clear(txn)?;
        self.chunks.clear(txn)?;
        self.symbols.clear(txn)?;
        Ok(())
    }

    /// Allocates `n` consecutive new chunk ids.
    pub fn alloc_chunk_ids(&self, txn: &mut RwTxn, n: u32) -> Result<u32> {
        let next = self.meta_u64(txn, key::NEXT_CHUNK)?.unwrap_or(0);
        self.set_meta_u64(txn, key::NEXT_CHUNK, next + n as u64)?;
        u32::try_from(next).map_err(|_| StoreError::Corrupt("chunk id space exhausted"))
    }

    /// The file id of `path`, allocating one if the path is new.
    pub fn file_id_or_alloc(&self, txn: &mut RwTxn, path: &str) -> Result<FileId> {
        if let Some(id) = self.paths.get(txn, path)? {
            return Ok(FileId(id));
        }
        let next = self.meta_u64(txn, key::NEXT_FILE)?.unwrap_or(0);
        self.set_meta_u64(txn, key::NEXT_FILE, next + 1)?;
        let id = u32::try_from(next).map_err(|_| StoreError::Corrupt("file id space exhausted"))?;
        self.paths.put(txn, path, &id)?;
        Ok(FileId(id))
    }

    /// The file id of `path`, if the index knows it.
    pub fn file_id(&self, txn: &RoTxn, path: &str) -> Result<Option<FileId>> {
        Ok(self.paths.get(txn, path)?.map(FileId))
    }

    /// The record of one file.
    pub fn file(&self, txn: &RoTxn, id: FileId) -> Result<Option<FileRecord>> {
        match self.files.get(txn, &id.0)? {
            Some(b) => Ok(Some(
                FileRecord::decode(b).ok_or(StoreError::Corrupt("files"))?,
            )),
            None => Ok(None),
        }
    }

    /// Writes the record of one file.
    pub fn put_file(&self, txn: &mut RwTxn, id: FileId, rec: &FileRecord) -> Result<()> {
        self.files.put(txn, &id.0, &rec.encode())?;
        Ok(())
    }

    /// Removes a file and its chunks; returns the removed chunk ids.
    pub fn remove_file(&self, txn: &mut RwTxn, id: FileId) -> Result<Vec<ChunkId>> {
        let chunks = self.remove_file_record(txn, id)?;
        self.remove_chunks(txn, &chunks)?;
        Ok(chunks)
    }

    /// Removes a file's record, path and symbols but leaves its chunk records (for the caller to
    /// remove once the lexical index no longer refers to them); returns the chunk ids.
    pub fn remove_file_record(&self, txn: &mut RwTxn, id: FileId) -> Result<Vec<ChunkId>> {
        let Some(rec) = self.file(txn, id)? else {
            return Ok(Vec::new());
        };
        self.files.delete(txn, &id.0)?;
        self.symbols.delete(txn, &id.0)?;
        self.paths.delete(txn, &rec.path)?;
        Ok(rec.chunks)
    }

    /// Removes the chunks of a file's record (the file record itself is rewritten by the caller).
    pub fn remove_chunks(&self, txn: &mut RwTxn, ids: &[ChunkId]) -> Result<()> {
        for c in ids {
            self.chunks.delete(txn, &c.0)?;
        }
        Ok(())
    }

    /// Every file of the index, as (id, record).
    pub fn files(&self, txn: &RoTxn) -> Result<Vec<(FileId, FileRecord)>> {
        let mut out = Vec::new();
        for item in self.files.iter(txn)? {
            let (id, b) = item?;
            out.push((
                FileId(id),
                FileRecord::decode(b).ok_or(StoreError::Corrupt("files"))?,
            ));
        }
        Ok(out)
    }

    /// One chunk's record.
    pub fn chunk(&self, txn: &RoTxn, id: ChunkId) -> Result<Option<ChunkRecord>> {
        match self.chunks.get(txn, &id.0)? {
            Some(b) => Ok(Some(
                ChunkRecord::decode(b).ok_or(StoreError::Corrupt("chunks"))?,
            )),
            None => Ok(None),
        }
    }

    /// Writes one chunk's record.
    pub fn put_chunk(&self, txn: &mut RwTxn, id: ChunkId, rec: &ChunkRecord) -> Result<()> {
        self.chunks.put(txn, &id.0, &rec.encode())?;
        Ok(())
    }

    /// Calls `f` for every chunk record, in id order.
    pub fn for_each_chunk(
        &self,
        txn: &RoTxn,
        mut f: impl FnMut(ChunkId, ChunkRecord) -> Result<()>,
    ) -> Result<()> {
        for item in self.chunks.iter(txn)? {
            let (id, b) = item?;
            f(
                ChunkId(id),
                ChunkRecord::decode(b).ok_or(StoreError::Corrupt("chunks"))?,
            )?;
        }
        Ok(())
    }

    /// Writes the symbol definitions of one file.
    pub fn put_symbols(
        &self,
        txn: &mut RwTxn,
        file: FileId,
        symbols: &[SymbolRecord],
    ) -> Result<()> {
        let mut e = Enc(Vec::with_capacity(32 * symbols.len()));
        e.u32(symbols.len() as u32);
        for s in symbols {
            e.str(&s.name)
                .str(s.kind.name())
                .str(s.container.as_deref().unwrap_or(""))
                .u32(s.start_line)
                .u32(s.end_line);
        }
        self.symbols.put(txn, &file.0, &e.0)?;
        Ok(())
    }

    /// The symbol definitions of one file.
    pub fn symbols_of(&self, txn: &RoTxn, file: FileId) -> Result<Vec<SymbolRecord>> {
        match self.symbols.get(txn, &file.0)? {
            Some(b) => decode_symbols(b).ok_or(StoreError::Corrupt("symbols")),
            None => Ok(Vec::new()),
        }
    }

    /// Calls `f` with every file's symbol definitions.
    pub fn for_each_symbols(
        &self,
        txn: &RoTxn,
        mut f: impl FnMut(FileId, Vec<SymbolRecord>),
    ) -> Result<()> {
        for item in self.symbols.iter(txn)? {
            let (id, b) = item?;
            f(
                FileId(id),
                decode_symbols(b).ok_or(StoreError::Corrupt("symbols"))?,
            );
        }
        Ok(())
    }

    /// Number of files and chunks.
    pub fn counts(&self, txn: &RoTxn) -> Result<(u64, u64)> {
        Ok((self.files.len(txn)?, self.chunks.len(txn)?))
    }

    /// Whether the lexical index may be behind the chunk records (set before a lexical commit,
    /// cleared after it).
    pub fn lexical_dirty(&self, txn: &RoTxn) -> Result<bool> {
        Ok(self.meta_u64(txn, key::LEXICAL_DIRTY)?.unwrap_or(0) != 0)
    }

    /// Sets or clears the lexical-dirty flag.
    pub fn set_lexical_dirty(&self, txn: &mut RwTxn, dirty: bool) -> Result<()> {
        self.set_meta_u64(txn, key::LEXICAL_DIRTY, dirty as u64)
    }

    /// Whether the last full scan of the workspace finished.
    pub fn scan_complete(&self, txn: &RoTxn) -> Result<bool> {
        Ok(self.meta_u64(txn, key::COMPLETE)?.unwrap_or(0) != 0)
    }

    /// Records whether the last full scan finished.
    pub fn set_scan_complete(&self, txn: &mut RwTxn, done: bool) -> Result<()> {
        self.set_meta_u64(txn, key::COMPLETE, done as u64)
    }
}

/// The embedding cache: (model fingerprint, content hash) → vector. Shared by every workspace of a user,
/// so a chunk is embedded once whatever folder, branch or file name it appears under.
pub struct EmbeddingCache {
    env: Env,
    db: Database<'static, Bytes, Bytes>,
}

fn cache_key(model: ModelFingerprint, hash: ContentHash) -> [u8; 32] {
    let mut k = [0u8; 32];
    k[..16].copy_from_slice(&model.0);
    k[16..].copy_from_slice(&hash.0);
    k
}

impl EmbeddingCache {
    /// Opens (creating if needed) the cache in `dir`.
    pub fn open(dir: &Path) -> Result<Self> {
        let env = open_env(dir, 256 << 30, 2)?;
        let wtxn = env.write_txn()?;
        let db = env
            .create_databases_and_commit(
                wtxn,
                |dbo, wtxn| -> Result<CommitOrAbort<Database<'_, Bytes, Bytes>, ()>, heed::Error> {
                    Ok(CommitOrAbort::Commit(
                        dbo.create_database(wtxn, Some("vectors"))?,
                    ))
                },
            )?
            .unwrap_commit();
        Ok(EmbeddingCache { env, db })
    }

    /// Opens the cache in `dir`, sharing one handle per folder within the process (LMDB allows one
    /// environment per file per process).
    pub fn open_shared(dir: &Path) -> Result<std::sync::Arc<Self>> {
        use std::sync::{Arc, Mutex, OnceLock, Weak};
        static OPEN: OnceLock<
            Mutex<std::collections::HashMap<std::path::PathBuf, Weak<EmbeddingCache>>>,
        > = OnceLock::new();
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
            path: dir.display().to_string(),
            source,
        })?;
        let key = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
        let mut open = OPEN
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(c) = open.get(&key).and_then(Weak::upgrade) {
            return Ok(c);
        }
        let c = Arc::new(Self::open(&key)?);
        open.insert(key, Arc::downgrade(&c));
        Ok(c)
    }

    /// Starts a read transaction.
    pub fn read_txn(&self) -> Result<RoTxn<'_, heed::WithTls>> {
        Ok(self.env.read_txn()?)
    }

    /// The cached vector of a chunk, if any.
    pub fn get<'t>(
        &self,
        txn: &'t RoTxn,
        model: ModelFingerprint,
        hash: ContentHash,
    ) -> Result<Option<Cow<'t, [f32]>>> {
        let Some(bytes) = self.db.get(txn, &cache_key(model, hash))? else {
            return Ok(None);
        };
        if bytes.len() % 4 != 0 {
            return Err(StoreError::Corrupt("embedding cache"));
        }
        Ok(Some(match bytemuck_f32(bytes) {
            Some(s) => Cow::Borrowed(s),
            None => Cow::Owned(
                bytes
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
                    .collect(),
            ),
        }))
    }

    /// Whether a vector is cached.
    pub fn contains(
        &self,
        txn: &RoTxn,
        model: ModelFingerprint,
        hash: ContentHash,
    ) -> Result<bool> {
        Ok(self.db.get(txn, &cache_key(model, hash))?.is_some())
    }

    /// Stores a batch of vectors in one transaction.
    pub fn put_many(&self, model: ModelFingerprint, items: &[(ContentHash, &[f32])]) -> Result<()> {
        let mut txn = self.env.write_txn()?;
        let mut buf = Vec::new();
        for (hash, v) in items {
            buf.clear();
            for x in *v {
                buf.extend_from_slice(&x.to_le_bytes());
            }
            self.db.put(&mut txn, &cache_key(model, *hash), &buf)?;
        }
        txn.commit()?;
        Ok(())
    }
}

/// Reinterprets little-endian f32 bytes in place when they are aligned (LMDB values usually are).
fn bytemuck_f32(bytes: &[u8]) -> Option<&[f32]> {
    if cfg!(target_endian = "little")
        && (bytes.as_ptr() as usize).is_multiple_of(std::mem::align_of::<f32>())
    {
        // SAFETY: the pointer is aligned for f32, the length is a multiple of 4 (checked by the
        // caller), every bit pattern is a valid f32, and the slice borrows `bytes`.
        Some(unsafe { std::slice::from_raw_parts(bytes.as_ptr().cast::<f32>(), bytes.len() / 4) })
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(file: u32, text: &str) -> ChunkRecord {
        ChunkRecord {
            file: FileId(file),
            start_line: 3,
            end_line: 9,
            start_byte: 10,
            end_byte: 90,
            kind: ChunkKind::Function,
            language: Language::Rust,
            symbol: Some("handle".into()),
            enclosing: "impl Server > fn handle".into(),
            hash: ContentHash::of(text.as_bytes()),
            text: text.into(),
            also: vec!["helper".into()],
        }
    }

    #[test]
    fn records_round_trip_and_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (store, reset) = Store::open(dir.path()).unwrap();
            assert!(!reset);
            let mut txn = store.write_txn().unwrap();
            let f = store.file_id_or_alloc(&mut txn, "src/a.rs").unwrap();
            assert_eq!(store.file_id_or_alloc(&mut txn, "src/a.rs").unwrap(), f);
            let first = store.alloc_chunk_ids(&mut txn, 2).unwrap();
            assert_eq!(store.alloc_chunk_ids(&mut txn, 1).unwrap(), first + 2);
            let rec = FileRecord {
                path: "src/a.rs".into(),
                mtime_ns: 7,
                size: 100,
                hash: ContentHash::of(b"x"),
                chunks: vec![ChunkId(first), ChunkId(first + 1)],
            };
            store.put_file(&mut txn, f, &rec).unwrap();
            store
                .put_chunk(&mut txn, ChunkId(first), &chunk(f.0, "fn handle() {}"))
                .unwrap();
            txn.commit().unwrap();
        }
        let (store, reset) = Store::open(dir.path()).unwrap();
        assert!(!reset);
        let txn = store.read_txn().unwrap();
        let f = store.file_id(&txn, "src/a.rs").unwrap().unwrap();
        let rec = store.file(&txn, f).unwrap().unwrap();
        assert_eq!(rec.chunks.len(), 2);
        assert_eq!(
            store.chunk(&txn, rec.chunks[0]).unwrap().unwrap(),
            chunk(f.0, "fn handle() {}")
        );
        drop(txn);
        let mut txn = store.write_txn().unwrap();
        let removed = store.remove_file(&mut txn, f).unwrap();
        assert_eq!(removed, rec.chunks);
        txn.commit().unwrap();
        let txn = store.read_txn().unwrap();
        assert_eq!(store.counts(&txn).unwrap(), (0, 0));
        assert!(store.file_id(&txn, "src/a.rs").unwrap().is_none());
    }

    #[test]
    fn corrupt_records_are_errors_not_panics() {
        assert!(FileRecord::decode(&[1, 2, 3]).is_none());
        assert!(ChunkRecord::decode(&[255; 40]).is_none());
        assert!(ChunkRecord::decode(&[]).is_none());
    }

    #[test]
    fn embedding_cache_keys_by_model_and_hash() {
        let dir = tempfile::tempdir().unwrap();
        let cache = EmbeddingCache::open(dir.path()).unwrap();
        let m1 = ModelFingerprint([1; 16]);
        let m2 = ModelFingerprint([2; 16]);
        let h = ContentHash::of(b"fn a() {}");
        cache.put_many(m1, &[(h, &[0.5, -1.0, 2.0])]).unwrap();
        let txn = cache.read_txn().unwrap();
        assert_eq!(
            cache.get(&txn, m1, h).unwrap().unwrap().as_ref(),
            &[0.5, -1.0, 2.0]
        );
        assert!(cache.get(&txn, m2, h).unwrap().is_none());
        assert!(cache.contains(&txn, m1, h).unwrap());
    }
}
