//! `cargo xtask gpu-check`: the prepared check for a machine with one NVIDIA GPU (an H200), as one
//! command. It does two things:
//!
//! 1. **Tests.** `cargo test --release` of every crate with a `cuda` feature (llc-models,
//!    llc-sampler, llc-estimators, llc-app, llc-cli, xtask), with the feature on. The libraries' own tests
//!    run on burn-ndarray whatever the features, so there they only check that everything builds
//!    and passes with burn-cuda compiled in; the tests that run on the GPU are llc-cli's
//!    `tests/cuda.rs`, which exist only with the feature and run `llc estimate … --device cuda`.
//!    `--skip-tests` skips this part.
//! 2. **One paper-scale point.** A deep linear network of about 100M parameters at its teacher,
//!    sampled by SGLD on burn-cuda with the noise drawn on the GPU (`NoisePlacement::Device`), with
//!    the settings of the paper's largest DLN sweeps (docs/method.md §4): n = 10⁶ samples, streamed
//!    (each minibatch generated from (seed, index), never held in memory), batch 500, ε = 2e-8,
//!    γ = 1, nβ = n/ln n, one chain of 50,000 steps of which the first 10,000 are burn-in. The
//!    default widths 1000,4800,4800,4800,4800,4800,1000 give six matrices, two of 1,000 × 4,800
//!    and four of 4,800 × 4,800: d = 2·4,800,000 + 4·23,040,000 = 101,760,000. At the full-rank
//!    teacher the product has rank 1,000 and Aoyagi's λ = 500,000. It prints steps/s, λ̂, λ and
//!    the relative error, and writes them to `target/gpu-check/result.json` (`--out`), which is
//!    also rewritten at every progress line (every 5% of the steps, with steps/s and the ETA), so
//!    that a run stopped early still leaves its speed behind.
//!
//! Why narrow ends: the teacher is built on the host in f64 and the rank of its product
//! (H_1 × H_{M+1}) is computed by SVD. With 1,000-wide ends that takes about 16 s on the
//! project's 2-core VM; with six widths of 4,500 (the same d) the 4,500 × 4,500 SVD took 480 s
//! there, most of the ten minutes. Narrow ends also keep the host's work per step small: a streamed
//! minibatch draws batch × H_1 inputs on the host at every step. `--widths`, `--n` and `--steps`
//! shrink the point for a quick try. The exit status is 0 when the tests passed (or were
//! skipped) and λ̂ is finite, 1 otherwise, and 2 for bad options or no usable GPU.
//!
//! Without the `cuda` feature the task still exists: it runs itself again through
//! `cargo run --release -p xtask --features cuda -- gpu-check …`, so `cargo xtask gpu-check` is the
//! one command to type. `--device cpu` runs the same point on burn-ndarray instead (and the tests
//! without the `cuda` feature), for a smoke run on a machine without a GPU, e.g.
//! `cargo xtask gpu-check --device cpu --skip-tests --widths 20,30,25,10 --n 10000 --steps 2000`.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use clap::Parser;
use llc_app::parse::{Widths, parse_count, parse_count_or_zero, parse_non_negative, parse_positive, parse_widths};
use llc_app::{AppBackend, Device, DlnPoint, Synthetic, Teacher, dln_loss, dln_point, dln_teacher, parameter_count};
use llc_estimators::{DataSource, Divergence, EstimatorConfig, NoisePlacement, Progress};
use llc_models::DataForm;
use serde::Serialize;

/// The crates with a `cuda` feature, whose tests part 1 runs.
const CUDA_CRATES: [&str; 6] = ["llc-models", "llc-sampler", "llc-estimators", "llc-app", "llc-cli", "xtask"];

