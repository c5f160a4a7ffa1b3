//! The index folder as sg's own: a marker file proves sg made it, only a marked (or adopted) folder
//! is used, only sg's own files in it are ever removed, and one process at a time holds its writer
//! lock.
//!
//! A folder given as an index folder is used when it does not exist yet, is empty, carries the
//! marker ([`MARKER`], holding the format version), or has the layout of an index made before the
//! marker existed (see [`claim`]); anything else is refused with [`IndexDirError::NotAnIndex`] and
//! left as it is. Rebuilding a damaged part removes the files of that part only ([`remove_part`]).

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

/// Name of the marker file at the top of every index folder.
pub const MARKER: &str = "sg-index";

/// Format of the index folder written into the marker; a newer value is refused, never removed.
pub const FORMAT: u32 = 1;

/// Name of the writer lock file: held (an exclusive advisory lock) by the one process that writes.
pub const WRITER_LOCK: &str = "writer.lock";

/// The parts of an index, each a subfolder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// The LMDB store (`lmdb/`), the source of truth.
    Store,
    /// The tantivy index (`tantivy/`), derived from the store.
    Lexical,
    /// The approximate vector tier (`ann/`), derived from the vectors.
    Ann,
}

impl Part {
    /// The subfolder's name.
    pub fn folder(self) -> &'static str {
        match self {
            Part::Store => "lmdb",
            Part::Lexical => "tantivy",
            Part::Ann => "ann",
        }
    }
}

/// Why an index folder cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum IndexDirError {
    /// The folder holds something other than an sg index.
    #[error(
        "{} is not an sg index folder and not empty (it holds {found}); sg uses only an empty \
         folder or one it created, and leaves this one as it is",
        path.display()
    )]
    NotAnIndex {
        /// The folder.
        path: PathBuf,
        /// A few of the names found in it.
        found: String,
    },
    /// The path exists and is not a folder.
    #[error("{} is not a folder", path.display())]
    NotAFolder {
        /// The path.
        path: PathBuf,
    },
    /// The marker names a format this version does not know.
    #[error(
        "{} holds an index of format {found} (this sg reads format {FORMAT}); use a newer sg or \
         another index folder",
        path.display()
    )]
    NewerFormat {
        /// The folder.
        path: PathBuf,
        /// The format in the marker.
        found: String,
    },
    /// The file system refused an operation.
    #[error("cannot {what} {}: {source}", path.display())]
    Io {
        /// What was being done ("create the index folder", ...).
        what: &'static str,
        /// The path.
        path: PathBuf,
        /// The underlying error (a permission error stays one).
        source: std::io::Error,
    },
}

impl IndexDirError {
    fn io(what: &'static str, path: &Path, source: std::io::Error) -> Self {
        IndexDirError::Io {
            what,
            path: path.to_path_buf(),
            source,
        }
    }
}

/// How a folder was claimed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Claim {
    /// It was created, or was empty, and now carries the marker.
    Created,
    /// It carries the marker.
    Marked,
    /// It had an index made before the marker existed, and was marked (when writable).
    Adopted,
}

/// Whether an I/O error means "not allowed" (permissions or a read-only file system).
pub fn is_permission(err: &std::io::Error) -> bool {
    matches!(
        err.kind(),
        ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem
    )
}

fn marker_text() -> String {
    format!(
        "This folder is an sg index; sg may remove and rebuild the files it made here.\nformat = {FORMAT}\n"
    )
}

/// The format written in a marker (`None` if the text is not a marker).
fn marker_format(text: &str) -> Option<&str> {
    text.lines()
        .find_map(|l| l.strip_prefix("format = "))
        .map(str::trim)
}

/// Whether `dir` looks like an index written before the marker existed: every entry is one of sg's
/// part folders (or its lock), and `lmdb/` holds LMDB's files only, with a `data.mdb` that starts
/// with an LMDB meta page.
fn is_unmarked_index(dir: &Path, names: &[String]) -> bool {
    let known = |n: &str| {
        [
            Part::Store.folder(),
            Part::Lexical.folder(),
            Part::Ann.folder(),
            WRITER_LOCK,
        ]
        .contains(&n)
    };
    if !names.iter().all(|n| known(n)) || !names.iter().any(|n| n == Part::Store.folder()) {
        return false;
    }
    let lmdb = dir.join(Part::Store.folder());
    let Ok(entries) = std::fs::read_dir(&lmdb) else {
        return false;
    };
    let mut has_data = false;
    for e in entries.flatten() {
        match e.file_name().to_str() {
            Some("data.mdb") => has_data = true,
            Some("lock.mdb") => {}
            _ => return false,
        }
    }
    // The LMDB magic sits right after the first page's 16-byte header.
    let mut head = [0u8; 20];
    has_data
        && File::open(lmdb.join("data.mdb"))
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
            .is_ok()
        && u32::from_ne_bytes([head[16], head[17], head[18], head[19]]) == 0xBEEF_C0DE
}

