//! The only place that knows the file system: workspace discovery (ignore rules, default exclusions,
//! size and binary checks), reading files as text, and relative path conventions.
//!
//! A file is known by its key: its path relative to the workspace root, `/`-separated, each name in
//! the lossless form of [`key`] (names that are not UTF-8 stay distinct). [`rel_path`] makes a key,
//! [`abs_path`] turns one back into the path on disk, and [`read_text`] reads the file a key names.

pub mod key;
mod pseudo;
mod read;

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use ignore::WalkBuilder;
use ignore::overrides::OverrideBuilder;

use crate::config::IndexConfig;
use crate::syntax::Language;

pub use self::pseudo::is_pseudo_path;
pub use self::read::{ReadError, read_bounded, read_file};

/// Folders skipped everywhere: build output, dependencies, caches and version-control metadata.
pub const DEFAULT_EXCLUDED_DIRS: &[&str] = &[
    ".git",
    ".hg",
    ".svn",
    "target",
    "node_modules",
    "bower_components",
    "dist",
    "build",
    ".venv",
    "venv",
    "__pycache__",
    ".mypy_cache",
    ".pytest_cache",
    ".tox",
    ".gradle",
    ".idea",
    ".vscode",
    ".next",
    ".nuxt",
    ".cache",
    "vendor",
    "third_party",
    "Pods",
    "DerivedData",
    "_build",
    "deps",
    ".stack-work",
    "zig-cache",
    ".zig-cache",
    "zig-out",
];

/// File names skipped everywhere: lock files and other machine-written files.
pub const DEFAULT_EXCLUDED_FILES: &[&str] = &[
    "Cargo.lock",
    "package-lock.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "bun.lockb",
    "poetry.lock",
    "Pipfile.lock",
    "uv.lock",
    "Gemfile.lock",
    "composer.lock",
    "go.sum",
    "mix.lock",
    "flake.lock",
    "packages.lock.json",
    "*.min.js",
    "*.min.css",
    "*.map",
    "*.pb.go",
    "*_pb2.py",
    "*.generated.*",
    "*.lock",
];

/// Extensions of files that are never text worth searching.
const BINARY_EXTENSIONS: &[&str] = &[
    "png",
    "jpg",
    "jpeg",
    "gif",
    "bmp",
    "ico",
    "webp",
    "svgz",
    "pdf",
    "zip",
    "gz",
    "tgz",
    "bz2",
    "xz",
    "zst",
    "7z",
    "rar",
    "jar",
    "war",
    "class",
    "o",
    "a",
    "so",
    "dylib",
    "dll",
    "exe",
    "bin",
    "wasm",
    "pyc",
    "pyo",
    "woff",
    "woff2",
    "ttf",
    "otf",
    "eot",
    "mp3",
    "mp4",
    "wav",
    "ogg",
    "mov",
    "avi",
    "safetensors",
    "onnx",
    "pt",
    "pth",
    "ckpt",
    "npy",
    "npz",
    "parquet",
    "sqlite",
    "db",
    "mdb",
    "lmdb",
    "psd",
    "xcf",
    "iso",
    "dmg",
    "deb",
    "rpm",
];

/// A file found by discovery.
#[derive(Clone, Debug)]
pub struct FoundFile {
    /// The file's key: its path relative to the workspace root, `/`-separated (see [`key`]).
    pub rel_path: String,
    /// Absolute path.
    pub abs_path: PathBuf,
    /// Size in bytes.
    pub size: u64,
    /// Modification time, nanoseconds since the epoch.
    pub mtime_ns: u64,
}

/// Why a file was left out of the index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Skip {
    /// Larger than the configured limit.
    TooLarge(u64),
    /// Contains NUL bytes or has a binary extension.
    Binary,
    /// Looks machine-written: very long lines (minified code).
    Minified,
    /// Not a regular file when it was opened: a FIFO, socket, device, folder or symbolic link
    /// (possibly swapped in after discovery).
    NotRegular,
    /// On a pseudo file system (procfs, sysfs...): kernel interfaces, not files.
    PseudoFs,
    /// The path leaves the workspace folder (`..`, an absolute or empty component).
    Outside,
}

impl std::fmt::Display for Skip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Skip::TooLarge(n) => write!(f, "too large ({n} bytes)"),
            Skip::Binary => write!(f, "binary"),
            Skip::Minified => write!(f, "minified or generated"),
            Skip::NotRegular => write!(f, "not a regular file"),
            Skip::PseudoFs => write!(f, "on a pseudo file system"),
            Skip::Outside => write!(f, "outside the workspace folder"),
        }
    }
}

