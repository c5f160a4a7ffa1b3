//! Ranking, pure over candidates: fuse lexical and semantic scores, apply ranking signals (symbol and
//! file-name matches, definitions, test/vendored demotion, editor context), merge overlaps and diversify
//! across files. No I/O: the caller fetches candidates and chunk records.

use std::collections::HashMap;

use crate::chunk::ChunkKind;
use crate::ids::ChunkId;
use crate::lexical::split_identifier;
use crate::syntax::Language;

/// Which retrievers a search uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Mode {
    /// BM25 and vectors, fused.
    #[default]
    Hybrid,
    /// BM25 only.
    Lexical,
    /// Vectors only.
    Semantic,
}

impl Mode {
    /// Parses `hybrid`, `lexical` or `semantic`.
    pub fn from_name(s: &str) -> Option<Mode> {
        match s {
            "hybrid" => Some(Mode::Hybrid),
            "lexical" | "bm25" | "keyword" => Some(Mode::Lexical),
            "semantic" | "dense" | "vector" => Some(Mode::Semantic),
            _ => None,
        }
    }

    /// The mode's name.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Hybrid => "hybrid",
            Mode::Lexical => "lexical",
            Mode::Semantic => "semantic",
        }
    }
}

/// What kind of query the text looks like; the fusion weights depend on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueryKind {
    /// One or two identifier-like tokens (`parse_config`, `HttpClient`, `Foo::bar`).
    Identifier,
    /// Words.
    NaturalLanguage,
}

/// Classifies a query: identifier-like when it is at most two tokens and one of them looks like code
/// (underscores, inner capitals, `::`, `.` or `()`), or a single word that is not a plain English word.
pub fn classify_query(q: &str) -> QueryKind {
    let words: Vec<&str> = q.split_whitespace().collect();
    if words.is_empty() || words.len() > 3 {
        return QueryKind::NaturalLanguage;
    }
    let codey = |w: &str| {
        w.contains('_')
            || w.contains("::")
            || w.contains('.')
            || w.contains('(')
            || w.contains('#')
            || w.chars().skip(1).any(|c| c.is_uppercase())
    };
    if words.iter().any(|w| codey(w)) {
        QueryKind::Identifier
    } else {
        QueryKind::NaturalLanguage
    }
}

/// Tunable weights of the ranking. Defaults were chosen on the public benchmark (see
/// `docs/benchmarks.md`).
#[derive(Clone, Debug)]
pub struct RankConfig {
    /// Weight of the normalised lexical score for natural-language queries (semantic gets 1 − this).
    pub lexical_weight_nl: f32,
    /// [`RankConfig::lexical_weight_nl`] for a question whose ten best candidates (by the plain weight) are
    /// mostly JavaScript or TypeScript. On both the benchmark and the function-level specs, lexical search alone
    /// beats the hybrid on these languages (benchmark 0.959 / 0.734 against 0.936 / 0.718; function level
    /// MRR@10 0.411 / 0.243 against 0.330 / 0.212), while the model helps on the others (Java on the benchmark
    /// most of all). Measured (release, hybrid; benchmark NDCG@10 / function-level MRR@10): 0.3 (as the rest)
    /// gave 0.8249 / 0.329; 0.5 0.8254 / 0.334; 0.6 0.8255 / 0.337; 0.7 0.8277 / 0.339; 0.75 0.8262 / 0.339;
    /// 0.85 0.8251 / 0.339; 1 0.8242 / 0.339. The same for Java at 0.7 lifted its function level from 0.268 to
    /// 0.301 but cost the benchmark 0.005 (commons-lang). Chosen for each candidate by its own language, the
    /// weight cost the benchmark's questions asked of one workspace holding all its repositories (331k units)
    /// 0.011 (0.5905 → 0.5792: the words lifted script files above the other languages' answers); chosen for
    /// the query, 0.0015 (0.5890), with the same gains on single-language repositories.
    pub lexical_weight_script: f32,
    /// Weight of the normalised lexical score for identifier queries.
    pub lexical_weight_ident: f32,
    /// Multiplier when the chunk's symbol equals a query identifier as written (same case).
    pub symbol_exact_boost: f32,
    /// Multiplier when the chunk's symbol equals a query identifier in another case, or contains all of
    /// a query identifier's parts.
    pub symbol_partial_boost: f32,
    /// Multiplier when the file name (stem) matches a query word.
    pub file_name_boost: f32,
    /// Multiplier for definitions (functions, classes...) over windows and glue.
    pub definition_boost: f32,
    /// Multiplier for test, example, benchmark, generated and vendored code.
    pub non_source_penalty: f32,
    /// Score multiplier for the n-th extra result of the same file (`pow(n)`); queries that describe an
    /// action take [`RankConfig::action_file_decay`] instead.
    pub same_file_decay: f32,
    /// Multiplier for chunks in open files (editor context).
    pub open_file_boost: f32,
    /// Multiplier for chunks in the current file.
    pub current_file_boost: f32,
    /// Multiplier for chunks in the current file's folder.
    pub same_dir_boost: f32,
    /// Multiplier for chunks in files the current file imports or that import it. Chosen on the
    /// benchmark with simulated context (`sg eval --context related,unrelated`, hybrid): 1.1 / 1.2 /
    /// 1.35 / 1.5 / 1.8 gave +0.004 / +0.010 / +0.016 / +0.029 / +0.032 NDCG@10 when the current file
    /// is related to the answer and −0.001 / −0.001 / −0.003 / −0.004 / −0.008 when it is not.
    pub import_boost: f32,
    /// Weight of a file's other matching chunks: a chunk's score is multiplied by
    /// `1 + file_support · ln(1 + others / best)`, where `others` sums the scores of the file's other
    /// candidates and `best` is the file's best score.
    pub file_support: f32,
    /// How much of the weakest lexical candidate's score is subtracted before scaling (0 to 1).
    pub lexical_floor: f32,
    /// How much of the weakest semantic candidate's similarity is subtracted before scaling (0 to 1).
    pub semantic_floor: f32,
    /// Weight of the fast tier's similarity added to the main model's once the main model covers every
    /// chunk (the static model reads a whole chunk, the transformer only its first 128 word pieces).
    /// Chosen on the benchmark (hybrid NDCG@10, MiniLM at 128 word pieces): 0 / 0.3 / 0.5 / 0.65 / 0.8 /
    /// 1.0 / 1.2 gave 0.8171 / 0.8217 / 0.8237 / 0.8263 / 0.8249 / 0.8256 / 0.8235.
    pub fast_blend: f32,
    /// When no chunk shares a word with the query, the semantic neighbours alone answer it, and only if the
    /// nearest one's cosine similarity (main model) reaches this; below it nothing relevant was found (the
    /// CLI exits 1). Measured on this repository with the shipped model: off-topic and nonsense queries
    /// 0.14–0.27 (one outlier, `zzzz`, 0.42), queries about its code 0.39–0.67.
    pub min_similarity: f32,
    /// The same floor for the fast tier's cosine, used while the main model has no vectors. The static model
    /// separates less well (off-topic 0.27–0.54, on-topic 0.46–0.71), so this floor only drops the clearest
    /// misses.
    pub min_fast_similarity: f32,
    /// Multiplier for a definition whose name the query compares its answer with ("Like `is_valid_args` for
    /// builtins", "The inverse of zip": [`crate::intent::compared_names`]); such a name earns no name boost.
    /// Measured (function level hybrid MRR@10 / Python P@1 / JavaScript MRR@10): 1 (no name boost only) gave
    /// 0.398 / 0.454 / 0.462, 0.5 0.399 / 0.457 / 0.474, 0.25 0.399 / 0.457 / 0.472; the benchmark has no
    /// such question (0.8296 for each).
    pub compared_penalty: f32,
    /// Multiplier for declaration files (`.pyi` stubs, `.d.ts`): they repeat the signatures of the code that
    /// answers.
    pub declaration_penalty: f32,
    /// Weight of a definition's centrality, the number of files using its name (the code graph), for queries
    /// that name an identifier written as code ([`QueryKind::Identifier`]): a definition's score is multiplied by `1 + centrality · ln(1 + files) /
    /// ln(65)`, the files counted up to 64, so a definition many files use ranks above an unused one of the
    /// same score. Measured on the benchmark (docs/benchmarks.md, "For agents"): on identifier queries 0.1 /
    /// 0.2 / 0.4 left NDCG@10 unchanged (hybrid 0.8254), applied to every query they cost 0.002–0.003, so it
    /// is a tie-breaker for names, 0.1.
    pub centrality: f32,
    /// Multiplier for results in files the caller says it has already read (an agent wants something new).
    pub read_penalty: f32,
    /// Multiplier for units that cannot be called (types, containers' headers, glue, sections) when the
    /// query describes an action ([`crate::intent::describes_action`]): "Create a new Coalesce" asks for the
    /// constructor, not `struct Coalesce`. Measured (release, function-level specs of `eval/run_packages.sh`,
    /// hybrid MRR@10): 0.6 / 0.4 / 0.25 gave 0.296 / 0.302 / 0.303 with [`RankConfig::action_file_decay`] 1
    /// (0.264 with 0.6 and the decay at 0.3; 0.243 with no penalty, under an earlier reading of actions). The
    /// benchmark has no query of this shape, so its NDCG@10 does not move with it. 1 turns this penalty off,
    /// not the rest of the handling of action queries (`action_file_decay`).
    pub action_penalty: f32,
    /// [`RankConfig::same_file_decay`] for queries that describe an action: such a query asks for one
    /// callable, and when the best result is not it, the one that is often sits in the same file (a sibling
    /// method, an overload). Measured as above (action penalty 0.6): 0.3 / 0.6 / 0.8 / 1 gave function-level
    /// MRR@10 0.264 / 0.280 / 0.291 / 0.296; none moves the benchmark.
    pub action_file_decay: f32,
    /// Weight of how much of a definition's name a question in words spells out: a definition's score is
    /// multiplied by `1 + name_coverage · covered / parts`, where `parts` are the words of its name
    /// (`is_not_empty`: is, not, empty) and `covered` those the query uses ("Returns true if the collection
    /// is not empty" covers all three). A name is the summary of what its code does. Names of one word are
    /// left out: `one`, `first` or `only` turn up in questions about something else; but a callable's name of
    /// one word counts when it is the verb a question describing an action opens with ("Remove a task from
    /// the queue": `remove`; function level 0.382 → 0.385, Python P@1 0.418 → 0.432; held-out packages
    /// Rust 0.319 → 0.327, TypeScript 0.349 → 0.356, Python 0.434 → 0.424), and so does a name of one word that
    /// joins two of the question's words (`namedtuple`: see [`RankConfig::abbreviations`]). Measured (release,
    /// hybrid; function-level specs MRR@10 / benchmark NDCG@10): 0 gave 0.302 / 0.8240, 0.3 gave 0.321 /
    /// 0.8241, 0.5 gave 0.329 / 0.8249, 0.8 gave 0.333 / 0.8224; with names of one word counted, 0.5 gave
    /// 0.310 at function level for action queries alone and cost the benchmark 0.002 for every question.
    /// Word matching has no place in the semantic mode (there it cost the benchmark 0.004).
    pub name_coverage: f32,
    /// For a query that describes an action, how much more each word of a callable's name the query covers past
    /// the first weighs: [`RankConfig::name_coverage`]'s term is multiplied by `1 + action_name_words · (covered −
    /// 1)`, so that `unmodifiableSortedBag` ranks above `unmodifiableBag` for "Returns an unmodifiable view of the
    /// given sorted bag" (both names are wholly covered; the longer one says more of the question). Measured
    /// (release, hybrid; function-level specs MRR@10): 0 / 1 / 2 / 3 gave 0.341 / 0.356 / 0.361 / 0.363 (Java
    /// 0.268 → 0.291, Rust 0.236 → 0.273 at 2); the benchmark has no action query (NDCG@10 0.8287 throughout).
    /// On held-out packages at 2: Rust 0.269 → 0.290, TypeScript 0.329 → 0.345, Python unchanged. Types are left
    /// out: counted as well, `SortedKeyList` rose above the methods asked for ("Remove value from sorted-key
    /// list") and cost the held-out Python set 0.033. Applied to every question, 1.5 gave 0.369 at function level
    /// but cost the benchmark 0.010 (0.8192): class names that spell out a question's words are often not its
    /// answer.
    pub action_name_words: f32,
    /// Weight of a question's words found in a definition's header past its name ([`signature`]: parameters,
    /// their types, the result's type): the score is multiplied by `1 + signature_words · used`, `used` counting
    /// the question's words other than stop words and those its name covers, up to 3. "Set the default maximum
    /// buffer size *maxsize*" asks for the method taking `maxsize`; "Returns an unmodifiable view of the given
    /// sorted bag" for one taking a `SortedBag`. Questions in words only (hybrid and lexical). Measured (release;
    /// function-level specs hybrid MRR@10 / benchmark NDCG@10 hybrid / lexical): 0 gave 0.359 / 0.8309 /
    /// 0.8012; 0.1 0.372 / 0.8293 / 0.8033; 0.2 0.375 / 0.8320 / 0.8071; 0.3 0.382 / 0.8318 / 0.8100; 0.4 0.383
    /// / 0.8325 / 0.8104. On held-out packages at 0.3 (hybrid MRR@10): Python 0.395 → 0.434, Rust 0.288 →
    /// 0.319, JavaScript 0.282 → 0.364, TypeScript 0.356 → 0.349. Without the result's type the header gave
    /// 0.379 / 0.8329; found as the name's first occurrence anywhere (often in a doc comment), 0.366 / 0.8363.
    /// Counting only words that few candidates' headers hold, or weighing each by how few do, changed nothing.
    /// Those numbers are from the first form; the shipped one cuts headers of definitions only, from their first
    /// three lines of code, and leaves keywords and receivers out (`function`, `self`, `pub`…): 0 / 0.3 gave
    /// 0.363 / 0.385 (Python P@1 0.404 / 0.435), 0.8309 / 0.8296 and 0.8012 / 0.8067, the rest as it then was.
    pub signature_words: f32,
    /// Whether a name's word also covers the query's words it abbreviates by the initials of one to three
    /// consecutive words, a number after them allowed (`le` for "little-endian", `lru` for "least recently
    /// used", `u16` for "unsigned 16"), and the word it shortens (`str` "string", `fmt` "format");
    /// and whether a one-word name that joins two of the query's words counts as covered (`namedtuple` "a
    /// tuple with named fields"). Measured as above: the initials took function level 0.339 → 0.341 (Rust 0.229 →
    /// 0.236), benchmark 0.8277 → 0.8287; shortened words 0.385 → 0.389 (Python P@1 0.435 → 0.449), joined
    /// names → 0.390, benchmark unchanged. All three off, the rest as shipped: function level 0.399 → 0.389
    /// (Rust 0.289 → 0.259, Python P@1 0.457 → 0.443), benchmark 0.8296 / 0.8080 → 0.8286 / 0.8057.
    pub abbreviations: bool,
}

