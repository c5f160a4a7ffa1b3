//! Definitions by name: `parse_config`, `Server::handle`, `Server.handle`, `net/http.Client.Do`. Exact
//! names first (then the same name in another case or with `_`/`-` dropped), narrowed by the qualifier
//! when one is given (the definition's container must be the qualifier's last part); an unknown name
//! answers with the nearest names in the table. Pure: no I/O.

use crate::symbols::{MatchKind, SymbolEntry, SymbolTable, match_name};

/// A name split into its qualifier and its last part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QualifiedName<'a> {
    /// The parts before the name (`["Server"]` for `Server::handle`), outermost first.
    pub qualifier: Vec<&'a str>,
    /// The name itself.
    pub name: &'a str,
}

/// Splits `name` at `::`, `.`, `#`, `->` and `\`, dropping empty parts and generic arguments
/// (`Vec<T>::push` → `Vec`, `push`).
pub fn split(name: &str) -> QualifiedName<'_> {
    let trimmed = name.trim().trim_end_matches("()");
    let mut parts: Vec<&str> = Vec::new();
    let mut rest = trimmed;
    while !rest.is_empty() {
        let cut = ["::", "->", ".", "#", "\\"]
            .iter()
            .filter_map(|sep| rest.find(sep).map(|i| (i, sep.len())))
            .min();
        let (part, next) = match cut {
            Some((i, n)) => (&rest[..i], &rest[i + n..]),
            None => (rest, ""),
        };
        let part = part.split('<').next().unwrap_or(part).trim();
        if !part.is_empty() {
            parts.push(part);
        }
        rest = next;
    }
    let name = parts.pop().unwrap_or(trimmed);
    QualifiedName {
        qualifier: parts,
        name,
    }
}

/// A definition found by name, with its file.
#[derive(Clone, Debug)]
pub struct Found<'a> {
    /// The file's path, relative to the workspace root.
    pub path: &'a str,
    /// The definition.
    pub entry: &'a SymbolEntry,
    /// Exact, or equal ignoring case and `_`/`-`.
    pub matched: MatchKind,
}

/// Why a lookup found nothing.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    /// An empty name.
    #[error(
        "empty symbol name: give a function, method, class or other definition's name, e.g. `parse_config` or `Server::handle`"
    )]
    Empty,
    /// No definition has that name.
    #[error("no symbol named {name}{}", did_you_mean(.suggestions))]
    Unknown {
        /// The name asked for.
        name: String,
        /// The nearest names in the table, best first.
        suggestions: Vec<String>,
    },
    /// Definitions have that name, but none inside the qualifier.
    #[error("no symbol named {name}: {last} is defined, but not in {qualifier} (it is in {})", .containers.join(", "))]
    NotInQualifier {
        /// The name asked for.
        name: String,
        /// Its last part.
        last: String,
        /// The qualifier asked for.
        qualifier: String,
        /// Where definitions of that name live (`Client`, `top level`...).
        containers: Vec<String>,
    },
}

fn did_you_mean(s: &[String]) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", s.join(", "))
    }
}

