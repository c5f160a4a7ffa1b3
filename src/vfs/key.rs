//! Path keys: the lossless `String` form of a file name that the index stores and shows.
//!
//! File names are bytes on Unix and need not be UTF-8, but every record, every lexical document and
//! every wire format of sg speaks in `String`s. A name that is valid UTF-8 is its own key. Bytes that
//! are not UTF-8 are written `%XX` (two upper-case hex digits), and a `%` that is followed by two hex
//! digits is written `%25`, so that it cannot be read as an escape; any other `%` stays as it is.
//! So `bad\xff.py` is `bad%FF.py`, `bad%FF.py` is `bad%25FF.py`, and `100%.py` stays `100%.py`.
//! The mapping is injective: [`key_to_name`] gives back the exact bytes, which is how a key is opened
//! again on disk (see [`super::abs_path`]).

use std::ffi::{OsStr, OsString};
use std::fmt::Write;

/// Whether `b` is an ASCII hex digit.
fn is_hex(b: u8) -> bool {
    b.is_ascii_hexdigit()
}

/// Whether the two bytes after position `i` of `bytes` are hex digits (so a `%` at `i` would read as
/// an escape).
fn hex_follows(bytes: &[u8], i: usize) -> bool {
    matches!(bytes.get(i + 1..i + 3), Some([a, b]) if is_hex(*a) && is_hex(*b))
}

/// Appends the key of raw name bytes to `out` (see the module documentation).
pub fn push_key(out: &mut String, bytes: &[u8]) {
    let mut at = 0;
    for chunk in bytes.utf8_chunks() {
        let valid = chunk.valid();
        for (i, c) in valid.char_indices() {
            if c == '%' && hex_follows(bytes, at + i) {
                out.push_str("%25");
            } else {
                out.push(c);
            }
        }
        at += valid.len();
        for b in chunk.invalid() {
            let _ = write!(out, "%{b:02X}");
        }
        at += chunk.invalid().len();
    }
}

/// The key of one file name (a path component).
pub fn name_to_key(name: &OsStr) -> String {
    let mut out = String::new();
    push_name(&mut out, name);
    out
}

#[cfg(unix)]
fn push_name(out: &mut String, name: &OsStr) {
    use std::os::unix::ffi::OsStrExt;
    push_key(out, name.as_bytes());
}

#[cfg(not(unix))]
fn push_name(out: &mut String, name: &OsStr) {
    // Outside Unix a name that is not Unicode cannot be rebuilt from bytes; it keeps its lossy form.
    push_key(out, name.to_string_lossy().as_bytes());
}

/// The raw bytes a key stands for: every `%XX` escape decoded, everything else as written.
pub fn key_to_bytes(key: &str) -> Vec<u8> {
    let bytes = key.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && hex_follows(bytes, i) {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("hex digits are ASCII");
            out.push(u8::from_str_radix(hex, 16).expect("two hex digits"));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

/// The file name (or `/`-separated relative path) a key stands for.
#[cfg(unix)]
pub fn key_to_name(key: &str) -> OsString {
    use std::os::unix::ffi::OsStringExt;
    OsString::from_vec(key_to_bytes(key))
}

/// The file name (or `/`-separated relative path) a key stands for.
#[cfg(not(unix))]
pub fn key_to_name(key: &str) -> OsString {
    match String::from_utf8(key_to_bytes(key)) {
        Ok(s) => OsString::from(s),
        Err(_) => OsString::from(key),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key(bytes: &[u8]) -> String {
        let mut out = String::new();
        push_key(&mut out, bytes);
        out
    }

    #[test]
    fn names_that_are_not_utf8_get_distinct_keys() {
        assert_eq!(key(b"bad\xff.py"), "bad%FF.py");
        assert_eq!(key(b"bad\xfe.py"), "bad%FE.py");
        assert_eq!(key(b"bad%FF.py"), "bad%25FF.py");
        assert_eq!(key(b"100%.py"), "100%.py");
        assert_eq!(key(b"a%2"), "a%2");
        assert_eq!(key("caf\u{e9}.rs".as_bytes()), "caf\u{e9}.rs");
        assert_eq!(key_to_bytes("bad%FF.py"), b"bad\xff.py");
        assert_eq!(key_to_bytes("bad%25FF.py"), b"bad%FF.py");
        assert_eq!(key_to_bytes("100%.py"), b"100%.py");
    }

    proptest! {
        #[test]
        fn keys_round_trip(bytes in prop::collection::vec(
            prop_oneof![any::<u8>(), Just(b'%'), Just(b'F'), Just(b'0')], 0..40)) {
            let k = key(&bytes);
            prop_assert_eq!(key_to_bytes(&k), bytes);
        }

        #[test]
        fn utf8_names_without_escapes_are_their_own_key(s in "[^%]{0,40}") {
            prop_assert_eq!(key(s.as_bytes()), s);
        }
    }
}