impl RankConfig {
    /// Sets one weight by its field name (for tuning runs: `sg eval --rank name=value`).
    pub fn set(&mut self, name: &str, value: f32) -> Result<(), String> {
        let slot = match name {
            "lexical_weight_nl" => &mut self.lexical_weight_nl,
            "lexical_weight_ident" => &mut self.lexical_weight_ident,
            "lexical_weight_script" => &mut self.lexical_weight_script,
            "symbol_exact_boost" => &mut self.symbol_exact_boost,
            "symbol_partial_boost" => &mut self.symbol_partial_boost,
            "file_name_boost" => &mut self.file_name_boost,
            "definition_boost" => &mut self.definition_boost,
            "non_source_penalty" => &mut self.non_source_penalty,
            "same_file_decay" => &mut self.same_file_decay,
            "open_file_boost" => &mut self.open_file_boost,
            "current_file_boost" => &mut self.current_file_boost,
            "same_dir_boost" => &mut self.same_dir_boost,
            "import_boost" => &mut self.import_boost,
            "file_support" => &mut self.file_support,
            "lexical_floor" => &mut self.lexical_floor,
            "semantic_floor" => &mut self.semantic_floor,
            "fast_blend" => &mut self.fast_blend,
            "min_similarity" => &mut self.min_similarity,
            "min_fast_similarity" => &mut self.min_fast_similarity,
            "declaration_penalty" => &mut self.declaration_penalty,
            "compared_penalty" => &mut self.compared_penalty,
            "centrality" => &mut self.centrality,
            "read_penalty" => &mut self.read_penalty,
            "action_penalty" => &mut self.action_penalty,
            "action_file_decay" => &mut self.action_file_decay,
            "name_coverage" => &mut self.name_coverage,
            "action_name_words" => &mut self.action_name_words,
            "signature_words" => &mut self.signature_words,
            "abbreviations" => {
                self.abbreviations = value != 0.0;
                return Ok(());
            }
            other => return Err(format!("unknown ranking weight {other:?}")),
        };
        *slot = value;
        Ok(())
    }
}

impl Default for RankConfig {
    fn default() -> Self {
        RankConfig {
            lexical_weight_nl: 0.3,
            lexical_weight_ident: 0.7,
            lexical_weight_script: 0.7,
            symbol_exact_boost: 1.6,
            symbol_partial_boost: 1.15,
            file_name_boost: 1.4,
            definition_boost: 1.05,
            non_source_penalty: 0.5,
            same_file_decay: 0.3,
            open_file_boost: 1.1,
            current_file_boost: 1.15,
            same_dir_boost: 1.05,
            import_boost: 1.5,
            file_support: 0.5,
            lexical_floor: 0.0,
            semantic_floor: 1.0,
            fast_blend: 0.7,
            min_similarity: 0.3,
            min_fast_similarity: 0.45,
            declaration_penalty: 0.5,
            compared_penalty: 0.5,
            centrality: 0.1,
            read_penalty: 0.5,
            action_penalty: 0.4,
            action_file_decay: 1.0,
            name_coverage: 0.5,
            abbreviations: true,
            action_name_words: 2.0,
            signature_words: 0.3,
        }
    }
}

/// Editor context for a query.
#[derive(Clone, Debug, Default)]
pub struct SearchContext {
    /// The file being edited (relative path).
    pub current_file: Option<String>,
    /// Files open in the editor (relative paths).
    pub open_files: Vec<String>,
    /// Files the current file imports or that import it (relative paths; filled in by the search
    /// from the workspace's import graph when left empty).
    pub related_files: Vec<String>,
    /// A line range of the current file to leave out (the symbol under the cursor), 1-based inclusive.
    pub exclude: Option<(String, u32, u32)>,
    /// Files the caller has already read (relative paths): their results are demoted.
    pub read_files: Vec<String>,
}

/// The facts about a candidate chunk that ranking needs.
#[derive(Clone, Debug)]
pub struct CandidateInfo<'a> {
    /// The chunk.
    pub id: ChunkId,
    /// Its file's relative path.
    pub path: &'a str,
    /// Symbol name.
    pub symbol: Option<&'a str>,
    /// Kind.
    pub kind: ChunkKind,
    /// Language.
    pub language: Language,
    /// First line (1-based).
    pub start_line: u32,
    /// Last line (1-based, inclusive).
    pub end_line: u32,
    /// How many files use the chunk's symbol name (the code graph; 0 when unknown or unnamed).
    pub used_by: u32,
    /// The chunk's text, from which ranking cuts a definition's header ([`signature`]) for questions in words.
    pub text: &'a str,
}

/// The score breakdown of one result.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Signals {
    /// Raw BM25 score, when the chunk was a lexical candidate.
    pub lexical: Option<f32>,
    /// Cosine similarity, when the chunk was a semantic candidate.
    pub semantic: Option<f32>,
    /// The fused score before boosts.
    pub fused: f32,
    /// Multipliers applied, by name.
    pub boosts: Vec<(&'static str, f32)>,
}

/// One ranked chunk.
#[derive(Clone, Debug)]
pub struct Ranked {
    /// The chunk.
    pub id: ChunkId,
    /// Final score.
    pub score: f32,
    /// How the score came about.
    pub signals: Signals,
}

