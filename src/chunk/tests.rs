//! Tests of chunking as a whole, and the helpers every language's tests use.

use super::lang::{ELIXIR, JAVA, RUST, fixtures};
use super::source::Source;
use super::*;

/// No packing, and containers that fit stay one chunk: the layout the snapshots below were written for.
pub(super) fn unpacked() -> ChunkConfig {
    ChunkConfig {
        pack_chars: 0,
        split_containers: false,
        ..ChunkConfig::default()
    }
}

#[test]
fn small_neighbours_share_a_pack_but_stay_units_of_their_own() {
    let text = "use std::io;\n\nfn a() -> u8 {\n    1\n}\n\nfn bb() -> u8 {\n    let x = 2;\n    x\n}\n\nstruct S;\n\nimpl S {\n    fn m(&self) {}\n}\n";
    let packed = ChunkConfig {
        pack_chars: 1500,
        ..ChunkConfig::default()
    };
    let a = analyze(Language::Rust, text, &packed);
    // Every definition is its own unit, with its own range and name.
    let units: Vec<(u32, u32, Option<&str>)> = a
        .chunks
        .iter()
        .map(|c| (c.start_line, c.end_line, c.symbol.as_deref()))
        .collect();
    assert_eq!(
        units,
        vec![
            (1, 5, Some("a")),
            (7, 10, Some("bb")),
            (12, 12, Some("S")),
            // A container is cut into its header and its members, even a small one.
            (14, 14, Some("S")),
            (15, 16, Some("m")),
        ],
        "{:#?}",
        a.chunks
    );
    // One pack holds them all, embedded as one text under the largest definition's chain.
    assert_eq!(
        a.packs,
        vec![Pack {
            members: 0..5,
            start_byte: 0,
            end_byte: text.trim_end().len() as u32,
            enclosing: "fn bb".into(),
        }]
    );
    assert!(a.is_packed(2));
    let names: Vec<&str> = a.symbols.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, vec!["a", "bb", "S", "S", "m"]);
    // A limit below the total makes several packs, each within the limit, covering every unit once.
    let small = ChunkConfig {
        pack_chars: 40,
        ..ChunkConfig::default()
    };
    let a = analyze(Language::Rust, text, &small);
    assert!(a.packs.len() > 1);
    let mut next = 0;
    for p in &a.packs {
        assert_eq!(p.members.start, next);
        next = p.members.end;
        assert!(
            p.members.len() == 1 || p.end_byte - p.start_byte <= 40,
            "{p:?}"
        );
    }
    assert_eq!(next, a.chunks.len());
    // The impl's header and method are embedded whole, as the impl, whatever the limit.
    let imp = a.packs.iter().find(|p| p.members.contains(&3)).unwrap();
    assert!(imp.members.contains(&4), "{:?}", a.packs);
    assert!(imp.enclosing.ends_with("impl S"), "{imp:?}");
    // Without packing every unit is its own pack.
    let a = analyze(Language::Rust, text, &unpacked());
    assert_eq!(a.packs.len(), a.chunks.len());
    assert!(!a.is_packed(0));
    // By default no neighbours share a pack; a container cut into units is still embedded whole.
    let a = analyze(Language::Rust, text, &ChunkConfig::default());
    let members: Vec<std::ops::Range<usize>> = a.packs.iter().map(|p| p.members.clone()).collect();
    assert_eq!(members, vec![0..1, 1..2, 2..3, 3..5], "{:?}", a.packs);
}

fn render(a: &Analysis) -> String {
    let mut out = String::new();
    for c in &a.chunks {
        let sym = c.symbol.as_deref().unwrap_or("-");
        out.push_str(&format!(
            "{}-{} {} {} | {}\n",
            c.start_line,
            c.end_line,
            c.kind.name(),
            sym,
            c.enclosing
        ));
    }
    out.push_str("--\n");
    for s in &a.symbols {
        let container = s.container.as_deref().unwrap_or("-");
        out.push_str(&format!(
            "{}-{} {} {} < {}\n",
            s.start_line,
            s.end_line,
            s.kind.name(),
            s.name,
            container
        ));
    }
    out
}

