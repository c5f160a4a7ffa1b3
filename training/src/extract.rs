//! `extract`: training pairs from source trees, cut by sg's own chunker: doc comment or docstring → the
//! definition with its doc blanked out, README/Markdown section → the definition it names in backticks, test
//! name → the function it tests, and (optionally) file path with enclosing symbols → the code. Filters trivial
//! docs and generated files, removes exact and near duplicates, caps each repository and language, weights each
//! source, and splits by repository (never by pair) into train and validation.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use rayon::prelude::*;
use serde::Serialize;
use sg::chunk;
use sg::config::IndexConfig;
use sg::embed::embedding_text;
use sg::lexical::split_identifier;
use sg::syntax::Language;
use sg::vfs;

use crate::exclude::{ExclusionList, default_list_path, folder_name};
use crate::pairs::{Pair, normalized, write_pairs};

/// Arguments of `extract`.
#[derive(Args, Clone, Debug)]
pub struct ExtractArgs {
    /// A folder whose sub-folders are repositories (e.g. cargo's registry `src/<index>` folder, a folder of
    /// unpacked sdists or npm packages). Repeatable.
    #[arg(long = "root")]
    pub roots: Vec<PathBuf>,
    /// One repository folder. Repeatable.
    #[arg(long = "repo")]
    pub repos: Vec<PathBuf>,
    /// Output folder: `train.jsonl`, `valid.jsonl` and `summary.json`.
    #[arg(long)]
    pub out: PathBuf,
    /// Pair sources to use, comma-separated: doc, readme, test, path.
    #[arg(long, value_delimiter = ',', default_value = "doc,readme,test")]
    pub sources: Vec<String>,
    /// Share of repositories (by a hash of their name) that go to validation.
    #[arg(long, default_value_t = 0.08)]
    pub valid_fraction: f64,
    /// At most this many pairs per repository (a deterministic sample).
    #[arg(long, default_value_t = 300)]
    pub max_per_repo: usize,
    /// At most this many pairs per language (a deterministic sample), for balance.
    #[arg(long, default_value_t = 6000)]
    pub max_per_language: usize,
    /// Minimum number of words in an anchor.
    #[arg(long, default_value_t = 4)]
    pub min_anchor_words: usize,
    /// Anchors are cut to this many characters.
    #[arg(long, default_value_t = 400)]
    pub max_anchor_chars: usize,
    /// The exclusion list (projects used to evaluate sg, never trained on).
    #[arg(long, default_value_os_t = default_list_path())]
    pub exclude_list: PathBuf,
}

/// Counts of what `extract` wrote.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct ExtractSummary {
    /// Repositories read.
    pub repos: usize,
    /// Repositories skipped because they are on the exclusion list.
    pub excluded_repos: Vec<String>,
    /// Files chunked.
    pub files: usize,
    /// Candidate pairs before de-duplication and caps.
    pub candidates: usize,
    /// Pairs dropped as exact or near duplicates.
    pub duplicates: usize,
    /// Pairs written to `train.jsonl`.
    pub train: usize,
    /// Pairs written to `valid.jsonl`.
    pub valid: usize,
    /// Repositories in the validation split.
    pub valid_repos: Vec<String>,
    /// Written pairs by source.
    pub by_source: BTreeMap<String, usize>,
    /// Written pairs by language.
    pub by_language: BTreeMap<String, usize>,
}

/// The weight of a pair source in the loss: docs say what code does; README sections and test names less
/// directly; a path is mostly identifiers.
pub fn source_weight(source: &str) -> f32 {
    match source {
        "doc" => 1.0,
        "readme" => 0.7,
        "test" => 0.5,
        _ => 0.3,
    }
}

/// A repository's name without a trailing version (`serde-1.0.219` → `serde`), so versions of one project land
/// in the same split.
pub fn repo_name(folder: &Path) -> String {
    let name = folder_name(folder);
    let mut cut = name.len();
    for (i, _) in name.match_indices('-') {
        if name[i + 1..].starts_with(|c: char| c.is_ascii_digit()) {
            cut = i;
            break;
        }
    }
    name[..cut].to_owned()
}

