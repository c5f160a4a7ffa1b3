//! Files a hostile or unlucky workspace holds: FIFOs and links swapped in after discovery, pseudo file
//! systems, names that are not UTF-8 or that carry terminal escapes, and absurd queries.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use sg::config::IndexConfig;
use sg::index::NoProgress;
use sg::query::SearchRequest;
use sg::search::{Mode, RankConfig};
use sg::vfs::{self, ReadError, Skip};

use crate::support::{TestWs, json, sg};

fn mkfifo(path: &Path) {
    rustix::fs::mkfifoat(
        rustix::fs::CWD,
        path,
        rustix::fs::Mode::from_raw_mode(0o644),
    )
    .expect("mkfifo");
}

/// Runs `f` on another thread and waits for it: a read that blocks (the defect this guards against)
/// fails the test instead of hanging it.
fn without_blocking<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(120))
        .unwrap_or_else(|_| panic!("{what} blocked"))
}

#[test]
fn a_fifo_named_like_a_source_file_is_skipped_and_indexing_completes() {
    let t = TestWs::new("//- /a.py\ndef alpha():\n    return 1\n");
    mkfifo(&t.root().join("pipe.py"));
    let ws = t.open(None);
    let stats = without_blocking("indexing a FIFO", move || {
        let stats = ws.update(&NoProgress).unwrap();
        (stats, ws.status().unwrap().files)
    });
    assert_eq!(stats.1, 1, "only a.py is indexed");
}

#[test]
fn a_file_replaced_by_a_fifo_after_discovery_is_refused_without_blocking() {
    let t = TestWs::new("//- /a.py\ndef alpha():\n    return 1\n");
    let root = t.root();
    let found = vfs::discover(&root, &IndexConfig::default()).unwrap();
    assert_eq!(found.len(), 1);
    std::fs::remove_file(root.join("a.py")).unwrap();
    mkfifo(&root.join("a.py"));
    let rel = found[0].rel_path.clone();
    let r = without_blocking("reading a FIFO", move || {
        vfs::read_file(&root, &rel, 1 << 20)
    });
    assert!(
        matches!(r, Err(ReadError::Skipped(Skip::NotRegular))),
        "{r:?}"
    );
}

#[test]
fn links_swapped_in_after_discovery_are_not_followed() {
    let t = TestWs::new("//- /a.py\ndef alpha(): pass\n//- /sub/b.py\ndef beta(): pass\n");
    let root = t.root();
    let outside = t.dir.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret.py"), "SECRET = 1\n").unwrap();
    std::fs::write(outside.join("b.py"), "SECRET = 2\n").unwrap();
    let found = vfs::discover(&root, &IndexConfig::default()).unwrap();
    let keys: Vec<&str> = found.iter().map(|f| f.rel_path.as_str()).collect();
    assert_eq!(keys, ["a.py", "sub/b.py"]);
    // The file becomes a link to a file outside; the folder becomes a link to a folder outside.
    std::fs::remove_file(root.join("a.py")).unwrap();
    std::os::unix::fs::symlink(outside.join("secret.py"), root.join("a.py")).unwrap();
    std::fs::remove_dir_all(root.join("sub")).unwrap();
    std::os::unix::fs::symlink(&outside, root.join("sub")).unwrap();
    for key in keys {
        let r = vfs::read_file(&root, key, 1 << 20);
        assert!(
            matches!(r, Err(ReadError::Skipped(Skip::NotRegular))),
            "{key}: {r:?}"
        );
    }
}

