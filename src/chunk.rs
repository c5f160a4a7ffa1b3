//! Pure chunking: text (and its syntax tree) to search chunks with ranges, symbol, kind and hash.
//!
//! [`analyze`] turns one file's text into [`Chunk`]s (the units that get embedded and indexed)
//! and [`Symbol`]s (every named definition, for workspace-symbol search). It never fails and
//! never loses text: every non-blank line of the file belongs to at least one chunk.
//!
//! How a file is cut:
//! - Grammar languages are parsed with tree-sitter. Each definition (function, class, impl, ...)
//!   becomes one chunk, starting at its leading doc comments and attributes. A definition longer
//!   than [`ChunkConfig::max_chars`] is split: a class-like container becomes a header chunk
//!   (signature and fields) followed by its members; anything else becomes overlapping line
//!   windows that keep its symbol and kind.
//! - Text between definitions ("glue": imports, statements, comments, constants) is merged into
//!   runs of up to `max_chars`; a run smaller than [`ChunkConfig::min_chars`] joins a neighbouring
//!   definition instead of standing alone. Two named definitions are never merged.
//! - Markdown is cut by heading section; everything else (and any file that fails to parse, or
//!   looks minified) is cut into line windows, preferably at blank lines.

use std::ops::Range;

use tree_sitter::Node;

use crate::syntax::{self, Language};

/// What a chunk or symbol is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChunkKind {
    /// A free function.
    Function,
    /// A function inside a class-like container.
    Method,
    /// A class (or object, record).
    Class,
    /// A struct or union.
    Struct,
    /// An enum.
    Enum,
    /// An interface or protocol.
    Interface,
    /// A trait (or Haskell type class).
    Trait,
    /// An impl block (or Swift extension, Haskell instance, Elixir defimpl).
    Impl,
    /// A module or namespace.
    Module,
    /// A type alias or type definition.
    Type,
    /// A constant or static.
    Constant,
    /// A macro.
    Macro,
    /// A Markdown section.
    Section,
    /// Top-level code that is not a definition (imports, statements).
    Block,
    /// A window of lines from a file without syntax.
    Window,
}

impl ChunkKind {
    /// Every kind.
    pub const ALL: [ChunkKind; 15] = [
        ChunkKind::Function,
        ChunkKind::Method,
        ChunkKind::Class,
        ChunkKind::Struct,
        ChunkKind::Enum,
        ChunkKind::Interface,
        ChunkKind::Trait,
        ChunkKind::Impl,
        ChunkKind::Module,
        ChunkKind::Type,
        ChunkKind::Constant,
        ChunkKind::Macro,
        ChunkKind::Section,
        ChunkKind::Block,
        ChunkKind::Window,
    ];

    /// The lowercase name of the kind ("function", "method", ...).
    pub fn name(&self) -> &'static str {
        match self {
            ChunkKind::Function => "function",
            ChunkKind::Method => "method",
            ChunkKind::Class => "class",
            ChunkKind::Struct => "struct",
            ChunkKind::Enum => "enum",
            ChunkKind::Interface => "interface",
            ChunkKind::Trait => "trait",
            ChunkKind::Impl => "impl",
            ChunkKind::Module => "module",
            ChunkKind::Type => "type",
            ChunkKind::Constant => "constant",
            ChunkKind::Macro => "macro",
            ChunkKind::Section => "section",
            ChunkKind::Block => "block",
            ChunkKind::Window => "window",
        }
    }

    /// The kind with this [`name`](Self::name).
    pub fn from_name(name: &str) -> Option<Self> {
        ChunkKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Whether this kind is a named code definition (everything but section, block and window).
    pub fn is_definition(&self) -> bool {
        !matches!(
            self,
            ChunkKind::Section | ChunkKind::Block | ChunkKind::Window
        )
    }

    /// Whether a definition of this kind may hold member definitions that are chunked apart.
    fn is_container(&self) -> bool {
        matches!(
            self,
            ChunkKind::Class
                | ChunkKind::Struct
                | ChunkKind::Enum
                | ChunkKind::Interface
                | ChunkKind::Trait
                | ChunkKind::Impl
                | ChunkKind::Module
        )
    }

    /// Whether functions inside a definition of this kind are methods.
    fn holds_methods(&self) -> bool {
        self.is_container() && *self != ChunkKind::Module
    }
}

/// How big chunks may get.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChunkConfig {
    /// The largest chunk, in bytes (so also an upper bound in characters). Default 1500.
    pub max_chars: usize,
    /// Glue (non-definition code) smaller than this joins a neighbouring chunk. Default 200.
    pub min_chars: usize,
    /// The most lines in one window. Default 40.
    pub window_lines: usize,
    /// How many lines consecutive windows of one split definition share. Default 5.
    pub overlap_lines: usize,
    /// Neighbouring chunks of one scope (small functions, methods, glue) are packed together while the
    /// result stays within this many bytes; 0 keeps every definition apart. Default 1500. The symbol
    /// table still lists every definition with its own range.
    pub pack_chars: usize,
}

impl Default for ChunkConfig {
    fn default() -> Self {
        ChunkConfig {
            max_chars: 1500,
            min_chars: 200,
            window_lines: 40,
            overlap_lines: 5,
            pack_chars: 1500,
        }
    }
}

impl ChunkConfig {
    /// A copy with values that cannot stall the chunker.
    fn sanitized(&self) -> ChunkConfig {
        let max_chars = self.max_chars.max(16);
        let window_lines = self.window_lines.max(1);
        ChunkConfig {
            max_chars,
            min_chars: self.min_chars.min(max_chars),
            window_lines,
            overlap_lines: self.overlap_lines.min(window_lines / 2),
            pack_chars: self.pack_chars.min(max_chars),
        }
    }
}

/// One unit of a file that is indexed and embedded on its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chunk {
    /// The first line, 1-based.
    pub start_line: u32,
    /// The last line, 1-based and inclusive.
    pub end_line: u32,
    /// The first byte of the chunk in the file text.
    pub start_byte: u32,
    /// One past the last byte of the chunk in the file text.
    pub end_byte: u32,
    /// The name of the definition this chunk is (part of), e.g. `handle`.
    pub symbol: Option<String>,
    /// What the chunk is.
    pub kind: ChunkKind,
    /// The chain of definitions this chunk sits in, itself included, e.g. `impl Server > fn handle`;
    /// empty for top-level glue.
    pub enclosing: String,
    /// The exact source text of `start_byte..end_byte`.
    pub text: String,
}

/// A named definition, for workspace-symbol search.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Symbol {
    /// The name, e.g. `handle`.
    pub name: String,
    /// What it defines.
    pub kind: ChunkKind,
    /// The name of the definition (or receiver type, or table) it belongs to, e.g. `Server`.
    pub container: Option<String>,
    /// The first line of the definition, 1-based.
    pub start_line: u32,
    /// The last line of the definition, 1-based and inclusive.
    pub end_line: u32,
    /// The first byte of the definition.
    pub start_byte: u32,
    /// One past the last byte of the definition.
    pub end_byte: u32,
}

/// Neighbouring units of one scope embedded together by the main model (see [`ChunkConfig::pack_chars`]):
/// the pack's vector stands for each of its members, which are still indexed, scored and reported one by one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pack {
    /// The members: indices into [`Analysis::chunks`], consecutive.
    pub members: std::ops::Range<usize>,
    /// The first byte of the first member.
    pub start_byte: u32,
    /// One past the last byte of the last member.
    pub end_byte: u32,
    /// The enclosing chain of the pack's largest named member (or the members' scope when none is named):
    /// what precedes the pack's text when it is embedded.
    pub enclosing: String,
}

/// Everything chunking learns about one file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Analysis {
    /// The units, in file order: each definition that fits (or each piece of one that does not), glue and
    /// windows. Units do not overlap, except the shared lines of consecutive windows of one definition.
    pub chunks: Vec<Chunk>,
    /// Every named definition at any depth, in file order.
    pub symbols: Vec<Symbol>,
    /// How the units are grouped for the main model, covering every unit once, in order (one pack per
    /// unit when packing is off).
    pub packs: Vec<Pack>,
}

impl Analysis {
    /// Whether unit `i` shares its pack with other units.
    pub fn is_packed(&self, i: usize) -> bool {
        self.packs
            .iter()
            .find(|p| p.members.contains(&i))
            .is_some_and(|p| p.members.len() > 1)
    }
}

/// Cuts one file into chunks and lists its symbols. Never fails, never panics, never loses text.
pub fn analyze(lang: Language, text: &str, cfg: &ChunkConfig) -> Analysis {
    let cfg = cfg.sanitized();
    if text.bytes().all(|b| b.is_ascii_whitespace()) {
        return Analysis::default();
    }
    let src = Source::new(text);
    let mut cx = Cx {
        src: &src,
        cfg: &cfg,
        chunks: Vec::new(),
    };
    let mut symbols = Vec::new();
    if lang == Language::Markdown {
        symbols = markdown(&mut cx);
    } else if lang.has_grammar() && !src.looks_minified() {
        match syntax::parse(lang, text) {
            Some(tree) => symbols = code(&mut cx, lang, tree.root_node()),
            None => cx.windows_chunk(0, text.len(), 0, None, ChunkKind::Window, ""),
        }
    } else {
        cx.windows_chunk(0, text.len(), 0, None, ChunkKind::Window, "");
    }
    let mut chunks = cx.chunks;
    chunks.sort_by_key(|c| (c.start_byte, c.end_byte));
    let packs = pack(&chunks, cfg.pack_chars);
    Analysis {
        chunks,
        symbols,
        packs,
    }
}

/// The scope a chunk sits in: its `enclosing` chain without its own label.
fn parent_scope(c: &Chunk) -> &str {
    if c.symbol.is_none() {
        return &c.enclosing;
    }
    c.enclosing.rsplit_once(" > ").map(|(p, _)| p).unwrap_or("")
}

/// Groups neighbouring, non-overlapping units of the same scope while the group's span stays within
/// `limit` bytes (0: every unit alone). A pack takes the enclosing chain of its largest named member.
fn pack(chunks: &[Chunk], limit: usize) -> Vec<Pack> {
    /// The pack being grown: its span, and the unit that names it (with that unit's size).
    struct Open<'c> {
        pack: Pack,
        kind: ChunkKind,
        named: Option<(&'c Chunk, usize)>,
        first: &'c Chunk,
    }
    impl Open<'_> {
        fn scope(&self) -> &str {
            match self.named {
                Some((c, _)) => parent_scope(c),
                None => parent_scope(self.first),
            }
        }
        fn close(mut self) -> Pack {
            self.pack.enclosing = match self.named {
                Some((c, _)) => c.enclosing.clone(),
                None => self.scope().to_owned(),
            };
            self.pack
        }
    }
    let mut out: Vec<Pack> = Vec::with_capacity(chunks.len());
    let mut open: Option<Open> = None;
    for (i, c) in chunks.iter().enumerate() {
        let size = (c.end_byte - c.start_byte) as usize;
        if let Some(o) = open.as_mut() {
            let fits = limit > 0
                && c.start_byte >= o.pack.end_byte
                && (c.end_byte - o.pack.start_byte) as usize <= limit
                && o.scope() == parent_scope(c)
                && c.kind != ChunkKind::Window
                && o.kind != ChunkKind::Window
                && c.kind != ChunkKind::Section
                && o.kind != ChunkKind::Section;
            if fits {
                if c.symbol.is_some() && o.named.is_none_or(|(_, n)| size > n) {
                    o.named = Some((c, size));
                    o.kind = c.kind;
                }
                o.pack.members.end = i + 1;
                o.pack.end_byte = c.end_byte;
                continue;
            }
        }
        out.extend(open.take().map(Open::close));
        open = Some(Open {
            pack: Pack {
                members: i..i + 1,
                start_byte: c.start_byte,
                end_byte: c.end_byte,
                enclosing: String::new(),
            },
            kind: c.kind,
            named: c.symbol.is_some().then_some((c, size)),
            first: c,
        });
    }
    out.extend(open.take().map(Open::close));
    out
}

/// The chunks of one file: [`analyze`] without the symbols.
pub fn chunk_file(lang: Language, text: &str, cfg: &ChunkConfig) -> Vec<Chunk> {
    analyze(lang, text, cfg).chunks
}

// ---------------------------------------------------------------------------------------------
// Text and lines.

/// The file text with its line starts, computed once.
struct Source<'a> {
    text: &'a str,
    /// Byte offset of the start of every line; `line_starts[0] == 0`.
    line_starts: Vec<usize>,
}

impl<'a> Source<'a> {
    fn new(text: &'a str) -> Self {
        let mut line_starts = Vec::with_capacity(text.len() / 32 + 1);
        line_starts.push(0);
        line_starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        Source { text, line_starts }
    }

    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    fn len(&self) -> usize {
        self.text.len()
    }

    /// The 0-based line holding byte `pos`.
    fn line_of(&self, pos: usize) -> usize {
        self.line_starts
            .partition_point(|&s| s <= pos)
            .saturating_sub(1)
    }

    fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    fn line_start(&self, line: usize) -> usize {
        self.line_starts[line]
    }

    /// The end of the line's content, before its `\n` or `\r\n`.
    fn line_end(&self, line: usize) -> usize {
        let mut end = self
            .line_starts
            .get(line + 1)
            .map_or(self.len(), |&next| next - 1);
        if end > self.line_starts[line] && self.bytes()[end - 1] == b'\r' {
            end -= 1;
        }
        end
    }

    fn is_blank(&self, range: Range<usize>) -> bool {
        self.bytes()[range].iter().all(u8::is_ascii_whitespace)
    }

    fn is_blank_line(&self, line: usize) -> bool {
        self.is_blank(self.line_start(line)..self.line_end(line))
    }

    /// Whether the text looks machine-generated on one line: syntax chunking gains nothing there.
    fn looks_minified(&self) -> bool {
        self.len() > 100_000 && self.len() / self.line_count() > 500
    }

    /// The largest char boundary at or below `pos`.
    fn floor_char(&self, mut pos: usize) -> usize {
        pos = pos.min(self.len());
        while !self.text.is_char_boundary(pos) {
            pos -= 1;
        }
        pos
    }

    /// Shrinks a range to its non-blank content, keeping the indentation of its first line.
    fn trim(&self, start: usize, end: usize) -> Option<(usize, usize)> {
        let b = self.bytes();
        let (mut s, mut e) = (start.min(self.len()), end.min(self.len()));
        while s < e && b[s].is_ascii_whitespace() {
            s += 1;
        }
        while e > s && b[e - 1].is_ascii_whitespace() {
            e -= 1;
        }
        if s >= e {
            return None;
        }
        let ls = self.line_start(self.line_of(s)).max(start);
        if ls < s && b[ls..s].iter().all(|&c| c == b' ' || c == b'\t') {
            s = ls;
        }
        Some((s, e))
    }
}

// ---------------------------------------------------------------------------------------------
// Chunk emission.

struct Cx<'s, 'a> {
    src: &'s Source<'a>,
    cfg: &'s ChunkConfig,
    chunks: Vec<Chunk>,
}

impl Cx<'_, '_> {
    fn push(
        &mut self,
        start: usize,
        end: usize,
        symbol: Option<&str>,
        kind: ChunkKind,
        enclosing: &str,
    ) {
        let Some((s, e)) = self.src.trim(start, end) else {
            return;
        };
        let (s, e) = (self.src.floor_char(s), self.src.floor_char(e));
        if s >= e {
            return;
        }
        self.chunks.push(Chunk {
            start_line: self.src.line_of(s) as u32 + 1,
            end_line: self.src.line_of(e - 1) as u32 + 1,
            start_byte: s as u32,
            end_byte: e as u32,
            symbol: symbol.map(str::to_owned),
            kind,
            enclosing: enclosing.to_owned(),
            text: self.src.text[s..e].to_owned(),
        });
    }

    /// Emits `start..end` as one chunk if it fits, else as line windows.
    fn unit(
        &mut self,
        start: usize,
        end: usize,
        overlap: usize,
        symbol: Option<&str>,
        kind: ChunkKind,
        enclosing: &str,
    ) {
        if end.saturating_sub(start) <= self.cfg.max_chars {
            self.push(start, end, symbol, kind, enclosing);
        } else {
            self.windows_chunk(start, end, overlap, symbol, kind, enclosing);
        }
    }

    fn windows_chunk(
        &mut self,
        start: usize,
        end: usize,
        overlap: usize,
        symbol: Option<&str>,
        kind: ChunkKind,
        enclosing: &str,
    ) {
        for (s, e) in windows(self.src, self.cfg, start, end, overlap) {
            self.push(s, e, symbol, kind, enclosing);
        }
    }
}

/// Cuts `start..end` into windows of at most `max_chars` bytes and `window_lines` lines, preferring
/// to end a window before a blank line; consecutive windows share `overlap` lines. A line longer
/// than `max_chars` is cut at char boundaries.
fn windows(
    src: &Source,
    cfg: &ChunkConfig,
    start: usize,
    end: usize,
    overlap: usize,
) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let Some((start, end)) = src.trim(start, end) else {
        return out;
    };
    let first = src.line_of(start);
    let last = src.line_of(end - 1);
    let line_from = |i: usize| src.line_start(i).max(start);
    let line_to = |i: usize| src.line_end(i).min(end);
    let mut i = first;
    while i <= last {
        let ws = line_from(i);
        if src.is_blank(ws..line_to(i).max(ws)) {
            i += 1;
            continue;
        }
        if line_to(i).saturating_sub(ws) > cfg.max_chars {
            // One very long line: cut it by characters.
            let mut s = ws;
            let e = line_to(i);
            while s < e {
                let mut cut = src.floor_char((s + cfg.max_chars).min(e));
                if cut <= s {
                    cut = (s + 1..=e)
                        .find(|&p| src.text.is_char_boundary(p))
                        .unwrap_or(e);
                }
                out.push((s, cut));
                s = cut;
            }
            i += 1;
            continue;
        }
        let mut j = i;
        while j < last
            && j + 2 - i <= cfg.window_lines
            && line_to(j + 1).saturating_sub(ws) <= cfg.max_chars
        {
            j += 1;
        }
        if j < last {
            // Prefer to end before a blank line in the second half of the window.
            let lo = i + (j - i) / 2 + 1;
            if let Some(k) = (lo..=j).rev().find(|&k| src.is_blank_line(k)) {
                j = k - 1;
            }
        }
        out.push((ws, line_to(j)));
        if j >= last {
            break;
        }
        i = if overlap > 0 && j + 1 - i > 2 * overlap {
            j + 1 - overlap
        } else {
            j + 1
        };
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Definitions found in a syntax tree.

/// One definition, with the range it claims in the file.
#[derive(Debug)]
struct Def {
    kind: ChunkKind,
    name: String,
    /// `fn handle`, `impl Drop for Server`, ...: used in `enclosing`.
    label: String,
    /// A container named by the definition itself (Go receiver, C++ scope, Lua table).
    qualifier: Option<String>,
    /// The definition's own node range (with wrappers such as `export`, without doc comments).
    node: Range<usize>,
    /// The claimed range: from the first doc comment or attribute to the end of the line.
    start: usize,
    end: usize,
    children: Vec<usize>,
    parent: Option<usize>,
}

/// What [`classify`] learns about a definition node.
struct DefInfo {
    kind: ChunkKind,
    keyword: &'static str,
    name: String,
    qualifier: Option<String>,
    label: Option<String>,
}

fn info(kind: ChunkKind, keyword: &'static str, name: impl Into<String>) -> Option<DefInfo> {
    let name = clean_name(&name.into());
    if name.is_empty() {
        return None;
    }
    Some(DefInfo {
        kind,
        keyword,
        name,
        qualifier: None,
        label: None,
    })
}

/// Collapses whitespace and bounds the length of a name taken from source text.
fn clean_name(raw: &str) -> String {
    let mut out = String::new();
    for word in raw.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
        if out.len() > 120 {
            let cut = (0..=120)
                .rev()
                .find(|&i| out.is_char_boundary(i))
                .unwrap_or(0);
            out.truncate(cut);
            break;
        }
    }
    out
}

struct Walker<'t, 's> {
    lang: Language,
    text: &'s str,
    root: Node<'t>,
    defs: Vec<Def>,
    /// Per node kind id: 0 not yet known, 1 may be a definition, 2 never is.
    candidate: Vec<u8>,
    /// The last top-level definition.
    last_top: Option<usize>,
}

fn code(cx: &mut Cx, lang: Language, root: Node) -> Vec<Symbol> {
    let mut w = Walker {
        lang,
        text: cx.src.text,
        root,
        defs: Vec::new(),
        candidate: Vec::new(),
        last_top: None,
    };
    w.collect(cx.src);
    let tops: Vec<usize> = (0..w.defs.len())
        .filter(|&i| w.defs[i].parent.is_none())
        .collect();
    chunk_level(cx, &w.defs, 0, cx.src.len(), &tops, "");
    w.defs
        .iter()
        .map(|d| Symbol {
            name: d.name.clone(),
            kind: d.kind,
            container: d
                .qualifier
                .clone()
                .or_else(|| d.parent.map(|p| w.defs[p].name.clone())),
            start_line: cx.src.line_of(d.node.start) as u32 + 1,
            end_line: cx.src.line_of(d.node.end.max(d.node.start + 1) - 1) as u32 + 1,
            start_byte: d.node.start as u32,
            end_byte: d.node.end as u32,
        })
        .collect()
}

