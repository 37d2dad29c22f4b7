//! `cargo xtask bench` (no subcommand): SGLD chain-steps per second on deep linear networks, as
//! GFLOP/s and as a share of a GEMM roofline measured in the same process, interleaved in time.
//!
//! The parent process checks the options, runs one child process per size (`bench measure-size`,
//! which prints one JSON line), and turns the children's rounds into medians, a table (text or
//! Markdown) and a JSON file. Everything that touches a backend is generic over it, so that the same
//! code measures burn-ndarray and, with the `cuda` feature, burn-cuda.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use burn::module::Module;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Distribution, Tensor};
use llc_app::parse::{Widths, parse_count, parse_non_negative, parse_positive};
use llc_app::{
    AppBackend, Device, DlnPoint, Synthetic, Teacher, dln_loss, dln_point, dln_teacher, parameter_count,
    stacked_dln_loss,
};
use llc_estimators::NoisePlacement;
use llc_models::{DataForm, Dln, RegressionData, StackedDln};
use llc_sampler::{NoiseSource, SgldChain, SgldChains, SgldConfig};
use serde::{Deserialize, Serialize};

use super::machine::{Machine, peak_rss_mib};
use super::{check_writable, grouped, median, mib, parse_network, rate, write_json};

/// The sizes of the speed baselines (docs/performance.md): 1.6K, 65K and 1.12M parameters.
const DEFAULT_SIZES: [&[usize]; 3] = [&[20, 30, 25, 10], &[100, 200, 150, 100], &[500, 800, 600, 400]];

/// FLOPs of one chain-step per parameter and minibatch sample (forward + backward ≈ 3 matrix
/// products of 2·batch·d each), the convention of the speed baselines.
const FLOPS_PER_SAMPLE_AND_PARAM: f64 = 6.0;

/// Each roofline measurement runs at least this many products …
const GEMM_MIN_REPS: u32 = 3;
/// … and at least this long.
const GEMM_MIN_SECONDS: f64 = 0.3;

/// The warm-up before each step-rate measurement: this share of `--seconds`, at most
/// [`WARMUP_MAX_SECONDS`], and at least two steps.
const WARMUP_SHARE: f64 = 0.2;
/// The longest warm-up.
const WARMUP_MAX_SECONDS: f64 = 1.0;

/// The throughput benchmark's options.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// DLN widths of one size, input first; repeat for several sizes (default: 20,30,25,10 and
    /// 100,200,150,100 and 500,800,600,400, the sizes of the speed baselines).
    #[arg(long = "sizes", value_name = "H1,H2,...", value_parser = parse_network)]
    sizes: Vec<Widths>,
    /// Chain layouts to measure: 1 is one chain (`SgldChain`), C > 1 is C chains stacked into one
    /// module (`SgldChains` + `StackedDln`), for sizes under `--stack-below` parameters only.
    #[arg(long, value_name = "C1,C2,...", value_delimiter = ',', default_value = "1,4,8,16", value_parser = parse_count)]
    chains: Vec<usize>,
    /// Stacked layouts (C > 1) are measured only for sizes with fewer parameters than this.
    #[arg(long, value_name = "D", default_value = "100000", value_parser = parse_count)]
    stack_below: usize,
    #[command(flatten)]
    settings: Settings,
    /// The JSON file the results go to.
    #[arg(long, default_value = "target/bench/bench.json")]
    out: PathBuf,
    /// Print the table in Markdown (for docs/performance.md) instead of aligned text.
    #[arg(long)]
    markdown: bool,
}