/// Scales scores into 0..=1: `(s − f) / (max − f)` with the floor `f = floor · min`, so `floor` 0 divides
/// by the maximum and 1 stretches the candidates' own range.
fn normalise(scores: &HashMap<ChunkId, f32>, floor: f32) -> HashMap<ChunkId, f32> {
    let max = scores.values().copied().fold(0.0f32, f32::max);
    let min = scores.values().copied().fold(f32::MAX, f32::min);
    let f = if scores.len() > 1 {
        floor * min.max(0.0)
    } else {
        0.0
    };
    let span = (max - f).max(1e-6);
    scores
        .iter()
        .map(|(id, s)| (*id, ((s - f) / span).max(0.0)))
        .collect()
}

/// Whether a path is test, example, benchmark, generated or vendored code.
pub fn is_non_source_path(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    let segs: Vec<&str> = lower.split('/').collect();
    let dirs = &segs[..segs.len().saturating_sub(1)];
    let file = segs.last().copied().unwrap_or("");
    let dir_hit = dirs.iter().any(|d| {
        matches!(
            *d,
            "test"
                | "tests"
                | "testing"
                | "__tests__"
                | "spec"
                | "specs"
                | "example"
                | "examples"
                | "bench"
                | "benches"
                | "benchmark"
                | "benchmarks"
                | "fixtures"
                | "testdata"
                | "vendor"
                | "third_party"
                | "generated"
                | "mocks"
                | "docs_src"
                | "sample"
                | "samples"
        )
    });
    let stem = file.split('.').next().unwrap_or("");
    let file_hit = stem.starts_with("test_")
        || stem.ends_with("_test")
        || stem.ends_with("_tests")
        || stem.ends_with("_spec")
        || stem == "conftest"
        || file.contains(".test.")
        || file.contains(".spec.")
        || stem.ends_with("test") && stem.len() > 4 && file.ends_with(".java")
        || stem.ends_with("tests") && file.ends_with(".cs")
        || file.contains("_generated")
        || file.contains(".generated.");
    dir_hit || file_hit
}

/// Whether `path` is a declaration file: a Python stub (`.pyi`) or a TypeScript declaration (`.d.ts`,
/// `.d.mts`, `.d.cts`), which repeats the signatures of the code that implements them.
pub fn is_declaration_file(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or(path);
    file.ends_with(".pyi")
        || file.ends_with(".d.ts")
        || file.ends_with(".d.mts")
        || file.ends_with(".d.cts")
}

fn query_mentions_tests(q: &str) -> bool {
    let l = q.to_ascii_lowercase();
    l.contains("test") || l.contains("spec") || l.contains("example") || l.contains("bench")
}

fn lower_parts(s: &str) -> Vec<String> {
    split_identifier(s)
        .into_iter()
        .map(|p| p.to_ascii_lowercase())
        .filter(|p| !p.is_empty())
        .collect()
}

/// Whether a name's word and a query's word are one word, give or take an ending (`get` and "Gets",
/// `copy` and "Copies", `return` and "returns", `iter` and "iterator"). Short words count as any other (`is`,
/// `or`), as measured.
fn same_word(part: &str, word: &str) -> bool {
    part == word
        || plural_of(part, word)
        || (part.len() >= 4 && word.starts_with(part))
        || (word.len() >= 4 && part.starts_with(word))
}

/// The header of a definition named `symbol` in `text`: from the start of the line that holds the name as a word,
/// among the unit's first lines of code (comments, attributes and decorators before it are passed over), to the
/// end of the parameter list that follows the name (the `)` that closes the first `(` outside `<…>`) and the rest
/// of that line (a result's type), or to the end of the name's line when no list follows; at most 400 bytes
/// past the name. Empty when there is no name, or when the first lines of code do not hold it (a later piece of
/// a split definition starts in its body).
pub fn signature<'t>(text: &'t str, symbol: Option<&str>) -> &'t str {
    let Some(name) = symbol.filter(|n| !n.is_empty()) else {
        return "";
    };
    let ident = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    let mut line_start = 0;
    let mut code_lines = 0;
    let mut found = None;
    for line in text.split_inclusive('\n') {
        let code = line.trim_start();
        let comment = ["//", "/*", "*", "#", "--"]
            .iter()
            .any(|m| code.starts_with(m));
        if !comment && !code.trim().is_empty() {
            if let Some((i, _)) = line.match_indices(name).find(|&(i, _)| {
                !ident(line[..i].chars().next_back())
                    && !ident(line[i + name.len()..].chars().next())
            }) {
                found = Some((line_start, line_start + i));
                break;
            }
            code_lines += 1;
            if code_lines == HEADER_LINES {
                break;
            }
        }
        line_start += line.len();
    }
    let Some((start, at)) = found else {
        return "";
    };
    let mut depth = 0usize;
    let mut angle = 0usize;
    let mut closed = false;
    let mut end = text.len();
    for (i, c) in text[at..].char_indices() {
        if i >= SIGNATURE_BYTES {
            end = at + i;
            break;
        }
        match c {
            // Type parameters between the name and the list (`f<F: Fn(u32)>(…)`) are not the list.
            '<' if !closed && depth == 0 => angle += 1,
            '>' if !closed && depth == 0 => angle = angle.saturating_sub(1),
            '(' if !closed && angle == 0 => depth += 1,
            ')' if !closed && depth == 1 => {
                depth = 0;
                closed = true;
            }
            ')' if !closed && depth > 1 => depth -= 1,
            '\n' if depth == 0 => {
                end = at + i;
                break;
            }
            _ => {}
        }
    }
    text[start..end].trim_end()
}

/// [`signature`] of a unit of `kind`: definitions only (a section's title or a window's first name is no
/// header).
fn header<'t>(text: &'t str, symbol: Option<&str>, kind: ChunkKind) -> &'t str {
    if kind.is_definition() {
        signature(text, symbol)
    } else {
        ""
    }
}

/// How many covered words of a name past the first [`RankConfig::action_name_words`] counts.
const NAME_WORDS_COUNTED: usize = 3;

/// How far past the name [`signature`] looks for the end of a parameter list.
const SIGNATURE_BYTES: usize = 400;

/// How many lines of code (not comments) [`signature`] reads for the name: annotations, decorators or a template
/// line may come first.
const HEADER_LINES: usize = 3;

/// Keywords and receivers a header holds that are English words too ("Returns a function that…", "…from
/// self"): they say nothing about what a definition takes or returns.
const HEADER_KEYWORDS: &[&str] = &[
    "abstract",
    "async",
    "class",
    "cls",
    "const",
    "def",
    "enum",
    "export",
    "final",
    "fn",
    "function",
    "impl",
    "interface",
    "let",
    "mut",
    "override",
    "private",
    "protected",
    "pub",
    "public",
    "self",
    "static",
    "struct",
    "this",
    "trait",
    "var",
];

/// Every word and number of `query` in order, lower-case (what [`abbreviates`] reads).
fn word_sequence(query: &str) -> Vec<String> {
    query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Whether a name's part abbreviates consecutive words of the query by their initials: `le` for "little-endian",
/// `lru` for "least recently used", and a number after the initials (`u16` for "unsigned 16"). `words` are the
/// query's words in order, lower-case.
fn abbreviates(part: &str, words: &[String]) -> bool {
    let letters = part.trim_end_matches(|c: char| c.is_ascii_digit());
    let digits = &part[letters.len()..];
    // Initials of one to three words before a number, of two or three words alone.
    if letters.is_empty()
        || letters.len() > 3
        || (digits.is_empty() && letters.len() < 2)
        || !letters.bytes().all(|b| b.is_ascii_lowercase())
    {
        return false;
    }
    // A name's word that is an English word of its own (`to`, `is`, `in`) abbreviates nothing.
    if crate::lexical::is_stop_word(part) {
        return false;
    }
    let n = letters.len();
    words.windows(n + usize::from(!digits.is_empty())).any(|w| {
        w[..n].iter().zip(letters.bytes()).all(|(word, l)| {
            word.len() > 1 && word.as_bytes()[0] == l && !crate::lexical::is_stop_word(word)
        }) && (digits.is_empty() || w[n] == digits)
    })
}

/// Whether a name's part is a shortened form of a longer word of the query: its first three letters (`str` for
/// "string", `int` "integer", `arg` "argument"; also `int` for "interface", a guess that costs little) unless
/// the part is a word of its own (`set`, `key`: [`WORDS_OF_THREE`] and the verbs of
/// [`crate::intent::is_action_verb`]), or one
/// of the consonant skeletons code writes for common words (`fmt` "format", `idx` "index", `ptr` "pointer",
/// `msg` "message": [`SKELETONS`]), or the plural of either (`args`). `parts` are the query's [`content_parts`].
fn shortens(part: &str, parts: &[String]) -> bool {
    // A plural shortens as its singular does (`args` "arguments", `ptrs` "pointers").
    if let Some(one) = part.strip_suffix('s')
        && one.len() >= 2
        && shortens(one, parts)
    {
        return true;
    }
    if let Ok(i) = SKELETONS.binary_search_by(|(short, _)| (*short).cmp(part)) {
        let word = SKELETONS[i].1;
        return parts.iter().any(|p| p.starts_with(word));
    }
    part.len() == 3
        && part.bytes().all(|b| b.is_ascii_lowercase())
        && !crate::lexical::is_stop_word(part)
        && !crate::intent::is_action_verb(part)
        && WORDS_OF_THREE.binary_search(&part).is_err()
        && parts.iter().any(|p| p.len() > 3 && p.starts_with(part))
}

/// Words of three letters that are words of their own in names, not the start of a longer one (`key` is no
/// "keyword", `log` no "login"), sorted; verbs such as `set`, `add` and `run` are left out the same way.
const WORDS_OF_THREE: &[&str] = &[
    "all", "any", "bit", "box", "end", "fix", "key", "log", "new", "not", "now", "off", "old",
    "one", "out", "raw", "row", "tab", "tag", "top", "two", "use", "way",
];

/// Consonant skeletons that stand for a word in names, and the start of the word, sorted.
const SKELETONS: &[(&str, &str)] = &[
    ("btn", "button"),
    ("cb", "callback"),
    ("cfg", "config"),
    ("cmd", "command"),
    ("cnt", "count"),
    ("ctx", "context"),
    ("db", "database"),
    ("dbg", "debug"),
    ("dst", "destination"),
    ("fmt", "format"),
    ("fn", "function"),
    ("hdr", "header"),
    ("idx", "index"),
    ("img", "image"),
    ("lbl", "label"),
    ("mgr", "manag"),
    ("msg", "messag"),
    ("pkg", "packag"),
    ("ptr", "pointer"),
    ("pwd", "password"),
    ("src", "source"),
    ("std", "standard"),
    ("sz", "size"),
    ("tbl", "table"),
    ("tmp", "tempor"),
    ("txt", "text"),
    ("wnd", "window"),
];

/// Whether a name of one word joins two different words of the query, in either order: `namedtuple` for "a
/// tuple with named fields", `readline` for "read a line". `parts` are the query's [`content_parts`].
fn joins(name: &str, parts: &[String]) -> bool {
    name.len() >= 5
        && parts.iter().any(|a| {
            a.len() < name.len()
                && name.starts_with(a.as_str())
                && parts
                    .binary_search_by(|p| p.as_str().cmp(&name[a.len()..]))
                    .is_ok_and(|j| parts[j] != *a)
        })
}

/// The query's words for ranking: runs of letters, digits and `_` of two characters or more, as written.
fn query_words(query: &str) -> Vec<String> {
    query
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| w.len() >= 2)
        .map(str::to_string)
        .collect()
}

