//! Fault injection on the storage: damaged, truncated and lost files, a user's folder given as the
//! index folder, paths beyond LMDB's key limit, read-only indexes and caches, a full disk, and
//! `kill -9` at random points of `sg index`. Each case ends with an index that answers like a clean
//! one, or with the clear error the case names; the `sg` binary runs wherever a crash (a signal)
//! would otherwise take the test binary down with it.

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sg::index::{NoProgress, OpenOptions, Workspace};
use sg::query::SearchRequest;
use sg::search::{Mode, RankConfig};

use crate::support::{TestWs, write_fixture};

/// Queries with one right answer, whose best hits are compared between a repaired and a clean index
/// (the order of equally scored hits depends on chunk ids, which differ between two histories).
const QUERIES: &[&str] = &[
    "compute_checksum",
    "parse_config",
    "RetryWithBackoff",
    "handler_17",
    "Widget2",
];

/// A small project: a few hand-written files and generated modules.
fn corpus(t: &TestWs, modules: usize) {
    write_fixture(
        &t.root(),
        r#"
//- /lib/checksum.py
def compute_checksum(data):
    """Fold every byte into a 32-bit value."""
    h = 0
    for b in data:
        h = (h * 31 + b) & 0xFFFFFFFF
    return h

//- /lib/config.rs
pub struct Config {
    pub port: u16,
}

pub fn parse_config(text: &str) -> Config {
    let port = text.trim().parse().unwrap_or(8080);
    Config { port }
}

//- /lib/retry.go
package lib

// RetryWithBackoff calls f until it succeeds, sleeping longer after each failure.
func RetryWithBackoff(f func() error, attempts int) error {
	var err error
	for i := 0; i < attempts; i++ {
		if err = f(); err == nil {
			return nil
		}
	}
	return err
}
"#,
    );
    for i in 0..modules {
        t.write(
            &format!("gen/part{}/mod{i}.py", i % 7),
            &format!(
                "class Widget{i}:\n    \"\"\"A widget numbered {i}.\"\"\"\n\n    def size(self):\n        return {i}\n\n\
                 def handler_{i}(request):\n    \"\"\"Answer request {i}.\"\"\"\n    return request.reply({i})\n"
            ),
        );
    }
}

fn sg(t: &TestWs) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sg"));
    c.env("SG_INDEX_DIR", t.dir.path().join("base"));
    c.env("SG_CACHE_DIR", t.dir.path().join("cache"));
    c.env_remove("SG_LOG");
    c.env_remove("SG_MODEL_PATH");
    c
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

/// Asserts that the process ended by itself (no signal such as SIGBUS) and returns its exit code.
fn code(out: &Output) -> i32 {
    assert_eq!(
        out.status.signal(),
        None,
        "sg was killed by a signal; stderr: {}",
        text(&out.stderr)
    );
    out.status.code().unwrap()
}

fn index(t: &TestWs, index_dir: &Path) -> Output {
    sg(t)
        .args(["index", "--no-embed", "--index-dir"])
        .arg(index_dir)
        .arg(t.root())
        .output()
        .unwrap()
}

fn index_ok(t: &TestWs, index_dir: &Path) -> String {
    let out = index(t, index_dir);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    text(&out.stderr)
}

/// What an index holds and answers: the best hit of each of [`QUERIES`] (path, first line, last
/// line), then every chunk of every file as (path, first line, last line, symbol), sorted.
fn answers(t: &TestWs, index_dir: &Path) -> Vec<Vec<(String, u64, u64)>> {
    let mut all: Vec<Vec<(String, u64, u64)>> = QUERIES
        .iter()
        .map(|q| {
            let out = sg(t)
                .args(["search", "--no-embed", "--no-update", "--json", "-n", "1"])
                .arg("--index-dir")
                .arg(index_dir)
                .arg("--root")
                .arg(t.root())
                .arg(q)
                .output()
                .unwrap();
            assert!(code(&out) <= 1, "{q}: {}", text(&out.stderr));
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            v["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| {
                    (
                        h["path"].as_str().unwrap().to_owned(),
                        h["start_line"].as_u64().unwrap(),
                        h["end_line"].as_u64().unwrap(),
                    )
                })
                .collect()
        })
        .collect();
    all.push(contents(t, index_dir));
    all
}