/// Runs `extract` and returns what it wrote.
pub fn run(args: &ExtractArgs) -> anyhow::Result<ExtractSummary> {
    let exclusions = ExclusionList::load(&args.exclude_list)?;
    let mut summary = ExtractSummary::default();
    let mut repos: Vec<PathBuf> = Vec::new();
    for root in &args.roots {
        exclusions.check_corpus(root)?;
        let entries =
            std::fs::read_dir(root).with_context(|| format!("cannot read {}", root.display()))?;
        let mut subs: Vec<PathBuf> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
            .map(|e| e.path())
            .collect();
        subs.sort();
        for sub in subs {
            let name = repo_name(&sub);
            if exclusions.matches(&name).is_some()
                || exclusions.matches(&folder_name(&sub)).is_some()
            {
                summary.excluded_repos.push(name);
                continue;
            }
            repos.push(sub);
        }
    }
    for repo in &args.repos {
        exclusions.check_corpus(repo)?;
        if !repo.is_dir() {
            bail!("repository folder not found: {}", repo.display());
        }
        repos.push(repo.clone());
    }
    if repos.is_empty() {
        bail!("nothing to extract from: give --root or --repo folders");
    }
    if !summary.excluded_repos.is_empty() {
        tracing::info!(repos = ?summary.excluded_repos, "skipped repositories on the exclusion list");
    }
    for s in &args.sources {
        if !matches!(s.as_str(), "doc" | "readme" | "test" | "path") {
            bail!("unknown pair source {s:?} (expected doc, readme, test or path)");
        }
    }

    let cfg = IndexConfig::default();
    let per_repo: Vec<(Vec<Pair>, usize)> = repos
        .par_iter()
        .map(|repo| extract_repo(repo, &repo_name(repo), &cfg, &exclusions, args))
        .collect::<anyhow::Result<_>>()?;
    summary.repos = repos.len();

    let mut seen_exact = HashSet::new();
    let mut positive_uses: HashMap<blake3::Hash, usize> = HashMap::new();
    let mut anchor_uses: HashMap<String, usize> = HashMap::new();
    let mut by_language: BTreeMap<String, Vec<Pair>> = BTreeMap::new();
    for (pairs, files) in per_repo {
        summary.files += files;
        summary.candidates += pairs.len();
        let mut kept = Vec::new();
        for pair in pairs {
            let a = normalized(&pair.anchor);
            let p = normalized(&pair.positive);
            let exact = blake3::hash(format!("{a}\0{p}").as_bytes());
            let positive_key = blake3::hash(p.as_bytes());
            // The same pair again (vendored copies, several versions of a crate), the same doc on many
            // definitions ("Returns the value.") or one definition under many anchors teaches little new.
            if !seen_exact.insert(exact)
                || anchor_uses.get(&a).is_some_and(|&n| n >= 2)
                || positive_uses.get(&positive_key).is_some_and(|&n| n >= 3)
            {
                summary.duplicates += 1;
                continue;
            }
            *anchor_uses.entry(a).or_default() += 1;
            *positive_uses.entry(positive_key).or_default() += 1;
            kept.push(pair);
        }
        let kept = sample(kept, args.max_per_repo);
        for pair in kept {
            by_language
                .entry(pair.language.clone())
                .or_default()
                .push(pair);
        }
    }

    let mut train = Vec::new();
    let mut valid = Vec::new();
    let mut valid_repos = BTreeMap::new();
    for (_, pairs) in by_language {
        for pair in sample(pairs, args.max_per_language) {
            *summary.by_source.entry(pair.source.clone()).or_default() += 1;
            *summary
                .by_language
                .entry(pair.language.clone())
                .or_default() += 1;
            if in_validation(&pair.repo, args.valid_fraction) {
                valid_repos.insert(pair.repo.clone(), ());
                valid.push(pair);
            } else {
                train.push(pair);
            }
        }
    }
    // A stable shuffle, so that a prefix of either file is a fair sample.
    train.sort_by_cached_key(|p| {
        blake3::hash(format!("{}\0{}", p.anchor, p.positive).as_bytes()).to_hex()
    });
    valid.sort_by_cached_key(|p| {
        blake3::hash(format!("{}\0{}", p.anchor, p.positive).as_bytes()).to_hex()
    });
    summary.train = train.len();
    summary.valid = valid.len();
    summary.valid_repos = valid_repos.into_keys().collect();
    write_pairs(&args.out.join("train.jsonl"), &train)?;
    write_pairs(&args.out.join("valid.jsonl"), &valid)?;
    std::fs::write(
        args.out.join("summary.json"),
        serde_json::to_string_pretty(&summary)?,
    )
    .with_context(|| format!("cannot write {}", args.out.join("summary.json").display()))?;
    Ok(summary)
}