/// The key of `abs` under `root` (its relative `/`-separated path, names as in [`key`]), if it is
/// inside.
pub fn rel_path(root: &Path, abs: &Path) -> Option<String> {
    let rel = abs.strip_prefix(root).ok()?;
    let mut out = String::new();
    for comp in rel.components() {
        if !out.is_empty() {
            out.push('/');
        }
        out.push_str(&key::name_to_key(comp.as_os_str()));
    }
    (!out.is_empty()).then_some(out)
}

/// The path on disk of the file with key `rel` under `root`: the inverse of [`rel_path`].
pub fn abs_path(root: &Path, rel: &str) -> PathBuf {
    root.join(key::key_to_name(rel))
}

/// Reads the file with key `rel` under `root` as indexable text: at most `max_size` bytes, only a
/// regular file reached without links (see [`read_file`]), neither binary nor minified, decoded
/// lossily.
pub fn read_text(root: &Path, rel: &str, max_size: u64) -> Result<String, ReadError> {
    let bytes = read_file(root, rel, max_size)?;
    classify_text(&bytes)?;
    Ok(decode_text(bytes))
}

fn mtime_ns(meta: &std::fs::Metadata) -> u64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

fn has_binary_extension(path: &str) -> bool {
    path.rsplit_once('.')
        .map(|(_, ext)| {
            BINARY_EXTENSIONS
                .iter()
                .any(|b| b.eq_ignore_ascii_case(ext))
        })
        .unwrap_or(false)
}

/// Builds the walker with sg's rules: `.gitignore` (also outside git repositories), `.ignore`,
/// `.sgignore`, hidden files skipped, links not followed, default and configured exclusions, folders on
/// pseudo file systems (procfs, sysfs...) never entered. The walk never enters an entry `keep` refuses.
fn walker(
    root: &Path,
    cfg: &IndexConfig,
    keep: impl Fn(&Path) -> bool + Send + Sync + 'static,
) -> anyhow::Result<ignore::Walk> {
    let mut overrides = OverrideBuilder::new(root);
    for d in DEFAULT_EXCLUDED_DIRS {
        overrides.add(&format!("!**/{d}/"))?;
    }
    for f in DEFAULT_EXCLUDED_FILES {
        overrides.add(&format!("!{f}"))?;
    }
    for g in &cfg.exclude {
        overrides.add(&format!("!{g}"))?;
    }
    let overrides = overrides.build()?;
    let walk = WalkBuilder::new(root)
        .hidden(true)
        .follow_links(false)
        .git_ignore(true)
        .git_global(false)
        .git_exclude(true)
        .require_git(false)
        .ignore(true)
        .parents(true)
        .add_custom_ignore_filename(".sgignore")
        .overrides(overrides)
        .sort_by_file_path(|a, b| a.cmp(b))
        // One filter (a second `filter_entry` would replace the first).
        .filter_entry(move |e| {
            !(e.file_type().is_some_and(|t| t.is_dir()) && is_pseudo_path(e.path()))
                && keep(e.path())
        })
        .build();
    Ok(walk)
}

/// Lists the files of a workspace that pass the ignore rules and the size limit, sorted by path.
/// Unreadable entries are logged and skipped; a root on a pseudo file system has no files.
pub fn discover(root: &Path, cfg: &IndexConfig) -> anyhow::Result<Vec<FoundFile>> {
    discover_filtered(root, cfg, |_| true)
}

/// [`discover`], entering only the entries (absolute paths) `keep` accepts: a workspace leaves out
/// its own index folder, a watcher event checks just the paths it names.
pub fn discover_filtered(
    root: &Path,
    cfg: &IndexConfig,
    keep: impl Fn(&Path) -> bool + Send + Sync + 'static,
) -> anyhow::Result<Vec<FoundFile>> {
    let mut out = Vec::new();
    if is_pseudo_path(root) {
        tracing::warn!(target: "sg::vfs", "{} is on a pseudo file system (procfs, sysfs...): nothing to index", root.display());
        return Ok(out);
    }
    for entry in walker(root, cfg, keep)? {
        let entry = match entry {
            Ok(e) => e,
            Err(err) => {
                tracing::warn!(target: "sg::vfs", "skipping unreadable entry: {err}");
                continue;
            }
        };
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let Some(rel) = rel_path(root, entry.path()) else {
            continue;
        };
        if has_binary_extension(&rel) {
            continue;
        }
        let meta = match entry.metadata() {
            Ok(m) => m,
            Err(err) => {
                tracing::warn!(target: "sg::vfs", "skipping {rel}: {err}");
                continue;
            }
        };
        if meta.len() > cfg.max_file_size {
            tracing::debug!(target: "sg::vfs", "skipping {rel}: {}", Skip::TooLarge(meta.len()));
            continue;
        }
        if cfg.code_only && !Language::from_path(Path::new(&rel)).is_code() {
            continue;
        }
        out.push(FoundFile {
            rel_path: rel,
            abs_path: entry.into_path(),
            size: meta.len(),
            mtime_ns: mtime_ns(&meta),
        });
    }
    Ok(out)
}

