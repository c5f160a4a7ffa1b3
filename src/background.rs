//! At most one background indexer per workspace: an advisory lock on a file in the index folder, held for the
//! indexer's lifetime (the OS releases it when the process exits, however it exits), with the holder's pid in it.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;

/// File name of the lock inside an index folder.
pub const LOCK_FILE: &str = "background.lock";

/// The lock, held while this value lives.
#[derive(Debug)]
pub struct BackgroundLock {
    _file: File,
    path: PathBuf,
}

impl BackgroundLock {
    /// Takes the lock of the index folder `index_dir` (created if needed), or `None` when another process
    /// holds it.
    pub fn try_acquire(index_dir: &Path) -> anyhow::Result<Option<Self>> {
        std::fs::create_dir_all(index_dir)
            .with_context(|| format!("cannot create {}", index_dir.display()))?;
        let path = index_dir.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Ok(None),
            Err(TryLockError::Error(err)) => {
                return Err(err).with_context(|| format!("cannot lock {}", path.display()));
            }
        }
        file.set_len(0)?;
        file.rewind()?;
        write!(file, "{}", std::process::id())?;
        file.flush()?;
        Ok(Some(BackgroundLock { _file: file, path }))
    }

    /// The pid of the process holding the lock of `index_dir`, if one does.
    pub fn holder(index_dir: &Path) -> Option<u32> {
        let path = index_dir.join(LOCK_FILE);
        let mut file = OpenOptions::new().read(true).open(path).ok()?;
        match file.try_lock_shared() {
            // Nobody holds it (the shared lock is dropped with the file).
            Ok(()) => None,
            Err(TryLockError::WouldBlock) => {
                let mut text = String::new();
                file.read_to_string(&mut text).ok()?;
                // A holder that has not written its pid yet still holds the lock.
                Some(text.trim().parse().unwrap_or(0))
            }
            Err(TryLockError::Error(_)) => None,
        }
    }

    /// The lock file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_indexer_is_refused_until_the_first_one_ends() {
        let tmp = tempfile::tempdir().unwrap();
        assert_eq!(BackgroundLock::holder(tmp.path()), None);
        let first = BackgroundLock::try_acquire(tmp.path()).unwrap().unwrap();
        assert_eq!(first.path(), tmp.path().join(LOCK_FILE));
        // Locks from two opens of one file conflict, within one process too.
        assert!(BackgroundLock::try_acquire(tmp.path()).unwrap().is_none());
        assert_eq!(BackgroundLock::holder(tmp.path()), Some(std::process::id()));
        drop(first);
        assert_eq!(BackgroundLock::holder(tmp.path()), None);
        assert!(BackgroundLock::try_acquire(tmp.path()).unwrap().is_some());
    }
}
