//! The progress bar on stderr: hidden for the first second of a run, and never drawn with
//! `--quiet` or when stderr is not a terminal.

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use llc_estimators::{Divergence, Progress, Restart};

/// An indicatif bar that stays hidden for the first second.
pub(crate) struct Bar {
    bar: ProgressBar,
    started: Instant,
    shown: bool,
    quiet: bool,
    /// A bar over several estimates (`llc calibrate`): its length is set once, the estimates'
    /// start and finish leave it alone, and divergences are left to the caller to report.
    spanning: bool,
}

impl Bar {
    /// A bar for one estimate.
    pub(crate) fn new(quiet: bool) -> Self {
        let bar = ProgressBar::hidden();
        bar.set_message("sampling");
        Self { bar, started: Instant::now(), shown: false, quiet, spanning: false }
    }

    /// A bar over several estimates of `total_steps` chain-steps in all; [`Bar::set_message`] names
    /// the current one and [`Bar::done`] clears it.
    pub(crate) fn spanning(quiet: bool, total_steps: u64) -> Self {
        let bar = Self { spanning: true, ..Self::new(quiet) };
        bar.bar.set_length(total_steps);
        bar
    }

    /// The text before the bar.
    pub(crate) fn set_message(&self, message: String) {
        self.bar.set_message(message);
    }

    /// Clears the bar from the terminal.
    pub(crate) fn done(&self) {
        self.bar.finish_and_clear();
    }
}

impl Progress for Bar {
    fn start(&mut self, total_steps: u64) {
        if !self.spanning {
            self.bar.set_length(total_steps);
            self.started = Instant::now();
        }
    }

    fn advance(&mut self, steps: u64) {
        self.bar.inc(steps);
        if !self.shown && !self.quiet && self.started.elapsed() > Duration::from_secs(1) {
            self.shown = true;
            self.bar.set_style(
                ProgressStyle::with_template("{msg} {bar:40} {pos}/{len} chain-steps  {elapsed} elapsed, ETA {eta}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
        }
    }

    fn diverged(&mut self, divergence: &Divergence) {
        if !self.spanning {
            self.bar.suspend(|| eprintln!("warning: {divergence}; the other chains go on"));
        }
    }

    fn restarted(&mut self, restart: &Restart) {
        // The chain redoes the steps it had taken.
        self.bar.inc_length(restart.step as u64);
        if !self.spanning {
            self.bar.suspend(|| eprintln!("warning: {restart}"));
        }
    }

    fn finish(&mut self) {
        if !self.spanning {
            self.bar.finish_and_clear();
        }
    }
}
