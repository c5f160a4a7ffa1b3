//! Rust: which syntax nodes are definitions, and how they are named.

use tree_sitter::Node;

use super::{DefInfo, Rules, info};
use crate::chunk::ChunkKind;
use crate::chunk::source::clean_name;
use crate::chunk::walker::Walker;

/// The node tables of Rust.
pub(super) const RULES: Rules = Rules {
    kinds: &[
        "function_item",
        "function_signature_item",
        "struct_item",
        "union_item",
        "enum_item",
        "trait_item",
        "type_item",
        "macro_definition",
        "mod_item",
        "const_item",
        "static_item",
        "impl_item",
    ],
    classify,
    attaches,
    ..Rules::NONE
};

/// The definition `node` is, if it is one.
fn classify(w: &Walker, node: Node, parent: Option<usize>) -> Option<DefInfo> {
    use ChunkKind as K;
    let kind = node.kind();
    let name = |field: &str| w.field_text(node, field).unwrap_or("").to_owned();
    let fk = w.fn_kind(parent);
    match kind {
        "function_item" | "function_signature_item" => info(fk, "fn", name("name")),
        "struct_item" => info(K::Struct, "struct", name("name")),
        "union_item" => info(K::Struct, "union", name("name")),
        "enum_item" => info(K::Enum, "enum", name("name")),
        "trait_item" => info(K::Trait, "trait", name("name")),
        "type_item" => info(K::Type, "type", name("name")),
        "macro_definition" => info(K::Macro, "macro_rules!", name("name")),
        "mod_item" if node.child_by_field_name("body").is_some() => {
            info(K::Module, "mod", name("name"))
        }
        "const_item" if !w.in_function(parent) => info(K::Constant, "const", name("name")),
        "static_item" if !w.in_function(parent) => info(K::Constant, "static", name("name")),
        "impl_item" => {
            let ty = clean_name(&name("type"));
            let mut di = info(K::Impl, "impl", ty.clone())?;
            di.label = Some(match w.field_text(node, "trait") {
                Some(tr) => format!("impl {} for {ty}", clean_name(tr)),
                None => format!("impl {ty}"),
            });
            Some(di)
        }
        _ => None,
    }
}

/// Attributes belong to the definition after them.
fn attaches(_: &Walker, node: Node, _: &str) -> bool {
    node.kind() == "attribute_item"
}

#[cfg(test)]
pub(super) mod tests {
    use crate::chunk::tests::*;
    use crate::syntax::Language;

    pub(in crate::chunk) const RUST: &str = r###"use std::io;

/// A server.
#[derive(Debug)]
pub struct Server {
    port: u16,
}

impl Server {
    /// Creates a server.
    pub fn new(port: u16) -> Self {
        Server { port }
    }

    fn handle(&self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for Server { fn drop(&mut self) {} }

trait Greet { fn hi(&self); }
enum Color { Red, Green }
mod inner { pub fn f() {} }
type Id = u32;
const MAX: usize = 10;
static NAME: &str = "x";
macro_rules! m { () => {} }

// Starts it.
fn main() {
    let s = Server::new(1);
}
"###;

    #[test]
    fn chunks_rust() {
        check_split(
            Language::Rust,
            RUST,
            "
1-7 struct Server | struct Server
9-18 impl Server | impl Server
20-20 impl Server | impl Drop for Server
22-22 trait Greet | trait Greet
23-23 enum Color | enum Color
24-24 module inner | mod inner
25-25 type Id | type Id
26-27 block - | 
28-28 macro m | macro_rules! m
30-33 function main | fn main
--
5-7 struct Server < -
9-18 impl Server < -
11-13 method new < Server
15-17 method handle < Server
20-20 impl Server < -
20-20 method drop < Server
22-22 trait Greet < -
22-22 method hi < Greet
23-23 enum Color < -
24-24 module inner < -
24-24 function f < inner
25-25 type Id < -
26-26 constant MAX < -
27-27 constant NAME < -
28-28 macro m < -
31-33 function main < -
",
            "
1-7 struct Server | struct Server
9-9 impl Server | impl Server
10-13 method new | impl Server > fn new
15-18 method handle | impl Server > fn handle
20-20 impl Server | impl Drop for Server
22-22 trait Greet | trait Greet
23-23 enum Color | enum Color
24-24 module inner | mod inner
25-25 type Id | type Id
26-27 block - | 
28-28 macro m | macro_rules! m
30-33 function main | fn main
",
        );
    }
}
