//! Conversions between protocol shapes and sg's: URIs and paths, positions in open buffers (UTF-16 code
//! units by default), text edits applied to ropes, and symbol kinds.

use std::path::{Path, PathBuf};

use ropey::Rope;
use tower_lsp_server::ls_types::{
    Position, Range, SymbolKind, TextDocumentContentChangeEvent, Uri,
};

use crate::chunk::ChunkKind;

/// The file path of a `file:` URI.
pub fn uri_to_path(uri: &Uri) -> Option<PathBuf> {
    uri.to_file_path().map(|p| p.into_owned())
}

/// The `file:` URI of a path.
pub fn path_to_uri(path: &Path) -> Option<Uri> {
    Uri::from_file_path(path)
}

/// The char index of an LSP position in a rope (UTF-16 columns), clamped to the text.
pub fn position_to_char(rope: &Rope, pos: Position) -> usize {
    let line = pos.line as usize;
    if line >= rope.len_lines() {
        return rope.len_chars();
    }
    let line_start = rope.line_to_char(line);
    let line_len = rope.line(line).len_chars();
    let start_cu = rope.char_to_utf16_cu(line_start);
    let end_cu = rope.char_to_utf16_cu(line_start + line_len);
    let cu = (start_cu + pos.character as usize).min(end_cu);
    rope.utf16_cu_to_char(cu)
}

/// Applies one content change (a ranged edit, or the whole text when `range` is absent).
pub fn apply_change(rope: &mut Rope, change: &TextDocumentContentChangeEvent) {
    match change.range {
        None => *rope = Rope::from_str(&change.text),
        Some(range) => {
            let start = position_to_char(rope, range.start);
            let end = position_to_char(rope, range.end).max(start);
            rope.remove(start..end);
            rope.insert(start, &change.text);
        }
    }
}

/// The range covering whole lines `start_line..=end_line` (1-based).
pub fn line_range(start_line: u32, end_line: u32) -> Range {
    Range {
        start: Position {
            line: start_line.saturating_sub(1),
            character: 0,
        },
        end: Position {
            line: end_line,
            character: 0,
        },
    }
}

/// The protocol's symbol kind for a chunk kind.
pub fn symbol_kind(kind: ChunkKind) -> SymbolKind {
    match kind {
        ChunkKind::Function => SymbolKind::FUNCTION,
        ChunkKind::Method => SymbolKind::METHOD,
        ChunkKind::Class => SymbolKind::CLASS,
        ChunkKind::Struct => SymbolKind::STRUCT,
        ChunkKind::Enum => SymbolKind::ENUM,
        ChunkKind::Interface | ChunkKind::Trait => SymbolKind::INTERFACE,
        ChunkKind::Impl => SymbolKind::CLASS,
        ChunkKind::Module => SymbolKind::MODULE,
        ChunkKind::Type => SymbolKind::TYPE_PARAMETER,
        ChunkKind::Constant => SymbolKind::CONSTANT,
        ChunkKind::Macro => SymbolKind::FUNCTION,
        ChunkKind::Section => SymbolKind::STRING,
        ChunkKind::Block | ChunkKind::Window => SymbolKind::NAMESPACE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(sl: u32, sc: u32, el: u32, ec: u32, text: &str) -> TextDocumentContentChangeEvent {
        TextDocumentContentChangeEvent {
            range: Some(Range {
                start: Position {
                    line: sl,
                    character: sc,
                },
                end: Position {
                    line: el,
                    character: ec,
                },
            }),
            range_length: None,
            text: text.into(),
        }
    }

    #[test]
    fn edits_use_utf16_columns() {
        // "é" is one UTF-16 unit, "😀" two.
        let mut rope = Rope::from_str("é😀x\nsecond\n");
        apply_change(&mut rope, &change(0, 3, 0, 4, "y"));
        assert_eq!(rope.to_string(), "é😀y\nsecond\n");
        apply_change(&mut rope, &change(1, 0, 1, 6, "2nd"));
        assert_eq!(rope.to_string(), "é😀y\n2nd\n");
        // Positions past the end clamp instead of panicking.
        apply_change(&mut rope, &change(9, 9, 12, 0, "!"));
        assert_eq!(rope.to_string(), "é😀y\n2nd\n!");
        apply_change(
            &mut rope,
            &TextDocumentContentChangeEvent {
                range: None,
                range_length: None,
                text: "new".into(),
            },
        );
        assert_eq!(rope.to_string(), "new");
    }

    #[test]
    fn uris_round_trip() {
        let p = Path::new("/tmp/a b/c.rs");
        let u = path_to_uri(p).unwrap();
        assert_eq!(uri_to_path(&u).unwrap(), p);
        assert_eq!(
            line_range(3, 5),
            Range {
                start: Position::new(2, 0),
                end: Position::new(5, 0)
            }
        );
    }
}
