//! The engine end to end through the library: indexing, incremental updates, search quality with the
//! real model, and recovery from damaged or locked indexes.

use std::sync::Arc;

use sg::embed::{Embedder, FakeEmbedder};
use sg::index::{NoProgress, OpenOptions, Workspace};
use sg::query::SearchRequest;
use sg::search::{Mode, RankConfig};

use crate::support::{TestWs, real_model};

const APP: &str = r#"
//- /src/checksum.py
def compute_checksum(data):
    """Fold every byte into a 32-bit value."""
    h = 0
    for b in data:
        h = (h * 31 + b) & 0xFFFFFFFF
    return h

//- /src/dates.py
from datetime import datetime

def parse_timestamp(text):
    """Read an ISO-8601 string into a datetime."""
    return datetime.fromisoformat(text)

//- /src/mailer.py
import smtplib

def send_welcome_email(user, server):
    """Send the greeting message to a newly registered user."""
    msg = f"Subject: Welcome\n\nHello {user.name}!"
    server.sendmail("noreply@example.com", [user.email], msg)

//- /src/users.rs
pub struct User {
    pub name: String,
    pub age: u32,
}

/// Orders people from the oldest to the youngest.
pub fn sort_users_by_age(users: &mut Vec<User>) {
    users.sort_by(|a, b| b.age.cmp(&a.age));
}

pub fn parse_config(path: &str) -> Config {
    let text = std::fs::read_to_string(path).unwrap();
    Config::from_str(&text)
}

//- /src/server.go
package server

import "net/http"

// RetryRequest sends the request again until it succeeds or attempts run out.
func RetryRequest(client *http.Client, req *http.Request, attempts int) (*http.Response, error) {
	var err error
	for i := 0; i < attempts; i++ {
		resp, e := client.Do(req)
		if e == nil && resp.StatusCode < 500 {
			return resp, nil
		}
		err = e
	}
	return nil, err
}

//- /src/main.rs
fn main() {
    let cfg = parse_config("app.toml");
    println!("{:?}", cfg);
}
"#;

fn search(ws: &Workspace, q: &str, mode: Mode) -> Vec<(String, Option<String>)> {
    let mut req = SearchRequest::new(q, 10);
    req.mode = mode;
    ws.search(&req, &RankConfig::default())
        .unwrap()
        .hits
        .into_iter()
        .map(|h| (h.path, h.symbol))
        .collect()
}

fn fake() -> Arc<dyn Embedder> {
    Arc::new(FakeEmbedder::new(64))
}

#[test]
fn semantic_query_sharing_no_word_with_the_code_finds_it() {
    let t = TestWs::new(APP);
    let ws = t.open(Some(real_model()));
    ws.update(&NoProgress).unwrap();
    let hits = search(&ws, "hash the bytes to detect corruption", Mode::Semantic);
    assert_eq!(
        hits[0],
        (
            "src/checksum.py".to_string(),
            Some("compute_checksum".to_string())
        )
    );
    // sort_users_by_age shares a pack with its neighbours: the hit is the function itself, with its doc.
    let mut req = SearchRequest::new("arrange people from eldest to youngest", 10);
    req.mode = Mode::Hybrid;
    let top = &ws.search(&req, &RankConfig::default()).unwrap().hits[0];
    assert_eq!(top.path, "src/users.rs");
    assert_eq!(top.symbol.as_deref(), Some("sort_users_by_age"), "{top:?}");
    assert_eq!((top.start_line, top.end_line), (6, 9), "{top:?}");
    let hits = search(&ws, "try the http call again when it fails", Mode::Hybrid);
    assert_eq!(hits[0].1.as_deref(), Some("RetryRequest"));
}

#[test]
fn identifier_query_puts_the_definition_above_call_sites() {
    let t = TestWs::new(APP);
    let ws = t.open(None);
    ws.update(&NoProgress).unwrap();
    let hits = search(&ws, "parse_config", Mode::Lexical);
    assert_eq!(
        hits[0],
        ("src/users.rs".to_string(), Some("parse_config".to_string()))
    );
    assert!(
        hits.iter().any(|h| h.0 == "src/main.rs"),
        "the call site is still found: {hits:?}"
    );
}

