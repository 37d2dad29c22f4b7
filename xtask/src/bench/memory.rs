//! `cargo xtask bench memory`: the resident memory of one long SGLD estimate with streamed data.
//!
//! It runs `llc_estimators::Estimator` exactly as a user would (one chain, `DataForm::Streaming`
//! so that the n inputs are never held, batch 500, a fifth of the steps as burn-in, at the teacher
//! with `InitLoss::Known(0.0)`: a noiseless teacher has zero loss on its own data), and samples the
//! resident set size (VmRSS) every 1% of the steps through a [`Progress`] implementation. A process
//! that holds nothing per step has a flat RSS after its first steps; a leak shows as a positive
//! slope over the second half.

use std::path::PathBuf;
use std::time::Instant;

use llc_app::parse::{Widths, parse_count, parse_non_negative, parse_positive};
use llc_app::{AppBackend, Device, DlnPoint, Synthetic, Teacher, dln_loss, dln_point, dln_teacher, parameter_count};
use llc_estimators::{Divergence, EstimatorConfig, NoisePlacement, Progress};
use llc_models::DataForm;
use serde::Serialize;

use super::machine::{Machine, peak_rss_mib, rss_mib};
use super::{check_writable, grouped, mib, parse_network, write_json};

/// The memory benchmark's options.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// SGLD steps of the one chain (a fifth of them burn-in).
    #[arg(long, value_name = "T", default_value = "50000", value_parser = parse_count)]
    steps: usize,
    /// Number of samples n, streamed (1e6 notation accepted).
    #[arg(long, value_name = "N", default_value = "1000000", value_parser = parse_count)]
    n: usize,
    /// DLN widths, input first (default: 1.12M parameters).
    #[arg(long, value_name = "H1,H2,...", default_value = "500,800,600,400", value_parser = parse_network)]
    widths: Widths,
    /// Minibatch size.
    #[arg(long, value_name = "M", default_value = "500", value_parser = parse_count)]
    batch: usize,
    /// Step size ε.
    #[arg(long, value_name = "E", default_value = "1e-7", value_parser = parse_positive)]
    epsilon: f64,
    /// Localization γ.
    #[arg(long, value_name = "G", default_value = "1", value_parser = parse_non_negative)]
    gamma: f64,
    /// Seed of the teacher, the data and the chain.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Where the estimate runs (the RSS is the host process's either way).
    #[arg(long, value_enum, default_value_t = Device::Cpu)]
    device: Device,
    /// The JSON file the samples go to.
    #[arg(long, default_value = "target/bench/memory.json")]
    out: PathBuf,
}

/// One RSS sample.
#[derive(Debug, Clone, Copy, Serialize)]
struct Sample {
    /// Chain-steps done when it was taken.
    step: u64,
    /// Seconds since sampling started.
    seconds: f64,
    /// VmRSS in MiB (`None` off Linux).
    rss_mib: Option<f64>,
}

/// The JSON file.
#[derive(Debug, Clone, Serialize)]
struct Report {
    machine: Machine,
    widths: Widths,
    params: usize,
    n: usize,
    data_form: &'static str,
    config: EstimatorConfig,
    /// VmRSS before the teacher and the data source were built.
    rss_before_setup_mib: Option<f64>,
    /// VmRSS when sampling started.
    rss_at_start_mib: Option<f64>,
    /// VmHWM at the end.
    peak_rss_mib: Option<f64>,
    rss_at_10_percent_mib: Option<f64>,
    rss_at_50_percent_mib: Option<f64>,
    rss_at_100_percent_mib: Option<f64>,
    /// Least-squares slope of VmRSS against steps over the second half, in MiB per 10,000 steps.
    slope_mib_per_10k_steps: Option<f64>,
    steps_per_second: f64,
    sampling_seconds: f64,
    lambda_hat: f64,
    diverged: Option<String>,
    samples: Vec<Sample>,
}

/// The estimator's settings: one chain, a fifth of the steps as burn-in, and the estimator's
/// defaults for the rest (the MALA acceptance every 20 steps, minibatch draws).
fn config(args: &Args) -> EstimatorConfig {
    EstimatorConfig::default()
        .with_chains(1)
        .with_steps(args.steps)
        .with_burn_in(args.steps / 5)
        .with_batch_size(args.batch)
        .with_epsilon(args.epsilon)
        .with_gamma(args.gamma)
        .with_seed(args.seed)
}

