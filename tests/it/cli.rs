//! The `sg` binary as a user runs it: exit codes, JSON output, batch mode, and two processes on one
//! index.

use std::io::Write;
use std::process::Stdio;

use sg::index::NoProgress;

use crate::support::{TestWs, json, sg};

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

//- /README.md
# Demo

A tiny fixture.
"#;

#[test]
fn search_json_reports_ranges_and_index_counts() {
    let t = TestWs::new(REPO);
    let out = sg(&t)
        .args(["search", "--no-embed", "--json", "--root"])
        .arg(t.root())
        .arg("parse_config")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out.stdout);
    assert_eq!(v["query"], "parse_config");
    assert_eq!(v["mode"], "lexical");
    assert_eq!(v["index"]["files"], 3);
    let first = &v["results"][0];
    assert_eq!(first["path"], "lib/config.rs");
    assert_eq!(first["symbol"], "parse_config");
    assert_eq!(first["language"], "rust");
    assert_eq!(
        (first["start_line"].as_u64(), first["end_line"].as_u64()),
        (Some(5), Some(8))
    );
}

#[test]
fn exit_codes_follow_grep() {
    let t = TestWs::new(REPO);
    let run = |q: &str| {
        sg(&t)
            .args(["search", "--no-embed", "--root"])
            .arg(t.root())
            .arg(q)
            .output()
            .unwrap()
    };
    let found = run("retry_with_backoff");
    assert_eq!(found.status.code(), Some(0));
    let text = String::from_utf8_lossy(&found.stdout);
    assert!(
        text.starts_with("lib/retry.py:1-12  def retry_with_backoff"),
        "{text}"
    );
    assert!(
        text.contains("\n    def retry_with_backoff(fn, attempts=5):\n"),
        "{text}"
    );
    assert_eq!(run("zzqqxxnothing").status.code(), Some(1));
    let bad = sg(&t)
        .args(["search", "--root", "/definitely/not/here", "x"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("cannot open workspace"));
    let bad_mode = sg(&t)
        .args(["search", "--mode", "fuzzy", "x"])
        .output()
        .unwrap();
    assert_eq!(bad_mode.status.code(), Some(2));
}

#[test]
fn batch_mode_answers_one_line_per_query() {
    let t = TestWs::new(REPO);
    let mut child = sg(&t)
        .args(["search", "--no-embed", "--batch", "-", "--root"])
        .arg(t.root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"{\"query\": \"parse_config\"}\n\n{\"query\": \"sleeping longer after each failure\", \"limit\": 1}\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| json(l.as_bytes()))
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["results"][0]["path"], "lib/config.rs");
    assert_eq!(lines[1]["results"].as_array().unwrap().len(), 1);
    assert_eq!(lines[1]["results"][0]["path"], "lib/retry.py");
}

#[test]
fn a_second_process_reads_while_the_first_writes() {
    let t = TestWs::new(REPO);
    let index_dir = t.index_dir();
    let ws = sg::index::Workspace::open(&t.root(), t.options(None)).unwrap();
    ws.update(&NoProgress).unwrap();
    // The first holds the writer; another process can still search...
    let out = sg(&t)
        .args(["search", "--no-embed", "--json", "--index-dir"])
        .arg(&index_dir)
        .arg("--root")
        .arg(t.root())
        .arg("retry_with_backoff")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(json(&out.stdout)["results"][0]["path"], "lib/retry.py");
    // ...but not write, and says why.
    let out = sg(&t)
        .args(["index", "--no-embed", "--index-dir"])
        .arg(&index_dir)
        .arg(t.root())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("another sg process"));
    drop(ws);
    let out = sg(&t)
        .args(["index", "--no-embed", "--index-dir"])
        .arg(&index_dir)
        .arg(t.root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn index_and_status_report_counts() {
    let t = TestWs::new(REPO);
    let out = sg(&t)
        .args(["index", "--no-embed", "--json"])
        .arg(t.root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out.stdout);
    assert_eq!(v["files_changed"], 3);
    let out = sg(&t)
        .args(["status", "--no-embed", "--json"])
        .arg(t.root())
        .output()
        .unwrap();
    let v = json(&out.stdout);
    assert_eq!(v["files"], 3);
    assert_eq!(v["scanned"], true);
}

#[test]
fn a_killed_index_run_leaves_an_index_the_next_run_completes() {
    let t = TestWs::new(REPO);
    for i in 0..40 {
        t.write(
            &format!("gen/mod{i}.py"),
            &format!("def handler_{i}(request):\n    return request.reply({i})\n"),
        );
    }
    let mut child = sg(&t).args(["index"]).arg(t.root()).spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(700));
    child.kill().unwrap();
    child.wait().unwrap();
    let out = sg(&t)
        .args(["index", "--json"])
        .arg(t.root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = sg(&t)
        .args(["status", "--json"])
        .arg(t.root())
        .output()
        .unwrap();
    let v = json(&out.stdout);
    assert_eq!(v["files"], 43);
    assert_eq!(v["chunks"], v["embedded"], "{v}");
    let out = sg(&t)
        .args(["search", "--json", "--no-update", "--root"])
        .arg(t.root())
        .arg("handler_17")
        .output()
        .unwrap();
    assert_eq!(json(&out.stdout)["results"][0]["path"], "gen/mod17.py");
}
