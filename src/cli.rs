//! The `sg` command line: argument parsing, progress bars, and human or JSON output. Thin: every
//! decision lives in the library.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};

use crate::chunk::ChunkKind;
use crate::config::IndexConfig;
use crate::embed::{EmbedOptions, Embedder, load_model, load_model_source};
use crate::index::{OpenOptions, Phase, Progress, Workspace};
use crate::query::{SearchHit, SearchRequest, SearchResponse};
use crate::search::{Mode, RankConfig};
use crate::syntax::Language;

/// Local hybrid code search: syntax-aware chunks, BM25 and embeddings, from the command line and as a
/// language server.
#[derive(Parser, Debug)]
#[command(name = "sg", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Index a folder (only new, changed and deleted files are processed again).
    Index(IndexArgs),
    /// Search a folder's index (indexing it first when needed).
    Search(SearchArgs),
    /// Show what an index holds.
    Status(StatusArgs),
    /// Evaluate search quality on a query spec.
    Eval(crate::eval::EvalArgs),
    /// Run the language server on stdin/stdout.
    #[cfg(feature = "lsp")]
    Lsp(crate::lsp::LspArgs),
    /// Print a shell completion script (e.g. `sg completions bash > ~/.local/share/bash-completion/completions/sg`).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff; e.g. `sg man | man -l -`).
    Man,
}

/// Options shared by every command that opens an index.
#[derive(Args, Debug, Clone, Default)]
pub struct CommonArgs {
    /// Folder of the index (default: under the user's cache folder, keyed by the workspace path).
    #[arg(long)]
    pub index_dir: Option<PathBuf>,
    /// Folder of the embedding cache shared by every workspace (default: the user's cache folder,
    /// `~/.cache/sg/embeddings` on Linux); created only when embedding.
    #[arg(long, env = "SG_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Embedding model folder (default: the model shipped with sg).
    #[arg(long, env = "SG_MODEL_PATH")]
    pub model_path: Option<PathBuf>,
    /// Lexical search only: load no embedding model.
    #[arg(long)]
    pub no_embed: bool,
    /// Skip files larger than this many bytes.
    #[arg(long, default_value_t = 1_000_000)]
    pub max_file_size: u64,
    /// Exclude paths matching this glob (repeatable).
    #[arg(long = "exclude", value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Index programming-language files only (no Markdown, JSON, YAML...).
    #[arg(long)]
    pub code_only: bool,
    /// Embedding threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Word pieces embedded per chunk (default: the model manifest's `max_tokens`).
    #[arg(long, env = "SG_MAX_TOKENS")]
    pub max_tokens: Option<usize>,
    /// Fast (static) model that embeds every chunk at once until the main model has reached it, and is
    /// blended into the main model's ranking after (default: the one shipped with sg, if any; `none`
    /// turns the fast tier off).
    #[arg(long, env = "SG_FAST_MODEL")]
    pub fast_model: Option<PathBuf>,
}

/// The workspace a command works on: a folder given as an argument or with `--root`, or else the one that holds
/// the current folder (found like git finds a repository: the nearest folder above with `.git` or an index).
#[derive(Args, Debug, Clone, Default)]
struct RootArgs {
    /// The workspace folder (default: the workspace that holds the current folder).
    #[arg(value_name = "PATH")]
    path: Option<PathBuf>,
    /// The workspace folder, as an option (same as PATH).
    #[arg(long, value_name = "PATH", conflicts_with = "path")]
    root: Option<PathBuf>,
}

impl RootArgs {
    /// The folder given, as an argument or with `--root`.
    fn given(&self) -> Option<&Path> {
        self.path.as_deref().or(self.root.as_deref())
    }
}

/// Finds the workspace: an explicit folder as given, otherwise the one holding the current folder.
fn resolve_root(explicit: Option<&Path>, common: &CommonArgs) -> Result<crate::root::FoundRoot> {
    match explicit {
        Some(p) => Ok(crate::root::FoundRoot {
            root: p.to_path_buf(),
            subfolder: String::new(),
        }),
        None => {
            let base = common
                .index_dir
                .is_none()
                .then(crate::index::default_base_dir);
            crate::root::find_root(Path::new("."), base.as_deref())
        }
    }
}

