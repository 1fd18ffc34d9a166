//! Progress of long runs with `indicatif`: a live bar with rate and ETA on a terminal;
//! when stderr goes to a log file, the same figures as a line every few updates.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use indicatif::{HumanDuration, ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    bar: ProgressBar,
    tty: bool,
    every: u64,
    unit: String,
    /// The last multiple of `every` logged (off a terminal).
    logged: AtomicU64,
}

/// `2 minutes`, as indicatif words durations.
pub fn duration(d: Duration) -> String {
    HumanDuration(d).to_string()
}

impl Progress {
    /// A run of `total` units (`unit` names them) starting at `position`; off a terminal
    /// a line is printed every `every` units.
    pub fn new(total: u64, position: u64, unit: &str, every: usize) -> Self {
        let tty = std::io::stderr().is_terminal();
        let bar = ProgressBar::with_draw_target(
            Some(total),
            if tty {
                ProgressDrawTarget::stderr()
            } else {
                ProgressDrawTarget::hidden()
            },
        );
        let template = format!(
            "{unit} {{pos}}/{{len}} [{{bar:20}}] {{percent}}% {{msg}} elapsed {{elapsed}} ETA {{eta}}"
        );
        if let Ok(style) = ProgressStyle::with_template(&template) {
            bar.set_style(style.progress_chars("#>."));
        }
        bar.set_position(position);
        bar.reset_eta();
        Self {
            bar,
            tty,
            every: every.max(1) as u64,
            unit: unit.to_string(),
            logged: AtomicU64::new(position / every.max(1) as u64),
        }
    }

    /// Moves to `position` with `message` (the run's own figures: loss, rate…).
    pub fn update(&self, position: u64, message: String) {
        self.bar.set_position(position);
        let period = position / self.every;
        if !self.tty && period > self.logged.load(Ordering::Relaxed) {
            self.logged.store(period, Ordering::Relaxed);
            eprintln!(
                "{} {position}/{} {:.1}% {message} elapsed {} ETA {}",
                self.unit,
                self.bar.length().unwrap_or(0),
                100.0 * self.bar.position() as f64 / self.bar.length().unwrap_or(1).max(1) as f64,
                duration(self.bar.elapsed()),
                duration(self.bar.eta())
            );
        }
        self.bar.set_message(message);
    }

    /// Prints a line above the bar (or in the log).
    pub fn message(&self, line: &str) {
        if self.tty {
            self.bar.println(line);
        } else {
            eprintln!("{line}");
        }
    }

    /// Removes the bar, leaving the messages.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