/// Whether a repository belongs to the validation split.
pub fn in_validation(repo: &str, fraction: f64) -> bool {
    let h = blake3::hash(repo.as_bytes());
    let x = u64::from_le_bytes(h.as_bytes()[..8].try_into().expect("8 bytes"));
    (x as f64 / u64::MAX as f64) < fraction
}

/// At most `max` of `pairs`, chosen by a hash of their text (deterministic, order-independent).
fn sample(mut pairs: Vec<Pair>, max: usize) -> Vec<Pair> {
    if pairs.len() <= max {
        return pairs;
    }
    pairs.sort_by_cached_key(|p| {
        blake3::hash(format!("{}\0{}", p.anchor, p.positive).as_bytes()).to_hex()
    });
    pairs.truncate(max);
    pairs
}

/// One definition of a repository, for resolving names mentioned by tests and READMEs.
struct Def {
    language: Language,
    text: String,
}

/// The pairs of one repository and the number of files read.
fn extract_repo(
    repo: &Path,
    name: &str,
    cfg: &IndexConfig,
    exclusions: &ExclusionList,
    args: &ExtractArgs,
) -> anyhow::Result<(Vec<Pair>, usize)> {
    let files = match vfs::discover(repo, cfg) {
        Ok(files) => files,
        Err(err) => {
            tracing::warn!(repo = %repo.display(), "cannot list: {err:#}");
            return Ok((Vec::new(), 0));
        }
    };
    let want = |s: &str| args.sources.iter().any(|x| x == s);
    let mut pairs = Vec::new();
    // Unique definitions by normalised name; `None` once a name is ambiguous.
    let mut defs: HashMap<String, Option<Def>> = HashMap::new();
    let mut tests: Vec<(String, Language)> = Vec::new();
    let mut sections: Vec<String> = Vec::new();
    let mut nfiles = 0;
    for f in &files {
        if exclusions.matching_component(&f.rel_path).is_some() {
            continue;
        }
        let Ok(bytes) = std::fs::read(&f.abs_path) else {
            continue;
        };
        if vfs::classify_text(&bytes).is_err() {
            continue;
        }
        let text = vfs::decode_text(bytes);
        if looks_generated(&text) {
            continue;
        }
        nfiles += 1;
        let language = vfs::detect_language(&f.rel_path, &text);
        let analysis = chunk::analyze(language, &text, &cfg.chunk);
        let chunks = &analysis.chunks;
        if language == Language::Markdown {
            // READMEs and guides describe code; changelogs and licences mostly list names.
            let lower = f.rel_path.to_ascii_lowercase();
            let file = lower.rsplit('/').next().unwrap_or(&lower);
            if file.starts_with("readme") || lower.starts_with("docs/") || lower.contains("/docs/")
            {
                sections.extend(chunks.iter().map(|c| c.text.clone()));
            }
            continue;
        }
        // Tests, examples, benchmarks and vendored code: their functions are not what tests and READMEs name.
        let test_file = sg::search::is_non_source_path(&f.rel_path);
        let line_starts: Vec<usize> = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let line = |n: u32| -> &str {
            let i = n as usize - 1;
            let end = line_starts.get(i + 1).copied().unwrap_or(text.len());
            text[line_starts[i]..end].trim_end_matches(['\n', '\r'])
        };
        for sym in &analysis.symbols {
            if !sym.kind.is_definition()
                || (sym.end_byte - sym.start_byte) as usize > MAX_UNIT_BYTES
            {
                continue;
            }
            let symbol = sym.name.as_str();
            // The definition with the comments and attributes right above it (tree-sitter puts those outside
            // the definition's node), from the start of its first line.
            let mut first = sym.start_line;
            loop {
                if first > 1 && is_doc_or_attribute(language, line(first - 1)) {
                    first -= 1;
                } else if language == Language::Elixir
                    && let Some(open) = heredoc_attribute_start(first, &line)
                {
                    first = open;
                } else {
                    break;
                }
            }
            let Some(unit) = text.get(line_starts[first as usize - 1]..sym.end_byte as usize)
            else {
                continue;
            };
            let (doc, code) = match split_doc(language, unit) {
                Some((doc, code)) => (Some(doc), code),
                None => (None, unit.to_owned()),
            };
            if code.lines().filter(|l| !l.trim().is_empty()).count() < 2 || code.trim().len() < 60 {
                continue;
            }
            // The enclosing path sg gives the chunk of this definition, else `container > name`.
            let enclosing = chunks
                .iter()
                .find(|c| {
                    c.symbol.as_deref() == Some(symbol)
                        && c.start_line <= sym.start_line
                        && sym.start_line <= c.end_line
                })
                .map(|c| c.enclosing.clone())
                .unwrap_or_else(|| match &sym.container {
                    Some(container) => format!("{container} > {symbol}"),
                    None => symbol.to_owned(),
                });
            let positive = embedding_text(&enclosing, &code);
            if want("doc")
                && let Some(doc) = doc.as_deref().and_then(|d| clean_doc(d, symbol, args))
            {
                pairs.push(pair(doc, positive.clone(), "doc", language, name));
            }
            if want("path") {
                pairs.push(pair(
                    path_context(&f.rel_path, &enclosing),
                    positive.clone(),
                    "path",
                    language,
                    name,
                ));
            }
            if let Some(rest) = test_subject(symbol)
                && (test_file || symbol.to_ascii_lowercase().starts_with("test"))
            {
                tests.push((rest, language));
            } else if !test_file {
                let key = name_key(symbol);
                if key.len() >= 4 {
                    defs.entry(key)
                        .and_modify(|d| *d = None)
                        .or_insert(Some(Def {
                            language,
                            text: positive,
                        }));
                }
            }
        }
    }
    if want("test") {
        for (subject, language) in tests {
            if let Some((def, words)) = resolve_test(&subject, &defs)
                && def.language == language
            {
                pairs.push(pair(words, def.text.clone(), "test", language, name));
            }
        }
    }
    if want("readme") {
        for section in sections {
            for (anchor, def) in readme_pairs(&section, &defs, args) {
                pairs.push(pair(anchor, def.text.clone(), "readme", def.language, name));
            }
        }
    }
    Ok((pairs, nfiles))
}

