//! Symbol search by name: an in-memory table of every definition in a workspace, ranked exact >
//! prefix > word-part > subsequence, then by closeness to the current file. Pure: no I/O.

use std::collections::HashMap;

use crate::chunk::ChunkKind;
use crate::ids::FileId;
use crate::store::SymbolRecord;

/// One definition in the table.
#[derive(Clone, Debug)]
pub struct SymbolEntry {
    /// The name as written.
    pub name: String,
    lower: String,
    /// [`letter_mask`] of `lower`.
    mask: u64,
    /// Kind of definition.
    pub kind: ChunkKind,
    /// Enclosing definition's name.
    pub container: Option<String>,
    /// The file.
    pub file: FileId,
    /// First line, 1-based.
    pub start_line: u32,
    /// Last line, 1-based, inclusive.
    pub end_line: u32,
}

impl SymbolEntry {
    /// An entry that is not read from the index (a file standing for its module).
    pub fn new(
        name: &str,
        kind: ChunkKind,
        container: Option<String>,
        start: u32,
        end: u32,
    ) -> Self {
        let lower = name.to_lowercase();
        SymbolEntry {
            name: name.to_string(),
            mask: letter_mask(&lower),
            lower,
            kind,
            container,
            file: FileId(u32::MAX),
            start_line: start,
            end_line: end,
        }
    }
}

/// How well a name matches a query, best first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum MatchKind {
    /// Same name, same case.
    Exact,
    /// Same name ignoring case and `_`/`-` (`parse_config` ~ `ParseConfig`).
    ExactIgnoreCase,
    /// The name starts with the query.
    Prefix,
    /// A word part of the name (`snake_case`/`camelCase`) starts with the query.
    WordPrefix,
    /// The name contains the query.
    Substring,
    /// The query's characters appear in order in the name.
    Subsequence,
}

/// A ranked symbol.
#[derive(Clone, Debug)]
pub struct SymbolHit<'a> {
    /// The definition.
    pub entry: &'a SymbolEntry,
    /// How it matched.
    pub matched: MatchKind,
}

/// Every definition of a workspace, grouped by file.
#[derive(Clone, Debug, Default)]
pub struct SymbolTable {
    by_file: HashMap<FileId, Vec<SymbolEntry>>,
    paths: HashMap<FileId, String>,
    len: usize,
}

fn is_subsequence(mut needle: impl Iterator<Item = char>, hay: &str) -> bool {
    let mut it = hay.chars();
    needle.all(|c| it.any(|h| h == c))
}

fn word_starts(name: &str) -> impl Iterator<Item = usize> + '_ {
    let mut prev: Option<char> = None;
    name.char_indices().filter_map(move |(i, c)| {
        let start = match prev {
            None => true,
            Some(p) => {
                (!p.is_alphanumeric() && c.is_alphanumeric())
                    || (p.is_lowercase() && c.is_uppercase())
            }
        };
        prev = Some(c);
        start.then_some(i)
    })
}

/// Classifies how `name` matches `query` (`query_lower` is the query lowercased).
pub fn match_name(
    name: &str,
    name_lower: &str,
    query: &str,
    query_lower: &str,
) -> Option<MatchKind> {
    if query.is_empty() {
        return Some(MatchKind::Subsequence);
    }
    if name == query {
        return Some(MatchKind::Exact);
    }
    // Called for every definition on every keystroke: nothing here allocates.
    fn strip(s: &str) -> impl Iterator<Item = char> + '_ {
        s.chars().filter(|c| *c != '_' && *c != '-')
    }
    if name_lower == query_lower || strip(name_lower).eq(strip(query_lower)) {
        return Some(MatchKind::ExactIgnoreCase);
    }
    if name_lower.starts_with(query_lower) {
        return Some(MatchKind::Prefix);
    }
    if word_starts(name).any(|i| {
        name_lower
            .get(i..)
            .is_some_and(|s| s.starts_with(query_lower))
    }) {
        return Some(MatchKind::WordPrefix);
    }
    if name_lower.contains(query_lower) {
        return Some(MatchKind::Substring);
    }
    let q = query_lower.chars().filter(|c| *c != '_' && *c != ' ');
    if q.clone().map(char::len_utf8).sum::<usize>() >= 2 && is_subsequence(q, name_lower) {
        return Some(MatchKind::Subsequence);
    }
    None
}

