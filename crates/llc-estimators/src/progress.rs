//! Progress observers: what an estimate reports while it runs.

use crate::{Divergence, Restart};

/// Receives progress while an estimate runs; every method has a no-op default.
pub trait Progress {
    /// Sampling starts; `total_steps` is chains × steps.
    fn start(&mut self, _total_steps: u64) {}
    /// `steps` more chain-steps are done.
    fn advance(&mut self, _steps: u64) {}
    /// A chain diverged for good (it stops; the others go on).
    fn diverged(&mut self, _divergence: &Divergence) {}
    /// A chain diverged and starts over from w* with a smaller ε; the `restart.step` steps it
    /// had taken will be taken again.
    fn restarted(&mut self, _restart: &Restart) {}
    /// Sampling finished.
    fn finish(&mut self) {}
}

/// A [`Progress`] that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {}
