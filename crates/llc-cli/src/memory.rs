//! A lower bound on the memory a run needs, checked against the machine's before anything is
//! allocated. Without it, sizes such as `--chains 1e12`, `--steps 1e15` or
//! `--widths 1000000,1000000` passed every check and then aborted the process with a failed
//! allocation and a backtrace.
//!
//! Only buffers whose size the flags fix are counted, each at its smallest: the teacher's weights
//! (f64, on the host), w* and one copy per stacked chain (f32), every chain's trace of kept draws
//! (f64, all kept until the end), the minibatches (indices and f32 inputs and targets), the data
//! set when it is held in memory, and MALA's full batch. A run refused here could not have run.

use llc_estimators::{EstimatorConfig, SamplerKind};
use llc_models::AUTO_MATERIALIZE_BYTES;

use crate::args::{DataFormArg, EstimateArgs};
use crate::exit::Failure;

/// The memory assumed where the machine's cannot be read (not Linux): 1 TiB.
const FALLBACK_MEMORY: f64 = (1u64 << 40) as f64;

/// The shape of a run: what its flags fix.
pub(crate) struct Run<'a> {
    /// Layer widths, input first.
    pub(crate) widths: &'a [usize],
    /// Whether every layer has a bias (MLP).
    pub(crate) biases: bool,
    pub(crate) common: &'a EstimateArgs,
    /// The settings of one estimate.
    pub(crate) config: &'a EstimatorConfig,
    /// Chains stepped together as one stacked network (`--stack`).
    pub(crate) copies: usize,
    /// Estimates whose results are all kept (the cells of `llc calibrate`; 1 for `llc estimate`).
    pub(crate) estimates: usize,
}

/// Refuses the run, naming its largest buffer, when its lower bound exceeds the machine's memory.
pub(crate) fn check(run: &Run<'_>) -> Result<(), Failure> {
    let needs = needs(run);
    let total: f64 = needs.iter().map(|(_, bytes)| bytes).sum();
    let memory = machine_memory().unwrap_or(FALLBACK_MEMORY);
    if total <= memory {
        return Ok(());
    }
    let largest = needs.iter().max_by(|a, b| a.1.total_cmp(&b.1)).map_or("", |(what, _)| what.as_str());
    Err(Failure::usage(format!(
        "this run needs more than {} of memory, mostly for {largest}, but this machine has {}",
        bytes(total),
        bytes(memory)
    )))
}

/// The run's buffers: what each holds (naming the flags that size it) and its bytes.
fn needs(run: &Run<'_>) -> Vec<(String, f64)> {
    let (widths, common, config) = (run.widths, run.common, run.config);
    let d: f64 =
        widths.windows(2).map(|w| w[0] as f64 * w[1] as f64 + if run.biases { w[1] as f64 } else { 0.0 }).sum();
    // f32 inputs and targets of one sample.
    let sample = 4.0 * (widths.first().copied().unwrap_or(0) + widths.last().copied().unwrap_or(0)) as f64;
    let n = common.n as f64;
    let draws = config.n_steps.saturating_sub(config.n_burnin) as f64;
    let chains = config.n_chains as f64 * run.estimates as f64;
    let cells = if run.estimates > 1 { format!(" in each of {} cells", run.estimates) } else { String::new() };
    let mut needs = vec![
        (format!("the d = {d} parameters of the network (--widths)"), d * (8.0 + 4.0 + 4.0 * run.copies as f64)),
        (
            format!("the traces of {} chains × {draws} draws{cells} (--chains, --steps)", config.n_chains),
            chains * draws * 8.0,
        ),
    ];
    if config.sampler == SamplerKind::Mala {
        needs.push((format!("MALA's full batch of n = {} samples (--n)", common.n), n * (8.0 + sample)));
    } else {
        let batch = run.copies as f64 * config.batch_size as f64;
        needs.push((format!("minibatches of {} samples (--batch)", config.batch_size), batch * (8.0 + sample)));
    }
    let data = n * sample;
    let held = match common.data {
        DataFormArg::Materialized => true,
        DataFormArg::Auto => data <= AUTO_MATERIALIZE_BYTES as f64,
        DataFormArg::Streaming => false,
    };
    if held {
        needs.push((format!("the data set of n = {} samples held in memory (--n, --data)", common.n), data));
    }
    needs
}

/// The machine's physical memory in bytes (Linux: `MemTotal` of /proc/meminfo).
fn machine_memory() -> Option<f64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: f64 = line.trim_start_matches("MemTotal:").trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kib * 1024.0)
}

/// A byte count for a person: 23.4 GiB.
fn bytes(count: f64) -> String {
    let units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let (mut value, mut unit) = (count, 0);
    while value >= 1024.0 && unit + 1 < units.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{value} bytes") } else { format!("{value:.1} {}", units[unit]) }
}

#[cfg(test)]
mod tests {
    use super::bytes;

    #[test]
    fn byte_counts_read_well() {
        assert_eq!(bytes(512.0), "512 bytes");
        assert_eq!(bytes(1536.0), "1.5 KiB");
        assert_eq!(bytes(24.0 * (1u64 << 30) as f64), "24.0 GiB");
        assert!(bytes(1e30).ends_with(" EiB"));
    }
}
