//! Shared helpers: fixture trees written from one string, workspaces with a private index folder.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use sg::embed::{BertEmbedder, EmbedOptions, Embedder};
use sg::index::{OpenOptions, Workspace};

/// Writes a fixture: blocks introduced by `//- /relative/path` lines.
pub fn write_fixture(root: &Path, fixture: &str) {
    let mut current: Option<(PathBuf, String)> = None;
    let flush = |cur: &mut Option<(PathBuf, String)>| {
        if let Some((p, text)) = cur.take() {
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
    };
    for line in fixture.lines() {
        if let Some(path) = line.strip_prefix("//- /") {
            flush(&mut current);
            current = Some((root.join(path.trim()), String::new()));
        } else if let Some((_, text)) = current.as_mut() {
            text.push_str(line);
            text.push('\n');
        }
    }
    flush(&mut current);
}

/// A temporary workspace and index folder.
pub struct TestWs {
    pub dir: tempfile::TempDir,
}

impl TestWs {
    pub fn new(fixture: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("ws")).unwrap();
        write_fixture(&dir.path().join("ws"), fixture);
        TestWs { dir }
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path().join("ws")
    }

    pub fn index_dir(&self) -> PathBuf {
        self.dir.path().join("index")
    }

    pub fn options(&self, embedder: Option<Arc<dyn Embedder>>) -> OpenOptions {
        OpenOptions {
            index_dir: Some(self.index_dir()),
            cache_dir: Some(self.dir.path().join("cache")),
            embedder,
            ..OpenOptions::default()
        }
    }

    pub fn open(&self, embedder: Option<Arc<dyn Embedder>>) -> Workspace {
        Workspace::open(&self.root(), self.options(embedder)).unwrap()
    }

    pub fn write(&self, rel: &str, text: &str) {
        let p = self.root().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

/// The shipped fast (static) model, loaded once per test binary.
pub fn real_fast_model() -> Arc<dyn Embedder> {
    static MODEL: OnceLock<Arc<dyn Embedder>> = OnceLock::new();
    MODEL
        .get_or_init(|| {
            sg::setup::load_fast_embedder(None)
                .expect("the fast model loads")
                .expect("the fast model ships in models/")
        })
        .clone()
}

/// The shipped model, loaded once per test binary.
pub fn real_model() -> Arc<dyn Embedder> {
    static MODEL: OnceLock<Arc<dyn Embedder>> = OnceLock::new();
    MODEL
        .get_or_init(|| {
            let dir = sg::embed::default_model_dir().expect("the default model ships in models/");
            Arc::new(
                BertEmbedder::load(&dir, &EmbedOptions::default())
                    .expect("the default model loads"),
            )
        })
        .clone()
}

/// Says on the real stderr (not the test harness's captured output, so it shows for a passing test) that a
/// test was skipped and why.
pub fn say_skipped(test: &str, why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "test {test}: skipped: {why}");
}

/// The `sg` binary, with the test workspace's own index base and no log level from the environment.
pub fn sg(t: &TestWs) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_sg"));
    c.env("SG_INDEX_DIR", t.dir.path().join("base"));
    c.env_remove("SG_LOG");
    c
}

/// Runs a command that must succeed (its stderr shown otherwise) and parses its JSON output.
pub fn ok_json(cmd: &mut std::process::Command) -> serde_json::Value {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    json(&out.stdout)
}

/// Parses a command's JSON output, showing it when it is not JSON.
pub fn json(out: &[u8]) -> serde_json::Value {
    serde_json::from_slice(out)
        .unwrap_or_else(|e| panic!("bad JSON ({e}): {}", String::from_utf8_lossy(out)))
}