/// Every chunk of the index, read through the library (read-only, after the processes are gone).
fn contents(t: &TestWs, index_dir: &Path) -> Vec<(String, u64, u64)> {
    let ws = Workspace::open_read_only(
        &t.root(),
        OpenOptions {
            index_dir: Some(index_dir.to_path_buf()),
            ..OpenOptions::default()
        },
    )
    .unwrap();
    let store = ws.store();
    let txn = store.read_txn().unwrap();
    let mut out = Vec::new();
    for (_, f) in store.files(&txn).unwrap() {
        for c in &f.chunks {
            let rec = store.chunk(&txn, *c).unwrap().unwrap();
            let label = format!("{}#{}", f.path, rec.symbol.unwrap_or_default());
            out.push((label, u64::from(rec.start_line), u64::from(rec.end_line)));
        }
    }
    let (_, chunks) = store.counts(&txn).unwrap();
    assert_eq!(
        ws.lexical().num_docs(),
        chunks,
        "lexical and store disagree"
    );
    out.sort();
    out
}

fn status_json(t: &TestWs, index_dir: &Path) -> serde_json::Value {
    let out = sg(t)
        .args(["status", "--no-embed", "--json", "--index-dir"])
        .arg(index_dir)
        .arg(t.root())
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A deterministic generator for damage positions and kill points.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// Every file under `dir` with its contents.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                out.insert(
                    e.path().strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(e.path()).unwrap(),
                );
            }
        }
    }
    out
}

fn is_root() -> bool {
    let probe = tempfile::tempfile().unwrap();
    probe.metadata().unwrap().uid() == 0
}

/// Runs `cmd` as an unprivileged user when the tests run as root (where permission bits do not
/// stop anything); otherwise as is.
///
/// It runs a copy of the binary in the test's own folder, from `/`: the build folder and the checkout may lie
/// where that user cannot enter (a private temporary folder, a home folder).
fn unprivileged_sg(t: &TestWs) -> Command {
    let bin = t.dir.path().join("bin");
    let exe = bin.join("sg");
    if !exe.exists() {
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::copy(env!("CARGO_BIN_EXE_sg"), &exe).unwrap();
    }
    for (path, mode) in [
        (t.dir.path(), 0o755),
        (bin.as_path(), 0o755),
        (exe.as_path(), 0o755),
    ] {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    let mut c = Command::new(&exe);
    c.env("SG_INDEX_DIR", t.dir.path().join("base"));
    c.env("SG_CACHE_DIR", t.dir.path().join("cache"));
    c.env_remove("SG_LOG");
    c.env_remove("SG_MODEL_PATH");
    c.current_dir("/");
    if is_root() {
        c.uid(65534).gid(65534);
    }
    c
}

/// Lets every user read (and enter) `dir` and everything under it.
fn open_to_all(dir: &Path) {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let m = std::fs::metadata(&d).unwrap();
        let mode = if m.is_dir() { 0o755 } else { 0o644 };
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(mode)).unwrap();
        if m.is_dir() {
            for e in std::fs::read_dir(&d).unwrap() {
                stack.push(e.unwrap().path());
            }
        }
    }
}

/// A writable copy of the shipped static model's folder path, used as the main model: it embeds
/// thousands of chunks a second, so cache tests stay fast.
fn static_model() -> PathBuf {
    sg::embed::default_fast_model_dir().expect("the static model ships in models/")
}

// ---------------------------------------------------------------------------------------------
// Defect 3: sg deletes only what it can prove it created.
// ---------------------------------------------------------------------------------------------