#[test]
fn reads_are_bounded_by_the_limit_whatever_the_size_looked_like() {
    let t = TestWs::new("//- /a.py\nx = 1\n");
    let root = t.root();
    let found = vfs::discover(&root, &IndexConfig::default()).unwrap();
    assert_eq!(found[0].size, 6);
    // The file grew after discovery.
    std::fs::write(root.join("a.py"), vec![b'x'; 5000]).unwrap();
    let r = vfs::read_file(&root, &found[0].rel_path, 1000);
    assert!(
        matches!(r, Err(ReadError::Skipped(Skip::TooLarge(_)))),
        "{r:?}"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn pseudo_file_systems_are_neither_walked_nor_read() {
    // procfs files claim 0 bytes and stream without end (`/proc/<pid>/pagemap`): a workspace at
    // `/proc` has no files, and a procfs file is refused before it is read.
    assert!(
        vfs::discover(Path::new("/proc"), &IndexConfig::default())
            .unwrap()
            .is_empty()
    );
    let pagemap = format!("{}/pagemap", std::process::id());
    let r = vfs::read_file(Path::new("/proc"), &pagemap, 1 << 20);
    assert!(
        matches!(r, Err(ReadError::Skipped(Skip::PseudoFs))),
        "{r:?}"
    );

    let t = TestWs::new("");
    let opts = t.options(None);
    let ws = sg::index::Workspace::open(Path::new("/proc"), opts).unwrap();
    let stats = ws.scan(&NoProgress).unwrap();
    assert_eq!(stats.files_seen, 0);
    assert_eq!(ws.status().unwrap().files, 0);
}

#[test]
fn names_that_are_not_utf8_stay_distinct_and_a_second_index_settles() {
    let t = TestWs::new("");
    let root = t.root();
    let ff = root.join(OsStr::from_bytes(b"bad\xff.py"));
    let fe = root.join(OsStr::from_bytes(b"bad\xfe.py"));
    std::fs::write(&ff, "def from_ff():\n    return 'ff'\n").unwrap();
    std::fs::write(&fe, "def from_fe():\n    return 'fe'\n").unwrap();
    let index = |t: &TestWs| {
        let out = sg(t)
            .args(["index", "--no-embed", "--json"])
            .arg(t.root())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        json(&out.stdout)
    };
    let first = index(&t);
    assert_eq!(first["index"]["files"], 2, "{first}");
    assert_eq!(first["files_changed"], 2, "{first}");
    let second = index(&t);
    assert_eq!(second["files_changed"], 0, "{second}");
    assert_eq!(second["files_removed"], 0, "{second}");

    // Each key leads back to its own file.
    let ws = t.open(None);
    ws.update(&NoProgress).unwrap();
    for (name, key) in [("from_ff", "bad%FF.py"), ("from_fe", "bad%FE.py")] {
        let mut req = SearchRequest::new(name, 5);
        req.mode = Mode::Lexical;
        let r = ws.search(&req, &RankConfig::default()).unwrap();
        assert_eq!(r.hits[0].path, key);
        let on_disk = vfs::abs_path(&root, key);
        assert!(std::fs::read_to_string(on_disk).unwrap().contains(name));
    }
}

#[test]
fn control_characters_in_names_never_reach_the_terminal_raw() {
    let t = TestWs::new("");
    let name = "evil\x1b[31mred\x07.py";
    std::fs::write(t.root().join(name), "def colourful():\n    return 1\n").unwrap();
    let search = |json_out: bool| {
        let mut c = sg(&t);
        c.args(["search", "--no-embed", "--root"]).arg(t.root());
        if json_out {
            c.arg("--json");
        }
        let out = c.arg("colourful").output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let human = search(false);
    assert!(
        !human.contains(&0x1b),
        "raw ESC in {:?}",
        String::from_utf8_lossy(&human)
    );
    assert!(
        !human.contains(&0x07),
        "raw BEL in {:?}",
        String::from_utf8_lossy(&human)
    );
    let shown = String::from_utf8(human).unwrap();
    assert!(shown.starts_with("evil\\x1b[31mred\\x07.py:1-2"), "{shown}");
    // JSON carries the name exactly (escaped by JSON itself) and stays valid.
    let v = json(&search(true));
    assert_eq!(v["results"][0]["path"], name);
}

#[test]
fn a_query_longer_than_4096_bytes_is_refused_with_a_clear_error() {
    let t = TestWs::new("//- /a.py\ndef alpha():\n    return 1\n");
    let ws = t.open(None);
    ws.update(&NoProgress).unwrap();
    let rank = RankConfig::default();
    let mut at_limit = SearchRequest::new("alpha ".repeat(682) + "alph", 5);
    at_limit.mode = Mode::Lexical;
    assert_eq!(at_limit.query.len(), 4096);
    assert!(ws.search(&at_limit, &rank).is_ok());
    let mut over = at_limit.clone();
    over.query.push('a');
    let err = ws.search(&over, &rank).unwrap_err();
    assert_eq!(err.to_string(), "query too long: 4097 bytes, at most 4096");

    let out = sg(&t)
        .args(["search", "--no-embed", "--root"])
        .arg(t.root())
        .arg("x".repeat(50_000))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("query too long: 50000 bytes, at most 4096"),
        "{stderr}"
    );
}
