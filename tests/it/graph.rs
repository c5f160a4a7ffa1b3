//! The code graph through the library and the `sg` binary: references by name with their enclosing
//! definitions, kept up to date as files change and disappear, and questions routed by their intent.

use sg::agent::references::{RefQuery, references};
use sg::graph::RefKind;
use sg::index::NoProgress;
use sg::intent::Intent;
use sg::query::SearchRequest;
use sg::search::RankConfig;

use crate::support::{TestWs, ok_json, sg};

const REPO: &str = r#"
//- /src/config.rs
pub struct Config {
    pub port: u16,
}

pub fn parse_config(text: &str) -> Config {
    let port = text.trim().parse().unwrap_or(8080);
    Config { port }
}

//- /src/server.rs
use crate::config::{parse_config, Config};

pub fn start(text: &str) -> u16 {
    let config: Config = parse_config(text);
    config.port
}

pub fn reload(parse_config: &str) -> usize {
    parse_config.len()
}

//- /app/main.py
from config import load


def main(path):
    settings = load(path)
    return settings
"#;

fn uses(
    t: &sg::index::Workspace,
    name: &str,
    kinds: Vec<RefKind>,
) -> Vec<(String, u32, &'static str, Option<String>)> {
    let r = references(
        t,
        &RefQuery {
            name: name.into(),
            kinds,
            limit: 100,
            ..RefQuery::default()
        },
    )
    .unwrap();
    r.references
        .into_iter()
        .map(|u| (u.path, u.line, u.kind, u.enclosing.map(|e| e.symbol)))
        .collect()
}

#[test]
fn references_follow_edits_and_removals() {
    let t = TestWs::new(REPO);
    let ws = t.open(None);
    ws.scan(&NoProgress).unwrap();
    let s = |p: &str, l, k, e: Option<&str>| (p.to_string(), l, k, e.map(String::from));
    // The import and the call; the parameter of the same name in `reload` is a local, not a use.
    assert_eq!(
        uses(&ws, "parse_config", vec![]),
        [
            s("src/server.rs", 1, "import", None),
            s("src/server.rs", 4, "call", Some("start"))
        ]
    );
    assert_eq!(
        uses(&ws, "Config", vec![RefKind::Type]),
        [
            s("src/config.rs", 5, "type", Some("parse_config")),
            // A struct literal names its type.
            s("src/config.rs", 7, "type", Some("parse_config")),
            s("src/server.rs", 4, "type", Some("start"))
        ]
    );
    assert_eq!(ws.ref_table().unwrap().file_count("parse_config"), 1);

    // A new caller is found once the file is indexed; a removed one is gone.
    t.write(
        "src/cli.rs",
        "pub fn run() {\n    let c = crate::config::parse_config(\"9\");\n}\n",
    );
    ws.scan(&NoProgress).unwrap();
    let found = uses(&ws, "parse_config", vec![RefKind::Call]);
    assert_eq!(
        found,
        [
            s("src/cli.rs", 2, "call", Some("run")),
            s("src/server.rs", 4, "call", Some("start"))
        ]
    );
    std::fs::remove_file(t.root().join("src/server.rs")).unwrap();
    ws.scan(&NoProgress).unwrap();
    assert_eq!(
        uses(&ws, "parse_config", vec![]),
        [s("src/cli.rs", 2, "call", Some("run"))]
    );
    assert_eq!(ws.ref_table().unwrap().file_count("parse_config"), 1);

    // An unknown name is an error that names the nearest known ones.
    let err = references(
        &ws,
        &RefQuery {
            name: "parse_confg".into(),
            limit: 10,
            ..RefQuery::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("did you mean parse_config"), "{err}");
}

#[test]
fn questions_are_routed_to_the_graph_and_plain_words_are_searched() {
    let t = TestWs::new(REPO);
    let ws = t.open(None);
    ws.scan(&NoProgress).unwrap();
    let rank = RankConfig::default();
    let run = |q: &str, intent: Option<Intent>| {
        sg::agent::route::search(&ws, &SearchRequest::new(q, 10), intent, |r| {
            ws.search(r, &rank)
        })
        .unwrap()
    };
    let r = run("who calls parse_config", None);
    assert_eq!(r.route.intent, Intent::References);
    let hits: Vec<_> = r
        .response
        .hits
        .iter()
        .map(|h| {
            (
                h.path.as_str(),
                h.symbol.as_deref(),
                h.start_line,
                h.end_line,
                h.match_lines,
            )
        })
        .collect();
    assert_eq!(hits, [("src/server.rs", Some("start"), 3, 6, (4, 4))]);

    let r = run("where is parse_config defined?", None);
    assert_eq!(r.route.intent, Intent::Definition);
    let hits: Vec<_> = r
        .response
        .hits
        .iter()
        .map(|h| (h.path.as_str(), h.start_line, h.end_line))
        .collect();
    assert_eq!(hits, [("src/config.rs", 5, 8)]);

    // A module named after the file answers where no definition has the name.
    let r = run("where is main defined", None);
    assert_eq!(r.response.hits[0].path, "app/main.py");

    // A name nobody uses falls back to the search and says why.
    let r = run("who calls Config", None);
    assert!(
        r.response
            .note
            .as_deref()
            .unwrap_or("")
            .contains("no call of Config"),
        "{:?}",
        r.response.note
    );

    // A bare identifier puts its definitions first, with scores that keep them first in a merge.
    let r = run("Config", None);
    assert_eq!(r.route.intent, Intent::Symbol);
    let hits = &r.response.hits;
    assert_eq!(
        (hits[0].path.as_str(), hits[0].symbol.as_deref()),
        ("src/config.rs", Some("Config"))
    );
    assert!(
        hits.windows(2).all(|w| w[0].score >= w[1].score),
        "scores must not rise down the list"
    );

    // An explicit intent wins over the guess.
    let r = run("who calls parse_config", Some(Intent::Search));
    assert_eq!(r.route.intent, Intent::Search);
    assert!(r.response.hits.iter().any(|h| h.path == "src/config.rs"));
}

#[test]
fn the_binary_answers_refs_and_def_as_json() {
    let t = TestWs::new(REPO);
    let v = ok_json(
        sg(&t)
            .args(["refs", "parse_config", "--json", "--no-embed", "--root"])
            .arg(t.root()),
    );
    assert_eq!(v["total"], 2);
    assert_eq!(v["references"][1]["enclosing"]["symbol"], "start");
    assert_eq!(
        v["references"][1]["text"],
        "let config: Config = parse_config(text);"
    );
    assert_eq!(v["definitions"][0]["path"], "src/config.rs");

    let v = ok_json(
        sg(&t)
            .args(["def", "Config", "--json", "--root"])
            .arg(t.root()),
    );
    assert_eq!(v["definitions"][0]["path"], "src/config.rs");
    assert_eq!(
        v["definitions"][0]["code"],
        "pub struct Config {\n    pub port: u16,\n}\n"
    );

    // Nothing by that name: exit 2 with the nearest names on stderr.
    let out = sg(&t)
        .args(["refs", "parse_confg", "--root"])
        .arg(t.root())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("parse_config"));
    // A bad kind is refused by the parser.
    let out = sg(&t)
        .args(["refs", "parse_config", "--kind", "caller", "--root"])
        .arg(t.root())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