/// The options shared by the parent and the child process of one size.
#[derive(Debug, Clone, clap::Args, Serialize, Deserialize)]
pub(crate) struct Settings {
    /// Rounds per layout; each round measures the roofline and then the step rate.
    #[arg(long, value_name = "R", default_value = "5", value_parser = parse_count)]
    rounds: usize,
    /// Seconds of each step-rate measurement (after a warm-up of a fifth of it, at most 1 s).
    #[arg(long, value_name = "S", default_value = "3", value_parser = parse_positive)]
    seconds: f64,
    /// Minibatch size per chain.
    #[arg(long, value_name = "M", default_value = "500", value_parser = parse_count)]
    batch: usize,
    /// Number of samples n (materialized; nβ = n/ln n).
    #[arg(long, value_name = "N", default_value = "100000", value_parser = parse_count)]
    n: usize,
    /// Step size ε.
    #[arg(long, value_name = "E", default_value = "1e-7", value_parser = parse_positive)]
    epsilon: f64,
    /// Localization γ.
    #[arg(long, value_name = "G", default_value = "1", value_parser = parse_non_negative)]
    gamma: f64,
    /// Side of the square f32 matrices whose product is the roofline.
    #[arg(long, value_name = "K", default_value = "1024", value_parser = parse_count)]
    gemm: usize,
    /// Where the measurements run.
    #[arg(long, value_enum, default_value_t = Device::Cpu)]
    device: Device,
}

impl Settings {
    /// The same settings as command-line arguments, for the child process.
    fn to_args(&self) -> Vec<String> {
        vec![
            "--rounds".into(),
            self.rounds.to_string(),
            "--seconds".into(),
            self.seconds.to_string(),
            "--batch".into(),
            self.batch.to_string(),
            "--n".into(),
            self.n.to_string(),
            "--epsilon".into(),
            format!("{:e}", self.epsilon),
            "--gamma".into(),
            self.gamma.to_string(),
            "--gemm".into(),
            self.gemm.to_string(),
            "--device".into(),
            self.device.name().into(),
        ]
    }

    /// The sampler's settings (nβ = n/ln n).
    fn sgld(&self) -> SgldConfig {
        SgldConfig::new(self.epsilon, self.gamma, self.n)
    }
}

/// The hidden `measure-size` subcommand: one size, every layout, in this process.
#[derive(Debug, clap::Args)]
pub(crate) struct ChildArgs {
    /// DLN widths, input first.
    #[arg(long, value_name = "H1,H2,...", value_parser = parse_network)]
    widths: Widths,
    /// The layouts to measure (already filtered by the parent).
    #[arg(long, value_name = "C1,C2,...", value_delimiter = ',', required = true, value_parser = parse_count)]
    chains: Vec<usize>,
    #[command(flatten)]
    settings: Settings,
}

/// One round of one layout: the roofline, then the step rate right after it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Round {
    /// GFLOP/s of the K × K f32 matrix product just before the steps.
    roofline_gflops: f64,
    /// Timed steps (each advances every chain of the layout once).
    steps: u64,
    /// Their wall time.
    seconds: f64,
    /// Chains × steps / seconds.
    chain_steps_per_second: f64,
    /// Chain-steps/s × 6·batch·d / 10⁹.
    gflops: f64,
    /// `gflops / roofline_gflops`.
    ratio: f64,
}

/// Every round of one layout, as the child measured them.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct LayoutRounds {
    /// Chains in the layout (1: `SgldChain`; more: stacked).
    chains: usize,
    rounds: Vec<Round>,
    /// Chain-steps (warm-up included) at which a chain's loss was not finite, so that it did not
    /// move; 0 in a sound measurement.
    stalled_chain_steps: u64,
}

/// What the child process of one size prints (one JSON line on stdout).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SizeMeasurement {
    widths: Widths,
    params: usize,
    /// Seconds to build the teacher, the data and the chains.
    setup_seconds: f64,
    /// The child's peak resident set size (VmHWM) at the end, in MiB; `None` off Linux.
    peak_rss_mib: Option<f64>,
    layouts: Vec<LayoutRounds>,
}

/// One layout's medians over rounds, as reported.
#[derive(Debug, Clone, Serialize)]
struct LayoutSummary {
    chains: usize,
    /// Whether this layout has the highest median chain-steps/s of its size (only marked when the
    /// size has more than one layout).
    best: bool,
    median_chain_steps_per_second: f64,
    median_gflops: f64,
    median_roofline_gflops: f64,
    /// The median of the per-round ratios (not the ratio of the medians).
    median_ratio: f64,
    ratio_min: f64,
    ratio_max: f64,
    stalled_chain_steps: u64,
    rounds: Vec<Round>,
}

