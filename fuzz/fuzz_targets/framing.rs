//! The language server's input layer on any bytes, split into reads at any points: no panic, no hang, and
//! every frame it hands on is well formed (its `Content-Length` is its body's length, the body is JSON).

#![no_main]

use libfuzzer_sys::fuzz_target;
use sg::lsp::framing::Deframer;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the read size, so the same input is also tried as many small reads.
    let (step, bytes) = match data.split_first() {
        Some((s, rest)) => (usize::from(*s % 64) + 1, rest),
        None => return,
    };
    let mut d = Deframer::default();
    let mut out = 0usize;
    for piece in bytes.chunks(step) {
        d.push(piece);
        while let Some(m) = d.next_message() {
            out += 1;
            assert!(out <= 2 * bytes.len() + 2, "more messages than bytes");
            if let Some(frame) = m.frame {
                let text = String::from_utf8_lossy(&frame);
                let (head, body) = text
                    .split_once("\r\n\r\n")
                    .expect("a frame has a header block");
                let len: usize = head
                    .strip_prefix("Content-Length: ")
                    .and_then(|n| n.trim().parse().ok())
                    .expect("a frame starts with its length");
                assert_eq!(len, frame.len() - head.len() - 4, "length of {text:?}");
                assert!(
                    serde_json::from_slice::<serde_json::Value>(&frame[head.len() + 4..]).is_ok(),
                    "a frame's body is JSON: {body:?}"
                );
            }
        }
    }
    let _ = d.finish();
});
