//! The chunker over every language, on random text and on real snippets damaged at random: no panic,
//! every chunk and symbol inside the text on character boundaries, chunk text equal to its range, lines
//! within the file and matching the bytes, and no code left out of every chunk.

use proptest::prelude::*;
use sg::chunk::{Analysis, ChunkConfig, analyze};
use sg::syntax::Language;

/// A real snippet per language: definitions nested in containers, comments, strings, and the
/// language's odd corners (heredocs, decorators, macros, templates).
fn snippet(lang: Language) -> &'static str {
    match lang {
        Language::Rust => {
            "//! Doc.\nuse std::fmt;\n\n/// A point.\n#[derive(Debug)]\npub struct P { x: i32 }\n\nimpl P {\n    pub fn new(x: i32) -> Self { P { x } }\n    fn f<'a>(&self, s: &'a str) -> &'a str { let r = r#\"raw \"q\"\"#; s }\n}\n\nmacro_rules! m { ($e:expr) => { $e * 2 }; }\n\nmod inner {\n    pub trait T { fn go(&self); }\n    const C: u8 = b'\\n';\n}\n"
        }
        Language::Python => {
            "\"\"\"Module.\"\"\"\nimport os\n\n@decorator(1)\nclass A(Base):\n    '''Doc.'''\n    x: int = 3\n\n    def m(self, *a, **k):\n        return f\"{self.x!r:>{k}}\"\n\n    async def n(self):\n        async with x as y:\n            yield y\n\ndef top(a, /, b, *, c=lambda q: q):\n    def inner():\n        pass\n    return inner\n"
        }
        Language::JavaScript => {
            "// c\nimport x from 'y';\nexport class A extends B {\n  #p = 1;\n  static s() { return `t${this.#p}`; }\n  get g() { return /re[/]x/g; }\n}\nfunction f(a, ...r) { return (b) => <div a={b}>{r}</div>; }\nconst o = { m() {}, async *gen() { yield 1; } };\n"
        }
        Language::TypeScript => {
            "interface I<T> { a: T; m(x: number): void }\ntype U = 'a' | 'b';\nenum E { A = 1, B }\nexport abstract class C<T extends I<T>> implements I<T> {\n  constructor(private readonly a: T) { super(); }\n  m(x: number): void { const y = <T>x; }\n}\nnamespace N { export function f(): never { throw 1; } }\ndeclare module 'm' { export const z: number; }\n"
        }
        Language::Tsx => {
            "import React from 'react';\ninterface Props { n: number }\nexport function App({ n }: Props) {\n  const f = (x: number) => <span>{x}</span>;\n  return <div className=\"a\">{[1, 2].map(f)}{n > 1 && <b>many</b>}</div>;\n}\nclass K extends React.Component<Props> { render() { return <i/>; } }\n"
        }
        Language::Go => {
            "package main\n\nimport (\n\t\"fmt\"\n)\n\n// T is a type.\ntype T struct{ A int `json:\"a\"` }\n\ntype I interface{ M() }\n\nfunc (t *T) M() { fmt.Println(`raw`) }\n\nfunc G[K comparable, V any](m map[K]V) []K {\n\tgo func() {}()\n\treturn nil\n}\n\nconst C = iota\n"
        }
        Language::Java => {
            "package a.b;\nimport java.util.*;\n/** Doc. */\n@Ann(x = 1)\npublic class A<T> extends B implements C {\n  private int f;\n  public A() { super(); }\n  <U> U m(List<? extends T> l) throws E { return null; }\n  interface I { void go(); }\n  enum E { X, Y; void z() {} }\n  record R(int a) {}\n  static { var s = \"\"\"\n    text\n    \"\"\"; }\n}\n"
        }
        Language::C => {
            "#include <stdio.h>\n#define M(x) ((x) * 2)\ntypedef struct s { int a; } S;\nenum e { A, B };\nstatic int f(int a, char **b) {\n#ifdef X\n  return 0;\n#endif\n  return M(a);\n}\nunion u { int i; float f; };\nint main(void) { return f(1, 0); }\n"
        }
        Language::Cpp => {
            "#include <vector>\nnamespace n {\ntemplate <typename T>\nclass A : public B<T> {\n public:\n  A() = default;\n  virtual ~A();\n  T get() const { return t_; }\n private:\n  T t_;\n};\nstruct S { int x; };\nauto l = [](int a) -> int { return a; };\n}  // namespace n\nint n::A<int>::get() const { return 0; }\n"
        }
        Language::CSharp => {
            "using System;\nnamespace N {\n  [Attr]\n  public class A<T> : B, I where T : new() {\n    public int P { get; set; }\n    public A() : base() {}\n    public void M(ref int x) { var s = $\"{x}\"; }\n    event EventHandler E;\n  }\n  interface I { void M(ref int x); }\n  struct S { }\n  enum E { X }\n  record R(int A);\n}\n"
        }
        Language::Ruby => {
            "# c\nmodule M\n  class A < B\n    attr_reader :x\n    def initialize(x) = @x = x\n    def self.s; end\n    def m(*a, **k, &b)\n      <<~EOS\n        heredoc #{a}\n      EOS\n    end\n  end\nend\ndef top; [1].each { |i| i }; end\n"
        }
        Language::Php => {
            "<?php\nnamespace A;\nuse B\\C;\n/** Doc */\nclass K extends P implements I {\n  use T;\n  public function __construct(private int $a) {}\n  public static function s(): ?string { return <<<EOT\n  text $a\n  EOT; }\n}\ninterface I {}\ntrait T { function t() {} }\nfunction f($x) { return fn($y) => $x + $y; }\n?>\n<html><?= $v ?></html>\n"
        }
        Language::Kotlin => {
            "package a\nimport b.C\n/** Doc */\ndata class P(val x: Int)\nsealed interface S\nobject O : S { fun f() = 1 }\nclass A<T>(private val t: T) : B() {\n  companion object { const val C = 1 }\n  fun <U> m(u: U): String = \"${t}$u\"\n  inner class I\n}\nfun top(vararg a: Int) { a.forEach { println(it) } }\ntypealias Q = Map<String, Int>\n"
        }
        Language::Scala => {
            "package a\nimport b._\ntrait T { def m(x: Int): Int }\ncase class P(x: Int)\nobject O extends T {\n  def m(x: Int) = x * 2\n  val s = s\"v=$x\"\n}\nclass A[T](t: T) {\n  def f(implicit ev: T =:= Int): Int = t\n  type U = List[T]\n}\nenum Color { case Red, Green }\n"
        }
        Language::Swift => {
            "import Foundation\n/// Doc\nprotocol P { func f() }\nstruct S: P {\n  var x: Int\n  func f() {}\n}\nclass C<T>: NSObject {\n  init(t: T) { super.init() }\n  deinit {}\n  subscript(i: Int) -> Int { i }\n}\nextension S { static func g() -> String { \"\\(1)\" } }\nenum E { case a, b(Int) }\nfunc top() async throws {}\n"
        }
        Language::Elixir => {
            "defmodule A.B do\n  @moduledoc \"\"\"\n  Doc.\n  \"\"\"\n  use GenServer\n  @doc \"f\"\n  def f(x) when is_integer(x), do: x + 1\n  defp g(%{a: a} = m), do: {a, m}\n  defmacro m(ast), do: quote(do: unquote(ast))\n  defstruct [:a]\nend\ndefprotocol P do\n  def p(x)\nend\ndefimpl P, for: Integer do\n  def p(x), do: ~s(#{x})\nend\n"
        }
        Language::Haskell => {
            "module M (f, T(..)) where\nimport Data.List (sort)\n-- | Doc\ndata T = A | B Int deriving (Show)\nnewtype N = N Int\nclass C a where\n  c :: a -> Int\ninstance C T where\n  c _ = 1\nf :: Int -> Int\nf x = let y = x in y + 1\n  where z = 2\ntype S = [T]\n"
        }
        Language::Lua => {
            "-- c\nlocal M = {}\nfunction M.f(a, ...)\n  return a\nend\nfunction M:m() return self end\nlocal function g() end\nlocal t = { x = function() end, [[long\nstring]] }\nreturn M\n"
        }
        Language::Bash => {
            "#!/bin/bash\nset -e\n# c\nf() {\n  local x=\"$1\"\n  echo \"${x:-d}\" | grep -q a && return 0\n}\nfunction g {\n  cat <<EOF\nheredoc $x\nEOF\n}\ncase $1 in a) f ;; *) g ;; esac\n"
        }
        Language::Zig => {
            "const std = @import(\"std\");\n/// Doc\npub const P = struct {\n    x: i32,\n    pub fn init(x: i32) P { return .{ .x = x }; }\n};\nconst E = enum { a, b };\nfn f(comptime T: type, a: T) T { return a; }\ntest \"t\" { try std.testing.expect(true); }\npub fn main() !void { const s = \\\\multi\n    ; _ = s; }\n"
        }
        Language::Markdown => {
            "# Title\n\nText with `code`.\n\n## Section\n\n```rust\nfn main() {}\n```\n\n- a\n- b\n\n### Deeper\n\n> quote\n\nSetext\n======\n"
        }
        Language::Json => {
            "{\n  \"a\": [1, 2.5e3, true, null],\n  \"b\": {\"c\": \"\\u00e9\\n\"}\n}\n"
        }
        Language::Yaml => {
            "a: 1\nb:\n  - x\n  - y: |\n      block\n      text\nc: &anchor {d: e}\nf: *anchor\n"
        }
        Language::Toml => {
            "[package]\nname = \"a\"\n\n[[bin]]\npath = 'b'\n\n[deps]\nx = { version = \"1\", features = [\"y\"] }\n"
        }
        Language::Html => {
            "<!doctype html>\n<html><head><title>t</title><script>let a = '<b>';</script></head>\n<body><div class=\"a\"><p>text &amp; more</p></div></body></html>\n"
        }
        Language::Css => {
            ".a > b:hover { color: #fff; }\n@media (max-width: 10px) { .c { margin: 0 } }\n:root { --v: calc(1px + 2em); }\n"
        }
        Language::Sql => {
            "CREATE TABLE t (id INT PRIMARY KEY, n TEXT);\nSELECT a, count(*) FROM t WHERE n LIKE '%x' GROUP BY a;\n-- c\nINSERT INTO t VALUES (1, 'a');\n"
        }
        Language::Xml => {
            "<?xml version=\"1.0\"?>\n<root a=\"1\"><!-- c --><child><![CDATA[x < y]]></child><e/></root>\n"
        }
        Language::Text => {
            "Plain text.\nSecond line with tabs\tand unicode \u{e9}.\n\nThird paragraph.\n"
        }
    }
}

