//! Tests of reference extraction per language: calls, types, imports, member reads, and what is not a
//! reference (definitions' own names, locals, comments and strings).

use crate::chunk::{ChunkConfig, analyze};
use crate::graph::RefKind;
use crate::syntax::Language;

/// (name, line, kind) of every reference of `text`.
fn refs(lang: Language, text: &str) -> Vec<(String, u32, RefKind)> {
    analyze(lang, text, &ChunkConfig::default())
        .references
        .into_iter()
        .map(|r| (r.name, r.line, r.kind))
        .collect()
}

fn has(all: &[(String, u32, RefKind)], name: &str, line: u32, kind: RefKind) -> bool {
    all.iter()
        .any(|r| r.0 == name && r.1 == line && r.2 == kind)
}

fn lines_of(all: &[(String, u32, RefKind)], name: &str) -> Vec<u32> {
    all.iter().filter(|r| r.0 == name).map(|r| r.1).collect()
}

#[test]
fn rust_calls_types_imports_and_not_the_definition() {
    let text = "use crate::config::{load_config, Config};\n\
                \n\
                /// Calls load_config.\n\
                pub fn start(c: &Config) -> Server {\n\
                \x20   let cfg = load_config(\"x\");\n\
                \x20   let s = Server::new(cfg);\n\
                \x20   s.handle(c);\n\
                \x20   println!(\"{}\", helper!(cfg));\n\
                \x20   s\n\
                }\n\
                \n\
                fn load_local() {}\n";
    let r = refs(Language::Rust, text);
    assert!(has(&r, "load_config", 1, RefKind::Import), "{r:?}");
    assert!(has(&r, "Config", 1, RefKind::Import), "{r:?}");
    assert!(has(&r, "Config", 4, RefKind::Type), "{r:?}");
    assert!(has(&r, "Server", 4, RefKind::Type), "{r:?}");
    assert!(has(&r, "load_config", 5, RefKind::Call), "{r:?}");
    assert!(has(&r, "new", 6, RefKind::Call), "{r:?}");
    assert!(has(&r, "handle", 7, RefKind::Call), "{r:?}");
    // Inside a macro's tokens every name is a plain use.
    assert!(has(&r, "helper", 8, RefKind::Use), "{r:?}");
    // Locals (the receiver `s`, the parameter `c`) are the function's own names, not references.
    assert!(
        lines_of(&r, "s").is_empty() && lines_of(&r, "c").is_empty(),
        "{r:?}"
    );
    // Definitions name themselves; they do not refer. The doc comment is not code.
    assert!(lines_of(&r, "start").is_empty(), "{r:?}");
    assert!(lines_of(&r, "load_local").is_empty(), "{r:?}");
    assert_eq!(lines_of(&r, "load_config"), [1, 5], "{r:?}");
}

#[test]
fn python_calls_attributes_imports_and_strings() {
    let text = "from app.config import load_config\n\
                import retry\n\
                \n\
                class Client(Base):\n\
                \x20   def fetch(self, url: Url) -> Response:\n\
                \x20       \"\"\"Calls load_config.\"\"\"\n\
                \x20       cfg = load_config()\n\
                \x20       return retry.with_backoff(self.session.get, url)\n";
    let r = refs(Language::Python, text);
    assert!(has(&r, "load_config", 1, RefKind::Import), "{r:?}");
    assert!(has(&r, "retry", 2, RefKind::Import), "{r:?}");
    assert!(has(&r, "Base", 4, RefKind::Use), "{r:?}");
    assert!(has(&r, "Url", 5, RefKind::Type), "{r:?}");
    assert!(has(&r, "Response", 5, RefKind::Type), "{r:?}");
    assert!(has(&r, "load_config", 7, RefKind::Call), "{r:?}");
    assert!(has(&r, "with_backoff", 8, RefKind::Call), "{r:?}");
    // Read through a receiver and passed, not called: a member read.
    assert!(has(&r, "get", 8, RefKind::Field), "{r:?}");
    assert!(lines_of(&r, "fetch").is_empty(), "{r:?}");
    assert!(lines_of(&r, "Client").is_empty(), "{r:?}");
    // The docstring's words are not references.
    assert_eq!(lines_of(&r, "load_config"), [1, 7], "{r:?}");
}

