//! Pure chunking: text (and its syntax tree) to search chunks with ranges, symbol, kind and hash.
