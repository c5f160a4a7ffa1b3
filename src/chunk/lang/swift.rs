//! Swift: which syntax nodes are definitions, and how they are named.

use tree_sitter::Node;

use super::{DefInfo, Rules, info};
use crate::chunk::ChunkKind;
use crate::chunk::walker::Walker;

/// The node tables of Swift.
pub(super) const RULES: Rules = Rules {
    kinds: &[
        "class_declaration",
        "protocol_declaration",
        "function_declaration",
        "protocol_function_declaration",
        "init_declaration",
        "deinit_declaration",
        "typealias_declaration",
    ],
    classify,
    ..Rules::NONE
};

/// The definition `node` is, if it is one.
fn classify(w: &Walker, node: Node, parent: Option<usize>) -> Option<DefInfo> {
    use ChunkKind as K;
    let kind = node.kind();
    let name = |field: &str| w.field_text(node, field).unwrap_or("").to_owned();
    let fk = w.fn_kind(parent);
    match kind {
        "class_declaration" => {
            let (k, kw) = match w.field_text(node, "declaration_kind") {
                Some("struct") => (K::Struct, "struct"),
                Some("enum") => (K::Enum, "enum"),
                Some("extension") => (K::Impl, "extension"),
                Some("actor") => (K::Class, "actor"),
                _ => (K::Class, "class"),
            };
            info(k, kw, name("name"))
        }
        "protocol_declaration" => info(K::Interface, "protocol", name("name")),
        "function_declaration" | "protocol_function_declaration" => info(fk, "func", name("name")),
        "init_declaration" => info(K::Method, "", "init"),
        "deinit_declaration" => info(K::Method, "", "deinit"),
        "typealias_declaration" => info(K::Type, "typealias", name("name")),
        _ => None,
    }
}

#[cfg(test)]
pub(super) mod tests {
    use crate::chunk::tests::*;
    use crate::syntax::Language;

    pub(in crate::chunk) const SWIFT: &str = r###"import Foundation

/// A greeter.
@available(iOS 13, *)
class Greeter {
    var name: String
    init(name: String) { self.name = name }
    func hello() -> String { return name }
}

struct P { func f() {} }
protocol Shape { func area() -> Double }
extension Greeter { func bye() {} }
enum Color { case red }
typealias Id = Int
func main() { print(1) }
"###;

    #[test]
    fn chunks_swift() {
        check_split(
            Language::Swift,
            SWIFT,
            "
1-9 class Greeter | class Greeter
11-11 struct P | struct P
12-12 interface Shape | protocol Shape
13-13 impl Greeter | extension Greeter
14-14 enum Color | enum Color
15-15 type Id | typealias Id
16-16 function main | func main
--
4-9 class Greeter < -
7-7 method init < Greeter
8-8 method hello < Greeter
11-11 struct P < -
11-11 method f < P
12-12 interface Shape < -
12-12 method area < Shape
13-13 impl Greeter < -
13-13 method bye < Greeter
14-14 enum Color < -
15-15 type Id < -
16-16 function main < -
",
            "
1-1 block - | 
3-6 class Greeter | class Greeter
7-7 method init | class Greeter > init
8-9 method hello | class Greeter > func hello
11-11 struct P | struct P
12-12 interface Shape | protocol Shape
13-13 impl Greeter | extension Greeter
14-14 enum Color | enum Color
15-15 type Id | typealias Id
16-16 function main | func main
",
        );
    }
}
