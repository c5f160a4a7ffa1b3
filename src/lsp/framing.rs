//! Checks the client's byte stream before the protocol layer reads it, so that no malformed frame can
//! end the server. Every message is re-framed: a good one passes unchanged (or repaired: invalid UTF-8
//! and lone UTF-16 surrogate escapes become U+FFFD), a bad one with a request id is rewritten into a
//! request of [`REJECTED`] that the server answers with the error, and anything else is dropped with a
//! log line. An absurd `Content-Length` is refused and the stream re-synchronised on the next header.

use std::borrow::Cow;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use memchr::memmem;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, ReadBuf};
use tower_lsp_server::jsonrpc::{ErrorCode, Id, Request, Response};

/// The largest message body accepted, in bytes. Editors send whole buffers in `didOpen` (VS Code
/// stops synchronising files above 50 MB); anything larger is refused.
pub const MAX_BODY: usize = 64 << 20;

/// The largest header block accepted, in bytes.
const MAX_HEADER: usize = 8 << 10;

/// What every message starts with; the stream is re-synchronised on it.
const MARK: &[u8] = b"Content-Length";

/// The method a rejected request is rewritten to: the server answers it with the error in its
/// parameters, through its own output, so replies never interleave.
pub const REJECTED: &str = "sg/rejectedMessage";

/// Parameters of a [`REJECTED`] request.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct Rejection {
    /// JSON-RPC error code.
    pub code: i64,
    /// What was wrong with the message.
    pub message: String,
}

/// The two shapes the protocol layer accepts, tried in the same order as it does: a message passes
/// when it parses as this.
#[derive(Deserialize)]
#[serde(untagged)]
#[allow(dead_code)]
enum Message {
    Response(Response),
    Request(Request),
}

/// What became of one message.
#[derive(Debug, Default, PartialEq)]
pub struct Decoded {
    /// The frame handed on (header and body), if any.
    pub frame: Option<Vec<u8>>,
    /// What was wrong with the message, for the log.
    pub problem: Option<String>,
}

/// The judgement on one body.
enum Verdict<'a> {
    /// A message the protocol layer accepts. `request_id` is set for requests (not notifications or
    /// responses); `repaired` says what was replaced.
    Good {
        text: Cow<'a, str>,
        request_id: Option<Id>,
        repaired: Option<&'static str>,
    },
    /// Not a message. Answered with an error when it carries an id.
    Bad {
        id: Option<Id>,
        code: ErrorCode,
        reason: String,
    },
}

fn frame(text: &str) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", text.len()).into_bytes();
    out.extend_from_slice(text.as_bytes());
    out
}

/// A rewritten request of [`REJECTED`] for `id`, or a dropped message when there is no id.
fn refuse(id: Option<Id>, code: ErrorCode, reason: String) -> Decoded {
    match id {
        Some(id) => {
            let msg = serde_json::json!({
                "jsonrpc": "2.0",
                "id": id,
                "method": REJECTED,
                "params": Rejection { code: code.code(), message: reason.clone() },
            });
            Decoded {
                frame: Some(frame(&msg.to_string())),
                problem: Some(format!("answered message {id} with an error: {reason}")),
            }
        }
        None => Decoded {
            frame: None,
            problem: Some(format!("dropped a message: {reason}")),
        },
    }
}

fn hex4(b: &[u8], at: usize) -> Option<u32> {
    let digits = b.get(at..at + 4)?;
    let s = std::str::from_utf8(digits).ok()?;
    u32::from_str_radix(s, 16).ok()
}