fn pair(anchor: String, positive: String, source: &str, language: Language, repo: &str) -> Pair {
    Pair {
        anchor,
        positive,
        negative: None,
        source: source.to_owned(),
        language: language.name().to_owned(),
        repo: repo.to_owned(),
        weight: source_weight(source),
    }
}

/// Files that say they are generated are not human-written examples.
fn looks_generated(text: &str) -> bool {
    let head: String = text
        .chars()
        .take(600)
        .collect::<String>()
        .to_ascii_lowercase();
    head.contains("do not edit")
        || head.contains("@generated")
        || head.contains("autogenerated")
        || head.contains("auto-generated")
        || head.contains("generated by")
}

/// The name a test function is about: `test_parse_config_rejects_empty` → `parse_config_rejects_empty`,
/// `TestParseConfig` → `ParseConfig`; `None` for a name that is not a test's.
fn test_subject(symbol: &str) -> Option<String> {
    let rest = symbol
        .strip_prefix("test_")
        .or_else(|| symbol.strip_prefix("Test"))
        .or_else(|| symbol.strip_prefix("test"))?;
    // `testParse`, `TestParse`, `test_parse`, but not `testing`.
    if !rest.starts_with(|c: char| c == '_' || c.is_ascii_uppercase())
        && !symbol.starts_with("test_")
    {
        return None;
    }
    let rest = rest.trim_start_matches('_');
    (rest.len() >= 3).then(|| rest.to_owned())
}

