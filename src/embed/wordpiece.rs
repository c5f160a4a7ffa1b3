//! `AsciiWordPiece`: BERT's uncased WordPiece for ASCII text, the static model's fast path to the same token ids
//! as the tokenizers crate.

use tokenizers::Tokenizer;

/// BERT's uncased WordPiece tokenisation (`BertNormalizer` with lowercasing, `BertPreTokenizer`, `WordPiece`) for
/// ASCII text, without the tokenizers crate's per-token allocations and alignment bookkeeping. It gives the same
/// ids as the tokenizer it was built from (a test checks this on sg's own sources); texts it does not model
/// (non-ASCII, or containing an added token such as `[SEP]`) are left to the tokenizer.
pub(super) struct AsciiWordPiece {
    vocab: std::collections::HashMap<String, u32>,
    prefix: String,
    unk: u32,
    max_word_chars: usize,
    /// Lowercased contents of the added tokens, which the tokenizer matches before normalising.
    added: Vec<String>,
}

impl AsciiWordPiece {
    /// `None` unless `tokenizer.json` has exactly the pipeline this models.
    pub(super) fn new(tokenizer_json: &[u8], tokenizer: &Tokenizer) -> Option<Self> {
        let json: serde_json::Value = serde_json::from_slice(tokenizer_json).ok()?;
        let normalizer = &json["normalizer"];
        let model = &json["model"];
        let modelled = normalizer["type"] == "BertNormalizer"
            && normalizer["clean_text"] == true
            && normalizer["lowercase"] == true
            && json["pre_tokenizer"]["type"] == "BertPreTokenizer"
            && model["type"] == "WordPiece";
        if !modelled {
            return None;
        }
        let unk = tokenizer.token_to_id(model["unk_token"].as_str()?)?;
        let added = json["added_tokens"]
            .as_array()?
            .iter()
            .filter_map(|t| t["content"].as_str().map(str::to_lowercase))
            .collect();
        Some(AsciiWordPiece {
            vocab: tokenizer.get_vocab(false).into_iter().collect(),
            prefix: model["continuing_subword_prefix"].as_str()?.to_owned(),
            unk,
            max_word_chars: model["max_input_chars_per_word"].as_u64()? as usize,
            added,
        })
    }

    /// The first `limit` ids of `text`, or `None` if the text is not one this models.
    pub(super) fn encode(&self, text: &str, limit: usize) -> Option<Vec<u32>> {
        if !text.is_ascii() {
            return None;
        }
        // Clean and lowercase: control characters vanish, whitespace separates.
        let mut clean = String::with_capacity(text.len());
        for b in text.bytes() {
            match b {
                b'\t' | b'\n' | b'\r' | b' ' => clean.push(' '),
                0..=0x1f | 0x7f => {}
                _ => clean.push(b.to_ascii_lowercase() as char),
            }
        }
        if self.added.iter().any(|a| clean.contains(a.as_str())) {
            return None;
        }
        let mut ids = Vec::new();
        let mut buf = String::with_capacity(self.prefix.len() + self.max_word_chars);
        let bytes = clean.as_bytes();
        let mut i = 0;
        while i < bytes.len() && ids.len() < limit {
            let b = bytes[i];
            if b == b' ' {
                i += 1;
                continue;
            }
            let end = if b.is_ascii_punctuation() {
                i + 1
            } else {
                i + bytes[i..]
                    .iter()
                    .position(|c| *c == b' ' || c.is_ascii_punctuation())
                    .unwrap_or(bytes.len() - i)
            };
            self.word(&clean[i..end], &mut buf, &mut ids);
            i = end;
        }
        ids.truncate(limit);
        Some(ids)
    }

    /// Greedy longest-match-first WordPiece of one word; the whole word is unknown if any part is.
    fn word(&self, word: &str, buf: &mut String, ids: &mut Vec<u32>) {
        if word.len() > self.max_word_chars {
            ids.push(self.unk);
            return;
        }
        let mark = ids.len();
        let mut start = 0;
        while start < word.len() {
            let mut end = word.len();
            let mut found = None;
            while start < end {
                buf.clear();
                if start > 0 {
                    buf.push_str(&self.prefix);
                }
                buf.push_str(&word[start..end]);
                if let Some(&id) = self.vocab.get(buf.as_str()) {
                    found = Some(id);
                    break;
                }
                end -= 1;
            }
            match found {
                Some(id) => {
                    ids.push(id);
                    start = end;
                }
                None => {
                    ids.truncate(mark);
                    ids.push(self.unk);
                    return;
                }
            }
        }
    }
}