#[test]
fn typescript_and_go_and_java_calls() {
    let ts = "import { parseConfig } from './config';\n\
              export function main(opts: Options): void {\n\
              \x20 const c = parseConfig(opts);\n\
              \x20 new Server(c).listen();\n\
              }\n";
    let r = refs(Language::TypeScript, ts);
    assert!(has(&r, "parseConfig", 1, RefKind::Import), "{r:?}");
    assert!(has(&r, "Options", 2, RefKind::Type), "{r:?}");
    assert!(has(&r, "parseConfig", 3, RefKind::Call), "{r:?}");
    assert!(has(&r, "Server", 4, RefKind::Call), "{r:?}");
    assert!(has(&r, "listen", 4, RefKind::Call), "{r:?}");
    assert!(lines_of(&r, "main").is_empty(), "{r:?}");

    let go = "package main\n\
              \n\
              import \"net/http\"\n\
              \n\
              func Serve(h http.Handler) error {\n\
              \x20   return http.ListenAndServe(\":80\", h)\n\
              }\n";
    let r = refs(Language::Go, go);
    assert!(has(&r, "Handler", 5, RefKind::Type), "{r:?}");
    assert!(has(&r, "ListenAndServe", 6, RefKind::Call), "{r:?}");
    assert!(lines_of(&r, "Serve").is_empty(), "{r:?}");

    let java = "import com.acme.Config;\n\
                class App {\n\
                \x20 void run(Config c) {\n\
                \x20   c.load(path);\n\
                \x20   Helper.start();\n\
                \x20 }\n\
                }\n";
    let r = refs(Language::Java, java);
    assert!(has(&r, "Config", 1, RefKind::Import), "{r:?}");
    assert!(has(&r, "Config", 3, RefKind::Type), "{r:?}");
    assert!(has(&r, "load", 4, RefKind::Call), "{r:?}");
    assert!(has(&r, "path", 4, RefKind::Use), "{r:?}");
    assert!(lines_of(&r, "c").is_empty(), "{r:?}");
    assert!(has(&r, "start", 5, RefKind::Call), "{r:?}");
    assert!(lines_of(&r, "run").is_empty(), "{r:?}");
}

#[test]
fn every_grammar_finds_a_call_and_not_its_own_definition() {
    let cases: &[(Language, &str, u32)] = &[
        (
            Language::C,
            "int go(void) { return compute_total(3); }\n",
            1,
        ),
        (Language::Cpp, "int go() { return compute_total(3); }\n", 1),
        (
            Language::CSharp,
            "class A { int Go() { return compute_total(3); } }\n",
            1,
        ),
        (Language::Ruby, "def go\n  compute_total(3)\nend\n", 2),
        (
            Language::Php,
            "<?php\nfunction go() { return compute_total(3); }\n",
            2,
        ),
        (
            Language::Kotlin,
            "fun go(): Int {\n  return compute_total(3)\n}\n",
            2,
        ),
        (
            Language::Scala,
            "object A {\n  def go(): Int = compute_total(3)\n}\n",
            2,
        ),
        (
            Language::Swift,
            "func go() -> Int {\n  return compute_total(3)\n}\n",
            2,
        ),
        (
            Language::Lua,
            "function go()\n  return compute_total(3)\nend\n",
            2,
        ),
        (Language::Bash, "go() {\n  compute_total 3\n}\n", 2),
        (
            Language::Zig,
            "fn go() i32 {\n    return compute_total(3);\n}\n",
            2,
        ),
        (
            Language::Elixir,
            "defmodule A do\n  def go, do: compute_total(3)\nend\n",
            2,
        ),
        (Language::Haskell, "go :: Int\ngo = compute_total 3\n", 2),
        (
            Language::JavaScript,
            "function go() { return compute_total(3); }\n",
            1,
        ),
    ];
    for (lang, text, line) in cases {
        let r = refs(*lang, text);
        assert!(
            r.iter().any(|x| x.0 == "compute_total" && x.1 == *line),
            "{lang:?}: {r:?}"
        );
        assert!(
            !r.iter().any(|x| x.0 == "go" && x.2 != RefKind::Type),
            "{lang:?} counts its own definition: {r:?}"
        );
    }
}

#[test]
fn locals_are_not_references_but_calls_of_the_same_name_are() {
    let rust = "fn run(timeout: u64) -> u64 {\n\
                \x20   let deadline = timeout + 1;\n\
                \x20   let v = timeout(deadline);\n\
                \x20   self.timeout + v\n\
                }\n\
                fn other() -> u64 {\n\
                \x20   DEFAULT + deadline\n\
                }\n";
    let r = refs(Language::Rust, rust);
    // The parameter and the local are the function's own names.
    assert!(lines_of(&r, "deadline") == [7], "{r:?}");
    assert!(has(&r, "timeout", 3, RefKind::Call), "{r:?}");
    assert!(has(&r, "timeout", 4, RefKind::Field), "{r:?}");
    assert!(!has(&r, "timeout", 2, RefKind::Use), "{r:?}");
    assert!(has(&r, "DEFAULT", 7, RefKind::Use), "{r:?}");

    let py = "LIMIT = 3\n\
              def fetch(url, retries=LIMIT):\n\
              \x20   for attempt in range(retries):\n\
              \x20       result = get(url)\n\
              \x20   return result\n";
    let r = refs(Language::Python, py);
    assert!(lines_of(&r, "url").is_empty(), "{r:?}");
    assert!(lines_of(&r, "result").is_empty(), "{r:?}");
    assert!(lines_of(&r, "attempt").is_empty(), "{r:?}");
    assert!(has(&r, "LIMIT", 2, RefKind::Use), "{r:?}");
    assert!(has(&r, "get", 4, RefKind::Call), "{r:?}");
}
