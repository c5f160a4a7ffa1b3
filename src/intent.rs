//! What a query asks for, guessed from its words: the definition of a name ("where is X defined"), the
//! uses of a name ("who calls X", "where is X used"), a symbol by its name (a bare identifier such as
//! `parse_config` or `HttpClient`), or code by meaning (everything else). Pure: no I/O.

use serde::{Deserialize, Serialize};

/// The route a query takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Intent {
    /// Hybrid search by meaning and words.
    Search,
    /// A bare identifier: its definitions first, then the hybrid search's results.
    Symbol,
    /// "Where is X defined": the definitions of X.
    Definition,
    /// "Who calls X", "where is X used": the uses of X, by the definition they sit in.
    References,
}

impl Intent {
    /// Every intent.
    pub const ALL: [Intent; 4] = [
        Intent::Search,
        Intent::Symbol,
        Intent::Definition,
        Intent::References,
    ];

    /// The lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Intent::Search => "search",
            Intent::Symbol => "symbol",
            Intent::Definition => "definition",
            Intent::References => "references",
        }
    }

    /// The intent named `name`; `auto` (or nothing) is `None`, to be guessed.
    pub fn parse(name: Option<&str>) -> Result<Option<Intent>, String> {
        match name.map(str::trim) {
            None | Some("") | Some("auto") => Ok(None),
            Some(n) => Intent::ALL
                .into_iter()
                .find(|i| i.name() == n)
                .map(Some)
                .ok_or_else(|| {
                    format!(
                        "unknown intent {n:?} (expected auto, search, symbol, definition or references)"
                    )
                }),
        }
    }
}

/// The route a query took, as a response reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    /// The intent.
    pub intent: Intent,
    /// The name it looked up (definition, references and symbol routes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Only calls of the name were asked for ("who calls X").
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub calls_only: bool,
    /// Whether the intent was guessed from the query (not given).
    pub guessed: bool,
}

/// Phrases that ask for uses, with whether they ask for calls only. `X` stands for the name.
const USE_PATTERNS: &[(&str, bool)] = &[
    ("who calls X", true),
    ("what calls X", true),
    ("who invokes X", true),
    ("callers of X", true),
    ("call sites of X", true),
    ("where is X called", true),
    ("where is X called from", true),
    ("where is X invoked", true),
    ("where do we call X", true),
    ("who uses X", false),
    ("what uses X", false),
    ("where is X used", false),
    ("where are X used", false),
    ("where is X referenced", false),
    ("usages of X", false),
    ("usage of X", false),
    ("uses of X", false),
    ("references to X", false),
    ("references of X", false),
    ("find references to X", false),
    ("find usages of X", false),
    ("find all references to X", false),
];

/// Phrases that ask for a definition.
const DEFINITION_PATTERNS: &[&str] = &[
    "where is X defined",
    "where is X declared",
    "where is X implemented",
    "where are X defined",
    "where's X defined",
    "definition of X",
    "the definition of X",
    "find the definition of X",
    "go to definition of X",
    "go to X",
    "jump to X",
    "show me X",
    "find X definition",
    "X definition",
    "where is the X function",
    "where is the X class",
    "where is the X method",
    "where is the X type",
    "where is the X struct",
];

/// Words that may stand before the name and are not part of it ("the function `parse`").
const NOUNS: &[&str] = &[
    "the",
    "function",
    "method",
    "class",
    "struct",
    "type",
    "trait",
    "interface",
    "enum",
    "symbol",
    "fn",
    "def",
    "variable",
    "constant",
    "macro",
    "module",
];

