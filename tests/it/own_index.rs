//! An index kept inside its own workspace (`--index-dir` or the server's `indexDir` under the root) is
//! never indexed: it would change with every commit and be indexed again, for ever.

use sg::config::IndexConfig;
use sg::index::{NoProgress, OpenOptions, Workspace};
use sg::query::SearchRequest;
use sg::search::{Mode, RankConfig};

use crate::support::TestWs;

#[test]
fn an_index_inside_the_workspace_is_never_indexed_and_a_rescan_settles() {
    let t = TestWs::new("//- /src/lib.rs\npub fn read_segments() {}\n");
    let opts = OpenOptions {
        index_dir: Some(t.root().join("idx/indexes/ws")),
        cache_dir: Some(t.root().join("idx/embeddings")),
        config: IndexConfig {
            embed: false,
            ..IndexConfig::default()
        },
        ..OpenOptions::default()
    };
    let ws = Workspace::open(&t.root(), opts).unwrap();
    let first = ws.scan(&NoProgress).unwrap();
    let txn = ws.store().read_txn().unwrap();
    let paths: Vec<String> = ws
        .store()
        .files(&txn)
        .unwrap()
        .into_iter()
        .map(|(_, r)| r.path)
        .collect();
    drop(txn);
    assert_eq!(paths, vec!["src/lib.rs"]);
    assert_eq!(first.files_seen, 1);
    // The first scan's commit rewrote the index's own files; a second scan has nothing to do.
    let second = ws.scan(&NoProgress).unwrap();
    assert_eq!(
        (
            second.files_seen,
            second.files_changed,
            second.files_removed
        ),
        (1, 0, 0)
    );
    // Words of tantivy's own files (meta.json) find nothing in the index folder.
    let mut req = SearchRequest::new("segments opstamp schema", 20);
    req.mode = Mode::Lexical;
    let r = ws.search(&req, &RankConfig::default()).unwrap();
    assert!(
        r.hits.iter().all(|h| !h.path.starts_with("idx/")),
        "{:?}",
        r.hits.iter().map(|h| &h.path).collect::<Vec<_>>()
    );
}
