//! The chunker on any text in any language: no panic, no crash in a grammar, every chunk and symbol
//! inside the text on character boundaries with lines matching its bytes, and no non-blank byte left
//! out of every chunk. The first byte picks the language, the second the chunk sizes.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sg::chunk::{ChunkConfig, analyze};
use sg::syntax::Language;

fn line_of(text: &str, at: usize) -> u32 {
    1 + text.as_bytes()[..at]
        .iter()
        .filter(|b| **b == b'\n')
        .count() as u32
}

fuzz_target!(|data: &[u8]| {
    let [lang, sizes, rest @ ..] = data else {
        return;
    };
    let lang = Language::ALL[*lang as usize % Language::ALL.len()];
    let cfg = if sizes & 1 == 0 {
        ChunkConfig::default()
    } else {
        ChunkConfig {
            max_chars: (*sizes as usize) * 2,
            min_chars: (*sizes as usize) / 2,
            window_lines: (*sizes as usize) % 13,
            overlap_lines: (*sizes as usize) % 7,
            pack_chars: (*sizes as usize) * 3,
            // Containers cut into header and members, or kept whole (the layout before units).
            split_containers: sizes & 2 == 0,
        }
    };
    let text = String::from_utf8_lossy(rest);
    let analysis = analyze(lang, &text, &cfg);
    let lines = line_of(&text, text.len());
    let mut covered = vec![false; text.len()];
    for c in &analysis.chunks {
        let (s, e) = (c.start_byte as usize, c.end_byte as usize);
        assert!(
            s <= e && e <= text.len(),
            "chunk {s}..{e} of {}",
            text.len()
        );
        assert!(text.is_char_boundary(s) && text.is_char_boundary(e));
        assert_eq!(c.text, text[s..e]);
        assert!(1 <= c.start_line && c.start_line <= c.end_line && c.end_line <= lines);
        assert_eq!(c.start_line, line_of(&text, s));
        covered[s..e].iter_mut().for_each(|b| *b = true);
    }
    for (i, b) in text.bytes().enumerate() {
        assert!(
            covered[i] || b.is_ascii_whitespace(),
            "byte {i} is in no chunk"
        );
    }
    // The main model's packs cover every unit once, in order, each spanning its members.
    let mut next = 0;
    for p in &analysis.packs {
        assert_eq!(p.members.start, next, "packs in order, none skipped");
        assert!(p.members.end > p.members.start && p.members.end <= analysis.chunks.len());
        assert_eq!(p.start_byte, analysis.chunks[p.members.start].start_byte);
        assert_eq!(p.end_byte, analysis.chunks[p.members.end - 1].end_byte);
        next = p.members.end;
    }
    assert_eq!(next, analysis.chunks.len(), "every unit is in a pack");
    for s in &analysis.symbols {
        let (a, b) = (s.start_byte as usize, s.end_byte as usize);
        assert!(a <= b && b <= text.len());
        assert!(text.is_char_boundary(a) && text.is_char_boundary(b));
        assert!(1 <= s.start_line && s.start_line <= s.end_line && s.end_line <= lines);
    }
});
