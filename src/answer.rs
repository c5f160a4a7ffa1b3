//! What a result reports: the definition that holds a matched unit, at its own range, with the lines that matched.
//!
//! Retrieval scores units (each definition that fits, or each piece of one that does not, glue, windows,
//! sections). A unit that is a whole definition answers as itself. A piece of a definition split for size
//! answers as the whole definition, and glue inside a definition (the lines between a class's methods) as
//! that definition; the unit's own lines stay the *match*, for the snippet and for an editor to jump to.
//! Pure: no I/O, never fails.

use crate::chunk::ChunkKind;

/// A matched unit, as ranking saw it.
#[derive(Clone, Copy, Debug)]
pub struct Unit<'a> {
    /// First line, 1-based.
    pub start_line: u32,
    /// Last line, 1-based, inclusive.
    pub end_line: u32,
    /// The definition the unit is (part of), if any.
    pub symbol: Option<&'a str>,
    /// Its kind.
    pub kind: ChunkKind,
    /// Its chain of enclosing definitions (empty at the top level).
    pub enclosing: &'a str,
}

/// A definition of the unit's file (from the symbol table).
#[derive(Clone, Copy, Debug)]
pub struct Def<'a> {
    /// Its name.
    pub name: &'a str,
    /// Its kind.
    pub kind: ChunkKind,
    /// First line, 1-based.
    pub start_line: u32,
    /// Last line, 1-based, inclusive.
    pub end_line: u32,
}

/// What a result reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// First line of the answering definition (or of the unit when no definition holds it), 1-based.
    pub start_line: u32,
    /// Its last line, 1-based, inclusive.
    pub end_line: u32,
    /// The definition's name, `None` for top-level glue, windows of unparsed text and the like.
    pub symbol: Option<String>,
    /// The definition's kind (the unit's when no definition holds it).
    pub kind: ChunkKind,
    /// The unit's own lines: what matched, inside `start_line..=end_line`.
    pub match_lines: (u32, u32),
}

/// Resolves `unit` to the definition that answers, among `defs` (the definitions of its file, any order).
pub fn resolve<'a>(unit: &Unit<'_>, defs: impl IntoIterator<Item = Def<'a>>) -> Answer {
    let overlaps = |d: &Def| d.start_line <= unit.end_line && d.end_line >= unit.start_line;
    let contains = |d: &Def| d.start_line <= unit.start_line && d.end_line >= unit.end_line;
    let size = |d: &Def| d.end_line - d.start_line;
    let held = match unit.symbol {
        // The unit is (a piece of) this definition: the innermost one of that name it overlaps.
        Some(name) if unit.kind.is_definition() || unit.kind == ChunkKind::Section => defs
            .into_iter()
            .filter(|d| d.name == name && overlaps(d))
            .min_by_key(size),
        Some(_) => None,
        // Glue inside a definition (its enclosing chain is not empty): the innermost definition holding it.
        None if !unit.enclosing.is_empty() => defs
            .into_iter()
            .filter(|d| d.kind.is_definition() && contains(d))
            .min_by_key(size),
        None => None,
    };
    let match_lines = (unit.start_line, unit.end_line);
    match held {
        // A unit also holds its definition's doc comments and attributes (and small glue beside it), which
        // the definition's own node range leaves out: the answer spans both.
        Some(d) => Answer {
            start_line: d.start_line.min(unit.start_line),
            end_line: d.end_line.max(unit.end_line),
            symbol: Some(d.name.to_owned()),
            kind: d.kind,
            match_lines,
        },
        None => Answer {
            start_line: unit.start_line,
            end_line: unit.end_line,
            symbol: unit.symbol.map(str::to_owned),
            kind: unit.kind,
            match_lines,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(name: &str, kind: ChunkKind, s: u32, e: u32) -> Def<'_> {
        Def {
            name,
            kind,
            start_line: s,
            end_line: e,
        }
    }

    fn unit<'a>(
        s: u32,
        e: u32,
        symbol: Option<&'a str>,
        kind: ChunkKind,
        enclosing: &'a str,
    ) -> Unit<'a> {
        Unit {
            start_line: s,
            end_line: e,
            symbol,
            kind,
            enclosing,
        }
    }

    /// A file: class Server (10–200) with methods handle (20–90) and stop (100–110), and a function main.
    fn defs() -> Vec<Def<'static>> {
        vec![
            def("Server", ChunkKind::Class, 10, 200),
            def("handle", ChunkKind::Method, 20, 90),
            def("stop", ChunkKind::Method, 100, 110),
            def("main", ChunkKind::Function, 205, 210),
        ]
    }

    #[test]
    fn a_whole_definition_answers_as_itself_with_its_doc_lines() {
        let u = unit(
            98,
            110,
            Some("stop"),
            ChunkKind::Method,
            "class Server > def stop",
        );
        let a = resolve(&u, defs());
        assert_eq!((a.start_line, a.end_line), (98, 110));
        assert_eq!(a.symbol.as_deref(), Some("stop"));
        assert_eq!(a.kind, ChunkKind::Method);
        assert_eq!(a.match_lines, (98, 110));
    }

    #[test]
    fn a_piece_of_a_split_definition_answers_as_the_whole_definition() {
        let u = unit(
            40,
            75,
            Some("handle"),
            ChunkKind::Method,
            "class Server > def handle",
        );
        let a = resolve(&u, defs());
        assert_eq!((a.start_line, a.end_line), (20, 90));
        assert_eq!(a.symbol.as_deref(), Some("handle"));
        assert_eq!(a.match_lines, (40, 75));
        // The class's header piece answers as the class.
        let h = unit(8, 19, Some("Server"), ChunkKind::Class, "class Server");
        let a = resolve(&h, defs());
        assert_eq!(
            (a.start_line, a.end_line, a.kind),
            (8, 200, ChunkKind::Class)
        );
        assert_eq!(a.match_lines, (8, 19));
    }

    #[test]
    fn glue_inside_a_class_answers_as_the_class_and_top_level_glue_as_itself() {
        let g = unit(92, 97, None, ChunkKind::Block, "class Server");
        let a = resolve(&g, defs());
        assert_eq!((a.start_line, a.end_line), (10, 200));
        assert_eq!(a.symbol.as_deref(), Some("Server"));
        assert_eq!(a.match_lines, (92, 97));
        let top = unit(1, 8, None, ChunkKind::Block, "");
        let a = resolve(&top, defs());
        assert_eq!((a.start_line, a.end_line, a.symbol), (1, 8, None));
        assert_eq!(a.kind, ChunkKind::Block);
    }

    #[test]
    fn a_unit_whose_definition_is_unknown_answers_as_itself() {
        let u = unit(300, 320, Some("gone"), ChunkKind::Function, "fn gone");
        let a = resolve(&u, defs());
        assert_eq!((a.start_line, a.end_line), (300, 320));
        assert_eq!(a.symbol.as_deref(), Some("gone"));
        let w = unit(1, 40, None, ChunkKind::Window, "");
        assert_eq!(resolve(&w, defs()).match_lines, (1, 40));
    }
}