/// Whether a path (relative to the root) would be indexed by discovery: used for watcher events and
/// editor buffers, which do not come from the walk.
pub fn is_indexable(root: &Path, rel: &str, cfg: &IndexConfig) -> bool {
    if has_binary_extension(rel) {
        return false;
    }
    let path = Path::new(rel);
    for comp in path.components() {
        let name = comp.as_os_str().to_string_lossy();
        if name.starts_with('.') && name.len() > 1 {
            return false;
        }
        if DEFAULT_EXCLUDED_DIRS.contains(&name.as_ref()) {
            return false;
        }
    }
    if cfg.code_only && !Language::from_path(path).is_code() {
        return false;
    }
    let mut overrides = OverrideBuilder::new(root);
    for f in DEFAULT_EXCLUDED_FILES
        .iter()
        .map(|s| s.to_string())
        .chain(cfg.exclude.iter().cloned())
    {
        let _ = overrides.add(&format!("!{f}"));
    }
    match overrides.build() {
        Ok(o) => !o.matched(root.join(rel), false).is_ignore(),
        Err(_) => true,
    }
}

/// Decides whether text is worth indexing: rejects NUL bytes (binary) and minified code (very long
/// average lines).
pub fn classify_text(bytes: &[u8]) -> Result<(), Skip> {
    let head = &bytes[..bytes.len().min(8192)];
    if memchr::memchr(0, head).is_some() {
        return Err(Skip::Binary);
    }
    if bytes.len() > 4096 {
        let lines = memchr::memchr_iter(b'\n', bytes).count() + 1;
        if bytes.len() / lines > 400 {
            return Err(Skip::Minified);
        }
    }
    Ok(())
}

/// Decodes file bytes as UTF-8, replacing invalid sequences (never fails).
pub fn decode_text(bytes: Vec<u8>) -> String {
    match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

/// The language of a file: by name, then by shebang for extension-less scripts.
pub fn detect_language(rel: &str, text: &str) -> Language {
    let lang = Language::from_path(Path::new(rel));
    if lang == Language::Text
        && let Some(l) = text.lines().next().and_then(Language::from_shebang)
    {
        return l;
    }
    lang
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, rel: &str, text: &[u8]) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    #[test]
    fn discovery_honours_ignores_and_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "src/main.rs", b"fn main() {}");
        write(root, "src/gen.rs", b"fn gen() {}");
        write(root, "target/debug/x.rs", b"fn x() {}");
        write(root, "node_modules/a/index.js", b"x");
        write(root, ".hidden/a.py", b"x");
        write(root, "Cargo.lock", b"x");
        write(root, "web/app.min.js", b"x");
        write(root, "img.png", b"x");
        write(root, "notes/skip.md", b"x");
        write(root, "big.txt", &vec![b'a'; 2000]);
        write(root, ".gitignore", b"src/gen.rs\n");
        write(root, ".sgignore", b"notes/\n");
        let cfg = IndexConfig {
            max_file_size: 1000,
            ..IndexConfig::default()
        };
        let found: Vec<_> = discover(root, &cfg)
            .unwrap()
            .into_iter()
            .map(|f| f.rel_path)
            .collect();
        assert_eq!(found, vec!["src/main.rs"]);
    }

    #[cfg(unix)]
    #[test]
    fn symlink_loops_are_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "a/lib.py", b"def f(): pass\n");
        std::os::unix::fs::symlink(root.join("a"), root.join("a/loop")).unwrap();
        let found: Vec<_> = discover(root, &IndexConfig::default())
            .unwrap()
            .into_iter()
            .map(|f| f.rel_path)
            .collect();
        assert_eq!(found, vec!["a/lib.py"]);
    }

    #[test]
    fn classify_rejects_binary_and_minified() {
        assert_eq!(classify_text(b"abc\0def"), Err(Skip::Binary));
        let minified = vec![b'x'; 10_000];
        assert_eq!(classify_text(&minified), Err(Skip::Minified));
        assert_eq!(classify_text(b"fn main() {}\n"), Ok(()));
        assert_eq!(classify_text(b""), Ok(()));
    }

    #[test]
    fn invalid_utf8_is_decoded_lossily() {
        assert_eq!(
            decode_text(b"ok \xff\xfe end".to_vec()),
            "ok \u{fffd}\u{fffd} end"
        );
    }

    #[test]
    fn indexable_checks_match_discovery_rules() {
        let root = Path::new("/ws");
        let cfg = IndexConfig::default();
        assert!(is_indexable(root, "src/a.rs", &cfg));
        assert!(!is_indexable(root, "target/a.rs", &cfg));
        assert!(!is_indexable(root, ".git/config", &cfg));
        assert!(!is_indexable(root, "Cargo.lock", &cfg));
        assert!(!is_indexable(root, "logo.png", &cfg));
    }
}
