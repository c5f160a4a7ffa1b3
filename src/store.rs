//! Persistent metadata in LMDB (heed): file records, chunk records with their text, index state, and the
//! embedding cache shared by every workspace.
//!
//! The LMDB environment is the source of truth of a workspace index. The tantivy index beside it is
//! derived data: when the two disagree (a process killed between the two commits) the lexical index is
//! rebuilt from the chunk records kept here, which hold each chunk's text.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use heed::byteorder::BE;
use heed::types::{Bytes, Str, U32};
use heed::{CommitOrAbort, Database, Env, EnvFlags, EnvOpenOptions, MdbError, RoTxn, RwTxn};

use crate::chunk::ChunkKind;
use crate::graph::{RefKind, Reference};
use crate::ids::{ChunkId, ContentHash, FileId, ModelFingerprint};
use crate::syntax::Language;

/// Version of the on-disk layout; a different value in an existing index means it is rebuilt.
/// Version 3 seals every file, chunk and symbol record with a checksum (CRC-32); version 4 makes every
/// definition a unit of its own, with its pack's embedding hash (and text, on the pack's first member);
/// version 5 cuts every container with members into its header and members; version 6 keeps every file's
/// references (the code graph); version 7 leaves locals out of them and tells member reads apart; version 8
/// embeds units without their comment leaders (`embed::embedding_text`), which changes every unit's hash. (A
/// change of what chunking or reference extraction yields changes this number, so that indexes are rebuilt.)
pub const SCHEMA_VERSION: u32 = 8;

/// Bytes of the checksum that ends every record (a CRC-32 of the rest, little-endian).
const SEAL: usize = 4;

fn seal_of(payload: &[u8]) -> [u8; SEAL] {
    crc32fast::hash(payload).to_le_bytes()
}

/// A record without its checksum (not checked: [`Store::verify`] checks every record).
fn unseal(b: &[u8]) -> Option<&[u8]> {
    b.len().checked_sub(SEAL).map(|n| &b[..n])
}

/// Whether a record's checksum matches its bytes.
fn is_sealed(b: &[u8]) -> bool {
    unseal(b).is_some_and(|p| seal_of(p) == b[p.len()..])
}

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
    /// The data file is damaged in a way found before it is opened (see [`crate::lmdb_file`]).
    #[error("damaged data file {0}")]
    Damaged(#[from] crate::lmdb_file::Damage),
    /// A write failed because the file system is full.
    #[error("no space left on device (writing {path})")]
    NoSpace {
        /// The folder written.
        path: String,
    },
    /// A read-only store cannot be used as it is (another schema version, or nothing written yet).
    #[error("{0}")]
    ReadOnly(String),
}

impl StoreError {
    /// Whether the error means the store's files are damaged (rebuild them), as opposed to an error
    /// of the system around them (permissions, a full disk, a lock).
    pub fn is_damage(&self) -> bool {
        match self {
            StoreError::Corrupt(_) | StoreError::Damaged(_) => true,
            StoreError::Lmdb(heed::Error::Mdb(e)) => matches!(
                e,
                MdbError::Corrupted
                    | MdbError::PageNotFound
                    | MdbError::Invalid
                    | MdbError::VersionMismatch
                    | MdbError::Panic
                    | MdbError::BadTxn
            ),
            StoreError::Lmdb(heed::Error::Decoding(_)) => true,
            _ => false,
        }
    }

    /// Whether the error is a refusal of the file system (permissions or a read-only mount).
    pub fn is_permission(&self) -> bool {
        match self {
            StoreError::Io { source, .. } | StoreError::Lmdb(heed::Error::Io(source)) => {
                crate::index_dir::is_permission(source)
            }
            _ => false,
        }
    }
}

/// Turns the error of a failed write into [`StoreError::NoSpace`] when the file system holding
/// `dir` is full: LMDB reports a short write as "Input/output error", not as ENOSPC.
pub(crate) fn write_error(dir: &Path, err: heed::Error) -> StoreError {
    if let heed::Error::Io(io) = &err {
        /// EIO on Linux and the BSDs.
        const EIO: i32 = 5;
        let full = io.kind() == std::io::ErrorKind::StorageFull
            || (io.raw_os_error() == Some(EIO)
                && fs4::available_space(dir).is_ok_and(|free| free < 1 << 20));
        if full {
            return StoreError::NoSpace {
                path: dir.display().to_string(),
            };
        }
    }
    StoreError::Lmdb(err)
}

