//! Keeps paths named from outside (an editor's URIs, file-watcher events) inside their workspace folder:
//! a path is normalised without following anything, refused when it leaves the folder or enters one
//! the index keeps for itself, and a file is read without following symbolic links, with its size
//! bounded whatever its metadata claims.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

/// Why a path was refused.
#[derive(Clone, Copy, Debug, thiserror::Error, PartialEq, Eq)]
pub enum Refusal {
    /// Not an absolute path.
    #[error("not an absolute path")]
    Relative,
    /// Outside the workspace folder (after `.` and `..` were applied).
    #[error("outside the workspace folder")]
    Outside,
    /// The workspace folder itself, not a file in it.
    #[error("the workspace folder itself")]
    Root,
    /// Inside a folder the index keeps for itself.
    #[error("inside the index folder")]
    Private,
}

/// A workspace folder and the rules that keep paths inside it.
#[derive(Clone, Debug)]
pub struct Confinement {
    root: PathBuf,
    aliases: Vec<PathBuf>,
    private: Vec<PathBuf>,
}

/// `path` with `.` dropped and `..` applied, lexically: no link is followed, and `..` at the top stays
/// at the top, as the kernel does.
pub fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if out.parent().is_some() {
                    out.pop();
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

impl Confinement {
    /// Confines paths to `root`, canonicalised (the kernel's name for it) when it exists, else
    /// normalised.
    pub fn new(root: &Path) -> Self {
        let root = root.canonicalize().unwrap_or_else(|_| normalise(root));
        Confinement {
            aliases: Vec::new(),
            private: Vec::new(),
            root,
        }
    }

    /// Also accepts paths that name the root as `alias` (how the client spelled it, before links in
    /// it were resolved).
    pub fn with_alias(mut self, alias: &Path) -> Self {
        let alias = normalise(alias);
        if alias.is_absolute() && alias != self.root && !self.aliases.contains(&alias) {
            self.aliases.push(alias);
        }
        self
    }

    /// Refuses everything inside `dir` (the index folder, the embedding cache).
    pub fn with_private(mut self, dir: &Path) -> Self {
        let dir = dir.canonicalize().unwrap_or_else(|_| normalise(dir));
        if !self.private.contains(&dir) {
            self.private.push(dir);
        }
        self
    }

    /// The canonical root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The folders refused.
    pub fn private_dirs(&self) -> &[PathBuf] {
        &self.private
    }

    /// Whether `abs` (an absolute path under the canonical root) lies in a private folder.
    pub fn is_private(&self, abs: &Path) -> bool {
        self.private.iter().any(|d| abs.starts_with(d))
    }

    /// The workspace-relative, `/`-separated path of `path`, normalised lexically (nothing is
    /// followed). Refused when it leaves the folder, names the folder itself, or lies in a private
    /// folder. Symbolic links along the path are not looked at here: [`Confinement::open`] refuses
    /// them when the file is read.
    pub fn rel(&self, path: &Path) -> Result<String, Refusal> {
        if !path.is_absolute() {
            return Err(Refusal::Relative);
        }
        let path = normalise(path);
        let (base, under) = std::iter::once(&self.root)
            .chain(&self.aliases)
            .find_map(|r| path.strip_prefix(r).ok().map(|u| (r, u)))
            .ok_or(Refusal::Outside)?;
        let rel = crate::vfs::rel_path(base, &path).ok_or(Refusal::Root)?;
        if self.is_private(&self.root.join(under)) {
            return Err(Refusal::Private);
        }
        Ok(rel)
    }

    /// Whether a folder or the file on the way to `rel` is a symbolic link (components that do not
    /// exist are not). An editor buffer opened through a link holds text from wherever it leads.
    pub fn through_link(&self, rel: &str) -> bool {
        let mut path = self.root.clone();
        for part in rel.split('/') {
            path.push(part);
            match std::fs::symlink_metadata(&path) {
                Ok(m) if m.file_type().is_symlink() => return true,
                Ok(_) => {}
                Err(_) => return false,
            }
        }
        false
    }

    /// Opens the file at `rel` for reading without following a symbolic link anywhere below the root,
    /// and without blocking on a FIFO or a device: each folder on the way must be a real folder, and
    /// what is opened must be a regular file.
    pub fn open(&self, rel: &str) -> io::Result<File> {
        let refuse = |what: String| io::Error::new(io::ErrorKind::InvalidInput, what);
        let parts: Vec<&str> = rel.split('/').collect();
        if parts
            .iter()
            .any(|p| p.is_empty() || *p == "." || *p == "..")
        {
            return Err(refuse(format!("{rel:?} is not a normalised relative path")));
        }
        let mut path = self.root.clone();
        for (i, part) in parts.iter().enumerate() {
            path.push(part);
            if self.is_private(&path) {
                return Err(refuse(format!("{rel} is inside the index folder")));
            }
            let meta = std::fs::symlink_metadata(&path)?;
            if meta.file_type().is_symlink() {
                let at = parts[..=i].join("/");
                return Err(refuse(format!("{at} is a symbolic link")));
            }
            if i + 1 < parts.len() && !meta.is_dir() {
                return Err(refuse(format!("{} is not a folder", parts[..=i].join("/"))));
            }
        }
        let mut opts = std::fs::OpenOptions::new();
        opts.read(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            // The last component is checked again by the kernel: a link swapped in since is refused.
            opts.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC);
        }
        let file = opts.open(&path)?;
        if !file.metadata()?.is_file() {
            return Err(refuse(format!("{rel} is not a regular file")));
        }
        Ok(file)
    }

    /// Reads the file at `rel` as [`Confinement::open`] opens it, refusing it when it holds more than
    /// `max` bytes (counted while reading, whatever its metadata says).
    pub fn read(&self, rel: &str, max: u64) -> io::Result<Vec<u8>> {
        let file = self.open(rel)?;
        let mut bytes = Vec::new();
        file.take(max.saturating_add(1)).read_to_end(&mut bytes)?;
        if bytes.len() as u64 > max {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{rel} is larger than {max} bytes"),
            ));
        }
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (tempfile::TempDir, Confinement) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("ws");
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::create_dir_all(root.join("idx/lmdb")).unwrap();
        std::fs::write(root.join("src/a.py"), "def a(): pass\n").unwrap();
        let c = Confinement::new(&root).with_private(&root.join("idx"));
        (dir, c)
    }

    #[test]
    fn paths_are_normalised_and_kept_inside() {
        let (_d, c) = setup();
        let r = c.root().to_path_buf();
        assert_eq!(c.rel(&r.join("src/a.py")), Ok("src/a.py".into()));
        assert_eq!(c.rel(&r.join("src/./x/../a.py")), Ok("src/a.py".into()));
        // Missing files are fine (deletions): nothing is looked up.
        assert_eq!(c.rel(&r.join("gone/b.rs")), Ok("gone/b.rs".into()));
        assert_eq!(
            c.rel(&r.join("../../../../etc/passwd")),
            Err(Refusal::Outside)
        );
        assert_eq!(c.rel(&r.join("src/../../ws2/a.py")), Err(Refusal::Outside));
        assert_eq!(c.rel(Path::new("/etc/passwd")), Err(Refusal::Outside));
        assert_eq!(c.rel(&r.join("src/..")), Err(Refusal::Root));
        assert_eq!(c.rel(Path::new("src/a.py")), Err(Refusal::Relative));
        assert_eq!(c.rel(&r.join("idx/lmdb/data.mdb")), Err(Refusal::Private));
        assert_eq!(c.rel(&r.join("src/../idx/x")), Err(Refusal::Private));
        assert_eq!(normalise(Path::new("/../a/./b/../c")), Path::new("/a/c"));
    }

    #[test]
    fn an_alias_of_the_root_is_accepted() {
        let (d, c) = setup();
        let c = c.with_alias(&d.path().join("alias/../ws"));
        assert_eq!(
            c.rel(&d.path().join("ws/src/a.py")).unwrap(),
            "src/a.py",
            "the root as spelled before canonicalisation"
        );
    }

    #[cfg(unix)]
    #[test]
    fn reads_never_follow_links_fifos_or_go_past_the_limit() {
        let (d, c) = setup();
        let r = c.root().to_path_buf();
        let secret = d.path().join("secret.txt");
        std::fs::write(&secret, "password\n").unwrap();
        std::os::unix::fs::symlink(&secret, r.join("src/link.py")).unwrap();
        std::os::unix::fs::symlink(d.path(), r.join("up")).unwrap();
        assert_eq!(c.read("src/a.py", 100).unwrap(), b"def a(): pass\n");
        assert!(!c.through_link("src/a.py") && !c.through_link("src/new/b.py"));
        assert!(c.through_link("src/link.py") && c.through_link("up/secret.txt"));
        let err = c.read("src/link.py", 100).unwrap_err().to_string();
        assert_eq!(err, "src/link.py is a symbolic link");
        let err = c.read("up/secret.txt", 100).unwrap_err().to_string();
        assert_eq!(err, "up is a symbolic link");
        let err = c.read("src/a.py", 5).unwrap_err().to_string();
        assert_eq!(err, "src/a.py is larger than 5 bytes");
        assert!(c.read("src/../../secret.txt", 100).is_err());
        assert!(c.read("idx/lmdb", 100).is_err());
        assert_eq!(
            c.read("src", 100).unwrap_err().to_string(),
            "src is not a regular file"
        );
        let fifo = r.join("src/pipe.py");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        assert_eq!(
            c.read("src/pipe.py", 100).unwrap_err().to_string(),
            "src/pipe.py is not a regular file",
            "opening a FIFO does not block"
        );
        assert_eq!(
            c.read("missing.py", 100).unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
    }
}