/// One size in the report.
#[derive(Debug, Clone, Serialize)]
struct SizeReport {
    widths: Widths,
    params: usize,
    peak_rss_mib: Option<f64>,
    setup_seconds: Option<f64>,
    layouts: Vec<LayoutSummary>,
    /// Why the size has no measurements, if it failed.
    error: Option<String>,
}

/// The JSON file.
#[derive(Debug, Clone, Serialize)]
struct Report {
    machine: Machine,
    settings: Settings,
    /// The FLOP convention: `6·batch·d` per chain-step.
    flops_per_chain_step: &'static str,
    /// How the roofline is measured.
    roofline: String,
    sizes: Vec<SizeReport>,
}

/// Runs the benchmark: checks the options, measures each size in a child process, prints the table
/// and writes the JSON file; `Ok(false)` when a size could not be measured.
pub(crate) fn run(args: &Args) -> Result<bool, String> {
    let backend = args.settings.device.backend_name().map_err(|e| e.message("xtask", "bench"))?;
    args.settings.sgld().validate().map_err(|e| e.to_string())?;
    let sizes: Vec<Widths> = if args.sizes.is_empty() {
        DEFAULT_SIZES.iter().map(|w| Widths(w.to_vec())).collect()
    } else {
        args.sizes.clone()
    };
    let mut chains = args.chains.clone();
    chains.sort_unstable();
    chains.dedup();
    check_writable(&args.out)?;
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this executable to run each size in: {e}"))?;

    let machine = Machine::here(backend);
    let settings = &args.settings;
    let header = [
        format!("SGLD throughput on {}", machine.line()),
        format!(
            "batch {}, n = {} materialized, ε = {:e}, γ = {}, nβ = n/ln n; {} round(s) per layout of {} s each (after a \
             warm-up), each right after f32 GEMMs of sides {k} and {h} measuring the roofline (the better of the two); GFLOP/s counts 6·batch·d per \
             chain-step; medians over rounds",
            settings.batch,
            grouped(settings.n as f64),
            settings.epsilon,
            settings.gamma,
            settings.rounds,
            settings.seconds,
            k = settings.gemm,
            h = (settings.gemm / 2).max(1),
        ),
    ];
    for line in &header {
        eprintln!("bench: {line}");
    }

    let mut reports = Vec::with_capacity(sizes.len());
    let mut all_ok = true;
    for (i, widths) in sizes.iter().enumerate() {
        let params = parameter_count(&widths.0, false);
        let layouts: Vec<usize> = chains.iter().copied().filter(|&c| c == 1 || params < args.stack_below).collect();
        if layouts.is_empty() {
            eprintln!(
                "bench: size {}/{}: {widths} ({} params): no layout of --chains applies; skipped",
                i + 1,
                sizes.len(),
                grouped(params as f64)
            );
            continue;
        }
        let per_measurement =
            settings.seconds + (WARMUP_SHARE * settings.seconds).min(WARMUP_MAX_SECONDS) + GEMM_MIN_SECONDS;
        let estimate = per_measurement * (settings.rounds * layouts.len()) as f64;
        eprintln!(
            "bench: size {}/{}: {widths} ({} params), layouts C = {}; about {:.0} s plus setup",
            i + 1,
            sizes.len(),
            grouped(params as f64),
            layouts.iter().map(usize::to_string).collect::<Vec<_>>().join(", "),
            estimate,
        );
        let report = match measure_in_child(&exe, widths, &layouts, settings) {
            Ok(measured) => summarize(measured),
            Err(e) => {
                eprintln!("bench: size {widths} failed: {e}");
                all_ok = false;
                SizeReport {
                    widths: widths.clone(),
                    params,
                    peak_rss_mib: None,
                    setup_seconds: None,
                    layouts: Vec::new(),
                    error: Some(e),
                }
            }
        };
        reports.push(report);
    }

    let report = Report {
        machine,
        settings: settings.clone(),
        flops_per_chain_step: "6·batch·d",
        roofline: format!(
            "the better of Tensor::matmul of two random {k}×{k} and of two {h}×{h} f32 matrices on the inner backend, \
             each at least {GEMM_MIN_REPS} products and {GEMM_MIN_SECONDS} s, right before each step-rate measurement; \
             GFLOP/s = 2·side³/time",
            k = settings.gemm,
            h = (settings.gemm / 2).max(1)
        ),
        sizes: reports,
    };
    println!("{}", header[0]);
    println!("{}", header[1]);
    println!();
    let (head, rows) = table(&report.sizes);
    print!("{}", if args.markdown { render_markdown(&head, &rows) } else { render_text(&head, &rows) });
    if report.sizes.iter().any(|s| s.layouts.iter().any(|l| l.stalled_chain_steps > 0)) {
        println!("warning: some chains had a non-finite loss and did not move (see stalled_chain_steps in the JSON)");
    }
    write_json(&args.out, &report)?;
    eprintln!("bench: results in {}", args.out.display());
    Ok(all_ok)
}

