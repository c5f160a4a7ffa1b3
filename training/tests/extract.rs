//! `extract` on a fixture tree gives the expected pairs (docs blanked out of the code, test names and README
//! sections resolved to the definitions they name), refuses projects on the exclusion list, and `mine` picks a
//! BM25 near-miss that is not the pair's own code.

use std::path::Path;

use training::exclude::default_list_path;
use training::extract::{ExtractArgs, run};
use training::mine::{MineArgs, run as mine};
use training::pairs::read_pairs;

const LIB_RS: &str = r#"//! Configuration loading.

/// Parses the configuration file at `path` into settings, rejecting unknown keys.
pub fn parse_config(path: &str) -> Result<Settings, Error> {
    let text = std::fs::read_to_string(path)?;
    let settings: Settings = toml::from_str(&text)?;
    Ok(settings)
}

/// Reads settings from configuration text given as a string.
pub fn parse_config_text(text: &str) -> Result<Settings, Error> {
    let settings: Settings = toml::from_str(text)?;
    settings.validate()?;
    Ok(settings)
}

/// Gets the name.
pub fn get_name(s: &Settings) -> String {
    let name = s.name.clone();
    name.to_uppercase()
}

/// Retries a failed request up to three times, sleeping between attempts.
pub fn retry(req: &Request) -> Response {
    for attempt in 0..3 {
        if let Ok(r) = req.send() {
            return r;
        }
        std::thread::sleep(std::time::Duration::from_millis(100 << attempt));
    }
    panic!("gave up")
}
"#;

const TESTS_RS: &str = r#"#[test]
fn test_parse_config_rejects_unknown_keys() {
    let err = parse_config("fixtures/bad.toml").unwrap_err();
    assert!(err.to_string().contains("unknown"));
}
"#;

const UTIL_PY: &str = r#"def slugify(title):
    """Turn a page title into a lowercase URL slug with dashes."""
    words = title.lower().split()
    return "-".join(w for w in words if w.isalnum())
"#;

const MAILER_EX: &str = r#"defmodule Demo.Mailer do
  @moduledoc "Sends mail."

  @doc """
  Delivers the message to every recipient, retrying failed connections twice.
  """
  @spec deliver(map()) :: :ok | {:error, term()}
  def deliver(message) do
    Enum.each(message.to, &send_one(&1, message))
  end

  defp send_one(to, message), do: {to, message}
end
"#;

const README: &str = "# demo\n\n## Configuration\n\nCall `parse_config` with the path of your settings file; it reads the \
                      file and returns the settings, or an error that names the unknown key.\n";

fn fixture(root: &Path) {
    let demo = root.join("demo-1.2.0");
    std::fs::create_dir_all(demo.join("src")).unwrap();
    std::fs::create_dir_all(demo.join("tests")).unwrap();
    std::fs::write(demo.join("src/lib.rs"), LIB_RS).unwrap();
    std::fs::write(demo.join("tests/config.rs"), TESTS_RS).unwrap();
    std::fs::write(demo.join("util.py"), UTIL_PY).unwrap();
    std::fs::write(demo.join("README.md"), README).unwrap();
    std::fs::create_dir_all(demo.join("lib")).unwrap();
    std::fs::write(demo.join("lib/mailer.ex"), MAILER_EX).unwrap();
    // An evaluation project: never read.
    let tokio = root.join("tokio-1.40.0").join("src");
    std::fs::create_dir_all(&tokio).unwrap();
    std::fs::write(
        tokio.join("lib.rs"),
        LIB_RS.replace("parse_config", "tokio_config"),
    )
    .unwrap();
}

fn args(roots: Vec<std::path::PathBuf>, out: std::path::PathBuf) -> ExtractArgs {
    ExtractArgs {
        roots,
        repos: Vec::new(),
        out,
        sources: vec!["doc".into(), "readme".into(), "test".into()],
        valid_fraction: 0.0,
        max_per_repo: 1000,
        max_per_language: 1000,
        min_anchor_words: 4,
        max_anchor_chars: 400,
        exclude_list: default_list_path(),
    }
}