/// Each of the query's words split into its parts, lower-case (`BigDecimal`: "big", "decimal").
fn word_parts(words: &[String]) -> Vec<Vec<String>> {
    words
        .iter()
        .map(|w| lower_parts(w))
        .filter(|p| !p.is_empty())
        .collect()
}

/// The query's word parts that are no stop words, sorted, each once (`BigDecimal` gives "big" and "decimal"):
/// what a name's shortened or joined words are looked up in.
fn content_parts(word_parts: &[Vec<String>]) -> Vec<String> {
    let mut parts: Vec<String> = word_parts
        .iter()
        .flatten()
        .filter(|p| !crate::lexical::is_stop_word(p))
        .cloned()
        .collect();
    parts.sort_unstable();
    parts.dedup();
    parts
}

/// Whether `many` is `one`'s plural ("strings" of "string", "boxes" of "box", "entries" of "entry").
fn plural_of(one: &str, many: &str) -> bool {
    many.strip_suffix('s') == Some(one)
        || many.strip_suffix("es") == Some(one)
        || many
            .strip_suffix("ies")
            .is_some_and(|stem| one.strip_suffix('y') == Some(stem))
}

/// Whether two words are one word in two forms: the same, or one the other's plural ("string" and "strings",
/// "entry" and "entries").
fn same_form(a: &str, b: &str) -> bool {
    a == b || plural_of(a, b) || plural_of(b, a)
}

/// A candidate's fused score: `w_lex` of its normalised lexical score and the rest of its semantic one (0 where
/// a retriever did not find it).
fn fuse(
    lex_n: &HashMap<ChunkId, f32>,
    sem_n: &HashMap<ChunkId, f32>,
    id: ChunkId,
    w_lex: f32,
) -> f32 {
    let l = lex_n.get(&id).copied().unwrap_or(0.0);
    let s = sem_n.get(&id).copied().unwrap_or(0.0);
    w_lex * l + (1.0 - w_lex) * s
}

/// Whether most of the ten best candidates by the plain fusion (`w_lex`) are JavaScript or TypeScript.
fn mostly_script(
    lex_n: &HashMap<ChunkId, f32>,
    sem_n: &HashMap<ChunkId, f32>,
    w_lex: f32,
    info: &HashMap<ChunkId, CandidateInfo<'_>>,
) -> bool {
    let mut fused: Vec<(f32, bool)> = lex_n
        .keys()
        .chain(sem_n.keys().filter(|id| !lex_n.contains_key(id)))
        .filter_map(|id| {
            let c = info.get(id)?;
            let script = matches!(
                c.language,
                Language::JavaScript | Language::TypeScript | Language::Tsx
            );
            Some((fuse(lex_n, sem_n, *id, w_lex), script))
        })
        .collect();
    let top = fused.len().min(10);
    if top == 0 {
        return false;
    }
    fused.select_nth_unstable_by(top - 1, |a, b| b.0.total_cmp(&a.0));
    2 * fused[..top].iter().filter(|x| x.1).count() > top
}