/// Runs `bench measure-size` for one size and reads its JSON line.
fn measure_in_child(
    exe: &std::path::Path,
    widths: &Widths,
    layouts: &[usize],
    settings: &Settings,
) -> Result<SizeMeasurement, String> {
    let chains = layouts.iter().map(usize::to_string).collect::<Vec<_>>().join(",");
    let output = Command::new(exe)
        .args(["bench", "measure-size", "--widths", &widths.to_string(), "--chains", &chains])
        .args(settings.to_args())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
    if !output.status.success() {
        return Err(format!("the measuring process ended with {}", output.status));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|line| line.trim_start().starts_with('{'))
        .ok_or("the measuring process printed no result")?;
    serde_json::from_str(line).map_err(|e| format!("cannot read the measuring process's result: {e}"))
}

/// Medians over rounds, and the best layout of the size.
fn summarize(measured: SizeMeasurement) -> SizeReport {
    let mut layouts: Vec<LayoutSummary> = measured
        .layouts
        .into_iter()
        .map(|layout| {
            let of = |f: fn(&Round) -> f64| layout.rounds.iter().map(f).collect::<Vec<f64>>();
            let ratios = of(|r| r.ratio);
            LayoutSummary {
                chains: layout.chains,
                best: false,
                median_chain_steps_per_second: median(&of(|r| r.chain_steps_per_second)),
                median_gflops: median(&of(|r| r.gflops)),
                median_roofline_gflops: median(&of(|r| r.roofline_gflops)),
                median_ratio: median(&ratios),
                ratio_min: ratios.iter().copied().fold(f64::INFINITY, f64::min),
                ratio_max: ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                stalled_chain_steps: layout.stalled_chain_steps,
                rounds: layout.rounds,
            }
        })
        .collect();
    if layouts.len() > 1
        && let Some(best) = layouts
            .iter_mut()
            .max_by(|a, b| a.median_chain_steps_per_second.total_cmp(&b.median_chain_steps_per_second))
    {
        best.best = true;
    }
    SizeReport {
        widths: measured.widths,
        params: measured.params,
        peak_rss_mib: measured.peak_rss_mib,
        setup_seconds: Some(measured.setup_seconds),
        layouts,
        error: None,
    }
}

/// The table's header and rows (one row per layout; a failed size is one row saying so).
fn table(sizes: &[SizeReport]) -> (Vec<String>, Vec<Vec<String>>) {
    let head = [
        "widths",
        "params",
        "chains",
        "chain-steps/s",
        "GFLOP/s",
        "roofline GFLOP/s",
        "% of roofline",
        "min–max %",
        "peak RSS",
        "",
    ];
    let mut rows = Vec::new();
    for size in sizes {
        if let Some(error) = &size.error {
            let mut row = vec![size.widths.to_string(), grouped(size.params as f64), "—".into()];
            row.push(format!("failed: {error}"));
            row.resize(head.len(), String::new());
            rows.push(row);
            continue;
        }
        for (i, layout) in size.layouts.iter().enumerate() {
            let first = i == 0;
            rows.push(vec![
                if first { size.widths.to_string() } else { String::new() },
                if first { grouped(size.params as f64) } else { String::new() },
                layout.chains.to_string(),
                rate(layout.median_chain_steps_per_second),
                rate(layout.median_gflops),
                rate(layout.median_roofline_gflops),
                format!("{:.1}%", 100.0 * layout.median_ratio),
                format!("{:.1}–{:.1}%", 100.0 * layout.ratio_min, 100.0 * layout.ratio_max),
                if first { mib(size.peak_rss_mib) } else { String::new() },
                if layout.best { "← best".into() } else { String::new() },
            ]);
        }
    }
    (head.iter().map(|h| (*h).to_owned()).collect(), rows)
}

