//! JavaScript, TypeScript and TSX: which syntax nodes are definitions, and how they are named.

use tree_sitter::Node;

use super::{DefInfo, Rules, fn_keyword, info};
use crate::chunk::ChunkKind;
use crate::chunk::walker::Walker;

/// The node tables of JavaScript, TypeScript and TSX.
pub(super) const RULES: Rules = Rules {
    kinds: &[
        "function_declaration",
        "generator_function_declaration",
        "function_signature",
        "method_definition",
        "method_signature",
        "abstract_method_signature",
        "class_declaration",
        "abstract_class_declaration",
        "class",
        "interface_declaration",
        "enum_declaration",
        "type_alias_declaration",
        "internal_module",
        "module",
        "variable_declarator",
    ],
    classify,
    attaches,
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
        "function_declaration" | "generator_function_declaration" | "function_signature" => {
            info(K::Function, "function", name("name"))
        }
        "method_definition" | "method_signature" | "abstract_method_signature" => {
            info(fk, fn_keyword(fk), name("name"))
        }
        "class_declaration" | "abstract_class_declaration" | "class" => {
            info(K::Class, "class", name("name"))
        }
        "interface_declaration" => info(K::Interface, "interface", name("name")),
        "enum_declaration" => info(K::Enum, "enum", name("name")),
        "type_alias_declaration" => info(K::Type, "type", name("name")),
        "internal_module" => info(K::Module, "namespace", name("name")),
        "module" => info(
            K::Module,
            "module",
            name("name").trim_matches(|c| c == '"' || c == '\''),
        ),
        "variable_declarator" => {
            let decl = node.parent()?;
            if !w.at_top(decl, &["export_statement"]) {
                return None;
            }
            let n = node
                .child_by_field_name("name")
                .filter(|n| n.kind() == "identifier")?;
            let value = node.child_by_field_name("value");
            let vk = value.map(|v| v.kind()).unwrap_or("");
            if matches!(
                vk,
                "arrow_function" | "function_expression" | "function" | "generator_function"
            ) {
                return info(K::Function, "function", w.text_of(n));
            }
            let is_const =
                decl.kind() == "lexical_declaration" && w.text_of(decl).starts_with("const");
            let is_require = value.is_some_and(|v| {
                v.kind() == "call_expression" && w.field_text(v, "function") == Some("require")
            });
            if is_const && !is_require {
                info(K::Constant, "const", w.text_of(n))
            } else {
                None
            }
        }
        _ => None,
    }
}

/// Decorators belong to the definition after them.
fn attaches(_: &Walker, node: Node, _: &str) -> bool {
    node.kind() == "decorator"
}

/// `export` and `declare` belong to the definition, and so does a statement or declaration that
/// holds only it (`const f = () => ...`).
fn wraps(parent: Node) -> bool {
    match parent.kind() {
        "export_statement" | "ambient_declaration" => true,
        "expression_statement" | "lexical_declaration" | "variable_declaration" => {
            parent.named_child_count() == 1
        }
        _ => false,
    }
}

#[cfg(test)]
pub(super) mod tests {
    use crate::chunk::tests::*;
    use crate::syntax::Language;

    pub(in crate::chunk) const JAVASCRIPT: &str = r###"import x from 'x';

/** A greeter. */
export class Greeter {
  constructor(name) { this.name = name; }
  hello() { return 1; }
}

// Main.
function main() { return new Greeter('a'); }
const helper = () => 2;
const LIMIT = 5;
export default function named() {}
"###;

    pub(in crate::chunk) const TYPESCRIPT: &str = r###"/** Shape. */
export interface Shape { area(): number; }
type Id = string;
enum Dir { Up, Down }
namespace NS { export const a = 1; }
@Component({})
export class Circle implements Shape {
  constructor(private r: number) {}
  area(): number { return 3 * this.r; }
}
function f(x: number): number { return x; }
declare module "m" { }
abstract class A { abstract g(): void; }
"###;

    pub(in crate::chunk) const TSX: &str = r###"import React from "react";

/** Props of the button. */
interface ButtonProps {
  label: string;
}

export class Panel extends React.Component<ButtonProps> {
  render() {
    return <div>{this.props.label}</div>;
  }

  close(): void {}
}

// A button.
export function Button({ label }: ButtonProps) {
  return <button>{label}</button>;
}
"###;

    #[test]
    fn chunks_javascript() {
        check_split(
            Language::JavaScript,
            JAVASCRIPT,
            "
1-7 class Greeter | class Greeter
9-10 function main | function main
11-11 function helper | function helper
12-12 constant LIMIT | const LIMIT
13-13 function named | function named
--
4-7 class Greeter < -
5-5 method constructor < Greeter
6-6 method hello < Greeter
10-10 function main < -
11-11 function helper < -
12-12 constant LIMIT < -
13-13 function named < -
",
            "
1-7 class Greeter | class Greeter
9-10 function main | function main
11-11 function helper | function helper
12-12 constant LIMIT | const LIMIT
13-13 function named | function named
",
        );
    }

    #[test]
    fn chunks_typescript() {
        check_split(
            Language::TypeScript,
            TYPESCRIPT,
            "
1-2 interface Shape | interface Shape
3-3 type Id | type Id
4-4 enum Dir | enum Dir
5-5 module NS | namespace NS
6-10 class Circle | class Circle
11-11 function f | function f
12-12 module m | module m
13-13 class A | class A
--
2-2 interface Shape < -
2-2 method area < Shape
3-3 type Id < -
4-4 enum Dir < -
5-5 module NS < -
6-10 class Circle < -
8-8 method constructor < Circle
9-9 method area < Circle
11-11 function f < -
12-12 module m < -
13-13 class A < -
13-13 method g < A
",
            "
1-2 interface Shape | interface Shape
3-3 type Id | type Id
4-4 enum Dir | enum Dir
5-5 module NS | namespace NS
6-10 class Circle | class Circle
11-11 function f | function f
12-12 module m | module m
13-13 class A | class A
",
        );
    }

    #[test]
    fn chunks_tsx() {
        check_split(
            Language::Tsx,
            TSX,
            "
1-6 interface ButtonProps | interface ButtonProps
8-14 class Panel | class Panel
16-19 function Button | function Button
--
4-6 interface ButtonProps < -
8-14 class Panel < -
9-11 method render < Panel
13-13 method close < Panel
17-19 function Button < -
",
            "
1-6 interface ButtonProps | interface ButtonProps
8-14 class Panel | class Panel
16-19 function Button | function Button
",
        );
    }
}