/// Runs the crates' tests with the `cuda` feature, then one paper-scale DLN point on the GPU.
#[derive(Debug, Clone, Parser)]
#[command(name = "cargo xtask gpu-check", disable_help_subcommand = true)]
pub(crate) struct Args {
    /// Widths of the deep linear network, input first (default: 1,000-wide ends around five
    /// widths of 4,800, d = 101,760,000).
    #[arg(long, value_name = "H1,H2,...", default_value = "1000,4800,4800,4800,4800,4800,1000", value_parser = parse_widths)]
    widths: Widths,
    /// Number of samples n, streamed (1e6 notation accepted).
    #[arg(long, value_name = "N", default_value = "1000000", value_parser = parse_count)]
    n: usize,
    /// SGLD steps of the one chain, burn-in included.
    #[arg(long, value_name = "T", default_value = "50000", value_parser = parse_count)]
    steps: usize,
    /// Steps discarded at the start (default: a fifth of --steps, 10,000 of 50,000).
    #[arg(long, value_name = "B", value_parser = parse_count_or_zero)]
    burn_in: Option<usize>,
    /// Minibatch size m.
    #[arg(long, value_name = "M", default_value = "500", value_parser = parse_count)]
    batch: usize,
    /// Step size ε (the paper's value for its large DLN sweeps).
    #[arg(long, value_name = "E", default_value = "2e-8", value_parser = parse_positive)]
    epsilon: f64,
    /// Localization γ.
    #[arg(long, value_name = "G", default_value = "1", value_parser = parse_non_negative)]
    gamma: f64,
    /// Seed of the teacher, the data and the chain.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// The teacher: full-rank (every layer full rank, where λ̂ should match Aoyagi's λ) or
    /// paper-random (the paper's random rank cuts; slower to build, since each cut is an SVD).
    #[arg(long, value_enum, default_value_t = Teacher::FullRank)]
    teacher: Teacher,
    /// Measure the MALA acceptance of the SGLD move every K steps (0: never, the default: each
    /// measurement is extra work over all d parameters).
    #[arg(long, value_name = "K", default_value = "0", value_parser = parse_count_or_zero)]
    acceptance_every: usize,
    /// Do not run the tests; only the point.
    #[arg(long)]
    skip_tests: bool,
    /// Where the point runs: cuda (burn-cuda, the check itself) or cpu (burn-ndarray, for a smoke
    /// run of a shrunk point on a machine without a GPU; the tests then run without `cuda`).
    #[arg(long, value_enum, default_value_t = Device::Cuda)]
    device: Device,
    /// The JSON file the result goes to.
    #[arg(long, default_value = "target/gpu-check/result.json")]
    out: PathBuf,
}

/// Entry point of `cargo xtask gpu-check`.
pub(crate) fn main(raw: &[String]) -> ExitCode {
    let args = match crate::parse_options::<Args>("cargo xtask gpu-check", raw) {
        Ok(args) => args,
        Err(status) => return status,
    };
    #[cfg(not(feature = "cuda"))]
    if args.device == Device::Cuda {
        return rerun_with_cuda(raw);
    }
    crate::exit_status(run(&args))
}

/// The workspace's root manifest (xtask lives one level below the root).
fn workspace_manifest() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap_or(Path::new(".")).join("Cargo.toml")
}

/// The cargo that started this task (cargo sets `CARGO` for `cargo run`), or the one on the PATH.
fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Without the `cuda` feature: runs `cargo run --release -p xtask --features cuda -- gpu-check …`
/// with the same arguments and returns its exit status.
#[cfg(not(feature = "cuda"))]
fn rerun_with_cuda(raw: &[String]) -> ExitCode {
    let mut command = cargo();
    command
        .args(["run", "--release", "--manifest-path"])
        .arg(workspace_manifest())
        .args(["-p", "xtask", "--features", "cuda", "--", "gpu-check"])
        .args(raw);
    eprintln!(
        "gpu-check: this xtask has no `cuda` feature; running `cargo run --release -p xtask --features cuda -- gpu-check …`"
    );
    match command.status() {
        Ok(status) => ExitCode::from(status.code().and_then(|c| u8::try_from(c).ok()).unwrap_or(1)),
        Err(e) => {
            eprintln!("error: cannot run cargo: {e}");
            ExitCode::from(2)
        }
    }
}

/// The options, with the point's estimator settings checked.
pub(crate) struct Check {
    args: Args,
    config: EstimatorConfig,
}