/// Checks the options and the output file, then measures on the backend of `--device`.
pub(crate) fn run(args: &Args) -> Result<bool, String> {
    config(args).validate(args.n).map_err(|e| e.to_string())?;
    check_writable(&args.out)?;
    crate::OnDevice::BenchMemory(args).run_on(args.device, "bench memory")
}

/// Runs the estimate on backend `B`, prints the summary and writes the samples; `Ok(false)` when
/// the chain diverged.
pub(crate) fn measure<B: AppBackend>(args: &Args, device: &B::Device) -> Result<bool, String> {
    let config = config(args).with_noise(NoisePlacement::of::<B>());
    let machine = Machine::here(B::NAME);
    let widths = &args.widths;
    let params = parameter_count(&widths.0, false);
    eprintln!(
        "bench memory: {} on {}: DLN {widths} (d = {}), n = {} streamed, batch {}, {} steps ({} burn-in), ε = {:e}, γ = {}",
        machine.date,
        machine.backend,
        grouped(params as f64),
        grouped(args.n as f64),
        config.batch_size,
        grouped(config.n_steps as f64),
        grouped(config.n_burnin as f64),
        config.epsilon,
        config.gamma,
    );
    let rss_before_setup_mib = rss_mib();
    let teacher = dln_teacher(&widths.0, Teacher::FullRank, None, args.seed).map_err(|e| e.to_string())?;
    let data = Synthetic { n: args.n, seed: args.seed, form: DataForm::Streaming };
    let DlnPoint { point, .. } = dln_point::<B>(&teacher, data, device).map_err(|e| e.to_string())?;

    let mut tracker = RssTracker::new();
    let estimate = point.estimate(dln_loss, config.clone(), &mut tracker).map_err(|e| e.to_string())?;
    let peak = peak_rss_mib();
    let samples = tracker.samples;
    let total = config.n_steps as u64;
    let report = Report {
        machine,
        widths: widths.clone(),
        params,
        n: args.n,
        data_form: "streaming",
        rss_before_setup_mib,
        rss_at_start_mib: samples.first().and_then(|s| s.rss_mib),
        peak_rss_mib: peak,
        rss_at_10_percent_mib: rss_at(&samples, total, 0.1),
        rss_at_50_percent_mib: rss_at(&samples, total, 0.5),
        rss_at_100_percent_mib: rss_at(&samples, total, 1.0),
        slope_mib_per_10k_steps: slope_second_half(&samples, total).map(|s| s * 10_000.0),
        steps_per_second: estimate.steps_per_second,
        sampling_seconds: estimate.seconds,
        lambda_hat: estimate.lambda_hat,
        diverged: tracker.diverged.or_else(|| estimate.diagnostics.diverged.first().map(|d| d.to_string())),
        config,
        samples,
    };

    println!(
        "memory of one SGLD estimate: DLN {widths} (d = {}), n = {} streamed, batch {}, {} steps, {}",
        grouped(params as f64),
        grouped(report.n as f64),
        report.config.batch_size,
        grouped(total as f64),
        report.machine.line(),
    );
    println!("  RSS before setup          {}", mib(report.rss_before_setup_mib));
    println!("  RSS when sampling starts  {}", mib(report.rss_at_start_mib));
    println!(
        "  RSS at 10% / 50% / 100%   {} / {} / {}",
        mib(report.rss_at_10_percent_mib),
        mib(report.rss_at_50_percent_mib),
        mib(report.rss_at_100_percent_mib)
    );
    println!("  peak RSS (VmHWM)          {}", mib(report.peak_rss_mib));
    let fitted = report.samples.iter().filter(|s| 2 * s.step >= total && s.rss_mib.is_some()).count();
    println!(
        "  slope, second half        {} (least squares over {fitted} samples)",
        report.slope_mib_per_10k_steps.map_or_else(|| "n/a".into(), |s| format!("{s:+.3} MiB per 10k steps"))
    );
    println!(
        "  speed                     {:.2} steps/s over {:.1} s; λ̂ = {:.2}{}",
        report.steps_per_second,
        report.sampling_seconds,
        report.lambda_hat,
        report.diverged.as_ref().map_or_else(String::new, |d| format!(" (diverged: {d})"))
    );
    write_json(&args.out, &report)?;
    println!("  samples                   {} ({} of them)", args.out.display(), report.samples.len());
    Ok(report.diverged.is_none())
}

