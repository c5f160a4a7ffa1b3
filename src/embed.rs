//! Text embeddings: the `Embedder` trait, the candle BERT model, and the shared pooling function.