/// Fuses and ranks candidates. `lexical` and `semantic` are the retrievers' (chunk, score) lists;
/// `info` gives the facts about every candidate (candidates missing from it are dropped: their
/// records vanished). Returns at most `limit` results, best first.
#[allow(clippy::too_many_arguments)]
pub fn rank(
    query: &str,
    mode: Mode,
    lexical: &[(ChunkId, f32)],
    semantic: &[(ChunkId, f32)],
    info: &HashMap<ChunkId, CandidateInfo<'_>>,
    ctx: &SearchContext,
    cfg: &RankConfig,
    limit: usize,
) -> Vec<Ranked> {
    let kind = classify_query(query);
    let w_lex = match (mode, kind) {
        (Mode::Lexical, _) => 1.0,
        (Mode::Semantic, _) => 0.0,
        (Mode::Hybrid, QueryKind::Identifier) => cfg.lexical_weight_ident,
        (Mode::Hybrid, QueryKind::NaturalLanguage) => cfg.lexical_weight_nl,
    };
    let w_lex = if semantic.is_empty() {
        1.0
    } else if lexical.is_empty() {
        0.0
    } else {
        w_lex
    };
    let lex_raw: HashMap<ChunkId, f32> = lexical.iter().copied().collect();
    let sem_raw: HashMap<ChunkId, f32> = semantic.iter().copied().collect();
    let lex_n = normalise(&lex_raw, cfg.lexical_floor);
    let sem_n = normalise(&sem_raw, cfg.semantic_floor);
    // A question in words where both retrievers answered, whose best candidates are mostly JavaScript or
    // TypeScript, weighs words more. The weight is the query's, not each candidate's: in a workspace of
    // several languages, a per-candidate weight would lift every script file the words found above the
    // others (measured: `lexical_weight_script`).
    let w_lex = if mode == Mode::Hybrid
        && kind == QueryKind::NaturalLanguage
        && !semantic.is_empty()
        && !lexical.is_empty()
        && mostly_script(&lex_n, &sem_n, w_lex, info)
    {
        cfg.lexical_weight_script
    } else {
        w_lex
    };

    let words = query_words(query);
    let word_parts = word_parts(&words);
    let words_lower: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
    // The words' parts, for names that shorten or join them.
    let query_parts = content_parts(&word_parts);
    // Every word and number of the query in order, for names that abbreviate them.
    let sequence = word_sequence(query);
    // The query's words that are not stop words ("the", "of"), lower-case.
    let mut content_words: Vec<&String> = words_lower
        .iter()
        .filter(|w| !crate::lexical::is_stop_word(w))
        .collect();
    content_words.sort_unstable();
    content_words.dedup();
    // A word counts once in any of its forms ("string", "strings"), kept in its longer form: a header's "ids"
    // is the same word as the question's "id" that way, and its "id" still is.
    let mut distinct: Vec<&String> = Vec::with_capacity(content_words.len());
    for w in content_words {
        match distinct.iter_mut().find(|d| same_form(d, w)) {
            Some(d) if w.len() > d.len() => *d = w,
            Some(_) => {}
            None => distinct.push(w),
        }
    }
    let content_words = distinct;
    let tests_wanted = query_mentions_tests(query);
    // Names the answer is compared with ("Like `x` for…"), lower-case.
    let compared = crate::intent::compared_names(query);
    let action = crate::intent::describes_action(query);
    let file_decay = if action {
        cfg.action_file_decay
    } else {
        cfg.same_file_decay
    };
    let current_dir = ctx
        .current_file
        .as_deref()
        .map(|p| p.rsplit_once('/').map(|(d, _)| d).unwrap_or(""));

    let mut ranked: Vec<Ranked> = Vec::new();
    let mut ids: Vec<ChunkId> = lex_raw.keys().chain(sem_raw.keys()).copied().collect();
    ids.sort_unstable();
    ids.dedup();
    // Headers are read for questions in words, hybrid or lexical.
    let headers =
        cfg.signature_words > 0.0 && mode != Mode::Semantic && kind == QueryKind::NaturalLanguage;
    let mut sig_lower = String::new();
    let mut sig_spans: Vec<(usize, usize)> = Vec::new();
    for id in ids {
        let Some(c) = info.get(&id) else { continue };
        if let Some((p, s, e)) = &ctx.exclude
            && c.path == p
            && c.start_line <= *e
            && c.end_line >= *s
        {
            continue;
        }
        let fused = fuse(&lex_n, &sem_n, id, w_lex);
        let mut signals = Signals {
            lexical: lex_raw.get(&id).copied(),
            semantic: sem_raw.get(&id).copied(),
            fused,
            boosts: Vec::new(),
        };
        let mut score = fused;
        let mut boost = |name: &'static str, f: f32, score: &mut f32| {
            *score *= f;
            signals.boosts.push((name, f));
        };
        let callable = matches!(
            c.kind,
            ChunkKind::Function | ChunkKind::Method | ChunkKind::Macro
        );
        // The words of the name, lower-case (`is_not_empty`: is, not, empty).
        let parts = c.symbol.map(lower_parts).unwrap_or_default();
        let is_compared = !compared.is_empty()
            && c.kind.is_definition()
            && c.symbol
                .is_some_and(|n| compared.iter().any(|x| x.eq_ignore_ascii_case(n)));
        // The name as written (`Deserialize` is the trait, `deserialize` its method); another case counts as
        // a partial match.
        if is_compared {
            boost("compared", cfg.compared_penalty, &mut score);
        } else if c.symbol.is_some_and(|n| words.iter().any(|w| w == n)) {
            boost("symbol_exact", cfg.symbol_exact_boost, &mut score);
        } else if c.symbol.is_some_and(|n| {
            words_lower.contains(&n.to_lowercase())
                || word_parts
                    .iter()
                    .any(|wp| wp.len() > 1 && wp.iter().all(|p| parts.contains(p)))
        }) {
            boost("symbol_partial", cfg.symbol_partial_boost, &mut score);
        }
        if cfg.name_coverage > 0.0
            && kind == QueryKind::NaturalLanguage
            && mode != Mode::Semantic
            && !is_compared
        {
            let covered = parts
                .iter()
                .filter(|p| {
                    words_lower.iter().any(|w| same_word(p, w))
                        || (cfg.abbreviations && abbreviates(p, &sequence))
                        || (cfg.abbreviations && shortens(p, &query_parts))
                })
                .count();
            // A name of one word counts when it is the verb an action opens with ("Remove a task": `remove`), or
            // when it joins two of the question's words (`namedtuple`: "a tuple with named fields").
            let verb = action
                && callable
                && parts.len() == 1
                && words_lower.first().is_some_and(|w| same_word(&parts[0], w));
            let joined = cfg.abbreviations && parts.len() == 1 && joins(&parts[0], &query_parts);
            let covered = if joined { 1 } else { covered };
            if covered > 0 && (parts.len() > 1 || verb || joined) {
                let count_weight = if action && callable {
                    cfg.action_name_words
                } else {
                    0.0
                };
                let f = 1.0
                    + cfg.name_coverage * covered as f32 / parts.len() as f32
                        * (1.0 + count_weight * (covered - 1).min(NAME_WORDS_COUNTED) as f32);
                boost("name_coverage", f, &mut score);
            }
        }
        let signature = if headers {
            header(c.text, c.symbol, c.kind)
        } else {
            ""
        };
        if !signature.is_empty() {
            // The header's words (parameters, their types, the result's type; keywords left out), lower-case, in
            // buffers kept from one candidate to the next.
            sig_lower.clear();
            sig_spans.clear();
            crate::lexical::split_identifier_with(signature, |from, to| {
                let start = sig_lower.len();
                sig_lower.extend(signature[from..to].chars().flat_map(char::to_lowercase));
                if HEADER_KEYWORDS.binary_search(&&sig_lower[start..]).is_ok() {
                    sig_lower.truncate(start);
                } else {
                    sig_spans.push((start, sig_lower.len()));
                }
            });
            let used = content_words
                .iter()
                .filter(|w| !parts.iter().any(|p| same_word(p, w)))
                .filter(|w| {
                    sig_spans
                        .iter()
                        .any(|&(from, to)| same_word(&sig_lower[from..to], w))
                })
                .count()
                .min(3);
            if used > 0 {
                boost(
                    "signature",
                    1.0 + cfg.signature_words * used as f32,
                    &mut score,
                );
            }
        }
        let file = c.path.rsplit('/').next().unwrap_or(c.path);
        let stem = file.split('.').next().unwrap_or(file).to_lowercase();
        let stem_parts = lower_parts(&stem);
        if !stem.is_empty()
            && (words_lower.iter().any(|w| {
                *w == stem || (w.len() >= 4 && stem_parts.len() > 1 && stem_parts.contains(w))
            }))
        {
            boost("file_name", cfg.file_name_boost, &mut score);
        }
        if c.kind.is_definition() {
            boost("definition", cfg.definition_boost, &mut score);
            if cfg.centrality > 0.0 && c.used_by > 0 && kind == QueryKind::Identifier {
                let f = 1.0 + cfg.centrality * (1.0 + c.used_by.min(64) as f32).ln() / 65f32.ln();
                boost("centrality", f, &mut score);
            }
        }
        if action && cfg.action_penalty != 1.0 && !callable {
            boost("action", cfg.action_penalty, &mut score);
        }
        if is_declaration_file(c.path) {
            boost("declaration", cfg.declaration_penalty, &mut score);
        }
        if !tests_wanted && is_non_source_path(c.path) {
            boost("non_source", cfg.non_source_penalty, &mut score);
        }
        if ctx.read_files.iter().any(|f| f == c.path) {
            boost("already_read", cfg.read_penalty, &mut score);
        }
        if ctx.current_file.as_deref() == Some(c.path) {
            boost("current_file", cfg.current_file_boost, &mut score);
        } else if ctx.open_files.iter().any(|f| f == c.path) {
            boost("open_file", cfg.open_file_boost, &mut score);
        } else if ctx.related_files.iter().any(|f| f == c.path) {
            boost("import", cfg.import_boost, &mut score);
        } else if let Some(dir) = current_dir
            && c.path.rsplit_once('/').map(|(d, _)| d).unwrap_or("") == dir
        {
            boost("same_dir", cfg.same_dir_boost, &mut score);
        }
        ranked.push(Ranked { id, score, signals });
    }
    if cfg.file_support > 0.0 {
        let mut per_file: HashMap<&str, (f32, f32)> = HashMap::new();
        for r in &ranked {
            let e = per_file.entry(info[&r.id].path).or_insert((0.0, 0.0));
            e.0 = e.0.max(r.score);
            e.1 += r.score;
        }
        for r in &mut ranked {
            let (best, sum) = per_file[info[&r.id].path];
            if best > 0.0 && sum > best {
                let f = 1.0 + cfg.file_support * (1.0 + (sum - best) / best).ln();
                r.score *= f;
                r.signals.boosts.push(("file_support", f));
            }
        }
    }
    ranked.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.id.cmp(&b.id)));

    // Merge overlapping chunks of one file (keep the better) and decay repeated files.
    let mut kept: Vec<Ranked> = Vec::new();
    let mut per_file: HashMap<&str, Vec<(u32, u32)>> = HashMap::new();
    for r in ranked {
        let c = &info[&r.id];
        let spans = per_file.entry(c.path).or_default();
        if spans
            .iter()
            .any(|(s, e)| c.start_line <= *e && c.end_line >= *s)
        {
            continue;
        }
        let n = spans.len() as i32;
        spans.push((c.start_line, c.end_line));
        let mut r = r;
        if n > 0 && file_decay != 1.0 {
            let f = file_decay.powi(n);
            r.score *= f;
            r.signals.boosts.push(("same_file", f));
        }
        kept.push(r);
    }
    kept.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.id.cmp(&b.id)));
    kept.truncate(limit);
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info<'a>(
        id: u32,
        path: &'a str,
        symbol: Option<&'a str>,
        kind: ChunkKind,
        lines: (u32, u32),
    ) -> CandidateInfo<'a> {
        CandidateInfo {
            id: ChunkId(id),
            path,
            symbol,
            kind,
            language: Language::Rust,
            start_line: lines.0,
            end_line: lines.1,
            used_by: 0,
            text: "",
        }
    }

    /// Candidates keyed by their ids.
    fn by_id<'a>(
        list: impl IntoIterator<Item = CandidateInfo<'a>>,
    ) -> HashMap<ChunkId, CandidateInfo<'a>> {
        list.into_iter().map(|c| (c.id, c)).collect()
    }

    /// Ranks lexical candidates alone, without editor context.
    fn lexical_only(
        q: &str,
        lex: &[(ChunkId, f32)],
        m: &HashMap<ChunkId, CandidateInfo<'_>>,
        cfg: &RankConfig,
    ) -> Vec<Ranked> {
        rank(
            q,
            Mode::Lexical,
            lex,
            &[],
            m,
            &SearchContext::default(),
            cfg,
            10,
        )
    }

    /// The default weights with plain max-scaling, so that a handful of candidates keep their spread.
    fn cfg() -> RankConfig {
        RankConfig {
            semantic_floor: 0.0,
            ..RankConfig::default()
        }
    }

    #[test]
    fn floors_stretch_the_candidates_range() {
        let mut m = HashMap::new();
        m.insert(ChunkId(1), 0.5);
        m.insert(ChunkId(2), 0.4);
        m.insert(ChunkId(3), 0.3);
        let plain = normalise(&m, 0.0);
        assert!((plain[&ChunkId(3)] - 0.6).abs() < 1e-6);
        let stretched = normalise(&m, 1.0);
        assert!((stretched[&ChunkId(1)] - 1.0).abs() < 1e-6);
        assert!((stretched[&ChunkId(2)] - 0.5).abs() < 1e-6);
        assert_eq!(stretched[&ChunkId(3)], 0.0);
    }

    fn ids(r: &[Ranked]) -> Vec<u32> {
        r.iter().map(|x| x.id.0).collect()
    }

    #[test]
    fn classifies_queries() {
        assert_eq!(classify_query("parse_config"), QueryKind::Identifier);
        assert_eq!(classify_query("HttpClient"), QueryKind::Identifier);
        assert_eq!(classify_query("Foo::bar"), QueryKind::Identifier);
        assert_eq!(
            classify_query("where do we retry failed http requests"),
            QueryKind::NaturalLanguage
        );
        assert_eq!(classify_query("retry"), QueryKind::NaturalLanguage);
        assert_eq!(classify_query(""), QueryKind::NaturalLanguage);
    }

    #[test]
    fn the_name_as_written_beats_the_same_name_in_another_case() {
        let mut m = HashMap::new();
        m.insert(
            ChunkId(1),
            info(
                1,
                "src/de/impls.rs",
                Some("deserialize"),
                ChunkKind::Method,
                (3, 9),
            ),
        );
        m.insert(
            ChunkId(2),
            info(
                2,
                "src/de/mod.rs",
                Some("Deserialize"),
                ChunkKind::Trait,
                (40, 90),
            ),
        );
        // The method's text mentions the name more often.
        let lex = [(ChunkId(1), 12.0), (ChunkId(2), 10.0)];
        let r = rank(
            "Deserialize",
            Mode::Lexical,
            &lex,
            &[],
            &m,
            &SearchContext::default(),
            &cfg(),
            10,
        );
        assert_eq!(ids(&r), vec![2, 1]);
        let boosts = |i: usize| -> Vec<&str> { r[i].signals.boosts.iter().map(|b| b.0).collect() };
        assert!(boosts(0).contains(&"symbol_exact"), "{:?}", r[0].signals);
        assert!(boosts(1).contains(&"symbol_partial"), "{:?}", r[1].signals);
    }

    #[test]
    fn a_definition_many_files_use_breaks_a_tie_for_a_name_only() {
        let mut m = HashMap::new();
        m.insert(
            ChunkId(1),
            info(1, "src/a.rs", Some("JoinHandle"), ChunkKind::Struct, (1, 9)),
        );
        let mut used = info(2, "src/b.rs", Some("JoinHandle"), ChunkKind::Struct, (1, 9));
        used.used_by = 40;
        m.insert(ChunkId(2), used);
        let lex = [(ChunkId(1), 5.0), (ChunkId(2), 5.0)];
        let run = |q: &str| lexical_only(q, &lex, &m, &cfg());
        // Same score: the one forty files use comes first for the name (ids alone would put 1 first)...
        assert_eq!(ids(&run("JoinHandle")), vec![2, 1]);
        // ...and a question in words is left alone.
        let r = run("a join handle of the runtime");
        assert_eq!(ids(&r), vec![1, 2]);
        assert!(
            r.iter()
                .all(|x| x.signals.boosts.iter().all(|b| b.0 != "centrality"))
        );
    }

    #[test]
    fn a_query_that_describes_an_action_prefers_the_function_to_the_type_it_names() {
        let mut m = HashMap::new();
        m.insert(
            ChunkId(1),
            info(
                1,
                "src/coalesce.rs",
                Some("Coalesce"),
                ChunkKind::Type,
                (138, 141),
            ),
        );
        m.insert(
            ChunkId(2),
            info(
                2,
                "src/coalesce.rs",
                Some("coalesce"),
                ChunkKind::Function,
                (152, 162),
            ),
        );
        m.insert(
            ChunkId(3),
            info(3, "src/lib.rs", Some("Coalesce"), ChunkKind::Struct, (1, 9)),
        );
        let lex = [(ChunkId(1), 5.5), (ChunkId(2), 5.0), (ChunkId(3), 5.2)];
        let run = |q: &str, cfg: &RankConfig| lexical_only(q, &lex, &m, cfg);
        // "Create a new Coalesce" is the constructor...
        let r = run("Create a new Coalesce", &cfg());
        assert_eq!(ids(&r)[0], 2);
        assert!(
            r[1..]
                .iter()
                .all(|x| x.signals.boosts.contains(&("action", 0.4)))
        );
        // ...while a noun phrase about the type keeps the type first, and so does the prior turned off.
        assert_eq!(ids(&run("the Coalesce adaptor", &cfg()))[0], 1);
        let off = RankConfig {
            action_penalty: 1.0,
            ..cfg()
        };
        assert_eq!(ids(&run("Create a new Coalesce", &off))[0], 1);
    }

    #[test]
    fn a_query_that_describes_an_action_keeps_a_files_second_function_in_its_place() {
        let m = by_id([
            info(1, "src/stack.rs", Some("push"), ChunkKind::Method, (10, 20)),
            info(
                2,
                "src/stack.rs",
                Some("extend"),
                ChunkKind::Method,
                (22, 30),
            ),
            info(
                3,
                "src/queue.rs",
                Some("enqueue"),
                ChunkKind::Method,
                (5, 15),
            ),
        ]);
        let lex = [(ChunkId(1), 6.0), (ChunkId(2), 5.5), (ChunkId(3), 4.0)];
        let run = |q: &str| lexical_only(q, &lex, &m, &cfg());
        // "Push all the items onto the stack" asks for one function: the file's second one stays second...
        let r = run("Push all the items onto the stack");
        assert_eq!(ids(&r), vec![1, 2, 3]);
        assert!(r[1].signals.boosts.iter().all(|b| b.0 != "same_file"));
        // ...while a noun phrase asks about places in the code, so another file comes before it.
        let r = run("stack push operations");
        assert_eq!(ids(&r), vec![1, 3, 2]);
        assert!(r[2].signals.boosts.contains(&("same_file", 0.3)));
    }

    #[test]
    fn a_question_prefers_the_definition_whose_name_it_spells_out() {
        let m = by_id([
            info(
                1,
                "src/map.rs",
                Some("first_key"),
                ChunkKind::Method,
                (10, 20),
            ),
            info(
                2,
                "src/map.rs",
                Some("last_key"),
                ChunkKind::Method,
                (22, 30),
            ),
            info(3, "src/seq.rs", Some("last"), ChunkKind::Function, (1, 9)),
        ]);
        let lex = [(ChunkId(1), 5.6), (ChunkId(2), 5.0), (ChunkId(3), 1.0)];
        let run = |q: &str, cfg: &RankConfig| lexical_only(q, &lex, &m, cfg);
        // Both names share "key"; only `last_key` is all in the question. A name of one word gets nothing. A
        // question that describes an action counts the second word of a callable's name twice more
        // (`action_name_words` 2): 1 + 0.5 · 2/2 · (1 + 2 · 1).
        for (q, whole) in [
            ("Returns the last key in the map", 2.5),
            ("last key of a map", 1.5),
        ] {
            let r = run(q, &cfg());
            assert_eq!(ids(&r), vec![2, 1, 3], "{q}");
            assert!(r[0].signals.boosts.contains(&("name_coverage", whole)));
            assert!(r[1].signals.boosts.contains(&("name_coverage", 1.25)));
            assert!(r[2].signals.boosts.iter().all(|b| b.0 != "name_coverage"));
        }
        // Without the weight, or for a name written as code, the text's score decides.
        let off = RankConfig {
            name_coverage: 0.0,
            ..cfg()
        };
        assert_eq!(
            ids(&run("Returns the last key in the map", &off))[..2],
            [1, 2]
        );
        assert_eq!(ids(&run("first_key", &cfg()))[0], 1);
    }

    #[test]
    fn an_action_prefers_the_callable_whose_name_says_more_of_it() {
        let m = by_id([
            info(
                1,
                "src/bag.rs",
                Some("unmodifiable_bag"),
                ChunkKind::Function,
                (10, 20),
            ),
            info(
                2,
                "src/bag.rs",
                Some("unmodifiable_sorted_bag"),
                ChunkKind::Function,
                (22, 30),
            ),
            info(
                3,
                "src/sorted.rs",
                Some("UnmodifiableSortedBag"),
                ChunkKind::Struct,
                (1, 40),
            ),
        ]);
        let lex = [(ChunkId(1), 6.0), (ChunkId(2), 5.0), (ChunkId(3), 6.0)];
        let run = |q: &str, cfg: &RankConfig| ids(&lexical_only(q, &lex, &m, cfg));
        let q = "Returns an unmodifiable view of the given sorted bag";
        // Both functions' names are all in the question; the longer one says more of it. The type, whose name
        // says as much, is not what an action asks for and gets no more than its coverage.
        assert_eq!(run(q, &cfg()), vec![2, 1, 3]);
        let r = lexical_only(q, &lex, &m, &cfg());
        assert!(r[0].signals.boosts.contains(&("name_coverage", 3.5)));
        assert!(r[2].signals.boosts.contains(&("name_coverage", 1.5)));
        let off = RankConfig {
            action_name_words: 0.0,
            ..cfg()
        };
        assert_eq!(run(q, &off)[..2], [1, 2]);
        // A question that asks for no action weighs every covered name alike.
        assert_eq!(run("unmodifiable view of a sorted bag", &cfg())[0], 1);
    }

    #[test]
    fn a_signature_is_the_header_up_to_the_end_of_its_parameter_list() {
        let cases: &[(&str, &str, &str)] = &[
            (
                "    def setmaxsize(self, maxsize):\n        self.maxsize = maxsize\n",
                "setmaxsize",
                "    def setmaxsize(self, maxsize):",
            ),
            // Parameters over several lines, with parentheses inside; the rest of the closing line.
            (
                "def f(\n    a,\n    b=(1, 2),\n) -> Tuple[int, int]:\n    return a, b\n",
                "f",
                "def f(\n    a,\n    b=(1, 2),\n) -> Tuple[int, int]:",
            ),
            // A doc comment that names it, an attribute, a result's type.
            (
                "/// `get` returns the value.\n#[inline]\npub fn get<Q>(&self, key: &Q) -> Option<&V>\nwhere\n",
                "get",
                "pub fn get<Q>(&self, key: &Q) -> Option<&V>",
            ),
            // Java: an annotation, then the modifiers and result's type before the name.
            (
                "    /** Uses it. */\n    @Override\n    public static <E> Bag<E> unmodifiableBag(final Bag<? extends E> bag) {\n",
                "unmodifiableBag",
                "    public static <E> Bag<E> unmodifiableBag(final Bag<? extends E> bag) {",
            ),
            // `getter` is not `get`.
            ("let getter = 1;\nfn get(x: u32)\n", "get", "fn get(x: u32)"),
            // Type parameters with a list of their own come before the parameter list.
            (
                "fn f<F: Fn(u32)>(\n    a: F,\n) -> u32 {\n    a(1)\n}\n",
                "f",
                "fn f<F: Fn(u32)>(\n    a: F,\n) -> u32 {",
            ),
            // A later piece of a split definition starts in its body: no header among its first lines of code.
            (
                "        total += 1\n        count = 2\n        more = 3\n        size = 4\n",
                "size",
                "",
            ),
            ("class Foo:\n    x = 1\n", "Foo", "class Foo:"),
            ("fn other() {}\n", "missing", ""),
            ("// only foo in a comment\n", "foo", ""),
        ];
        for &(text, name, want) in cases {
            assert_eq!(signature(text, Some(name)), want, "{name}");
        }
        assert_eq!(signature("fn f() {}", None), "");
        // An unclosed list stops SIGNATURE_BYTES past the name, on a character's boundary.
        let long = format!("def g({}", "é".repeat(400));
        let sig = signature(&long, Some("g"));
        assert!(
            sig.len() > SIGNATURE_BYTES && sig.len() < SIGNATURE_BYTES + 8,
            "{}",
            sig.len()
        );
    }

    #[test]
    fn a_question_prefers_the_definition_whose_parameters_it_names() {
        let mut m = by_id([
            info(
                1,
                "socketutils.py",
                Some("send"),
                ChunkKind::Method,
                (10, 20),
            ),
            info(
                2,
                "socketutils.py",
                Some("resize"),
                ChunkKind::Method,
                (22, 30),
            ),
        ]);
        m.get_mut(&ChunkId(1)).unwrap().text =
            "    function send(self, data, flags=0):\n        pass\n";
        m.get_mut(&ChunkId(2)).unwrap().text = "    def resize(self, maxsize):\n        pass\n";
        let lex = [(ChunkId(1), 6.0), (ChunkId(2), 5.0)];
        let q = "Set the default maximum buffer size *maxsize* for future operations, in bytes";
        let r = lexical_only(q, &lex, &m, &cfg());
        assert_eq!(ids(&r), vec![2, 1]);
        // `maxsize` alone: "self", "data" and "flags" are not in the question.
        assert!(r[0].signals.boosts.contains(&("signature", 1.3)));
        assert!(r[1].signals.boosts.iter().all(|b| b.0 != "signature"));
        let off = RankConfig {
            signature_words: 0.0,
            ..cfg()
        };
        assert_eq!(ids(&lexical_only(q, &lex, &m, &off)), vec![1, 2]);
        // Keywords and receivers are no words of a header ("function", "self"); a repeated word counts once.
        let r = lexical_only(
            "Returns a function that sends the data from self, or the maxsize of the maxsize",
            &lex,
            &m,
            &cfg(),
        );
        let boost_of = |id: u32| {
            let x = r.iter().find(|x| x.id == ChunkId(id)).unwrap();
            x.signals
                .boosts
                .iter()
                .find(|b| b.0 == "signature")
                .map(|b| b.1)
        };
        assert_eq!(boost_of(1), Some(1.3), "data");
        assert_eq!(boost_of(2), Some(1.3), "maxsize");
        // A name written as code is not a question in words.
        assert_eq!(ids(&lexical_only("set_max_size", &lex, &m, &cfg()))[0], 1);
    }

    #[test]
    fn an_action_finds_the_callable_named_by_its_verb() {
        let m = by_id([
            info(1, "queueutils.py", Some("add"), ChunkKind::Method, (10, 20)),
            info(
                2,
                "queueutils.py",
                Some("remove"),
                ChunkKind::Method,
                (22, 30),
            ),
            info(3, "tasks.py", Some("Remove"), ChunkKind::Class, (1, 9)),
        ]);
        let lex = [(ChunkId(1), 6.0), (ChunkId(2), 5.0), (ChunkId(3), 5.5)];
        let run = |q: &str| lexical_only(q, &lex, &m, &cfg());
        let r = run("Remove a task from the priority queue");
        assert_eq!(ids(&r)[0], 2);
        assert!(r[0].signals.boosts.contains(&("name_coverage", 1.5)));
        // The class of the same name is no callable; a question that asks for no action, or whose verb is
        // another, leaves names of one word alone.
        let class = r.iter().find(|x| x.id == ChunkId(3)).unwrap();
        assert!(class.signals.boosts.iter().all(|b| b.0 != "name_coverage"));
        for q in [
            "removal of a task from the priority queue",
            "Delete a task from the priority queue",
        ] {
            let r = run(q);
            assert_eq!(ids(&r)[0], 1, "{q}");
            assert!(
                r.iter()
                    .all(|x| x.signals.boosts.iter().all(|b| b.0 != "name_coverage")),
                "{q}"
            );
        }
    }

    #[test]
    fn a_name_covers_the_words_it_abbreviates() {
        let m = by_id([
            info(
                1,
                "src/buf.rs",
                Some("get_u16"),
                ChunkKind::Method,
                (10, 20),
            ),
            info(
                2,
                "src/buf.rs",
                Some("get_u16_le"),
                ChunkKind::Method,
                (22, 30),
            ),
        ]);
        let lex = [(ChunkId(1), 6.0), (ChunkId(2), 6.0)];
        let q = "Gets an unsigned 16 bit integer from self in little-endian byte order";
        let r = lexical_only(q, &lex, &m, &cfg());
        assert_eq!(ids(&r), vec![2, 1]);
        // get, u16 ("unsigned 16") and le ("little-endian"): 1 + 0.5 · 3/3 · (1 + 2 · 2).
        assert!(r[0].signals.boosts.contains(&("name_coverage", 3.5)));
        let off = RankConfig {
            abbreviations: false,
            ..cfg()
        };
        assert_eq!(ids(&lexical_only(q, &lex, &m, &off)), vec![1, 2]);
    }

    #[test]
    fn a_name_covers_the_words_it_shortens_or_joins() {
        let m = by_id([
            info(
                1,
                "fileutils.py",
                Some("from_int"),
                ChunkKind::Method,
                (10, 20),
            ),
            info(
                2,
                "fileutils.py",
                Some("from_path"),
                ChunkKind::Method,
                (22, 30),
            ),
            info(
                3,
                "namedutils.py",
                Some("namedtuple"),
                ChunkKind::Function,
                (40, 50),
            ),
            info(
                4,
                "namedutils.py",
                Some("namedlist"),
                ChunkKind::Function,
                (52, 60),
            ),
        ]);
        let lex = [
            (ChunkId(1), 5.0),
            (ChunkId(2), 6.0),
            (ChunkId(3), 5.0),
            (ChunkId(4), 6.0),
        ];
        let off = RankConfig {
            abbreviations: false,
            ..cfg()
        };
        // `int` is "integer" shortened: from and int, 1 + 0.5 · 2/2 · (1 + 2 · 1).
        let q = "Create a FilePerms object from an integer";
        let r = lexical_only(q, &lex[..2], &m, &cfg());
        assert_eq!(ids(&r), vec![1, 2]);
        assert!(r[0].signals.boosts.contains(&("name_coverage", 2.5)));
        assert_eq!(ids(&lexical_only(q, &lex[..2], &m, &off)), vec![2, 1]);
        // `namedtuple` joins "tuple" and "named"; `namedlist` only starts with one of them.
        let q = "Returns a new subclass of tuple with named fields";
        let r = lexical_only(q, &lex[2..], &m, &cfg());
        assert_eq!(ids(&r), vec![3, 4]);
        assert!(r[0].signals.boosts.contains(&("name_coverage", 1.5)));
        assert!(r[1].signals.boosts.iter().all(|b| b.0 != "name_coverage"));
        assert_eq!(ids(&lexical_only(q, &lex[2..], &m, &off)), vec![4, 3]);
    }

    #[test]
    fn shortened_words_keep_their_first_letters_or_a_known_skeleton() {
        assert!(SKELETONS.windows(2).all(|w| w[0].0 < w[1].0), "sorted");
        assert!(WORDS_OF_THREE.windows(2).all(|w| w[0] < w[1]), "sorted");
        let parts = |q: &str| content_parts(&word_parts(&query_words(q)));
        let q = parts(
            "Format the string at this index of the argument list into the message pointer as an integer config",
        );
        for part in [
            "str", "int", "arg", "args", "fmt", "idx", "msg", "ptrs", "cfg",
        ] {
            assert!(shortens(part, &q), "{part}");
        }
        // Another word's start, a word of its own (`add` is no "address", `key` no "keyword"), a skeleton of
        // a word not asked for (`ptr` is no "pattern", `src` no "search", `tmp` no "template"), two letters, a
        // stop word or a whole word are no shortening.
        let q = parts(
            "Returns the selected strings from this index of the pattern search at the address of the keyword template",
        );
        for part in [
            "run", "add", "key", "ptr", "src", "tmp", "st", "the", "index", "tdx",
        ] {
            assert!(!shortens(part, &q), "{part}");
        }
        assert!(shortens("sel", &q));
        // The parts of an identifier are words of their own: `big` does not shorten `BigDecimal`.
        let q = parts("BigDecimal");
        assert!(!shortens("big", &q));
        assert!(shortens("dec", &q));
    }

    #[test]
    fn one_word_in_two_forms_is_the_same_word() {
        for (a, b) in [
            ("string", "strings"),
            ("entry", "entries"),
            ("box", "boxes"),
            ("id", "ids"),
        ] {
            assert!(same_form(a, b) && same_form(b, a), "{a} {b}");
        }
        for (a, b) in [
            ("time", "timeout"),
            ("name", "namespace"),
            ("form", "format"),
            ("is", "s"),
        ] {
            assert!(!same_form(a, b) && !same_form(b, a), "{a} {b}");
        }
    }

    #[test]
    fn a_joined_name_takes_two_different_words_in_either_order() {
        let q = content_parts(&word_parts(&query_words(
            "Returns a tuple with named fields, then read a line",
        )));
        for name in ["namedtuple", "tuplenamed", "readline"] {
            assert!(joins(name, &q), "{name}");
        }
        let q = content_parts(&word_parts(&query_words(
            "Set the default maximum buffer size *maxsize*",
        )));
        for name in ["setmaxsize", "buffersize"] {
            assert!(joins(name, &q), "{name}");
        }
        // One word alone, a word twice, a stop word, or a word and a rest that is none.
        for name in ["named", "namednamed", "withnamed", "readlines", "tuple_"] {
            assert!(!joins(name, &q), "{name}");
        }
        // A word of one letter is no word of the query ("z-score").
        assert!(!joins(
            "zscore",
            &content_parts(&word_parts(&query_words("the z-score")))
        ));
    }

    #[test]
    fn a_question_that_compares_with_a_named_definition_asks_for_another() {
        let m = by_id([
            info(
                1,
                "functoolz.py",
                Some("is_valid_args"),
                ChunkKind::Function,
                (10, 20),
            ),
            info(
                2,
                "_signatures.py",
                Some("_is_valid_args"),
                ChunkKind::Function,
                (22, 30),
            ),
        ]);
        let lex = [(ChunkId(1), 6.0), (ChunkId(2), 5.0)];
        let r = lexical_only(
            "Like is_valid_args for builtins in our signatures registry",
            &lex,
            &m,
            &cfg(),
        );
        assert_eq!(ids(&r), vec![2, 1]);
        assert!(r[1].signals.boosts.contains(&("compared", 0.5)));
        assert!(
            r[1].signals
                .boosts
                .iter()
                .all(|b| !b.0.starts_with("symbol"))
        );
        // "Exactly like" asks for a definition of that name.
        let r = lexical_only(
            "Works exactly like is_valid_args in our signatures registry",
            &lex,
            &m,
            &cfg(),
        );
        assert_eq!(ids(&r), vec![1, 2]);
        assert!(r[0].signals.boosts.contains(&("symbol_exact", 1.6)));
    }

    #[test]
    fn abbreviations_are_initials_of_consecutive_words() {
        let q = word_sequence(
            "Evicts the least recently used entry of a little-endian buffer of unsigned 16 bit words",
        );
        for part in ["lru", "le", "u16"] {
            assert!(abbreviates(part, &q), "{part}");
        }
        // Not initials of consecutive words, a single word's start, a number alone, a letter, a long part.
        for part in ["lu", "ev", "16", "u32", "i16", "e", "lrue", "bytes"] {
            assert!(!abbreviates(part, &q), "{part}");
        }
        // A name's word that is an English word, or initials that take in a stop word, abbreviate nothing.
        let q = word_sequence("Returns the owned value after the item size check");
        for part in ["to", "at", "is", "tov"] {
            assert!(!abbreviates(part, &q), "{part}");
        }
        assert!(abbreviates("isc", &q));
    }

    #[test]
    fn words_weigh_more_in_javascript_and_typescript() {
        let lex = [(ChunkId(1), 10.0), (ChunkId(2), 2.0)];
        let sem = [(ChunkId(1), 0.3), (ChunkId(2), 0.9)];
        let run = |a: (&str, Language), b: (&str, Language), mode: Mode| {
            let m = by_id(
                [(1, a), (2, b)].map(|(id, (path, language))| CandidateInfo {
                    language,
                    ..info(id, path, None, ChunkKind::Function, (1, 9))
                }),
            );
            ids(&rank(
                "where the configuration file gets parsed",
                mode,
                &lex,
                &sem,
                &m,
                &SearchContext::default(),
                &cfg(),
                10,
            ))
        };
        let py = |p| (p, Language::Python);
        let ts = |p| (p, Language::TypeScript);
        let js = |p| (p, Language::JavaScript);
        // Fused 0.3 · words + 0.7 · meaning: the one the model prefers wins in Python...
        assert_eq!(run(py("a.py"), py("b.py"), Mode::Hybrid), vec![2, 1]);
        // ...while in TypeScript and JavaScript the words weigh 0.7.
        assert_eq!(run(ts("a.ts"), ts("b.ts"), Mode::Hybrid), vec![1, 2]);
        assert_eq!(run(js("a.js"), js("b.js"), Mode::Hybrid), vec![1, 2]);
        // The weight is the query's: with half the candidates in Python, the words do not lift the
        // TypeScript one above the Python one the model prefers.
        assert_eq!(run(ts("a.ts"), py("b.py"), Mode::Hybrid), vec![2, 1]);
        // The semantic mode still reads meaning alone.
        assert_eq!(run(ts("a.ts"), ts("b.ts"), Mode::Semantic), vec![2, 1]);
    }

    #[test]
    fn a_stub_ranks_below_the_code_it_declares() {
        let mut m = HashMap::new();
        m.insert(
            ChunkId(1),
            info(
                1,
                "pkg/more.pyi",
                Some("strip"),
                ChunkKind::Function,
                (436, 438),
            ),
        );
        m.insert(
            ChunkId(2),
            info(
                2,
                "pkg/more.py",
                Some("strip"),
                ChunkKind::Function,
                (2475, 2489),
            ),
        );
        m.insert(
            ChunkId(3),
            info(
                3,
                "types/index.d.ts",
                Some("strip"),
                ChunkKind::Function,
                (1, 2),
            ),
        );
        let lex = [(ChunkId(1), 10.0), (ChunkId(3), 9.8), (ChunkId(2), 8.0)];
        let r = rank(
            "strip items from both ends",
            Mode::Lexical,
            &lex,
            &[],
            &m,
            &SearchContext::default(),
            &cfg(),
            10,
        );
        assert_eq!(ids(&r), vec![2, 1, 3]);
        assert!(is_declaration_file("a/b.d.mts") && !is_declaration_file("a/d.ts"));
    }

    #[test]
    fn exact_symbol_beats_a_mention_and_tests_are_demoted() {
        let mut m = HashMap::new();
        m.insert(
            ChunkId(1),
            info(1, "src/app.rs", Some("main"), ChunkKind::Function, (1, 10)),
        );
        m.insert(
            ChunkId(2),
            info(
                2,
                "src/config.rs",
                Some("parse_config"),
                ChunkKind::Function,
                (5, 30),
            ),
        );
        m.insert(
            ChunkId(3),
            info(
                3,
                "tests/config_test.rs",
                Some("parse_config_works"),
                ChunkKind::Function,
                (1, 9),
            ),
        );
        let lex = [(ChunkId(1), 10.0), (ChunkId(3), 9.5), (ChunkId(2), 9.0)];
        let r = rank(
            "parse_config",
            Mode::Lexical,
            &lex,
            &[],
            &m,
            &SearchContext::default(),
            &cfg(),
            10,
        );
        assert_eq!(ids(&r), vec![2, 1, 3]);
        assert!(
            r[0].signals
                .boosts
                .iter()
                .any(|(n, _)| *n == "symbol_exact")
        );
    }

    #[test]
    fn overlapping_chunks_merge_and_files_diversify() {
        let mut m = HashMap::new();
        m.insert(
            ChunkId(1),
            info(1, "a.rs", None, ChunkKind::Window, (1, 40)),
        );
        m.insert(
            ChunkId(2),
            info(2, "a.rs", None, ChunkKind::Window, (35, 80)),
        );
        m.insert(
            ChunkId(3),
            info(3, "a.rs", None, ChunkKind::Window, (81, 120)),
        );
        m.insert(
            ChunkId(4),
            info(4, "b.rs", None, ChunkKind::Window, (1, 40)),
        );
        let sem = [
            (ChunkId(1), 0.9),
            (ChunkId(2), 0.89),
            (ChunkId(3), 0.88),
            (ChunkId(4), 0.6),
        ];
        let r = rank(
            "socket connection setup",
            Mode::Semantic,
            &[],
            &sem,
            &m,
            &SearchContext::default(),
            &cfg(),
            10,
        );
        // 2 overlaps 1 and is dropped; 3 is a second result of a.rs and decays below b.rs.
        assert_eq!(ids(&r), vec![1, 4, 3]);
    }

    #[test]
    fn context_boosts_open_files_and_excludes_the_cursor() {
        let mut m = HashMap::new();
        m.insert(
            ChunkId(1),
            info(1, "src/x.rs", Some("a"), ChunkKind::Function, (1, 10)),
        );
        m.insert(
            ChunkId(2),
            info(2, "src/y.rs", Some("b"), ChunkKind::Function, (1, 10)),
        );
        m.insert(
            ChunkId(3),
            info(3, "src/z.rs", Some("c"), ChunkKind::Function, (20, 30)),
        );
        let sem = [(ChunkId(1), 0.80), (ChunkId(2), 0.79), (ChunkId(3), 0.95)];
        let ctx = SearchContext {
            current_file: Some("src/z.rs".into()),
            open_files: vec!["src/y.rs".into()],
            exclude: Some(("src/z.rs".into(), 25, 25)),
            ..SearchContext::default()
        };
        let r = rank("thing", Mode::Semantic, &[], &sem, &m, &ctx, &cfg(), 10);
        assert_eq!(ids(&r), vec![2, 1]);
    }

    #[test]
    fn files_the_current_file_imports_rise() {
        let mut m = HashMap::new();
        m.insert(
            ChunkId(1),
            info(1, "lib/other.rs", Some("a"), ChunkKind::Function, (1, 10)),
        );
        m.insert(
            ChunkId(2),
            info(2, "lib/dep.rs", Some("b"), ChunkKind::Function, (1, 10)),
        );
        m.insert(
            ChunkId(3),
            info(3, "app/main.rs", Some("c"), ChunkKind::Function, (1, 10)),
        );
        let sem = [(ChunkId(1), 0.80), (ChunkId(2), 0.79), (ChunkId(3), 0.1)];
        let mut ctx = SearchContext {
            current_file: Some("app/main.rs".into()),
            exclude: Some(("app/main.rs".into(), 1, 10)),
            ..SearchContext::default()
        };
        let r = rank("thing", Mode::Semantic, &[], &sem, &m, &ctx, &cfg(), 10);
        assert_eq!(ids(&r), vec![1, 2]);
        ctx.related_files = vec!["lib/dep.rs".into()];
        let r = rank("thing", Mode::Semantic, &[], &sem, &m, &ctx, &cfg(), 10);
        assert_eq!(ids(&r), vec![2, 1]);
        assert!(r[0].signals.boosts.iter().any(|(n, _)| *n == "import"));
    }

    #[test]
    fn files_with_several_matching_chunks_rise() {
        let mut m = HashMap::new();
        m.insert(
            ChunkId(1),
            info(1, "one.rs", None, ChunkKind::Window, (1, 10)),
        );
        m.insert(
            ChunkId(2),
            info(2, "many.rs", None, ChunkKind::Window, (1, 10)),
        );
        m.insert(
            ChunkId(3),
            info(3, "many.rs", None, ChunkKind::Window, (20, 30)),
        );
        m.insert(
            ChunkId(4),
            info(4, "many.rs", None, ChunkKind::Window, (40, 50)),
        );
        let sem = [
            (ChunkId(1), 0.80),
            (ChunkId(2), 0.75),
            (ChunkId(3), 0.7),
            (ChunkId(4), 0.7),
        ];
        let flat = RankConfig {
            file_support: 0.0,
            ..RankConfig::default()
        };
        let r = rank(
            "socket",
            Mode::Semantic,
            &[],
            &sem,
            &m,
            &SearchContext::default(),
            &flat,
            2,
        );
        assert_eq!(ids(&r), vec![1, 2]);
        let r = rank(
            "socket",
            Mode::Semantic,
            &[],
            &sem,
            &m,
            &SearchContext::default(),
            &cfg(),
            2,
        );
        assert_eq!(ids(&r), vec![2, 1]);
    }

    #[test]
    fn non_source_paths() {
        assert!(is_non_source_path("tests/it.rs"));
        assert!(is_non_source_path("src/foo_test.go"));
        assert!(is_non_source_path("pkg/a.spec.ts"));
        assert!(is_non_source_path("examples/demo.py"));
        assert!(is_non_source_path("src/test_utils.py"));
        assert!(!is_non_source_path("src/attestation.rs"));
        assert!(!is_non_source_path("src/contest/main.rs"));
    }
}