/// The definitions named `query` (see the module's documentation), best first: exact before
/// case-insensitive, then source before tests, then by path and line. At most `limit`.
pub fn find<'a>(
    table: &'a SymbolTable,
    query: &str,
    limit: usize,
) -> Result<Vec<Found<'a>>, LookupError> {
    let q = split(query);
    if q.name.is_empty() {
        return Err(LookupError::Empty);
    }
    let lower = q.name.to_lowercase();
    let mut found: Vec<Found<'a>> = table
        .iter()
        .filter_map(|(path, e)| {
            // A module named with its path (`Ecto.Changeset`, `Foo::Bar`) is found by its last part too.
            let last = split(&e.name).name;
            let m = match_name(&e.name, &e.name.to_lowercase(), q.name, &lower)
                .into_iter()
                .chain(match_name(last, &last.to_lowercase(), q.name, &lower))
                .min()?;
            matches!(m, MatchKind::Exact | MatchKind::ExactIgnoreCase).then_some(Found {
                path,
                entry: e,
                matched: m,
            })
        })
        .collect();
    if found.is_empty() {
        return Err(LookupError::Unknown {
            name: query.trim().to_string(),
            suggestions: suggest(table, q.name, 5),
        });
    }
    if let Some(&inner) = q.qualifier.last() {
        let in_qualifier = |f: &Found<'_>| {
            f.entry
                .container
                .as_deref()
                .map(|c| c.split('<').next().unwrap_or(c).trim())
                .is_some_and(|c| c == inner || c.eq_ignore_ascii_case(inner))
                // A qualifier naming the file or module (`config.parse`, `http::get`).
                || file_stem(f.path).eq_ignore_ascii_case(inner)
        };
        if found.iter().any(in_qualifier) {
            found.retain(in_qualifier);
        } else {
            let mut containers: Vec<String> = found
                .iter()
                .map(|f| {
                    f.entry
                        .container
                        .clone()
                        .unwrap_or_else(|| format!("the top level of {}", f.path))
                })
                .collect();
            containers.sort();
            containers.dedup();
            containers.truncate(5);
            return Err(LookupError::NotInQualifier {
                name: query.trim().to_string(),
                last: q.name.to_string(),
                qualifier: q.qualifier.join("::"),
                containers,
            });
        }
    }
    // Among equals, the definition in a file named after it (`Semaphore` in `semaphore.rs`), then the
    // larger one (a class before its forward declaration or an alias), then by path and line.
    let named_after = |f: &Found<'_>| !same_name(file_stem(f.path), q.name);
    found.sort_by(|a, b| {
        a.matched
            .cmp(&b.matched)
            .then(
                crate::search::is_non_source_path(a.path)
                    .cmp(&crate::search::is_non_source_path(b.path)),
            )
            .then(named_after(a).cmp(&named_after(b)))
            .then(
                (b.entry.end_line - b.entry.start_line)
                    .cmp(&(a.entry.end_line - a.entry.start_line)),
            )
            .then(a.path.cmp(b.path))
            .then(a.entry.start_line.cmp(&b.entry.start_line))
    });
    found.truncate(limit);
    Ok(found)
}

/// Whether two names are the same ignoring case, `_` and `-` (`flat_hash_map` ~ `FlatHashMap`).
pub fn same_name(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        s.chars()
            .filter(|c| *c != '_' && *c != '-')
            .flat_map(char::to_lowercase)
            .collect::<String>()
    };
    norm(a) == norm(b)
}

/// The files named after `name` (`response.js` for `response`, `tokenizer.py` for `Tokenizer`): in
/// languages where a file is a module, the answer to "where is X defined" when no definition has the name.
/// Source before tests, then shorter paths first.
pub fn files_named<'a>(table: &'a SymbolTable, name: &str) -> Vec<&'a str> {
    let last = split(name).name;
    let mut out: Vec<&str> = table
        .paths()
        .filter(|p| !last.is_empty() && same_name(file_stem(p), last))
        .collect();
    out.sort_by_key(|p| (crate::search::is_non_source_path(p), p.len(), p.to_string()));
    out
}

/// A path's file name up to its first dot (`src/config.test.ts` → `config`).
pub fn file_stem(path: &str) -> &str {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.split('.').next().unwrap_or(name)
}

/// Up to `n` distinct names of the table nearest to `name`: those it matches as a prefix, word part or
/// subsequence, then by edit distance (ignoring case), closest first.
pub fn suggest(table: &SymbolTable, name: &str, n: usize) -> Vec<String> {
    let lower = name.to_lowercase();
    let max_distance = (name.chars().count() / 3).max(2);
    let mut scored: Vec<(usize, usize, String)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (_, e) in table.iter() {
        if !seen.insert(e.name.as_str()) {
            continue;
        }
        let el = e.name.to_lowercase();
        let d = levenshtein(&lower, &el);
        let by_name = match_name(&e.name, &el, name, &lower)
            .filter(|m| *m <= MatchKind::Substring)
            .map(|_| 0);
        let rank = match (by_name, d <= max_distance) {
            (Some(r), _) => r,
            (None, true) => 1,
            (None, false) => continue,
        };
        scored.push((rank, d, e.name.clone()));
    }
    scored.sort();
    scored.into_iter().take(n).map(|(_, _, s)| s).collect()
}