/// Random text: code-ish characters, any Unicode, and bytes decoded as the indexer decodes them.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z_A-Z0-9 {}()\\[\\];:,.=<>+*/\"'#@$%&|!?\\\\`\t\n-]{0,400}",
        any::<String>(),
        prop::collection::vec(any::<u8>(), 0..400)
            .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    ]
}

/// One edit of a snippet's bytes: at a position (a fraction of the length), delete some bytes and
/// insert others.
fn edits() -> impl Strategy<Value = Vec<(f64, usize, Vec<u8>)>> {
    let insert = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..6),
        prop::sample::select(vec![
            b"{".to_vec(),
            b"}".to_vec(),
            b"(".to_vec(),
            b"\"".to_vec(),
            b"'".to_vec(),
            b"\n".to_vec(),
            b"/*".to_vec(),
            b"<<EOF\n".to_vec(),
            "\u{e9}".as_bytes().to_vec(),
            "\u{1f600}".as_bytes().to_vec(),
            b"\r\n".to_vec(),
            b"\0".to_vec(),
        ]),
    ];
    prop::collection::vec((0.0..=1.0f64, 0usize..12, insert), 1..6)
}

fn apply(snippet: &str, edits: &[(f64, usize, Vec<u8>)]) -> String {
    let mut b = snippet.as_bytes().to_vec();
    for (at, del, ins) in edits {
        let at = ((b.len() as f64) * at) as usize;
        let at = at.min(b.len());
        let end = (at + del).min(b.len());
        b.splice(at..end, ins.iter().copied());
    }
    String::from_utf8_lossy(&b).into_owned()
}

