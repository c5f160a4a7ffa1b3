//! A result is one definition: the member of a pack that answers, a method of a big class, a whole split
//! function with the piece that matched, a Markdown section; each at its own range, and each definition once.

use sg::chunk::{ChunkConfig, ChunkKind};
use sg::index::{NoProgress, Workspace};
use sg::query::{SearchHit, SearchRequest};
use sg::search::{Mode, RankConfig};

use crate::support::{TestWs, real_fast_model, real_model};

/// Small functions (one pack), a class too big for one unit, a function too long for one, and a guide.
fn fixture() -> String {
    let mut big_class = String::from(
        "class LogStore:\n    \"\"\"Keeps application logs on disk.\"\"\"\n\n    def __init__(self, folder):\n        self.folder = folder\n        self.files = []\n",
    );
    for (name, body) in [
        (
            "rotate_logs",
            "\"\"\"Start a fresh log file once the current one grows past its size limit.\"\"\"\n        if self.size() > self.limit:\n            self.files.append(self.open_new())",
        ),
        (
            "compress_archive",
            "\"\"\"Pack old log files into a gzip archive to save space.\"\"\"\n        import gzip\n        with gzip.open(self.folder + '/old.gz', 'wb') as out:\n            for f in self.files[:-1]:\n                out.write(open(f, 'rb').read())",
        ),
        (
            "prune_expired",
            "\"\"\"Delete archived logs older than the retention period.\"\"\"\n        cutoff = time.time() - self.retention\n        self.files = [f for f in self.files if os.path.getmtime(f) >= cutoff]",
        ),
    ] {
        big_class.push_str(&format!("\n    def {name}(self):\n        {body}\n"));
        // Padding so that the class cannot be one unit.
        for i in 0..6 {
            big_class.push_str(&format!(
                "        self.trace.append('step {i} of {name}: a line to make the method longer')\n"
            ));
        }
    }
    let mut long_fn = String::from(
        "def migrate_schema(db):\n    \"\"\"Bring the database tables up to the newest layout.\"\"\"\n",
    );
    for i in 0..60 {
        if i == 40 {
            long_fn.push_str(
                "    db.execute('CREATE INDEX quokka_lookup ON quokka_sightings (region)')\n",
            );
        } else {
            long_fn.push_str(&format!(
                "    db.execute('ALTER TABLE t{i} ADD COLUMN c{i} TEXT')\n"
            ));
        }
    }
    format!(
        r#"
//- /src/utils.py
import zlib


def compute_checksum(data):
    """Fold every byte into a 32-bit value."""
    return zlib.crc32(data) & 0xFFFFFFFF


def slugify(title):
    """Turn a title into a lowercase identifier joined by dashes."""
    return "-".join(title.lower().split())


def clamp(value, low, high):
    """Keep a number between two bounds."""
    return max(low, min(high, value))

//- /src/logs.py
import os
import time


{big_class}
//- /src/migrate.py
{long_fn}
//- /docs/guide.md
# Guide

An introduction to the project.

## Installing

Download the archive and run the installer script with administrator rights.

## Troubleshooting

If the daemon refuses to start, remove the stale lock file and try again.
"#
    )
}

/// The 1-based line of the first line of `file` that contains `needle`.
fn line(t: &TestWs, file: &str, needle: &str) -> u32 {
    let text = std::fs::read_to_string(t.root().join(file)).unwrap();
    1 + text
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not in {file}")) as u32
}

fn search(ws: &Workspace, q: &str, mode: Mode) -> Vec<SearchHit> {
    let mut req = SearchRequest::new(q, 10);
    req.mode = mode;
    ws.search(&req, &RankConfig::default()).unwrap().hits
}

fn indexed(t: &TestWs, with_models: bool) -> Workspace {
    indexed_with(t, with_models, ChunkConfig::default())
}

/// Indexed with small neighbours packed into one text for the main model (packing is off by default: each
/// definition gets a vector of its own).
fn indexed_packed(t: &TestWs, with_models: bool) -> Workspace {
    let chunk = ChunkConfig {
        pack_chars: 1500,
        ..ChunkConfig::default()
    };
    indexed_with(t, with_models, chunk)
}

fn indexed_with(t: &TestWs, with_models: bool, chunk: ChunkConfig) -> Workspace {
    let mut opts = t.options(with_models.then(real_model));
    opts.config.chunk = chunk;
    if with_models {
        opts.fast_embedder = Some(real_fast_model());
    }
    let ws = Workspace::open(&t.root(), opts).unwrap();
    ws.update(&NoProgress).unwrap();
    ws
}

