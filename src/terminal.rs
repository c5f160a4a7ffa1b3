//! The terminal as front ends use it: a progress bar on stderr, whether to colour, and text made safe
//! to print.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::index::{Phase, Progress};

/// A progress bar on stderr, shown only on a terminal.
pub struct Bar {
    bar: std::sync::Mutex<Option<ProgressBar>>,
    enabled: bool,
}

impl Bar {
    /// A bar that draws when stderr is a terminal.
    pub fn new() -> Self {
        Bar {
            bar: std::sync::Mutex::new(None),
            enabled: std::io::stderr().is_terminal(),
        }
    }
}

impl Default for Bar {
    fn default() -> Self {
        Self::new()
    }
}

impl Progress for Bar {
    fn begin(&self, phase: Phase, total: u64) {
        if !self.enabled || total == 0 {
            return;
        }
        let pb = ProgressBar::new(total);
        pb.set_style(
            ProgressStyle::with_template("{msg:>18} [{bar:30}] {pos}/{len} ({per_sec}, eta {eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        pb.set_message(phase.name());
        pb.enable_steady_tick(Duration::from_millis(200));
        *self.bar.lock().unwrap_or_else(|e| e.into_inner()) = Some(pb);
    }
    fn report(&self, done: u64) {
        if let Some(pb) = &*self.bar.lock().unwrap_or_else(|e| e.into_inner()) {
            pb.set_position(done);
        }
    }
    fn end(&self) {
        if let Some(pb) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).take() {
            pb.finish_and_clear();
        }
    }
}

/// Whether to colour a stream: only a terminal, and never when `NO_COLOR` is set to anything non-empty
/// (<https://no-color.org>).
pub fn use_color(stream_is_terminal: bool) -> bool {
    stream_is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// `s` made safe for a terminal: control characters (ESC, CR, BEL, DEL, C1...) and the bidirectional
/// formatting characters that reorder what is shown are written as escapes (`\x1b`, `\u{202e}`), so a
/// file name or file text from a cloned repository cannot move the cursor, recolour or rewrite the
/// screen. Tabs stay.
pub fn terminal_safe(s: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| {
        (c.is_control() && c != '\t')
            || matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !s.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            c if !unsafe_char(c) => out.push(c),
            c if (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    std::borrow::Cow::Owned(out)
}