pub(super) fn check(lang: Language, text: &str, expect: &str) {
    let a = analyze(lang, text, &unpacked());
    assert_invariants(text, &a);
    let got = render(&a);
    assert!(
        got == expect.trim_start_matches('\n'),
        "{lang}: chunks differ\n--- got\n{got}--- want\n{expect}"
    );
}

/// Like [`check`], and also with chunks small enough to split every class into its members:
/// `split` lists those chunks.
pub(super) fn check_split(lang: Language, text: &str, expect: &str, split: &str) {
    check(lang, text, expect);
    let cfg = ChunkConfig {
        max_chars: 160,
        min_chars: 40,
        ..unpacked()
    };
    let a = analyze(lang, text, &cfg);
    assert_invariants(text, &a);
    let got = render(&a);
    let got = got.split("--\n").next().unwrap_or("");
    let want = split.trim_start_matches('\n');
    assert!(
        got == want,
        "{lang}: split chunks differ\n--- got\n{got}--- want\n{want}"
    );
}

/// Every non-blank line is in a chunk; each chunk's text is its byte range; lines agree with bytes.
pub(super) fn assert_invariants(text: &str, a: &Analysis) {
    let src = Source::new(text);
    let mut covered = vec![false; src.line_count()];
    for c in &a.chunks {
        let (s, e) = (c.start_byte as usize, c.end_byte as usize);
        assert!(s < e && e <= text.len(), "bad range {s}..{e}");
        assert_eq!(c.text, text[s..e], "chunk text is not its range");
        assert_eq!(c.start_line as usize, src.line_of(s) + 1);
        assert_eq!(c.end_line as usize, src.line_of(e - 1) + 1);
        for l in c.start_line..=c.end_line {
            covered[l as usize - 1] = true;
        }
    }
    for (line, ok) in covered.iter().enumerate() {
        if !ok {
            assert!(
                src.is_blank_line(line),
                "line {} is in no chunk: {:?}",
                line + 1,
                &text[src.line_start(line)..src.line_end(line)]
            );
        }
    }
    for s in &a.symbols {
        assert!(s.start_byte < s.end_byte && s.end_byte as usize <= text.len());
        assert!(s.start_line <= s.end_line);
    }
    // Packs cover every unit once, in order, and span their members.
    let mut next = 0;
    for p in &a.packs {
        assert_eq!(p.members.start, next, "{:?}", a.packs);
        assert!(p.members.end > p.members.start);
        next = p.members.end;
        assert_eq!(p.start_byte, a.chunks[p.members.start].start_byte);
        assert_eq!(p.end_byte, a.chunks[p.members.end - 1].end_byte);
    }
    assert_eq!(next, a.chunks.len());
}

#[test]
fn fixtures_cover_every_line_at_any_size() {
    for (lang, text) in fixtures() {
        for (max_chars, split_containers) in [40, 80, 200, 1500]
            .into_iter()
            .flat_map(|m| [(m, true), (m, false)])
        {
            let cfg = ChunkConfig {
                max_chars,
                min_chars: max_chars / 4,
                window_lines: 8,
                overlap_lines: 2,
                pack_chars: max_chars,
                split_containers,
            };
            let a = analyze(lang, text, &cfg);
            assert_invariants(text, &a);
            for c in &a.chunks {
                assert!(
                    c.text.len() <= max_chars.max(16),
                    "{lang} {max_chars}: chunk of {} bytes",
                    c.text.len()
                );
            }
        }
    }
}

fn big_impl() -> String {
    let mut text = String::from(
        "/// The server.\npub struct Server {\n    port: u16,\n}\n\nimpl Server {\n    const LIMIT: u32 = 3;\n\n",
    );
    for i in 0..12 {
        text.push_str(&format!(
            "    /// Method number {i}.\n    pub fn method_{i}(&self, x: u32) -> u32 {{\n        let y = x + {i};\n        let z = y * 2 + self.port as u32;\n        z - 1\n    }}\n\n"
        ));
    }
    text.push_str("}\n");
    text
}

