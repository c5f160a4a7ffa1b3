//! Reading one workspace file safely: never through a symbolic link, never blocking on a FIFO or a
//! device, never more than the size limit, and never from a pseudo file system (procfs, sysfs...).
//!
//! Discovery and reading are apart in time: a file found as a regular file may have become a FIFO, a
//! link to `~/.ssh` or a folder link by the time it is read. So a read trusts nothing discovery saw:
//! it walks the relative path from the workspace root one folder at a time, refusing links at every
//! step (`O_NOFOLLOW`), opens the file without blocking (`O_NONBLOCK`), checks the type of what it
//! opened (`fstat`: only regular files), and reads at most the limit plus one byte, whatever the size
//! `fstat` claims (procfs files say 0 and stream without end).

use std::io::Read;
use std::path::Path;

use super::Skip;

/// Why a file was not read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file is not indexable text: too large, not a regular file, a link, on a pseudo file
    /// system, binary...
    #[error("{0}")]
    Skipped(Skip),
    /// The file system refused (gone, permission denied...).
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl From<Skip> for ReadError {
    fn from(s: Skip) -> Self {
        ReadError::Skipped(s)
    }
}

/// Reads at most `max` bytes from `r`: more than that is [`Skip::TooLarge`] (with the count read so
/// far, one past the limit). `hint` (the size the file claims) only sizes the first allocation.
pub fn read_bounded(r: impl Read, max: u64, hint: u64) -> Result<Vec<u8>, ReadError> {
    let mut buf = Vec::with_capacity(hint.min(max).saturating_add(1).min(1 << 20) as usize);
    r.take(max.saturating_add(1)).read_to_end(&mut buf)?;
    if buf.len() as u64 > max {
        return Err(Skip::TooLarge(buf.len() as u64).into());
    }
    Ok(buf)
}

/// Reads the file at key `rel` (see [`super::key`]) under `root`, at most `max` bytes.
pub fn read_file(root: &Path, rel: &str, max: u64) -> Result<Vec<u8>, ReadError> {
    let raw = super::key::key_to_bytes(rel);
    let parts: Vec<&[u8]> = raw.split(|b| *b == b'/').collect();
    if parts
        .iter()
        .any(|p| p.is_empty() || *p == b"." || *p == b"..")
    {
        return Err(Skip::Outside.into());
    }
    imp::read_file(root, &parts, max)
}

#[cfg(unix)]
mod imp {
    use std::os::fd::OwnedFd;
    use std::path::Path;

    use rustix::fs::{FileType, Mode, OFlags};
    use rustix::io::Errno;

    use super::{ReadError, Skip, read_bounded};

    /// Opens `name` in `dir` without following a link and without blocking.
    fn open_at(dir: &OwnedFd, name: &[u8], flags: OFlags) -> Result<OwnedFd, ReadError> {
        let flags = flags | OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NOCTTY;
        match rustix::fs::openat(dir, name, flags, Mode::empty()) {
            Ok(fd) => Ok(fd),
            // `O_NOFOLLOW` on a link; `O_DIRECTORY` on a non-folder.
            Err(Errno::LOOP) | Err(Errno::NOTDIR) => Err(Skip::NotRegular.into()),
            Err(e) => Err(ReadError::Io(e.into())),
        }
    }

    pub(super) fn read_file(root: &Path, parts: &[&[u8]], max: u64) -> Result<Vec<u8>, ReadError> {
        let (name, dirs) = parts.split_last().ok_or(Skip::Outside)?;
        // The root itself may be a link: the user named it.
        let mut dir: OwnedFd = std::fs::File::open(root)?.into();
        for d in dirs {
            dir = open_at(&dir, d, OFlags::DIRECTORY)?;
        }
        let fd = open_at(&dir, name, OFlags::NONBLOCK)?;
        let st = rustix::fs::fstat(&fd).map_err(std::io::Error::from)?;
        if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
            return Err(Skip::NotRegular.into());
        }
        if crate::vfs::pseudo::is_pseudo_fd(&fd) {
            return Err(Skip::PseudoFs.into());
        }
        let size = st.st_size.max(0) as u64;
        if size > max {
            return Err(Skip::TooLarge(size).into());
        }
        read_bounded(std::fs::File::from(fd), max, size)
    }
}

#[cfg(not(unix))]
mod imp {
    use std::path::Path;

    use super::{ReadError, Skip, read_bounded};

    pub(super) fn read_file(root: &Path, parts: &[&[u8]], max: u64) -> Result<Vec<u8>, ReadError> {
        let mut path = root.to_path_buf();
        for p in parts {
            path.push(String::from_utf8_lossy(p).as_ref());
        }
        let meta = std::fs::symlink_metadata(&path)?;
        if !meta.file_type().is_file() {
            return Err(Skip::NotRegular.into());
        }
        if meta.len() > max {
            return Err(Skip::TooLarge(meta.len()).into());
        }
        read_bounded(std::fs::File::open(&path)?, max, meta.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endless_stream_is_cut_one_byte_past_the_limit() {
        // A procfs file claims 0 bytes and streams without end; `std::io::repeat` does the same.
        match read_bounded(std::io::repeat(b'x'), 1000, 0) {
            Err(ReadError::Skipped(Skip::TooLarge(n))) => assert_eq!(n, 1001),
            other => panic!("expected too large, got {other:?}"),
        }
        assert_eq!(read_bounded(&b"abc"[..], 3, 0).unwrap(), b"abc");
    }

    #[test]
    fn paths_leaving_the_root_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for rel in [
            "../x.py",
            "a/../../x.py",
            "/etc/passwd",
            "a//b.py",
            "./a.py",
        ] {
            assert!(
                matches!(
                    read_file(dir.path(), rel, 100),
                    Err(ReadError::Skipped(Skip::Outside))
                ),
                "{rel}"
            );
        }
    }
}