#[test]
fn a_users_folder_given_as_index_dir_is_refused_and_left_intact() {
    let t = TestWs::new("");
    corpus(&t, 3);
    let v = t.dir.path().join("v");
    write_fixture(
        &v,
        "//- /notes.txt\nmy notes\n//- /photos/cat.txt\nmeow\n//- /lmdb/mine.txt\nnot sg's\n",
    );
    let before = snapshot(&v);
    let out = index(&t, &v);
    assert_eq!(code(&out), 2, "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains(&v.display().to_string()), "{err}");
    assert!(err.contains("is not an sg index folder"), "{err}");
    assert!(!err.contains("damaged"), "{err}");
    assert_eq!(snapshot(&v), before, "the user's files changed");
    // An empty folder is fine, and gets sg's marker.
    let empty = t.dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    index_ok(&t, &empty);
    assert!(empty.join(sg::index_dir::MARKER).is_file());
}

#[test]
fn permission_errors_are_reported_as_such_and_nothing_is_removed() {
    let t = TestWs::new("");
    corpus(&t, 3);
    let idx = t.dir.path().join("idx");
    index_ok(&t, &idx);
    open_to_all(t.dir.path());
    // A folder this user may not create.
    let locked = t.dir.path().join("locked");
    std::fs::create_dir(&locked).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o555)).unwrap();
    let out = unprivileged_sg(&t)
        .args(["index", "--no-embed", "--index-dir"])
        .arg(locked.join("ix"))
        .arg(t.root())
        .output()
        .unwrap();
    assert_eq!(code(&out), 2, "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("Permission denied"), "{err}");
    assert!(err.contains("cannot create the index folder"), "{err}");
    // An index whose store this user may not read: a permission error, not damage, and kept.
    let data = idx.join("lmdb/data.mdb");
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o000)).unwrap();
    if !is_root() {
        // Without root, the owner's own index cannot be made unwritable to the owner alone.
        std::fs::set_permissions(idx.join("lmdb"), std::fs::Permissions::from_mode(0o555)).unwrap();
    }
    let before = std::fs::metadata(&data).unwrap().len();
    let out = unprivileged_sg(&t)
        .args(["status", "--no-embed", "--index-dir"])
        .arg(&idx)
        .arg(t.root())
        .output()
        .unwrap();
    assert_eq!(code(&out), 2, "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("Permission denied"), "{err}");
    assert!(!err.contains("damaged"), "{err}");
    std::fs::set_permissions(idx.join("lmdb"), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert_eq!(std::fs::metadata(&data).unwrap().len(), before);
}

#[test]
fn an_index_made_before_the_marker_is_adopted() {
    let t = TestWs::new("");
    corpus(&t, 5);
    let idx = t.dir.path().join("old");
    index_ok(&t, &idx);
    let clean = answers(&t, &idx);
    std::fs::remove_file(idx.join(sg::index_dir::MARKER)).unwrap();
    std::fs::remove_file(idx.join(sg::index_dir::WRITER_LOCK)).unwrap();
    let err = index_ok(&t, &idx);
    assert!(!err.contains("damaged"), "{err}");
    assert!(idx.join(sg::index_dir::MARKER).is_file());
    assert_eq!(answers(&t, &idx), clean);
}

// ---------------------------------------------------------------------------------------------
// Defect 4: damage is detected and repaired.
// ---------------------------------------------------------------------------------------------

/// Builds a clean index of `t` in `clean`, then for each damage: copies it, applies the damage,
/// runs `sg index` (which must repair, never crash) and compares the answers with the clean ones.
fn repaired_like_clean(t: &TestWs, clean: &Path, case: &str, damage: impl FnOnce(&Path)) {
    let want = answers(t, clean);
    let dir = t.dir.path().join(format!("case-{case}"));
    copy_dir(clean, &dir);
    damage(&dir);
    eprintln!("case {case}");
    let out = index(t, &dir);
    assert_eq!(code(&out), 0, "{case}: {}", text(&out.stderr));
    assert_eq!(answers(t, &dir), want, "{case}: {}", text(&out.stderr));
    let st = status_json(t, &dir);
    let clean_st = status_json(t, clean);
    assert_eq!(
        (&st["files"], &st["chunks"]),
        (&clean_st["files"], &clean_st["chunks"]),
        "{case}"
    );
}

#[test]
fn a_truncated_store_is_detected_before_it_is_mapped_and_rebuilt() {
    let t = TestWs::new("");
    corpus(&t, 60);
    let clean = t.dir.path().join("clean");
    index_ok(&t, &clean);
    for (case, keep) in [("half", 2u64), ("quarter", 4)] {
        // A reader first: it must say what is wrong, not die of SIGBUS.
        let dir = t.dir.path().join(format!("read-{case}"));
        copy_dir(&clean, &dir);
        let data = dir.join("lmdb/data.mdb");
        let len = std::fs::metadata(&data).unwrap().len();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&data)
            .unwrap()
            .set_len(len / keep)
            .unwrap();
        let ws = Workspace::open_read_only(
            &t.root(),
            OpenOptions {
                index_dir: Some(dir.clone()),
                ..OpenOptions::default()
            },
        );
        let err = format!("{:#}", ws.err().expect("a truncated store does not open"));
        assert!(err.contains("truncated"), "{err}");
        assert!(err.contains("damaged"), "{err}");
        repaired_like_clean(&t, &clean, case, |dir| {
            let data = dir.join("lmdb/data.mdb");
            let len = std::fs::metadata(&data).unwrap().len();
            std::fs::OpenOptions::new()
                .write(true)
                .open(&data)
                .unwrap()
                .set_len(len / keep)
                .unwrap();
        });
    }
}

