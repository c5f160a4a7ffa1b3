//! The `sg` command line: argument parsing, progress bars, and human or JSON output. Thin: every
//! decision lives in the library.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use serde::Deserialize;

use crate::chunk::ChunkKind;
use crate::index::Workspace;
use crate::query::{SearchRequest, SearchResponse};
use crate::search::{Mode, RankConfig};
use crate::setup::CommonArgs;
use crate::syntax::Language;
use crate::terminal::{Bar, terminal_safe, use_color};
use crate::wire::to_json;

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
    /// Where a name is defined: its definitions with their code (e.g. `sg def Server::handle`).
    Def(DefArgs),
    /// Where a name is used: calls, type uses, imports and other mentions, each with the definition it
    /// sits in (e.g. `sg refs parse_config --kind call` for its callers).
    Refs(RefsArgs),
    /// Evaluate search quality on a query spec.
    Eval(crate::eval::EvalArgs),
    /// Run the language server on stdin/stdout.
    #[cfg(feature = "lsp")]
    Lsp(crate::lsp::LspArgs),
    /// Run the Model Context Protocol server on stdin/stdout, for coding assistants.
    #[cfg(feature = "mcp")]
    Mcp(crate::mcp::McpArgs),
    /// Print a shell completion script (e.g. `sg completions bash > ~/.local/share/bash-completion/completions/sg`).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff; e.g. `sg man | man -l -`).
    Man,
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
    /// What the query asks for: auto (guessed from its words), search, symbol, definition or references.
    #[arg(long, default_value = "auto", value_parser = parse_intent)]
    intent: IntentArg,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// Read JSONL queries (`{"query", "limit"?, "mode"?, "intent"?, "current_file"?, "open_files"?, "read_files"?}`) from FILE or `-` and write one JSON result per line.
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

/// What the name commands (`def`, `refs`) share: the workspace, JSON output, and whether to update first.
#[derive(Args, Debug)]
struct NameCmdArgs {
    #[command(flatten)]
    root: RootArgs,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// Do not bring the index up to date first.
    #[arg(long)]
    no_update: bool,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Args, Debug)]
struct DefArgs {
    /// The name, plain (`parse_config`) or qualified (`Server::handle`, `config.parse`).
    name: String,
    #[command(flatten)]
    cmd: NameCmdArgs,
    /// Most definitions shown.
    #[arg(short = 'n', long, default_value_t = 10)]
    limit: usize,
    /// Token budget (bytes / 4) for the code of the definitions in the JSON answer.
    #[arg(long, value_name = "TOKENS", default_value_t = 2000)]
    budget: usize,
}

#[derive(Args, Debug)]
struct RefsArgs {
    /// The name, plain (`parse_config`) or qualified (`Server::handle`, `config.parse`).
    name: String,
    #[command(flatten)]
    cmd: NameCmdArgs,
    /// Rank uses nearest this file first (same file, same folder, imports).
    #[arg(long, value_name = "FILE")]
    near: Option<String>,
    /// Only this kind of use (repeatable): call, type, import, use, field.
    #[arg(long = "kind", value_name = "KIND", value_parser = parse_ref_kind)]
    kinds: Vec<crate::graph::RefKind>,
    /// Most uses shown.
    #[arg(short = 'n', long, default_value_t = 200)]
    limit: usize,
}

fn parse_ref_kind(s: &str) -> Result<crate::graph::RefKind, String> {
    crate::graph::RefKind::from_name(s).ok_or_else(|| {
        format!("unknown kind of use {s:?} (expected call, type, import, use or field)")
    })
}

/// An intent given on the command line (`None`: guess it).
#[derive(Clone, Copy, Debug)]
struct IntentArg(Option<crate::intent::Intent>);

