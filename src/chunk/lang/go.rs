//! Go: which syntax nodes are definitions, and how they are named.

use tree_sitter::Node;

use super::{DefInfo, Rules, find_descendant, info};
use crate::chunk::ChunkKind;
use crate::chunk::walker::Walker;

/// The node tables of Go.
pub(super) const RULES: Rules = Rules {
    kinds: &[
        "function_declaration",
        "method_declaration",
        "type_spec",
        "type_alias",
        "const_spec",
    ],
    classify,
    wraps,
    ..Rules::NONE
};

/// The definition `node` is, if it is one.
fn classify(w: &Walker, node: Node, _: Option<usize>) -> Option<DefInfo> {
    use ChunkKind as K;
    let kind = node.kind();
    let name = |field: &str| w.field_text(node, field).unwrap_or("").to_owned();
    match kind {
        "function_declaration" => info(K::Function, "func", name("name")),
        "method_declaration" => {
            let mut di = info(K::Method, "func", name("name"))?;
            di.qualifier = node
                .child_by_field_name("receiver")
                .and_then(|r| find_descendant(r, "type_identifier"))
                .map(|t| w.text_of(t).to_owned());
            Some(di)
        }
        "type_spec" => {
            let k = match node.child_by_field_name("type").map(|t| t.kind()) {
                Some("struct_type") => K::Struct,
                Some("interface_type") => K::Interface,
                _ => K::Type,
            };
            info(k, "type", name("name"))
        }
        "type_alias" => info(K::Type, "type", name("name")),
        "const_spec" if w.at_top(node, &["const_declaration"]) => {
            info(K::Constant, "const", name("name"))
        }
        _ => None,
    }
}

/// A `type` or `const` declaration holding only this definition belongs to it.
fn wraps(parent: Node) -> bool {
    matches!(parent.kind(), "type_declaration" | "const_declaration")
        && parent.named_child_count() == 1
}

#[cfg(test)]
pub(super) mod tests {
    use crate::chunk::tests::*;
    use crate::syntax::Language;

    pub(in crate::chunk) const GO: &str = r###"package main

import "fmt"

// Server serves.
type Server struct {
	port int
}

// Start starts.
func (s *Server) Start() error {
	return nil
}

func (s Server) Stop() {}

type Handler interface { Serve() }
type Alias = int
const Max = 3
var global = 1

func main() {
	fmt.Println("hi")
}
"###;

    #[test]
    fn chunks_go() {
        check_split(
            Language::Go,
            GO,
            "
1-8 struct Server | type Server
10-13 method Start | func Server.Start
15-15 method Stop | func Server.Stop
17-17 interface Handler | type Handler
18-18 type Alias | type Alias
19-20 constant Max | const Max
22-24 function main | func main
--
6-8 struct Server < -
11-13 method Start < Server
15-15 method Stop < Server
17-17 interface Handler < -
18-18 type Alias < -
19-19 constant Max < -
22-24 function main < -
",
            "
1-8 struct Server | type Server
10-13 method Start | func Server.Start
15-15 method Stop | func Server.Stop
17-17 interface Handler | type Handler
18-18 type Alias | type Alias
19-20 constant Max | const Max
22-24 function main | func main
",
        );
    }
}