/// Replaces `\uXXXX` escapes of unpaired UTF-16 surrogates by `\ufffd`. JavaScript's
/// `JSON.stringify` writes them for half of an emoji; serde_json refuses them. Returns `None` when
/// there is none.
pub fn replace_lone_surrogates(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let mut out: Option<String> = None;
    let (mut i, mut copied) = (0, 0);
    while i < b.len() {
        if b[i] != b'\\' {
            i += 1;
            continue;
        }
        if b.get(i + 1) != Some(&b'u') {
            i += 2;
            continue;
        }
        let Some(cp) = hex4(b, i + 2) else {
            i += 2;
            continue;
        };
        let low_follows = || {
            b.get(i + 6) == Some(&b'\\')
                && b.get(i + 7) == Some(&b'u')
                && hex4(b, i + 8).is_some_and(|c| (0xDC00..=0xDFFF).contains(&c))
        };
        match cp {
            0xD800..=0xDBFF if low_follows() => i += 12,
            0xD800..=0xDFFF => {
                let o = out.get_or_insert_with(|| String::with_capacity(text.len()));
                o.push_str(&text[copied..i]);
                o.push_str("\\ufffd");
                i += 6;
                copied = i;
            }
            _ => i += 6,
        }
    }
    out.map(|mut o| {
        o.push_str(&text[copied..]);
        o
    })
}

fn kind_of(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// Judges one message body.
fn judge(body: &[u8]) -> Verdict<'_> {
    let (text, mut repaired) = match std::str::from_utf8(body) {
        Ok(t) => (Cow::Borrowed(t), None),
        Err(_) => (String::from_utf8_lossy(body), Some("invalid UTF-8")),
    };
    let mut parsed = serde_json::from_str::<Message>(&text);
    let text = match parsed
        .is_err()
        .then(|| replace_lone_surrogates(&text))
        .flatten()
    {
        Some(fixed) => {
            parsed = serde_json::from_str::<Message>(&fixed);
            repaired = Some(repaired.map_or(
                "lone surrogate escapes",
                |_| "invalid UTF-8 and lone surrogate escapes",
            ));
            Cow::Owned(fixed)
        }
        None => text,
    };
    match parsed {
        Ok(Message::Request(req)) => {
            let id = req.id().cloned();
            if id.is_some() && req.method().starts_with("$/") {
                return Verdict::Bad {
                    id,
                    code: ErrorCode::MethodNotFound,
                    reason: format!("unknown method {:?}", req.method()),
                };
            }
            Verdict::Good {
                text,
                request_id: id,
                repaired,
            }
        }
        Ok(Message::Response(_)) => Verdict::Good {
            text,
            request_id: None,
            repaired,
        },
        Err(_) => match serde_json::from_str::<serde_json::Value>(&text) {
            Err(err) => Verdict::Bad {
                id: None,
                code: ErrorCode::ParseError,
                reason: format!("the body is not JSON ({err})"),
            },
            Ok(serde_json::Value::Object(obj)) => {
                let id = obj.get("id").and_then(|v| Id::deserialize(v).ok());
                let why = serde_json::from_value::<Request>(serde_json::Value::Object(obj))
                    .err()
                    .map(|e| e.to_string())
                    .unwrap_or_else(|| "not a request or a response".into());
                Verdict::Bad {
                    id,
                    code: ErrorCode::InvalidRequest,
                    reason: format!("not a JSON-RPC message ({why})"),
                }
            }
            Ok(other) => Verdict::Bad {
                id: None,
                code: ErrorCode::InvalidRequest,
                reason: format!("not a JSON-RPC message: the body is {}", kind_of(&other)),
            },
        },
    }
}

/// Turns a verdict into what is handed on. `framing_error` is set when the header was wrong: a
/// request is then answered with that error instead of being served.
fn decide(verdict: Verdict<'_>, framing_error: Option<String>) -> Decoded {
    match (verdict, framing_error) {
        (
            Verdict::Good {
                text,
                request_id: _,
                repaired,
            },
            None,
        ) => Decoded {
            frame: Some(frame(&text)),
            problem: repaired.map(|r| format!("repaired a message: {r} replaced by U+FFFD")),
        },
        (Verdict::Good { request_id, .. }, Some(err)) => {
            refuse(request_id, ErrorCode::InvalidRequest, err)
        }
        (Verdict::Bad { id, code, reason }, None) => refuse(id, code, reason),
        (Verdict::Bad { id, code, reason }, Some(err)) => {
            refuse(id, code, format!("{err}; {reason}"))
        }
    }
}

/// How far the first JSON value of `bytes` extends.
enum Extent {
    /// It ends at this offset.
    Complete(usize),
    /// The bytes end inside it.
    Incomplete,
    /// They do not start with JSON.
    Invalid,
}