/// The key a definition is found by: its name lowercased, without underscores.
fn name_key(symbol: &str) -> String {
    symbol
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The function a test is about: the longest prefix of the test's name words that is a unique definition. Returns
/// it with the test name as words (the anchor).
fn resolve_test<'a>(
    subject: &str,
    defs: &'a HashMap<String, Option<Def>>,
) -> Option<(&'a Def, String)> {
    let words: Vec<String> = split_identifier(subject)
        .into_iter()
        .map(|w| w.to_ascii_lowercase())
        .filter(|w| !w.is_empty())
        .collect();
    if words.len() < 2 {
        return None;
    }
    for n in (1..=words.len()).rev() {
        let key: String = words[..n].concat();
        if key.len() < 4 {
            break;
        }
        if let Some(Some(def)) = defs.get(&key) {
            return Some((def, words.join(" ")));
        }
    }
    None
}

/// Up to two pairs from one Markdown section: its prose → each definition it names in backticks.
fn readme_pairs<'a>(
    section: &str,
    defs: &'a HashMap<String, Option<Def>>,
    args: &ExtractArgs,
) -> Vec<(String, &'a Def)> {
    let mut prose = String::new();
    let mut in_fence = false;
    for line in section.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if !in_fence {
            prose.push_str(line.trim_start_matches('#').trim());
            prose.push(' ');
        }
    }
    let prose = collapse(&prose);
    if prose.split_whitespace().count() < args.min_anchor_words.max(6) {
        return Vec::new();
    }
    let anchor = truncate_chars(&prose, args.max_anchor_chars);
    let mut out: Vec<(String, &Def)> = Vec::new();
    let mut seen = HashSet::new();
    for (i, part) in section.split('`').enumerate() {
        if i % 2 == 0 || part.is_empty() || part.len() > 60 || part.contains(' ') {
            continue;
        }
        let last = part
            .trim_end_matches("()")
            .rsplit(['.', ':', '#'])
            .next()
            .unwrap_or(part);
        let key = name_key(last);
        if key.len() < 4 || !seen.insert(key.clone()) {
            continue;
        }
        if let Some(Some(def)) = defs.get(&key) {
            out.push((anchor.clone(), def));
            if out.len() == 2 {
                break;
            }
        }
    }
    out
}

/// `path` pairs' anchor: the file path and the enclosing definitions, as words.
fn path_context(rel: &str, enclosing: &str) -> String {
    let stem = rel.rsplit_once('.').map(|(s, _)| s).unwrap_or(rel);
    let mut words: Vec<String> = Vec::new();
    for part in stem.split('/').chain(enclosing.split(" > ")) {
        for word in part.split(|ch: char| !ch.is_alphanumeric() && ch != '_') {
            words.extend(
                split_identifier(word)
                    .into_iter()
                    .map(|w| w.to_ascii_lowercase()),
            );
        }
    }
    words.retain(|w| !w.is_empty());
    words.join(" ")
}

/// The comment markers that start a line comment, by language.
fn line_comment_markers(lang: Language) -> &'static [&'static str] {
    use Language::*;
    match lang {
        Python | Ruby | Bash | Elixir => &["#"],
        Lua | Haskell => &["--"],
        _ => &["///", "//", "/**", "/*", "*/", "*"],
    }
}

/// Definitions longer than this (bytes) are skipped: their docs describe too much code to be one answer.
const MAX_UNIT_BYTES: usize = 6000;

/// Whether a line above a definition belongs to it: a comment or an attribute/decorator.
fn is_doc_or_attribute(lang: Language, line: &str) -> bool {
    let t = line.trim_start();
    if t.is_empty() {
        return false;
    }
    is_attribute(lang, t)
        || (line_comment_markers(lang).iter().any(|m| t.starts_with(m))
            && !(lang == Language::Rust && t.starts_with("//!")))
}

/// When the line above `line_no` closes an Elixir heredoc attribute (`@doc """ ... """`), the line that opens it.
fn heredoc_attribute_start<'t>(line_no: u32, line: &impl Fn(u32) -> &'t str) -> Option<u32> {
    if line_no < 3 || line(line_no - 1).trim() != "\"\"\"" {
        return None;
    }
    let open = (1..line_no - 1)
        .rev()
        .take(200)
        .find(|&n| line(n).trim().ends_with("\"\"\""))?;
    line(open).trim_start().starts_with('@').then_some(open)
}