/// Aligned text: the first column left-aligned, the others right-aligned.
fn render_text(head: &[String], rows: &[Vec<String>]) -> String {
    let width = |col: usize| {
        std::iter::once(&head[col]).chain(rows.iter().map(|r| &r[col])).map(|s| s.chars().count()).max().unwrap_or(0)
    };
    let widths: Vec<usize> = (0..head.len()).map(width).collect();
    let line = |cells: &[String]| {
        let mut out = String::new();
        for (col, cell) in cells.iter().enumerate() {
            let pad = " ".repeat(widths[col] - cell.chars().count());
            if col == 0 {
                out.push_str(cell);
                out.push_str(&pad);
            } else {
                out.push_str("  ");
                out.push_str(&pad);
                out.push_str(cell);
            }
        }
        out.trim_end().to_owned() + "\n"
    };
    let mut out = line(head);
    out.push_str(&"-".repeat(widths.iter().sum::<usize>() + 2 * (widths.len() - 1)));
    out.push('\n');
    for row in rows {
        out.push_str(&line(row));
    }
    out
}

/// A Markdown table: the first and last columns (widths, the best-layout mark) left-aligned, the
/// numbers right-aligned.
fn render_markdown(head: &[String], rows: &[Vec<String>]) -> String {
    let line = |cells: &[String]| format!("| {} |\n", cells.join(" | "));
    let mut out = line(head);
    let rule: Vec<String> = (0..head.len())
        .map(|col| if col == 0 || col + 1 == head.len() { "---".into() } else { "---:".into() })
        .collect();
    out.push_str(&format!("|{}|\n", rule.join("|")));
    for row in rows {
        out.push_str(&line(row));
    }
    out
}

/// The hidden `measure-size` subcommand: measures one size on the chosen backend and prints one
/// JSON line.
pub(crate) fn run_child(args: &ChildArgs) -> Result<bool, String> {
    crate::OnDevice::BenchSize(args).run_on(args.settings.device, "bench")
}

/// Measures one size on backend `B` and prints the result as one JSON line.
pub(crate) fn measure_size<B: AppBackend>(args: &ChildArgs, device: &B::Device) -> Result<bool, String> {
    let measured = measure_layouts::<B>(args, device)?;
    let line = serde_json::to_string(&measured).map_err(|e| format!("cannot encode the measurement: {e}"))?;
    println!("{line}");
    Ok(true)
}

