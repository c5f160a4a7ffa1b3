//! Training pairs and their JSONL files: `{anchor, positive, negative?, source, language, repo, weight}`, one per
//! line, as `extract` writes them, `mine` rewrites them and `train` reads them.

use std::io::{BufRead, BufWriter, Write};
use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};

/// One (query-like text, code) pair.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pair {
    /// The text a user might search with: a doc comment, a README section, a test name.
    pub anchor: String,
    /// The code it describes, as sg embeds it (enclosing scope, then the text; docs blanked).
    pub positive: String,
    /// Code that looks like a match but is not (a hard negative), when mined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub negative: Option<String>,
    /// Where the pair came from: `doc`, `readme`, `test` or `path`.
    pub source: String,
    /// The positive's language (sg's language name).
    pub language: String,
    /// The repository (project) the pair came from; the train/validation split is by this.
    pub repo: String,
    /// The pair's weight in the loss.
    #[serde(default = "one")]
    pub weight: f32,
}

fn one() -> f32 {
    1.0
}

/// Reads a JSONL file of pairs; a malformed line is an error naming its line number.
pub fn read_pairs(path: &Path) -> anyhow::Result<Vec<Pair>> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut pairs = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("cannot read {}", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let pair: Pair = serde_json::from_str(&line)
            .with_context(|| format!("{}:{}: not a training pair", path.display(), i + 1))?;
        pairs.push(pair);
    }
    Ok(pairs)
}

/// Writes pairs as JSONL (replacing the file).
pub fn write_pairs(path: &Path, pairs: &[Pair]) -> anyhow::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
    let mut out = BufWriter::new(file);
    for pair in pairs {
        serde_json::to_writer(&mut out, pair)?;
        out.write_all(b"\n")?;
    }
    out.flush()
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Lowercased alphanumeric words of `text` joined by single spaces: the key for near-duplicate checks.
pub fn normalized(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().flat_map(char::to_lowercase));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_round_trip_through_jsonl_and_a_bad_line_is_named() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("p.jsonl");
        let pairs = vec![Pair {
            anchor: "Reads a file.".into(),
            positive: "fn read() {}".into(),
            negative: Some("fn write() {}".into()),
            source: "doc".into(),
            language: "rust".into(),
            repo: "demo".into(),
            weight: 0.5,
        }];
        write_pairs(&path, &pairs).unwrap();
        assert_eq!(read_pairs(&path).unwrap(), pairs);
        std::fs::write(&path, "{\"anchor\": 1}\n").unwrap();
        let err = format!("{:#}", read_pairs(&path).unwrap_err());
        assert!(err.contains("p.jsonl:1"), "{err}");
    }

    #[test]
    fn normalized_keeps_lowercase_words_only() {
        assert_eq!(normalized("  Parse the `Config`!\n"), "parse the config");
    }
}