impl<'t> Walker<'t, '_> {
    fn text_of(&self, node: Node) -> &str {
        self.text.get(node.byte_range()).unwrap_or("")
    }

    fn field_text(&self, node: Node, field: &str) -> Option<&str> {
        node.child_by_field_name(field).map(|n| self.text_of(n))
    }

    fn is_candidate(&mut self, node: Node) -> bool {
        let id = node.kind_id() as usize;
        if id >= self.candidate.len() {
            if id > 4096 {
                return false; // ERROR and other special ids.
            }
            self.candidate.resize(id + 1, 0);
        }
        if self.candidate[id] == 0 {
            self.candidate[id] = if candidate_kind(self.lang, node.kind()) {
                1
            } else {
                2
            };
        }
        self.candidate[id] == 1
    }

    /// Walks the whole tree once (iteratively: trees can be deep) and records every definition.
    fn collect(&mut self, src: &Source) {
        let mut cursor = self.root.walk();
        // Open definitions: (index, end byte of its node).
        let mut open: Vec<(usize, usize)> = Vec::new();
        loop {
            let node = cursor.node();
            while let Some(&(_, end)) = open.last() {
                if node.start_byte() >= end {
                    open.pop();
                } else {
                    break;
                }
            }
            let mut descend = true;
            if self.is_candidate(node) {
                let parent = open.last().map(|&(i, _)| i);
                if let Some(di) = self.classify(node, parent) {
                    if let Some(idx) = self.add_def(src, node, di, parent) {
                        let end = self.defs[idx].node.end.max(node.end_byte());
                        open.push((idx, end));
                    }
                } else if node.kind() == "signature" && self.lang == Language::Haskell {
                    descend = false;
                }
            }
            if descend && cursor.goto_first_child() {
                continue;
            }
            loop {
                if cursor.goto_next_sibling() {
                    break;
                }
                if !cursor.goto_parent() {
                    return;
                }
            }
        }
    }

    fn add_def(
        &mut self,
        src: &Source,
        node: Node<'t>,
        di: DefInfo,
        parent: Option<usize>,
    ) -> Option<usize> {
        let outer = self.outer(node);
        // Haskell functions are one node per equation: fold equations into the first.
        if self.lang == Language::Haskell
            && matches!(di.kind, ChunkKind::Function | ChunkKind::Method)
        {
            let siblings = match parent {
                Some(p) => self.defs[p].children.last().copied(),
                None => self.last_top,
            };
            if let Some(prev) = siblings {
                let d = &self.defs[prev];
                if d.name == di.name
                    && d.kind == di.kind
                    && src.is_blank(d.node.end..outer.start_byte().max(d.node.end))
                {
                    let end = outer.end_byte();
                    let d = &mut self.defs[prev];
                    d.node.end = end;
                    d.end = snap_end(src, end);
                    return None;
                }
            }
        }
        // The claimed range may not reach back into the previous definition at this level.
        let floor = match parent {
            Some(p) => self.defs[p]
                .children
                .last()
                .map_or(self.defs[p].node.start, |&c| self.defs[c].end),
            None => self.last_top.map_or(0, |t| self.defs[t].end),
        };
        let start = self.attached_start(src, outer.start_byte(), floor, &di.name);
        let start = snap_start(src, start).max(floor);
        let end = snap_end(src, outer.end_byte()).max(start);
        let label = di
            .label
            .unwrap_or_else(|| match (&di.qualifier, di.keyword) {
                (Some(q), "") => format!("{q}.{}", di.name),
                (Some(q), kw) => format!("{kw} {q}.{}", di.name),
                (None, "") => di.name.clone(),
                (None, kw) => format!("{kw} {}", di.name),
            });
        let idx = self.defs.len();
        self.defs.push(Def {
            kind: di.kind,
            name: di.name,
            label,
            qualifier: di.qualifier,
            node: outer.start_byte()..outer.end_byte(),
            start,
            end,
            children: Vec::new(),
            parent,
        });
        match parent {
            Some(p) => self.defs[p].children.push(idx),
            None => self.last_top = Some(idx),
        }
        Some(idx)
    }

    /// The node with the wrappers that belong to the definition (`export`, decorators, templates).
    fn outer(&self, mut node: Node<'t>) -> Node<'t> {
        while let Some(parent) = node.parent() {
            let take = match parent.kind() {
                "export_statement"
                | "decorated_definition"
                | "template_declaration"
                | "ambient_declaration" => true,
                "expression_statement" => self.lang.is_js_like() && parent.named_child_count() == 1,
                "lexical_declaration" | "variable_declaration" => {
                    self.lang.is_js_like() && parent.named_child_count() == 1
                }
                "type_declaration" | "const_declaration" => {
                    matches!(self.lang, Language::Go | Language::Php)
                        && parent.named_child_count() == 1
                }
                _ => false,
            };
            if !take {
                break;
            }
            node = parent;
        }
        node
    }

    /// Moves `start` back over the doc comments, attributes and signatures right before it
    /// (no blank line in between, each starting its own line), never below `floor`.
    fn attached_start(&self, src: &Source, mut start: usize, floor: usize, name: &str) -> usize {
        let b = src.bytes();
        loop {
            let mut p = start;
            let mut newlines = 0;
            while p > floor && b[p - 1].is_ascii_whitespace() {
                if b[p - 1] == b'\n' {
                    newlines += 1;
                }
                p -= 1;
            }
            if p <= floor || newlines > 1 {
                return start;
            }
            let Some(mut node) = self.root.descendant_for_byte_range(p - 1, p) else {
                return start;
            };
            let mut found: Option<Node> = None;
            loop {
                if node.end_byte() > start || node.start_byte() < floor {
                    break;
                }
                if self.is_attachable(node, name) {
                    found = Some(node);
                }
                match node.parent() {
                    Some(parent) => node = parent,
                    None => break,
                }
            }
            let Some(found) = found else { return start };
            let s = found.start_byte();
            let ls = src.line_start(src.line_of(s));
            if s >= start || !src.is_blank(ls..s) {
                return start;
            }
            start = s;
        }
    }

    fn is_attachable(&self, node: Node, name: &str) -> bool {
        let kind = node.kind();
        if kind.contains("comment") || kind == "haddock" {
            // Not a shebang line.
            return !self.text_of(node).starts_with("#!");
        }
        match (self.lang, kind) {
            (Language::Rust, "attribute_item") => true,
            (Language::CSharp, "attribute_list") => true,
            (Language::Python, "decorator") => true,
            (Language::JavaScript | Language::TypeScript | Language::Tsx, "decorator") => true,
            (Language::Haskell, "signature") => self.field_text(node, "name") == Some(name),
            (Language::Elixir, "unary_operator") => node
                .child_by_field_name("operand")
                .filter(|op| op.kind() == "call")
                .and_then(|op| self.field_text(op, "target"))
                .is_some_and(|t| {
                    matches!(
                        t,
                        "doc" | "spec" | "impl" | "deprecated" | "since" | "decorate"
                    )
                }),
            _ => false,
        }
    }

    fn fn_kind(&self, parent: Option<usize>) -> ChunkKind {
        match parent {
            Some(p) if self.defs[p].kind.holds_methods() => ChunkKind::Method,
            _ => ChunkKind::Function,
        }
    }

    fn in_function(&self, parent: Option<usize>) -> bool {
        parent.is_some_and(|p| matches!(self.defs[p].kind, ChunkKind::Function | ChunkKind::Method))
    }

    /// Whether `node` sits directly at the top of the file (below the root and the given wrappers).
    fn at_top(&self, node: Node, wrappers: &[&str]) -> bool {
        let mut n = node;
        while let Some(p) = n.parent() {
            if p.id() == self.root.id() {
                return true;
            }
            if !wrappers.contains(&p.kind()) {
                return false;
            }
            n = p;
        }
        false
    }

    /// The definition `node` is, if it is one.
    fn classify(&self, node: Node, parent: Option<usize>) -> Option<DefInfo> {
        use ChunkKind as K;
        let kind = node.kind();
        let name = |field: &str| self.field_text(node, field).unwrap_or("").to_owned();
        let fk = self.fn_kind(parent);
        let kw_fn = |k: ChunkKind, own: &'static str| -> &'static str {
            if !own.is_empty() {
                own
            } else if k == K::Method {
                "method"
            } else {
                "function"
            }
        };
        match self.lang {
            Language::Rust => match kind {
                "function_item" | "function_signature_item" => info(fk, "fn", name("name")),
                "struct_item" => info(K::Struct, "struct", name("name")),
                "union_item" => info(K::Struct, "union", name("name")),
                "enum_item" => info(K::Enum, "enum", name("name")),
                "trait_item" => info(K::Trait, "trait", name("name")),
                "type_item" => info(K::Type, "type", name("name")),
                "macro_definition" => info(K::Macro, "macro_rules!", name("name")),
                "mod_item" if node.child_by_field_name("body").is_some() => {
                    info(K::Module, "mod", name("name"))
                }
                "const_item" if !self.in_function(parent) => {
                    info(K::Constant, "const", name("name"))
                }
                "static_item" if !self.in_function(parent) => {
                    info(K::Constant, "static", name("name"))
                }
                "impl_item" => {
                    let ty = clean_name(&name("type"));
                    let mut di = info(K::Impl, "impl", ty.clone())?;
                    di.label = Some(match self.field_text(node, "trait") {
                        Some(tr) => format!("impl {} for {ty}", clean_name(tr)),
                        None => format!("impl {ty}"),
                    });
                    Some(di)
                }
                _ => None,
            },
            Language::Python => match kind {
                "function_definition" => info(fk, "def", name("name")),
                "class_definition" => info(K::Class, "class", name("name")),
                "expression_statement" if self.at_top(node, &[]) => {
                    let a = node.named_child(0).filter(|a| a.kind() == "assignment")?;
                    let left = a
                        .child_by_field_name("left")
                        .filter(|l| l.kind() == "identifier")?;
                    let n = self.text_of(left);
                    let upper = n.bytes().any(|c| c.is_ascii_uppercase())
                        && n.bytes()
                            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_');
                    if upper {
                        info(K::Constant, "", n)
                    } else {
                        None
                    }
                }
                _ => None,
            },
            Language::JavaScript | Language::TypeScript | Language::Tsx => match kind {
                "function_declaration"
                | "generator_function_declaration"
                | "function_signature" => info(K::Function, "function", name("name")),
                "method_definition" | "method_signature" | "abstract_method_signature" => {
                    info(fk, kw_fn(fk, ""), name("name"))
                }
                "class_declaration" | "abstract_class_declaration" | "class" => {
                    info(K::Class, "class", name("name"))
                }
                "interface_declaration" => info(K::Interface, "interface", name("name")),
                "enum_declaration" => info(K::Enum, "enum", name("name")),
                "type_alias_declaration" => info(K::Type, "type", name("name")),
                "internal_module" => info(K::Module, "namespace", name("name")),
                "module" => info(
                    K::Module,
                    "module",
                    name("name").trim_matches(|c| c == '"' || c == '\''),
                ),
                "variable_declarator" => {
                    let decl = node.parent()?;
                    if !self.at_top(decl, &["export_statement"]) {
                        return None;
                    }
                    let n = node
                        .child_by_field_name("name")
                        .filter(|n| n.kind() == "identifier")?;
                    let value = node.child_by_field_name("value");
                    let vk = value.map(|v| v.kind()).unwrap_or("");
                    if matches!(
                        vk,
                        "arrow_function"
                            | "function_expression"
                            | "function"
                            | "generator_function"
                    ) {
                        return info(K::Function, "function", self.text_of(n));
                    }
                    let is_const = decl.kind() == "lexical_declaration"
                        && self.text_of(decl).starts_with("const");
                    let is_require = value.is_some_and(|v| {
                        v.kind() == "call_expression"
                            && self.field_text(v, "function") == Some("require")
                    });
                    if is_const && !is_require {
                        info(K::Constant, "const", self.text_of(n))
                    } else {
                        None
                    }
                }
                _ => None,
            },
            Language::Go => match kind {
                "function_declaration" => info(K::Function, "func", name("name")),
                "method_declaration" => {
                    let mut di = info(K::Method, "func", name("name"))?;
                    di.qualifier = node
                        .child_by_field_name("receiver")
                        .and_then(|r| find_descendant(r, "type_identifier"))
                        .map(|t| self.text_of(t).to_owned());
                    Some(di)
                }
                "type_spec" => {
                    let k = match node.child_by_field_name("type").map(|t| t.kind()) {
                        Some("struct_type") => K::Struct,
                        Some("interface_type") => K::Interface,
                        _ => K::Type,
                    };
                    info(k, "type", name("name"))
                }
                "type_alias" => info(K::Type, "type", name("name")),
                "const_spec" if self.at_top(node, &["const_declaration"]) => {
                    info(K::Constant, "const", name("name"))
                }
                _ => None,
            },
            Language::Java => match kind {
                "class_declaration" => info(K::Class, "class", name("name")),
                "interface_declaration" => info(K::Interface, "interface", name("name")),
                "annotation_type_declaration" => info(K::Interface, "@interface", name("name")),
                "enum_declaration" => info(K::Enum, "enum", name("name")),
                "record_declaration" => info(K::Class, "record", name("name")),
                "method_declaration" => info(fk, kw_fn(fk, ""), name("name")),
                "constructor_declaration" | "compact_constructor_declaration" => {
                    info(K::Method, "constructor", name("name"))
                }
                _ => None,
            },
            Language::C | Language::Cpp => match kind {
                "function_definition" => {
                    let (n, q) = self.declarator_name(node)?;
                    let k = if q.is_some() { K::Method } else { fk };
                    let mut di = info(k, kw_fn(k, ""), n)?;
                    di.qualifier = q;
                    Some(di)
                }
                "struct_specifier" | "union_specifier" | "enum_specifier" | "class_specifier"
                    if node.child_by_field_name("body").is_some() =>
                {
                    let (k, kw) = match kind {
                        "struct_specifier" => (K::Struct, "struct"),
                        "union_specifier" => (K::Struct, "union"),
                        "enum_specifier" => (K::Enum, "enum"),
                        _ => (K::Class, "class"),
                    };
                    info(k, kw, name("name"))
                }
                "type_definition" => {
                    let d = node.child_by_field_name("declarator")?;
                    info(K::Type, "typedef", self.text_of(innermost_declarator(d)))
                }
                "namespace_definition" => {
                    let n = name("name");
                    info(
                        K::Module,
                        "namespace",
                        if n.is_empty() {
                            "(anonymous)".to_owned()
                        } else {
                            n
                        },
                    )
                }
                "alias_declaration" => info(K::Type, "using", name("name")),
                "concept_definition" => info(K::Type, "concept", name("name")),
                "preproc_def" if self.at_top(node, &[]) => {
                    info(K::Constant, "#define", name("name"))
                }
                "preproc_function_def" => info(K::Macro, "#define", name("name")),
                _ => None,
            },
            Language::CSharp => match kind {
                "class_declaration" => info(K::Class, "class", name("name")),
                "struct_declaration" => info(K::Struct, "struct", name("name")),
                "interface_declaration" => info(K::Interface, "interface", name("name")),
                "enum_declaration" => info(K::Enum, "enum", name("name")),
                "record_declaration" => info(K::Class, "record", name("name")),
                "namespace_declaration" | "file_scoped_namespace_declaration" => {
                    info(K::Module, "namespace", name("name"))
                }
                "delegate_declaration" => info(K::Type, "delegate", name("name")),
                "method_declaration" | "local_function_statement" => {
                    info(fk, kw_fn(fk, ""), name("name"))
                }
                "constructor_declaration" => info(K::Method, "constructor", name("name")),
                "destructor_declaration" => {
                    info(K::Method, "destructor", format!("~{}", name("name")))
                }
                _ => None,
            },
            Language::Ruby => match kind {
                "class" => info(K::Class, "class", name("name")),
                "module" => info(K::Module, "module", name("name")),
                "method" => info(fk, "def", name("name")),
                "singleton_method" => {
                    let mut di = info(K::Method, "def", name("name"))?;
                    di.label = Some(format!("def {}.{}", name("object"), di.name));
                    Some(di)
                }
                "assignment" if self.at_top(node, &[]) => {
                    let left = node
                        .child_by_field_name("left")
                        .filter(|l| l.kind() == "constant")?;
                    info(K::Constant, "", self.text_of(left))
                }
                _ => None,
            },
            Language::Php => match kind {
                "class_declaration" => info(K::Class, "class", name("name")),
                "interface_declaration" => info(K::Interface, "interface", name("name")),
                "trait_declaration" => info(K::Trait, "trait", name("name")),
                "enum_declaration" => info(K::Enum, "enum", name("name")),
                "namespace_definition" if node.child_by_field_name("body").is_some() => {
                    info(K::Module, "namespace", name("name"))
                }
                "function_definition" => info(K::Function, "function", name("name")),
                "method_declaration" => info(fk, "function", name("name")),
                "const_element" if self.at_top(node, &["const_declaration"]) => {
                    let n = node.named_child(0).filter(|n| n.kind() == "name")?;
                    info(K::Constant, "const", self.text_of(n))
                }
                _ => None,
            },
            Language::Kotlin => match kind {
                "class_declaration" => {
                    let mut c = node.walk();
                    let is_interface = node
                        .children(&mut c)
                        .any(|ch| ch.kind() == "interface" && !ch.is_named());
                    let is_enum = node
                        .named_children(&mut node.walk())
                        .filter(|ch| ch.kind() == "modifiers")
                        .any(|m| self.text_of(m).split_whitespace().any(|w| w == "enum"));
                    let n = name("name");
                    if is_interface {
                        info(K::Interface, "interface", n)
                    } else if is_enum {
                        info(K::Enum, "enum class", n)
                    } else {
                        info(K::Class, "class", n)
                    }
                }
                "object_declaration" => info(K::Class, "object", name("name")),
                "companion_object" => {
                    let n = name("name");
                    info(
                        K::Class,
                        "companion object",
                        if n.is_empty() {
                            "Companion".to_owned()
                        } else {
                            n
                        },
                    )
                }
                "function_declaration" => info(fk, "fun", name("name")),
                "type_alias" => info(K::Type, "typealias", name("type")),
                "property_declaration" if self.at_top(node, &[]) => {
                    let v = find_descendant(node, "variable_declaration")?;
                    let id = v.named_child(0).filter(|n| n.kind() == "identifier")?;
                    info(K::Constant, "val", self.text_of(id))
                }
                _ => None,
            },
            Language::Scala => match kind {
                "class_definition" => info(K::Class, "class", name("name")),
                "object_definition" => info(K::Class, "object", name("name")),
                "trait_definition" => info(K::Trait, "trait", name("name")),
                "enum_definition" => info(K::Enum, "enum", name("name")),
                "package_object" => info(K::Module, "package object", name("name")),
                "function_definition" | "function_declaration" => info(fk, "def", name("name")),
                "type_definition" => info(K::Type, "type", name("name")),
                "val_definition" if self.at_top(node, &[]) => {
                    let p = node
                        .child_by_field_name("pattern")
                        .filter(|p| p.kind() == "identifier")?;
                    info(K::Constant, "val", self.text_of(p))
                }
                _ => None,
            },
            Language::Swift => match kind {
                "class_declaration" => {
                    let (k, kw) = match self.field_text(node, "declaration_kind") {
                        Some("struct") => (K::Struct, "struct"),
                        Some("enum") => (K::Enum, "enum"),
                        Some("extension") => (K::Impl, "extension"),
                        Some("actor") => (K::Class, "actor"),
                        _ => (K::Class, "class"),
                    };
                    info(k, kw, name("name"))
                }
                "protocol_declaration" => info(K::Interface, "protocol", name("name")),
                "function_declaration" | "protocol_function_declaration" => {
                    info(fk, "func", name("name"))
                }
                "init_declaration" => info(K::Method, "", "init"),
                "deinit_declaration" => info(K::Method, "", "deinit"),
                "typealias_declaration" => info(K::Type, "typealias", name("name")),
                _ => None,
            },
            Language::Elixir => {
                if kind != "call" {
                    return None;
                }
                let target = self.field_text(node, "target")?;
                let (k, kw) = match target {
                    "defmodule" => (K::Module, "defmodule"),
                    "defprotocol" => (K::Interface, "defprotocol"),
                    "defimpl" => (K::Impl, "defimpl"),
                    "def" => (K::Function, "def"),
                    "defp" => (K::Function, "defp"),
                    "defmacro" => (K::Macro, "defmacro"),
                    "defmacrop" => (K::Macro, "defmacrop"),
                    "defguard" => (K::Function, "defguard"),
                    "defguardp" => (K::Function, "defguardp"),
                    "defdelegate" => (K::Function, "defdelegate"),
                    _ => return None,
                };
                let args = node
                    .named_children(&mut node.walk())
                    .find(|c| c.kind() == "arguments")?;
                let mut first = args.named_child(0)?;
                if first.kind() == "binary_operator" {
                    first = first.child_by_field_name("left")?;
                }
                let n = match first.kind() {
                    "call" => self.field_text(first, "target")?,
                    _ => self.text_of(first),
                };
                info(k, kw, n)
            }
            Language::Haskell => match kind {
                "function" | "bind" => info(fk, "", name("name")),
                "signature"
                    if node
                        .parent()
                        .is_some_and(|p| p.kind() == "class_declarations") =>
                {
                    info(K::Method, "", name("name"))
                }
                "data_type" => info(K::Type, "data", name("name")),
                "newtype" => info(K::Type, "newtype", name("name")),
                "type_synomym" | "type_synonym" => info(K::Type, "type", name("name")),
                "class" => info(K::Trait, "class", name("name")),
                "instance" => {
                    let full = format!("{} {}", name("name"), name("patterns"));
                    info(K::Impl, "instance", full)
                }
                _ => None,
            },
            Language::Lua => match kind {
                "function_declaration" => {
                    let n = node.child_by_field_name("name")?;
                    match n.kind() {
                        "dot_index_expression" => {
                            let mut di =
                                info(K::Function, "function", self.field_text(n, "field")?)?;
                            di.qualifier = self.field_text(n, "table").map(str::to_owned);
                            Some(di)
                        }
                        "method_index_expression" => {
                            let mut di =
                                info(K::Method, "function", self.field_text(n, "method")?)?;
                            di.qualifier = self.field_text(n, "table").map(str::to_owned);
                            di.label = Some(format!(
                                "function {}:{}",
                                di.qualifier.as_deref().unwrap_or(""),
                                di.name
                            ));
                            Some(di)
                        }
                        _ => info(K::Function, "function", self.text_of(n)),
                    }
                }
                _ => None,
            },
            Language::Bash => match kind {
                "function_definition" => info(K::Function, "function", name("name")),
                _ => None,
            },
            Language::Zig => match kind {
                "function_declaration" => info(fk, "fn", name("name")),
                "test_declaration" => {
                    let n = node
                        .named_children(&mut node.walk())
                        .find(|c| matches!(c.kind(), "string" | "identifier"))
                        .map(|c| self.text_of(c).trim_matches('"').to_owned())
                        .unwrap_or_else(|| "test".to_owned());
                    info(K::Function, "test", n)
                }
                "variable_declaration" => {
                    let mut c = node.walk();
                    let children: Vec<Node> = node.named_children(&mut c).collect();
                    let id = children.iter().find(|c| c.kind() == "identifier")?;
                    let n = self.text_of(*id);
                    for ch in &children {
                        let (k, kw) = match ch.kind() {
                            "struct_declaration" => (K::Struct, "struct"),
                            "enum_declaration" => (K::Enum, "enum"),
                            "union_declaration" => (K::Struct, "union"),
                            "opaque_declaration" => (K::Struct, "opaque"),
                            "error_set_declaration" => (K::Type, "error"),
                            _ => continue,
                        };
                        return info(k, kw, n);
                    }
                    let is_const = self
                        .text_of(node)
                        .trim_start_matches("pub ")
                        .starts_with("const");
                    let is_import = children.iter().any(|c| c.kind() == "builtin_function");
                    if is_const && !is_import && !self.in_function(parent) && self.at_top(node, &[])
                    {
                        info(K::Constant, "const", n)
                    } else {
                        None
                    }
                }
                _ => None,
            },
            _ => None,
        }
    }

    /// The name of a C/C++ function from its declarator chain, with its `Scope::` if qualified.
    fn declarator_name(&self, node: Node) -> Option<(String, Option<String>)> {
        let d = innermost_declarator(node.child_by_field_name("declarator")?);
        if d.kind() == "qualified_identifier" {
            let mut n = d;
            let mut scopes = Vec::new();
            while n.kind() == "qualified_identifier" {
                if let Some(s) = n.child_by_field_name("scope") {
                    scopes.push(self.text_of(s).to_owned());
                }
                n = n.child_by_field_name("name")?;
            }
            return Some((self.text_of(n).to_owned(), Some(scopes.join("::"))));
        }
        Some((self.text_of(d).to_owned(), None))
    }
}