/// The edit distance between two strings, in characters.
pub fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunk::ChunkKind;
    use crate::ids::FileId;
    use crate::store::SymbolRecord;

    fn rec(name: &str, kind: ChunkKind, container: Option<&str>, s: u32) -> SymbolRecord {
        SymbolRecord {
            name: name.into(),
            kind,
            container: container.map(str::to_string),
            start_line: s,
            end_line: s + 2,
        }
    }

    fn table() -> SymbolTable {
        let mut t = SymbolTable::default();
        t.set_file(
            FileId(1),
            "src/server.rs",
            vec![
                rec("Server", ChunkKind::Impl, None, 1),
                rec("handle", ChunkKind::Method, Some("Server"), 2),
                rec("parse_config", ChunkKind::Function, None, 10),
            ],
        );
        t.set_file(
            FileId(2),
            "src/client.py",
            vec![
                rec("Client", ChunkKind::Class, None, 1),
                rec("handle", ChunkKind::Method, Some("Client"), 3),
            ],
        );
        t.set_file(
            FileId(3),
            "tests/test_config.py",
            vec![rec("parse_config", ChunkKind::Function, None, 5)],
        );
        t
    }

    #[test]
    fn names_split_at_every_separator() {
        assert_eq!(split("Server::handle").qualifier, vec!["Server"]);
        assert_eq!(split("Server::handle").name, "handle");
        assert_eq!(split("Server.handle").name, "handle");
        assert_eq!(split("a::b.C#d").qualifier, vec!["a", "b", "C"]);
        assert_eq!(split("Vec<T>::push").qualifier, vec!["Vec"]);
        assert_eq!(split(" parse_config() ").name, "parse_config");
        assert!(split("parse_config").qualifier.is_empty());
    }

    #[test]
    fn a_qualifier_narrows_to_its_container() {
        let t = table();
        let all = find(&t, "handle", 10).unwrap();
        assert_eq!(all.len(), 2);
        for q in ["Server::handle", "Server.handle", "server.handle"] {
            let f = find(&t, q, 10).unwrap();
            assert_eq!(f.len(), 1, "{q}");
            assert_eq!((f[0].path, f[0].entry.start_line), ("src/server.rs", 2));
        }
        let f = find(&t, "Client.handle", 10).unwrap();
        assert_eq!((f[0].path, f[0].entry.start_line), ("src/client.py", 3));
        let err = find(&t, "Router::handle", 10).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no symbol named Router::handle: handle is defined, but not in Router (it is in Client, Server)"
        );
    }

    #[test]
    fn source_comes_before_tests_and_case_insensitive_after_exact() {
        let t = table();
        let f = find(&t, "parse_config", 10).unwrap();
        let paths: Vec<&str> = f.iter().map(|f| f.path).collect();
        assert_eq!(paths, vec!["src/server.rs", "tests/test_config.py"]);
        let f = find(&t, "ParseConfig", 10).unwrap();
        assert_eq!(f.len(), 2);
        assert!(f.iter().all(|f| f.matched == MatchKind::ExactIgnoreCase));
    }

    #[test]
    fn an_unknown_name_suggests_the_nearest() {
        let t = table();
        let err = find(&t, "parse_confg", 10).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no symbol named parse_confg; did you mean parse_config?"
        );
        let err = find(&t, "hndle", 10).unwrap_err();
        assert!(err.to_string().contains("did you mean handle"), "{err}");
        let err = find(&t, "zzzzzzzzzzzz", 10).unwrap_err();
        assert_eq!(err.to_string(), "no symbol named zzzzzzzzzzzz");
        assert_eq!(find(&t, "  ", 10).unwrap_err(), LookupError::Empty);
        assert_eq!(levenshtein("kitten", "sitting"), 3);
    }
}
