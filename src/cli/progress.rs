//! A one-line progress display for long runs: redrawn in place on a terminal, printed
//! every few updates when the output goes to a log file.

use std::io::{IsTerminal, Write};
use std::time::Duration;

pub struct Progress {
    tty: bool,
    every: usize,
}

/// `1h02m03s`.
pub fn duration(d: Duration) -> String {
    let s = d.as_secs();
    match (s / 3600, s / 60 % 60, s % 60) {
        (0, 0, sec) => format!("{sec}s"),
        (0, m, sec) => format!("{m}m{sec:02}s"),
        (h, m, sec) => format!("{h}h{m:02}m{sec:02}s"),
    }
}

pub fn bar(fraction: f64, width: usize) -> String {
    let filled = ((fraction.clamp(0.0, 1.0)) * width as f64).round() as usize;
    format!("[{}{}]", "#".repeat(filled), ".".repeat(width - filled))
}

impl Progress {
    /// Off a terminal, prints one line per `every` updates.
    pub fn new(every: usize) -> Self {
        Self {
            tty: std::io::stderr().is_terminal(),
            every: every.max(1),
        }
    }

    /// Shows `line` for update number `n`.
    pub fn update(&self, n: usize, line: &str) {
        let mut err = std::io::stderr().lock();
        if self.tty {
            let _ = write!(err, "\r\x1b[K{line}");
            let _ = err.flush();
        } else if n.is_multiple_of(self.every) {
            let _ = writeln!(err, "{line}");
        }
    }

    /// Prints a message on its own line, leaving the progress line intact below it.
    pub fn message(&self, line: &str) {
        let mut err = std::io::stderr().lock();
        if self.tty {
            let _ = writeln!(err, "\r\x1b[K{line}");
        } else {
            let _ = writeln!(err, "{line}");
        }
    }
}