/// Whether a line is an attribute or decorator that may sit between a doc and its definition.
fn is_attribute(lang: Language, line: &str) -> bool {
    let t = line.trim_start();
    match lang {
        Language::Rust => t.starts_with("#["),
        Language::CSharp => t.starts_with('['),
        Language::Python
        | Language::Java
        | Language::Kotlin
        | Language::Scala
        | Language::TypeScript
        | Language::Tsx
        | Language::JavaScript
        | Language::Swift
        | Language::Elixir => t.starts_with('@'),
        _ => false,
    }
}

/// Splits a definition's text into its doc (comment block before it, or the docstring after a Python header)
/// and the code with that doc removed. `None` when it has no doc.
pub fn split_doc(lang: Language, text: &str) -> Option<(String, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let markers = line_comment_markers(lang);
    let mut doc = Vec::new();
    let mut code = Vec::new();
    let mut i = 0;
    let mut in_block = false;
    while i < lines.len() {
        let t = lines[i].trim_start();
        let is_comment = in_block
            || (markers.iter().any(|m| t.starts_with(m))
                && !(lang == Language::Python && t.starts_with("#!"))
                && !(lang == Language::Rust && (t.starts_with("//!") || t.starts_with("#["))));
        if is_comment {
            if t.starts_with("/*") && !t.contains("*/") {
                in_block = true;
            } else if in_block && t.contains("*/") {
                in_block = false;
            }
            doc.push(t);
        } else if is_attribute(lang, t) || (t.is_empty() && !doc.is_empty() && i + 1 < lines.len())
        {
            code.push(lines[i]);
        } else {
            break;
        }
        i += 1;
    }
    if !doc.is_empty() {
        code.extend_from_slice(&lines[i..]);
        return Some((strip_comment_markers(&doc), code.join("\n")));
    }
    match lang {
        Language::Python => split_docstring(&lines),
        Language::Elixir => split_elixir_doc(&lines),
        _ => None,
    }
}

/// The `@doc "..."` or `@doc """ ... """` attribute (sigils such as `~S"""` included) above an Elixir `def`,
/// and the text without it; other attributes (`@spec`, `@impl`) stay with the code. `@doc false` is no doc.
fn split_elixir_doc(lines: &[&str]) -> Option<(String, String)> {
    let at = lines.iter().take(12).position(|l| {
        let t = l.trim_start();
        t.starts_with("@doc ") || t.starts_with("@doc\t")
    })?;
    // Only attributes and comments may come before it: a `@doc` further into a module is its function's.
    let preamble = |l: &&str| {
        let t = l.trim_start();
        t.is_empty() || t.starts_with('@') || t.starts_with('#')
    };
    if !lines[..at].iter().all(preamble) {
        return None;
    }
    let value = lines[at].trim_start()["@doc".len()..].trim();
    let value = value
        .strip_prefix("~S")
        .or_else(|| value.strip_prefix("~s"))
        .unwrap_or(value);
    let (doc, last) = if let Some(rest) = value.strip_prefix("\"\"\"") {
        let rest = rest.trim();
        if !rest.is_empty() {
            return None;
        }
        let end = (at + 1..lines.len()).find(|&j| lines[j].trim_start().starts_with("\"\"\""))?;
        let doc: Vec<&str> = lines[at + 1..end].iter().map(|l| l.trim()).collect();
        (doc.join("\n"), end)
    } else if let Some(rest) = value.strip_prefix('"') {
        (rest.strip_suffix('"')?.replace("\\\"", "\""), at)
    } else {
        return None;
    };
    let mut code: Vec<&str> = lines[..at].to_vec();
    code.extend_from_slice(&lines[last + 1..]);
    Some((doc, code.join("\n")))
}

