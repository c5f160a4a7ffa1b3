//! The language-independent walk of a syntax tree: finds every definition (through the node
//! tables of `lang`), the doc comments and attributes it claims, and the symbols it yields.

use std::ops::Range;

use tree_sitter::Node;

use super::lang::{self, DefInfo, Rules};
use super::layout::chunk_level;
use super::source::{Cx, Source};
use super::{ChunkKind, Symbol};
use crate::syntax::Language;

/// One definition, with the range it claims in the file.
#[derive(Debug)]
pub(super) struct Def {
    pub(super) kind: ChunkKind,
    pub(super) name: String,
    /// `fn handle`, `impl Drop for Server`, ...: used in `enclosing`.
    pub(super) label: String,
    /// A container named by the definition itself (Go receiver, C++ scope, Lua table).
    pub(super) qualifier: Option<String>,
    /// The definition's own node range (with wrappers such as `export`, without doc comments).
    pub(super) node: Range<usize>,
    /// The claimed range: from the first doc comment or attribute to the end of the line.
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) children: Vec<usize>,
    pub(super) parent: Option<usize>,
}

/// The walk over one file's syntax tree, with the definitions found so far.
pub(super) struct Walker<'t, 's> {
    /// The node tables of the file's language.
    rules: &'static Rules,
    text: &'s str,
    root: Node<'t>,
    defs: Vec<Def>,
    /// Per node kind id: 0 not yet known, 1 may be a definition, 2 never is.
    candidate: Vec<u8>,
    /// The last top-level definition.
    last_top: Option<usize>,
}

/// Finds the definitions of one parsed file, chunks it and returns its symbols.
pub(super) fn code(cx: &mut Cx, lang: Language, root: Node) -> Vec<Symbol> {
    let mut w = Walker {
        rules: lang::rules(lang),
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
    /// The source text of `node`.
    pub(super) fn text_of(&self, node: Node) -> &str {
        self.text.get(node.byte_range()).unwrap_or("")
    }

    /// The source text of `node`'s child `field`, if it has one.
    pub(super) fn field_text(&self, node: Node, field: &str) -> Option<&str> {
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
            self.candidate[id] = if self.rules.kinds.contains(&node.kind()) {
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
                } else if self.rules.opaque.contains(&node.kind()) {
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
        // Functions that are one node per equation (Haskell): fold equations into the first.
        if self.rules.fold_equations && matches!(di.kind, ChunkKind::Function | ChunkKind::Method) {
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
            if !(self.rules.wraps)(parent) {
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
        if node.kind().contains("comment") {
            // Not a shebang line.
            return !self.text_of(node).starts_with("#!");
        }
        (self.rules.attaches)(self, node, name)
    }

    /// The kind of a function defined under `parent`: a method inside a class-like container.
    pub(super) fn fn_kind(&self, parent: Option<usize>) -> ChunkKind {
        match parent {
            Some(p) if self.defs[p].kind.holds_methods() => ChunkKind::Method,
            _ => ChunkKind::Function,
        }
    }

    /// Whether `parent` is a function or method.
    pub(super) fn in_function(&self, parent: Option<usize>) -> bool {
        parent.is_some_and(|p| matches!(self.defs[p].kind, ChunkKind::Function | ChunkKind::Method))
    }

    /// Whether `node` sits directly at the top of the file (below the root and the given wrappers).
    pub(super) fn at_top(&self, node: Node, wrappers: &[&str]) -> bool {
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
        (self.rules.classify)(self, node, parent)
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