fn first_value(bytes: &[u8]) -> Extent {
    let mut it = serde_json::Deserializer::from_slice(bytes).into_iter::<serde::de::IgnoredAny>();
    match it.next() {
        Some(Ok(_)) => Extent::Complete(it.byte_offset()),
        Some(Err(e)) if e.is_eof() => Extent::Incomplete,
        None => Extent::Incomplete,
        Some(Err(_)) => Extent::Invalid,
    }
}

/// Where the reader is in the stream.
#[derive(Clone, Copy, Debug, PartialEq)]
enum State {
    /// Expecting a header block.
    Header,
    /// Expecting a body of this length.
    Body(usize),
    /// Expecting a body whose header gave no usable length (the reason is kept aside).
    Unframed,
}

/// The re-framing state machine: bytes in, checked frames out. Pure, so it can be tested without I/O.
#[derive(Debug)]
pub struct Deframer {
    buf: Vec<u8>,
    state: State,
    /// Why the current body has no usable length.
    unframed: String,
    /// Bytes are being skipped up to the next header (logged once per run).
    skipping: bool,
}

impl Default for Deframer {
    fn default() -> Self {
        Deframer {
            buf: Vec::new(),
            state: State::Header,
            unframed: String::new(),
            skipping: false,
        }
    }
}

fn is_token(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'-' || c == b'_'
}

/// Whether `buf` may start with a header line (a token, then `:`), as far as it goes.
fn may_start_header(buf: &[u8]) -> bool {
    let name_len = buf.iter().take_while(|&&c| is_token(c)).count();
    name_len == buf.len() || (name_len > 0 && buf[name_len] == b':')
}

/// The result of reading a header block.
enum Header {
    /// A usable `Content-Length`.
    Length(u64),
    /// No usable length, and why.
    NoLength(String),
    /// Not a header block.
    Malformed(String),
}

fn parse_header(block: &[u8]) -> Header {
    let mut length = None;
    for line in block.split(|&c| c == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Some(colon) = line.iter().position(|&c| c == b':') else {
            return Header::Malformed("a header line without a colon".into());
        };
        let (name, value) = (&line[..colon], &line[colon + 1..]);
        if name.is_empty() || !name.iter().all(|&c| is_token(c)) {
            return Header::Malformed("a malformed header name".into());
        }
        if name.len() > MARK.len() && name[name.len() - MARK.len()..].eq_ignore_ascii_case(MARK) {
            // Garbage glued to the front of a header.
            return Header::Malformed("bytes before a header".into());
        }
        if name.eq_ignore_ascii_case(MARK) {
            let value = String::from_utf8_lossy(value).trim().to_string();
            length = Some(match value.parse::<u64>() {
                Ok(n) => Ok(n),
                Err(_) => Err(format!("invalid Content-Length {value:?}")),
            });
        }
    }
    match length {
        Some(Ok(n)) => Header::Length(n),
        Some(Err(e)) => Header::NoLength(e),
        None => Header::NoLength("missing Content-Length".into()),
    }
}

impl Deframer {
    /// Appends bytes read from the client.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Drops bytes up to the next header (at least one byte). Returns the log line when a run of
    /// skipping starts.
    fn resync(&mut self, reason: impl FnOnce() -> String) -> Option<Decoded> {
        let from = 1.min(self.buf.len());
        let cut = match memmem::find(&self.buf[from..], MARK) {
            Some(i) => from + i,
            None => self.buf.len().saturating_sub(MARK.len() - 1).max(from),
        };
        self.buf.drain(..cut);
        self.state = State::Header;
        if self.skipping {
            return None;
        }
        self.skipping = true;
        Some(Decoded {
            frame: None,
            problem: Some(format!(
                "skipping input up to the next header: {}",
                reason()
            )),
        })
    }