/// The ASCII letters and digits of a lowercased name, one bit each. Every way [`match_name`] matches needs the
/// query's letters among the name's, so one AND rules most names out before any string is compared.
fn letter_mask(lower: &str) -> u64 {
    lower.bytes().fold(0, |m, b| match b {
        b'a'..=b'z' => m | 1 << (b - b'a'),
        b'0'..=b'9' => m | 1 << (26 + b - b'0'),
        _ => m,
    })
}

/// Length of the common folder prefix of two paths, in segments.
fn shared_dirs(a: &str, b: &str) -> usize {
    a.split('/')
        .zip(b.split('/'))
        .take_while(|(x, y)| x == y)
        .count()
}

impl SymbolTable {
    /// Number of definitions.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Replaces the definitions of one file.
    pub fn set_file(&mut self, file: FileId, path: &str, symbols: Vec<SymbolRecord>) {
        self.remove_file(file);
        let entries: Vec<SymbolEntry> = symbols
            .into_iter()
            .map(|s| {
                let lower = s.name.to_lowercase();
                SymbolEntry {
                    mask: letter_mask(&lower),
                    lower,
                    name: s.name,
                    kind: s.kind,
                    container: s.container,
                    file,
                    start_line: s.start_line,
                    end_line: s.end_line,
                }
            })
            .collect();
        self.len += entries.len();
        self.by_file.insert(file, entries);
        self.paths.insert(file, path.to_owned());
    }

    /// Drops the definitions of one file.
    pub fn remove_file(&mut self, file: FileId) {
        if let Some(old) = self.by_file.remove(&file) {
            self.len -= old.len();
        }
        self.paths.remove(&file);
    }

    /// The path of a file in the table.
    pub fn path(&self, file: FileId) -> Option<&str> {
        self.paths.get(&file).map(String::as_str)
    }

    /// The definitions of the file at `path` (empty when the table does not hold it), in the order
    /// chunking found them.
    pub fn file_entries(&self, path: &str) -> &[SymbolEntry] {
        self.paths
            .iter()
            .find(|(_, p)| p.as_str() == path)
            .and_then(|(f, _)| self.by_file.get(f))
            .map_or(&[], Vec::as_slice)
    }

    /// The definitions of the file `file`, in the order chunking found them.
    pub fn entries_of(&self, file: FileId) -> &[SymbolEntry] {
        self.by_file.get(&file).map_or(&[], Vec::as_slice)
    }

