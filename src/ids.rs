//! Small identifier newtypes shared by every layer: files, chunks, content hashes and model fingerprints.

use std::fmt;

/// A file known to one workspace index. Stable for the life of the index; reused ids are never handed out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

/// A chunk of one file. Also the item id in the vector store, so it is a `u32`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChunkId(pub u32);

/// blake3 hash of a chunk's embedded text, truncated to 16 bytes: the key of the embedding cache.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContentHash(pub [u8; 16]);

impl ContentHash {
    /// Hashes `bytes` with blake3 and keeps the first 16 bytes.
    pub fn of(bytes: &[u8]) -> Self {
        let full = blake3::hash(bytes);
        let mut out = [0u8; 16];
        out.copy_from_slice(&full.as_bytes()[..16]);
        ContentHash(out)
    }
}

impl fmt::Debug for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in &self.0[..6] {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// Identifies one embedding model (weights, tokenizer settings, pooling): vectors from different
/// fingerprints never mix.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModelFingerprint(pub [u8; 16]);

impl fmt::Debug for ModelFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in &self.0[..8] {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Display for ModelFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}