/// Checks the options (before any test or build, so that a typo costs nothing), then runs the
/// tests and the point on the backend of `--device`; `Ok(false)` when a test failed or every chain
/// diverged.
fn run(args: &Args) -> Result<bool, String> {
    llc_theory::validate(&args.widths.0, 0).map_err(|e| format!("invalid --widths: {e}"))?;
    let config = EstimatorConfig::default()
        .with_chains(1)
        .with_steps(args.steps)
        .with_burn_in(args.burn_in.unwrap_or(args.steps / 5))
        .with_batch_size(args.batch)
        .with_epsilon(args.epsilon)
        .with_gamma(args.gamma)
        .with_seed(args.seed)
        .with_acceptance_every(args.acceptance_every);
    config.validate(args.n).map_err(|e| e.to_string())?;
    let check = Check { args: args.clone(), config };
    // On the GPU the device is probed first: without one neither part can tell anything.
    crate::OnDevice::GpuCheck(&check).run_on(args.device, "gpu-check")
}

/// Both parts on backend `B`: the tests, then the point.
pub(crate) fn run_on<B: AppBackend>(check: &Check, device: &B::Device) -> Result<bool, String> {
    let tests = if check.args.skip_tests { TestsReport::skipped() } else { run_tests(B::DEVICE) };
    let result = run_point::<B>(check, device, &tests)?;
    if tests.passed == Some(false) {
        eprintln!("gpu-check: the tests failed (see above)");
    }
    Ok(tests.passed != Some(false) && result)
}

/// What part 1 did, for the JSON file.
#[derive(Debug, Clone, Serialize)]
struct TestsReport {
    /// The command run, or `None` when skipped.
    command: Option<String>,
    /// Whether it exited with status 0 (`None` when skipped).
    passed: Option<bool>,
    seconds: Option<f64>,
}

impl TestsReport {
    fn skipped() -> Self {
        Self { command: None, passed: None, seconds: None }
    }
}

/// Part 1: `cargo test --release` of the crates with a `cuda` feature, with it on (or off, with
/// `--device cpu`).
fn run_tests(device: Device) -> TestsReport {
    let mut args: Vec<String> = vec!["test".into(), "--release".into()];
    for krate in CUDA_CRATES {
        args.extend(["-p".into(), krate.into()]);
    }
    if device == Device::Cuda {
        let features: Vec<String> = CUDA_CRATES.iter().map(|k| format!("{k}/cuda")).collect();
        args.extend(["--features".into(), features.join(",")]);
    }
    let shown = format!("cargo {}", args.join(" "));
    eprintln!("gpu-check: part 1, the tests: {shown}");
    let started = Instant::now();
    let status = cargo().args(&args).arg("--manifest-path").arg(workspace_manifest()).status();
    let seconds = started.elapsed().as_secs_f64();
    let passed = match status {
        Ok(status) => status.success(),
        Err(e) => {
            eprintln!("gpu-check: cannot run cargo: {e}");
            false
        }
    };
    eprintln!("gpu-check: tests {} in {seconds:.0} s", if passed { "passed" } else { "FAILED" });
    TestsReport { command: Some(shown), passed: Some(passed), seconds: Some(seconds) }
}

/// The JSON file: the settings, the progress while sampling, and the result.
#[derive(Debug, Clone, Serialize)]
struct Report {
    /// `sampling` while the chain runs, then `done` or `diverged`.
    status: &'static str,
    device: String,
    tests: TestsReport,
    widths: Vec<usize>,
    params: usize,
    teacher: &'static str,
    rank: usize,
    n: usize,
    n_beta: f64,
    data_form: &'static str,
    config: EstimatorConfig,
    /// Seconds to build the teacher, the data source and the model.
    setup_seconds: f64,
    steps_done: u64,
    steps_per_second: Option<f64>,
    eta_seconds: Option<f64>,
    /// Aoyagi's λ at the teacher's rank.
    lambda: f64,
    lambda_hat: Option<f64>,
    /// (λ̂ − λ)/λ.
    relative_error: Option<f64>,
    sampling_seconds: Option<f64>,
    mean_acceptance: Option<f64>,
    diverged: Option<String>,
}

impl Report {
    fn write(&self, path: &Path) -> Result<(), String> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let text = serde_json::to_string_pretty(self).map_err(|e| format!("cannot encode the result: {e}"))?;
        std::fs::write(path, text + "\n").map_err(|e| format!("cannot write {}: {e}", path.display()))
    }
}