#[test]
fn random_bytes_in_the_store_are_detected_and_the_store_rebuilt() {
    let t = TestWs::new("");
    corpus(&t, 60);
    let clean = t.dir.path().join("clean");
    index_ok(&t, &clean);
    let len = std::fs::metadata(clean.join("lmdb/data.mdb"))
        .unwrap()
        .len();
    let mut rng = SplitMix(18);
    for case in 0..24 {
        // Past the two meta pages: the data pages.
        let at = 8192 + rng.below(len - 8192 - 16);
        let bytes: Vec<u8> = (0..16).map(|_| rng.next() as u8).collect();
        repaired_like_clean(&t, &clean, &format!("bytes-{case}-at-{at}"), |dir| {
            let data = dir.join("lmdb/data.mdb");
            let mut content = std::fs::read(&data).unwrap();
            content[at as usize..at as usize + 16].copy_from_slice(&bytes);
            std::fs::write(&data, content).unwrap();
        });
    }
    repaired_like_clean(&t, &clean, "garbage", |dir| {
        std::fs::write(dir.join("lmdb/data.mdb"), vec![0x5a; 64 * 1024]).unwrap();
    });
}

#[test]
fn a_damaged_record_is_rebuilt_from_the_files_with_a_warning() {
    let t = TestWs::new("");
    corpus(&t, 10);
    let clean = t.dir.path().join("clean");
    index_ok(&t, &clean);
    let want = answers(&t, &clean);
    // Change one byte of a chunk's text in place: LMDB cannot see it, the record's checksum does. The text is
    // in more than one place (the unit's record, its pack's text, pages LMDB has freed): change it everywhere.
    let data = clean.join("lmdb/data.mdb");
    let mut content = std::fs::read(&data).unwrap();
    let needle = b"Fold every byte";
    let places: Vec<usize> = content
        .windows(needle.len())
        .enumerate()
        .filter(|(_, w)| w == needle)
        .map(|(i, _)| i)
        .collect();
    assert!(!places.is_empty(), "the chunk text is in the data file");
    for at in places {
        content[at] = b'H';
    }
    std::fs::write(&data, content).unwrap();
    let err = index_ok(&t, &clean);
    assert!(err.contains("damaged"), "{err}");
    assert!(err.contains("rebuilding it from the files"), "{err}");
    assert_eq!(answers(&t, &clean), want);
}

#[test]
fn lost_or_damaged_tantivy_files_are_rebuilt_from_the_store() {
    let t = TestWs::new("");
    corpus(&t, 30);
    let clean = t.dir.path().join("clean");
    index_ok(&t, &clean);
    // A second commit gives the lexical index a second segment.
    t.write("lib/extra.py", "def checksum_extra(x):\n    return x\n");
    index_ok(&t, &clean);
    repaired_like_clean(&t, &clean, "no-meta", |dir| {
        std::fs::remove_file(dir.join("tantivy/meta.json")).unwrap();
    });
    repaired_like_clean(&t, &clean, "no-folder", |dir| {
        std::fs::remove_dir_all(dir.join("tantivy")).unwrap();
    });
    repaired_like_clean(&t, &clean, "segment-dropped-from-meta", |dir| {
        let path = dir.join("tantivy/meta.json");
        let mut meta: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let segments = meta["segments"].as_array_mut().unwrap();
        assert!(segments.len() >= 2, "{segments:?}");
        segments.remove(0);
        std::fs::write(&path, meta.to_string()).unwrap();
    });
    repaired_like_clean(&t, &clean, "segment-files-deleted", |dir| {
        let meta: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("tantivy/meta.json")).unwrap())
                .unwrap();
        let id = meta["segments"][0]["segment_id"]
            .as_str()
            .unwrap()
            .replace('-', "");
        for e in std::fs::read_dir(dir.join("tantivy")).unwrap() {
            let e = e.unwrap();
            if e.file_name().to_string_lossy().starts_with(&id) {
                std::fs::remove_file(e.path()).unwrap();
            }
        }
    });
    // The library sees the count mismatch too, and rebuilds on open.
    std::fs::remove_file(clean.join("tantivy/meta.json")).unwrap();
    let ws = Workspace::open(
        &t.root(),
        OpenOptions {
            index_dir: Some(clean.clone()),
            ..OpenOptions::default()
        },
    )
    .unwrap();
    let (_, chunks) = ws.store().counts(&ws.store().read_txn().unwrap()).unwrap();
    assert_eq!(ws.lexical().num_docs(), chunks);
}

