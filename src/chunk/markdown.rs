//! Markdown: one chunk per heading section, with the heading path as its `enclosing`.

use super::source::{Cx, clean_name};
use super::{ChunkKind, Symbol};

/// Chunks a Markdown file by heading section and returns one symbol per titled section.
pub(super) fn markdown(cx: &mut Cx) -> Vec<Symbol> {
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