fn parse_intent(s: &str) -> Result<IntentArg, String> {
    crate::intent::Intent::parse(Some(s)).map(IntentArg)
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

#[derive(Deserialize)]
struct BatchQuery {
    query: String,
    limit: Option<usize>,
    mode: Option<String>,
    intent: Option<String>,
    /// Workspace-relative paths: the file being worked on, open files, files already read.
    #[serde(default)]
    current_file: Option<String>,
    #[serde(default)]
    open_files: Vec<String>,
    #[serde(default)]
    read_files: Vec<String>,
}

impl Cli {
    /// The log file asked for, if any (`sg lsp --log-file`).
    pub fn log_file(&self) -> Option<&Path> {
        match &self.command {
            #[cfg(feature = "lsp")]
            Command::Lsp(a) => a.log_file.as_deref(),
            #[cfg(feature = "mcp")]
            Command::Mcp(a) => a.log_file.as_deref(),
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
        Command::Def(a) => cmd_def(a),
        Command::Refs(a) => cmd_refs(a),
        Command::Eval(a) => crate::eval::run(a),
        #[cfg(feature = "lsp")]
        Command::Lsp(a) => crate::lsp::run(a),
        #[cfg(feature = "mcp")]
        Command::Mcp(a) => crate::mcp::run(a),
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

fn cmd_index(a: IndexArgs) -> Result<i32> {
    let t = std::time::Instant::now();
    let deadline = t + Duration::from_secs(a.wait);
    let found = a.common.resolve_root(a.root.given())?;
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
    let found = a.common.resolve_root(a.root.as_deref())?;
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
            req.context.current_file = q.current_file;
            req.context.open_files = q.open_files;
            req.context.read_files = q.read_files;
            if let Some(m) = q.mode {
                req.mode = parse_mode(&m).map_err(anyhow::Error::msg)?;
            }
            let intent = match q.intent.as_deref() {
                Some(i) => crate::intent::Intent::parse(Some(i)).map_err(anyhow::Error::msg)?,
                None => a.intent.0,
            };
            let routed = crate::agent::route::search(&ws, &req, intent, |r| ws.search(r, &rank))?;
            let r = routed.response;
            any |= !r.hits.is_empty();
            writeln!(out, "{}", to_json(&req.query, &r, Some(&routed.route)))?;
        }
        return Ok(if any { 0 } else { 1 });
    }
    let mut req = base;
    req.query = a.query.clone().unwrap_or_default();
    let routed = crate::agent::route::search(&ws, &req, a.intent.0, |r| ws.search(r, &rank))?;
    let mut r = routed.response;
    if let Some(n) = pending_note {
        r.note = Some(r.note.map(|x| format!("{x}; {n}")).unwrap_or(n));
    }
    if a.json {
        writeln!(
            std::io::stdout().lock(),
            "{}",
            to_json(&req.query, &r, Some(&routed.route))
        )?;
    } else {
        if let (intent, Some(name)) = (routed.route.intent, &routed.route.name)
            && intent != crate::intent::Intent::Search
        {
            eprintln!("answered as: {} of {}", intent.name(), terminal_safe(name));
        }
        print_human(&r, use_color(std::io::stdout().is_terminal()))?;
        if let Some(note) = &r.note {
            eprintln!("note: {note}");
        }
    }
    Ok(if r.hits.is_empty() { 1 } else { 0 })
}

/// Opens a workspace for a structural command (no model: names need none) and brings it up to date.
fn open_for_names(a: &NameCmdArgs) -> Result<Workspace> {
    let found = a.common.resolve_root(a.root.given())?;
    let mut common = a.common.clone();
    common.no_embed = true;
    let ws = common.open(&found.root)?;
    if let Some(note) = prepare_for_search(&ws, &common, !a.no_update)? {
        eprintln!("note: {note}");
    }
    Ok(ws)
}

fn cmd_def(a: DefArgs) -> Result<i32> {
    let ws = open_for_names(&a.cmd)?;
    let defs = crate::agent::definitions(&ws, &a.name, a.limit.max(1), a.budget)?;
    let mut out = std::io::stdout().lock();
    if a.cmd.json {
        let v = serde_json::json!({ "name": a.name, "definitions": defs });
        writeln!(out, "{v}")?;
    } else {
        for d in &defs {
            let name = match &d.container {
                Some(c) => format!("{c}::{}", d.symbol.as_deref().unwrap_or("")),
                None => d.symbol.clone().unwrap_or_default(),
            };
            writeln!(
                out,
                "{}:{}-{}  {} {}",
                terminal_safe(&d.path),
                d.start_line,
                d.end_line,
                d.kind,
                terminal_safe(&name)
            )?;
        }
    }
    Ok(if defs.is_empty() { 1 } else { 0 })
}

fn cmd_refs(a: RefsArgs) -> Result<i32> {
    let ws = open_for_names(&a.cmd)?;
    let q = crate::agent::references::RefQuery {
        name: a.name.clone(),
        near: a.near.clone(),
        kinds: a.kinds.clone(),
        limit: a.limit,
    };
    let r = crate::agent::references::references(&ws, &q)?;
    let mut out = std::io::stdout().lock();
    if a.cmd.json {
        writeln!(out, "{}", serde_json::to_string(&r)?)?;
    } else {
        for u in &r.references {
            let within = u
                .enclosing
                .as_ref()
                .map(|e| format!("  (in {} {})", e.kind, terminal_safe(&e.symbol)))
                .unwrap_or_default();
            writeln!(
                out,
                "{}:{}:{}  {:<6} {}{within}",
                terminal_safe(&u.path),
                u.line,
                u.column,
                u.kind,
                terminal_safe(&u.text)
            )?;
        }
        if r.total > r.references.len() {
            eprintln!(
                "note: {} more uses not shown (--limit)",
                r.total - r.references.len()
            );
        }
    }
    Ok(if r.references.is_empty() { 1 } else { 0 })
}

fn cmd_status(a: StatusArgs) -> Result<i32> {
    let found = a.common.resolve_root(a.root.given())?;
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
