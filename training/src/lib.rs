//! Training for sg's embedding models: distilling a static token-vector model from a BERT model, with the corpus
//! rules (the training exclusion list) every training command obeys, and a speed check of any model folder.

pub mod corpus;
pub mod distill;
pub mod exclude;
pub mod speed;