#[test]
fn reindexing_an_unchanged_tree_embeds_and_writes_nothing() {
    let t = TestWs::new(APP);
    let ws = t.open(Some(fake()));
    let first = ws.update(&NoProgress).unwrap();
    assert_eq!(first.files_changed, 6);
    assert!(first.chunks_embedded > 0);
    let second = ws.update(&NoProgress).unwrap();
    assert_eq!(
        (
            second.files_changed,
            second.chunks_written,
            second.chunks_embedded
        ),
        (0, 0, 0)
    );
    drop(ws);
    // Across processes too: a fresh open finds every vector in the cache.
    let ws = t.open(Some(fake()));
    let third = ws.update(&NoProgress).unwrap();
    assert_eq!((third.files_changed, third.chunks_embedded), (0, 0));
    let st = ws.status().unwrap();
    assert_eq!(st.embedded, st.chunks);
}

#[test]
fn only_added_modified_and_deleted_files_are_reprocessed() {
    let t = TestWs::new(APP);
    let ws = t.open(Some(fake()));
    ws.update(&NoProgress).unwrap();
    t.write("src/new.py", "def brand_new_helper():\n    return 42\n");
    t.write(
        "src/dates.py",
        "from datetime import datetime\n\ndef parse_timestamp(text):\n    return datetime.fromisoformat(text.strip())\n",
    );
    std::fs::remove_file(t.root().join("src/mailer.py")).unwrap();
    let s = ws.update(&NoProgress).unwrap();
    assert_eq!((s.files_changed, s.files_removed), (2, 1));
    // The unchanged import chunk of dates.py keeps its cached vector; the changed function is new.
    assert!(s.chunks_embedded >= 2 && s.chunks_embedded <= 3, "{s:?}");
    assert_eq!(
        search(&ws, "brand_new_helper", Mode::Lexical)[0].0,
        "src/new.py"
    );
    assert!(
        search(&ws, "send_welcome_email", Mode::Lexical)
            .iter()
            .all(|h| h.0 != "src/mailer.py")
    );
    // A touched file with the same content is not re-chunked.
    let text = std::fs::read_to_string(t.root().join("src/users.rs")).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    t.write("src/users.rs", &text);
    let s = ws.update(&NoProgress).unwrap();
    assert_eq!((s.files_changed, s.chunks_written), (0, 0));
}

#[test]
fn bad_files_are_skipped_and_nothing_is_lost() {
    let t = TestWs::new(APP);
    t.write("data/blob.dat", "\0\0\u{1}binary\0");
    std::fs::write(
        t.root().join("src/latin1.py"),
        b"def caf\xe9():\n    return 'na\xefve'\n",
    )
    .unwrap();
    t.write("src/empty.py", "");
    t.write("web/app.js", &format!("var a={};\n", "1,".repeat(300_000)));
    t.write("big/huge.txt", &"x\n".repeat(600_000));
    #[cfg(unix)]
    std::os::unix::fs::symlink(t.root().join("nowhere"), t.root().join("src/dangling.py")).unwrap();
    let ws = t.open(None);
    let s = ws.update(&NoProgress).unwrap();
    assert_eq!(s.files_changed, 8, "{s:?}"); // the six sources, latin1.py and empty.py
    let hits = search(&ws, "caf", Mode::Lexical);
    assert_eq!(hits[0].0, "src/latin1.py");
    let all = search(&ws, "binary", Mode::Lexical);
    assert!(all.iter().all(|h| h.0 != "data/blob.dat"));
}

#[test]
fn a_damaged_lexical_index_is_rebuilt_from_the_store() {
    let t = TestWs::new(APP);
    {
        let ws = t.open(None);
        ws.update(&NoProgress).unwrap();
    }
    // Simulate a crash that lost the tantivy files.
    let lex = t.index_dir().join("tantivy");
    std::fs::remove_dir_all(&lex).unwrap();
    std::fs::create_dir_all(&lex).unwrap();
    std::fs::write(lex.join("meta.json"), "{ not json").unwrap();
    let ws = t.open(None);
    assert_eq!(
        search(&ws, "RetryRequest", Mode::Lexical)[0].0,
        "src/server.go"
    );
}

#[test]
fn a_corrupt_store_is_rebuilt() {
    let t = TestWs::new(APP);
    {
        let ws = t.open(None);
        ws.update(&NoProgress).unwrap();
    }
    std::fs::write(t.index_dir().join("lmdb/data.mdb"), vec![0x5a; 64 * 1024]).unwrap();
    let ws = t.open(None);
    ws.update(&NoProgress).unwrap();
    assert_eq!(
        search(&ws, "RetryRequest", Mode::Lexical)[0].0,
        "src/server.go"
    );
}