#[derive(Args, Debug)]
struct IndexArgs {
    #[command(flatten)]
    root: RootArgs,
    #[command(flatten)]
    common: CommonArgs,
    /// Print a JSON summary.
    #[arg(long)]
    json: bool,
    /// If another process is writing the index, wait up to this many seconds for it to finish.
    #[arg(long, value_name = "SECS", default_value_t = 0)]
    wait: u64,
    /// Run as the one background indexer of this workspace: exit at once if another one runs.
    #[arg(long, hide = true)]
    background: bool,
}

#[derive(Args, Debug)]
struct SearchArgs {
    /// What to look for, in words or by name.
    #[arg(required_unless_present = "batch")]
    query: Option<String>,
    /// The workspace folder (default: the workspace that holds the current folder; from a subfolder, results
    /// are kept inside it unless `--path` is given).
    #[arg(long, value_name = "PATH")]
    root: Option<PathBuf>,
    /// Number of results.
    #[arg(short = 'n', long, default_value_t = 10)]
    limit: usize,
    /// Retrieval mode: hybrid, lexical or semantic.
    #[arg(long, default_value = "hybrid", value_parser = parse_mode)]
    mode: Mode,
    /// Only paths matching this glob (repeatable).
    #[arg(long = "path", value_name = "GLOB")]
    paths: Vec<String>,
    /// Only this language (repeatable), e.g. rust, python, ts.
    #[arg(long = "lang", value_name = "LANG", value_parser = parse_lang)]
    languages: Vec<Language>,
    /// Only this kind of chunk (repeatable), e.g. function, class.
    #[arg(long = "kind", value_name = "KIND", value_parser = parse_kind)]
    kinds: Vec<ChunkKind>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// Read JSONL queries (`{"query", "limit"?, "mode"?}`) from FILE or `-` and write one JSON result per line.
    #[arg(long, value_name = "FILE")]
    batch: Option<String>,
    /// Do not bring the index up to date before searching.
    #[arg(long)]
    no_update: bool,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Args, Debug)]
struct StatusArgs {
    #[command(flatten)]
    root: RootArgs,
    #[command(flatten)]
    common: CommonArgs,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

fn parse_mode(s: &str) -> Result<Mode, String> {
    Mode::from_name(s)
        .ok_or_else(|| format!("unknown mode {s:?} (expected hybrid, lexical or semantic)"))
}

fn parse_lang(s: &str) -> Result<Language, String> {
    Language::from_name(s).ok_or_else(|| format!("unknown language {s:?}"))
}

fn parse_kind(s: &str) -> Result<ChunkKind, String> {
    ChunkKind::from_name(s).ok_or_else(|| format!("unknown kind {s:?}"))
}

/// Loads the embedding model, BERT or static as its manifest says: the given folder (an error if it fails) or
/// the default (`$SG_MODEL_PATH`, else the model compiled into the binary; a warning and lexical-only search if
/// there is none). `max_tokens` overrides the manifest's limit on word pieces per chunk (it is part of the model
/// fingerprint: changing it re-embeds everything).
pub fn load_embedder(
    model_path: Option<&Path>,
    threads: Option<usize>,
    max_tokens: Option<usize>,
) -> Result<Option<Arc<dyn Embedder>>> {
    let opts = EmbedOptions {
        threads: threads.unwrap_or(0),
        max_tokens: max_tokens.unwrap_or(0),
        ..EmbedOptions::default()
    };
    match model_path {
        Some(p) => {
            let e = load_model(p, &opts)
                .with_context(|| format!("cannot load model {}", p.display()))?;
            Ok(Some(e))
        }
        None => match crate::embed::default_model_source() {
            Some(src) => match load_model_source(&src, &opts) {
                Ok(e) => Ok(Some(e)),
                Err(err) => {
                    tracing::warn!("cannot load the default model ({err:#}); lexical search only");
                    Ok(None)
                }
            },
            None => {
                tracing::warn!("no embedding model found (set SG_MODEL_PATH); lexical search only");
                Ok(None)
            }
        },
    }
}

/// Loads the fast tier: the given folder (an error if it fails), none for `none`, or the shipped static
/// model when there is one.
pub fn load_fast_embedder(path: Option<&Path>) -> Result<Option<Arc<dyn Embedder>>> {
    match path {
        Some(p) if p == Path::new("none") => Ok(None),
        Some(p) => Ok(Some(
            crate::embed::load_model(p, &EmbedOptions::default())
                .with_context(|| format!("cannot load the fast model {}", p.display()))?,
        )),
        None => match crate::embed::default_fast_model_source() {
            Some(src) => match load_model_source(&src, &EmbedOptions::default()) {
                Ok(e) => Ok(Some(e)),
                Err(err) => {
                    tracing::warn!("cannot load the shipped fast model ({err:#}); no fast tier");
                    Ok(None)
                }
            },
            None => Ok(None),
        },
    }
}

impl CommonArgs {
    /// The fast tier these options ask for (none without embeddings).
    pub fn fast_embedder(&self) -> Result<Option<Arc<dyn Embedder>>> {
        if self.no_embed {
            return Ok(None);
        }
        load_fast_embedder(self.fast_model.as_deref())
    }

