//! [`FakeEmbedder`]: a deterministic hashed bag of words with the `Embedder` interface, for pipeline tests that
//! should not load a transformer.

use super::Embedder;
use super::pooling::normalize_l2;
use crate::ids::ModelFingerprint;

/// A deterministic stand-in for a real model: a signed, hashed bag of lowercase word tokens (identifiers are also
/// split into their camelCase and snake_case parts), L2-normalised. Texts sharing words get similar vectors.
#[derive(Clone, Debug)]
pub struct FakeEmbedder {
    dims: usize,
    name: String,
}

impl FakeEmbedder {
    /// A fake embedder producing `dims`-long vectors (at least 1).
    pub fn new(dims: usize) -> Self {
        let dims = dims.max(1);
        FakeEmbedder {
            dims,
            name: format!("fake-{dims}"),
        }
    }

    fn embed(&self, text: &str) -> Vec<f32> {
        let mut v = vec![0f32; self.dims];
        for token in word_tokens(text) {
            let h = blake3::hash(token.as_bytes());
            let bytes = h.as_bytes();
            let slot =
                u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")) % self.dims as u64;
            let sign = if bytes[8] & 1 == 0 { 1.0 } else { -1.0 };
            v[slot as usize] += sign;
        }
        if !normalize_l2(&mut v) {
            // No words at all: a fixed unit vector keeps the output normalised.
            v[0] = 1.0;
        }
        v
    }
}

/// Lowercase word tokens of `text`: every identifier-like run, plus its camelCase / snake_case parts when it has
/// more than one.
fn word_tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for word in text
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
    {
        let parts = split_identifier(word);
        out.push(word.to_lowercase());
        if parts.len() > 1 {
            out.extend(parts);
        }
    }
    out
}

/// `HTTPServerError` → `http, server, error`; `read_to_string` → `read, to, string`.
fn split_identifier(word: &str) -> Vec<String> {
    let chars: Vec<char> = word.chars().collect();
    let mut parts = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c == '_' {
            if !current.is_empty() {
                parts.push(std::mem::take(&mut current));
            }
            continue;
        }
        let prev = i.checked_sub(1).map(|j| chars[j]);
        let next = chars.get(i + 1).copied();
        let boundary = c.is_uppercase()
            && prev.is_some_and(|p| {
                p.is_lowercase()
                    || p.is_numeric()
                    || (p.is_uppercase() && next.is_some_and(char::is_lowercase))
            });
        if boundary && !current.is_empty() {
            parts.push(std::mem::take(&mut current));
        }
        current.extend(c.to_lowercase());
    }
    if !current.is_empty() {
        parts.push(current);
    }
    parts
}

impl Embedder for FakeEmbedder {
    fn fingerprint(&self) -> ModelFingerprint {
        let mut hasher = blake3::Hasher::new();
        hasher.update(b"sg-embed-fake-v1\0");
        hasher.update(&(self.dims as u64).to_le_bytes());
        super::fingerprint_of(&hasher)
    }

    fn dims(&self) -> usize {
        self.dims
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn embed_documents(&self, texts: &[&str]) -> anyhow::Result<Vec<Vec<f32>>> {
        Ok(texts.iter().map(|t| self.embed(t)).collect())
    }

    fn embed_query(&self, text: &str) -> anyhow::Result<Vec<f32>> {
        Ok(self.embed(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embed::tests::{cos, norm};

    #[test]
    fn fake_embedder_is_deterministic_and_normalised() {
        let fake = FakeEmbedder::new(64);
        let texts = [
            "fn readToString(path: &Path)",
            "read_to_string",
            "",
            "!!!",
            "HTTPServerError",
        ];
        let a = fake.embed_documents(&texts).unwrap();
        let b = FakeEmbedder::new(64).embed_documents(&texts).unwrap();
        assert_eq!(a, b);
        for v in &a {
            assert_eq!(v.len(), 64);
            assert!((norm(v) - 1.0).abs() < 1e-5);
        }
        assert_eq!(fake.embed_query(texts[0]).unwrap(), a[0]);
        // Shared split parts (read, to, string) make camelCase and snake_case spellings similar: 3 of 4 tokens.
        let wide = FakeEmbedder::new(1024);
        let (x, y) = (
            wide.embed_query("readToString").unwrap(),
            wide.embed_query("read_to_string").unwrap(),
        );
        assert!((cos(&x, &y) - 0.75).abs() < 1e-6, "{}", cos(&x, &y));
        assert_ne!(fake.fingerprint(), FakeEmbedder::new(32).fingerprint());
        assert_eq!(fake.dims(), 64);
    }

    #[test]
    fn identifiers_split_into_words() {
        assert_eq!(
            split_identifier("HTTPServerError"),
            ["http", "server", "error"]
        );
        assert_eq!(split_identifier("read_to_string"), ["read", "to", "string"]);
        assert_eq!(split_identifier("sha256Hash"), ["sha256", "hash"]);
        assert_eq!(
            word_tokens("let fooBar = 1;"),
            ["let", "foobar", "foo", "bar", "1"]
        );
    }
}