/// Follows `declarator` fields (pointer, reference, function, array declarators) to the name.
fn innermost_declarator(mut node: Node) -> Node {
    for _ in 0..64 {
        let next = match node.child_by_field_name("declarator") {
            Some(n) => n,
            None if matches!(
                node.kind(),
                "reference_declarator" | "parenthesized_declarator" | "attributed_declarator"
            ) =>
            {
                match node.named_child(0) {
                    Some(n) => n,
                    None => break,
                }
            }
            None => break,
        };
        node = next;
    }
    node
}

/// The first descendant of `node` (itself included) with this kind, breadth-first, bounded.
fn find_descendant<'t>(node: Node<'t>, kind: &str) -> Option<Node<'t>> {
    let mut queue = std::collections::VecDeque::from([node]);
    let mut seen = 0;
    while let Some(n) = queue.pop_front() {
        if n.kind() == kind {
            return Some(n);
        }
        seen += 1;
        if seen > 256 {
            return None;
        }
        queue.extend(n.named_children(&mut n.walk()));
    }
    None
}

/// Node kinds that [`Walker::classify`] looks at, per language.
fn candidate_kind(lang: Language, kind: &str) -> bool {
    let kinds: &[&str] = match lang {
        Language::Rust => &[
            "function_item",
            "function_signature_item",
            "struct_item",
            "union_item",
            "enum_item",
            "trait_item",
            "type_item",
            "macro_definition",
            "mod_item",
            "const_item",
            "static_item",
            "impl_item",
        ],
        Language::Python => &[
            "function_definition",
            "class_definition",
            "expression_statement",
        ],
        Language::JavaScript | Language::TypeScript | Language::Tsx => &[
            "function_declaration",
            "generator_function_declaration",
            "function_signature",
            "method_definition",
            "method_signature",
            "abstract_method_signature",
            "class_declaration",
            "abstract_class_declaration",
            "class",
            "interface_declaration",
            "enum_declaration",
            "type_alias_declaration",
            "internal_module",
            "module",
            "variable_declarator",
        ],
        Language::Go => &[
            "function_declaration",
            "method_declaration",
            "type_spec",
            "type_alias",
            "const_spec",
        ],
        Language::Java => &[
            "class_declaration",
            "interface_declaration",
            "annotation_type_declaration",
            "enum_declaration",
            "record_declaration",
            "method_declaration",
            "constructor_declaration",
            "compact_constructor_declaration",
        ],
        Language::C | Language::Cpp => &[
            "function_definition",
            "struct_specifier",
            "union_specifier",
            "enum_specifier",
            "class_specifier",
            "type_definition",
            "namespace_definition",
            "alias_declaration",
            "concept_definition",
            "preproc_def",
            "preproc_function_def",
        ],
        Language::CSharp => &[
            "class_declaration",
            "struct_declaration",
            "interface_declaration",
            "enum_declaration",
            "record_declaration",
            "namespace_declaration",
            "file_scoped_namespace_declaration",
            "delegate_declaration",
            "method_declaration",
            "local_function_statement",
            "constructor_declaration",
            "destructor_declaration",
        ],
        Language::Ruby => &[
            "class",
            "module",
            "method",
            "singleton_method",
            "assignment",
        ],
        Language::Php => &[
            "class_declaration",
            "interface_declaration",
            "trait_declaration",
            "enum_declaration",
            "namespace_definition",
            "function_definition",
            "method_declaration",
            "const_element",
        ],
        Language::Kotlin => &[
            "class_declaration",
            "object_declaration",
            "companion_object",
            "function_declaration",
            "type_alias",
            "property_declaration",
        ],
        Language::Scala => &[
            "class_definition",
            "object_definition",
            "trait_definition",
            "enum_definition",
            "package_object",
            "function_definition",
            "function_declaration",
            "type_definition",
            "val_definition",
        ],
        Language::Swift => &[
            "class_declaration",
            "protocol_declaration",
            "function_declaration",
            "protocol_function_declaration",
            "init_declaration",
            "deinit_declaration",
            "typealias_declaration",
        ],
        Language::Elixir => &["call"],
        Language::Haskell => &[
            "function",
            "bind",
            "signature",
            "data_type",
            "newtype",
            "type_synomym",
            "type_synonym",
            "class",
            "instance",
        ],
        Language::Lua => &["function_declaration"],
        Language::Bash => &["function_definition"],
        Language::Zig => &[
            "function_declaration",
            "test_declaration",
            "variable_declaration",
        ],
        _ => &[],
    };
    kinds.contains(&kind)
}

impl Language {
    fn is_js_like(&self) -> bool {
        matches!(
            self,
            Language::JavaScript | Language::TypeScript | Language::Tsx
        )
    }
}

/// Moves a start to its line start when only indentation precedes it.
fn snap_start(src: &Source, start: usize) -> usize {
    let ls = src.line_start(src.line_of(start));
    if start - ls <= 256
        && src.bytes()[ls..start]
            .iter()
            .all(|&c| c == b' ' || c == b'\t')
    {
        ls
    } else {
        start
    }
}

/// Moves an end back over trailing whitespace, then forward over a trailing `;` or `,` to the
/// end of its line when nothing else follows on that line.
fn snap_end(src: &Source, end: usize) -> usize {
    let b = src.bytes();
    let mut e = end.min(src.len());
    while e > 0 && b[e - 1].is_ascii_whitespace() {
        e -= 1;
    }
    let le = src.line_end(src.line_of(e.max(1) - 1).max(src.line_of(e)));
    if le >= e
        && le - e <= 256
        && b[e..le]
            .iter()
            .all(|&c| matches!(c, b' ' | b'\t' | b';' | b','))
    {
        let mut x = le;
        while x > e && matches!(b[x - 1], b' ' | b'\t') {
            x -= 1;
        }
        x
    } else {
        e
    }
}