/// The RSS of the first sample at or after `share` of the steps.
fn rss_at(samples: &[Sample], total: u64, share: f64) -> Option<f64> {
    let at = (share * total as f64).ceil() as u64;
    samples.iter().find(|s| s.step >= at).and_then(|s| s.rss_mib)
}

/// The least-squares slope of RSS (MiB) against steps over the samples of the second half (at
/// least two distinct steps needed).
fn slope_second_half(samples: &[Sample], total: u64) -> Option<f64> {
    let points: Vec<(f64, f64)> =
        samples.iter().filter(|s| 2 * s.step >= total).filter_map(|s| Some((s.step as f64, s.rss_mib?))).collect();
    if points.len() < 2 {
        return None;
    }
    let count = points.len() as f64;
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / count;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / count;
    let sxx: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    (sxx > 0.0).then(|| sxy / sxx)
}

/// Samples the RSS every 1% of the steps and prints the speed and ETA every 5% on stderr.
struct RssTracker {
    total: u64,
    done: u64,
    started: Instant,
    next_sample: u64,
    next_print: u64,
    samples: Vec<Sample>,
    diverged: Option<String>,
}

impl RssTracker {
    fn new() -> Self {
        Self {
            total: 0,
            done: 0,
            started: Instant::now(),
            next_sample: 0,
            next_print: 0,
            samples: Vec::new(),
            diverged: None,
        }
    }

    /// The next multiple of `share` percent of the steps above `done`.
    fn next_mark(&self, percent: u64) -> u64 {
        let stride = (self.total * percent / 100).max(1);
        (self.done / stride + 1) * stride
    }

    fn sample(&mut self) {
        self.samples.push(Sample {
            step: self.done,
            seconds: self.started.elapsed().as_secs_f64(),
            rss_mib: rss_mib(),
        });
    }
}

impl Progress for RssTracker {
    fn start(&mut self, total_steps: u64) {
        self.total = total_steps;
        self.started = Instant::now();
        self.sample();
        self.next_sample = self.next_mark(1);
        self.next_print = self.next_mark(5);
    }

    fn advance(&mut self, steps: u64) {
        self.done = (self.done + steps).min(self.total);
        if self.done >= self.next_sample {
            self.sample();
            self.next_sample = self.next_mark(1);
        }
        if self.done >= self.next_print {
            let seconds = self.started.elapsed().as_secs_f64();
            let speed = self.done as f64 / seconds.max(1e-9);
            let eta = (self.total - self.done) as f64 / speed.max(1e-9);
            eprintln!(
                "bench memory: {:>3}%  {}/{} steps  {:.2} steps/s  RSS {}  ETA {:.0} s",
                100 * self.done / self.total.max(1),
                self.done,
                self.total,
                speed,
                mib(self.samples.last().and_then(|s| s.rss_mib)),
                eta,
            );
            self.next_print = self.next_mark(5);
        }
    }

    fn diverged(&mut self, divergence: &Divergence) {
        self.diverged.get_or_insert_with(|| divergence.to_string());
    }

    fn finish(&mut self) {
        if self.samples.last().is_none_or(|s| s.step < self.done) {
            self.sample();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(step: u64, rss: f64) -> Sample {
        Sample { step, seconds: 0.0, rss_mib: Some(rss) }
    }

    #[test]
    fn the_slope_fits_the_second_half_only() {
        // Flat at 100 MiB for the first half (after a jump), then +1 MiB per 1,000 steps.
        let mut samples = vec![sample(0, 10.0), sample(1000, 100.0), sample(4000, 100.0)];
        samples.extend((5..=10).map(|k| sample(k * 1000, 100.0 + (k - 5) as f64)));
        let slope = slope_second_half(&samples, 10_000).unwrap();
        assert!((slope * 10_000.0 - 10.0).abs() < 1e-9, "{slope}");
        assert_eq!(rss_at(&samples, 10_000, 0.1), Some(100.0));
        assert_eq!(rss_at(&samples, 10_000, 1.0), Some(105.0));
        assert!(slope_second_half(&samples[..1], 10_000).is_none());
    }

    #[test]
    fn the_tracker_samples_every_percent() {
        let mut tracker = RssTracker::new();
        tracker.start(1000);
        for _ in 0..100 {
            tracker.advance(10);
        }
        tracker.finish();
        let steps: Vec<u64> = tracker.samples.iter().map(|s| s.step).collect();
        assert_eq!(steps.len(), 101);
        assert_eq!((steps[0], steps[1], steps[100]), (0, 10, 1000));
    }
}
