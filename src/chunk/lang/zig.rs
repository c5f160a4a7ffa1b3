//! Zig: which syntax nodes are definitions, and how they are named.

use tree_sitter::Node;

use super::{DefInfo, Rules, info};
use crate::chunk::ChunkKind;
use crate::chunk::walker::Walker;

/// The node tables of Zig.
pub(super) const RULES: Rules = Rules {
    kinds: &[
        "function_declaration",
        "test_declaration",
        "variable_declaration",
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
        "function_declaration" => info(fk, "fn", name("name")),
        "test_declaration" => {
            let n = node
                .named_children(&mut node.walk())
                .find(|c| matches!(c.kind(), "string" | "identifier"))
                .map(|c| w.text_of(c).trim_matches('"').to_owned())
                .unwrap_or_else(|| "test".to_owned());
            info(K::Function, "test", n)
        }
        "variable_declaration" => {
            let mut c = node.walk();
            let children: Vec<Node> = node.named_children(&mut c).collect();
            let id = children.iter().find(|c| c.kind() == "identifier")?;
            let n = w.text_of(*id);
            for ch in &children {
                let (k, kw) = match ch.kind() {
                    "struct_declaration" => (K::Struct, "struct"),
                    "enum_declaration" => (K::Enum, "enum"),
                    "union_declaration" => (K::Struct, "union"),
                    "opaque_declaration" => (K::Struct, "opaque"),
                    "error_set_declaration" => (K::Type, "error"),
                    _ => continue,
                };
                return info(k, kw, n);
            }
            let is_const = w
                .text_of(node)
                .trim_start_matches("pub ")
                .starts_with("const");
            let is_import = children.iter().any(|c| c.kind() == "builtin_function");
            if is_const && !is_import && !w.in_function(parent) && w.at_top(node, &[]) {
                info(K::Constant, "const", n)
            } else {
                None
            }
        }
        _ => None,
    }
}

#[cfg(test)]
pub(super) mod tests {
    use crate::chunk::tests::*;
    use crate::syntax::Language;

    pub(in crate::chunk) const ZIG: &str = r###"const std = @import("std");

/// A point.
pub const Point = struct {
    x: i32,

    pub fn init(x: i32) Point {
        return .{ .x = x };
    }

    fn get(self: Point) i32 {
        return self.x;
    }
};

const Color = enum { red, green };
const U = union { a: i32 };
const max = 10;

pub fn main() void {
    std.debug.print("hi", .{});
}

test "basic" {
    try std.testing.expect(true);
}
"###;

    #[test]
    fn chunks_zig() {
        check_split(
            Language::Zig,
            ZIG,
            "
1-14 struct Point | struct Point
16-16 enum Color | enum Color
17-17 struct U | union U
18-18 constant max | const max
20-22 function main | fn main
24-26 function basic | test basic
--
4-14 struct Point < -
7-9 method init < Point
11-13 method get < Point
16-16 enum Color < -
17-17 struct U < -
18-18 constant max < -
20-22 function main < -
24-26 function basic < -
",
            "
1-1 block - | 
3-5 struct Point | struct Point
7-9 method init | struct Point > fn init
11-14 method get | struct Point > fn get
16-16 enum Color | enum Color
17-17 struct U | union U
18-18 constant max | const max
20-22 function main | fn main
24-26 function basic | test basic
",
        );
    }
}