/// The docstring after a Python `def`/`class` header, and the text without it.
fn split_docstring(lines: &[&str]) -> Option<(String, String)> {
    let header_end = lines.iter().take(12).position(|l| {
        let t = l.trim_end();
        t.ends_with(':') && !l.trim_start().starts_with('@')
    })?;
    let first = (header_end + 1..lines.len()).find(|&j| !lines[j].trim().is_empty())?;
    let t = lines[first].trim_start();
    let body = t.trim_start_matches(['r', 'R', 'u', 'U']);
    let quote = if body.starts_with("\"\"\"") {
        "\"\"\""
    } else if body.starts_with("'''") {
        "'''"
    } else {
        return None;
    };
    let opened = &body[3..];
    let mut doc_lines = Vec::new();
    let mut last = first;
    if let Some(end) = opened.find(quote) {
        doc_lines.push(&opened[..end]);
    } else {
        doc_lines.push(opened);
        let mut j = first + 1;
        loop {
            if j >= lines.len() {
                return None;
            }
            if let Some(end) = lines[j].find(quote) {
                doc_lines.push(&lines[j][..end]);
                last = j;
                break;
            }
            doc_lines.push(lines[j]);
            j += 1;
        }
    }
    let mut code: Vec<&str> = lines[..first].to_vec();
    code.extend_from_slice(&lines[last + 1..]);
    Some((
        doc_lines
            .iter()
            .map(|l| l.trim())
            .collect::<Vec<_>>()
            .join("\n"),
        code.join("\n"),
    ))
}

/// Comment lines without their markers (`///`, `//`, `/**`, `*`, `#`, `--`).
fn strip_comment_markers(lines: &[&str]) -> String {
    let mut out = Vec::new();
    for line in lines {
        let mut t = line.trim();
        for m in ["/**", "/*!", "/*", "*/", "///", "//", "--", "#", "*"] {
            if let Some(rest) = t.strip_prefix(m) {
                t = rest;
                break;
            }
        }
        let t = t.trim_end_matches("*/").trim();
        out.push(t);
    }
    out.join("\n")
}

