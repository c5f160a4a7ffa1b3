//! What the embedding models read for a unit: its enclosing chain, then its text with comment leaders removed.
//!
//! A word-piece tokenizer turns every `/` of `///` and every `*` of a Javadoc line into a piece of its own, so a
//! ten-line Rust doc comment spends 30 of the transformer's 64 pieces on slashes before a word of the doc or the
//! code is read. The leaders carry no meaning the model could use (that a line is a comment is plain from its
//! words), so they are dropped: `///`, `//!`, `//`, `/**`, `/*!`, `/*` and `*/` anywhere they open or close a line,
//! a lone `*` or `* ` opening a line, `#` followed by a space (Python, shell, Ruby, YAML comments; never `#[`,
//! `#include`, `#define`), and `--` followed by a space (SQL, Lua, Haskell). Lines left empty are dropped.
//! Pure: the lexical index keeps the text as written.

/// The text embedded for a unit: its enclosing symbols give methods their class context.
pub fn embedding_text(enclosing: &str, text: &str) -> String {
    let body = strip_comment_leaders(text);
    if enclosing.is_empty() {
        body
    } else {
        format!("{enclosing}\n{body}")
    }
}

/// `text` without comment leaders and without the lines that held nothing else.
pub fn strip_comment_leaders(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let kept = strip_line(line);
        if kept.trim().is_empty() {
            continue;
        }
        out.push_str(kept);
        out.push('\n');
    }
    if out.ends_with('\n') && !text.ends_with('\n') {
        out.pop();
    }
    out
}

/// One line without its leading and trailing comment marks (a comment line loses its indentation too; code keeps it).
fn strip_line(line: &str) -> &str {
    let trimmed = line.trim_start();
    let body = ["///", "//!", "/**", "/*!", "//", "/*", "*/"]
        .iter()
        .find_map(|l| trimmed.strip_prefix(l))
        .or_else(|| {
            (trimmed == "*" || trimmed.starts_with("* ") || trimmed.starts_with("*\t"))
                .then(|| &trimmed[1..])
        })
        .or_else(|| {
            (trimmed == "#" || trimmed.starts_with("# ") || trimmed.starts_with("#\t"))
                .then(|| &trimmed[1..])
        })
        .or_else(|| (trimmed == "--" || trimmed.starts_with("-- ")).then(|| &trimmed[2..]));
    let Some(body) = body else {
        return line;
    };
    let body = body.trim_end();
    body.strip_suffix("*/").unwrap_or(body).trim_end()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doc_comment_leaders_and_empty_doc_lines_are_dropped() {
        let rust = "    /// Returns the length.\n    ///\n    /// # Examples\n    #[inline]\n    pub fn len(&self) -> usize {\n        self.len // cached\n    }";
        assert_eq!(
            strip_comment_leaders(rust),
            " Returns the length.\n # Examples\n    #[inline]\n    pub fn len(&self) -> usize {\n        self.len // cached\n    }"
        );
        let java = "/**\n * Gets the name.\n *\n * @return the name\n */\npublic String getName() {\n    return name;\n}\n";
        assert_eq!(
            strip_comment_leaders(java),
            " Gets the name.\n @return the name\npublic String getName() {\n    return name;\n}\n"
        );
        let python = "def f(x):\n    # add one\n    return x + 1  # why\n";
        assert_eq!(
            strip_comment_leaders(python),
            "def f(x):\n add one\n    return x + 1  # why\n"
        );
    }

    #[test]
    fn code_that_looks_like_a_leader_is_kept() {
        for code in [
            "#include <stdio.h>",
            "#[derive(Debug)]",
            "#define MAX 3",
            "*ptr = 5;",
            "x--;",
            "--x;",
            "a // b",
        ] {
            assert_eq!(strip_comment_leaders(code), code, "{code}");
        }
    }

    #[test]
    fn the_enclosing_chain_comes_first() {
        assert_eq!(
            embedding_text("impl Foo", "/// Doc.\nfn bar() {}"),
            "impl Foo\n Doc.\nfn bar() {}"
        );
        assert_eq!(embedding_text("", "fn bar() {}"), "fn bar() {}");
    }
}
