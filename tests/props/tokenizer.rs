//! The code tokenizer on any text: no panic, every token non-empty, at most 64 bytes, and pointing at
//! a range of the text on character boundaries; positions never go back.

use proptest::prelude::*;
use sg::lexical::CodeTokenizer;
use tantivy::tokenizer::{TokenStream, Tokenizer};

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[A-Za-z0-9_ .:/\\-]{0,200}",
        "[a-zA-Z_\u{e9}\u{df}\u{130}\u{3a3}\u{1f600}\u{301}0-9]{0,120}",
        prop::collection::vec(any::<u8>(), 0..200)
            .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    ]
}

proptest! {
    #[test]
    fn tokens_stay_inside_the_text(text in text()) {
        let mut tok = CodeTokenizer::default();
        let mut stream = tok.token_stream(&text);
        let mut last_pos = 0;
        while stream.advance() {
            let t = stream.token();
            prop_assert!(!t.text.is_empty());
            prop_assert!(t.text.len() <= 64, "token {:?}", t.text);
            prop_assert!(t.offset_from < t.offset_to && t.offset_to <= text.len(),
                "{}..{} of {}", t.offset_from, t.offset_to, text.len());
            prop_assert!(text.is_char_boundary(t.offset_from) && text.is_char_boundary(t.offset_to));
            prop_assert!(t.position >= last_pos);
            last_pos = t.position;
        }
        let _ = sg::lexical::query_terms(&text);
    }
}