// ---------------------------------------------------------------------------------------------
// From definitions to chunks.

enum Piece {
    Def(usize),
    /// Non-definition text, possibly holding constants (which count as glue).
    Glue {
        start: usize,
        end: usize,
        consts: Vec<usize>,
    },
}

fn is_glue_def(d: &Def) -> bool {
    d.kind == ChunkKind::Constant
}

/// Chunks `start..end`, which holds the definitions `defs` (in order) and glue around them.
fn chunk_level(cx: &mut Cx, all: &[Def], start: usize, end: usize, defs: &[usize], ctx: &str) {
    let src = cx.src;
    // 1. Pieces: definitions and the glue between them.
    let mut pieces: Vec<Piece> = Vec::new();
    let mut pos = start;
    let add_glue = |pieces: &mut Vec<Piece>, s: usize, e: usize, c: Option<usize>| {
        if e > s && !src.is_blank(s..e) {
            if let Some(Piece::Glue { end, consts, .. }) = pieces.last_mut() {
                *end = e;
                consts.extend(c);
                return;
            }
            pieces.push(Piece::Glue {
                start: s,
                end: e,
                consts: c.into_iter().collect(),
            });
        }
    };
    for &i in defs {
        let d = &all[i];
        let (ds, de) = (d.start.max(pos), d.end.min(end));
        if ds >= de {
            continue;
        }
        add_glue(&mut pieces, pos, ds, None);
        if is_glue_def(d) {
            add_glue(&mut pieces, ds, de, Some(i));
        } else {
            pieces.push(Piece::Def(i));
        }
        pos = de;
    }
    add_glue(&mut pieces, pos, end, None);

    // 2. Definitions that fit stay whole; glue runs are cut to max_chars.
    enum Out {
        One {
            start: usize,
            end: usize,
            def: usize,
        },
        Many,
        Glue {
            start: usize,
            end: usize,
            consts: Vec<usize>,
        },
    }
    let mut outs: Vec<Out> = Vec::new();
    for piece in &pieces {
        match piece {
            &Piece::Def(i) => {
                let d = &all[i];
                if d.end - d.start <= cx.cfg.max_chars {
                    outs.push(Out::One {
                        start: d.start,
                        end: d.end,
                        def: i,
                    });
                } else {
                    outs.push(Out::Many);
                    split_def(cx, all, d, ctx);
                }
            }
            Piece::Glue { start, end, consts } => {
                for (s, e) in glue_runs(src, cx.cfg, *start, *end) {
                    let inside: Vec<usize> = consts
                        .iter()
                        .copied()
                        .filter(|&c| all[c].start >= s && all[c].end <= e)
                        .collect();
                    outs.push(Out::Glue {
                        start: s,
                        end: e,
                        consts: inside,
                    });
                }
            }
        }
    }

    // 3. Small glue joins the previous definition if it fits, else the next one.
    let max = cx.cfg.max_chars;
    let min = cx.cfg.min_chars;
    let mut absorbed = vec![false; outs.len()];
    for k in 0..outs.len() {
        let Out::Glue {
            start: gs,
            end: ge,
            ref consts,
        } = outs[k]
        else {
            continue;
        };
        // Glue holding constants stays apart so that no definition hides their names.
        if ge - gs >= min || !consts.is_empty() {
            continue;
        }
        if k > 0
            && let Out::One { start, end, .. } = &mut outs[k - 1]
            && ge - *start <= max
        {
            *end = ge;
            absorbed[k] = true;
            continue;
        }
        if k + 1 < outs.len()
            && let Out::One { start, end, .. } = &mut outs[k + 1]
            && *end - gs <= max
        {
            *start = gs;
            absorbed[k] = true;
        }
    }
    for (k, out) in outs.iter().enumerate() {
        match out {
            Out::One { start, end, def } => {
                let d = &all[*def];
                let enclosing = join(ctx, &d.label);
                cx.push(*start, *end, Some(&d.name), d.kind, &enclosing);
            }
            Out::Glue { start, end, consts } if !absorbed[k] => {
                if let [only] = consts[..] {
                    let d = &all[only];
                    cx.push(*start, *end, Some(&d.name), d.kind, &join(ctx, &d.label));
                } else {
                    cx.push(*start, *end, None, ChunkKind::Block, ctx);
                }
            }
            _ => {}
        }
    }
}

/// Cuts glue `start..end` into runs of at most `max_chars`, cutting between lines (preferably at
/// blank lines).
fn glue_runs(src: &Source, cfg: &ChunkConfig, start: usize, end: usize) -> Vec<(usize, usize)> {
    if end - start <= cfg.max_chars {
        return vec![(start, end)];
    }
    windows(src, cfg, start, end, 0)
}

/// Chunks a definition too big for one chunk.
fn split_def(cx: &mut Cx, all: &[Def], d: &Def, ctx: &str) {
    let enclosing = join(ctx, &d.label);
    let members: Vec<usize> = d
        .children
        .iter()
        .copied()
        .filter(|&c| all[c].start >= d.start && all[c].end <= d.end)
        .collect();
    // The header runs to the first member that is not glue (constants stay in the header).
    let first_member = members.iter().position(|&c| !is_glue_def(&all[c]));
    if let (true, Some(fm)) = (d.kind.is_container(), first_member) {
        let members = &members[fm..];
        let first = all[members[0]].start;
        cx.unit(d.start, first, 0, Some(&d.name), d.kind, &enclosing);
        chunk_level(cx, all, first, d.end, members, &enclosing);
    } else {
        let overlap = cx.cfg.overlap_lines;
        cx.windows_chunk(d.start, d.end, overlap, Some(&d.name), d.kind, &enclosing);
    }
}

fn join(ctx: &str, label: &str) -> String {
    if ctx.is_empty() {
        label.to_owned()
    } else {
        format!("{ctx} > {label}")
    }
}

// ---------------------------------------------------------------------------------------------
// Markdown.

fn markdown(cx: &mut Cx) -> Vec<Symbol> {
    let src = cx.src;
    // Headings: (line, level, text).
    let mut heads: Vec<(usize, usize, String)> = Vec::new();
    let mut fence: Option<(u8, usize)> = None;
    for line in 0..src.line_count() {
        let raw = &src.text[src.line_start(line)..src.line_end(line)];
        let indent = raw.len() - raw.trim_start_matches(' ').len();
        let body = raw.trim_start_matches(' ');
        let fb = body.as_bytes().first().copied();
        if indent <= 3 && matches!(fb, Some(b'`' | b'~')) {
            let c = fb.unwrap_or(b'`');
            let n = body.bytes().take_while(|&x| x == c).count();
            if n >= 3 {
                match fence {
                    None => fence = Some((c, n)),
                    Some((fc, fnn)) if fc == c && n >= fnn && body[n..].trim().is_empty() => {
                        fence = None
                    }
                    _ => {}
                }
                continue;
            }
        }
        if fence.is_some() || indent > 3 || !body.starts_with('#') {
            continue;
        }
        let level = body.bytes().take_while(|&x| x == b'#').count();
        let rest = &body[level..];
        if level > 6 || !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
            continue;
        }
        let title = rest.trim().trim_end_matches('#').trim_end();
        heads.push((line, level, clean_name(title)));
    }
    let mut symbols = Vec::new();
    let first_head = heads.first().map_or(src.len(), |h| src.line_start(h.0));
    cx.windows_chunk(0, first_head, 0, None, ChunkKind::Block, "");
    let mut path: Vec<(usize, String)> = Vec::new();
    for (k, (line, level, title)) in heads.iter().enumerate() {
        let start = src.line_start(*line);
        let end = heads.get(k + 1).map_or(src.len(), |h| src.line_start(h.0));
        while path.last().is_some_and(|(l, _)| l >= level) {
            path.pop();
        }
        let container = path.last().map(|(_, t)| t.clone());
        path.push((*level, title.clone()));
        let enclosing = path
            .iter()
            .map(|(_, t)| t.as_str())
            .collect::<Vec<_>>()
            .join(" > ");
        let symbol = if title.is_empty() {
            None
        } else {
            Some(title.as_str())
        };
        cx.unit(start, end, 0, symbol, ChunkKind::Section, &enclosing);
        // The symbol spans the section with its subsections.
        let full_end = heads[k + 1..]
            .iter()
            .find(|h| h.1 <= *level)
            .map_or(src.len(), |h| src.line_start(h.0));
        if let (Some(name), Some((s, e))) = (symbol, src.trim(start, full_end)) {
            symbols.push(Symbol {
                name: name.to_owned(),
                kind: ChunkKind::Section,
                container,
                start_line: src.line_of(s) as u32 + 1,
                end_line: src.line_of(e - 1) as u32 + 1,
                start_byte: s as u32,
                end_byte: e as u32,
            });
        }
    }
    symbols
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One line per chunk (`lines kind symbol | enclosing`), then one per symbol
    /// (`lines kind name < container`).
    fn unpacked() -> ChunkConfig {
        ChunkConfig {
            pack_chars: 0,
            ..ChunkConfig::default()
        }
    }

    #[test]
    fn small_neighbours_share_a_pack_but_stay_units_of_their_own() {
        let text = "use std::io;\n\nfn a() -> u8 {\n    1\n}\n\nfn bb() -> u8 {\n    let x = 2;\n    x\n}\n\nstruct S;\n\nimpl S {\n    fn m(&self) {}\n}\n";
        let a = analyze(Language::Rust, text, &ChunkConfig::default());
        // Every definition is its own unit, with its own range and name.
        let units: Vec<(u32, u32, Option<&str>)> = a
            .chunks
            .iter()
            .map(|c| (c.start_line, c.end_line, c.symbol.as_deref()))
            .collect();
        assert_eq!(
            units,
            vec![
                (1, 5, Some("a")),
                (7, 10, Some("bb")),
                (12, 12, Some("S")),
                (14, 16, Some("S")),
            ],
            "{:#?}",
            a.chunks
        );
        // One pack holds them all, embedded as one text under the largest definition's chain.
        assert_eq!(
            a.packs,
            vec![Pack {
                members: 0..4,
                start_byte: 0,
                end_byte: text.trim_end().len() as u32,
                enclosing: "fn bb".into(),
            }]
        );
        assert!(a.is_packed(2));
        let names: Vec<&str> = a.symbols.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, vec!["a", "bb", "S", "S", "m"]);
        // A limit below the total makes several packs, each within the limit, covering every unit once.
        let small = ChunkConfig {
            pack_chars: 40,
            ..ChunkConfig::default()
        };
        let a = analyze(Language::Rust, text, &small);
        assert!(a.packs.len() > 1);
        let mut next = 0;
        for p in &a.packs {
            assert_eq!(p.members.start, next);
            next = p.members.end;
            assert!(
                p.members.len() == 1 || p.end_byte - p.start_byte <= 40,
                "{p:?}"
            );
        }
        assert_eq!(next, a.chunks.len());
        // Without packing every unit is its own pack.
        let a = analyze(Language::Rust, text, &unpacked());
        assert_eq!(a.packs.len(), a.chunks.len());
        assert!(!a.is_packed(0));
    }

    fn render(a: &Analysis) -> String {
        let mut out = String::new();
        for c in &a.chunks {
            let sym = c.symbol.as_deref().unwrap_or("-");
            out.push_str(&format!(
                "{}-{} {} {} | {}\n",
                c.start_line,
                c.end_line,
                c.kind.name(),
                sym,
                c.enclosing
            ));
        }
        out.push_str("--\n");
        for s in &a.symbols {
            let container = s.container.as_deref().unwrap_or("-");
            out.push_str(&format!(
                "{}-{} {} {} < {}\n",
                s.start_line,
                s.end_line,
                s.kind.name(),
                s.name,
                container
            ));
        }
        out
    }

    fn check(lang: Language, text: &str, expect: &str) {
        let a = analyze(lang, text, &unpacked());
        assert_invariants(text, &a);
        let got = render(&a);
        assert!(
            got == expect.trim_start_matches('\n'),
            "{lang}: chunks differ\n--- got\n{got}--- want\n{expect}"
        );
    }

    /// Like [`check`], and also with chunks small enough to split every class into its members:
    /// `split` lists those chunks.
    fn check_split(lang: Language, text: &str, expect: &str, split: &str) {
        check(lang, text, expect);
        let cfg = ChunkConfig {
            max_chars: 160,
            min_chars: 40,
            ..unpacked()
        };
        let a = analyze(lang, text, &cfg);
        assert_invariants(text, &a);
        let got = render(&a);
        let got = got.split("--\n").next().unwrap_or("");
        let want = split.trim_start_matches('\n');
        assert!(
            got == want,
            "{lang}: split chunks differ\n--- got\n{got}--- want\n{want}"
        );
    }

    /// Every non-blank line is in a chunk; each chunk's text is its byte range; lines agree with bytes.
    fn assert_invariants(text: &str, a: &Analysis) {
        let src = Source::new(text);
        let mut covered = vec![false; src.line_count()];
        for c in &a.chunks {
            let (s, e) = (c.start_byte as usize, c.end_byte as usize);
            assert!(s < e && e <= text.len(), "bad range {s}..{e}");
            assert_eq!(c.text, text[s..e], "chunk text is not its range");
            assert_eq!(c.start_line as usize, src.line_of(s) + 1);
            assert_eq!(c.end_line as usize, src.line_of(e - 1) + 1);
            for l in c.start_line..=c.end_line {
                covered[l as usize - 1] = true;
            }
        }
        for (line, ok) in covered.iter().enumerate() {
            if !ok {
                assert!(
                    src.is_blank_line(line),
                    "line {} is in no chunk: {:?}",
                    line + 1,
                    &text[src.line_start(line)..src.line_end(line)]
                );
            }
        }
        for s in &a.symbols {
            assert!(s.start_byte < s.end_byte && s.end_byte as usize <= text.len());
            assert!(s.start_line <= s.end_line);
        }
        // Packs cover every unit once, in order, and span their members.
        let mut next = 0;
        for p in &a.packs {
            assert_eq!(p.members.start, next, "{:?}", a.packs);
            assert!(p.members.end > p.members.start);
            next = p.members.end;
            assert_eq!(p.start_byte, a.chunks[p.members.start].start_byte);
            assert_eq!(p.end_byte, a.chunks[p.members.end - 1].end_byte);
        }
        assert_eq!(next, a.chunks.len());
    }

    const RUST: &str = r###"use std::io;