/// Part 2 on backend `B`: builds the teacher and the streamed data, samples, prints and writes the
/// result; `Ok(false)` when the chain diverged.
fn run_point<B: AppBackend>(check: &Check, device: &B::Device, tests: &TestsReport) -> Result<bool, String> {
    let args = &check.args;
    let widths = &args.widths.0;
    let params = parameter_count(widths, false);
    let config = check.config.clone().with_noise(NoisePlacement::of::<B>());
    let device_name = B::NAME;
    eprintln!(
        "gpu-check: part 2, one point on the {device_name}: DLN {} (d = {params}), n = {} streamed, batch {}, \
         {} steps ({} burn-in), ε = {:e}, γ = {}, noise on the {}",
        args.widths,
        args.n,
        config.batch_size,
        config.n_steps,
        config.n_burnin,
        config.epsilon,
        config.gamma,
        config.noise.name(),
    );

    let started = Instant::now();
    eprintln!("gpu-check: building the teacher (f64 on the host, rank by SVD) …");
    let teacher = dln_teacher(widths, args.teacher, None, args.seed).map_err(|e| e.to_string())?;
    let data = Synthetic { n: args.n, seed: args.seed, form: DataForm::Streaming };
    let DlnPoint { point, rank, lambda } = dln_point::<B>(&teacher, data, device).map_err(|e| e.to_string())?;
    let setup_seconds = started.elapsed().as_secs_f64();
    eprintln!("gpu-check: teacher rank {rank}, λ = {lambda}; set up in {setup_seconds:.1} s; sampling …");

    let report = Report {
        status: "sampling",
        device: device_name.to_owned(),
        tests: tests.clone(),
        widths: widths.clone(),
        params,
        teacher: args.teacher.name(),
        rank,
        n: point.data.len(),
        n_beta: config.n_beta_for(args.n),
        data_form: "streaming",
        config: config.clone(),
        setup_seconds,
        steps_done: 0,
        steps_per_second: None,
        eta_seconds: None,
        lambda,
        lambda_hat: None,
        relative_error: None,
        sampling_seconds: None,
        mean_acceptance: None,
        diverged: None,
    };
    report.write(&args.out)?;
    let mut progress = Milestones::new(report, args.out.clone());
    // A noiseless teacher has L_n(w*) = 0 (streamed data is never held, so it is not recomputed).
    let estimate = point.estimate(dln_loss, config.clone(), &mut progress).map_err(|e| e.to_string())?;

    let mut report = progress.report;
    let finished = estimate.lambda_hat.is_finite();
    report.status = if finished { "done" } else { "diverged" };
    report.steps_done = config.n_steps as u64;
    report.eta_seconds = Some(0.0);
    report.steps_per_second = Some(estimate.steps_per_second);
    report.sampling_seconds = Some(estimate.seconds);
    report.lambda_hat = finished.then_some(estimate.lambda_hat);
    report.relative_error = report.lambda_hat.map(|hat| (hat - lambda) / lambda).filter(|r| r.is_finite());
    report.mean_acceptance = estimate.diagnostics.mean_acceptance;
    report.diverged = estimate.diagnostics.diverged.first().map(|d| d.to_string());
    report.write(&args.out)?;

    println!("gpu-check on the {device_name}: DLN d = {params}, rank {rank}, n = {}", args.n);
    println!("  steps/s        {:.1}  ({:.0} s of sampling)", estimate.steps_per_second, estimate.seconds);
    match report.lambda_hat {
        Some(hat) => println!("  estimated      λ̂ = {hat:.1}"),
        None => println!("  estimated      λ̂ = none: {}", report.diverged.as_deref().unwrap_or("the chain diverged")),
    }
    println!("  exact          λ = {lambda} (Aoyagi)");
    if let Some(rel) = report.relative_error {
        println!("  relative error {:+.2}%", 100.0 * rel);
    }
    if let Some(acceptance) = report.mean_acceptance {
        println!("  MALA acceptance of the SGLD move {acceptance:.3}");
    }
    println!("  result: {}", args.out.display());
    Ok(finished)
}