#[test]
fn filters_by_path_language_and_kind() {
    let t = TestWs::new(APP);
    let ws = t.open(None);
    ws.update(&NoProgress).unwrap();
    let mut req = SearchRequest::new("parse", 10);
    req.mode = Mode::Lexical;
    req.languages = vec![sg::syntax::Language::Python];
    let r = ws.search(&req, &RankConfig::default()).unwrap();
    assert!(!r.hits.is_empty());
    assert!(r.hits.iter().all(|h| h.path.ends_with(".py")));
    req.languages.clear();
    req.paths = vec!["src/users.rs".into()];
    let r = ws.search(&req, &RankConfig::default()).unwrap();
    assert!(r.hits.iter().all(|h| h.path == "src/users.rs"));
}

#[test]
fn symbols_are_found_by_name() {
    let t = TestWs::new(APP);
    let ws = t.open(None);
    ws.update(&NoProgress).unwrap();
    let table = ws.symbol_table().unwrap();
    let hits = table.search("User", 5, None);
    assert_eq!(hits[0].entry.name, "User");
    assert_eq!(table.path(hits[0].entry.file), Some("src/users.rs"));
    assert_eq!((hits[0].entry.start_line, hits[0].entry.end_line), (1, 4));
    // Updates keep the table current.
    ws.update_file("src/users.rs", Some("pub fn only_this() {}\n"))
        .unwrap();
    let table = ws.symbol_table().unwrap();
    assert!(
        table
            .search("User", 5, None)
            .iter()
            .all(|h| h.entry.name != "User")
    );
    assert_eq!(
        table.search("only_this", 5, None)[0].entry.name,
        "only_this"
    );
}

#[test]
fn opening_a_missing_folder_is_a_clear_error() {
    let t = TestWs::new(APP);
    let err = match Workspace::open(&t.root().join("nope"), OpenOptions::default()) {
        Ok(_) => panic!("opened a missing folder"),
        Err(e) => format!("{e:#}"),
    };
    assert!(err.contains("cannot open workspace"), "{err}");
}

#[test]
fn the_import_graph_follows_edits_and_lifts_imported_files() {
    let t = TestWs::new(
        "//- /app/main.py\nfrom store.cache import evict_entries\n\ndef run():\n    evict_entries()\n\
         //- /store/cache.py\ndef evict_entries():\n    \"\"\"Drop stale entries from the cache.\"\"\"\n    return []\n\
         //- /legacy/cache_old.py\ndef evict_entries_old():\n    \"\"\"Drop stale entries from the cache.\"\"\"\n    return []\n",
    );
    let ws = t.open(Some(fake()));
    ws.update(&NoProgress).unwrap();
    assert_eq!(
        ws.related_files("app/main.py", 10).unwrap(),
        vec!["store/cache.py"]
    );
    assert_eq!(
        ws.related_files("store/cache.py", 10).unwrap(),
        vec!["app/main.py"]
    );
    let ranked = |current: &str| {
        let mut req = SearchRequest::new("drop stale entries", 10);
        req.mode = Mode::Lexical;
        req.context.current_file = Some(current.to_string());
        ws.search(&req, &RankConfig::default())
            .unwrap()
            .hits
            .into_iter()
            .map(|h| h.path)
            .filter(|p| p != current)
            .collect::<Vec<_>>()
    };
    let rel = ranked("app/main.py");
    assert_eq!(rel[0], "store/cache.py", "{rel:?}");
    // Switching the import to the other module moves the boost with it (the graph follows writes).
    t.write(
        "app/main.py",
        "from legacy.cache_old import evict_entries_old\n\ndef run():\n    evict_entries_old()\n",
    );
    ws.update(&NoProgress).unwrap();
    assert_eq!(
        ws.related_files("app/main.py", 10).unwrap(),
        vec!["legacy/cache_old.py"]
    );
    let rel = ranked("app/main.py");
    assert_eq!(rel[0], "legacy/cache_old.py", "{rel:?}");
}