/// Whether `word` reads as an identifier someone would write in code: `snake_case`, `camelCase`,
/// `PascalCase`, a path (`a::b`, `a.b`), or a call (`f()`), not a plain lowercase word.
pub fn looks_like_code(word: &str) -> bool {
    let w = word.trim_end_matches("()");
    if w.is_empty()
        || !w.chars().all(|c| {
            c.is_alphanumeric() || matches!(c, '_' | ':' | '.' | '#' | '$' | '-' | '>' | '\\')
        })
        || w.starts_with(|c: char| c.is_ascii_digit() || c == '.' || c == ':')
        || w.ends_with(['.', ':'])
    {
        return false;
    }
    let has_letters = w.chars().any(|c| c.is_alphabetic());
    let inner_upper = w.chars().skip(1).any(|c| c.is_uppercase());
    let first_upper = w.starts_with(|c: char| c.is_uppercase());
    has_letters
        && (w.contains('_')
            || w.contains("::")
            || w.contains('.')
            || w.contains('#')
            || w.contains("->")
            || inner_upper
            || first_upper
            || word.ends_with("()"))
}

/// The query with quotes and backticks dropped, lowercased words kept as written, without a final
/// question mark.
fn clean(query: &str) -> String {
    query
        .trim()
        .trim_end_matches(['?', '.', '!'])
        .replace(['`', '"', '\''], "")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Matches `query` against `pattern` (words, with `X` standing for one name, possibly after nouns such
/// as "the function"); returns the name.
fn match_pattern(query: &str, pattern: &str) -> Option<String> {
    let q: Vec<&str> = query.split(' ').collect();
    let p: Vec<&str> = pattern.split(' ').collect();
    let x = p.iter().position(|w| *w == "X")?;
    let (before, after) = (&p[..x], &p[x + 1..]);
    if q.len() < before.len() + 1 + after.len() {
        return None;
    }
    let eq = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    if !before.iter().zip(&q).all(|(a, b)| eq(a, b)) {
        return None;
    }
    let tail = &q[q.len() - after.len()..];
    if !after.iter().zip(tail).all(|(a, b)| eq(a, b)) {
        return None;
    }
    let middle = &q[before.len()..q.len() - after.len()];
    let words: Vec<&str> = middle
        .iter()
        .copied()
        .filter(|w| !NOUNS.iter().any(|n| eq(n, w)))
        .collect();
    match words.as_slice() {
        [name] if is_identifier(name) => Some(name.trim_end_matches("()").to_string()),
        _ => None,
    }
}

/// Whether `word` can be a name at all (letters, digits, `_` and path separators).
fn is_identifier(word: &str) -> bool {
    let w = word.trim_end_matches("()");
    !w.is_empty()
        && w.chars().any(|c| c.is_alphabetic())
        && w.chars().all(|c| {
            c.is_alphanumeric() || matches!(c, '_' | ':' | '.' | '#' | '$' | '-' | '>' | '\\')
        })
}

/// Guesses what `query` asks for.
pub fn guess(query: &str) -> Route {
    let q = clean(query);
    let route = |intent, name: Option<String>, calls_only| Route {
        intent,
        name,
        calls_only,
        guessed: true,
    };
    for (p, calls) in USE_PATTERNS {
        if let Some(name) = match_pattern(&q, p) {
            return route(Intent::References, Some(name), *calls);
        }
    }
    for p in DEFINITION_PATTERNS {
        if let Some(name) = match_pattern(&q, p)
            // "show me retries" or "go to sleep" are not names: a definition question needs a code-like
            // name unless it says "defined" or "definition".
            && (looks_like_code(&name) || p.contains("defin") || p.contains("declared"))
        {
            return route(Intent::Definition, Some(name), false);
        }
    }
    if !q.contains(' ') && looks_like_code(&q) {
        return route(
            Intent::Symbol,
            Some(q.trim_end_matches("()").to_string()),
            false,
        );
    }
    route(Intent::Search, None, false)
}

/// The route for an explicit intent: the name is the query itself, or the name a guess finds in it.
pub fn given(intent: Intent, query: &str) -> Route {
    let guessed = guess(query);
    let name = match intent {
        Intent::Search => None,
        _ => guessed.name.clone().or_else(|| {
            let q = clean(query);
            (!q.contains(' ') && is_identifier(&q)).then(|| q.trim_end_matches("()").to_string())
        }),
    };
    Route {
        intent,
        name,
        calls_only: intent == Intent::References && guessed.calls_only,
        guessed: false,
    }
}

/// Whether `word` (lower-case) is a verb that opens a description of what code does ("get", "set", "add").
pub fn is_action_verb(word: &str) -> bool {
    ACTION_VERBS.binary_search(&word).is_ok()
}

/// Verbs that open a description of what code does ("Returns the ...", "create a new ..."), sorted.
const ACTION_VERBS: &[&str] = &[
    "accumulate",
    "add",
    "advance",
    "allocate",
    "append",
    "apply",
    "assert",
    "assign",
    "attach",
    "bind",
    "build",
    "calculate",
    "call",
    "cancel",
    "cast",
    "check",
    "clear",
    "clone",
    "close",
    "collect",
    "combine",
    "compare",
    "compile",
    "compress",
    "compute",
    "concatenate",
    "connect",
    "construct",
    "consume",
    "convert",
    "copy",
    "count",
    "create",
    "decode",
    "decrement",
    "define",
    "delete",
    "deserialize",
    "destroy",
    "detect",
    "determine",
    "disable",
    "dispatch",
    "dispose",
    "drop",
    "emit",
    "enable",
    "encode",
    "ensure",
    "escape",
    "evaluate",
    "execute",
    "expand",
    "export",
    "extend",
    "extract",
    "fetch",
    "fill",
    "filter",
    "find",
    "flatten",
    "flip",
    "flush",
    "format",
    "generate",
    "get",
    "group",
    "handle",
    "import",
    "increment",
    "indicate",
    "initialize",
    "inject",
    "insert",
    "invoke",
    "iterate",
    "join",
    "limit",
    "load",
    "lock",
    "look",
    "make",
    "map",
    "match",
    "merge",
    "move",
    "normalize",
    "notify",
    "observe",
    "open",
    "pack",
    "parse",
    "partition",
    "peek",
    "perform",
    "pop",
    "prepend",
    "print",
    "process",
    "project",
    "publish",
    "push",
    "put",
    "query",
    "raise",
    "read",
    "receive",
    "reduce",
    "refresh",
    "register",
    "reject",
    "release",
    "reload",
    "remove",
    "rename",
    "render",
    "repeat",
    "replace",
    "request",
    "reserve",
    "reset",
    "resize",
    "resolve",
    "restore",
    "resume",
    "retrieve",
    "retry",
    "return",
    "reverse",
    "rotate",
    "run",
    "sample",
    "save",
    "scale",
    "scan",
    "schedule",
    "search",
    "select",
    "send",
    "serialize",
    "set",
    "shift",
    "shrink",
    "sift",
    "skip",
    "slice",
    "sort",
    "spawn",
    "split",
    "start",
    "stop",
    "store",
    "strip",
    "submit",
    "subscribe",
    "subtract",
    "sum",
    "swap",
    "take",
    "test",
    "throw",
    "toggle",
    "tokenize",
    "trace",
    "transform",
    "traverse",
    "trim",
    "truncate",
    "try",
    "unlock",
    "unpack",
    "unwrap",
    "update",
    "validate",
    "verify",
    "visit",
    "wait",
    "walk",
    "watch",
    "wrap",
    "write",
    "yield",
    "zip",
];

/// Whether the query opens with a verb, as a function's doc does (`Returns the length…`, `create a new
/// parser`, `If empty, return None`): it describes what code does, so a callable answers it rather than the
/// type it names ("Create a new Coalesce" is the constructor, not `struct Coalesce`). A third-person verb
/// ("Returns") is enough; a bare one needs a determiner, pronoun, particle or returned value somewhere after it.
/// A plural noun that is also a verb's third person ("Tests for the chunker") still reads as an action, except
/// for the verbs that are as often nouns (`NOUN_VERBS`: "Queries against the users table", "import
/// statements in the parser"), which need what they act on right after them ("Groups the elements").
pub fn describes_action(q: &str) -> bool {
    let mut q = q;
    loop {
        // Words as written: an identifier (`parse_config`, `getName`) names code, it does not describe it.
        let mut words = q
            .split_whitespace()
            .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric() && c != '_'));
        let Some(first) = words
            .next()
            .filter(|w| w.chars().all(|c| c.is_ascii_alphabetic()))
        else {
            return false;
        };
        if first.chars().skip(1).any(|c| c.is_ascii_uppercase()) {
            return false;
        }
        let first = first.to_ascii_lowercase();
        // One word is a name (`Deserialize`); "Set of options", "Map of names" are nouns.
        match words.next() {
            None => return false,
            Some(w) if w.eq_ignore_ascii_case("of") => return false,
            Some(_) => {}
        }
        if first == "if" || first == "when" {
            // "If Left, return true": the clause after the condition says what is done.
            match q.split_once(',') {
                Some((_, rest)) => {
                    q = rest;
                    continue;
                }
                None => return false,
            }
        }
        let verb = is_action_verb;
        // What the verb acts on, right after it: a determiner, pronoun or particle, or a name written as code
        // ("Split *iterable* into pieces", "Zip `a` and `b`").
        let acts_on_next = || {
            q.split_whitespace().nth(1).is_some_and(|raw| {
                COMMAND_OBJECT_WORDS
                    .binary_search(&bare(raw).as_str())
                    .is_ok()
                    || raw.starts_with(['*', '`'])
                    || looks_like_code(raw.trim_end_matches([',', '.', ';', ':']))
            })
        };
        let noun = |w: &str| NOUN_VERBS.binary_search(&w).is_ok();
        if verb(&first) {
            if noun(&first) {
                return acts_on_next();
            }
            // A bare verb opens a noun phrase as often as a command ("request logging middleware", "test runner
            // worker pool", "Serialize and Serializer trait definitions"): a command names what it acts on with
            // a determiner, a pronoun or a particle ("sort the k smallest", "create a new parser", "wrap it").
            return q
                .split_whitespace()
                .skip(1)
                .map(bare)
                .any(|w| COMMAND_OBJECT_WORDS.binary_search(&w.as_str()).is_ok());
        }
        // "Returns", "Creates", "Copies": the third person is a description of what code does.
        let base = [
            first.strip_suffix("ies").map(|b| format!("{b}y")),
            first.strip_suffix("es").map(str::to_string),
            first.strip_suffix('s').map(str::to_string),
        ]
        .into_iter()
        .flatten()
        .find(|b| verb(b));
        return match base {
            Some(b) if noun(&b) => acts_on_next(),
            Some(_) => true,
            None => false,
        };
    }
}