    /// The next message, if enough bytes have arrived: a frame to hand on, a problem to log, or both.
    pub fn next_message(&mut self) -> Option<Decoded> {
        loop {
            match self.state {
                State::Header => {
                    let blank = self
                        .buf
                        .iter()
                        .take_while(|c| c.is_ascii_whitespace())
                        .count();
                    self.buf.drain(..blank);
                    if self.buf.is_empty() {
                        return None;
                    }
                    // While recovering from garbage, only a `Content-Length` header ends the skipping.
                    let resume = if self.skipping {
                        let n = self.buf.len().min(MARK.len());
                        self.buf[..n] == MARK[..n]
                    } else {
                        may_start_header(&self.buf)
                    };
                    if !resume {
                        match self.resync(|| "bytes that are not a header".into()) {
                            Some(d) => return Some(d),
                            None => continue,
                        }
                    }
                    let window = &self.buf[..self.buf.len().min(MAX_HEADER + 4)];
                    let Some(end) = memmem::find(window, b"\r\n\r\n") else {
                        if self.buf.len() > MAX_HEADER {
                            match self.resync(|| format!("a header over {MAX_HEADER} bytes")) {
                                Some(d) => return Some(d),
                                None => continue,
                            }
                        }
                        return None;
                    };
                    let header = parse_header(&self.buf[..end]);
                    match header {
                        Header::Malformed(why) => match self.resync(|| why) {
                            Some(d) => return Some(d),
                            None => continue,
                        },
                        Header::Length(n) if n > MAX_BODY as u64 => {
                            self.buf.drain(..end + 4);
                            self.skipping = false;
                            return self.resync(|| {
                                format!("Content-Length {n} is over the limit of {MAX_BODY} bytes; the message is refused")
                            });
                        }
                        Header::Length(n) => {
                            self.buf.drain(..end + 4);
                            self.skipping = false;
                            self.state = State::Body(n as usize);
                        }
                        Header::NoLength(why) => {
                            self.buf.drain(..end + 4);
                            self.skipping = false;
                            self.unframed = why;
                            self.state = State::Unframed;
                        }
                    }
                }
                State::Body(n) => {
                    if self.buf.len() < n {
                        return None;
                    }
                    let verdict = judge(&self.buf[..n]);
                    if matches!(verdict, Verdict::Good { .. }) {
                        let d = decide(verdict, None);
                        self.buf.drain(..n);
                        self.state = State::Header;
                        return Some(d);
                    }
                    // Not a message at this length: was the length wrong?
                    let body_end = n - self.buf[..n]
                        .iter()
                        .rev()
                        .take_while(|c| c.is_ascii_whitespace())
                        .count();
                    match first_value(&self.buf) {
                        Extent::Complete(e) if e != body_end => {
                            let err = format!(
                                "wrong Content-Length: the header says {n} bytes, the message has {e}"
                            );
                            let d = decide(judge(&self.buf[..e]), Some(err));
                            self.buf.drain(..e);
                            self.state = State::Header;
                            return Some(d);
                        }
                        Extent::Incomplete if self.buf.len() <= MAX_BODY => return None,
                        _ => {
                            let d = decide(verdict, None);
                            self.buf.drain(..n);
                            self.state = State::Header;
                            return Some(d);
                        }
                    }
                }
                State::Unframed => match first_value(&self.buf) {
                    Extent::Complete(e) => {
                        let d = decide(judge(&self.buf[..e]), Some(self.unframed.clone()));
                        self.buf.drain(..e);
                        self.state = State::Header;
                        return Some(d);
                    }
                    Extent::Incomplete if self.buf.len() <= MAX_BODY => return None,
                    _ => {
                        let why = std::mem::take(&mut self.unframed);
                        match self.resync(|| format!("{why}, and the body is not JSON")) {
                            Some(d) => return Some(d),
                            None => continue,
                        }
                    }
                },
            }
        }
    }

    /// At the end of the input: what was left unread, if anything.
    pub fn finish(&mut self) -> Option<String> {
        let left = self.buf.len();
        self.buf.clear();
        let inside = self.state != State::Header;
        self.state = State::Header;
        (left > 0 || inside)
            .then(|| format!("the input ended inside a message ({left} bytes dropped)"))
    }
}

/// The client's input, re-framed by a [`Deframer`]: what the protocol layer reads instead of stdin.
pub struct CheckedInput<R> {
    inner: R,
    deframer: Deframer,
    out: Vec<u8>,
    pos: usize,
    eof: bool,
    scratch: Box<[u8]>,
}