fn config() -> impl Strategy<Value = ChunkConfig> {
    prop_oneof![
        3 => Just(ChunkConfig::default()),
        1 => (
            0usize..300,
            0usize..100,
            0usize..12,
            0usize..12,
            0usize..400,
            any::<bool>()
        )
            .prop_map(
                |(max_chars, min_chars, window_lines, overlap_lines, pack_chars, split_containers)| {
                    ChunkConfig {
                        max_chars,
                        min_chars,
                        window_lines,
                        overlap_lines,
                        pack_chars,
                        split_containers,
                    }
                }
            ),
    ]
}

/// The 1-based line of byte `at`.
fn line_of(text: &str, at: usize) -> u32 {
    1 + text.as_bytes()[..at]
        .iter()
        .filter(|b| **b == b'\n')
        .count() as u32
}

fn check(lang: Language, text: &str, cfg: &ChunkConfig) -> Result<(), TestCaseError> {
    let Analysis {
        chunks,
        symbols,
        packs,
        references,
    } = analyze(lang, text, cfg);
    let lines = line_of(text, text.len());
    // Every reference names a word of the text at its line and column.
    let text_lines: Vec<&str> = text.split('\n').collect();
    for r in &references {
        let line = text_lines.get(r.line as usize - 1).copied().unwrap_or("");
        let at = (r.column as usize - 1).min(line.len());
        prop_assert!(
            !r.name.is_empty()
                && line
                    .get(at..)
                    .is_some_and(|rest| rest.starts_with(r.name.as_str())),
            "reference {:?} is not at its place in {:?}",
            r,
            line
        );
    }
    let mut covered = vec![false; text.len()];
    for c in &chunks {
        let (s, e) = (c.start_byte as usize, c.end_byte as usize);
        prop_assert!(
            s <= e && e <= text.len(),
            "chunk {s}..{e} of {}",
            text.len()
        );
        prop_assert!(
            text.is_char_boundary(s) && text.is_char_boundary(e),
            "chunk {s}..{e}"
        );
        prop_assert_eq!(&c.text, &text[s..e]);
        prop_assert!(
            1 <= c.start_line && c.start_line <= c.end_line && c.end_line <= lines,
            "chunk lines {}-{} of {lines}",
            c.start_line,
            c.end_line
        );
        prop_assert_eq!(
            c.start_line,
            line_of(text, s),
            "first line of chunk {}..{}",
            s,
            e
        );
        covered[s..e].iter_mut().for_each(|b| *b = true);
    }
    for (i, b) in text.bytes().enumerate() {
        prop_assert!(
            covered[i] || b.is_ascii_whitespace(),
            "byte {i} ({:?}) is in no chunk",
            b as char
        );
    }
    for s in &symbols {
        let (a, b) = (s.start_byte as usize, s.end_byte as usize);
        prop_assert!(
            a <= b && b <= text.len(),
            "symbol {} at {a}..{b} of {}",
            s.name,
            text.len()
        );
        prop_assert!(
            text.is_char_boundary(a) && text.is_char_boundary(b),
            "symbol {a}..{b}"
        );
        prop_assert!(
            1 <= s.start_line && s.start_line <= s.end_line && s.end_line <= lines,
            "symbol {} lines {}-{} of {lines}",
            s.name,
            s.start_line,
            s.end_line
        );
    }
    // Packs cover every unit once, in order; a pack of several units stays within the packing limit (or,
    // for a container cut into units and embedded whole, within the chunk limit).
    let mut next = 0;
    for p in &packs {
        prop_assert_eq!(p.members.start, next, "packs {:?}", packs);
        prop_assert!(p.members.end > p.members.start);
        next = p.members.end;
        prop_assert!(
            p.members.len() == 1
                || (p.end_byte - p.start_byte) as usize
                    <= cfg.pack_chars.max(cfg.max_chars.max(16)),
            "pack {:?} over {} bytes",
            p,
            cfg.pack_chars
        );
    }
    prop_assert_eq!(next, chunks.len());
    Ok(())
}