#[test]
fn large_impl_splits_into_header_and_methods() {
    let text = big_impl();
    let a = analyze(Language::Rust, &text, &unpacked());
    assert_invariants(&text, &a);
    let lines: Vec<String> = render(&a).lines().take(5).map(str::to_owned).collect();
    assert_eq!(
        lines,
        [
            "1-4 struct Server | struct Server",
            "6-7 impl Server | impl Server",
            "9-14 method method_0 | impl Server > fn method_0",
            "16-21 method method_1 | impl Server > fn method_1",
            "23-28 method method_2 | impl Server > fn method_2",
        ]
    );
    let last = &a.chunks[a.chunks.len() - 1];
    assert_eq!(
        (last.start_line, last.end_line),
        (86, 93),
        "the closing brace joins the last method"
    );
    assert_eq!(last.symbol.as_deref(), Some("method_11"));
    assert_eq!(a.chunks.len(), 14);
    assert_eq!(a.chunks[1].text, "impl Server {\n    const LIMIT: u32 = 3;");
    // The impl symbol keeps its full range; the constant is still a symbol.
    let imp = a
        .symbols
        .iter()
        .find(|s| s.kind == ChunkKind::Impl)
        .unwrap();
    assert_eq!(
        (imp.name.as_str(), imp.start_line, imp.end_line),
        ("Server", 6, 93)
    );
    assert!(
        a.symbols
            .iter()
            .any(|s| s.name == "LIMIT" && s.container.as_deref() == Some("Server"))
    );
    assert_eq!(
        a.symbols
            .iter()
            .filter(|s| s.kind == ChunkKind::Method)
            .count(),
        12
    );
}

#[test]
fn large_python_class_splits_with_class_enclosing() {
    let mut text = String::from("class Big:\n    \"\"\"A big class.\"\"\"\n\n    limit = 3\n\n");
    for i in 0..20 {
        text.push_str(&format!("    def m{i}(self, x):\n        y = x * {i} + self.limit\n        return \"value {i}\" + str(y) + \"padding padding padding\"\n\n"));
    }
    let a = analyze(Language::Python, &text, &unpacked());
    assert_invariants(&text, &a);
    let r = render(&a);
    let lines: Vec<&str> = r.lines().take(3).collect();
    assert_eq!(
        lines,
        [
            "1-4 class Big | class Big",
            "6-8 method m0 | class Big > def m0",
            "10-12 method m1 | class Big > def m1"
        ]
    );
}

#[test]
fn long_function_splits_into_overlapping_windows() {
    let mut text = String::from("/// A long function.\nfn long_one() {\n");
    for i in 0..60 {
        text.push_str(&format!(
            "    let v{i} = compute({i}, \"some text that makes the line longer {i}\");\n"
        ));
    }
    text.push_str("}\n");
    let cfg = unpacked();
    let a = analyze(Language::Rust, &text, &cfg);
    assert_invariants(&text, &a);
    let ranges: Vec<(u32, u32)> = a
        .chunks
        .iter()
        .map(|c| (c.start_line, c.end_line))
        .collect();
    assert_eq!(ranges, [(1, 23), (19, 39), (35, 55), (51, 63)]);
    for c in &a.chunks {
        assert_eq!(c.symbol.as_deref(), Some("long_one"));
        assert_eq!(c.kind, ChunkKind::Function);
        assert_eq!(c.enclosing, "fn long_one");
        assert!(c.text.len() <= cfg.max_chars);
    }
    for w in ranges.windows(2) {
        assert_eq!(
            w[0].1 - w[1].0 + 1,
            cfg.overlap_lines as u32,
            "windows share overlap_lines lines"
        );
    }
}

#[test]
fn small_glue_merges_and_definitions_stay_apart() {
    let text = "import os\nimport sys\n\nx = 1\nprint(x)\n\ndef a():\n    return 1\n\ndef b():\n    return 2\n\nA = 1\nB = 2\n";
    check(
        Language::Python,
        text,
        "
1-8 function a | def a
10-11 function b | def b
13-14 block - | 
--
7-8 function a < -
10-11 function b < -
13-13 constant A < -
14-14 constant B < -
",
    );
    // Big glue stands alone as a block.
    let mut text = String::new();
    for i in 0..30 {
        text.push_str(&format!("import module_number_{i}\n"));
    }
    text.push_str("\ndef f():\n    pass\n");
    check(
        Language::Python,
        &text,
        "\n1-30 block - | \n32-33 function f | def f\n--\n32-33 function f < -\n",
    );
}

