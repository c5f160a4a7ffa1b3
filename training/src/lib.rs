//! Training for sg's embedding models: training pairs from source trees (`extract`), hard negatives (`mine`),
//! fine-tuning a BERT embedder with candle (`train`), writing and evaluating model folders (`export`), distilling a
//! static token-vector model (`distill`), the corpus rules every command obeys (the exclusion list) and a speed
//! check of any model folder.

pub mod bert;
pub mod corpus;
pub mod distill;
pub mod exclude;
pub mod export;
pub mod extract;
pub mod mine;
pub mod pairs;
pub mod speed;
pub mod train;
