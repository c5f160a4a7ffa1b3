//! The language server's input layer on any bytes: no panic, every frame it hands on is well formed (its
//! `Content-Length` is its body's length and the body is JSON), and a good message after garbage that names
//! no length is still delivered, however the bytes are split into reads.

use proptest::prelude::*;
use sg::lsp::framing::Deframer;

const GOOD: &str = r#"{"jsonrpc":"2.0","id":77,"method":"sg/search","params":{"query":"x"}}"#;

fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

/// Bytes that look like LSP input more often than random bytes do.
fn noise() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..40),
        Just(b"Content-Length: 12\r\n\r\n".to_vec()),
        Just(b"Content-Length: 4000000000\r\n\r\n".to_vec()),
        Just(b"Content-Type: application/vscode-jsonrpc\r\n".to_vec()),
        Just(b"\r\n\r\n".to_vec()),
        Just(br#"{"jsonrpc":"2.0","id":1,"method":"$/x"}"#.to_vec()),
        Just(br#""\ud800""#.to_vec()),
        Just(vec![0xff, 0xfe, b'{']),
    ];
    prop::collection::vec(piece, 0..12).prop_map(|v| v.concat())
}

/// Everything the deframer hands on for `input` read `step` bytes at a time.
fn run(input: &[u8], step: usize) -> Vec<Vec<u8>> {
    let mut d = Deframer::default();
    let mut out = Vec::new();
    for piece in input.chunks(step.max(1)) {
        d.push(piece);
        while let Some(m) = d.next_message() {
            if let Some(f) = m.frame {
                out.push(f);
            }
        }
    }
    let _ = d.finish();
    out
}

fn check_frame(f: &[u8]) -> Result<serde_json::Value, TestCaseError> {
    let at = f
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| TestCaseError::fail("no header end"))?;
    let head = std::str::from_utf8(&f[..at]).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let body = &f[at + 4..];
    prop_assert_eq!(head, format!("Content-Length: {}", body.len()));
    serde_json::from_slice(body).map_err(|e| TestCaseError::fail(format!("body is not JSON: {e}")))
}

proptest! {
    #[test]
    fn any_bytes_give_only_well_formed_frames(input in noise(), step in 1usize..64) {
        for f in run(&input, step) {
            check_frame(&f)?;
        }
    }

    #[test]
    fn a_good_message_after_garbage_without_a_length_is_delivered(
        garbage in prop::collection::vec(any::<u8>(), 0..300),
        step in 1usize..64,
    ) {
        // Garbage that names a length may legitimately swallow what follows as its body.
        let lower = garbage.to_ascii_lowercase();
        prop_assume!(!lower.windows(14).any(|w| w == b"content-length"));
        let mut input = garbage.clone();
        input.extend(frame(GOOD.as_bytes()));
        let frames = run(&input, step);
        let mut delivered = false;
        for f in &frames {
            let v = check_frame(f)?;
            delivered |= v.get("id") == Some(&serde_json::json!(77));
        }
        prop_assert!(delivered, "the good message was lost after {} bytes of garbage", garbage.len());
    }
}