#[test]
fn the_approximate_tier_answers_like_the_exact_scan_and_serves_new_chunks_before_a_rebuild() {
    let t = TestWs::new(APP);
    let queries = [
        "fold every byte into a checksum value",
        "send the greeting message to a new user",
        "sends the request again until it succeeds",
        "read an iso string into a datetime",
    ];
    // The reference: the default threshold keeps this tiny workspace on the exact scan.
    let exact: Vec<_> = {
        let ws = t.open(Some(fake()));
        ws.update(&NoProgress).unwrap();
        assert_eq!(ws.ann_status().unwrap(), None);
        assert_eq!(ws.build_ann().unwrap(), None);
        assert!(!t.index_dir().join("ann").exists());
        queries
            .iter()
            .map(|q| search(&ws, q, Mode::Semantic)[0].clone())
            .collect()
    };
    let mut opts = t.options(Some(fake()));
    opts.config.ann_threshold = 3;
    let ws = Workspace::open(&t.root(), opts).unwrap();
    ws.update(&NoProgress).unwrap();
    let report = ws.build_ann().unwrap().expect("the tier is active");
    let chunks = ws.status().unwrap().chunks;
    assert_eq!(report.items, chunks);
    let st = ws.ann_status().unwrap().unwrap();
    assert_eq!((st.built, st.recent, st.deleted), (chunks, 0, 0));
    assert!(t.index_dir().join("ann").exists());
    for (q, e) in queries.iter().zip(&exact) {
        assert_eq!(&search(&ws, q, Mode::Semantic)[0], e, "query {q:?}");
    }
    // A new file is served by the exact scan of recent chunks: far too few changes for a rebuild.
    t.write(
        "src/ledger.py",
        "def reconcile_ledger_entries(ledger):\n    \"\"\"Balance the debits against the credits.\"\"\"\n    return sum(ledger)\n",
    );
    ws.update(&NoProgress).unwrap();
    let st = ws.ann_status().unwrap().unwrap();
    assert_eq!((st.built, st.recent), (chunks, 1), "{st:?}");
    assert!(!st.building);
    let hits = search(
        &ws,
        "balance the debits against the credits",
        Mode::Semantic,
    );
    assert_eq!(
        hits[0],
        (
            "src/ledger.py".to_string(),
            Some("reconcile_ledger_entries".to_string())
        )
    );
    // A deleted file's chunks never come back from the forest.
    std::fs::remove_file(t.root().join("src/mailer.py")).unwrap();
    ws.update(&NoProgress).unwrap();
    let st = ws.ann_status().unwrap().unwrap();
    assert_eq!(st.deleted, 1, "{st:?}");
    let hits = search(
        &ws,
        "send the greeting message to a new user",
        Mode::Semantic,
    );
    assert!(hits.iter().all(|h| h.0 != "src/mailer.py"), "{hits:?}");
}

#[test]
fn the_fast_tier_answers_until_the_main_model_takes_over() {
    let t = TestWs::new(APP);
    let mut opts = t.options(Some(fake()));
    opts.fast_embedder = Some(Arc::new(FakeEmbedder::new(32)) as Arc<dyn Embedder>);
    let ws = Workspace::open(&t.root(), opts).unwrap();
    ws.scan(&NoProgress).unwrap();
    // An interrupted embedding run: the fast tier covers everything, the main model nothing yet.
    let (done, complete) = ws.embed_pending_with(&NoProgress, &|| true).unwrap();
    assert_eq!((done, complete), (0, false));
    let st = ws.status().unwrap();
    assert_eq!((st.embedded, st.embedded_fast), (0, st.chunks));
    // Every chunk waits for the main model (counted without copying a text).
    assert_eq!(ws.pending_count().unwrap() as u64, st.chunks);
    let top = |q: &str| search(&ws, q, Mode::Semantic).first().cloned();
    assert_eq!(
        top("send the greeting message"),
        Some(("src/mailer.py".into(), Some("send_welcome_email".into())))
    );
    // The main model takes over chunk by chunk; the fast vectors go.
    ws.embed_pending(&NoProgress).unwrap();
    let st = ws.status().unwrap();
    assert_eq!((st.embedded, st.embedded_fast), (st.chunks, 0));
    assert_eq!(ws.pending_count().unwrap(), 0);
    assert_eq!(top("send the greeting message").unwrap().0, "src/mailer.py");
    // A new file: the fast tier serves it beside main-model vectors, in one ranking.
    t.write(
        "src/invoice.py",
        "def total_invoice_amount(lines):\n    \"\"\"Sum the price of every invoice line.\"\"\"\n    return sum(l.price for l in lines)\n",
    );
    // The write itself gives the new chunk its fast vector: no embedding run needed.
    ws.scan(&NoProgress).unwrap();
    let st = ws.status().unwrap();
    assert_eq!(st.embedded_fast, 1, "{st:?}");
    assert_eq!(ws.pending_count().unwrap(), 1);
    assert_eq!(
        top("sum invoice line price"),
        Some(("src/invoice.py".into(), Some("total_invoice_amount".into())))
    );
    assert_eq!(top("send the greeting message").unwrap().0, "src/mailer.py");
    // Deleting it drops its fast vector.
    let before = ws.fast_vectors().len();
    std::fs::remove_file(t.root().join("src/invoice.py")).unwrap();
    ws.scan(&NoProgress).unwrap();
    assert_eq!(ws.fast_vectors().len(), before - 1);
    assert_eq!(ws.fast_vectors().len() as u64, ws.status().unwrap().chunks);
}