    /// Every definition with its file's path, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &SymbolEntry)> + '_ {
        self.by_file.iter().flat_map(move |(f, entries)| {
            let path = self.paths.get(f).map_or("", String::as_str);
            entries.iter().map(move |e| (path, e))
        })
    }

    /// The paths of every file that has definitions.
    pub fn paths(&self) -> impl Iterator<Item = &str> + '_ {
        self.paths.values().map(String::as_str)
    }

    /// The innermost definition of `path` that spans `line` (1-based).
    pub fn enclosing(&self, path: &str, line: u32) -> Option<&SymbolEntry> {
        let file = self.paths.iter().find(|(_, p)| p.as_str() == path)?.0;
        self.by_file
            .get(file)?
            .iter()
            .filter(|e| e.start_line <= line && e.end_line >= line)
            .min_by_key(|e| e.end_line - e.start_line)
    }

    /// Definitions matching `query`, best first: match quality, then the current file, then folders shared
    /// with it, then shorter names, then source before tests.
    pub fn search(&self, query: &str, limit: usize, current: Option<&str>) -> Vec<SymbolHit<'_>> {
        let query = query.trim();
        if limit == 0 {
            return Vec::new();
        }
        let ql = query.to_lowercase();
        let qm = letter_mask(&ql);
        let mut hits: Vec<(MatchKind, usize, bool, usize, &SymbolEntry)> = Vec::new();
        for (file, entries) in &self.by_file {
            // What ranks a file's hits, worked out at its first hit: most files have none.
            let mut place = None;
            for e in entries {
                if e.mask & qm != qm {
                    continue;
                }
                let Some(m) = match_name(&e.name, &e.lower, query, &ql) else {
                    continue;
                };
                let (near, test) = *place.get_or_insert_with(|| {
                    let path = self.paths.get(file).map(String::as_str).unwrap_or("");
                    let near = current
                        .map(|c| {
                            if c == path {
                                usize::MAX
                            } else {
                                shared_dirs(c, path)
                            }
                        })
                        .unwrap_or(0);
                    (near, crate::search::is_non_source_path(path))
                });
                hits.push((m, near, test, e.name.len(), e));
            }
        }
        let order = |a: &(MatchKind, usize, bool, usize, &SymbolEntry),
                     b: &(MatchKind, usize, bool, usize, &SymbolEntry)| {
            a.0.cmp(&b.0)
                .then(b.1.cmp(&a.1))
                .then(a.2.cmp(&b.2))
                .then(a.3.cmp(&b.3))
                .then_with(|| self.paths[&a.4.file].cmp(&self.paths[&b.4.file]))
                .then(a.4.start_line.cmp(&b.4.start_line))
        };
        // A short prefix matches thousands of names: select the best `limit`, then sort only those.
        if hits.len() > limit {
            hits.select_nth_unstable_by(limit - 1, order);
            hits.truncate(limit);
        }
        hits.sort_by(order);
        hits.into_iter()
            .map(|(m, _, _, _, e)| SymbolHit {
                entry: e,
                matched: m,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(name: &str, kind: ChunkKind, line: u32) -> SymbolRecord {
        SymbolRecord {
            name: name.into(),
            kind,
            container: None,
            start_line: line,
            end_line: line + 3,
        }
    }

    #[test]
    fn ranks_exact_then_prefix_then_fuzzy() {
        let mut t = SymbolTable::default();
        t.set_file(
            FileId(1),
            "src/config.rs",
            vec![
                rec("parse_config_file", ChunkKind::Function, 1),
                rec("parse_config", ChunkKind::Function, 10),
                rec("reparse_config", ChunkKind::Function, 20),
                rec("ParseConfig", ChunkKind::Struct, 30),
                rec("print_cfg", ChunkKind::Function, 40),
            ],
        );
        let names: Vec<_> = t
            .search("parse_config", 10, None)
            .iter()
            .map(|h| h.entry.name.as_str())
            .collect();
        assert_eq!(
            names,
            vec![
                "parse_config",
                "ParseConfig",
                "parse_config_file",
                "reparse_config"
            ]
        );
        let hits = t.search("parsecfg", 10, None);
        assert!(hits.iter().all(|h| h.matched == MatchKind::Subsequence));
        let names: Vec<_> = t
            .search("ParseConfig", 2, None)
            .iter()
            .map(|h| h.entry.name.as_str())
            .collect();
        assert_eq!(names, vec!["ParseConfig", "parse_config"]);
        let names: Vec<_> = t
            .search("config", 10, None)
            .iter()
            .map(|h| (h.entry.name.as_str(), h.matched))
            .collect();
        assert_eq!(names[0], ("ParseConfig", MatchKind::WordPrefix));
    }

    #[test]
    fn the_letter_filter_keeps_every_kind_of_match() {
        let mut t = SymbolTable::default();
        t.set_file(
            FileId(1),
            "src/a.rs",
            vec![
                rec("parse_config", ChunkKind::Function, 1),
                rec("HttpServer2", ChunkKind::Struct, 5),
                // The Kelvin sign lowercases to an ASCII `k`.
                rec("\u{212A}elvin", ChunkKind::Struct, 9),
                rec("émile_zola", ChunkKind::Function, 13),
            ],
        );
        let first = |q: &str| {
            t.search(q, 1, None)
                .first()
                .map(|h| (h.entry.name.clone(), h.matched))
        };
        let name = |n: &str, m| Some((n.to_owned(), m));
        assert_eq!(
            first("ParseConfig"),
            name("parse_config", MatchKind::ExactIgnoreCase)
        );
        assert_eq!(
            first("parse-config"),
            name("parse_config", MatchKind::ExactIgnoreCase)
        );
        assert_eq!(first("server2"), name("HttpServer2", MatchKind::WordPrefix));
        assert_eq!(first("pcfg"), name("parse_config", MatchKind::Subsequence));
        assert_eq!(
            first("kelvin"),
            name("\u{212A}elvin", MatchKind::ExactIgnoreCase)
        );
        assert_eq!(first("zola"), name("émile_zola", MatchKind::WordPrefix));
        assert_eq!(first("émile"), name("émile_zola", MatchKind::Prefix));
        assert_eq!(first("xyz"), None);
    }

    proptest::proptest! {
        #[test]
        fn the_letter_filter_drops_no_match(
            names in proptest::collection::vec("[a-cA-C_0-2é-]{1,8}", 1..30),
            query in "[a-cA-C_ 0-2é-]{0,5}",
        ) {
            let mut t = SymbolTable::default();
            let recs = names.iter().enumerate().map(|(i, n)| rec(n, ChunkKind::Function, i as u32 * 4 + 1)).collect();
            t.set_file(FileId(1), "src/a.rs", recs);
            let ql = query.trim().to_lowercase();
            let want = names
                .iter()
                .filter(|n| match_name(n, &n.to_lowercase(), query.trim(), &ql).is_some())
                .count();
            proptest::prop_assert_eq!(t.search(&query, 100, None).len(), want);
        }
    }

    #[test]
    fn the_innermost_enclosing_definition_is_found() {
        let mut t = SymbolTable::default();
        let mut outer = rec("Server", ChunkKind::Impl, 1);
        outer.end_line = 40;
        t.set_file(
            FileId(1),
            "src/server.rs",
            vec![outer, rec("handle", ChunkKind::Method, 10)],
        );
        t.set_file(
            FileId(2),
            "src/other.rs",
            vec![rec("x", ChunkKind::Function, 1)],
        );
        let name = |p: &str, l: u32| t.enclosing(p, l).map(|e| e.name.clone());
        assert_eq!(name("src/server.rs", 11).as_deref(), Some("handle"));
        assert_eq!(name("src/server.rs", 30).as_deref(), Some("Server"));
        assert_eq!(name("src/server.rs", 41), None);
        assert_eq!(name("src/missing.rs", 1), None);
    }

    #[test]
    fn nearer_files_rank_first_and_tests_last() {
        let mut t = SymbolTable::default();
        t.set_file(
            FileId(1),
            "tests/run.rs",
            vec![rec("run", ChunkKind::Function, 1)],
        );
        t.set_file(
            FileId(2),
            "src/a/run.rs",
            vec![rec("run", ChunkKind::Function, 1)],
        );
        t.set_file(
            FileId(3),
            "src/b/run.rs",
            vec![rec("run", ChunkKind::Function, 1)],
        );
        let files: Vec<_> = t
            .search("run", 10, Some("src/b/main.rs"))
            .iter()
            .map(|h| h.entry.file.0)
            .collect();
        assert_eq!(files, vec![3, 2, 1]);
        t.remove_file(FileId(3));
        assert_eq!(t.len(), 2);
        let files: Vec<_> = t
            .search("run", 10, None)
            .iter()
            .map(|h| h.entry.file.0)
            .collect();
        assert_eq!(files, vec![2, 1]);
    }
}