/// A word of a query without the punctuation around it, lower-case: "(the" is "the", "`zip`," is "zip".
fn bare(word: &str) -> String {
    word.trim_matches(|c: char| !c.is_alphanumeric())
        .to_ascii_lowercase()
}

/// Verbs of [`ACTION_VERBS`] that open a developer's question as a noun as often as a command ("query builder
/// for postgres", "Locks held across await points", "import statements"), sorted.
const NOUN_VERBS: &[&str] = &[
    "cast",
    "export",
    "group",
    "import",
    "limit",
    "lock",
    "match",
    "pack",
    "partition",
    "project",
    "query",
    "sample",
    "scale",
    "shift",
    "slice",
    "sum",
    "toggle",
    "trace",
    "visit",
    "walk",
    "watch",
    "zip",
];

/// The names a query compares its answer with, lower-case: "Like `is_valid_args` for builtins", "A version of
/// :func:`sorted` which…", "The inverse of zip", "This method is like `_.uniq` except that…". The definition
/// named there is what the answer resembles, not the answer. A name is the first word after the comparison
/// (articles passed over), without documentation roles (`:func:`), quotes and a call's parentheses. After
/// "like", or past an article, the name must be written as code (quoted, with a role, or an identifier such as
/// `is_valid_args`): "Like queries in the ORM" and "the version of the server" compare nothing. A name of
/// another module or type (`dict.update`, `itertools.accumulate`) is left alone: the answer often overrides or
/// mirrors it under the same name ("Like dict.update() but add counts" is `Counter.update`).
pub fn compared_names(query: &str) -> Vec<String> {
    let tokens: Vec<&str> = query.split_whitespace().collect();
    let mut names = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        let word = bare(t);
        // "Works exactly like `next_if`", "this version of `ptr_map`": the answer is a definition of that name.
        let before = i
            .checked_sub(1)
            .map(|j| bare(tokens[j]))
            .unwrap_or_default();
        if matches!(before.as_str(), "exactly" | "just" | "this" | "our") {
            continue;
        }
        // "Like X" opening a sentence, "is like X", "unlike X"; "things like X" and "looks like X" give
        // examples of what is asked for.
        let opens = i == 0 || tokens[i - 1].ends_with(['.', ';']);
        let like = word == "unlike"
            || (word == "like"
                && (opens
                    || matches!(before.as_str(), "is" | "are" | "works" | "behaves" | "acts")));
        // "<noun> of X", "<adjective> to X"; "near-mirror" compares as "mirror" does.
        let head = word.rsplit('-').next().unwrap_or(&word);
        let compares = || {
            tokens.get(i + 1).is_some_and(|next| {
                COMPARISONS
                    .binary_search(&(head, bare(next).as_str()))
                    .is_ok()
            })
        };
        let after = if like {
            i + 1
        } else if compares() {
            i + 2
        } else {
            continue;
        };
        let article =
            |t: &str| matches!(bare(t).as_str(), "" | "a" | "an" | "the" | "this" | "that");
        let skipped = tokens[after..].iter().take_while(|t| article(t)).count();
        let Some(written) = tokens.get(after + skipped) else {
            continue;
        };
        // Punctuation after the name, then a documentation role and quotes before it: ":func:`zip`," is `zip`,
        // ":meth:~BufferedSocket.send" `BufferedSocket.send`.
        let trimmed = written.trim_end_matches(|c: char| !c.is_alphanumeric() && c != '_');
        let unroled = match trimmed.strip_prefix(':') {
            Some(rest) => rest.split_once(':').map_or(rest, |(_, name)| name),
            None => trimmed,
        };
        let name = unroled.trim_start_matches(|c: char| !c.is_alphanumeric() && c != '_');
        // After "like", or past an article ("the version of the server"), only a name written as code counts.
        let marked = written.contains(['`', ':', '@', '(']);
        if (like || skipped > 0) && !marked && !looks_like_code(name) {
            continue;
        }
        // Another module's or type's definition (`dict.update`, `itertools.accumulate`) is often the one the
        // answer overrides or mirrors under the same name; lodash's `_` is no such qualifier.
        let segments: Vec<&str> = name
            .split(['.', ':', '#'])
            .filter(|s| !s.is_empty())
            .collect();
        let Some((last, qualifiers)) = segments.split_last() else {
            continue;
        };
        if qualifiers.iter().any(|q| *q != "_" && *q != "$") {
            continue;
        }
        if last.chars().all(|c| c.is_alphanumeric() || c == '_') {
            names.push(last.to_ascii_lowercase());
        }
    }
    names
}