/// Prints a line every 5% of the steps with steps/s and the ETA, and rewrites the JSON file with
/// them.
struct Milestones {
    report: Report,
    out: PathBuf,
    total: u64,
    done: u64,
    next_percent: u64,
    started: Instant,
    write_failed: bool,
}

impl Milestones {
    fn new(report: Report, out: PathBuf) -> Self {
        Self { report, out, total: 0, done: 0, next_percent: 5, started: Instant::now(), write_failed: false }
    }
}

impl Progress for Milestones {
    fn start(&mut self, total_steps: u64) {
        self.total = total_steps.max(1);
        self.started = Instant::now();
    }

    fn advance(&mut self, steps: u64) {
        self.done += steps;
        if self.done * 100 < self.next_percent * self.total {
            return;
        }
        let percent = self.done * 100 / self.total;
        self.next_percent = (percent / 5 + 1) * 5;
        let elapsed = self.started.elapsed().as_secs_f64();
        let rate = self.done as f64 / elapsed.max(1e-9);
        let eta = self.total.saturating_sub(self.done) as f64 / rate;
        eprintln!(
            "  {percent:>3}%  {}/{} steps  {rate:.1} steps/s  elapsed {}  ETA {}",
            self.done,
            self.total,
            minutes(elapsed),
            minutes(eta)
        );
        self.report.steps_done = self.done;
        self.report.steps_per_second = Some(rate);
        self.report.eta_seconds = Some(eta);
        if let Err(e) = self.report.write(&self.out)
            && !self.write_failed
        {
            self.write_failed = true;
            eprintln!("warning: {e}");
        }
    }

    fn diverged(&mut self, divergence: &Divergence) {
        eprintln!("warning: {divergence}");
    }
}

/// Seconds as `12m 05s`.
fn minutes(seconds: f64) -> String {
    let s = seconds.round() as u64;
    format!("{}m {:02}s", s / 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(extra: &[&str]) -> Result<Args, clap::Error> {
        Args::try_parse_from(std::iter::once("gpu-check").chain(extra.iter().copied()))
    }

    #[test]
    fn the_defaults_are_the_documented_paper_scale_point() {
        let args = parse(&[]).unwrap();
        assert_eq!(args.widths.0, [1000, 4800, 4800, 4800, 4800, 4800, 1000]);
        assert_eq!(parameter_count(&args.widths.0, false), 101_760_000);
        assert_eq!(llc_theory::dln_learning_coefficient(&args.widths.0, 1000).unwrap().lambda(), 500_000.0);
        assert_eq!((args.n, args.steps, args.burn_in, args.batch), (1_000_000, 50_000, None, 500));
        assert_eq!((args.epsilon, args.gamma), (2e-8, 1.0));
        assert_eq!(args.device, Device::Cuda);
        assert_eq!(args.out, PathBuf::from("target/gpu-check/result.json"));
    }

    #[test]
    fn options_shrink_the_point_and_bad_ones_are_refused() {
        let args = parse(&["--widths", "20,30,25,10", "--n", "1e4", "--steps", "200", "--device", "cpu"]).unwrap();
        assert_eq!(args.widths.0, vec![20, 30, 25, 10]);
        assert_eq!((args.n, args.steps, args.device), (10_000, 200, Device::Cpu));
        for bad in [&["--steps", "0"][..], &["--epsilon", "-1"], &["--widths", "5,x"], &["--device", "tpu"]] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_shrunk_point_runs_on_the_cpu_and_writes_its_result() {
        let out = std::env::temp_dir().join(format!("llc-gpu-check-{}.json", std::process::id()));
        let out_text = out.to_string_lossy().into_owned();
        let args = parse(&[
            "--widths",
            "5,8,30",
            "--n",
            "2000",
            "--steps",
            "400",
            "--epsilon",
            "2.5e-7",
            "--device",
            "cpu",
            "--skip-tests",
            "--out",
            &out_text,
        ])
        .unwrap();
        assert!(run(&args).unwrap());
        let value: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
        assert_eq!(value["status"], "done");
        assert_eq!(value["params"], 280);
        assert_eq!(value["config"]["noise"], "host");
        assert!(value["lambda_hat"].as_f64().is_some_and(f64::is_finite), "{value}");
        std::fs::remove_file(&out).unwrap();
    }
}
