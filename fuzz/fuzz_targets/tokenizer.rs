//! The code tokenizer and query analysis on any text: no panic, every token non-empty, at most 64
//! bytes, inside the text on character boundaries, positions never going back.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sg::lexical::CodeTokenizer;
use tantivy::tokenizer::{TokenStream, Tokenizer};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut tok = CodeTokenizer::default();
    let mut stream = tok.token_stream(&text);
    let mut last = 0;
    while stream.advance() {
        let t = stream.token();
        assert!(!t.text.is_empty() && t.text.len() <= 64);
        assert!(t.offset_from < t.offset_to && t.offset_to <= text.len());
        assert!(text.is_char_boundary(t.offset_from) && text.is_char_boundary(t.offset_to));
        assert!(t.position >= last);
        last = t.position;
    }
    let _ = sg::lexical::query_terms(&text);
});
