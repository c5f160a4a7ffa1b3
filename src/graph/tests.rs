//! Tests of the table of which files use which name, and of the kinds' names and codes.

use super::*;

#[test]
fn the_table_follows_files_in_and_out() {
    let r = |n: &str| Reference {
        name: n.into(),
        line: 1,
        column: 1,
        kind: RefKind::Call,
    };
    let mut t = RefTable::default();
    t.set_file(FileId(2), &[r("parse"), r("parse"), r("load")]);
    t.set_file(FileId(1), &[r("parse")]);
    assert_eq!(t.files("parse"), [FileId(1), FileId(2)]);
    assert_eq!(t.file_count("load"), 1);
    t.set_file(FileId(2), &[r("load")]);
    assert_eq!(t.files("parse"), [FileId(1)]);
    t.remove_file(FileId(1));
    assert_eq!(t.file_count("parse"), 0);
    assert!(t.names().all(|n| n != "parse"));
    assert_eq!(t.len(), 1);
}

#[test]
fn kinds_round_trip_through_their_codes_and_names() {
    for k in RefKind::ALL {
        assert_eq!(RefKind::from_code(k.code()), Some(k));
        assert_eq!(RefKind::from_name(k.name()), Some(k));
    }
    assert_eq!(RefKind::from_code(9), None);
}