/// Whether an environment is opened for writing or only for reading.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Access {
    /// Reads and writes (the folder is created when missing).
    #[default]
    ReadWrite,
    /// Reads only: nothing is created or written, and no write lock is taken. When LMDB's lock file
    /// cannot be opened for writing (a read-only mount or folder) the environment is opened without
    /// locking, which is safe as long as no other process writes it, as nobody can there.
    ReadOnly,
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
    /// Hash of the unit's own embedding text (the fast tier's cache key).
    pub hash: ContentHash,
    /// The chunk's source text.
    pub text: String,
    /// Hash of the text the main model embeds for this unit: its pack's (the main tier's cache key); equal
    /// to `hash` for a unit alone in its pack.
    pub embed_hash: ContentHash,
    /// The pack's embedding text, held by the pack's first member only (`None` for the other members and
    /// for a unit alone, whose own text is embedded).
    pub embed_text: Option<String>,
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

/// Runs every record decoder on `bytes` (file, chunk, symbols, references), in that order, and says
/// which accepted them. For the property tests and fuzz targets: a decoder must answer `None` to bad
/// bytes, never panic, and never allocate more than the bytes can hold.
#[doc(hidden)]
pub fn decode_any(bytes: &[u8]) -> [bool; 4] {
    [
        FileRecord::decode(bytes).is_some(),
        ChunkRecord::decode(bytes).is_some(),
        decode_symbols(bytes).is_some(),
        decode_refs(bytes).is_some(),
    ]
}

/// The fewest bytes one encoded reference takes (name index, line, column, kind).
const REF_BYTES: usize = 3 * 4 + 1;