/// Builds the teacher, the materialized data and every layout, then runs the rounds: in each, for
/// each layout, the roofline and right after it the step rate.
fn measure_layouts<B: AppBackend>(args: &ChildArgs, device: &B::Device) -> Result<SizeMeasurement, String> {
    let settings = &args.settings;
    let widths = &args.widths;
    let started = Instant::now();
    let teacher = dln_teacher(&widths.0, Teacher::FullRank, None, 0).map_err(|e| e.to_string())?;
    let set = Synthetic { n: settings.n, seed: 0, form: DataForm::Materialized };
    let DlnPoint { point, .. } = dln_point::<B>(&teacher, set, device).map_err(|e| e.to_string())?;
    let data = &point.data.0;
    let mut layouts = args
        .chains
        .iter()
        .map(|&chains| Layout::new(&point.model, chains, settings, device))
        .collect::<Result<Vec<_>, String>>()?;
    let gemm = Gemm::<B::InnerBackend>::new(settings.gemm, device);
    let setup_seconds = started.elapsed().as_secs_f64();

    let params = parameter_count(&widths.0, false);
    let flops_per_chain_step = FLOPS_PER_SAMPLE_AND_PARAM * (settings.batch * params) as f64;
    let warmup = (WARMUP_SHARE * settings.seconds).min(WARMUP_MAX_SECONDS);
    let mut rounds: Vec<Vec<Round>> = vec![Vec::with_capacity(settings.rounds); layouts.len()];
    for round in 0..settings.rounds {
        for (layout, record) in layouts.iter_mut().zip(rounds.iter_mut()) {
            let roofline_gflops = gemm.gflops(device)?;
            let (steps, seconds) = layout.run_for(data, settings, warmup)?;
            let chain_steps_per_second = (steps * layout.chains as u64) as f64 / seconds;
            let gflops = chain_steps_per_second * flops_per_chain_step / 1e9;
            let ratio = gflops / roofline_gflops;
            eprintln!(
                "bench:   {widths}  round {}/{}  C = {:<3} {:>10} chain-steps/s  {:>7} GFLOP/s  GEMM {:>6} GFLOP/s  {:>5.1}%",
                round + 1,
                settings.rounds,
                layout.chains,
                rate(chain_steps_per_second),
                rate(gflops),
                rate(roofline_gflops),
                100.0 * ratio,
            );
            record.push(Round { roofline_gflops, steps, seconds, chain_steps_per_second, gflops, ratio });
        }
    }
    Ok(SizeMeasurement {
        widths: widths.clone(),
        params,
        setup_seconds,
        peak_rss_mib: peak_rss_mib(),
        layouts: layouts
            .iter()
            .zip(rounds)
            .map(|(layout, rounds)| LayoutRounds { chains: layout.chains, rounds, stalled_chain_steps: layout.stalled })
            .collect(),
    })
}

/// The roofline's two random matrices.
struct Gemm<B: Backend> {
    /// Square operands of side `size` and of side `size / 2`.
    pairs: Vec<(Tensor<B, 2>, Tensor<B, 2>, usize)>,
}

impl<B: Backend> Gemm<B> {
    fn new(size: usize, device: &B::Device) -> Self {
        let random = |side: usize| Tensor::<B, 2>::random([side, side], Distribution::Uniform(-1.0, 1.0), device);
        let sides = [size, (size / 2).max(1)];
        Self { pairs: sides.iter().map(|&side| (random(side), random(side), side)).collect() }
    }

    /// The better GFLOP/s of the two square products (on this VM a 512³ product sometimes runs
    /// faster than a 1024³ one, and the layers of the 1.12M network multiply 500-row matrices):
    /// for each, one product to warm up, then at least [`GEMM_MIN_REPS`] products and
    /// [`GEMM_MIN_SECONDS`] seconds, each waited for before the next (total FLOPs over total time).
    fn gflops(&self, device: &B::Device) -> Result<f64, String> {
        let mut best = 0.0f64;
        for (a, b, side) in &self.pairs {
            let product = || -> Result<(), String> {
                let c = a.clone().matmul(b.clone());
                // Wait for the product (a no-op on burn-ndarray, which computes eagerly) before
                // dropping it, so that a lazy backend cannot skip it.
                B::sync(device).map_err(|e| format!("cannot synchronize the device: {e}"))?;
                drop(c);
                Ok(())
            };
            product()?;
            let started = Instant::now();
            let mut reps = 0u32;
            while reps < GEMM_MIN_REPS || started.elapsed().as_secs_f64() < GEMM_MIN_SECONDS {
                product()?;
                reps += 1;
            }
            let side = *side as f64;
            best = best.max(2.0 * side * side * side * f64::from(reps) / started.elapsed().as_secs_f64() / 1e9);
        }
        Ok(best)
    }
}

/// One chain layout of a size: its chains, its minibatch generator and its scratch indices.
struct Layout<B: AutodiffBackend> {
    chains: usize,
    sampler: Sampler<B>,
    /// The state of the xorshift64 generator of minibatch indices.
    rng: u64,
    indices: Vec<usize>,
    stalled: u64,
}

/// One chain, or C chains stacked into one module.
enum Sampler<B: AutodiffBackend> {
    Single(SgldChain<B, Dln<B>>),
    Stacked(SgldChains<B, StackedDln<B>>),
}