/// The first paragraph of a doc, without tags, examples and markup, if it says something: at least
/// `min_anchor_words` words, not a licence header, lint directive or note, and not just the symbol's own name.
fn clean_doc(doc: &str, symbol: &str, args: &ExtractArgs) -> Option<String> {
    let mut para = Vec::new();
    for line in doc.lines() {
        let t = line.trim();
        if t.is_empty() {
            if para.is_empty() {
                continue;
            }
            break;
        }
        let lower = t.to_ascii_lowercase();
        if t.starts_with('@')
            || t.starts_with(":param")
            || t.starts_with("```")
            || lower.starts_with("args:")
            || lower.starts_with("returns:")
            || lower.starts_with("parameters")
            || lower.starts_with("# example")
            || lower.starts_with("example")
        {
            break;
        }
        para.push(t);
    }
    let text = collapse(&para.join(" "));
    let lower = text.to_ascii_lowercase();
    const NOISE: &[&str] = &[
        "todo",
        "fixme",
        "xxx",
        "hack",
        "safety",
        "copyright",
        "license",
        "licence",
        "eslint",
        "noinspection",
        "nolint",
        "type:",
        "pylint",
        "-*-",
        "region",
        "endregion",
        "spdx",
        "prettier",
        "istanbul",
        "noqa",
        "see ",
        "deprecated",
        "inheritdoc",
        "{@inheritdoc}",
        "nosec",
        "cov",
        "clippy",
    ];
    if NOISE.iter().any(|n| lower.starts_with(n)) {
        return None;
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.len() < args.min_anchor_words {
        return None;
    }
    // "Gets the foo bar." on `get_foo_bar` says nothing the name does not.
    let name_words: HashSet<String> = split_identifier(symbol)
        .into_iter()
        .map(|w| w.to_ascii_lowercase())
        .collect();
    const FILLER: &[&str] = &[
        "the",
        "a",
        "an",
        "this",
        "of",
        "to",
        "returns",
        "return",
        "gets",
        "get",
        "sets",
        "set",
        "is",
        "for",
        "and",
        "new",
        "creates",
        "create",
        "given",
        "specified",
        "value",
        "instance",
    ];
    let informative = normalized(&text)
        .split(' ')
        .filter(|w| !FILLER.contains(w) && !name_words.contains(*w))
        .count();
    if informative < 2 {
        return None;
    }
    Some(truncate_chars(&text, args.max_anchor_chars))
}

/// Whitespace runs collapsed to single spaces, markup backticks kept.
fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// At most `max` characters of `text`, cut at a word boundary.
fn truncate_chars(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max).collect();
    match cut.rfind(' ') {
        Some(i) if i > max / 2 => cut[..i].to_owned(),
        _ => cut,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_doc_comment_is_split_from_the_code_and_attributes_stay() {
        let text = "/// Parses the configuration file at `path`.\n///\n/// More.\n#[inline]\npub fn parse(path: &str) {\n    todo!()\n}";
        let (doc, code) = split_doc(Language::Rust, text).unwrap();
        assert_eq!(doc, "Parses the configuration file at `path`.\n\nMore.");
        assert_eq!(
            code,
            "#[inline]\npub fn parse(path: &str) {\n    todo!()\n}"
        );
    }

    #[test]
    fn python_docstring_is_removed_from_the_body() {
        let text = "def load(path):\n    \"\"\"Load the settings\n    from disk.\"\"\"\n    return open(path).read()";
        let (doc, code) = split_doc(Language::Python, text).unwrap();
        assert_eq!(doc, "Load the settings\nfrom disk.");
        assert_eq!(code, "def load(path):\n    return open(path).read()");
    }

    #[test]
    fn elixir_doc_attributes_are_split_from_the_code() {
        let text = "  @doc \"\"\"\n  Says hello to `name`.\n\n  ## Examples\n  \"\"\"\n  @spec hello(String.t()) :: String.t()\n  def hello(name) do\n    \"hi \" <> name\n  end";
        let (doc, code) = split_doc(Language::Elixir, text).unwrap();
        assert_eq!(doc, "Says hello to `name`.\n\n## Examples");
        assert_eq!(
            code,
            "  @spec hello(String.t()) :: String.t()\n  def hello(name) do\n    \"hi \" <> name\n  end"
        );
        let (doc, code) =
            split_doc(Language::Elixir, "@doc \"Says \\\"hi\\\".\"\ndef hi, do: 1").unwrap();
        assert_eq!(doc, "Says \"hi\".");
        assert_eq!(code, "def hi, do: 1");
        assert_eq!(
            split_doc(Language::Elixir, "@doc false\ndef hidden, do: 1"),
            None
        );
        assert_eq!(split_doc(Language::Elixir, "def plain, do: 1"), None);
        let module = "defmodule A do\n  @doc \"Says hello to you.\"\n  def hello, do: 1\nend";
        assert_eq!(
            split_doc(Language::Elixir, module),
            None,
            "a function's doc is not its module's"
        );
    }

    #[test]
    fn jsdoc_block_is_stripped_of_its_stars() {
        let text = "/**\n * Retry a failed request with backoff.\n * @param req the request\n */\nfunction retry(req) {\n  return req;\n}";
        let (doc, code) = split_doc(Language::JavaScript, text).unwrap();
        assert!(
            doc.starts_with("\nRetry a failed request with backoff.\n@param req"),
            "{doc:?}"
        );
        assert!(code.starts_with("function retry(req)"));
    }

    #[test]
    fn test_names_resolve_to_the_longest_unique_definition() {
        let mut defs = HashMap::new();
        defs.insert(
            "parseconfig".to_owned(),
            Some(Def {
                language: Language::Rust,
                text: "fn parse_config() {}".into(),
            }),
        );
        defs.insert("parse".to_owned(), None);
        let (def, words) = resolve_test("parse_config_rejects_empty", &defs).unwrap();
        assert_eq!(def.text, "fn parse_config() {}");
        assert_eq!(words, "parse config rejects empty");
        assert_eq!(
            test_subject("TestParseConfig").as_deref(),
            Some("ParseConfig")
        );
        assert!(test_subject("testing").is_none());
        assert!(test_subject("parse").is_none());
    }

    #[test]
    fn repo_names_drop_their_version() {
        assert_eq!(repo_name(Path::new("/r/serde_json-1.0.140")), "serde_json");
        assert_eq!(repo_name(Path::new("/r/golang-x-sync")), "golang-x-sync");
    }
}
