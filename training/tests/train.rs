//! End to end: the trainable encoder computes what sg's embedder computes; a tiny fine-tuning run (full and LoRA)
//! lowers its loss, keeps a best model that sg loads and embeds with, and resumes from its checkpoint.

use std::path::{Path, PathBuf};

use candle_core::Device;
use sg::embed::{BertEmbedder, EmbedOptions, Embedder, ModelManifest, load_model};
use training::bert::TrainableBert;
use training::export::shipped_model;
use training::pairs::{Pair, write_pairs};
use training::train::{TrainArgs, embed_rows, encode, run};

const TOPICS: &[(&str, &str)] = &[
    (
        "Retry a failed HTTP request with exponential backoff.",
        "def retry_request(req, attempts):\n    for i in range(attempts):\n        try:\n            return send(req)\n        except IOError:\n            time.sleep(2 ** i)",
    ),
    (
        "Parse the configuration file into a dictionary.",
        "def parse_config(path):\n    with open(path) as f:\n        return toml.load(f)",
    ),
    (
        "Compute the SHA-256 checksum of a file.",
        "def checksum(path):\n    h = hashlib.sha256()\n    h.update(open(path, 'rb').read())\n    return h.hexdigest()",
    ),
    (
        "Send an email notification to the user.",
        "def notify(user, text):\n    smtp = smtplib.SMTP('localhost')\n    smtp.sendmail('noreply', user.email, text)",
    ),
    (
        "Resize an image to fit in a thumbnail.",
        "def thumbnail(img, size):\n    w, h = img.size\n    scale = size / max(w, h)\n    return img.resize((int(w * scale), int(h * scale)))",
    ),
    (
        "Open a connection to the database.",
        "def connect(url):\n    conn = psycopg.connect(url)\n    conn.autocommit = True\n    return conn",
    ),
    (
        "Render the page template with the context.",
        "def render(name, ctx):\n    tpl = env.get_template(name)\n    return tpl.render(**ctx)",
    ),
    (
        "Tokenize a sentence into lowercase words.",
        "def words(text):\n    return [w.lower() for w in re.findall(r'\\w+', text)]",
    ),
    (
        "Serialize the object to a JSON string.",
        "def to_json(obj):\n    return json.dumps(obj, sort_keys=True, indent=2)",
    ),
    (
        "Start the web server on the given port.",
        "def serve(port):\n    httpd = HTTPServer(('', port), Handler)\n    httpd.serve_forever()",
    ),
    (
        "Delete temporary files older than a day.",
        "def clean_tmp(folder):\n    for f in os.listdir(folder):\n        if age(f) > 86400:\n            os.remove(os.path.join(folder, f))",
    ),
    (
        "Read lines from standard input and count them.",
        "def count_lines():\n    n = 0\n    for _ in sys.stdin:\n        n += 1\n    return n",
    ),
];

fn pairs(repo: &str, range: std::ops::Range<usize>) -> Vec<Pair> {
    range
        .map(|i| {
            let (doc, code) = TOPICS[i % TOPICS.len()];
            Pair {
                anchor: format!("{doc} (variant {i})"),
                positive: format!("{code}\n# {i}"),
                negative: None,
                source: "doc".into(),
                language: "python".into(),
                repo: repo.into(),
                weight: 1.0,
            }
        })
        .collect()
}

fn args(dir: &Path, out: PathBuf) -> TrainArgs {
    TrainArgs {
        model: shipped_model(),
        train: dir.join("train.jsonl"),
        valid: dir.join("valid.jsonl"),
        out,
        batch: 8,
        accumulate: 1,
        lr: 1e-4,
        weight_decay: 0.01,
        warmup: 0.1,
        epochs: 6,
        max_steps: 0,
        temperature: 0.05,
        max_tokens: 64,
        anchor_tokens: 32,
        clip: 1.0,
        eval_every: 9,
        valid_limit: 100,
        lora_rank: 0,
        lora_alpha: 16.0,
        resume: false,
        seed: 1,
        group: training::train::Group::Repo,
        name: "test-model".into(),
        gpu: false,
    }
}

fn write_fixture(dir: &Path) {
    write_pairs(&dir.join("train.jsonl"), &pairs("a", 0..24)).unwrap();
    write_pairs(&dir.join("valid.jsonl"), &pairs("b", 100..106)).unwrap();
}