/// Indexes with the static model as the main model, so the embedding cache is written.
fn index_embedding(t: &TestWs, index_dir: &Path, cache: &Path) -> Output {
    sg(t)
        .args(["index", "--fast-model", "none", "--model-path"])
        .arg(static_model())
        .arg("--cache-dir")
        .arg(cache)
        .arg("--index-dir")
        .arg(index_dir)
        .arg(t.root())
        .output()
        .unwrap()
}

#[test]
fn a_damaged_embedding_cache_is_set_aside_and_recreated() {
    let t = TestWs::new("");
    corpus(&t, 10);
    let cache = t.dir.path().join("shared/embeddings");
    let garbage = |d: &Path| std::fs::write(d.join("data.mdb"), vec![0x33; 64 * 1024]).unwrap();
    let truncate = |d: &Path| {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(d.join("data.mdb"))
            .unwrap();
        let len = f.metadata().unwrap().len();
        f.set_len(len / 2).unwrap();
    };
    type Damage<'a> = &'a dyn Fn(&Path);
    let cases: [(&str, Damage<'_>); 2] = [("garbage", &garbage), ("truncated", &truncate)];
    for (case, damage) in cases {
        let idx = t.dir.path().join(format!("idx-{case}"));
        let out = index_embedding(&t, &idx, &cache);
        assert_eq!(code(&out), 0, "{case}: {}", text(&out.stderr));
        damage(&cache);
        let out = index_embedding(&t, &idx, &cache);
        assert_eq!(code(&out), 0, "{case}: {}", text(&out.stderr));
        let err = text(&out.stderr);
        assert!(err.contains("embedding cache"), "{case}: {err}");
        assert!(err.contains("damaged"), "{case}: {err}");
        let aside: Vec<_> = std::fs::read_dir(cache.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("embeddings.damaged-"))
            .collect();
        assert!(!aside.is_empty(), "{case}: the damaged cache was not kept");
        for n in aside {
            // Set aside, not deleted: move it out of the way of the next case.
            std::fs::rename(
                cache.parent().unwrap().join(&n),
                t.dir.path().join(format!("{case}-{n}")),
            )
            .unwrap();
        }
        let out = sg(&t)
            .args(["status", "--json", "--fast-model", "none", "--model-path"])
            .arg(static_model())
            .arg("--cache-dir")
            .arg(&cache)
            .arg("--index-dir")
            .arg(&idx)
            .arg(t.root())
            .output()
            .unwrap();
        assert_eq!(code(&out), 0, "{}", text(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["embedded"], v["chunks"], "{case}: {v}");
    }
}

// ---------------------------------------------------------------------------------------------
// Defect 5: a path over LMDB's key limit.
// ---------------------------------------------------------------------------------------------

#[test]
fn a_path_longer_than_lmdb_keys_is_indexed_and_kept() {
    let t = TestWs::new("");
    corpus(&t, 3);
    let deep: Vec<String> = (0..6).map(|i| format!("{i}{}", "d".repeat(99))).collect();
    let rel = format!("{}/very_long_module_name.py", deep.join("/"));
    assert!(rel.len() > 600, "{}", rel.len());
    t.write(&rel, "def far_away_function():\n    return 'deep'\n");
    let ws = Workspace::open(
        &t.root(),
        OpenOptions {
            index_dir: Some(t.index_dir()),
            ..OpenOptions::default()
        },
    )
    .unwrap();
    let stats = ws.update(&NoProgress).unwrap();
    assert_eq!(stats.files_changed, stats.files_seen, "{stats:?}");
    let mut req = SearchRequest::new("far_away_function", 5);
    req.mode = Mode::Lexical;
    let hits = ws.search(&req, &RankConfig::default()).unwrap().hits;
    assert_eq!(hits[0].path, rel);
    // The next scan knows the file (nothing to do), an edit replaces it, a removal removes it.
    assert_eq!(ws.update(&NoProgress).unwrap().files_changed, 0);
    ws.update_file(&rel, Some("def moved_function():\n    pass\n"))
        .unwrap();
    req.query = "moved_function".into();
    assert_eq!(
        ws.search(&req, &RankConfig::default()).unwrap().hits[0].path,
        rel
    );
    ws.update_file(&rel, None).unwrap();
    assert!(
        ws.search(&req, &RankConfig::default())
            .unwrap()
            .hits
            .is_empty()
    );
    let st = ws.status().unwrap();
    assert_eq!(st.files, 6, "the corpus' six files");
}

// ---------------------------------------------------------------------------------------------
// Defect 11: readers work on a read-only index and cache.
// ---------------------------------------------------------------------------------------------

/// An index and an embedding cache made by a first `sg index` (static model as the main model).
fn indexed_with_cache(t: &TestWs) -> (PathBuf, PathBuf) {
    let idx = t.dir.path().join("ro-index");
    let cache = t.dir.path().join("ro-cache");
    let out = index_embedding(t, &idx, &cache);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    (idx, cache)
}

fn search_args(cmd: &mut Command, model: &Path, idx: &Path, cache: &Path, root: &Path, q: &str) {
    cmd.args(["search", "--json", "--fast-model", "none", "--model-path"])
        .arg(model)
        .arg("--cache-dir")
        .arg(cache)
        .arg("--index-dir")
        .arg(idx)
        .arg("--root")
        .arg(root)
        .arg(q);
}

#[test]
fn a_read_only_index_is_searched_through_the_read_only_path() {
    // What this covers: the read-only open path itself (LMDB opened MDB_RDONLY without its lock
    // file, tantivy through a directory that writes nothing, no writer lock), selected explicitly
    // so that it is exercised whoever runs the tests.
    let t = TestWs::new("");
    corpus(&t, 10);
    let (idx, cache) = indexed_with_cache(&t);
    let before = snapshot(&idx);
    let cache_before = snapshot(&cache);
    std::fs::remove_file(idx.join("lmdb/lock.mdb")).unwrap();
    std::fs::remove_file(cache.join("lock.mdb")).unwrap();
    let embedder = sg::embed::load_model(&static_model(), &Default::default()).unwrap();
    let ws = Workspace::open_read_only(
        &t.root(),
        OpenOptions {
            index_dir: Some(idx.clone()),
            cache_dir: Some(cache.clone()),
            embedder: Some(embedder),
            ..OpenOptions::default()
        },
    )
    .unwrap();
    assert!(!ws.is_writable());
    let st = ws.status().unwrap();
    assert_eq!(st.embedded, st.chunks);
    let mut req = SearchRequest::new("compute_checksum", 5);
    assert_eq!(
        ws.search(&req, &RankConfig::default()).unwrap().hits[0].path,
        "lib/checksum.py"
    );
    req.mode = Mode::Semantic;
    assert!(
        !ws.search(&req, &RankConfig::default())
            .unwrap()
            .hits
            .is_empty()
    );
    let err = ws.update(&NoProgress).unwrap_err().to_string();
    assert!(err.contains("read-only"), "{err}");
    drop(ws);
    let mut after = snapshot(&idx);
    let mut want = before;
    want.remove(Path::new("lmdb/lock.mdb"));
    after.remove(Path::new("lmdb/lock.mdb"));
    assert_eq!(after, want, "a read-only open wrote to the index");
    let mut cache_want = cache_before;
    cache_want.remove(Path::new("lock.mdb"));
    assert_eq!(
        snapshot(&cache),
        cache_want,
        "a read-only open wrote to the cache"
    );
}

#[test]
fn status_and_search_work_on_an_index_this_user_cannot_write() {
    // What this covers: the automatic fall back to the read-only path when the folders cannot be
    // written, through the binary. As root, permission bits stop nothing, so the commands run as
    // an unprivileged user; otherwise `chmod -R a-w` is enough.
    let t = TestWs::new("");
    corpus(&t, 10);
    let (idx, cache) = indexed_with_cache(&t);
    // The unprivileged user reads the model from a copy in the test's folder: the checkout may lie
    // where it cannot enter (a private temporary folder, a home folder).
    let model = t.dir.path().join("model");
    std::fs::create_dir_all(&model).unwrap();
    for e in std::fs::read_dir(static_model()).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), model.join(e.file_name())).unwrap();
    }
    open_to_all(t.dir.path());
    for dir in [&idx, &cache] {
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            let m = std::fs::metadata(&d).unwrap();
            let mode = if m.is_dir() { 0o555 } else { 0o444 };
            std::fs::set_permissions(&d, std::fs::Permissions::from_mode(mode)).unwrap();
            if m.is_dir() {
                stack.extend(std::fs::read_dir(&d).unwrap().map(|e| e.unwrap().path()));
            }
        }
    }
    let before = snapshot(&idx);
    let mut cmd = unprivileged_sg(&t);
    search_args(
        &mut cmd,
        &model,
        &idx,
        &cache,
        &t.root(),
        "compute_checksum",
    );
    let out = cmd.output().unwrap();
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["results"][0]["path"], "lib/checksum.py", "{v}");
    assert_eq!(v["index"]["embedded"], v["index"]["chunks"], "{v}");
    let out = unprivileged_sg(&t)
        .args(["status", "--json", "--fast-model", "none", "--model-path"])
        .arg(&model)
        .arg("--cache-dir")
        .arg(&cache)
        .arg("--index-dir")
        .arg(&idx)
        .arg(t.root())
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["writable"], false, "{v}");
    assert_eq!(v["cache_dir"], cache.display().to_string(), "{v}");
    assert_eq!(snapshot(&idx), before);
    open_to_all(t.dir.path());
}