#[test]
fn markdown_chunks_by_section() {
    let text = "Intro text.\n\n# Title\n\nSome words.\n\n## Install\n\n```sh\n# not a heading\ncargo install sg\n```\n\n## Use #\n\nRun it.\n\n# Other\nEnd.\n";
    check(
        Language::Markdown,
        text,
        "
1-1 block - | 
3-5 section Title | Title
7-12 section Install | Title > Install
14-16 section Use | Title > Use
18-19 section Other | Other
--
3-16 section Title < -
7-12 section Install < Title
14-16 section Use < Title
18-19 section Other < -
",
    );
}

#[test]
fn long_markdown_section_splits_at_paragraphs() {
    let mut text = String::from("# Guide\n\n");
    for p in 0..12 {
        text.push_str(&format!("Paragraph {p} line one is long enough to matter here.\nAnd a second line for paragraph {p}.\n\n"));
    }
    let a = analyze(
        Language::Markdown,
        &text,
        &ChunkConfig {
            max_chars: 400,
            ..unpacked()
        },
    );
    assert_invariants(&text, &a);
    assert!(a.chunks.len() >= 3);
    for c in &a.chunks {
        assert_eq!(c.symbol.as_deref(), Some("Guide"));
        assert_eq!(c.kind, ChunkKind::Section);
        assert!(c.text.len() <= 400);
        // Cuts fall between paragraphs.
        assert!(c.text.ends_with('.'), "{:?}", c.text);
        assert!(
            c.text.starts_with("Paragraph") || c.text.starts_with("# Guide"),
            "{:?}",
            c.text
        );
    }
}

#[test]
fn text_falls_back_to_line_windows_cut_at_blank_lines() {
    let mut text = String::new();
    for block in 0..6 {
        for line in 0..15 {
            text.push_str(&format!("block {block} line {line}\n"));
        }
        text.push('\n');
    }
    let a = analyze(Language::Text, &text, &unpacked());
    assert_invariants(&text, &a);
    let ranges: Vec<(u32, u32)> = a
        .chunks
        .iter()
        .map(|c| (c.start_line, c.end_line))
        .collect();
    assert_eq!(ranges, [(1, 31), (33, 63), (65, 95)]);
    assert!(
        a.chunks
            .iter()
            .all(|c| c.kind == ChunkKind::Window && c.symbol.is_none() && c.enclosing.is_empty())
    );
    assert!(a.symbols.is_empty());
    // JSON and YAML go the same way.
    let json = "{\n  \"a\": 1,\n  \"b\": [1, 2]\n}\n";
    assert_eq!(
        render(&analyze(Language::Json, json, &unpacked())),
        "1-4 window - | \n--\n"
    );
}

#[test]
fn broken_syntax_still_chunks_and_loses_nothing() {
    let text =
        "fn ok() {\n    1\n}\n\nfn broken( {\n    let = ;\n}}}\n\nstruct After {\n    x: u8,\n}\n";
    let a = analyze(Language::Rust, text, &unpacked());
    assert_invariants(text, &a);
    assert!(a.symbols.iter().any(|s| s.name == "ok"));
    assert!(a.symbols.iter().any(|s| s.name == "After"));
    let text = "def f(:\n  return ((\nclass\n";
    assert_invariants(text, &analyze(Language::Python, text, &unpacked()));
}

#[test]
fn empty_and_blank_inputs_give_nothing() {
    for lang in Language::ALL {
        for text in ["", "   ", "\n\n\r\n\t\n"] {
            assert_eq!(
                analyze(lang, text, &unpacked()),
                Analysis::default(),
                "{lang}"
            );
        }
    }
}

#[test]
fn minified_five_megabyte_line() {
    let unit = "function a(b){return b+1};var c=a(2);";
    let text = unit.repeat(5 * 1024 * 1024 / unit.len() + 1);
    let cfg = unpacked();
    for lang in [Language::JavaScript, Language::Text] {
        let start = std::time::Instant::now();
        let a = analyze(lang, &text, &cfg);
        assert!(start.elapsed().as_secs() < 20);
        assert_invariants(&text, &a);
        assert!(
            a.chunks
                .iter()
                .all(|c| c.text.len() <= cfg.max_chars && c.start_line == 1 && c.end_line == 1)
        );
        let solid = |s: &str| s.bytes().filter(|b| !b.is_ascii_whitespace()).count();
        let total: usize = a.chunks.iter().map(|c| solid(&c.text)).sum();
        assert_eq!(total, solid(&text), "pieces of a long line tile it");
    }
}