/// Encodes a file's references: its distinct names once, then each reference as (name index, line,
/// column, kind).
fn encode_refs(refs: &[Reference]) -> Vec<u8> {
    let mut names: Vec<&str> = refs.iter().map(|r| r.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    let mut e = Enc(Vec::with_capacity(
        8 + 8 * names.len() + REF_BYTES * refs.len(),
    ));
    e.u32(names.len() as u32);
    for n in &names {
        e.str(n);
    }
    e.u32(refs.len() as u32);
    for r in refs {
        let i = names.binary_search(&r.name.as_str()).unwrap_or(0);
        e.u32(i as u32).u32(r.line).u32(r.column);
        e.0.push(r.kind.code());
    }
    e.sealed()
}

fn decode_refs(b: &[u8]) -> Option<Vec<Reference>> {
    let mut d = Dec(unseal(b)?);
    let n = d.u32()? as usize;
    // A damaged count must not reserve more than the bytes left could hold.
    let mut names = Vec::with_capacity(n.min(d.0.len() / 4));
    for _ in 0..n {
        names.push(d.str()?);
    }
    let n = d.u32()? as usize;
    let mut out = Vec::with_capacity(n.min(d.0.len() / REF_BYTES));
    for _ in 0..n {
        let name = *names.get(d.u32()? as usize)?;
        let line = d.u32()?;
        let column = d.u32()?;
        let kind = RefKind::from_code(*d.take(1)?.first()?)?;
        out.push(Reference {
            name: name.to_owned(),
            line,
            column,
            kind,
        });
    }
    d.0.is_empty().then_some(out)
}

/// The fewest bytes one encoded symbol takes (three empty strings and two lines).
const MIN_SYMBOL_BYTES: usize = 5 * 4;

fn decode_symbols(b: &[u8]) -> Option<Vec<SymbolRecord>> {
    let mut d = Dec(unseal(b)?);
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
    /// The record with its checksum appended.
    fn sealed(mut self) -> Vec<u8> {
        let seal = seal_of(&self.0);
        self.0.extend_from_slice(&seal);
        self.0
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
        e.sealed()
    }

    fn decode(bytes: &[u8]) -> Option<Self> {
        let mut d = Dec(unseal(bytes)?);
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
        e.0.extend_from_slice(&self.embed_hash.0);
        e.str(self.embed_text.as_deref().unwrap_or(""));
        e.sealed()
    }

    /// Checks that a record decodes, without building it; returns its file id.
    fn check(bytes: &[u8]) -> Option<u32> {
        let mut d = Dec(unseal(bytes)?);
        let file = d.u32()?;
        d.take(16)?;
        ChunkKind::from_name(d.str()?)?;
        Language::from_name(d.str()?)?;
        d.str()?;
        d.str()?;
        d.hash()?;
        d.str()?;
        d.hash()?;
        d.str()?;
        d.0.is_empty().then_some(file)
    }

    fn decode(bytes: &[u8]) -> Option<Self> {
        let mut d = Dec(unseal(bytes)?);
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
        let embed_hash = d.hash()?;
        let embed_text = d.str()?;
        let embed_text = (!embed_text.is_empty()).then(|| embed_text.to_owned());
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
            embed_hash,
            embed_text,
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

/// Opens the LMDB environment in `dir` after checking its data file (a truncated file would be a
/// `SIGBUS` once mapped: see [`crate::lmdb_file`]).
pub(crate) fn open_env(dir: &Path, map_size: usize, max_dbs: u32, access: Access) -> Result<Env> {
    let io_err = |source| StoreError::Io {
        path: dir.display().to_string(),
        source,
    };
    if access == Access::ReadWrite {
        std::fs::create_dir_all(dir).map_err(io_err)?;
    }
    crate::lmdb_file::check_data_file(dir).map_err(io_err)??;
    let mut opts = EnvOpenOptions::new();
    opts.map_size(map_size).max_dbs(max_dbs).max_readers(126);
    if access == Access::ReadOnly {
        let lock_writable = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(dir.join("lock.mdb"))
            .is_ok();
        let flags = if lock_writable {
            EnvFlags::READ_ONLY
        } else {
            EnvFlags::READ_ONLY | EnvFlags::NO_LOCK
        };
        // SAFETY: read-only flags; without the lock file nobody can write the folder either.
        unsafe { opts.flags(flags) };
    }
    // SAFETY: the environment is opened once per process per folder (the caller keeps one `Store`),
    // and LMDB's own locking coordinates with other processes.
    let env = unsafe { opts.open(dir)? };
    Ok(env)
}

/// Keys of the `paths` database longer than this are replaced by a hash (LMDB refuses keys over
/// 511 bytes with `MDB_BAD_VALSIZE`).
const MAX_PATH_KEY: usize = 400;

/// The key of a path in the `paths` database: the path itself, or for a long one a NUL byte (which
/// no path contains) and the path's blake3 hash. The full path stays in the file record.
fn path_key(path: &str) -> Cow<'_, [u8]> {
    if path.len() <= MAX_PATH_KEY {
        Cow::Borrowed(path.as_bytes())
    } else {
        let mut k = Vec::with_capacity(33);
        k.push(0);
        k.extend_from_slice(blake3::hash(path.as_bytes()).as_bytes());
        Cow::Owned(k)
    }
}

/// The records of a store as [`Store::verify`] reads them, checked one by one and then together.
#[derive(Default)]
struct Verifier {
    meta: std::collections::HashMap<Vec<u8>, u64>,
    paths: std::collections::HashMap<Vec<u8>, u32>,
    files: Vec<(u32, FileRecord)>,
    chunk_files: std::collections::HashMap<u32, u32>,
    symbols: Vec<u32>,
    refs: Vec<u32>,
    error: Option<StoreError>,
}

fn id_key(k: &[u8], db: &'static str) -> Result<u32> {
    Ok(u32::from_be_bytes(
        k.try_into().map_err(|_| StoreError::Corrupt(db))?,
    ))
}

impl Verifier {
    fn add(&mut self, db: &[u8], k: &[u8], v: &[u8]) -> Result<()> {
        match db {
            b"meta" => {
                let n = u64::from_le_bytes(v.try_into().map_err(|_| StoreError::Corrupt("meta"))?);
                self.meta.insert(k.to_vec(), n);
            }
            b"paths" => {
                let id = id_key(v, "paths")?;
                self.paths.insert(k.to_vec(), id);
            }
            b"files" => {
                let id = id_key(k, "files")?;
                let rec = is_sealed(v)
                    .then(|| FileRecord::decode(v))
                    .flatten()
                    .ok_or(StoreError::Corrupt("files"))?;
                self.files.push((id, rec));
            }
            b"chunks" => {
                let id = id_key(k, "chunks")?;
                let file = is_sealed(v)
                    .then(|| ChunkRecord::check(v))
                    .flatten()
                    .ok_or(StoreError::Corrupt("chunks"))?;
                self.chunk_files.insert(id, file);
            }
            b"symbols" => {
                let id = id_key(k, "symbols")?;
                if !is_sealed(v) || decode_symbols(v).is_none() {
                    return Err(StoreError::Corrupt("symbols"));
                }
                self.symbols.push(id);
            }
            b"refs" => {
                let id = id_key(k, "refs")?;
                if !is_sealed(v) || decode_refs(v).is_none() {
                    return Err(StoreError::Corrupt("refs"));
                }
                self.refs.push(id);
            }
            _ => return Err(StoreError::Corrupt("the list of databases")),
        }
        Ok(())
    }

    fn finish(self) -> Result<u64> {
        let meta = |k: &str| self.meta.get(k.as_bytes()).copied();
        if meta(key::SCHEMA) != Some(u64::from(SCHEMA_VERSION))
            || meta(key::LEXICAL_DIRTY).unwrap_or(0) > 1
            || meta(key::COMPLETE).unwrap_or(0) > 1
        {
            return Err(StoreError::Corrupt("meta"));
        }
        let next_file = meta(key::NEXT_FILE).unwrap_or(0);
        let next_chunk = meta(key::NEXT_CHUNK).unwrap_or(0);
        if self.chunk_files.keys().any(|&c| u64::from(c) >= next_chunk) {
            return Err(StoreError::Corrupt("chunks"));
        }
        for (id, rec) in &self.files {
            if u64::from(*id) >= next_file
                || rec
                    .chunks
                    .iter()
                    .any(|c| self.chunk_files.get(&c.0) != Some(id))
            {
                return Err(StoreError::Corrupt("files"));
            }
            if self.paths.get(path_key(&rec.path).as_ref()) != Some(id) {
                return Err(StoreError::Corrupt("paths"));
            }
        }
        if self.paths.len() != self.files.len() {
            return Err(StoreError::Corrupt("paths"));
        }
        if self.symbols.iter().any(|&s| u64::from(s) >= next_file) {
            return Err(StoreError::Corrupt("symbols"));
        }
        if self.refs.iter().any(|&s| u64::from(s) >= next_file) {
            return Err(StoreError::Corrupt("refs"));
        }
        Ok(self.chunk_files.len() as u64)
    }
}

/// The metadata store of one workspace index.
pub struct Store {
    env: Env,
    dir: PathBuf,
    meta: Database<'static, Str, Bytes>,
    paths: Database<'static, Bytes, Id32>,
    files: Database<'static, Id32, Bytes>,
    chunks: Database<'static, Id32, Bytes>,
    symbols: Database<'static, Id32, Bytes>,
    refs: Database<'static, Id32, Bytes>,
}

/// The databases of a [`Store`], created together.
type StoreDbs<'a> = (
    Database<'a, Str, Bytes>,
    Database<'a, Bytes, Id32>,
    Database<'a, Id32, Bytes>,
    Database<'a, Id32, Bytes>,
    Database<'a, Id32, Bytes>,
    Database<'a, Id32, Bytes>,
);

impl Store {
    /// Opens (creating if needed) the store in `dir`. An index written by another schema version is
    /// cleared; the returned flag says so. A read-only store is never created or cleared: it must
    /// exist with this schema version.
    pub fn open(dir: &Path, access: Access) -> Result<(Self, bool)> {
        let env = open_env(dir, 64 << 30, 8, access)?;
        let dbs = match access {
            Access::ReadWrite => {
                let wtxn = env.write_txn()?;
                env.create_databases_and_commit(
                    wtxn,
                    |dbo, wtxn| -> Result<CommitOrAbort<StoreDbs<'_>, ()>, heed::Error> {
                        Ok(CommitOrAbort::Commit((
                            dbo.create_database(wtxn, Some("meta"))?,
                            dbo.create_database(wtxn, Some("paths"))?,
                            dbo.create_database(wtxn, Some("files"))?,
                            dbo.create_database(wtxn, Some("chunks"))?,
                            dbo.create_database(wtxn, Some("symbols"))?,
                            dbo.create_database(wtxn, Some("refs"))?,
                        )))
                    },
                )?
                .unwrap_commit()
            }
            Access::ReadOnly => {
                let rtxn = env.read_txn()?;
                env.open_databases_and_commit(
                    rtxn,
                    |dbo, rtxn| -> Result<CommitOrAbort<Option<StoreDbs<'_>>, ()>, heed::Error> {
                        let dbs = (|| {
                            Some((
                                dbo.open_database(rtxn, Some("meta")).ok()??,
                                dbo.open_database(rtxn, Some("paths")).ok()??,
                                dbo.open_database(rtxn, Some("files")).ok()??,
                                dbo.open_database(rtxn, Some("chunks")).ok()??,
                                dbo.open_database(rtxn, Some("symbols")).ok()??,
                                dbo.open_database(rtxn, Some("refs")).ok()??,
                            ))
                        })();
                        Ok(CommitOrAbort::Commit(dbs))
                    },
                )?
                .unwrap_commit()
                .ok_or_else(|| {
                    StoreError::ReadOnly(format!(
                        "the read-only index at {} holds nothing yet",
                        dir.display()
                    ))
                })?
            }
        };
        let (meta, paths, files, chunks, symbols, refs) = dbs;
        let store = Store {
            env,
            dir: dir.to_path_buf(),
            meta,
            paths,
            files,
            chunks,
            symbols,
            refs,
        };
        if access == Access::ReadOnly {
            let rtxn = store.env.read_txn()?;
            let version = store.meta_u64(&rtxn, key::SCHEMA)?;
            drop(rtxn);
            if version != Some(SCHEMA_VERSION as u64) {
                return Err(StoreError::ReadOnly(format!(
                    "the read-only index at {} was written by another version of sg",
                    dir.display()
                )));
            }
            return Ok((store, false));
        }
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
        store.commit(wtxn)?;
        Ok((store, reset))
    }

    /// Commits a write transaction, reporting a full disk as such.
    pub fn commit(&self, txn: RwTxn<'_>) -> Result<()> {
        txn.commit().map_err(|e| write_error(&self.dir, e))
    }

    /// Checks every record of every database (its checksum, its decoding, and how records refer to
    /// each other), so damage inside records, which LMDB keeps but cannot check, is found when the
    /// store is opened rather than by some later command. The data file is read with `pread`
    /// (see [`crate::lmdb_file::walk_records`]), never through the map, so damage that would send
    /// LMDB outside the file is reported instead of ending the process. Returns the number of
    /// chunk records.
    pub fn verify(&self) -> Result<u64> {
        // Held while the file is read: no writer reuses the pages of this snapshot meanwhile.
        let txn = self.read_txn()?;
        let mut v = Verifier::default();
        let walked = crate::lmdb_file::walk_records(&self.dir, &mut |db, k, val| {
            v.add(db, k, val).map_err(|e| {
                let msg = e.to_string();
                v.error = Some(e);
                msg
            })
        })
        .map_err(|source| StoreError::Io {
            path: self.dir.display().to_string(),
            source,
        })?;
        match walked {
            Some(Ok(())) => {}
            Some(Err(damage)) => return Err(v.error.take().unwrap_or(StoreError::Damaged(damage))),
            None => {
                let dbs = [
                    (&b"meta"[..], self.meta.remap_types::<Bytes, Bytes>()),
                    (b"paths", self.paths.remap_types::<Bytes, Bytes>()),
                    (b"files", self.files.remap_types::<Bytes, Bytes>()),
                    (b"chunks", self.chunks.remap_types::<Bytes, Bytes>()),
                    (b"symbols", self.symbols.remap_types::<Bytes, Bytes>()),
                    (b"refs", self.refs.remap_types::<Bytes, Bytes>()),
                ];
                for (name, db) in dbs {
                    for item in db.iter(&txn)? {
                        let (k, val) = item?;
                        v.add(name, k, val)?;
                    }
                }
            }
        }
        drop(txn);
        v.finish()
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
        self.refs.clear(txn)?;
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
        if let Some(id) = self.file_id(txn, path)? {
            return Ok(id);
        }
        let next = self.meta_u64(txn, key::NEXT_FILE)?.unwrap_or(0);
        self.set_meta_u64(txn, key::NEXT_FILE, next + 1)?;
        let id = u32::try_from(next).map_err(|_| StoreError::Corrupt("file id space exhausted"))?;
        self.paths.put(txn, &path_key(path), &id)?;
        Ok(FileId(id))
    }

    /// The file id of `path`, if the index knows it.
    pub fn file_id(&self, txn: &RoTxn, path: &str) -> Result<Option<FileId>> {
        Ok(self.paths.get(txn, &path_key(path))?.map(FileId))
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
        self.refs.delete(txn, &id.0)?;
        self.paths.delete(txn, &path_key(&rec.path))?;
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
        self.for_each_chunk_until(txn, |_| false, |id, rec| f(id, rec).map(|()| true))
    }

    /// Like [`Store::for_each_chunk`], but records whose id `skip` accepts are not decoded, and the walk stops
    /// when `f` returns `false`: a pass that looks for a few records among many (the chunks without a vector
    /// yet) costs a key comparison per record it passes over.
    pub fn for_each_chunk_until(
        &self,
        txn: &RoTxn,
        skip: impl Fn(ChunkId) -> bool,
        mut f: impl FnMut(ChunkId, ChunkRecord) -> Result<bool>,
    ) -> Result<()> {
        for item in self.chunks.iter(txn)? {
            let (id, b) = item?;
            if skip(ChunkId(id)) {
                continue;
            }
            if !f(
                ChunkId(id),
                ChunkRecord::decode(b).ok_or(StoreError::Corrupt("chunks"))?,
            )? {
                break;
            }
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
        self.symbols.put(txn, &file.0, &e.sealed())?;
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

    /// Writes the references of one file.
    pub fn put_refs(&self, txn: &mut RwTxn, file: FileId, refs: &[Reference]) -> Result<()> {
        self.refs.put(txn, &file.0, &encode_refs(refs))?;
        Ok(())
    }

    /// The references of one file.
    pub fn refs_of(&self, txn: &RoTxn, file: FileId) -> Result<Vec<Reference>> {
        match self.refs.get(txn, &file.0)? {
            Some(b) => decode_refs(b).ok_or(StoreError::Corrupt("refs")),
            None => Ok(Vec::new()),
        }
    }

    /// Calls `f` with every file's references.
    pub fn for_each_refs(
        &self,
        txn: &RoTxn,
        mut f: impl FnMut(FileId, Vec<Reference>),
    ) -> Result<()> {
        for item in self.refs.iter(txn)? {
            let (id, b) = item?;
            f(
                FileId(id),
                decode_refs(b).ok_or(StoreError::Corrupt("refs"))?,
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
    dir: PathBuf,
    /// `None` in a read-only cache where nothing was ever written.
    db: Option<Database<'static, Bytes, Bytes>>,
}

fn cache_key(model: ModelFingerprint, hash: ContentHash) -> [u8; 32] {
    let mut k = [0u8; 32];
    k[..16].copy_from_slice(&model.0);
    k[16..].copy_from_slice(&hash.0);
    k
}

/// Caches open in this process, one per folder (LMDB allows one environment per file per process).
fn open_caches()
-> &'static std::sync::Mutex<std::collections::HashMap<PathBuf, std::sync::Weak<EmbeddingCache>>> {
    static OPEN: std::sync::OnceLock<
        std::sync::Mutex<std::collections::HashMap<PathBuf, std::sync::Weak<EmbeddingCache>>>,
    > = std::sync::OnceLock::new();
    OPEN.get_or_init(Default::default)
}

impl EmbeddingCache {
    /// Opens the cache in `dir`, creating it if needed and `access` allows. Opening an existing
    /// cache takes a read transaction only, so a reader never waits for a process that is writing.
    pub fn open(dir: &Path, access: Access) -> Result<Self> {
        let env = open_env(dir, 256 << 30, 2, access)?;
        let rtxn = env.read_txn()?;
        let found =
            env
                .open_databases_and_commit(
                    rtxn,
                    |dbo,
                     rtxn|
                     -> Result<
                        CommitOrAbort<Option<Database<'_, Bytes, Bytes>>, ()>,
                        heed::Error,
                    > {
                        Ok(CommitOrAbort::Commit(
                            dbo.open_database(rtxn, Some("vectors"))?,
                        ))
                    },
                )?
                .unwrap_commit();
        let db = match (found, access) {
            (Some(db), _) => Some(db),
            (None, Access::ReadOnly) => None,
            (None, Access::ReadWrite) => {
                let wtxn = env.write_txn()?;
                Some(
                    env
                        .create_databases_and_commit(
                            wtxn,
                            |dbo,
                             wtxn|
                             -> Result<
                                CommitOrAbort<Database<'_, Bytes, Bytes>, ()>,
                                heed::Error,
                            > {
                                Ok(CommitOrAbort::Commit(
                                    dbo.create_database(wtxn, Some("vectors"))?,
                                ))
                            },
                        )?
                        .unwrap_commit(),
                )
            }
        };
        Ok(EmbeddingCache {
            env,
            dir: dir.to_path_buf(),
            db,
        })
    }

    /// Opens the cache in `dir`, sharing one handle per folder within the process. A cache that
    /// cannot be written (permissions, a read-only mount) is opened read-only; a damaged one is set
    /// aside (renamed, never deleted) and a new one created, with a warning.
    pub fn open_shared(dir: &Path, access: Access) -> Result<std::sync::Arc<Self>> {
        use std::sync::Arc;
        if access == Access::ReadWrite {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
                path: dir.display().to_string(),
                source,
            })?;
        }
        let key = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
        let mut open = open_caches().lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = open.get(&key).and_then(std::sync::Weak::upgrade) {
            return Ok(c);
        }
        let c = match Self::open(&key, access) {
            Err(e) if access == Access::ReadWrite && e.is_permission() => {
                tracing::info!(
                    target: "sg::store",
                    "the embedding cache {} cannot be written ({e}); reading it only",
                    key.display()
                );
                Self::open(&key, Access::ReadOnly)?
            }
            Err(e) if access == Access::ReadWrite && e.is_damage() => {
                let aside = set_aside(&key)?;
                tracing::warn!(
                    target: "sg::store",
                    "the embedding cache {} is damaged ({e}); moved it to {} and started a new one",
                    key.display(),
                    aside.display()
                );
                std::fs::create_dir_all(&key).map_err(|source| StoreError::Io {
                    path: key.display().to_string(),
                    source,
                })?;
                Self::open(&key, access)?
            }
            other => other?,
        };
        let c = Arc::new(c);
        open.insert(key, Arc::downgrade(&c));
        Ok(c)
    }

    /// Sets this damaged cache aside and opens a new one in its folder, when no other workspace of
    /// this process still uses it (otherwise the error says so).
    pub fn recover(self: std::sync::Arc<Self>, why: &StoreError) -> Result<std::sync::Arc<Self>> {
        let dir = self.dir.clone();
        let mut open = open_caches().lock().unwrap_or_else(|e| e.into_inner());
        match std::sync::Arc::try_unwrap(self) {
            Ok(cache) => drop(cache),
            Err(_) => {
                return Err(StoreError::ReadOnly(format!(
                    "the embedding cache {} is damaged ({why}) and still used by another workspace \
                     of this process; restart to set it aside",
                    dir.display()
                )));
            }
        }
        open.remove(&dir);
        let aside = set_aside(&dir)?;
        tracing::warn!(
            target: "sg::store",
            "the embedding cache {} is damaged ({why}); moved it to {} and started a new one",
            dir.display(),
            aside.display()
        );
        std::fs::create_dir_all(&dir).map_err(|source| StoreError::Io {
            path: dir.display().to_string(),
            source,
        })?;
        let c = std::sync::Arc::new(Self::open(&dir, Access::ReadWrite)?);
        open.insert(dir, std::sync::Arc::downgrade(&c));
        Ok(c)
    }

    /// The cache's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
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
        let Some(db) = &self.db else {
            return Ok(None);
        };
        let Some(bytes) = db.get(txn, &cache_key(model, hash))? else {
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
        match &self.db {
            Some(db) => Ok(db.get(txn, &cache_key(model, hash))?.is_some()),
            None => Ok(false),
        }
    }

    /// Stores a batch of vectors in one transaction.
    pub fn put_many(&self, model: ModelFingerprint, items: &[(ContentHash, &[f32])]) -> Result<()> {
        let Some(db) = &self.db else {
            return Err(StoreError::ReadOnly(format!(
                "the embedding cache {} is read-only",
                self.dir.display()
            )));
        };
        let mut txn = self.env.write_txn()?;
        let mut buf = Vec::new();
        for (hash, v) in items {
            buf.clear();
            for x in *v {
                buf.extend_from_slice(&x.to_le_bytes());
            }
            db.put(&mut txn, &cache_key(model, *hash), &buf)
                .map_err(|e| write_error(&self.dir, e))?;
        }
        txn.commit().map_err(|e| write_error(&self.dir, e))
    }
}

/// Renames a damaged cache folder to `<name>.damaged-<unix seconds>` and returns the new path.
fn set_aside(dir: &Path) -> Result<PathBuf> {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "embeddings".into());
    let mut aside = dir.with_file_name(format!("{name}.damaged-{secs}"));
    let mut n = 1;
    while aside.exists() {
        aside = dir.with_file_name(format!("{name}.damaged-{secs}-{n}"));
        n += 1;
    }
    std::fs::rename(dir, &aside).map_err(|source| StoreError::Io {
        path: dir.display().to_string(),
        source,
    })?;
    Ok(aside)
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
            embed_hash: ContentHash::of(b"pack"),
            embed_text: Some("impl Server\nfn handle() {}\nfn helper() {}".into()),
        }
    }

    #[test]
    fn records_round_trip_and_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (store, reset) = Store::open(dir.path(), Access::ReadWrite).unwrap();
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
        let (store, reset) = Store::open(dir.path(), Access::ReadWrite).unwrap();
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
    fn a_walk_over_chunks_skips_without_decoding_and_stops_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = Store::open(dir.path(), Access::ReadWrite).unwrap();
        let mut txn = store.write_txn().unwrap();
        let f = store.file_id_or_alloc(&mut txn, "src/a.rs").unwrap();
        let first = store.alloc_chunk_ids(&mut txn, 4).unwrap();
        for i in 0..4 {
            let text = format!("fn f{i}() {{}}");
            store
                .put_chunk(&mut txn, ChunkId(first + i), &chunk(f.0, &text))
                .unwrap();
        }
        // A damaged record that is skipped is never decoded, so it does not stop the walk.
        let raw = store.chunks.remap_types::<Id32, Bytes>();
        raw.put(&mut txn, &(first + 1), b"garbage").unwrap();
        store.commit(txn).unwrap();
        let txn = store.read_txn().unwrap();
        let mut seen = Vec::new();
        store
            .for_each_chunk_until(
                &txn,
                |id| id == ChunkId(first + 1),
                |id, rec| {
                    seen.push((id.0 - first, rec.text));
                    Ok(seen.len() < 2)
                },
            )
            .unwrap();
        assert_eq!(
            seen,
            vec![(0, "fn f0() {}".to_string()), (2, "fn f2() {}".to_string())]
        );
        // Without skipping it, the damaged record is an error.
        let err = store
            .for_each_chunk_until(&txn, |_| false, |_, _| Ok(true))
            .unwrap_err();
        assert!(matches!(err, StoreError::Corrupt("chunks")), "{err}");
    }

    #[test]
    fn a_changed_byte_in_a_record_is_found_by_verify() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = Store::open(dir.path(), Access::ReadWrite).unwrap();
        let mut txn = store.write_txn().unwrap();
        let f = store.file_id_or_alloc(&mut txn, "src/a.rs").unwrap();
        let first = store.alloc_chunk_ids(&mut txn, 1).unwrap();
        let rec = FileRecord {
            path: "src/a.rs".into(),
            mtime_ns: 7,
            size: 100,
            hash: ContentHash::of(b"x"),
            chunks: vec![ChunkId(first)],
        };
        store.put_file(&mut txn, f, &rec).unwrap();
        store
            .put_chunk(&mut txn, ChunkId(first), &chunk(f.0, "fn handle() {}"))
            .unwrap();
        store.commit(txn).unwrap();
        assert_eq!(store.verify().unwrap(), 1);
        // One byte of the text changes: it still decodes, but the checksum tells.
        let raw = store.chunks.remap_types::<Id32, Bytes>();
        let mut txn = store.write_txn().unwrap();
        let mut bytes = raw.get(&txn, &first).unwrap().unwrap().to_vec();
        let at = bytes.windows(6).position(|w| w == b"handle").unwrap();
        bytes[at] = b'H';
        raw.put(&mut txn, &first, &bytes).unwrap();
        store.commit(txn).unwrap();
        assert!(
            store
                .chunk(&store.read_txn().unwrap(), ChunkId(first))
                .is_ok()
        );
        let err = store.verify().unwrap_err();
        assert!(matches!(err, StoreError::Corrupt("chunks")), "{err}");
        assert!(err.is_damage());
    }

    #[test]
    fn paths_over_the_key_limit_are_kept_under_a_hash() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = Store::open(dir.path(), Access::ReadWrite).unwrap();
        let long = format!("{}/x.py", "d".repeat(600));
        let mut txn = store.write_txn().unwrap();
        let id = store.file_id_or_alloc(&mut txn, &long).unwrap();
        let rec = FileRecord {
            path: long.clone(),
            mtime_ns: 1,
            size: 1,
            hash: ContentHash::of(b"y"),
            chunks: vec![],
        };
        store.put_file(&mut txn, id, &rec).unwrap();
        store.commit(txn).unwrap();
        let txn = store.read_txn().unwrap();
        assert_eq!(store.file_id(&txn, &long).unwrap(), Some(id));
        assert_eq!(store.file(&txn, id).unwrap().unwrap().path, long);
        drop(txn);
        assert_eq!(store.verify().unwrap(), 0);
        let mut txn = store.write_txn().unwrap();
        store.remove_file(&mut txn, id).unwrap();
        store.commit(txn).unwrap();
        assert_eq!(
            store.file_id(&store.read_txn().unwrap(), &long).unwrap(),
            None
        );
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
        let cache = EmbeddingCache::open(dir.path(), Access::ReadWrite).unwrap();
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