/// A word that compares an answer with a named definition, and the word that must follow it, sorted.
const COMPARISONS: &[(&str, &str)] = &[
    ("alternative", "to"),
    ("analogue", "of"),
    ("complement", "of"),
    ("counterpart", "of"),
    ("counterpart", "to"),
    ("equivalent", "of"),
    ("equivalent", "to"),
    ("inverse", "of"),
    ("mirror", "of"),
    ("opposite", "of"),
    ("similar", "to"),
    ("variant", "of"),
    ("version", "of"),
];

/// Words that show a bare verb is a command: determiners, pronouns, quantifiers, particles and the values a
/// function returns ("return None"), sorted.
const COMMAND_OBJECT_WORDS: &[&str] = &[
    "a", "all", "an", "any", "each", "empty", "every", "false", "from", "given", "how", "if",
    "into", "it", "its", "itself", "my", "nil", "no", "none", "nothing", "null", "one", "onto",
    "our", "self", "some", "that", "the", "their", "them", "these", "this", "those", "to", "true",
    "two", "what", "when", "where", "whether", "which", "whose", "with", "without", "your", "zero",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_comparison_names_the_definition_the_answer_resembles() {
        assert!(COMPARISONS.windows(2).all(|w| w[0] < w[1]), "sorted");
        for (q, name) in [
            (
                "Like is_valid_args for builtins in our signatures registry",
                "is_valid_args",
            ),
            (
                "A version of :func:`sorted` which will happily sort",
                "sorted",
            ),
            (
                "The inverse of :func:zip, this function disaggregates",
                "zip",
            ),
            (
                "This method is like `_.uniq` except that it accepts iteratee",
                "uniq",
            ),
            ("A near-mirror of :func:is_iterable", "is_iterable"),
            ("Similar to the `map` adaptor, but lazy", "map"),
            ("This is like :meth:`send`, but buffered", "send"),
            ("Variadic version of concat", "concat"),
            ("Returns a copy. Like copy_from, but shallow", "copy_from"),
            ("Unlike parse_config, this reads YAML", "parse_config"),
            (
                "The inverse of :func:`zip`, this function disaggregates",
                "zip",
            ),
            ("Like `foo`, but faster", "foo"),
            ("Like `_helper` for builtins", "_helper"),
            ("Like @property, but returns classval", "property"),
        ] {
            assert_eq!(compared_names(q), vec![name.to_string()], "{q}");
        }
        // The same definition elsewhere, the query's own subject, or no name after the comparison.
        for q in [
            "Works exactly like the next_if method in std::iter::Peekable",
            "Ideally we would always use this version of ptr_map",
            "Return the version number of the file",
            "Split a string like",
            "where do we handle errors like timeout",
            "code that looks like retry_request",
            "Bump the version to latest",
            "This function is the inverse of itertools.accumulate",
            "Like dict.update() but add counts",
            "Similar to the Iterator::map adaptor, but lazy",
            "Returns the version of the server",
            "LIKE queries in the ORM",
            "Convert to the inverse",
        ] {
            assert!(compared_names(q).is_empty(), "{q}: {:?}", compared_names(q));
        }
    }

    #[test]
    fn a_query_that_opens_with_a_verb_describes_an_action() {
        assert!(ACTION_VERBS.windows(2).all(|w| w[0] < w[1]), "sorted");
        assert!(NOUN_VERBS.windows(2).all(|w| w[0] < w[1]), "sorted");
        assert!(NOUN_VERBS.iter().all(|v| ACTION_VERBS.contains(v)));
        assert!(
            COMMAND_OBJECT_WORDS.windows(2).all(|w| w[0] < w[1]),
            "sorted"
        );
        for q in [
            "Returns the length of a combination",
            "create a new parser",
            "Copies bytes from self into dst",
            "Applies the function to each element",
            "If Left, return true",
            "when empty, fetches the next page",
            "sort the k smallest elements",
            "wrap it in a box",
            "If empty, return None",
            "Yields unique elements",
            "Constructs a new sorted bag",
            "Groups the elements by their key",
            "Compile and return a new function",
            "Matches each element against the pattern",
            "zip the input *iterables* together",
            "If a, if b, if c, return the rest",
        ] {
            assert!(describes_action(q), "{q}");
        }
        for q in [
            "An iterator adaptor that removes duplicates",
            "retry logic for failed HTTP requests",
            "If Left",
            "parse_config",
            "settings",
            "",
            "Set of options",
            "Deserialize",
            "parse",
            "request logging middleware",
            "test runner worker pool and execution",
            "Serialize and Serializer trait definitions",
            "insert update delete and transaction repo callbacks",
            "Groups of options",
            "match arms and guard clauses",
            "match arms with guards",
            "import statements in the parser",
            "query builder for the postgres driver",
            "Queries against the users table",
            "Locks held across await points",
            "trace ids from the request",
        ] {
            assert!(!describes_action(q), "{q}");
        }
    }

    fn g(q: &str) -> (Intent, Option<String>, bool) {
        let r = guess(q);
        (r.intent, r.name, r.calls_only)
    }

    #[test]
    fn uses_are_asked_for_in_many_ways() {
        let refs = |n: &str, calls| (Intent::References, Some(n.to_string()), calls);
        assert_eq!(g("who calls parse_config?"), refs("parse_config", true));
        assert_eq!(
            g("Who calls `Server::handle`"),
            refs("Server::handle", true)
        );
        assert_eq!(g("where is load_config used"), refs("load_config", false));
        assert_eq!(g("where is the function retry called"), refs("retry", true));
        assert_eq!(
            g("find all references to HttpClient"),
            refs("HttpClient", false)
        );
        assert_eq!(g("usages of fetch()"), refs("fetch", false));
    }

    #[test]
    fn definitions_are_asked_for_by_name() {
        let def = |n: &str| (Intent::Definition, Some(n.to_string()), false);
        assert_eq!(g("where is parse_config defined?"), def("parse_config"));
        assert_eq!(g("Where is the class Router defined"), def("Router"));
        assert_eq!(
            g("definition of Workspace::search"),
            def("Workspace::search")
        );
        assert_eq!(g("go to HttpClient"), def("HttpClient"));
        // Plain words after "go to" or "show me" are a question by meaning.
        assert_eq!(g("go to sleep").0, Intent::Search);
        assert_eq!(g("show me retries").0, Intent::Search);
    }

    #[test]
    fn a_bare_identifier_is_a_symbol_and_words_are_a_search() {
        let sym = |n: &str| (Intent::Symbol, Some(n.to_string()), false);
        assert_eq!(g("parse_config"), sym("parse_config"));
        assert_eq!(g("HttpClient"), sym("HttpClient"));
        assert_eq!(g("Router"), sym("Router"));
        assert_eq!(g("Sinatra::Base"), sym("Sinatra::Base"));
        assert_eq!(g("fetch()"), sym("fetch"));
        // A lowercase word may be a concept as well as a name: hybrid search covers both.
        assert_eq!(g("retry").0, Intent::Search);
        assert_eq!(
            g("where do we retry failed http requests").0,
            Intent::Search
        );
        assert_eq!(g("how is the config parsed").0, Intent::Search);
        assert_eq!(
            g("who calls the police when the build breaks").0,
            Intent::Search
        );
        assert_eq!(g("3.14").0, Intent::Search);
    }

    #[test]
    fn an_explicit_intent_takes_the_name_from_the_query() {
        let r = given(Intent::References, "who calls parse");
        assert_eq!(
            (r.intent, r.name.as_deref(), r.calls_only),
            (Intent::References, Some("parse"), true)
        );
        let r = given(Intent::Definition, "retry");
        assert_eq!((r.name.as_deref(), r.guessed), (Some("retry"), false));
        assert_eq!(given(Intent::Definition, "how we retry").name, None);
        assert_eq!(Intent::parse(Some("auto")), Ok(None));
        assert_eq!(
            Intent::parse(Some("references")),
            Ok(Some(Intent::References))
        );
        assert!(Intent::parse(Some("callers")).is_err());
    }
}