macro_rules! languages {
    ($($module:ident => $lang:ident),* $(,)?) => {
        $(
            mod $module {
                use super::*;

                proptest! {
                    #[test]
                    fn random_text(t in text()) {
                        check(Language::$lang, &t, &ChunkConfig::default())?;
                    }

                    #[test]
                    fn damaged_snippet(e in edits(), cfg in config()) {
                        check(Language::$lang, &apply(snippet(Language::$lang), &e), &cfg)?;
                    }
                }

                #[test]
                fn snippet_as_written() {
                    let text = snippet(Language::$lang);
                    check(Language::$lang, text, &ChunkConfig::default()).unwrap();
                    assert!(!analyze(Language::$lang, text, &ChunkConfig::default()).chunks.is_empty());
                }
            }
        )*

        #[test]
        fn every_language_is_covered() {
            let covered = [$(Language::$lang),*];
            for lang in Language::ALL {
                assert!(covered.contains(&lang), "{lang} has no property test");
            }
        }
    };
}

languages! {
    rust => Rust, python => Python, javascript => JavaScript, typescript => TypeScript, tsx => Tsx,
    go => Go, java => Java, c => C, cpp => Cpp, csharp => CSharp, ruby => Ruby, php => Php,
    kotlin => Kotlin, scala => Scala, swift => Swift, elixir => Elixir, haskell => Haskell,
    lua => Lua, bash => Bash, zig => Zig, markdown => Markdown, json => Json, yaml => Yaml,
    toml => Toml, html => Html, css => Css, sql => Sql, xml => Xml, text => Text,
}
