//! A new user's first hour with the `sg` binary: an installed copy finds its models with no checkout beside
//! it, every workspace command takes `--root`, a subfolder uses the enclosing workspace, nothing is coloured
//! when piped, completions and a man page are generated, and the background indexer stays single.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use sg::embed::{Embedder, FakeEmbedder};
use sg::ids::ModelFingerprint;
use sg::index::NoProgress;

use crate::support::TestWs;

const REPO: &str = r#"
//- /lib/retry.py
import time

def retry_with_backoff(fn, attempts=5):
    """Call fn until it succeeds, sleeping longer after each failure."""
    delay = 0.1
    for _ in range(attempts):
        try:
            return fn()
        except IOError:
            time.sleep(delay)
            delay *= 2
    raise RuntimeError("gave up")

//- /lib/config.rs
pub struct Config {
    pub port: u16,
}

pub fn parse_config(text: &str) -> Config {
    let port = text.trim().parse().unwrap_or(8080);
    Config { port }
}

//- /docs/guide.md
# Guide

How to configure the demo.
"#;

fn sg_at(exe: &Path, base: &Path) -> Command {
    let mut c = Command::new(exe);
    c.env("SG_INDEX_DIR", base);
    c.env_remove("SG_LOG");
    c.env_remove("SG_MODEL_PATH");
    c.env_remove("SG_FAST_MODEL");
    c.env_remove("NO_COLOR");
    c
}

fn sg(t: &TestWs) -> Command {
    sg_at(
        Path::new(env!("CARGO_BIN_EXE_sg")),
        &t.dir.path().join("base"),
    )
}