#[test]
fn a_packed_neighbours_hit_is_the_member_that_answers() {
    let t = TestWs::new(&fixture());
    let ws = indexed_packed(&t, false);
    let top = &search(&ws, "lowercase identifier joined by dashes", Mode::Lexical)[0];
    assert_eq!(top.path, "src/utils.py");
    assert_eq!(top.symbol.as_deref(), Some("slugify"));
    assert_eq!(top.kind, ChunkKind::Function);
    let start = line(&t, "src/utils.py", "def slugify");
    assert_eq!(
        (top.start_line, top.end_line),
        (start, start + 2),
        "{top:?}"
    );
    assert_eq!(top.match_lines, (start, start + 2));
}

#[test]
fn by_meaning_the_member_that_answers_comes_first_not_its_neighbours() {
    for packed in [false, true] {
        // Each small function has a vector of its own, or (packed) the three share one of the main model and
        // the fast tier and the words tell them apart.
        let t = TestWs::new(&fixture());
        let ws = if packed {
            indexed_packed(&t, true)
        } else {
            indexed(&t, true)
        };
        the_member_that_answers_comes_first(&t, &ws);
    }
}

fn the_member_that_answers_comes_first(t: &TestWs, ws: &Workspace) {
    let top = &search(ws, "make a url-friendly name from a heading", Mode::Hybrid)[0];
    assert_eq!(
        (top.path.as_str(), top.symbol.as_deref()),
        ("src/utils.py", Some("slugify")),
        "{top:?}"
    );
    let top = &search(ws, "restrict a number to a range", Mode::Hybrid)[0];
    assert_eq!(top.symbol.as_deref(), Some("clamp"), "{top:?}");
    let start = line(t, "src/utils.py", "def clamp");
    assert_eq!((top.start_line, top.end_line), (start, start + 2));
}

#[test]
fn a_method_of_a_big_class_is_returned_as_the_method() {
    let t = TestWs::new(&fixture());
    let ws = indexed(&t, false);
    let hits = search(&ws, "gzip archive to save space", Mode::Lexical);
    let top = &hits[0];
    assert_eq!(top.path, "src/logs.py");
    assert_eq!(top.symbol.as_deref(), Some("compress_archive"));
    assert_eq!(top.kind, ChunkKind::Method);
    let start = line(&t, "src/logs.py", "def compress_archive");
    let end = line(&t, "src/logs.py", "step 5 of compress_archive");
    assert_eq!((top.start_line, top.end_line), (start, end), "{top:?}");
    // The class answers when the class is asked about, at the class's whole range.
    let hits = search(&ws, "LogStore", Mode::Lexical);
    let class = hits
        .iter()
        .find(|h| h.symbol.as_deref() == Some("LogStore"))
        .expect("the class is found");
    assert_eq!(class.kind, ChunkKind::Class);
    let (first, last) = (
        line(&t, "src/logs.py", "class LogStore"),
        line(&t, "src/logs.py", "step 5 of prune_expired"),
    );
    assert_eq!((class.start_line, class.end_line), (first, last));
    assert!(
        class.match_lines.0 >= first && class.match_lines.1 < last,
        "the header matched, not the whole class: {class:?}"
    );
}

#[test]
fn a_long_function_is_one_result_with_the_piece_that_matched() {
    let t = TestWs::new(&fixture());
    let ws = indexed(&t, false);
    let hits = search(&ws, "quokka sightings region", Mode::Lexical);
    let top = &hits[0];
    assert_eq!(top.symbol.as_deref(), Some("migrate_schema"));
    let (start, end) = (
        line(&t, "src/migrate.py", "def migrate_schema"),
        line(&t, "src/migrate.py", "ADD COLUMN c59"),
    );
    assert_eq!((top.start_line, top.end_line), (start, end), "{top:?}");
    let hit_line = line(&t, "src/migrate.py", "quokka_lookup");
    assert!(
        top.match_lines.0 <= hit_line
            && top.match_lines.1 >= hit_line
            && (top.match_lines.0, top.match_lines.1) != (start, end),
        "the matching window, inside the function: {top:?}"
    );
    assert!(top.snippet.contains("quokka_lookup"), "{}", top.snippet);
    // Each definition once, although several of its windows match "ALTER TABLE".
    let hits = search(&ws, "alter table add column", Mode::Lexical);
    let n = hits
        .iter()
        .filter(|h| h.symbol.as_deref() == Some("migrate_schema"))
        .count();
    assert_eq!(n, 1, "{hits:#?}");
}

#[test]
fn a_markdown_hit_is_its_section() {
    let t = TestWs::new(&fixture());
    let ws = indexed(&t, false);
    let top = &search(&ws, "daemon refuses to start stale lock", Mode::Lexical)[0];
    assert_eq!(top.path, "docs/guide.md");
    assert_eq!(top.kind, ChunkKind::Section);
    let start = line(&t, "docs/guide.md", "## Troubleshooting");
    let end = line(&t, "docs/guide.md", "remove the stale lock file");
    assert_eq!((top.start_line, top.end_line), (start, end), "{top:?}");
}