fn cos(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[test]
fn trainable_encoder_computes_what_sg_embeds() {
    // sg's f32 document path is the one the trainable encoder reproduces exactly; the bf16 path (where the CPU
    // has it) agrees with it to its rounding.
    let opts = EmbedOptions {
        max_tokens: 128,
        quantized_documents: false,
        ..EmbedOptions::default()
    };
    let reference = BertEmbedder::load(&shipped_model(), &opts).unwrap();
    let default_path = BertEmbedder::load(
        &shipped_model(),
        &EmbedOptions {
            max_tokens: 128,
            ..EmbedOptions::default()
        },
    )
    .unwrap();
    let model = TrainableBert::load(&shipped_model(), None, &Device::Cpu).unwrap();
    let texts = [
        "fn parse_config(path: &Path) -> Config { todo!() }",
        "retry failed requests",
    ];
    let expected = reference.embed_documents(&texts).unwrap();
    let rows: Vec<Vec<u32>> = texts
        .iter()
        .map(|t| encode(&reference, t, 128).unwrap())
        .collect();
    let rows: Vec<&[u32]> = rows.iter().map(|r| r.as_slice()).collect();
    let got = embed_rows(&model, &rows, &Device::Cpu)
        .unwrap()
        .to_vec2::<f32>()
        .unwrap();
    for (g, e) in got.iter().zip(&expected) {
        let diff = g
            .iter()
            .zip(e)
            .map(|(x, y)| (x - y).abs())
            .fold(0f32, f32::max);
        assert!(diff < 1e-4, "largest difference {diff}");
    }
    for (d, e) in default_path
        .embed_documents(&texts)
        .unwrap()
        .iter()
        .zip(&expected)
    {
        assert!(cos(d, e) > 0.9999, "cosine {}", cos(d, e));
    }
}

#[test]
fn tiny_run_lowers_the_loss_keeps_a_loadable_best_model_and_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    write_fixture(tmp.path());
    let out = tmp.path().join("run");
    let report = run(&args(tmp.path(), out.clone())).unwrap();
    assert_eq!(report.steps, 18, "24 pairs in batches of 8 for 6 epochs");
    assert!(
        report.last_loss < report.first_loss * 0.8,
        "loss {} -> {}",
        report.first_loss,
        report.last_loss
    );
    assert!(report.best_mrr >= report.base_mrr);

    let best = out.join("best");
    let manifest = ModelManifest::load(&best).unwrap();
    assert_eq!(manifest.kind, "bert");
    assert_eq!(manifest.dims, 384);
    assert!(manifest.files.contains_key("model.safetensors"));
    let text = std::fs::read_to_string(best.join("manifest.json")).unwrap();
    assert!(text.contains("\"train_pairs\": 24"), "{text}");
    assert!(best.join("LICENSE").is_file());
    let model = load_model(&best, &EmbedOptions::default()).unwrap();
    let v = model.embed_query("retry a failed http request").unwrap();
    let docs = model.embed_documents(&[TOPICS[0].1, TOPICS[6].1]).unwrap();
    assert_eq!(v.len(), 384);
    assert!(cos(&v, &docs[0]) > cos(&v, &docs[1]));

    // Resume continues from the checkpoint's step.
    let mut more = args(tmp.path(), out.clone());
    more.resume = true;
    more.epochs = 7;
    let resumed = run(&more).unwrap();
    assert_eq!(resumed.steps, 21);
}

#[test]
fn lora_run_changes_the_model_through_merged_adapters() {
    let tmp = tempfile::tempdir().unwrap();
    write_fixture(tmp.path());
    let out = tmp.path().join("lora");
    let mut a = args(tmp.path(), out.clone());
    a.lora_rank = 4;
    a.lr = 1e-3;
    a.epochs = 1;
    a.eval_every = 3;
    let report = run(&a).unwrap();
    assert_eq!(report.steps, 3);
    let base = load_model(&shipped_model(), &EmbedOptions::default()).unwrap();
    // The best model is only written when validation improves; the checkpoint always has the merged weights.
    let tuned_dir = out.join("checkpoint");
    let tuned = TrainableBert::load(&tuned_dir, None, &Device::Cpu).unwrap();
    let reference = BertEmbedder::load(&shipped_model(), &EmbedOptions::default()).unwrap();
    let ids = encode(&reference, TOPICS[3].1, 128).unwrap();
    let got = embed_rows(&tuned, &[ids.as_slice()], &Device::Cpu)
        .unwrap()
        .to_vec2::<f32>()
        .unwrap();
    let expected = base.embed_documents(&[TOPICS[3].1]).unwrap();
    let c = cos(&got[0], &expected[0]);
    assert!(c < 0.99999 && c > 0.5, "cosine to the base model {c}");
}

#[test]
fn overlapping_train_and_validation_repositories_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    write_pairs(&tmp.path().join("train.jsonl"), &pairs("a", 0..24)).unwrap();
    write_pairs(&tmp.path().join("valid.jsonl"), &pairs("a", 100..106)).unwrap();
    let err = format!(
        "{:#}",
        run(&args(tmp.path(), tmp.path().join("x"))).unwrap_err()
    );
    assert!(err.contains("\"a\" is in both"), "{err}");
}
