//! C and C++: which syntax nodes are definitions, and how they are named.

use tree_sitter::Node;

use super::{DefInfo, Rules, fn_keyword, info};
use crate::chunk::ChunkKind;
use crate::chunk::walker::Walker;

/// The node tables of C and C++.
pub(super) const RULES: Rules = Rules {
    kinds: &[
        "function_definition",
        "struct_specifier",
        "union_specifier",
        "enum_specifier",
        "class_specifier",
        "type_definition",
        "namespace_definition",
        "alias_declaration",
        "concept_definition",
        "preproc_def",
        "preproc_function_def",
    ],
    classify,
    wraps,
    ..Rules::NONE
};

/// The definition `node` is, if it is one.
fn classify(w: &Walker, node: Node, parent: Option<usize>) -> Option<DefInfo> {
    use ChunkKind as K;
    let kind = node.kind();
    let name = |field: &str| w.field_text(node, field).unwrap_or("").to_owned();
    let fk = w.fn_kind(parent);
    match kind {
        "function_definition" => {
            let (n, q) = declarator_name(w, node)?;
            let k = if q.is_some() { K::Method } else { fk };
            let mut di = info(k, fn_keyword(k), n)?;
            di.qualifier = q;
            Some(di)
        }
        "struct_specifier" | "union_specifier" | "enum_specifier" | "class_specifier"
            if node.child_by_field_name("body").is_some() =>
        {
            let (k, kw) = match kind {
                "struct_specifier" => (K::Struct, "struct"),
                "union_specifier" => (K::Struct, "union"),
                "enum_specifier" => (K::Enum, "enum"),
                _ => (K::Class, "class"),
            };
            info(k, kw, name("name"))
        }
        "type_definition" => {
            let d = node.child_by_field_name("declarator")?;
            info(K::Type, "typedef", w.text_of(innermost_declarator(d)))
        }
        "namespace_definition" => {
            let n = name("name");
            info(
                K::Module,
                "namespace",
                if n.is_empty() {
                    "(anonymous)".to_owned()
                } else {
                    n
                },
            )
        }
        "alias_declaration" => info(K::Type, "using", name("name")),
        "concept_definition" => info(K::Type, "concept", name("name")),
        "preproc_def" if w.at_top(node, &[]) => info(K::Constant, "#define", name("name")),
        "preproc_function_def" => info(K::Macro, "#define", name("name")),
        _ => None,
    }
}

/// A C++ `template <...>` belongs to the definition it introduces.
fn wraps(parent: Node) -> bool {
    parent.kind() == "template_declaration"
}

/// The name of a C/C++ function from its declarator chain, with its `Scope::` if qualified.
fn declarator_name(w: &Walker, node: Node) -> Option<(String, Option<String>)> {
    let d = innermost_declarator(node.child_by_field_name("declarator")?);
    if d.kind() == "qualified_identifier" {
        let mut n = d;
        let mut scopes = Vec::new();
        while n.kind() == "qualified_identifier" {
            if let Some(s) = n.child_by_field_name("scope") {
                scopes.push(w.text_of(s).to_owned());
            }
            n = n.child_by_field_name("name")?;
        }
        return Some((w.text_of(n).to_owned(), Some(scopes.join("::"))));
    }
    Some((w.text_of(d).to_owned(), None))
}

/// Follows `declarator` fields (pointer, reference, function, array declarators) to the name.
fn innermost_declarator(mut node: Node) -> Node {
    for _ in 0..64 {
        let next = match node.child_by_field_name("declarator") {
            Some(n) => n,
            None if matches!(
                node.kind(),
                "reference_declarator" | "parenthesized_declarator" | "attributed_declarator"
            ) =>
            {
                match node.named_child(0) {
                    Some(n) => n,
                    None => break,
                }
            }
            None => break,
        };
        node = next;
    }
    node
}

#[cfg(test)]
pub(super) mod tests {
    use crate::chunk::tests::*;
    use crate::syntax::Language;

    pub(in crate::chunk) const C: &str = r###"#include <stdio.h>
#define MAX 10
#define SQ(x) ((x)*(x))

/* A point. */
struct point {
    int x;
};

typedef struct { int a; } pair_t;
enum color { RED };

// Adds.
static int add(int a, int b) {
    return a + b;
}

int *make(void) { return 0; }
int main(void) { return add(1, 2); }
"###;

    pub(in crate::chunk) const CPP: &str = r###"#include <string>

namespace app {

/// A server.
class Server {
public:
    Server(int p) : port(p) {}
    void start();
    int port;
};

void Server::start() {}

template <typename T>
T max(T a, T b) { return a > b ? a : b; }

struct S { int f() { return 1; } };
}

using Id = int;
int main() { return 0; }
"###;

    #[test]
    fn chunks_c() {
        check_split(
            Language::C,
            C,
            "
1-2 constant MAX | #define MAX
3-3 macro SQ | #define SQ
5-8 struct point | struct point
10-10 type pair_t | typedef pair_t
11-11 enum color | enum color
13-16 function add | function add
18-18 function make | function make
19-19 function main | function main
--
2-2 constant MAX < -
3-3 macro SQ < -
6-8 struct point < -
10-10 type pair_t < -
11-11 enum color < -
14-16 function add < -
18-18 function make < -
19-19 function main < -
",
            "
1-2 constant MAX | #define MAX
3-3 macro SQ | #define SQ
5-8 struct point | struct point
10-10 type pair_t | typedef pair_t
11-11 enum color | enum color
13-16 function add | function add
18-18 function make | function make
19-19 function main | function main
",
        );
    }

    #[test]
    fn chunks_cpp() {
        check_split(
            Language::Cpp,
            CPP,
            "
1-19 module app | namespace app
21-21 type Id | using Id
22-22 function main | function main
--
3-19 module app < -
6-11 class Server < app
8-8 method Server < Server
13-13 method start < Server
15-16 function max < app
18-18 struct S < app
18-18 method f < S
21-21 type Id < -
22-22 function main < -
",
            "
1-1 block - | 
3-3 module app | namespace app
5-11 class Server | namespace app > class Server
13-13 method start | namespace app > method Server.start
15-16 function max | namespace app > function max
18-19 struct S | namespace app > struct S
21-21 type Id | using Id
22-22 function main | function main
",
        );
    }
}
