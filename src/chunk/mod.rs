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
//!
//! Layout: this module holds the public types and the entry points; `source` the text and line
//! helpers and chunk emission; `walker` the language-independent walk of a syntax tree into
//! definitions; `layout` the cutting of those definitions and the glue between them into chunks;
//! `markdown` the heading sections. Everything a language adds (which nodes are definitions, how
//! their names, kinds and labels are read) is one file in `lang/`, next to its tests. Adding a
//! language means one file in `src/chunk/lang/` with its line in `lang::rules` (and its test
//! fixture's in `lang::fixtures`), plus its entry in [`crate::syntax`].

mod lang;
mod layout;
mod markdown;
pub mod references;
mod source;
#[cfg(test)]
mod tests;
mod walker;

use crate::syntax::{self, Language};
use markdown::markdown;
use source::{Cx, Group, Source};
use walker::code;

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
    /// Neighbouring units of one scope (small functions, methods, glue) are grouped into one [`Pack`] for
    /// the main model while the group stays within this many bytes; 0 packs no neighbours (a container cut
    /// into units is still embedded whole). Default 0: each definition gets a transformer vector of its own
    /// (see docs/ARCHITECTURE.md for the measurements). Units stay apart whatever this is: it decides only
    /// what the transformer embeds together.
    pub pack_chars: usize,
    /// A container (class, impl, trait, module...) with member definitions is cut into its header and its
    /// members even when it fits in one chunk, so that a method answers as the method; the main model still
    /// embeds the container whole (one [`Pack`]). Default true.
    pub split_containers: bool,
}

impl Default for ChunkConfig {
    fn default() -> Self {
        ChunkConfig {
            max_chars: 1500,
            min_chars: 200,
            window_lines: 40,
            overlap_lines: 5,
            pack_chars: 0,
            split_containers: true,
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
            split_containers: self.split_containers,
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
    /// Every use of a name in the file, in file order (empty without a syntax tree): the code graph's
    /// edges out of this file.
    pub references: Vec<crate::graph::Reference>,
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
        groups: Vec::new(),
    };
    let mut symbols = Vec::new();
    let mut references = Vec::new();
    if lang == Language::Markdown {
        symbols = markdown(&mut cx);
    } else if lang.has_grammar() && !src.looks_minified() {
        match syntax::parse(lang, text) {
            Some(tree) => {
                symbols = code(&mut cx, lang, tree.root_node());
                references = references::references(lang, tree.root_node(), text, &symbols);
            }
            None => cx.windows_chunk(0, text.len(), 0, None, ChunkKind::Window, ""),
        }
    } else {
        cx.windows_chunk(0, text.len(), 0, None, ChunkKind::Window, "");
    }
    let mut chunks = std::mem::take(&mut cx.chunks);
    chunks.sort_by_key(|c| (c.start_byte, c.end_byte));
    let packs = pack(&chunks, &cx.groups, cfg.pack_chars);
    Analysis {
        chunks,
        symbols,
        packs,
        references,
    }
}

/// What packing sees: one unit, or a container cut into units that the main model embeds whole.
struct Item<'c> {
    members: std::ops::Range<usize>,
    start_byte: u32,
    end_byte: u32,
    symbol: Option<&'c str>,
    kind: ChunkKind,
    enclosing: &'c str,
}

impl Item<'_> {
    /// The scope the item sits in: its `enclosing` chain without its own label.
    fn scope(&self) -> &str {
        if self.symbol.is_none() {
            return self.enclosing;
        }
        self.enclosing
            .rsplit_once(" > ")
            .map(|(p, _)| p)
            .unwrap_or("")
    }
}

/// The units as packing sees them: each unit alone, except the units of a container group (the outermost
/// one holding them), which stand together as that container.
fn items<'c>(chunks: &'c [Chunk], groups: &'c [Group]) -> Vec<Item<'c>> {
    let mut out: Vec<Item<'c>> = Vec::with_capacity(chunks.len());
    let mut i = 0;
    while i < chunks.len() {
        let c = &chunks[i];
        let (s, e) = (c.start_byte as usize, c.end_byte as usize);
        let outer = groups
            .iter()
            .filter(|g| g.start <= s && e <= g.end)
            .max_by_key(|g| g.end - g.start);
        match outer {
            Some(g) => {
                let mut j = i;
                while j < chunks.len() && chunks[j].end_byte as usize <= g.end {
                    j += 1;
                }
                out.push(Item {
                    members: i..j,
                    start_byte: c.start_byte,
                    end_byte: chunks[j - 1].end_byte,
                    symbol: Some(&g.symbol),
                    kind: g.kind,
                    enclosing: &g.enclosing,
                });
                i = j;
            }
            None => {
                out.push(Item {
                    members: i..i + 1,
                    start_byte: c.start_byte,
                    end_byte: c.end_byte,
                    symbol: c.symbol.as_deref(),
                    kind: c.kind,
                    enclosing: &c.enclosing,
                });
                i += 1;
            }
        }
    }
    out
}

/// Groups neighbouring, non-overlapping items of the same scope while the group's span stays within
/// `limit` bytes (0: every item alone). A pack takes the enclosing chain of its largest named item.
fn pack(chunks: &[Chunk], groups: &[Group], limit: usize) -> Vec<Pack> {
    /// The pack being grown, and the item that names it (with that item's size).
    struct Open<'i, 'c> {
        pack: Pack,
        kind: ChunkKind,
        named: Option<(&'i Item<'c>, usize)>,
        first: &'i Item<'c>,
    }
    impl Open<'_, '_> {
        fn scope(&self) -> &str {
            match self.named {
                Some((c, _)) => c.scope(),
                None => self.first.scope(),
            }
        }
        fn close(mut self) -> Pack {
            self.pack.enclosing = match self.named {
                Some((c, _)) => c.enclosing.to_owned(),
                None => self.scope().to_owned(),
            };
            self.pack
        }
    }
    let items = items(chunks, groups);
    let mut out: Vec<Pack> = Vec::with_capacity(items.len());
    let mut open: Option<Open> = None;
    for it in &items {
        let size = (it.end_byte - it.start_byte) as usize;
        if let Some(o) = open.as_mut() {
            let fits = limit > 0
                && it.start_byte >= o.pack.end_byte
                && (it.end_byte - o.pack.start_byte) as usize <= limit
                && o.scope() == it.scope()
                && it.kind != ChunkKind::Window
                && o.kind != ChunkKind::Window
                && it.kind != ChunkKind::Section
                && o.kind != ChunkKind::Section;
            if fits {
                if it.symbol.is_some() && o.named.is_none_or(|(_, n)| size > n) {
                    o.named = Some((it, size));
                    o.kind = it.kind;
                }
                o.pack.members.end = it.members.end;
                o.pack.end_byte = it.end_byte;
                continue;
            }
        }
        out.extend(open.take().map(Open::close));
        open = Some(Open {
            pack: Pack {
                members: it.members.clone(),
                start_byte: it.start_byte,
                end_byte: it.end_byte,
                enclosing: String::new(),
            },
            kind: it.kind,
            named: it.symbol.is_some().then_some((it, size)),
            first: it,
        });
    }
    out.extend(open.take().map(Open::close));
    out
}

/// The chunks of one file: [`analyze`] without the symbols.
pub fn chunk_file(lang: Language, text: &str, cfg: &ChunkConfig) -> Vec<Chunk> {
    analyze(lang, text, cfg).chunks
}