#[test]
fn nul_bytes_do_not_lose_text() {
    let text = "fn a() {}\n\0\0\0\nfn b() { \"\0\" }\nlet x\0 = 1;\n";
    for lang in [
        Language::Rust,
        Language::C,
        Language::Python,
        Language::Text,
    ] {
        assert_invariants(text, &analyze(lang, text, &unpacked()));
    }
}

#[test]
fn crlf_line_numbers_match_lf() {
    for (lang, text) in fixtures() {
        let crlf = text.replace('\n', "\r\n");
        let a = analyze(lang, text, &unpacked());
        let b = analyze(lang, &crlf, &unpacked());
        assert_invariants(&crlf, &b);
        assert_eq!(render(&a), render(&b), "{lang}");
        assert!(b.chunks.iter().all(|c| !c.text.ends_with('\r')));
    }
}

#[test]
fn multibyte_text_is_cut_at_char_boundaries() {
    let line = "let s = \"héllo wörld 🎉🎉🎉 日本語のテキスト\";\n";
    let text = format!("fn emoji() {{\n{}}}\n", line.repeat(40));
    for max_chars in [16, 17, 18, 19, 50, 100] {
        let cfg = ChunkConfig {
            max_chars,
            ..unpacked()
        };
        for lang in [Language::Rust, Language::Text, Language::Markdown] {
            let a = analyze(lang, &text, &cfg);
            assert_invariants(&text, &a);
        }
    }
    let one_line = "🎉".repeat(1000);
    let a = analyze(
        Language::Text,
        &one_line,
        &ChunkConfig {
            max_chars: 18,
            ..unpacked()
        },
    );
    assert_invariants(&one_line, &a);
    assert!(a.chunks.iter().all(|c| c.text.chars().count() == 4));
}

#[test]
fn kind_names_round_trip() {
    for k in ChunkKind::ALL {
        assert_eq!(ChunkKind::from_name(k.name()), Some(k));
    }
    assert_eq!(ChunkKind::from_name("nope"), None);
    assert!(ChunkKind::Impl.is_definition() && ChunkKind::Constant.is_definition());
    assert!(
        !ChunkKind::Section.is_definition()
            && !ChunkKind::Block.is_definition()
            && !ChunkKind::Window.is_definition()
    );
    assert_eq!(
        chunk_file(Language::Rust, RUST, &unpacked()),
        analyze(Language::Rust, RUST, &unpacked()).chunks
    );
}

#[test]
fn chunk_text_starts_at_doc_comments_and_attributes() {
    let a = analyze(Language::Rust, RUST, &unpacked());
    let server = &a.chunks[0];
    assert!(
        server
            .text
            .starts_with("use std::io;\n\n/// A server.\n#[derive(Debug)]\npub struct Server")
    );
    let main = a
        .chunks
        .iter()
        .find(|c| c.symbol.as_deref() == Some("main"))
        .unwrap();
    assert!(main.text.starts_with("// Starts it.\nfn main()"));
    let a = analyze(Language::Java, JAVA, &unpacked());
    let sym = a.symbols.iter().find(|s| s.name == "toString").unwrap();
    assert_eq!(
        (sym.start_line, sym.end_line),
        (13, 14),
        "annotations belong to the method"
    );
    let a = analyze(
        Language::Elixir,
        ELIXIR,
        &ChunkConfig {
            max_chars: 120,
            ..unpacked()
        },
    );
    let hello = a
        .chunks
        .iter()
        .find(|c| c.symbol.as_deref() == Some("hello"))
        .unwrap();
    assert!(
        hello.text.starts_with("  @doc \"Says hello.\"\n  @spec"),
        "{:?}",
        hello.text
    );
    assert_eq!(hello.enclosing, "defmodule App.Greeter > def hello");
}