fn write_marker(dir: &Path) -> Result<(), IndexDirError> {
    let path = dir.join(MARKER);
    let mut f = File::create(&path).map_err(|e| IndexDirError::io("write", &path, e))?;
    f.write_all(marker_text().as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(|e| IndexDirError::io("write", &path, e))
}

/// Makes sure `dir` is an sg index folder, creating and marking it when it does not exist or is
/// empty, and marking an unmarked index of sg's layout (when `write` allows). Never removes or
/// changes anything else.
pub fn claim(dir: &Path, write: bool) -> Result<Claim, IndexDirError> {
    match std::fs::metadata(dir) {
        Ok(m) if !m.is_dir() => {
            return Err(IndexDirError::NotAFolder {
                path: dir.to_path_buf(),
            });
        }
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::NotFound => {
            if !write {
                return Err(IndexDirError::io("open the index folder", dir, e));
            }
            std::fs::create_dir_all(dir)
                .map_err(|e| IndexDirError::io("create the index folder", dir, e))?;
            write_marker(dir)?;
            return Ok(Claim::Created);
        }
        Err(e) => return Err(IndexDirError::io("open the index folder", dir, e)),
    }
    let marker = dir.join(MARKER);
    match std::fs::read_to_string(&marker) {
        Ok(text) => {
            return match marker_format(&text) {
                Some(f) if f == FORMAT.to_string() => Ok(Claim::Marked),
                found => Err(IndexDirError::NewerFormat {
                    path: dir.to_path_buf(),
                    found: found.unwrap_or("unknown").to_owned(),
                }),
            };
        }
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => return Err(IndexDirError::io("read", &marker, e)),
    }
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| IndexDirError::io("read the index folder", dir, e))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    if names.is_empty() {
        if write {
            write_marker(dir)?;
        }
        return Ok(Claim::Created);
    }
    if is_unmarked_index(dir, &names) {
        if write {
            write_marker(dir)?;
            tracing::info!(target: "sg::index", "marked the index at {} as sg's", dir.display());
        }
        return Ok(Claim::Adopted);
    }
    let mut found: Vec<String> = names.iter().take(3).map(|n| format!("{n:?}")).collect();
    if names.len() > 3 {
        found.push(format!("and {} more", names.len() - 3));
    }
    Err(IndexDirError::NotAnIndex {
        path: dir.to_path_buf(),
        found: found.join(", "),
    })
}

/// Whether `name` is a file tantivy writes in its folder: `meta.json`, `.managed.json`, its lock
/// files, and segment files named by a 32-hex-digit segment id.
fn is_tantivy_file(name: &str) -> bool {
    if matches!(name, "meta.json" | ".managed.json")
        || (name.starts_with(".tantivy-") && name.ends_with(".lock"))
    {
        return true;
    }
    let id = name.split('.').next().unwrap_or("");
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()) && name.len() > 33
}

/// Removes the files sg made for one part of the index in `dir` (the caller holds the writer lock):
/// LMDB's `data.mdb` and `lock.mdb`, or tantivy's own files. Anything else is left.
pub fn remove_part(dir: &Path, part: Part) -> Result<(), IndexDirError> {
    let folder = dir.join(part.folder());
    let entries = match std::fs::read_dir(&folder) {
        Ok(e) => e,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(IndexDirError::io("read", &folder, e)),
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        let ours = match part {
            Part::Store | Part::Ann => matches!(name, "data.mdb" | "lock.mdb"),
            Part::Lexical => is_tantivy_file(name),
        };
        if ours && e.file_type().is_ok_and(|t| t.is_file()) {
            let path = e.path();
            std::fs::remove_file(&path).map_err(|e| IndexDirError::io("remove", &path, e))?;
        }
    }
    Ok(())
}

/// Tries to take the writer lock of `dir`: `Ok(None)` when another process holds it.
pub fn try_lock_writer(dir: &Path) -> Result<Option<File>, IndexDirError> {
    let path = dir.join(WRITER_LOCK);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| IndexDirError::io("open", &path, e))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => Err(IndexDirError::io("lock", &path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_or_empty_folder_is_created_and_marked() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("a/b");
        assert_eq!(claim(&dir, true).unwrap(), Claim::Created);
        assert!(dir.join(MARKER).is_file());
        assert_eq!(claim(&dir, true).unwrap(), Claim::Marked);
        let empty = t.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        assert_eq!(claim(&empty, true).unwrap(), Claim::Created);
        assert!(empty.join(MARKER).is_file());
    }

    #[test]
    fn a_user_folder_is_refused_and_left_alone() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("notes.txt"), "mine").unwrap();
        std::fs::create_dir(t.path().join("lmdb")).unwrap();
        let err = claim(t.path(), true).unwrap_err().to_string();
        assert!(err.contains("is not an sg index folder"), "{err}");
        assert!(err.contains("notes.txt"), "{err}");
        assert!(!t.path().join(MARKER).exists());
        assert_eq!(
            std::fs::read_to_string(t.path().join("notes.txt")).unwrap(),
            "mine"
        );
    }

    #[test]
    fn a_newer_format_is_refused() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join(MARKER), "format = 99\n").unwrap();
        let err = claim(t.path(), true).unwrap_err().to_string();
        assert!(err.contains("format 99"), "{err}");
    }

    #[test]
    fn only_tantivy_files_are_removed_from_its_folder() {
        let t = tempfile::tempdir().unwrap();
        let lex = t.path().join("tantivy");
        std::fs::create_dir(&lex).unwrap();
        for n in [
            "meta.json",
            ".managed.json",
            ".tantivy-writer.lock",
            "0123456789abcdef0123456789abcdef.idx",
            "0123456789abcdef0123456789abcdef.12.del",
            "keep.txt",
        ] {
            std::fs::write(lex.join(n), "x").unwrap();
        }
        remove_part(t.path(), Part::Lexical).unwrap();
        let left: Vec<_> = std::fs::read_dir(&lex)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(left, vec!["keep.txt".to_string()]);
    }

    #[test]
    fn the_writer_lock_is_exclusive() {
        let t = tempfile::tempdir().unwrap();
        let first = try_lock_writer(t.path()).unwrap();
        assert!(first.is_some());
        assert!(try_lock_writer(t.path()).unwrap().is_none());
        drop(first);
        assert!(try_lock_writer(t.path()).unwrap().is_some());
    }
}
