//! The text of one file with its lines, and the emission of chunks into it ([`Cx`], [`windows`]).

use std::ops::Range;

use super::{Chunk, ChunkConfig, ChunkKind};

/// The file text with its line starts, computed once.
pub(super) struct Source<'a> {
    pub(super) text: &'a str,
    /// Byte offset of the start of every line; `line_starts[0] == 0`.
    line_starts: Vec<usize>,
}

impl<'a> Source<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        let mut line_starts = Vec::with_capacity(text.len() / 32 + 1);
        line_starts.push(0);
        line_starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        Source { text, line_starts }
    }

    pub(super) fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    pub(super) fn len(&self) -> usize {
        self.text.len()
    }

    /// The 0-based line holding byte `pos`.
    pub(super) fn line_of(&self, pos: usize) -> usize {
        self.line_starts
            .partition_point(|&s| s <= pos)
            .saturating_sub(1)
    }

    pub(super) fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    pub(super) fn line_start(&self, line: usize) -> usize {
        self.line_starts[line]
    }

    /// The end of the line's content, before its `\n` or `\r\n`.
    pub(super) fn line_end(&self, line: usize) -> usize {
        let mut end = self
            .line_starts
            .get(line + 1)
            .map_or(self.len(), |&next| next - 1);
        if end > self.line_starts[line] && self.bytes()[end - 1] == b'\r' {
            end -= 1;
        }
        end
    }

    pub(super) fn is_blank(&self, range: Range<usize>) -> bool {
        self.bytes()[range].iter().all(u8::is_ascii_whitespace)
    }

    pub(super) fn is_blank_line(&self, line: usize) -> bool {
        self.is_blank(self.line_start(line)..self.line_end(line))
    }

    /// Whether the text looks machine-generated on one line: syntax chunking gains nothing there.
    pub(super) fn looks_minified(&self) -> bool {
        self.len() > 100_000 && self.len() / self.line_count() > 500
    }

    /// The largest char boundary at or below `pos`.
    pub(super) fn floor_char(&self, mut pos: usize) -> usize {
        pos = pos.min(self.len());
        while !self.text.is_char_boundary(pos) {
            pos -= 1;
        }
        pos
    }

    /// Shrinks a range to its non-blank content, keeping the indentation of its first line.
    pub(super) fn trim(&self, start: usize, end: usize) -> Option<(usize, usize)> {
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

/// Chunk emission: the chunks of one file as they are cut.
pub(super) struct Cx<'s, 'a> {
    pub(super) src: &'s Source<'a>,
    pub(super) cfg: &'s ChunkConfig,
    pub(super) chunks: Vec<Chunk>,
    /// Containers small enough to be one chunk but cut into their header and members
    /// ([`ChunkConfig::split_containers`]): the main model embeds each whole.
    pub(super) groups: Vec<Group>,
}

/// A container cut into units although it fits in one: its span (as one chunk would have had it) and
/// what that chunk would have been called.
#[derive(Clone, Debug)]
pub(super) struct Group {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) symbol: String,
    pub(super) kind: ChunkKind,
    pub(super) enclosing: String,
}

impl Cx<'_, '_> {
    /// The span a chunk of `start..end` would have (trimmed, on char boundaries), if any.
    pub(super) fn span(&self, start: usize, end: usize) -> Option<(usize, usize)> {
        let (s, e) = self.src.trim(start, end)?;
        let (s, e) = (self.src.floor_char(s), self.src.floor_char(e));
        (s < e).then_some((s, e))
    }

    pub(super) fn push(
        &mut self,
        start: usize,
        end: usize,
        symbol: Option<&str>,
        kind: ChunkKind,
        enclosing: &str,
    ) {
        let Some((s, e)) = self.span(start, end) else {
            return;
        };
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
    pub(super) fn unit(
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

    pub(super) fn windows_chunk(
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
pub(super) fn windows(
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

/// Collapses whitespace and bounds the length of a name taken from source text.
pub(super) fn clean_name(raw: &str) -> String {
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