    /// The index configuration these options describe.
    pub fn index_config(&self) -> IndexConfig {
        IndexConfig {
            max_file_size: self.max_file_size,
            exclude: self.exclude.clone(),
            code_only: self.code_only,
            embed: !self.no_embed,
            ..IndexConfig::default()
        }
    }

    /// Where the main model comes from, for `sg status`: a folder, `built-in <name>`, or `none`.
    pub fn model_source(&self) -> String {
        if self.no_embed {
            return "none".into();
        }
        match &self.model_path {
            Some(p) => p.display().to_string(),
            None => crate::embed::default_model_source()
                .map(|s| s.to_string())
                .unwrap_or_else(|| "none".into()),
        }
    }

    /// The index folder these options give the workspace at `root`.
    pub fn index_dir_of(&self, root: &Path) -> Result<PathBuf> {
        match &self.index_dir {
            Some(d) => Ok(d.clone()),
            None => {
                let canonical = root
                    .canonicalize()
                    .with_context(|| format!("cannot open workspace {}", root.display()))?;
                Ok(crate::index::index_dir_for(
                    &crate::index::default_base_dir(),
                    &canonical,
                ))
            }
        }
    }

    /// Opens the workspace at `root` with these options.
    pub fn open(&self, root: &Path) -> Result<Workspace> {
        let embedder = if self.no_embed {
            None
        } else {
            load_embedder(self.model_path.as_deref(), self.threads, self.max_tokens)?
        };
        Workspace::open(
            root,
            OpenOptions {
                index_dir: self.index_dir.clone(),
                cache_dir: self.cache_dir.clone(),
                config: self.index_config(),
                embedder,
                fast_embedder: self.fast_embedder()?,
            },
        )
    }
}

/// A progress bar on stderr, shown only on a terminal.
pub struct Bar {
    bar: std::sync::Mutex<Option<ProgressBar>>,
    enabled: bool,
}

impl Bar {
    /// A bar that draws when stderr is a terminal.
    pub fn new() -> Self {
        Bar {
            bar: std::sync::Mutex::new(None),
            enabled: std::io::stderr().is_terminal(),
        }
    }
}

impl Default for Bar {
    fn default() -> Self {
        Self::new()
    }
}

impl Progress for Bar {
    fn begin(&self, phase: Phase, total: u64) {
        if !self.enabled || total == 0 {
            return;
        }
        let pb = ProgressBar::new(total);
        pb.set_style(
            ProgressStyle::with_template("{msg:>18} [{bar:30}] {pos}/{len} ({per_sec}, eta {eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        pb.set_message(phase.name());
        pb.enable_steady_tick(Duration::from_millis(200));
        *self.bar.lock().unwrap_or_else(|e| e.into_inner()) = Some(pb);
    }
    fn report(&self, done: u64) {
        if let Some(pb) = &*self.bar.lock().unwrap_or_else(|e| e.into_inner()) {
            pb.set_position(done);
        }
    }
    fn end(&self) {
        if let Some(pb) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).take() {
            pb.finish_and_clear();
        }
    }
}

/// A search result as printed by `--json` (the wire shape; see README).
#[derive(Serialize)]
pub struct JsonHit {
    path: String,
    start_line: u32,
    end_line: u32,
    match_start_line: u32,
    match_end_line: u32,
    symbol: Option<String>,
    kind: &'static str,
    language: &'static str,
    score: f32,
    snippet: String,
    signals: serde_json::Value,
}

impl From<&SearchHit> for JsonHit {
    fn from(h: &SearchHit) -> Self {
        let mut signals = serde_json::Map::new();
        if let Some(l) = h.signals.lexical {
            signals.insert("lexical".into(), l.into());
        }
        if let Some(s) = h.signals.semantic {
            signals.insert("semantic".into(), s.into());
        }
        signals.insert("fused".into(), h.signals.fused.into());
        for (name, f) in &h.signals.boosts {
            signals.insert((*name).into(), (*f).into());
        }
        JsonHit {
            path: h.path.clone(),
            start_line: h.start_line,
            end_line: h.end_line,
            match_start_line: h.match_lines.0,
            match_end_line: h.match_lines.1,
            symbol: h.symbol.clone(),
            kind: h.kind.name(),
            language: h.language.name(),
            score: h.score,
            snippet: h.snippet.clone(),
            signals: signals.into(),
        }
    }
}

#[derive(Serialize)]
struct JsonIndex {
    files: u64,
    chunks: u64,
    embedded: u64,
    /// Chunks searchable by meaning through the fast tier only (absent without one).
    #[serde(skip_serializing_if = "Option::is_none")]
    embedded_fast: Option<u64>,
}

#[derive(Serialize)]
struct JsonResponse<'a> {
    query: &'a str,
    mode: &'static str,
    elapsed_ms: f64,
    index: JsonIndex,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'a str>,
    results: Vec<JsonHit>,
}

fn to_json(query: &str, r: &SearchResponse) -> String {
    let resp = JsonResponse {
        query,
        mode: r.mode.name(),
        elapsed_ms: r.elapsed.as_secs_f64() * 1000.0,
        index: JsonIndex {
            files: r.status.files,
            chunks: r.status.chunks,
            embedded: r.status.embedded,
            embedded_fast: (r.status.embedded_fast > 0).then_some(r.status.embedded_fast),
        },
        note: r.note.as_deref(),
        results: r.hits.iter().map(JsonHit::from).collect(),
    };
    serde_json::to_string(&resp).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

#[derive(Deserialize)]
struct BatchQuery {
    query: String,
    limit: Option<usize>,
    mode: Option<String>,
}

impl Cli {
    /// The log file asked for, if any (`sg lsp --log-file`).
    pub fn log_file(&self) -> Option<&Path> {
        match &self.command {
            #[cfg(feature = "lsp")]
            Command::Lsp(a) => a.log_file.as_deref(),
            _ => None,
        }
    }
}

/// Runs the CLI; returns the process exit code (0 results/ok, 1 no results, 2 error).
pub fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Index(a) => cmd_index(a),
        Command::Search(a) => cmd_search(a),
        Command::Status(a) => cmd_status(a),
        Command::Eval(a) => crate::eval::run(a),
        #[cfg(feature = "lsp")]
        Command::Lsp(a) => crate::lsp::run(a),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "sg", &mut std::io::stdout().lock());
            Ok(0)
        }
        Command::Man => {
            let cmd = <Cli as clap::CommandFactory>::command();
            clap_mangen::Man::new(cmd).render(&mut std::io::stdout().lock())?;
            Ok(0)
        }
    }
}