/// A mount point that is unmounted (and its folder removed) when dropped.
struct Mount(PathBuf);

impl Mount {
    /// Mounts with `mount` (as root); `None`, with the reason printed, when that is not possible.
    fn new(args: &[&str], at: &Path) -> Option<Mount> {
        if !is_root() {
            eprintln!("skipped: mounting needs root");
            return None;
        }
        std::fs::create_dir_all(at).unwrap();
        let out = Command::new("mount").args(args).arg(at).output();
        match out {
            Ok(o) if o.status.success() => Some(Mount(at.to_path_buf())),
            Ok(o) => {
                eprintln!("skipped: mount failed: {}", text(&o.stderr));
                None
            }
            Err(e) => {
                eprintln!("skipped: cannot run mount: {e}");
                None
            }
        }
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_read_only_mount_is_searched() {
    // What this covers: EROFS, where LMDB runs without its lock file; skipped unless root can
    // bind-mount here.
    let t = TestWs::new("");
    corpus(&t, 10);
    let (idx, cache) = indexed_with_cache(&t);
    let ro = t.dir.path().join("ro");
    let Some(_bind) = Mount::new(&["--bind", &t.dir.path().display().to_string()], &ro) else {
        return;
    };
    let remount = Command::new("mount")
        .args(["-o", "remount,bind,ro"])
        .arg(&ro)
        .status()
        .unwrap();
    if !remount.success() {
        eprintln!("skipped: cannot remount read-only");
        return;
    }
    let name = |p: &Path| ro.join(p.strip_prefix(t.dir.path()).unwrap());
    let mut cmd = sg(&t);
    search_args(
        &mut cmd,
        &static_model(),
        &name(&idx),
        &name(&cache),
        &name(&t.root()),
        "compute_checksum",
    );
    let out = cmd.output().unwrap();
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["results"][0]["path"], "lib/checksum.py", "{v}");
    assert_eq!(v["index"]["embedded"], v["index"]["chunks"], "{v}");
}

// ---------------------------------------------------------------------------------------------
// Defect 12: the embedding cache's one home, and a full disk.
// ---------------------------------------------------------------------------------------------

#[test]
fn the_embedding_cache_lives_where_it_is_told_and_only_when_embedding() {
    let t = TestWs::new("");
    corpus(&t, 3);
    let work = t.dir.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    // A relative index folder two levels down: the old code put the cache at `./embeddings`.
    let out = sg(&t)
        .current_dir(&work)
        .args(["index", "--no-embed", "--index-dir", "a/ix"])
        .arg(t.root())
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert!(work.join("a/ix").join(sg::index_dir::MARKER).is_file());
    assert!(
        !work.join("embeddings").exists(),
        "a cache beside the index"
    );
    assert!(
        !t.dir.path().join("cache").exists(),
        "a cache without embedding"
    );
    // Embedding: the cache is created where SG_CACHE_DIR says, and status tells.
    let out = sg(&t)
        .current_dir(&work)
        .args([
            "index",
            "--fast-model",
            "none",
            "--index-dir",
            "a/ix2",
            "--model-path",
        ])
        .arg(static_model())
        .arg(t.root())
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert!(!work.join("embeddings").exists());
    assert!(t.dir.path().join("cache/data.mdb").is_file());
    let out = sg(&t)
        .current_dir(&work)
        .args([
            "status",
            "--fast-model",
            "none",
            "--index-dir",
            "a/ix2",
            "--model-path",
        ])
        .arg(static_model())
        .arg(t.root())
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let status = text(&out.stdout);
    assert!(
        status.contains(&format!(
            "cache:    {}",
            t.dir.path().join("cache").display()
        )),
        "{status}"
    );
}

#[test]
fn a_full_disk_reads_no_space_left_and_the_next_run_recovers() {
    let t = TestWs::new("");
    corpus(&t, 20);
    // Enough text that the index does not fit in the small disk.
    for i in 0..40 {
        let body: String = (0..400)
            .map(|j| format!("def filler_{i}_{j}(x):\n    return x * {j} + {i}\n\n"))
            .collect();
        t.write(&format!("big/f{i}.py"), &body);
    }
    let disk = t.dir.path().join("disk");
    let Some(_mount) = Mount::new(&["-t", "tmpfs", "-o", "size=2m", "tmpfs"], &disk) else {
        return;
    };
    let idx = disk.join("idx");
    let out = index(&t, &idx);
    assert_eq!(code(&out), 2, "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("no space left on device"), "{err}");
    assert!(!err.contains("Input/output error"), "{err}");
    // With room again the same index folder completes and answers like a clean index.
    let out = Command::new("mount")
        .args(["-o", "remount,size=64m"])
        .arg(&disk)
        .status()
        .unwrap();
    assert!(out.success());
    index_ok(&t, &idx);
    let clean = t.dir.path().join("clean");
    index_ok(&t, &clean);
    assert_eq!(answers(&t, &idx), answers(&t, &clean));
}

// ---------------------------------------------------------------------------------------------
// kill -9 at random points.
// ---------------------------------------------------------------------------------------------

#[test]
fn kill_9_at_random_points_of_sg_index_leaves_an_index_like_a_clean_one() {
    let t = TestWs::new("");
    corpus(&t, 400);
    let clean = t.dir.path().join("clean");
    let started = std::time::Instant::now();
    index_ok(&t, &clean);
    let full = started.elapsed().as_millis() as u64;
    let idx = t.dir.path().join("killed");
    let mut rng = SplitMix(9);
    for round in 0..6 {
        // Between two rounds some files change, so later kills land in incremental updates.
        if round % 2 == 1 {
            for i in 0..20 {
                let n = rng.below(400);
                t.write(
                    &format!("gen/part{}/mod{n}.py", n % 7),
                    &format!(
                        "class Widget{n}:\n    \"\"\"A widget numbered {n}, round {round}.\"\"\"\n\n    def size(self):\n        return {i}\n"
                    ),
                );
            }
        }
        let mut child = sg(&t)
            .args(["index", "--no-embed", "--index-dir"])
            .arg(&idx)
            .arg(t.root())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(rng.below(full + 50)));
        let _ = child.kill();
        let _ = child.wait();
    }
    // The killed index completes, and so does the clean one on the same (edited) files.
    index_ok(&t, &idx);
    index_ok(&t, &clean);
    assert_eq!(answers(&t, &idx), answers(&t, &clean));
    let (a, b) = (status_json(&t, &idx), status_json(&t, &clean));
    assert_eq!((&a["files"], &a["chunks"]), (&b["files"], &b["chunks"]));
}
