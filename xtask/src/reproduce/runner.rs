//! Runs a suite's planned runs on worker threads, skipping the ones already recorded, with one
//! progress bar (weighted by each run's estimated cost, so the ETA means something) on stderr.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use llc_app::AppBackend;
use llc_estimators::{Divergence, Progress, Restart};

use super::Suite;
use super::records::{Appender, Record, fingerprint};

/// What a pass over the pending runs did.
pub(crate) struct RunSummary {
    /// Runs finished and recorded in this pass.
    pub(crate) finished: usize,
    /// Runs that failed with an error (not recorded, so a later pass retries them), with messages.
    pub(crate) failed: Vec<String>,
}

/// Runs every spec of `pending` on `jobs` threads, appending a record through `appender` as each
/// one finishes.
pub(crate) fn run_pending<S: Suite, B: AppBackend>(
    suite: &S,
    pending: &[S::Spec],
    appender: &Appender,
    jobs: usize,
    device: &B::Device,
    quiet: bool,
) -> RunSummary {
    let total_cost: u64 = pending.iter().map(|s| suite.cost(s)).sum();
    let bar = if quiet || pending.is_empty() {
        ProgressBar::hidden()
    } else {
        let bar = ProgressBar::with_draw_target(Some(total_cost.max(1)), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{prefix:>13} {bar:30} {percent:>3}%  {elapsed} elapsed, ETA {eta}  {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_prefix(S::NAME);
        bar.enable_steady_tick(Duration::from_millis(500));
        bar
    };
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let failed = Mutex::new(Vec::new());
    let total = pending.len();
    bar.set_message(format!("0/{total} runs"));
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, total.max(1)) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(spec) = pending.get(i) else { break };
                    let id = suite.id(spec);
                    let cost = suite.cost(spec);
                    let mut progress = RunProgress {
                        bar: bar.clone(),
                        budget: cost,
                        used: 0,
                        scale: suite.cost_per_step(spec),
                        id: id.clone(),
                    };
                    let outcome = suite.run::<B>(spec, Context { device, progress: &mut progress });
                    // Whatever the run reported, its whole cost is now done.
                    bar.inc(cost.saturating_sub(progress.used));
                    match outcome {
                        Ok(result) => {
                            let record =
                                Record { id: id.clone(), fingerprint: fingerprint(spec), spec: spec.clone(), result };
                            if let Err(e) = appender.append(&record) {
                                failed.lock().unwrap_or_else(|p| p.into_inner()).push(e);
                            } else {
                                let n = done.fetch_add(1, Ordering::SeqCst) + 1;
                                bar.set_message(format!("{n}/{total} runs"));
                                if let Some(line) = suite.describe(&record) {
                                    bar.suspend(|| eprintln!("  {line}"));
                                }
                            }
                        }
                        Err(e) => {
                            bar.suspend(|| eprintln!("warning: {} run {id} failed: {e}", S::NAME));
                            failed.lock().unwrap_or_else(|p| p.into_inner()).push(format!("{id}: {e}"));
                        }
                    }
                }
            });
        }
    });
    bar.finish_and_clear();
    RunSummary { finished: done.into_inner(), failed: failed.into_inner().unwrap_or_else(|p| p.into_inner()) }
}

/// Where one run executes: the device of its backend, and the progress it reports.
pub(crate) struct Context<'a, B: AppBackend> {
    /// The device the run's tensors live on.
    pub(crate) device: &'a B::Device,
    /// The run's share of the suite's progress bar.
    pub(crate) progress: &'a mut RunProgress,
}

/// Forwards an estimate's chain-steps to the suite's bar, weighted by the run's cost per step and
/// capped at the run's planned cost.
pub(crate) struct RunProgress {
    bar: ProgressBar,
    budget: u64,
    used: u64,
    scale: u64,
    /// The run's id, for its notes.
    id: String,
}

impl RunProgress {
    /// Counts `steps` steps of work that did not go through an estimate (e.g. SGD training).
    pub(crate) fn add_steps(&mut self, steps: u64) {
        self.advance(steps);
    }
}

impl Progress for RunProgress {
    fn advance(&mut self, steps: u64) {
        let add = (steps * self.scale).min(self.budget - self.used);
        self.used += add;
        self.bar.inc(add);
    }

    fn diverged(&mut self, divergence: &Divergence) {
        self.bar.suspend(|| eprintln!("  note: {}: {divergence}", self.id));
    }

    fn restarted(&mut self, restart: &Restart) {
        // The steps it redoes are not counted again: the bar stays within the run's planned cost.
        self.bar.suspend(|| eprintln!("  note: {}: {restart}", self.id));
    }
}