impl<B: AppBackend> Layout<B> {
    /// `chains` chains at `model` (the teacher), with their noise where the estimator would draw it
    /// on this backend.
    fn new(model: &Dln<B>, chains: usize, settings: &Settings, device: &B::Device) -> Result<Self, String> {
        let config = settings.sgld();
        let noise: Vec<NoiseSource> = match NoisePlacement::of::<B>() {
            NoisePlacement::Host => (0..chains as u64).map(|c| NoiseSource::host(0, c)).collect(),
            NoisePlacement::Device => vec![NoiseSource::backend::<B::InnerBackend>(device, 0, 0)],
        };
        let refused = |e: llc_sampler::SamplerError| format!("cannot start {chains} chain(s): {e}");
        let sampler = if chains == 1 {
            let noise = noise.into_iter().next().ok_or("no noise source")?;
            Sampler::Single(SgldChain::new(model.clone(), config, noise).map_err(refused)?)
        } else {
            // Replicated from an untracked copy: on an autodiff backend the copies' stacked tensors
            // must be new leaves, which a tracked parameter's `unsqueeze` is not.
            let stacked = StackedDln::replicate(&model.clone().no_grad(), chains).map_err(|e| e.to_string())?;
            Sampler::Stacked(SgldChains::new(stacked, chains, config, noise).map_err(refused)?)
        };
        Ok(Self {
            chains,
            sampler,
            rng: 0x2545_f491_4f6c_dd1d ^ (chains as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15),
            indices: vec![0; chains * settings.batch],
            stalled: 0,
        })
    }

    /// One full step as the estimator runs it: draw the indices, gather the minibatch, forward,
    /// backward and the SGLD update of every chain.
    fn step(&mut self, data: &RegressionData<B>, settings: &Settings) -> Result<(), String> {
        let n = settings.n as u64;
        for index in self.indices.iter_mut() {
            self.rng ^= self.rng << 13;
            self.rng ^= self.rng >> 7;
            self.rng ^= self.rng << 17;
            *index = (self.rng % n) as usize;
        }
        let batch = data.batch(&self.indices).map_err(|e| e.to_string())?;
        match &mut self.sampler {
            Sampler::Single(chain) => {
                let report = chain.step(|m: &Dln<B>| dln_loss(m, &batch), false);
                self.stalled += u64::from(!report.loss.is_finite());
            }
            Sampler::Stacked(chains) => {
                // The batch holds the chains' minibatches one after another.
                let loss = stacked_dln_loss::<B>(self.chains);
                let report = chains.step(|m: &StackedDln<B>| loss(m, &batch), false);
                self.stalled += report.moved.iter().filter(|&&moved| !moved).count() as u64;
            }
        }
        Ok(())
    }

    /// Warms up for `warmup` seconds (at least two steps), then steps for `settings.seconds`
    /// seconds (at least one step); returns the timed steps and their wall time.
    fn run_for(&mut self, data: &RegressionData<B>, settings: &Settings, warmup: f64) -> Result<(u64, f64), String> {
        let started = Instant::now();
        let mut warm = 0;
        while warm < 2 || started.elapsed().as_secs_f64() < warmup {
            self.step(data, settings)?;
            warm += 1;
        }
        let budget = Duration::from_secs_f64(settings.seconds);
        let started = Instant::now();
        let mut steps = 0u64;
        while steps == 0 || started.elapsed() < budget {
            self.step(data, settings)?;
            steps += 1;
        }
        Ok((steps, started.elapsed().as_secs_f64()))
    }
}

#[cfg(test)]
mod tests {
    use burn::module::AutodiffModule;
    use llc_app::Cpu;

    use super::*;

    fn report(chains: &[(usize, f64)]) -> SizeMeasurement {
        let round = |rate: f64, roofline: f64| Round {
            roofline_gflops: roofline,
            steps: 10,
            seconds: 1.0,
            chain_steps_per_second: rate,
            gflops: rate,
            ratio: rate / roofline,
        };
        SizeMeasurement {
            widths: Widths(vec![2, 3]),
            params: 6,
            setup_seconds: 0.1,
            peak_rss_mib: Some(12.0),
            layouts: chains
                .iter()
                .map(|&(c, r)| LayoutRounds {
                    chains: c,
                    rounds: vec![round(r, 100.0), round(2.0 * r, 50.0), round(r, 200.0)],
                    stalled_chain_steps: 0,
                })
                .collect(),
        }
    }

