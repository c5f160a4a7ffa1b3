//! Finds the workspace a folder belongs to, the way git finds its repository: a command run from a subfolder
//! uses the enclosing workspace's index (and narrows its results to the subfolder) instead of building a second
//! index of the subfolder.

use std::path::{Path, PathBuf};

use anyhow::Context;

/// A workspace found from a starting folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoundRoot {
    /// The workspace root (canonical).
    pub root: PathBuf,
    /// The starting folder relative to the root, `/`-separated; empty when the start is the root.
    pub subfolder: String,
}

impl FoundRoot {
    /// A path glob that keeps results inside the starting folder (`None` at the root).
    pub fn subfolder_glob(&self) -> Option<String> {
        if self.subfolder.is_empty() {
            return None;
        }
        let escaped = globset::escape(&self.subfolder);
        Some(format!("{escaped}/**"))
    }
}

/// The workspace that holds `start`: the nearest folder at or above it that has a `.git` entry or an existing
/// index under `index_base` (see [`crate::index::index_dir_for`]), else `start` itself.
pub fn find_root(start: &Path, index_base: Option<&Path>) -> anyhow::Result<FoundRoot> {
    let start = start
        .canonicalize()
        .with_context(|| format!("cannot open workspace {}", start.display()))?;
    anyhow::ensure!(start.is_dir(), "{} is not a folder", start.display());
    for dir in start.ancestors() {
        let has_git = dir.join(".git").symlink_metadata().is_ok();
        let has_index = index_base.is_some_and(|base| {
            crate::index::index_dir_for(base, dir)
                .symlink_metadata()
                .is_ok()
        });
        if has_git || has_index {
            let rel = start
                .strip_prefix(dir)
                .unwrap_or(Path::new(""))
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            return Ok(FoundRoot {
                root: dir.to_path_buf(),
                subfolder: rel,
            });
        }
    }
    Ok(FoundRoot {
        root: start,
        subfolder: String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subfolder_belongs_to_the_repository_above_it() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = tmp.path().join("repo");
        std::fs::create_dir_all(repo.join(".git")).unwrap();
        std::fs::create_dir_all(repo.join("src/deep [x]")).unwrap();
        let found = find_root(&repo.join("src/deep [x]"), None).unwrap();
        assert_eq!(found.root, repo.canonicalize().unwrap());
        assert_eq!(found.subfolder, "src/deep [x]");
        let glob = found.subfolder_glob().unwrap();
        let set = globset::Glob::new(&glob).unwrap().compile_matcher();
        assert!(set.is_match("src/deep [x]/a.rs"));
        assert!(!set.is_match("src/deep x/a.rs"));
        assert!(!set.is_match("src/other.rs"));

        let at_root = find_root(&repo, None).unwrap();
        assert_eq!(at_root.subfolder, "");
        assert_eq!(at_root.subfolder_glob(), None);
    }

    #[test]
    fn an_existing_index_marks_a_workspace_without_git() {
        let tmp = tempfile::tempdir().unwrap();
        let ws = tmp.path().join("ws");
        std::fs::create_dir_all(ws.join("lib")).unwrap();
        let base = tmp.path().join("base");
        let canonical = ws.canonicalize().unwrap();
        std::fs::create_dir_all(crate::index::index_dir_for(&base, &canonical)).unwrap();
        let found = find_root(&ws.join("lib"), Some(&base)).unwrap();
        assert_eq!(found.root, canonical);
        assert_eq!(found.subfolder, "lib");
        // Another workspace's index does not claim a sibling folder.
        let other = tmp.path().join("plain");
        std::fs::create_dir_all(&other).unwrap();
        let found = find_root(&other, Some(&base)).unwrap();
        assert_ne!(found.root, canonical);
    }
}