/// Whether to colour a stream: only a terminal, and never when `NO_COLOR` is set to anything non-empty
/// (<https://no-color.org>).
pub fn use_color(stream_is_terminal: bool) -> bool {
    stream_is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

fn cmd_index(a: IndexArgs) -> Result<i32> {
    let t = std::time::Instant::now();
    let deadline = t + Duration::from_secs(a.wait);
    let found = resolve_root(a.root.given(), &a.common)?;
    let _background = if a.background {
        match crate::background::BackgroundLock::try_acquire(&a.common.index_dir_of(&found.root)?)?
        {
            Some(lock) => Some(lock),
            // Another background indexer has this workspace: nothing to do.
            None => return Ok(0),
        }
    } else {
        None
    };
    let ws = loop {
        let ws = a.common.open(&found.root)?;
        if ws.is_writable() || std::time::Instant::now() >= deadline {
            break ws;
        }
        drop(ws);
        std::thread::sleep(Duration::from_millis(250));
    };
    let stats = ws.update(&Bar::new())?;
    // Above the threshold, leave the approximate tier built so the next searches are fast.
    let ann = ws.build_ann()?;
    let st = ws.status()?;
    if a.json {
        let mut v = serde_json::json!({
            "root": ws.root().display().to_string(),
            "index_dir": ws.index_dir().display().to_string(),
            "elapsed_ms": t.elapsed().as_secs_f64() * 1000.0,
            "files_seen": stats.files_seen, "files_changed": stats.files_changed,
            "files_removed": stats.files_removed, "files_skipped": stats.files_skipped,
            "chunks_written": stats.chunks_written, "chunks_embedded": stats.chunks_embedded,
            "scan_ms": stats.scan_ms, "embed_ms": stats.embed_ms,
            "index": {"files": st.files, "chunks": st.chunks, "embedded": st.embedded},
        });
        if let Some(r) = ann {
            v["ann_build"] = serde_json::json!({
                "items": r.items, "added": r.added, "removed": r.removed,
                "elapsed_ms": r.elapsed.as_secs_f64() * 1000.0,
            });
        }
        let mut out = std::io::stdout().lock();
        writeln!(out, "{v}")?;
    } else {
        eprintln!(
            "indexed {}: {} files ({} changed, {} removed, {} skipped), {} chunks, {} embedded ({} new) in {:.2?}",
            ws.root().display(),
            st.files,
            stats.files_changed,
            stats.files_removed,
            stats.files_skipped,
            st.chunks,
            st.embedded,
            stats.chunks_embedded,
            t.elapsed()
        );
        if let Some(r) = ann.filter(|r| r.added + r.removed > 0) {
            eprintln!(
                "approximate index: {} chunks (+{} -{}) built in {:.2?}",
                r.items, r.added, r.removed, r.elapsed
            );
        }
    }
    Ok(0)
}

/// Pending embeddings are computed inline by `sg search` only up to this many chunks.
const INLINE_EMBED_LIMIT: u64 = 256;

/// Brings the index up to date before a search: the scan always (seconds) unless `--no-update`; embeddings
/// inline when few are missing, otherwise in one background `sg index` per workspace, so that this search
/// answers at once from what is there. Returns a note for the user when embeddings are still being computed.
fn prepare_for_search(ws: &Workspace, common: &CommonArgs, update: bool) -> Result<Option<String>> {
    let writable = ws.is_writable();
    if writable && (update || !ws.is_scanned()?) {
        ws.scan(&Bar::new())?;
    }
    if !ws.config().embed || ws.embedder().is_none() {
        return Ok(None);
    }
    // Cached vectors are picked up first: only what no cache holds is pending.
    let missing = ws.pending_count()?;
    if missing == 0 {
        return Ok(None);
    }
    let chunks = ws.status()?.chunks;
    let pending = format!("{missing} of {chunks} chunks are not embedded yet");
    if let Some(pid) = crate::background::BackgroundLock::holder(ws.index_dir()) {
        return Ok(Some(format!(
            "{pending}; the background `sg index` (pid {pid}) is embedding them, so semantic results improve \
             over the next minutes"
        )));
    }
    if !writable {
        return Ok(Some(format!(
            "{pending}; another sg process is writing this index"
        )));
    }
    if !update {
        return Ok(Some(format!(
            "{pending} (`sg index` embeds them); semantic results cover the rest"
        )));
    }
    if missing as u64 <= INLINE_EMBED_LIMIT || std::env::var_os("SG_NO_BACKGROUND").is_some() {
        ws.embed_pending(&Bar::new())?;
        return Ok(None);
    }
    let exe = std::env::current_exe()?;
    let mut cmd = std::process::Command::new(exe);
    cmd.arg("index")
        .arg("--background")
        .arg("--wait")
        .arg("300");
    cmd.arg("--root").arg(ws.root());
    cmd.arg("--index-dir").arg(ws.index_dir());
    if let Some(c) = ws.cache_dir() {
        cmd.arg("--cache-dir").arg(c);
    }
    if let Some(m) = &common.model_path {
        cmd.arg("--model-path").arg(m);
    }
    if let Some(m) = &common.fast_model {
        cmd.arg("--fast-model").arg(m);
    }
    if let Some(n) = common.max_tokens {
        cmd.arg("--max-tokens").arg(n.to_string());
    }
    for g in &common.exclude {
        cmd.arg("--exclude").arg(g);
    }
    cmd.arg("--max-file-size")
        .arg(common.max_file_size.to_string());
    if common.code_only {
        cmd.arg("--code-only");
    }
    cmd.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let child = cmd.spawn().context("cannot start the background indexer")?;
    Ok(Some(format!(
        "{pending}; a background `sg index` (pid {}) is embedding them, so semantic results improve over the \
         next minutes",
        child.id()
    )))
}

/// `s` made safe for a terminal: control characters (ESC, CR, BEL, DEL, C1...) and the bidirectional
/// formatting characters that reorder what is shown are written as escapes (`\x1b`, `\u{202e}`), so a
/// file name or file text from a cloned repository cannot move the cursor, recolour or rewrite the
/// screen. Tabs stay.
fn terminal_safe(s: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| {
        (c.is_control() && c != '\t')
            || matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !s.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            c if !unsafe_char(c) => out.push(c),
            c if (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    std::borrow::Cow::Owned(out)
}

fn print_human(r: &SearchResponse, color: bool) -> Result<()> {
    let mut out = std::io::stdout().lock();
    let (c_path, c_line, c_sym, c_dim, c_off) = if color {
        ("\x1b[35m", "\x1b[32m", "\x1b[1;33m", "\x1b[2m", "\x1b[0m")
    } else {
        ("", "", "", "", "")
    };
    for h in &r.hits {
        let sym = match (&h.symbol, h.enclosing.is_empty()) {
            (_, false) => h.enclosing.clone(),
            (Some(s), true) => format!("{} {s}", h.kind.name()),
            (None, true) => h.kind.name().to_string(),
        };
        writeln!(
            out,
            "{c_path}{}{c_off}:{c_line}{}-{}{c_off}  {c_sym}{}{c_off}  {c_dim}({:.3}){c_off}",
            terminal_safe(&h.path),
            h.start_line,
            h.end_line,
            terminal_safe(&sym),
            h.score
        )?;
        for line in h.snippet.lines() {
            writeln!(out, "    {}", terminal_safe(line.trim_end()))?;
        }
    }
    Ok(())
}

fn cmd_search(a: SearchArgs) -> Result<i32> {
    let found = resolve_root(a.root.as_deref(), &a.common)?;
    // A lexical search needs no model: none is loaded.
    let mut common = a.common.clone();
    if a.mode == Mode::Lexical && a.batch.is_none() {
        common.no_embed = true;
    }
    let ws = common.open(&found.root)?;
    let pending_note = prepare_for_search(&ws, &common, !a.no_update)?;
    let mut paths = a.paths.clone();
    if paths.is_empty()
        && let Some(glob) = found.subfolder_glob()
    {
        paths.push(glob);
    }
    let rank = RankConfig::default();
    let base = SearchRequest {
        query: String::new(),
        limit: a.limit,
        mode: a.mode,
        paths,
        languages: a.languages.clone(),
        kinds: a.kinds.clone(),
        context: Default::default(),
    };
    if let Some(src) = &a.batch {
        let reader: Box<dyn BufRead> = if src == "-" {
            Box::new(std::io::stdin().lock())
        } else {
            Box::new(std::io::BufReader::new(
                std::fs::File::open(src)
                    .with_context(|| format!("cannot open batch file {src}"))?,
            ))
        };
        let mut out = std::io::stdout().lock();
        let mut any = false;
        for (n, line) in reader.lines().enumerate() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            let q: BatchQuery = serde_json::from_str(&line)
                .with_context(|| format!("batch line {}: expected {{\"query\": ...}}", n + 1))?;
            let mut req = base.clone();
            req.query = q.query;
            req.limit = q.limit.unwrap_or(a.limit);
            if let Some(m) = q.mode {
                req.mode = parse_mode(&m).map_err(anyhow::Error::msg)?;
            }
            let r = ws.search(&req, &rank)?;
            any |= !r.hits.is_empty();
            writeln!(out, "{}", to_json(&req.query, &r))?;
        }
        return Ok(if any { 0 } else { 1 });
    }
    let mut req = base;
    req.query = a.query.clone().unwrap_or_default();
    let mut r = ws.search(&req, &rank)?;
    if let Some(n) = pending_note {
        r.note = Some(r.note.map(|x| format!("{x}; {n}")).unwrap_or(n));
    }
    if a.json {
        writeln!(std::io::stdout().lock(), "{}", to_json(&req.query, &r))?;
    } else {
        print_human(&r, use_color(std::io::stdout().is_terminal()))?;
        if let Some(note) = &r.note {
            eprintln!("note: {note}");
        }
    }
    Ok(if r.hits.is_empty() { 1 } else { 0 })
}

fn cmd_status(a: StatusArgs) -> Result<i32> {
    let found = resolve_root(a.root.given(), &a.common)?;
    let ws = a.common.open(&found.root)?;
    let st = ws.status()?;
    let ann = ws.ann_status()?;
    let model = ws
        .embedder()
        .map(|e| format!("{} ({})", e.name(), e.fingerprint()))
        .unwrap_or_else(|| "none".into());
    let fast = ws
        .fast_embedder()
        .map(|e| format!("{} ({})", e.name(), e.fingerprint()))
        .unwrap_or_else(|| "none".into());
    if a.json {
        let mut v = serde_json::json!({
            "root": ws.root().display().to_string(),
            "index_dir": ws.index_dir().display().to_string(),
            "files": st.files, "chunks": st.chunks, "embedded": st.embedded,
            "embedded_fast": st.embedded_fast, "fast_model": fast,
            "scanned": ws.is_scanned()?, "writable": st.writable, "model": model,
            "model_source": a.common.model_source(),
            "cache_dir": ws.cache_dir().map(|d| d.display().to_string()),
        });
        if let Some(a) = ann {
            v["ann"] = serde_json::json!({
                "built": a.built, "recent": a.recent, "deleted": a.deleted, "building": a.building,
            });
        }
        writeln!(std::io::stdout().lock(), "{v}")?;
    } else {
        let pct = if st.chunks == 0 {
            100.0
        } else {
            100.0 * st.embedded as f64 / st.chunks as f64
        };
        let cache = ws.cache_dir().map_or_else(
            || "none (not embedding)".into(),
            |d| d.display().to_string(),
        );
        writeln!(
            std::io::stdout().lock(),
            "root:     {}\nindex:    {}\ncache:    {cache}\nfiles:    {}\nchunks:   {}\nembedded: {} ({pct:.1}%)\nmodel:    {model}, from {}\nwritable: {}",
            ws.root().display(),
            ws.index_dir().display(),
            st.files,
            st.chunks,
            st.embedded,
            a.common.model_source(),
            st.writable
        )?;
        if ws.fast_embedder().is_some() {
            writeln!(
                std::io::stdout().lock(),
                "fast:     {} chunks by the fast tier only ({fast})",
                st.embedded_fast
            )?;
        }
        if let Some(a) = ann {
            writeln!(
                std::io::stdout().lock(),
                "ann:      {} built, {} recent (exact scan), {} deleted{}",
                a.built,
                a.recent,
                a.deleted,
                if a.building { ", building" } else { "" }
            )?;
        }
    }
    Ok(0)
}
