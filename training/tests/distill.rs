//! End to end: `distill` on a tiny corpus with the shipped model writes a folder that sg loads as a static model
//! whose vectors put related texts closer than unrelated ones.

use std::path::{Path, PathBuf};

use sg::embed::{EmbedOptions, Embedder, ModelManifest, StaticEmbedder, load_model};
use training::distill::{DistillArgs, TokenVector, Weighting, run};
use training::exclude::default_list_path;

fn shipped_model() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("models")
        .join("all-MiniLM-L6-v2")
}

fn args(corpus: Vec<PathBuf>, out: PathBuf) -> DistillArgs {
    DistillArgs {
        model: shipped_model(),
        corpus,
        out,
        dims: 64,
        max_corpus_chunks: None,
        weighting: Weighting::Sif,
        sif_a: 1e-3,
        token_vector: TokenVector::Token,
        max_tokens: 128,
        name: None,
        exclude_list: default_list_path(),
        exclude: Vec::new(),
        batch: 256,
        max_vocab: Some(2000),
    }
}

fn cos(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[test]
fn distilled_model_loads_in_sg_and_separates_related_from_unrelated_texts() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("fixture");
    std::fs::create_dir(&corpus).unwrap();
    std::fs::write(
        corpus.join("files.py"),
        "def read_file(path):\n    \"\"\"Open a file and read its contents.\"\"\"\n    with open(path) as f:\n        \
         return f.read()\n\n\ndef write_file(path, text):\n    \"\"\"Write text to a file on disk.\"\"\"\n    \
         with open(path, 'w') as f:\n        f.write(text)\n",
    )
    .unwrap();
    std::fs::write(
        corpus.join("tree.rs"),
        "/// Rotates a binary tree node to the left, keeping the search order.\nfn rotate_left(node: Box<Node>) -> \
         Box<Node> {\n    let mut right = node.right.unwrap();\n    right.left = Some(node);\n    right\n}\n",
    )
    .unwrap();
    // Files of an excluded project inside a corpus folder are skipped.
    std::fs::create_dir(corpus.join("tokio-1.0.0")).unwrap();
    std::fs::write(corpus.join("tokio-1.0.0").join("lib.rs"), "fn spawn() {}\n").unwrap();

    let out = tmp.path().join("static");
    let report = run(&args(vec![corpus.clone()], out.clone())).unwrap();
    assert_eq!(report.vocab, 30522);
    assert!(
        report.computed > 2000 && report.computed < 2300,
        "{}",
        report.computed
    );
    assert_eq!(report.corpus.files, 2);
    assert_eq!(report.corpus.excluded_files, 1);
    assert!(report.corpus.chunks >= 2);

    let manifest = ModelManifest::load(&out).unwrap();
    assert_eq!(
        (manifest.kind.as_str(), manifest.dims, manifest.max_tokens),
        ("static", 64, 128)
    );
    assert_eq!(manifest.name, "all-MiniLM-L6-v2-static-64");
    assert_eq!(
        manifest
            .files
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        [
            "LICENSE",
            "NOTICE",
            "embeddings.safetensors",
            "tokenizer.json"
        ]
    );
    let model = load_model(&out, &EmbedOptions::default()).unwrap();
    assert_eq!(
        (model.name(), model.dims()),
        ("all-MiniLM-L6-v2-static-64", 64)
    );
    let q = model.embed_query("read the contents of a file").unwrap();
    let docs = model
        .embed_documents(&["open a file and read its text", "rotate a binary tree node"])
        .unwrap();
    let (related, unrelated) = (cos(&q, &docs[0]), cos(&q, &docs[1]));
    assert!(
        related > unrelated + 0.1,
        "related {related}, unrelated {unrelated}"
    );
    assert!((cos(&q, &q) - 1.0).abs() < 1e-4);
    // The manifest's hashes are the files' hashes: a direct load gives the same fingerprint.
    assert_eq!(
        StaticEmbedder::load(&out, &EmbedOptions::default())
            .unwrap()
            .fingerprint(),
        model.fingerprint()
    );
}

#[test]
fn distill_refuses_an_excluded_corpus_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("aiohttp");
    std::fs::create_dir(&corpus).unwrap();
    let err = run(&args(vec![corpus], tmp.path().join("out"))).unwrap_err();
    assert!(
        err.to_string()
            .contains("\"aiohttp\" is on the training exclusion list"),
        "{err:#}"
    );
    assert!(!tmp.path().join("out").exists());
}