#[test]
fn extract_pairs_docs_tests_and_readme_sections_with_their_code() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("repos");
    fixture(&root);
    let out = tmp.path().join("pairs");
    let summary = run(&args(vec![root], out.clone())).unwrap();
    assert_eq!(summary.excluded_repos, vec!["tokio".to_owned()]);
    let pairs = read_pairs(&out.join("train.jsonl")).unwrap();
    assert!(read_pairs(&out.join("valid.jsonl")).unwrap().is_empty());
    assert!(pairs.iter().all(|p| p.repo == "demo"), "{pairs:#?}");
    assert!(pairs.iter().all(|p| !p.positive.contains("tokio_config")));

    let doc = pairs
        .iter()
        .find(|p| p.source == "doc" && p.positive.contains("fn parse_config("))
        .expect("a doc pair for parse_config");
    assert_eq!(
        doc.anchor,
        "Parses the configuration file at `path` into settings, rejecting unknown keys."
    );
    assert!(
        !doc.positive.contains("Parses the configuration"),
        "doc blanked: {}",
        doc.positive
    );
    assert!(
        doc.positive.contains("pub fn parse_config(path"),
        "{}",
        doc.positive
    );
    assert_eq!(doc.language, "rust");
    assert_eq!(doc.weight, 1.0);

    let py = pairs
        .iter()
        .find(|p| p.language == "python")
        .expect("the docstring pair");
    assert_eq!(
        py.anchor,
        "Turn a page title into a lowercase URL slug with dashes."
    );
    assert!(!py.positive.contains("\"\"\""), "{}", py.positive);

    let ex = pairs
        .iter()
        .find(|p| p.language == "elixir")
        .expect("the @doc pair");
    assert_eq!(
        ex.anchor,
        "Delivers the message to every recipient, retrying failed connections twice."
    );
    assert!(!ex.positive.contains("@doc"), "{}", ex.positive);
    assert!(
        ex.positive.contains("@spec deliver(map())"),
        "{}",
        ex.positive
    );
    assert!(
        ex.positive.contains("def deliver(message) do"),
        "{}",
        ex.positive
    );

    // "Gets the name." on `get_name` says nothing the name does not.
    assert!(!pairs.iter().any(|p| p.anchor.contains("Gets the name")));

    let test = pairs
        .iter()
        .find(|p| p.source == "test")
        .expect("a test pair");
    assert_eq!(test.anchor, "parse config rejects unknown keys");
    assert!(test.positive.contains("pub fn parse_config("));

    let readme = pairs
        .iter()
        .find(|p| p.source == "readme")
        .expect("a README pair");
    assert!(
        readme
            .anchor
            .starts_with("Configuration Call `parse_config` with the path"),
        "{}",
        readme.anchor
    );
    assert!(readme.positive.contains("pub fn parse_config("));
    assert_eq!(summary.train, pairs.len());
}

#[test]
fn extract_refuses_an_excluded_repository_given_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("repos");
    fixture(&root);
    let mut a = args(Vec::new(), tmp.path().join("out"));
    a.repos = vec![root.join("tokio-1.40.0")];
    let err = format!("{:#}", run(&a).unwrap_err());
    assert!(err.contains("tokio"), "{err}");
}

#[test]
fn mine_picks_a_lexical_near_miss_and_never_the_own_positive() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("repos");
    fixture(&root);
    let out = tmp.path().join("pairs");
    run(&args(vec![root], out.clone())).unwrap();
    let mined = tmp.path().join("mined.jsonl");
    let report = mine(&MineArgs {
        pairs: out.join("train.jsonl"),
        out: mined.clone(),
        model: None,
        skip: 0,
        max_tokens: 128,
    })
    .unwrap();
    let pairs = read_pairs(&mined).unwrap();
    assert_eq!(report.pairs, pairs.len());
    assert!(report.lexical > 0);
    for p in &pairs {
        if let Some(n) = &p.negative {
            assert_ne!(n, &p.positive);
        }
    }
    // The README and test pairs about parse_config have the same code as the doc pair: the negative is the
    // lexically closest other code.
    let doc = pairs
        .iter()
        .find(|p| p.source == "doc" && p.positive.contains("fn parse_config("))
        .unwrap();
    let neg = doc.negative.as_deref().expect("a negative");
    assert!(neg.contains("pub fn parse_config_text("), "{neg}");
}