    #[test]
    fn summaries_take_medians_per_round_and_mark_the_best_layout() {
        let size = summarize(report(&[(1, 10.0), (8, 30.0)]));
        let one = &size.layouts[0];
        assert_eq!(one.median_chain_steps_per_second, 10.0);
        assert_eq!(one.median_roofline_gflops, 100.0);
        // Per-round ratios 0.1, 0.4, 0.05: the median is 0.1, not 10/100 by chance.
        assert_eq!((one.median_ratio, one.ratio_min, one.ratio_max), (0.1, 0.05, 0.4));
        assert!(!one.best && size.layouts[1].best);
        // One layout alone is not marked.
        assert!(!summarize(report(&[(1, 10.0)])).layouts[0].best);
    }

    #[test]
    fn tables_align_and_render_as_markdown() {
        let sizes = vec![summarize(report(&[(1, 10.0), (8, 3000.0)]))];
        let (head, rows) = table(&sizes);
        let text = render_text(&head, &rows);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[3].ends_with("← best") && lines[3].contains("3,000"), "{text}");
        // The rule spans every column, as does the row with the mark in the last one.
        assert_eq!(lines[3].chars().count(), lines[1].chars().count());
        let end = |line: &str, what: &str| line.find(what).map(|i| line[..i + what.len()].chars().count());
        assert_eq!(end(lines[0], "chain-steps/s"), end(lines[3], "3,000"), "{text}");
        let markdown = render_markdown(&head, &rows);
        assert!(markdown.starts_with("| widths | params |"));
        let rule = markdown.lines().nth(1).unwrap();
        assert!(rule.starts_with("|---|---:|") && rule.ends_with("|---:|---|"), "{rule}");
        assert!(markdown.contains("12.0 MiB"));
    }

    /// Settings for a measurement of a few milliseconds on a tiny network (n = 50, batch 5).
    fn tiny(rounds: usize) -> Settings {
        Settings { rounds, seconds: 0.01, batch: 5, n: 50, epsilon: 1e-7, gamma: 1.0, gemm: 16, device: Device::Cpu }
    }

    #[test]
    fn stacked_layouts_track_gradients_and_move() {
        let device = Default::default();
        let teacher = dln_teacher(&[4, 3, 2], Teacher::FullRank, None, 0).unwrap();
        let set = Synthetic { n: 50, seed: 0, form: DataForm::Materialized };
        let DlnPoint { point, .. } = dln_point::<Cpu>(&teacher, set, &device).unwrap();
        let (model, settings) = (&point.model, tiny(1));
        let mut layout = Layout::new(model, 3, &settings, &device).unwrap();
        layout.step(&point.data.0, &settings).unwrap();
        let Sampler::Stacked(chains) = &layout.sampler else { panic!("three chains are stacked") };
        let stacked = chains.module();
        assert!(stacked.weights.iter().all(|w| w.val().is_require_grad()));
        // `copy` re-wraps slices as parameters, which needs untracked tensors.
        let stacked = stacked.valid();
        for c in 0..3 {
            assert_ne!(stacked.copy(c).unwrap().weights_host(), model.weights_host(), "chain {c} did not move");
        }
    }

    #[test]
    fn one_size_measures_every_layout_on_the_cpu() {
        let args = ChildArgs { widths: Widths(vec![4, 3, 2]), chains: vec![1, 2], settings: tiny(2) };
        let measured = measure_layouts::<Cpu>(&args, &Default::default()).unwrap();
        assert_eq!(measured.params, 18);
        assert_eq!(measured.layouts.len(), 2);
        for layout in &measured.layouts {
            assert_eq!(layout.rounds.len(), 2);
            assert_eq!(layout.stalled_chain_steps, 0);
            for round in &layout.rounds {
                assert!(round.steps >= 1 && round.chain_steps_per_second > 0.0 && round.roofline_gflops > 0.0);
            }
        }
    }
}