/// A server.
#[derive(Debug)]
pub struct Server {
    port: u16,
}

impl Server {
    /// Creates a server.
    pub fn new(port: u16) -> Self {
        Server { port }
    }

    fn handle(&self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for Server { fn drop(&mut self) {} }

trait Greet { fn hi(&self); }
enum Color { Red, Green }
mod inner { pub fn f() {} }
type Id = u32;
const MAX: usize = 10;
static NAME: &str = "x";
macro_rules! m { () => {} }

// Starts it.
fn main() {
    let s = Server::new(1);
}
"###;

    const PYTHON: &str = r###"import os


class Greeter:
    """Greets people."""

    def __init__(self, name):
        self.name = name

    @staticmethod
    def hello(x):
        return x


# Entry point.
def main():
    print(Greeter("a"))

MAX = 3
"###;

    const JAVASCRIPT: &str = r###"import x from 'x';

/** A greeter. */
export class Greeter {
  constructor(name) { this.name = name; }
  hello() { return 1; }
}

// Main.
function main() { return new Greeter('a'); }
const helper = () => 2;
const LIMIT = 5;
export default function named() {}
"###;

    const TYPESCRIPT: &str = r###"/** Shape. */
export interface Shape { area(): number; }
type Id = string;
enum Dir { Up, Down }
namespace NS { export const a = 1; }
@Component({})
export class Circle implements Shape {
  constructor(private r: number) {}
  area(): number { return 3 * this.r; }
}
function f(x: number): number { return x; }
declare module "m" { }
abstract class A { abstract g(): void; }
"###;

    const TSX: &str = r###"import React from "react";

/** Props of the button. */
interface ButtonProps {
  label: string;
}

export class Panel extends React.Component<ButtonProps> {
  render() {
    return <div>{this.props.label}</div>;
  }

  close(): void {}
}

// A button.
export function Button({ label }: ButtonProps) {
  return <button>{label}</button>;
}
"###;

    const GO: &str = r###"package main

import "fmt"

// Server serves.
type Server struct {
	port int
}

// Start starts.
func (s *Server) Start() error {
	return nil
}

func (s Server) Stop() {}

type Handler interface { Serve() }
type Alias = int
const Max = 3
var global = 1

func main() {
	fmt.Println("hi")
}
"###;

    const JAVA: &str = r###"package a;

import java.util.List;

/** A greeter. */
@Deprecated
public class Greeter {
    private String name;

    /** Make one. */
    public Greeter(String name) { this.name = name; }

    @Override
    public String toString() { return name; }
}

interface Shape { double area(); }
enum Color { RED, GREEN }
record Point(int x, int y) {}
"###;

    const C: &str = r###"#include <stdio.h>
#define MAX 10
#define SQ(x) ((x)*(x))

/* A point. */
struct point {
    int x;
};

typedef struct { int a; } pair_t;
enum color { RED };

// Adds.
static int add(int a, int b) {
    return a + b;
}

int *make(void) { return 0; }
int main(void) { return add(1, 2); }
"###;

    const CPP: &str = r###"#include <string>

namespace app {

/// A server.
class Server {
public:
    Server(int p) : port(p) {}
    void start();
    int port;
};

void Server::start() {}

template <typename T>
T max(T a, T b) { return a > b ? a : b; }

struct S { int f() { return 1; } };
}

using Id = int;
int main() { return 0; }
"###;

    const CSHARP: &str = r###"using System;

namespace App {
    /// <summary>A greeter.</summary>
    [Serializable]
    public class Greeter {
        private string name;
        public Greeter(string n) { name = n; }
        public string Hello() { return name; }
        public int Count { get; set; }
    }
    interface IShape { double Area(); }
    struct P { int x; }
    enum Color { Red }
    record R(int A);
}
"###;

    const RUBY: &str = r###"require 'json'

# A greeter.
class Greeter
  def initialize(name)
    @name = name
  end

  def self.make
    new('a')
  end
end

module Util
  def helper; end
end

def main
  puts 1
end
"###;

    const PHP: &str = r###"<?php
namespace App;

use Foo\Bar;

/** A greeter. */
#[Attr]
class Greeter {
    private $name;
    public function __construct($name) { $this->name = $name; }
    public function hello() { return 1; }
}

interface Shape { function area(); }
trait T { function t() {} }
enum E { case A; }
const X = 1;
function main() { return 1; }
"###;

    const KOTLIN: &str = r###"package app

import kotlin.math.max

/** A greeter. */
@Deprecated("old")
class Greeter(val name: String) {
    fun hello(): String = name

    fun bye() {
        println(name)
    }

    companion object {
        fun make() = Greeter("a")
    }
}

interface Shape { fun area(): Double }
object Registry {
    val x = 1
}
enum class Color { RED }
typealias Id = Int
val top = 1
fun main() { println(1) }
"###;

    const SCALA: &str = r###"package app

import scala.util.Try

/** A greeter. */
class Greeter(name: String) {
  def hello(): String = name
  def bye(): Unit = println(name)
}

trait Shape { def area: Double }
object Main {
  def main(args: Array[String]): Unit = ()
}
case class P(x: Int)
enum Color { case Red }
type Id = Int
val top = 1
def free(x: Int): Int = x
"###;

    const SWIFT: &str = r###"import Foundation

/// A greeter.
@available(iOS 13, *)
class Greeter {
    var name: String
    init(name: String) { self.name = name }
    func hello() -> String { return name }
}

struct P { func f() {} }
protocol Shape { func area() -> Double }
extension Greeter { func bye() {} }
enum Color { case red }
typealias Id = Int
func main() { print(1) }
"###;

    const ELIXIR: &str = r###"defmodule App.Greeter do
  @moduledoc "Greets."

  @doc "Says hello."
  @spec hello(String.t()) :: String.t()
  def hello(name) do
    "hi " <> name
  end

  defp secret, do: 1

  defmacro m(x), do: x
end

defmodule Other do
  def f, do: 2
end
"###;

    const HASKELL: &str = r###"module Main where

import Data.List

-- | A shape.
data Shape = Circle Double | Square Double

newtype Id = Id Int

type Name = String

class Area a where
  area :: a -> Double

instance Area Shape where
  area (Circle r) = r
  area (Square s) = s

-- | Factorial.
fact :: Int -> Int
fact 0 = 1
fact n = n * fact (n - 1)

main :: IO ()
main = print 1
"###;

    const LUA: &str = r###"local M = {}

--- Greets.
function M.hello(name)
  return "hi " .. name
end

function M:bye()
  return 1
end

local function helper()
  return 2
end

function global_fn() end
local f = function() end
return M
"###;

    const BASH: &str = r###"#!/bin/bash
set -e

# Greets.
greet() {
  echo "hi $1"
}

function other {
  echo 2
}

greet world
"###;

    const ZIG: &str = r###"const std = @import("std");

/// A point.
pub const Point = struct {
    x: i32,

    pub fn init(x: i32) Point {
        return .{ .x = x };
    }

    fn get(self: Point) i32 {
        return self.x;
    }
};

const Color = enum { red, green };
const U = union { a: i32 };
const max = 10;

pub fn main() void {
    std.debug.print("hi", .{});
}

test "basic" {
    try std.testing.expect(true);
}
"###;

    #[test]
    fn chunks_rust() {
        check_split(
            Language::Rust,
            RUST,
            "
1-7 struct Server | struct Server
9-18 impl Server | impl Server
20-20 impl Server | impl Drop for Server
22-22 trait Greet | trait Greet
23-23 enum Color | enum Color
24-24 module inner | mod inner
25-25 type Id | type Id
26-27 block - | 
28-28 macro m | macro_rules! m
30-33 function main | fn main
--
5-7 struct Server < -
9-18 impl Server < -
11-13 method new < Server
15-17 method handle < Server
20-20 impl Server < -
20-20 method drop < Server
22-22 trait Greet < -
22-22 method hi < Greet
23-23 enum Color < -
24-24 module inner < -
24-24 function f < inner
25-25 type Id < -
26-26 constant MAX < -
27-27 constant NAME < -
28-28 macro m < -
31-33 function main < -
",
            "
1-7 struct Server | struct Server
9-9 impl Server | impl Server
10-13 method new | impl Server > fn new
15-18 method handle | impl Server > fn handle
20-20 impl Server | impl Drop for Server
22-22 trait Greet | trait Greet
23-23 enum Color | enum Color
24-24 module inner | mod inner
25-25 type Id | type Id
26-27 block - | 
28-28 macro m | macro_rules! m
30-33 function main | fn main
",
        );
    }

    #[test]
    fn chunks_python() {
        check_split(
            Language::Python,
            PYTHON,
            "
1-12 class Greeter | class Greeter
15-17 function main | def main
19-19 constant MAX | MAX
--
4-12 class Greeter < -
7-8 method __init__ < Greeter
10-12 method hello < Greeter
16-17 function main < -
19-19 constant MAX < -
",
            "
1-1 block - | 
4-12 class Greeter | class Greeter
15-17 function main | def main
19-19 constant MAX | MAX
",
        );
    }

    #[test]
    fn chunks_javascript() {
        check_split(
            Language::JavaScript,
            JAVASCRIPT,
            "
1-7 class Greeter | class Greeter
9-10 function main | function main
11-11 function helper | function helper
12-12 constant LIMIT | const LIMIT
13-13 function named | function named
--
4-7 class Greeter < -
5-5 method constructor < Greeter
6-6 method hello < Greeter
10-10 function main < -
11-11 function helper < -
12-12 constant LIMIT < -
13-13 function named < -
",
            "
1-7 class Greeter | class Greeter
9-10 function main | function main
11-11 function helper | function helper
12-12 constant LIMIT | const LIMIT
13-13 function named | function named
",
        );
    }

    #[test]
    fn chunks_typescript() {
        check_split(
            Language::TypeScript,
            TYPESCRIPT,
            "
1-2 interface Shape | interface Shape
3-3 type Id | type Id
4-4 enum Dir | enum Dir
5-5 module NS | namespace NS
6-10 class Circle | class Circle
11-11 function f | function f
12-12 module m | module m
13-13 class A | class A
--
2-2 interface Shape < -
2-2 method area < Shape
3-3 type Id < -
4-4 enum Dir < -
5-5 module NS < -
6-10 class Circle < -
8-8 method constructor < Circle
9-9 method area < Circle
11-11 function f < -
12-12 module m < -
13-13 class A < -
13-13 method g < A
",
            "
1-2 interface Shape | interface Shape
3-3 type Id | type Id
4-4 enum Dir | enum Dir
5-5 module NS | namespace NS
6-10 class Circle | class Circle
11-11 function f | function f
12-12 module m | module m
13-13 class A | class A
",
        );
    }

    #[test]
    fn chunks_tsx() {
        check_split(
            Language::Tsx,
            TSX,
            "
1-6 interface ButtonProps | interface ButtonProps
8-14 class Panel | class Panel
16-19 function Button | function Button
--
4-6 interface ButtonProps < -
8-14 class Panel < -
9-11 method render < Panel
13-13 method close < Panel
17-19 function Button < -
",
            "
1-6 interface ButtonProps | interface ButtonProps
8-14 class Panel | class Panel
16-19 function Button | function Button
",
        );
    }

    #[test]
    fn chunks_go() {
        check_split(
            Language::Go,
            GO,
            "
1-8 struct Server | type Server
10-13 method Start | func Server.Start
15-15 method Stop | func Server.Stop
17-17 interface Handler | type Handler
18-18 type Alias | type Alias
19-20 constant Max | const Max
22-24 function main | func main
--
6-8 struct Server < -
11-13 method Start < Server
15-15 method Stop < Server
17-17 interface Handler < -
18-18 type Alias < -
19-19 constant Max < -
22-24 function main < -
",
            "
1-8 struct Server | type Server
10-13 method Start | func Server.Start
15-15 method Stop | func Server.Stop
17-17 interface Handler | type Handler
18-18 type Alias | type Alias
19-20 constant Max | const Max
22-24 function main | func main
",
        );
    }

    #[test]
    fn chunks_java() {
        check_split(
            Language::Java,
            JAVA,
            "
1-15 class Greeter | class Greeter
17-17 interface Shape | interface Shape
18-18 enum Color | enum Color
19-19 class Point | record Point
--
6-15 class Greeter < -
11-11 method Greeter < Greeter
13-14 method toString < Greeter
17-17 interface Shape < -
17-17 method area < Shape
18-18 enum Color < -
19-19 class Point < -
",
            "
1-3 block - | 
5-8 class Greeter | class Greeter
10-11 method Greeter | class Greeter > constructor Greeter
13-15 method toString | class Greeter > method toString
17-17 interface Shape | interface Shape
18-18 enum Color | enum Color
19-19 class Point | record Point
",
        );
    }

    #[test]
    fn chunks_c() {
        check_split(
            Language::C,
            C,
            "
1-2 constant MAX | #define MAX
3-3 macro SQ | #define SQ
5-8 struct point | struct point
10-10 type pair_t | typedef pair_t
11-11 enum color | enum color
13-16 function add | function add
18-18 function make | function make
19-19 function main | function main
--
2-2 constant MAX < -
3-3 macro SQ < -
6-8 struct point < -
10-10 type pair_t < -
11-11 enum color < -
14-16 function add < -
18-18 function make < -
19-19 function main < -
",
            "
1-2 constant MAX | #define MAX
3-3 macro SQ | #define SQ
5-8 struct point | struct point
10-10 type pair_t | typedef pair_t
11-11 enum color | enum color
13-16 function add | function add
18-18 function make | function make
19-19 function main | function main
",
        );
    }

    #[test]
    fn chunks_cpp() {
        check_split(
            Language::Cpp,
            CPP,
            "
1-19 module app | namespace app
21-21 type Id | using Id
22-22 function main | function main
--
3-19 module app < -
6-11 class Server < app
8-8 method Server < Server
13-13 method start < Server
15-16 function max < app
18-18 struct S < app
18-18 method f < S
21-21 type Id < -
22-22 function main < -
",
            "
1-1 block - | 
3-3 module app | namespace app
5-11 class Server | namespace app > class Server
13-13 method start | namespace app > method Server.start
15-16 function max | namespace app > function max
18-19 struct S | namespace app > struct S
21-21 type Id | using Id
22-22 function main | function main
",
        );
    }

    #[test]
    fn chunks_csharp() {
        check_split(
            Language::CSharp,
            CSHARP,
            "
1-16 module App | namespace App
--
3-16 module App < -
5-11 class Greeter < App
8-8 method Greeter < Greeter
9-9 method Hello < Greeter
12-12 interface IShape < App
12-12 method Area < IShape
13-13 struct P < App
14-14 enum Color < App
15-15 class R < App
",
            "
1-1 block - | 
3-3 module App | namespace App
4-7 class Greeter | namespace App > class Greeter
8-8 method Greeter | namespace App > class Greeter > constructor Greeter
9-9 method Hello | namespace App > class Greeter > method Hello
10-11 block - | namespace App > class Greeter
12-12 interface IShape | namespace App > interface IShape
13-13 struct P | namespace App > struct P
14-14 enum Color | namespace App > enum Color
15-16 class R | namespace App > record R
",
        );
    }

    #[test]
    fn chunks_ruby() {
        check_split(
            Language::Ruby,
            RUBY,
            "
1-12 class Greeter | class Greeter
14-16 module Util | module Util
18-20 function main | def main
--
4-12 class Greeter < -
5-7 method initialize < Greeter
9-11 method make < Greeter
14-16 module Util < -
15-15 function helper < Util
18-20 function main < -
",
            "
1-12 class Greeter | class Greeter
14-16 module Util | module Util
18-20 function main | def main
",
        );
    }

    #[test]
    fn chunks_php() {
        check_split(
            Language::Php,
            PHP,
            "
1-12 class Greeter | class Greeter
14-14 interface Shape | interface Shape
15-15 trait T | trait T
16-16 enum E | enum E
17-17 constant X | const X
18-18 function main | function main
--
7-12 class Greeter < -
10-10 method __construct < Greeter
11-11 method hello < Greeter
14-14 interface Shape < -
14-14 method area < Shape
15-15 trait T < -
15-15 method t < T
16-16 enum E < -
17-17 constant X < -
18-18 function main < -
",
            "
1-4 block - | 
6-9 class Greeter | class Greeter
10-10 method __construct | class Greeter > function __construct
11-12 method hello | class Greeter > function hello
14-14 interface Shape | interface Shape
15-15 trait T | trait T
16-16 enum E | enum E
17-17 constant X | const X
18-18 function main | function main
",
        );
    }

    #[test]
    fn chunks_kotlin() {
        check_split(
            Language::Kotlin,
            KOTLIN,
            "
1-17 class Greeter | class Greeter
19-19 interface Shape | interface Shape
20-22 class Registry | object Registry
23-23 enum Color | enum class Color
24-24 type Id | typealias Id
25-25 constant top | val top
26-26 function main | fun main
--
6-17 class Greeter < -
8-8 method hello < Greeter
10-12 method bye < Greeter
14-16 class Companion < Greeter
15-15 method make < Companion
19-19 interface Shape < -
19-19 method area < Shape
20-22 class Registry < -
23-23 enum Color < -
24-24 type Id < -
25-25 constant top < -
26-26 function main < -
",
            "
1-3 block - | 
5-7 class Greeter | class Greeter
8-8 method hello | class Greeter > fun hello
10-12 method bye | class Greeter > fun bye
14-17 class Companion | class Greeter > companion object Companion
19-19 interface Shape | interface Shape
20-22 class Registry | object Registry
23-23 enum Color | enum class Color
24-24 type Id | typealias Id
25-25 constant top | val top
26-26 function main | fun main
",
        );
    }

    #[test]
    fn chunks_scala() {
        check_split(
            Language::Scala,
            SCALA,
            "
1-9 class Greeter | class Greeter
11-11 trait Shape | trait Shape
12-14 class Main | object Main
15-15 class P | class P
16-16 enum Color | enum Color
17-17 type Id | type Id
18-18 constant top | val top
19-19 function free | def free
--
6-9 class Greeter < -
7-7 method hello < Greeter
8-8 method bye < Greeter
11-11 trait Shape < -
11-11 method area < Shape
12-14 class Main < -
13-13 method main < Main
15-15 class P < -
16-16 enum Color < -
17-17 type Id < -
18-18 constant top < -
19-19 function free < -
",
            "
1-9 class Greeter | class Greeter
11-11 trait Shape | trait Shape
12-14 class Main | object Main
15-15 class P | class P
16-16 enum Color | enum Color
17-17 type Id | type Id
18-18 constant top | val top
19-19 function free | def free
",
        );
    }

    #[test]
    fn chunks_swift() {
        check_split(
            Language::Swift,
            SWIFT,
            "
1-9 class Greeter | class Greeter
11-11 struct P | struct P
12-12 interface Shape | protocol Shape
13-13 impl Greeter | extension Greeter
14-14 enum Color | enum Color
15-15 type Id | typealias Id
16-16 function main | func main
--
4-9 class Greeter < -
7-7 method init < Greeter
8-8 method hello < Greeter
11-11 struct P < -
11-11 method f < P
12-12 interface Shape < -
12-12 method area < Shape
13-13 impl Greeter < -
13-13 method bye < Greeter
14-14 enum Color < -
15-15 type Id < -
16-16 function main < -
",
            "
1-1 block - | 
3-6 class Greeter | class Greeter
7-7 method init | class Greeter > init
8-9 method hello | class Greeter > func hello
11-11 struct P | struct P
12-12 interface Shape | protocol Shape
13-13 impl Greeter | extension Greeter
14-14 enum Color | enum Color
15-15 type Id | typealias Id
16-16 function main | func main
",
        );
    }

    #[test]
    fn chunks_elixir() {
        check_split(
            Language::Elixir,
            ELIXIR,
            "
1-13 module App.Greeter | defmodule App.Greeter
15-17 module Other | defmodule Other
--
1-13 module App.Greeter < -
6-8 function hello < App.Greeter
10-10 function secret < App.Greeter
12-12 macro m < App.Greeter
15-17 module Other < -
16-16 function f < Other
",
            "
1-2 module App.Greeter | defmodule App.Greeter
4-8 function hello | defmodule App.Greeter > def hello
10-10 function secret | defmodule App.Greeter > defp secret
12-13 macro m | defmodule App.Greeter > defmacro m
15-17 module Other | defmodule Other
",
        );
    }

    #[test]
    fn chunks_haskell() {
        check_split(
            Language::Haskell,
            HASKELL,
            "
1-6 type Shape | data Shape
8-8 type Id | newtype Id
10-10 type Name | type Name
12-13 trait Area | class Area
15-17 impl Area Shape | instance Area Shape
19-22 function fact | fact
24-25 function main | main
--
6-6 type Shape < -
8-8 type Id < -
10-10 type Name < -
12-13 trait Area < -
13-13 method area < Area
15-17 impl Area Shape < -
16-17 method area < Area Shape
21-22 function fact < -
25-25 function main < -
",
            "
1-6 type Shape | data Shape
8-8 type Id | newtype Id
10-10 type Name | type Name
12-13 trait Area | class Area
15-17 impl Area Shape | instance Area Shape
19-22 function fact | fact
24-25 function main | main
",
        );
    }

    #[test]
    fn chunks_lua() {
        check_split(
            Language::Lua,
            LUA,
            "
1-6 function hello | function M.hello
8-10 method bye | function M:bye
12-14 function helper | function helper
16-18 function global_fn | function global_fn
--
4-6 function hello < M
8-10 method bye < M
12-14 function helper < -
16-16 function global_fn < -
",
            "
1-6 function hello | function M.hello
8-10 method bye | function M:bye
12-14 function helper | function helper
16-18 function global_fn | function global_fn
",
        );
    }

    #[test]
    fn chunks_bash() {
        check_split(
            Language::Bash,
            BASH,
            "
1-7 function greet | function greet
9-13 function other | function other
--
5-7 function greet < -
9-11 function other < -
",
            "
1-7 function greet | function greet
9-13 function other | function other
",
        );
    }

    #[test]
    fn chunks_zig() {
        check_split(
            Language::Zig,
            ZIG,
            "
1-14 struct Point | struct Point
16-16 enum Color | enum Color
17-17 struct U | union U
18-18 constant max | const max
20-22 function main | fn main
24-26 function basic | test basic
--
4-14 struct Point < -
7-9 method init < Point
11-13 method get < Point
16-16 enum Color < -
17-17 struct U < -
18-18 constant max < -
20-22 function main < -
24-26 function basic < -
",
            "
1-1 block - | 
3-5 struct Point | struct Point
7-9 method init | struct Point > fn init
11-14 method get | struct Point > fn get
16-16 enum Color | enum Color
17-17 struct U | union U
18-18 constant max | const max
20-22 function main | fn main
24-26 function basic | test basic
",
        );
    }

    #[test]
    fn fixtures_cover_every_line_at_any_size() {
        for (lang, text) in fixtures() {
            for max_chars in [40, 80, 200, 1500] {
                let cfg = ChunkConfig {
                    max_chars,
                    min_chars: max_chars / 4,
                    window_lines: 8,
                    overlap_lines: 2,
                    pack_chars: max_chars,
                };
                let a = analyze(lang, text, &cfg);
                assert_invariants(text, &a);
                for c in &a.chunks {
                    assert!(
                        c.text.len() <= max_chars.max(16),
                        "{lang} {max_chars}: chunk of {} bytes",
                        c.text.len()
                    );
                }
            }
        }
    }

    fn big_impl() -> String {
        let mut text = String::from(
            "/// The server.\npub struct Server {\n    port: u16,\n}\n\nimpl Server {\n    const LIMIT: u32 = 3;\n\n",
        );
        for i in 0..12 {
            text.push_str(&format!(
                "    /// Method number {i}.\n    pub fn method_{i}(&self, x: u32) -> u32 {{\n        let y = x + {i};\n        let z = y * 2 + self.port as u32;\n        z - 1\n    }}\n\n"
            ));
        }
        text.push_str("}\n");
        text
    }

    #[test]
    fn large_impl_splits_into_header_and_methods() {
        let text = big_impl();
        let a = analyze(Language::Rust, &text, &unpacked());
        assert_invariants(&text, &a);
        let lines: Vec<String> = render(&a).lines().take(5).map(str::to_owned).collect();
        assert_eq!(
            lines,
            [
                "1-4 struct Server | struct Server",
                "6-7 impl Server | impl Server",
                "9-14 method method_0 | impl Server > fn method_0",
                "16-21 method method_1 | impl Server > fn method_1",
                "23-28 method method_2 | impl Server > fn method_2",
            ]
        );
        let last = &a.chunks[a.chunks.len() - 1];
        assert_eq!(
            (last.start_line, last.end_line),
            (86, 93),
            "the closing brace joins the last method"
        );
        assert_eq!(last.symbol.as_deref(), Some("method_11"));
        assert_eq!(a.chunks.len(), 14);
        assert_eq!(a.chunks[1].text, "impl Server {\n    const LIMIT: u32 = 3;");
        // The impl symbol keeps its full range; the constant is still a symbol.
        let imp = a
            .symbols
            .iter()
            .find(|s| s.kind == ChunkKind::Impl)
            .unwrap();
        assert_eq!(
            (imp.name.as_str(), imp.start_line, imp.end_line),
            ("Server", 6, 93)
        );
        assert!(
            a.symbols
                .iter()
                .any(|s| s.name == "LIMIT" && s.container.as_deref() == Some("Server"))
        );
        assert_eq!(
            a.symbols
                .iter()
                .filter(|s| s.kind == ChunkKind::Method)
                .count(),
            12
        );
    }

    #[test]
    fn large_python_class_splits_with_class_enclosing() {
        let mut text =
            String::from("class Big:\n    \"\"\"A big class.\"\"\"\n\n    limit = 3\n\n");
        for i in 0..20 {
            text.push_str(&format!("    def m{i}(self, x):\n        y = x * {i} + self.limit\n        return \"value {i}\" + str(y) + \"padding padding padding\"\n\n"));
        }
        let a = analyze(Language::Python, &text, &unpacked());
        assert_invariants(&text, &a);
        let r = render(&a);
        let lines: Vec<&str> = r.lines().take(3).collect();
        assert_eq!(
            lines,
            [
                "1-4 class Big | class Big",
                "6-8 method m0 | class Big > def m0",
                "10-12 method m1 | class Big > def m1"
            ]
        );
    }

    #[test]
    fn long_function_splits_into_overlapping_windows() {
        let mut text = String::from("/// A long function.\nfn long_one() {\n");
        for i in 0..60 {
            text.push_str(&format!(
                "    let v{i} = compute({i}, \"some text that makes the line longer {i}\");\n"
            ));
        }
        text.push_str("}\n");
        let cfg = unpacked();
        let a = analyze(Language::Rust, &text, &cfg);
        assert_invariants(&text, &a);
        let ranges: Vec<(u32, u32)> = a
            .chunks
            .iter()
            .map(|c| (c.start_line, c.end_line))
            .collect();
        assert_eq!(ranges, [(1, 23), (19, 39), (35, 55), (51, 63)]);
        for c in &a.chunks {
            assert_eq!(c.symbol.as_deref(), Some("long_one"));
            assert_eq!(c.kind, ChunkKind::Function);
            assert_eq!(c.enclosing, "fn long_one");
            assert!(c.text.len() <= cfg.max_chars);
        }
        for w in ranges.windows(2) {
            assert_eq!(
                w[0].1 - w[1].0 + 1,
                cfg.overlap_lines as u32,
                "windows share overlap_lines lines"
            );
        }
    }

    #[test]
    fn small_glue_merges_and_definitions_stay_apart() {
        let text = "import os\nimport sys\n\nx = 1\nprint(x)\n\ndef a():\n    return 1\n\ndef b():\n    return 2\n\nA = 1\nB = 2\n";
        check(
            Language::Python,
            text,
            "
1-8 function a | def a
10-11 function b | def b
13-14 block - | 
--
7-8 function a < -
10-11 function b < -
13-13 constant A < -
14-14 constant B < -
",
        );
        // Big glue stands alone as a block.
        let mut text = String::new();
        for i in 0..30 {
            text.push_str(&format!("import module_number_{i}\n"));
        }
        text.push_str("\ndef f():\n    pass\n");
        check(
            Language::Python,
            &text,
            "\n1-30 block - | \n32-33 function f | def f\n--\n32-33 function f < -\n",
        );
    }

    #[test]
    fn markdown_chunks_by_section() {
        let text = "Intro text.\n\n# Title\n\nSome words.\n\n## Install\n\n```sh\n# not a heading\ncargo install sg\n```\n\n## Use #\n\nRun it.\n\n# Other\nEnd.\n";
        check(
            Language::Markdown,
            text,
            "
1-1 block - | 
3-5 section Title | Title
7-12 section Install | Title > Install
14-16 section Use | Title > Use
18-19 section Other | Other
--
3-16 section Title < -
7-12 section Install < Title
14-16 section Use < Title
18-19 section Other < -
",
        );
    }

    #[test]
    fn long_markdown_section_splits_at_paragraphs() {
        let mut text = String::from("# Guide\n\n");
        for p in 0..12 {
            text.push_str(&format!("Paragraph {p} line one is long enough to matter here.\nAnd a second line for paragraph {p}.\n\n"));
        }
        let a = analyze(
            Language::Markdown,
            &text,
            &ChunkConfig {
                max_chars: 400,
                ..unpacked()
            },
        );
        assert_invariants(&text, &a);
        assert!(a.chunks.len() >= 3);
        for c in &a.chunks {
            assert_eq!(c.symbol.as_deref(), Some("Guide"));
            assert_eq!(c.kind, ChunkKind::Section);
            assert!(c.text.len() <= 400);
            // Cuts fall between paragraphs.
            assert!(c.text.ends_with('.'), "{:?}", c.text);
            assert!(
                c.text.starts_with("Paragraph") || c.text.starts_with("# Guide"),
                "{:?}",
                c.text
            );
        }
    }

    #[test]
    fn text_falls_back_to_line_windows_cut_at_blank_lines() {
        let mut text = String::new();
        for block in 0..6 {
            for line in 0..15 {
                text.push_str(&format!("block {block} line {line}\n"));
            }
            text.push('\n');
        }
        let a = analyze(Language::Text, &text, &unpacked());
        assert_invariants(&text, &a);
        let ranges: Vec<(u32, u32)> = a
            .chunks
            .iter()
            .map(|c| (c.start_line, c.end_line))
            .collect();
        assert_eq!(ranges, [(1, 31), (33, 63), (65, 95)]);
        assert!(
            a.chunks.iter().all(|c| c.kind == ChunkKind::Window
                && c.symbol.is_none()
                && c.enclosing.is_empty())
        );
        assert!(a.symbols.is_empty());
        // JSON and YAML go the same way.
        let json = "{\n  \"a\": 1,\n  \"b\": [1, 2]\n}\n";
        assert_eq!(
            render(&analyze(Language::Json, json, &unpacked())),
            "1-4 window - | \n--\n"
        );
    }

    #[test]
    fn broken_syntax_still_chunks_and_loses_nothing() {
        let text = "fn ok() {\n    1\n}\n\nfn broken( {\n    let = ;\n}}}\n\nstruct After {\n    x: u8,\n}\n";
        let a = analyze(Language::Rust, text, &unpacked());
        assert_invariants(text, &a);
        assert!(a.symbols.iter().any(|s| s.name == "ok"));
        assert!(a.symbols.iter().any(|s| s.name == "After"));
        let text = "def f(:\n  return ((\nclass\n";
        assert_invariants(text, &analyze(Language::Python, text, &unpacked()));
    }

    #[test]
    fn empty_and_blank_inputs_give_nothing() {
        for lang in Language::ALL {
            for text in ["", "   ", "\n\n\r\n\t\n"] {
                assert_eq!(
                    analyze(lang, text, &unpacked()),
                    Analysis::default(),
                    "{lang}"
                );
            }
        }
    }

    #[test]
    fn minified_five_megabyte_line() {
        let unit = "function a(b){return b+1};var c=a(2);";
        let text = unit.repeat(5 * 1024 * 1024 / unit.len() + 1);
        let cfg = unpacked();
        for lang in [Language::JavaScript, Language::Text] {
            let start = std::time::Instant::now();
            let a = analyze(lang, &text, &cfg);
            assert!(start.elapsed().as_secs() < 20);
            assert_invariants(&text, &a);
            assert!(
                a.chunks
                    .iter()
                    .all(|c| c.text.len() <= cfg.max_chars && c.start_line == 1 && c.end_line == 1)
            );
            let solid = |s: &str| s.bytes().filter(|b| !b.is_ascii_whitespace()).count();
            let total: usize = a.chunks.iter().map(|c| solid(&c.text)).sum();
            assert_eq!(total, solid(&text), "pieces of a long line tile it");
        }
    }

    #[test]
    fn nul_bytes_do_not_lose_text() {
        let text = "fn a() {}\n\0\0\0\nfn b() { \"\0\" }\nlet x\0 = 1;\n";
        for lang in [
            Language::Rust,
            Language::C,
            Language::Python,
            Language::Text,
        ] {
            assert_invariants(text, &analyze(lang, text, &unpacked()));
        }
    }

    #[test]
    fn crlf_line_numbers_match_lf() {
        for (lang, text) in fixtures() {
            let crlf = text.replace('\n', "\r\n");
            let a = analyze(lang, text, &unpacked());
            let b = analyze(lang, &crlf, &unpacked());
            assert_invariants(&crlf, &b);
            assert_eq!(render(&a), render(&b), "{lang}");
            assert!(b.chunks.iter().all(|c| !c.text.ends_with('\r')));
        }
    }

    #[test]
    fn multibyte_text_is_cut_at_char_boundaries() {
        let line = "let s = \"héllo wörld 🎉🎉🎉 日本語のテキスト\";\n";
        let text = format!("fn emoji() {{\n{}}}\n", line.repeat(40));
        for max_chars in [16, 17, 18, 19, 50, 100] {
            let cfg = ChunkConfig {
                max_chars,
                ..unpacked()
            };
            for lang in [Language::Rust, Language::Text, Language::Markdown] {
                let a = analyze(lang, &text, &cfg);
                assert_invariants(&text, &a);
            }
        }
        let one_line = "🎉".repeat(1000);
        let a = analyze(
            Language::Text,
            &one_line,
            &ChunkConfig {
                max_chars: 18,
                ..unpacked()
            },
        );
        assert_invariants(&one_line, &a);
        assert!(a.chunks.iter().all(|c| c.text.chars().count() == 4));
    }

    #[test]
    fn kind_names_round_trip() {
        for k in ChunkKind::ALL {
            assert_eq!(ChunkKind::from_name(k.name()), Some(k));
        }
        assert_eq!(ChunkKind::from_name("nope"), None);
        assert!(ChunkKind::Impl.is_definition() && ChunkKind::Constant.is_definition());
        assert!(
            !ChunkKind::Section.is_definition()
                && !ChunkKind::Block.is_definition()
                && !ChunkKind::Window.is_definition()
        );
        assert_eq!(
            chunk_file(Language::Rust, RUST, &unpacked()),
            analyze(Language::Rust, RUST, &unpacked()).chunks
        );
    }

    #[test]
    fn chunk_text_starts_at_doc_comments_and_attributes() {
        let a = analyze(Language::Rust, RUST, &unpacked());
        let server = &a.chunks[0];
        assert!(
            server
                .text
                .starts_with("use std::io;\n\n/// A server.\n#[derive(Debug)]\npub struct Server")
        );
        let main = a
            .chunks
            .iter()
            .find(|c| c.symbol.as_deref() == Some("main"))
            .unwrap();
        assert!(main.text.starts_with("// Starts it.\nfn main()"));
        let a = analyze(Language::Java, JAVA, &unpacked());
        let sym = a.symbols.iter().find(|s| s.name == "toString").unwrap();
        assert_eq!(
            (sym.start_line, sym.end_line),
            (13, 14),
            "annotations belong to the method"
        );
        let a = analyze(
            Language::Elixir,
            ELIXIR,
            &ChunkConfig {
                max_chars: 120,
                ..unpacked()
            },
        );
        let hello = a
            .chunks
            .iter()
            .find(|c| c.symbol.as_deref() == Some("hello"))
            .unwrap();
        assert!(
            hello.text.starts_with("  @doc \"Says hello.\"\n  @spec"),
            "{:?}",
            hello.text
        );
        assert_eq!(hello.enclosing, "defmodule App.Greeter > def hello");
    }

    /// Every fixture of this module, with its language.
    fn fixtures() -> Vec<(Language, &'static str)> {
        vec![
            (Language::Rust, RUST),
            (Language::Python, PYTHON),
            (Language::JavaScript, JAVASCRIPT),
            (Language::TypeScript, TYPESCRIPT),
            (Language::Tsx, TSX),
            (Language::Go, GO),
            (Language::Java, JAVA),
            (Language::C, C),
            (Language::Cpp, CPP),
            (Language::CSharp, CSHARP),
            (Language::Ruby, RUBY),
            (Language::Php, PHP),
            (Language::Kotlin, KOTLIN),
            (Language::Scala, SCALA),
            (Language::Swift, SWIFT),
            (Language::Elixir, ELIXIR),
            (Language::Haskell, HASKELL),
            (Language::Lua, LUA),
            (Language::Bash, BASH),
            (Language::Zig, ZIG),
        ]
    }
}
