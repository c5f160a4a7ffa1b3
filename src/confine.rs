//! Keeps paths named from outside (an editor's URIs, file-watcher events) inside their workspace folder:
//! a path is normalised without following anything, refused when it leaves the folder or enters one
//! the index keeps for itself. Files are then read by [`crate::vfs::read_file`], which never follows a
//! symbolic link, never blocks and never reads past the size limit.

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
    /// folder. Symbolic links along the path are not looked at here: [`crate::vfs::read_file`]
    /// refuses them when the file is read.
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
    fn paths_through_links_are_told_apart() {
        let (d, c) = setup();
        let r = c.root().to_path_buf();
        let secret = d.path().join("secret.txt");
        std::fs::write(&secret, "password\n").unwrap();
        std::os::unix::fs::symlink(&secret, r.join("src/link.py")).unwrap();
        std::os::unix::fs::symlink(d.path(), r.join("up")).unwrap();
        assert!(!c.through_link("src/a.py") && !c.through_link("src/new/b.py"));
        assert!(c.through_link("src/link.py") && c.through_link("up/secret.txt"));
        // What the language server then reads goes through vfs::read_file, which refuses both links.
        let err = crate::vfs::read_file(&r, "src/link.py", 100).unwrap_err();
        assert!(
            matches!(
                err,
                crate::vfs::ReadError::Skipped(crate::vfs::Skip::NotRegular)
            ),
            "{err}"
        );
        assert!(crate::vfs::read_file(&r, "up/secret.txt", 100).is_err());
        assert_eq!(
            crate::vfs::read_file(&r, "src/a.py", 100).unwrap(),
            b"def a(): pass\n"
        );
    }
}