fn ok(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("bad JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

/// The binary copied into a folder of its own, run from another folder: no `models/` beside it or above it.
#[cfg(feature = "bundled-models")]
#[test]
fn an_installed_binary_answers_by_meaning_without_the_checkout() {
    let t = TestWs::new(REPO);
    let bin = t.dir.path().join("install/bin");
    std::fs::create_dir_all(&bin).unwrap();
    let exe = bin.join("sg");
    std::fs::copy(env!("CARGO_BIN_EXE_sg"), &exe).unwrap();
    let elsewhere = t.dir.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let base = t.dir.path().join("base");

    let status = ok(&sg_at(&exe, &base)
        .current_dir(&elsewhere)
        .args(["status", "--json", "--root"])
        .arg(t.root())
        .output()
        .unwrap());
    assert_eq!(status["model_source"], "built-in all-MiniLM-L6-v2");
    assert!(
        status["model"]
            .as_str()
            .unwrap()
            .starts_with("all-MiniLM-L6-v2"),
        "{status}"
    );

    let v = ok(&sg_at(&exe, &base)
        .current_dir(&elsewhere)
        .env("SG_NO_BACKGROUND", "1")
        .args(["search", "--json", "--mode", "semantic", "--root"])
        .arg(t.root())
        .arg("call a function again after it fails, waiting longer each time")
        .output()
        .unwrap());
    assert_eq!(v["mode"], "semantic");
    assert_eq!(v["index"]["embedded"], v["index"]["chunks"], "{v}");
    let first = &v["results"][0];
    assert_eq!(first["path"], "lib/retry.py", "{v}");
    assert!(first["signals"]["semantic"].as_f64().is_some(), "{v}");
}

#[test]
fn every_workspace_command_takes_root() {
    let t = TestWs::new(REPO);
    let index = ok(&sg(&t)
        .args(["index", "--no-embed", "--json", "--root"])
        .arg(t.root())
        .output()
        .unwrap());
    assert_eq!(index["files_seen"], 3, "{index}");
    let status = ok(&sg(&t)
        .args(["status", "--no-embed", "--json", "--root"])
        .arg(t.root())
        .output()
        .unwrap());
    assert_eq!(status["files"], 3);
    assert_eq!(status["model_source"], "none");
    // The positional form still works; giving both is an error (exit 2, clap's usage message).
    let both = sg(&t)
        .args(["status", "--no-embed", "--root"])
        .arg(t.root())
        .arg(t.root())
        .output()
        .unwrap();
    assert_eq!(both.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&both.stderr).contains("cannot be used with"));
}

#[test]
fn a_subfolder_searches_the_enclosing_workspace_and_stays_inside_it() {
    let t = TestWs::new(REPO);
    std::fs::create_dir_all(t.root().join(".git")).unwrap();
    let from_lib = ok(&sg(&t)
        .current_dir(t.root().join("lib"))
        .args(["search", "--no-embed", "--json", "config"])
        .output()
        .unwrap());
    let paths: Vec<&str> = from_lib["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths.first(), Some(&"lib/config.rs"), "{from_lib}");
    assert!(paths.iter().all(|p| p.starts_with("lib/")), "{paths:?}");
    // The same index serves the root: one index for the workspace, none for the subfolder.
    let status = ok(&sg(&t)
        .current_dir(t.root().join("docs"))
        .args(["status", "--no-embed", "--json"])
        .output()
        .unwrap());
    assert_eq!(
        PathBuf::from(status["root"].as_str().unwrap()),
        t.root().canonicalize().unwrap()
    );
    assert_eq!(status["files"], 3);
    let indexes = std::fs::read_dir(t.dir.path().join("base/indexes"))
        .unwrap()
        .count();
    assert_eq!(indexes, 1);
    // From docs/, the Rust file is outside the subfolder: nothing found, exit 1.
    let out = sg(&t)
        .current_dir(t.root().join("docs"))
        .args(["search", "--no-embed", "--json", "parse_config"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn piped_output_carries_no_colour_codes() {
    let t = TestWs::new(REPO);
    let out = sg(&t)
        .env("SG_LOG", "sg=info")
        .args(["search", "--no-embed", "--root"])
        .arg(t.root())
        .arg("parse_config")
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("INFO"), "logs were asked for: {stderr}");
    assert!(!out.stderr.contains(&0x1b), "{stderr:?}");
    assert!(!out.stdout.contains(&0x1b));
    assert!(sg::terminal::use_color(true) || std::env::var_os("NO_COLOR").is_some());
    assert!(!sg::terminal::use_color(false));
}

#[test]
fn completions_and_man_page_are_generated() {
    let t = TestWs::new(REPO);
    for (shell, marker) in [
        ("bash", "complete -F _sg"),
        ("zsh", "#compdef sg"),
        ("fish", "complete -c sg"),
    ] {
        let out = sg(&t).args(["completions", shell]).output().unwrap();
        assert!(out.status.success());
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(marker), "{shell}: {text}");
        assert!(text.contains("search"), "{shell} completes subcommands");
    }
    let man = sg(&t).arg("man").output().unwrap();
    assert!(man.status.success());
    let text = String::from_utf8_lossy(&man.stdout);
    assert!(text.starts_with(".ie") || text.contains(".TH sg"), "{text}");
    assert!(text.contains("search"));
}

/// A `FakeEmbedder` that counts the texts it embeds.
struct Counting {
    inner: FakeEmbedder,
    texts: AtomicUsize,
}

impl Embedder for Counting {
    fn fingerprint(&self) -> ModelFingerprint {
        self.inner.fingerprint()
    }
    fn dims(&self) -> usize {
        self.inner.dims()
    }
    fn name(&self) -> &str {
        "counting"
    }
    fn embed_documents(&self, texts: &[&str]) -> anyhow::Result<Vec<Vec<f32>>> {
        self.texts.fetch_add(texts.len(), Ordering::SeqCst);
        self.inner.embed_documents(texts)
    }
    fn embed_query(&self, text: &str) -> anyhow::Result<Vec<f32>> {
        self.inner.embed_query(text)
    }
}

#[test]
fn fast_tier_vectors_are_cached_across_processes() {
    let t = TestWs::new(REPO);
    let fast = Arc::new(Counting {
        inner: FakeEmbedder::new(32),
        texts: AtomicUsize::new(0),
    });
    let open = || {
        // The writer's lock is a file lock, and a process another test spawns at that moment holds a copy of
        // it between its fork and its exec: wait for the lock rather than fail on that window.
        for _ in 0..100 {
            let mut o = t.options(None);
            o.fast_embedder = Some(fast.clone() as Arc<dyn Embedder>);
            let ws = sg::index::Workspace::open(&t.root(), o).unwrap();
            if ws.is_writable() {
                return ws;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("the index stayed locked");
    };
    let ws = open();
    ws.update(&NoProgress).unwrap();
    let chunks = ws.status().unwrap().chunks as usize;
    let first = fast.texts.load(Ordering::SeqCst);
    assert!(first >= chunks, "{first} texts for {chunks} chunks");
    drop(ws);
    // A second open finds every fast vector in the cache: nothing is embedded again.
    let ws = open();
    ws.update(&NoProgress).unwrap();
    assert_eq!(ws.fast_vectors().len(), chunks);
    assert_eq!(fast.texts.load(Ordering::SeqCst), first);
}

/// Enough chunks that `sg search` hands embedding to a background indexer.
fn many_files(t: &TestWs, n: usize) {
    for i in 0..n {
        t.write(
            &format!("gen/m{i}.py"),
            &format!("def handler_{i}(request):\n    return request.value + {i}\n"),
        );
    }
}

#[test]
fn one_background_indexer_and_none_for_no_update() {
    let t = TestWs::new(REPO);
    many_files(&t, 300);
    // Lexical index only, so every chunk waits for the model.
    ok(&sg(&t)
        .args(["index", "--no-embed", "--json", "--root"])
        .arg(t.root())
        .output()
        .unwrap());
    let search = |extra: &[&str]| {
        ok(&sg(&t)
            .args(["search", "--json", "--root"])
            .arg(t.root())
            .args(extra)
            .arg("handler request value")
            .output()
            .unwrap())
    };
    let quiet = search(&["--no-update"]);
    let note = quiet["note"].as_str().unwrap_or_default();
    assert!(note.contains("not embedded yet"), "{quiet}");
    assert!(!note.contains("background"), "{note}");
    let index_dir = PathBuf::from(
        ok(&sg(&t)
            .args(["status", "--no-embed", "--json", "--root"])
            .arg(t.root())
            .output()
            .unwrap())["index_dir"]
            .as_str()
            .unwrap(),
    );
    assert_eq!(sg::background::BackgroundLock::holder(&index_dir), None);

    let first = search(&[]);
    let note = first["note"].as_str().unwrap_or_default().to_owned();
    let pid = |note: &str| -> u32 {
        let at = note
            .find("(pid ")
            .unwrap_or_else(|| panic!("no pid in {note:?}"));
        note[at + 5..].split(')').next().unwrap().parse().unwrap()
    };
    let mut reported = vec![pid(&note)];
    // While it runs, the next search names the running indexer instead of starting another.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let named = loop {
        assert!(
            std::time::Instant::now() < deadline,
            "no search named the running indexer"
        );
        let again = search(&[]);
        let note = again["note"].as_str().unwrap_or_default();
        assert!(
            !note.is_empty(),
            "300 chunks cannot be embedded this fast: {again}"
        );
        if note.contains("the background") {
            break pid(note);
        }
        // Started in the same instant as another: it exits at once, holding nothing.
        reported.push(pid(note));
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert!(reported.contains(&named), "{named} not among {reported:?}");
    // It ends on its own when the work is done, and then nothing is pending.
    while sg::background::BackgroundLock::holder(&index_dir).is_some() {
        assert!(
            std::time::Instant::now() < deadline,
            "the background indexer did not finish"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let done = search(&["--no-update"]);
    assert!(done.get("note").is_none(), "{done}");
}

#[test]
fn nonsense_finds_nothing_in_every_mode_and_exits_1() {
    let t = TestWs::new(REPO);
    for mode in ["hybrid", "semantic", "lexical"] {
        let out = sg(&t)
            .env("SG_NO_BACKGROUND", "1")
            .args(["search", "--json", "--mode", mode, "--root"])
            .arg(t.root())
            .arg("xyzzy plugh frobnicate quux")
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{mode}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["results"], serde_json::json!([]), "{mode}: {v}");
        if mode != "lexical" {
            assert!(
                v["note"]
                    .as_str()
                    .unwrap()
                    .contains("close to it in meaning"),
                "{mode}: {v}"
            );
        }
    }
    // A query by meaning that shares no word with the code still answers.
    let v = ok(&sg(&t)
        .env("SG_NO_BACKGROUND", "1")
        .args(["search", "--json", "--root"])
        .arg(t.root())
        .arg("keep calling until success, pausing progressively")
        .output()
        .unwrap());
    assert_eq!(v["results"][0]["path"], "lib/retry.py", "{v}");
}