impl<R> CheckedInput<R> {
    /// Wraps the raw input.
    pub fn new(inner: R) -> Self {
        CheckedInput {
            inner,
            deframer: Deframer::default(),
            out: Vec::new(),
            pos: 0,
            eof: false,
            scratch: vec![0; 64 << 10].into_boxed_slice(),
        }
    }
}

fn log(d: &Decoded) {
    if let Some(p) = &d.problem {
        tracing::warn!(target: "sg::lsp", "{p}");
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for CheckedInput<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if this.pos < this.out.len() {
                let n = buf.remaining().min(this.out.len() - this.pos);
                buf.put_slice(&this.out[this.pos..this.pos + n]);
                this.pos += n;
                if this.pos == this.out.len() {
                    this.out.clear();
                    this.pos = 0;
                }
                return Poll::Ready(Ok(()));
            }
            if this.eof {
                return Poll::Ready(Ok(()));
            }
            let mut raw = ReadBuf::new(&mut this.scratch);
            match Pin::new(&mut this.inner).poll_read(cx, &mut raw) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Ready(Ok(())) => {
                    let filled = raw.filled();
                    if filled.is_empty() {
                        this.eof = true;
                        if let Some(p) = this.deframer.finish() {
                            tracing::warn!(target: "sg::lsp", "{p}");
                        }
                        continue;
                    }
                    this.deframer.push(filled);
                    while let Some(d) = this.deframer.next_message() {
                        log(&d);
                        if let Some(f) = d.frame {
                            this.out.extend_from_slice(&f);
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(body: &str) -> Vec<u8> {
        frame(body)
    }

    const GOOD: &str = r#"{"jsonrpc":"2.0","id":9,"method":"sg/search","params":{"query":"x"}}"#;

    /// Feeds `input` (in pieces of `step` bytes) and returns every decoded message.
    fn run(input: &[u8], step: usize) -> Vec<Decoded> {
        let mut d = Deframer::default();
        let mut out = Vec::new();
        for piece in input.chunks(step.max(1)) {
            d.push(piece);
            while let Some(m) = d.next_message() {
                out.push(m);
            }
        }
        out
    }

    fn frames(decoded: &[Decoded]) -> Vec<serde_json::Value> {
        decoded
            .iter()
            .filter_map(|d| d.frame.as_ref())
            .map(|f| {
                let text = std::str::from_utf8(f).unwrap();
                let (head, body) = text.split_once("\r\n\r\n").unwrap();
                assert_eq!(head, format!("Content-Length: {}", body.len()));
                serde_json::from_str(body).unwrap()
            })
            .collect()
    }

    fn good() -> serde_json::Value {
        serde_json::from_str(GOOD).unwrap()
    }

    fn rejection(id: serde_json::Value, code: ErrorCode) -> impl Fn(&serde_json::Value) -> bool {
        move |v| v["method"] == REJECTED && v["id"] == id && v["params"]["code"] == code.code()
    }

    #[test]
    fn good_messages_pass_unchanged_however_they_are_split() {
        let mut input = msg(GOOD);
        input.extend(msg(
            r#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#,
        ));
        input.extend(msg(r#"{"jsonrpc":"2.0","id":1,"result":null}"#));
        for step in [1, 2, 7, 64, input.len()] {
            let out = run(&input, step);
            assert!(out.iter().all(|d| d.problem.is_none()), "{out:?}");
            let f: Vec<Vec<u8>> = out.into_iter().filter_map(|d| d.frame).collect();
            assert_eq!(f.concat(), input, "split every {step} bytes");
        }
    }

    #[test]
    fn bodies_that_are_not_messages_are_dropped_and_the_next_one_passes() {
        for (body, why) in [
            (&b"[]"[..], "an array"),
            (b"null", "null"),
            (b"{}", "missing field `jsonrpc`"),
            (b"{\"jsonrpc\":\"2.0\",", "not JSON"),
            (b"not json at all", "not JSON"),
            (b"\xff\xfe{", "not JSON"),
            (
                b"{\"jsonrpc\":\"1.0\",\"method\":\"x\"}",
                "expected JSON-RPC version",
            ),
        ] {
            let mut input = Vec::new();
            input.extend(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
            input.extend(body);
            input.extend(msg(GOOD));
            for step in [1, 5, input.len()] {
                let out = run(&input, step);
                let problem = out[0].problem.as_deref().unwrap_or_default();
                assert!(out[0].frame.is_none(), "{body:?}: {out:?}");
                assert!(
                    problem.starts_with("dropped a message") && problem.contains(why),
                    "{body:?}: {problem}"
                );
                assert_eq!(frames(&out), vec![good()], "{body:?} split every {step}");
            }
        }
    }

    #[test]
    fn a_bad_message_with_an_id_is_answered() {
        let body = r#"{"id":4,"method":"sg/search","params":{"query":"x"}}"#;
        let mut input = msg(body);
        input.extend(msg(GOOD));
        let out = run(&input, 3);
        let f = frames(&out);
        assert!(
            rejection(serde_json::json!(4), ErrorCode::InvalidRequest)(&f[0]),
            "{f:?}"
        );
        assert!(
            f[0]["params"]["message"]
                .as_str()
                .unwrap()
                .contains("jsonrpc"),
            "{f:?}"
        );
        assert_eq!(f[1], good());
        // A string id too.
        let out = run(&msg(r#"{"jsonrpc":"2.0","id":"a","method":7}"#), 100);
        assert!(rejection(serde_json::json!("a"), ErrorCode::InvalidRequest)(&frames(&out)[0]));
    }

    #[test]
    fn dollar_requests_get_method_not_found_but_dollar_notifications_pass() {
        let req = r#"{"jsonrpc":"2.0","id":12,"method":"$/unknownThing","params":{}}"#;
        let note = r#"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":3}}"#;
        let mut input = msg(req);
        input.extend(msg(note));
        let f = frames(&run(&input, 100));
        assert!(
            rejection(serde_json::json!(12), ErrorCode::MethodNotFound)(&f[0]),
            "{f:?}"
        );
        assert_eq!(
            f[1],
            serde_json::from_str::<serde_json::Value>(note).unwrap()
        );
    }

    #[test]
    fn lone_surrogates_are_replaced_and_the_message_served() {
        assert_eq!(
            replace_lone_surrogates(
                r#"{"a":"x\ud800y","b":"\udc00","c":"\ud83d\ude00","d":"\\ud800"}"#
            )
            .as_deref(),
            Some(r#"{"a":"x\ufffdy","b":"\ufffd","c":"\ud83d\ude00","d":"\\ud800"}"#)
        );
        assert_eq!(
            replace_lone_surrogates(r#"{"c":"\ud83d\ude00 \u0041"}"#),
            None
        );
        // A high surrogate at the very end, and one followed by another high one.
        assert_eq!(
            replace_lone_surrogates(r#""\uD83D\uD83D\uDE00\uDBFF""#).as_deref(),
            Some(r#""\ufffd\uD83D\uDE00\ufffd""#)
        );
        let body = r#"{"jsonrpc":"2.0","id":3,"method":"sg/search","params":{"query":"half \ud83d emoji"}}"#;
        let out = run(&msg(body), 10);
        assert!(
            out[0]
                .problem
                .as_deref()
                .unwrap()
                .contains("lone surrogate"),
            "{out:?}"
        );
        let f = frames(&out);
        assert_eq!(f[0]["id"], 3);
        assert_eq!(f[0]["method"], "sg/search");
        assert_eq!(f[0]["params"]["query"], "half \u{fffd} emoji");
    }

    #[test]
    fn invalid_utf8_inside_strings_is_replaced() {
        let mut body =
            br#"{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"t":"a"#.to_vec();
        body.extend(b"\xff\xfe");
        body.extend(br#"b"}}"#);
        let mut input = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
        input.extend(&body);
        let out = run(&input, 4);
        assert!(out[0].problem.as_deref().unwrap().contains("invalid UTF-8"));
        assert_eq!(frames(&out)[0]["params"]["t"], "a\u{fffd}\u{fffd}b");
    }

    #[test]
    fn an_absurd_length_is_refused_and_the_stream_resynchronised() {
        let mut input = b"Content-Length: 4000000000\r\n\r\n".to_vec();
        input.extend(br#"{"jsonrpc":"2.0","id":1,"method":"shutdown"}"#);
        input.extend(msg(GOOD));
        for step in [1, 9, input.len()] {
            let out = run(&input, step);
            assert!(out[0].frame.is_none());
            assert!(
                out[0]
                    .problem
                    .as_deref()
                    .unwrap()
                    .contains("4000000000 is over the limit")
            );
            assert_eq!(frames(&out), vec![good()], "split every {step}");
            assert_eq!(
                out.len(),
                2,
                "the refused body is skipped silently: {out:?}"
            );
        }
        // A length that does not even fit in 64 bits.
        let mut input = b"Content-Length: 99999999999999999999999\r\n\r\n{}".to_vec();
        input.extend(msg(GOOD));
        let out = run(&input, 100);
        assert_eq!(frames(&out), vec![good()]);
    }

    #[test]
    fn wrong_lengths_are_answered_when_the_message_has_an_id() {
        let body = r#"{"jsonrpc":"2.0","id":5,"method":"sg/search","params":{"query":"x"}}"#;
        for claimed in [body.len() - 10, body.len() + 10, 1] {
            let mut input = format!("Content-Length: {claimed}\r\n\r\n{body}").into_bytes();
            input.extend(msg(GOOD));
            for step in [1, 13, input.len()] {
                let f = frames(&run(&input, step));
                assert!(
                    rejection(serde_json::json!(5), ErrorCode::InvalidRequest)(&f[0]),
                    "{claimed}: {f:?}"
                );
                let m = f[0]["params"]["message"].as_str().unwrap();
                assert!(m.contains("wrong Content-Length"), "{m}");
                assert_eq!(f[1..], [good()], "claimed {claimed}, split every {step}");
            }
        }
    }

    #[test]
    fn missing_or_invalid_lengths_are_answered_and_garbage_is_skipped() {
        let body = r#"{"jsonrpc":"2.0","id":6,"method":"sg/search","params":{"query":"x"}}"#;
        for header in [
            "Content-Type: application/json\r\n\r\n",
            "Content-Length: ten\r\n\r\n",
        ] {
            let mut input = format!("{header}{body}").into_bytes();
            input.extend(msg(GOOD));
            let f = frames(&run(&input, 7));
            assert!(
                rejection(serde_json::json!(6), ErrorCode::InvalidRequest)(&f[0]),
                "{f:?}"
            );
            assert_eq!(f[1..], [good()]);
        }
        // Garbage between messages, a header line without a colon, a notification without a length.
        let mut input = b"\x00\x01garbage }{ ".to_vec();
        input.extend(msg(GOOD));
        input.extend(b"Content-Length 12\r\n\r\nxx");
        input.extend(msg(GOOD));
        input.extend(b"X-Other: 1\r\n\r\n{\"jsonrpc\":\"2.0\",\"method\":\"initialized\"}");
        input.extend(msg(GOOD));
        for step in [1, 3, input.len()] {
            let out = run(&input, step);
            assert_eq!(
                frames(&out),
                vec![good(), good(), good()],
                "split every {step}: {out:?}"
            );
        }
    }

    #[test]
    fn the_end_of_input_inside_a_message_is_reported() {
        let mut d = Deframer::default();
        d.push(b"Content-Length: 50\r\n\r\n{\"jsonrpc\"");
        assert_eq!(d.next_message(), None);
        assert_eq!(
            d.finish().as_deref(),
            Some("the input ended inside a message (10 bytes dropped)")
        );
        assert_eq!(d.finish(), None);
    }

    #[tokio::test]
    async fn checked_input_hands_on_only_good_frames() {
        let mut input = b"Content-Length: 2\r\n\r\n[]".to_vec();
        input.extend(msg(GOOD));
        input.extend(b"Content-Length: 10\r\n\r\n{\"a\"");
        let mut r = CheckedInput::new(&input[..]);
        let mut out = Vec::new();
        // Reads smaller than a frame take it in pieces.
        let mut piece = [0u8; 7];
        loop {
            let mut rb = ReadBuf::new(&mut piece);
            std::future::poll_fn(|cx| Pin::new(&mut r).poll_read(cx, &mut rb))
                .await
                .unwrap();
            if rb.filled().is_empty() {
                break;
            }
            out.extend_from_slice(rb.filled());
        }
        assert_eq!(out, msg(GOOD));
    }
}
