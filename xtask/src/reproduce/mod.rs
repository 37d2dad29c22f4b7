//! `cargo xtask reproduce`: the paper's three experiment suites (docs/method.md §4–6), their
//! figures, and a report that checks the paper's claims one by one.
//!
//! Flow: load `experiments/<suite>.toml` at the chosen scale → plan the runs (each with a unique id
//! and a fingerprint of its settings) → skip the runs already recorded under the output directory
//! → run the rest on worker threads, appending each record the moment it finishes → once a suite's
//! records are complete, analyse them: figures (SVG and PNG), claims, a section of `REPORT.md`.
//!
//! Each suite (`dln/`, `mala.rs`, `rescaling.rs`) plans, runs and analyses itself through the
//! [`Suite`] trait; the rest is shared: the config files (`config.rs`), the run records
//! (`records.rs`), the worker threads (`runner.rs`) and the report (`report.rs`). Teachers, data and
//! figures come from `llc_app`.

mod config;
mod dln;
mod mala;
mod records;
mod report;
mod rescaling;
mod runner;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use llc_app::{AppBackend, Device};
use llc_estimators::LlcEstimate;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use records::{Appender, Record, fingerprint};
use report::SuiteReport;
use runner::Context;

/// Re-runs the paper's experiment suites and writes run records, figures, REPORT.md and
/// summary.json.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask reproduce", about, disable_help_subcommand = true)]
pub(crate) struct Args {
    /// Which suite to run.
    #[arg(long, value_enum, default_value_t = SuiteArg::All)]
    suite: SuiteArg,
    /// How much to run: `quick` (CI, ≤ 5 min on 2 cores), `default` (≤ 30 min on 2 cores), `paper`
    /// (the paper's settings; needs a GPU and days).
    #[arg(long, default_value = "default")]
    scale: String,
    /// Where the runs execute.
    #[arg(long, value_enum, default_value_t = Device::Cpu)]
    device: Device,
    /// Output directory; the scale's results go to `<out>/<scale>/`.
    #[arg(long, default_value = "experiments/results")]
    out: PathBuf,
    /// Run only every N-th planned run, starting at the K-th (1 ≤ K ≤ N), for a job array; a later
    /// run without `--shard` merges the records and writes the report.
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    shard: Option<(usize, usize)>,
    /// Runs executed at once (default: the number of cores on CPU, 1 on a GPU).
    #[arg(long)]
    jobs: Option<usize>,
    /// Do not run anything: analyse the records already on disk.
    #[arg(long)]
    report_only: bool,
    /// Exit with status 1 unless summary.json is complete: every requested suite reported, every
    /// claim judged on a measured value (what CI runs).
    #[arg(long)]
    check: bool,
    /// Like `--check`, and exit with status 1 unless every claim also holds.
    #[arg(long)]
    strict: bool,
    /// No progress bars or per-run lines.
    #[arg(long)]
    quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SuiteArg {
    Dln,
    SgldVsMala,
    Rescaling,
    All,
}

fn parse_shard(text: &str) -> Result<(usize, usize), String> {
    let bad = || format!("'{text}' is not K/N with 1 ≤ K ≤ N (e.g. 3/8)");
    let (k, n) = text.split_once('/').ok_or_else(bad)?;
    let k: usize = k.trim().parse().map_err(|_| bad())?;
    let n: usize = n.trim().parse().map_err(|_| bad())?;
    if k == 0 || n == 0 || k > n {
        return Err(bad());
    }
    Ok((k, n))
}

/// One experiment suite: how to plan, run and analyse it.
pub(crate) trait Suite: Sync {
    /// The suite's name (also its config file's stem and its output directory).
    const NAME: &'static str;
    /// One run's complete settings.
    type Spec: Serialize + DeserializeOwned + Clone + Send + Sync;
    /// What one run measures.
    type Outcome: Serialize + DeserializeOwned + Clone + Send;

    /// Every run of the scale, in a fixed order (shards take every N-th).
    fn plan(&self) -> Vec<Self::Spec>;
    /// The run's unique name.
    fn id(&self, spec: &Self::Spec) -> String;
    /// Steps the run takes (SGD and sampler steps), for the progress bar.
    fn total_steps(&self, spec: &Self::Spec) -> u64;
    /// Estimated cost of one of its steps in microseconds on one CPU core (only ratios matter).
    fn cost_per_step(&self, spec: &Self::Spec) -> u64;
    /// The run's estimated cost.
    fn cost(&self, spec: &Self::Spec) -> u64 {
        self.total_steps(spec) * self.cost_per_step(spec)
    }
    /// Executes one run on backend `B`.
    fn run<B: AppBackend>(&self, spec: &Self::Spec, on: Context<'_, B>) -> Result<Self::Outcome, String>;
    /// A one-line description of a finished run for the log, if any.
    fn describe(&self, record: &Record<Self::Spec, Self::Outcome>) -> Option<String>;
    /// Figures (written into `dir`, beside REPORT.md), claims and the report section from the
    /// complete set of records (in plan order).
    fn analyze(&self, records: &[Record<Self::Spec, Self::Outcome>], dir: &Path) -> Result<SuiteReport, String>;
}

/// What a run of one chain measured (the suites `sgld-vs-mala` and `rescaling`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ChainOutcome {
    /// λ̂, unless the chain diverged.
    pub(crate) lambda_hat: Option<f64>,
    /// Where the chain diverged, if it was lost.
    pub(crate) diverged: Option<String>,
    /// The mean acceptance (MALA's own; for SGLD the MALA acceptance of its moves), if measured.
    #[serde(default)]
    pub(crate) acceptance: Option<f64>,
    /// Seconds of sampling (the set-up and L_n(w*) excluded).
    pub(crate) sampling_seconds: f64,
    /// Chain-steps per second of sampling.
    #[serde(default)]
    pub(crate) steps_per_second: f64,
}

impl ChainOutcome {
    /// What `estimate` (of one chain) measured.
    pub(crate) fn of(estimate: &LlcEstimate) -> Self {
        Self {
            lambda_hat: estimate.lambda_hat.is_finite().then_some(estimate.lambda_hat),
            diverged: estimate.diagnostics.diverged.first().map(|d| d.to_string()),
            acceptance: estimate.diagnostics.mean_acceptance,
            sampling_seconds: estimate.seconds,
            steps_per_second: estimate.steps_per_second,
        }
    }
}

/// Entry point of `cargo xtask reproduce`.
pub(crate) fn main(args: &[String]) -> ExitCode {
    match crate::parse_options::<Args>("cargo xtask reproduce", args) {
        Ok(args) => crate::exit_status(crate::OnDevice::Reproduce(&args).run_on(args.device, "reproduce")),
        Err(status) => status,
    }
}

/// Runs what `args` asks on backend `B`; `Ok(false)` when `--check` finds a claim that does not
/// hold, or runs failed.
pub(crate) fn run_on<B: AppBackend>(args: &Args, device: &B::Device) -> Result<bool, String> {
    let device_name = B::NAME;
    let experiments = config::experiments_dir();
    let scale_dir = args.out.join(&args.scale);
    let jobs = args.jobs.unwrap_or_else(|| match args.device {
        Device::Cpu => std::thread::available_parallelism().map_or(1, |n| n.get()),
        Device::Cuda => 1,
    });
    if jobs == 0 {
        return Err("--jobs must be at least 1".into());
    }
    let wanted = |s: SuiteArg| args.suite == SuiteArg::All || args.suite == s;

    // Load every config first, so that a typo in any of them fails before hours of work. A suite
    // is loaded when its file has the scale, or when it alone is asked for (then a missing scale is
    // an error naming the scales it has); some scales exist for one suite only (`dln`'s `auto`).
    let present = |s: SuiteArg, file: &str| -> Result<bool, String> {
        Ok(args.suite == s || config::has_scale(&experiments.join(file), &args.scale)?)
    };
    let dln = match present(SuiteArg::Dln, "dln.toml")? {
        true => Some(dln::DlnSuite::load(&experiments, &args.scale)?),
        false => None,
    };
    let mala = match present(SuiteArg::SgldVsMala, "sgld-vs-mala.toml")? {
        true => Some(mala::MalaSuite::load(&experiments, &args.scale)?),
        false => None,
    };
    let rescaling = match present(SuiteArg::Rescaling, "rescaling.toml")? {
        true => Some(rescaling::RescalingSuite::load(&experiments, &args.scale)?),
        false => None,
    };
    if dln.is_none() && mala.is_none() && rescaling.is_none() {
        // None of the files has it: the DLN file's error lists the scales there are.
        dln::DlnSuite::load(&experiments, &args.scale)?;
    }
    let loaded = |s: SuiteArg| match s {
        SuiteArg::Dln => dln.is_some(),
        SuiteArg::SgldVsMala => mala.is_some(),
        SuiteArg::Rescaling => rescaling.is_some(),
        SuiteArg::All => true,
    };
    if !args.quiet {
        for (s, name) in [
            (SuiteArg::Dln, dln::DlnSuite::NAME),
            (SuiteArg::SgldVsMala, mala::MalaSuite::NAME),
            (SuiteArg::Rescaling, rescaling::RescalingSuite::NAME),
        ] {
            if wanted(s) && !loaded(s) {
                eprintln!("{name}: experiments/{name}.toml has no scale '{}'; skipped", args.scale);
            }
        }
    }
    // Fail early on an unwritable output directory as well.
    std::fs::create_dir_all(&scale_dir).map_err(|e| format!("cannot create {}: {e}", scale_dir.display()))?;

    let started = std::time::Instant::now();
    let mut outcomes = Vec::new();
    if let Some(suite) = dln.as_ref().filter(|_| wanted(SuiteArg::Dln)) {
        outcomes.push(drive::<_, B>(suite, args, &scale_dir, jobs, device)?);
    }
    if let Some(suite) = mala.as_ref().filter(|_| wanted(SuiteArg::SgldVsMala)) {
        outcomes.push(drive::<_, B>(suite, args, &scale_dir, jobs, device)?);
    }
    if let Some(suite) = rescaling.as_ref().filter(|_| wanted(SuiteArg::Rescaling)) {
        outcomes.push(drive::<_, B>(suite, args, &scale_dir, jobs, device)?);
    }
    let failed: Vec<String> = outcomes.iter().flat_map(|o| o.failed.iter().cloned()).collect();

    // The report covers every suite whose records are complete for this scale, so suites run one
    // at a time (or shards merged later) end up in one report.
    let mut reports = Vec::new();
    let mut incomplete = Vec::new();
    for result in [
        dln.as_ref().map(|s| analyze_if_complete(s, &scale_dir)).transpose()?,
        mala.as_ref().map(|s| analyze_if_complete(s, &scale_dir)).transpose()?,
        rescaling.as_ref().map(|s| analyze_if_complete(s, &scale_dir)).transpose()?,
    ]
    .into_iter()
    .flatten()
    {
        match result {
            Completion::Done(report) => reports.push(report),
            Completion::Missing { suite, done, planned } => incomplete.push((suite, done, planned)),
        }
    }
    let [report_path, summary_path] = report::write(&scale_dir, &args.scale, device_name, &reports)?;

    // The one-screen summary.
    println!();
    println!("reproduce --scale {} on {device_name}: {:.0} s", args.scale, started.elapsed().as_secs_f64());
    for r in &reports {
        println!("{}", r.suite);
        for line in &r.screen {
            println!("  {line}");
        }
        for c in &r.claims {
            println!("  [{}] {}", if c.holds { "holds" } else { "FAILS" }, c.claim);
        }
        let svgs: Vec<String> = r
            .figures
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "svg"))
            .map(|p| p.display().to_string())
            .collect();
        if !svgs.is_empty() {
            println!("  figures: {} (and .png)", svgs.join(", "));
        }
    }
    for (suite, done, planned) in &incomplete {
        if *done > 0 {
            println!("{suite}: {done} of {planned} runs recorded; run again (without --shard) to finish and report it");
        }
    }
    println!("report: {}", report_path.display());
    println!("summary: {}", summary_path.display());
    if !failed.is_empty() {
        eprintln!(
            "error: {} run(s) failed and were not recorded (a new run retries them); first: {}",
            failed.len(),
            failed[0]
        );
        return Ok(false);
    }
    if args.check || args.strict {
        let requested: Vec<&str> = [
            (SuiteArg::Dln, dln::DlnSuite::NAME),
            (SuiteArg::SgldVsMala, mala::MalaSuite::NAME),
            (SuiteArg::Rescaling, rescaling::RescalingSuite::NAME),
        ]
        .into_iter()
        .filter(|(s, _)| wanted(*s) && loaded(*s))
        .map(|(_, name)| name)
        .collect();
        let problems = check_summary(&summary_path, &requested, args.strict);
        if !problems.is_empty() {
            for p in &problems {
                eprintln!("check: {p}");
            }
            return Ok(false);
        }
        println!(
            "check: summary.json is complete for {}{}",
            requested.join(", "),
            if args.strict { " and every claim holds" } else { "" }
        );
    }
    Ok(true)
}

/// Reads `summary.json` back and lists what is wrong with it: a requested suite without claims, a
/// claim without a verdict or without a measured value, and (with `strict`) a claim that fails.
fn check_summary(path: &Path, requested: &[&str], strict: bool) -> Vec<String> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => return vec![format!("cannot read {}: {e}", path.display())],
    };
    let summary: serde_json::Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => return vec![format!("{} is not valid JSON: {e}", path.display())],
    };
    let Some(claims) = summary.get("claims").and_then(|c| c.as_array()) else {
        return vec![format!("{} has no list `claims`", path.display())];
    };
    let mut problems = Vec::new();
    for suite in requested {
        if !claims.iter().any(|c| c.get("suite").and_then(|s| s.as_str()) == Some(suite)) {
            problems.push(format!("no claims for suite {suite} (are its runs complete?)"));
        }
    }
    for c in claims {
        let suite = c.get("suite").and_then(|s| s.as_str()).unwrap_or("?");
        if !requested.contains(&suite) {
            continue;
        }
        let claim = c.get("claim").and_then(|s| s.as_str()).unwrap_or("?");
        let measured = match c.get("value") {
            None | Some(serde_json::Value::Null) => false,
            Some(serde_json::Value::Number(n)) => n.as_f64().is_some_and(f64::is_finite),
            Some(serde_json::Value::Object(m)) => m.values().all(|v| !v.is_null()),
            Some(_) => true,
        };
        if !measured {
            problems.push(format!("{suite}: no measured value for '{claim}'"));
        }
        match c.get("holds").and_then(|h| h.as_bool()) {
            None => problems.push(format!("{suite}: no verdict for '{claim}'")),
            Some(false) if strict => {
                problems.push(format!("{suite}: claim does not hold: {claim} (value {})", c["value"]))
            }
            _ => {}
        }
    }
    problems
}

/// What one suite's pass did.
struct Driven {
    failed: Vec<String>,
}

/// Runs a suite's pending runs (those of this shard, if sharded).
fn drive<S: Suite, B: AppBackend>(
    suite: &S,
    args: &Args,
    scale_dir: &Path,
    jobs: usize,
    device: &B::Device,
) -> Result<Driven, String> {
    let dir = scale_dir.join(S::NAME);
    let plan = suite.plan();
    let planned: std::collections::HashMap<String, String> =
        plan.iter().map(|s| (suite.id(s), fingerprint(s))).collect();
    if planned.len() != plan.len() {
        return Err(format!("{}: two planned runs share an id (a bug in the suite's plan)", S::NAME));
    }
    let loaded = records::load::<S::Spec, S::Outcome>(&dir, |id| planned.get(id).cloned())?;
    let mine: Vec<S::Spec> = plan
        .iter()
        .enumerate()
        .filter(|(i, _)| args.shard.is_none_or(|(k, n)| i % n == k - 1))
        .map(|(_, s)| s.clone())
        .collect();
    let mut pending: Vec<S::Spec> =
        mine.iter().filter(|s| !loaded.records.contains_key(&suite.id(s))).cloned().collect();
    // Longest runs first, so that the last runs in flight are short ones and no core idles long at
    // the end of the suite (the records' order does not matter: analysis follows the plan).
    pending.sort_by_key(|s| std::cmp::Reverse(suite.cost(s)));
    if !args.quiet {
        let shard = args.shard.map(|(k, n)| format!(" (shard {k}/{n}: {} runs)", mine.len())).unwrap_or_default();
        eprintln!(
            "{}: {} runs planned{shard}, {} already recorded, {} to run{}",
            S::NAME,
            plan.len(),
            plan.len().min(loaded.records.len()),
            if args.report_only { 0 } else { pending.len() },
            if loaded.skipped > 0 {
                format!(" ({} record lines ignored: not in this plan, other settings, or torn)", loaded.skipped)
            } else {
                String::new()
            }
        );
    }
    if args.report_only || pending.is_empty() {
        return Ok(Driven { failed: Vec::new() });
    }
    let file = match args.shard {
        Some((k, n)) => format!("runs.shard-{k}-of-{n}.jsonl"),
        None => "runs.jsonl".to_owned(),
    };
    let appender = Appender::open(&dir, &file)?;
    let summary = runner::run_pending::<S, B>(suite, &pending, &appender, jobs, device, args.quiet);
    if !args.quiet {
        eprintln!("{}: {} runs finished", S::NAME, summary.finished);
    }
    Ok(Driven { failed: summary.failed })
}

enum Completion {
    Done(SuiteReport),
    Missing { suite: &'static str, done: usize, planned: usize },
}

/// Analyses a suite if every planned run has a record.
fn analyze_if_complete<S: Suite>(suite: &S, scale_dir: &Path) -> Result<Completion, String> {
    let dir = scale_dir.join(S::NAME);
    let plan = suite.plan();
    let planned: std::collections::HashMap<String, String> =
        plan.iter().map(|s| (suite.id(s), fingerprint(s))).collect();
    let mut loaded = records::load::<S::Spec, S::Outcome>(&dir, |id| planned.get(id).cloned())?;
    let in_order: Vec<Record<S::Spec, S::Outcome>> =
        plan.iter().filter_map(|s| loaded.records.remove(&suite.id(s))).collect();
    if in_order.len() < plan.len() {
        return Ok(Completion::Missing { suite: S::NAME, done: in_order.len(), planned: plan.len() });
    }
    // Figures go beside REPORT.md, so that the report's links work wherever the folder is copied.
    Ok(Completion::Done(suite.analyze(&in_order, scale_dir)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_and_bad_ones_are_rejected() {
        assert_eq!(parse_shard("3/8"), Ok((3, 8)));
        for bad in ["0/4", "5/4", "1/0", "x/2", "3", "-1/2", ""] {
            assert!(parse_shard(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_suite_file_parses_at_every_scale() {
        let dir = config::experiments_dir();
        for scale in ["quick", "default", "paper"] {
            let dln = dln::DlnSuite::load(&dir, scale).unwrap();
            let mala = mala::MalaSuite::load(&dir, scale).unwrap();
            let rescaling = rescaling::RescalingSuite::load(&dir, scale).unwrap();
            assert!(!dln.plan().is_empty() && !mala.plan().is_empty() && !rescaling.plan().is_empty());
            for ids in [
                dln.plan().iter().map(|s| dln.id(s)).collect::<Vec<_>>(),
                mala.plan().iter().map(|s| mala.id(s)).collect(),
                rescaling.plan().iter().map(|s| rescaling.id(s)).collect(),
            ] {
                let unique: std::collections::HashSet<&String> = ids.iter().collect();
                assert_eq!(unique.len(), ids.len(), "run ids are unique at scale {scale}");
            }
        }
    }

    /// A suite of `runs` trivial runs; run `fail` (if any) fails, and every executed id is logged.
    struct FakeSuite {
        runs: usize,
        fail: Option<usize>,
        executed: std::sync::Mutex<Vec<usize>>,
    }

    impl Suite for FakeSuite {
        const NAME: &'static str = "fake";
        type Spec = usize;
        type Outcome = f64;

        fn plan(&self) -> Vec<usize> {
            (0..self.runs).collect()
        }
        fn id(&self, spec: &usize) -> String {
            format!("run{spec}")
        }
        fn total_steps(&self, _: &usize) -> u64 {
            10
        }
        fn cost_per_step(&self, _: &usize) -> u64 {
            1
        }
        fn run<B: AppBackend>(&self, spec: &usize, _: Context<'_, B>) -> Result<f64, String> {
            self.executed.lock().unwrap().push(*spec);
            if self.fail == Some(*spec) { Err("planned failure".into()) } else { Ok(*spec as f64 * 1.5) }
        }
        fn describe(&self, _: &Record<usize, f64>) -> Option<String> {
            None
        }
        fn analyze(&self, records: &[Record<usize, f64>], _: &Path) -> Result<SuiteReport, String> {
            Ok(SuiteReport {
                suite: "fake",
                claims: Vec::new(),
                markdown: format!("{} records", records.len()),
                screen: Vec::new(),
                figures: Vec::new(),
            })
        }
    }

    fn args(extra: &[&str]) -> Args {
        Args::try_parse_from(["reproduce", "--quiet"].iter().chain(extra)).unwrap()
    }

    fn executed(suite: &FakeSuite) -> Vec<usize> {
        let mut v = std::mem::take(&mut *suite.executed.lock().unwrap());
        v.sort_unstable();
        v
    }

    use llc_app::Cpu;

    #[test]
    fn shards_split_the_runs_and_an_unsharded_pass_merges_and_resumes() {
        let dir = std::env::temp_dir().join(format!("llc-xtask-drive-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let device = Default::default();
        let suite = FakeSuite { runs: 7, fail: Some(4), executed: Default::default() };

        // Shard 1 of 3 takes runs 0, 3, 6; shard 2 takes 1, 4 (4 fails, so it is not recorded).
        let driven = drive::<_, Cpu>(&suite, &args(&["--shard", "1/3"]), &dir, 2, &device).unwrap();
        assert!(driven.failed.is_empty());
        assert_eq!(executed(&suite), [0, 3, 6]);
        let driven = drive::<_, Cpu>(&suite, &args(&["--shard", "2/3"]), &dir, 1, &device).unwrap();
        assert_eq!(driven.failed.len(), 1);
        assert_eq!(executed(&suite), [1, 4]);
        assert!(matches!(analyze_if_complete(&suite, &dir).unwrap(), Completion::Missing { done: 4, planned: 7, .. }));
        assert!(dir.join("fake/runs.shard-1-of-3.jsonl").exists() && dir.join("fake/runs.shard-2-of-3.jsonl").exists());

        // An unsharded pass runs only what no shard recorded, then the suite is complete.
        let suite = FakeSuite { runs: 7, fail: None, executed: Default::default() };
        drive::<_, Cpu>(&suite, &args(&[]), &dir, 2, &device).unwrap();
        assert_eq!(executed(&suite), [2, 4, 5]);
        match analyze_if_complete(&suite, &dir).unwrap() {
            Completion::Done(report) => assert_eq!(report.markdown, "7 records"),
            Completion::Missing { done, .. } => panic!("only {done} runs recorded"),
        }
        // A further pass has nothing to do; --report-only never runs anything.
        drive::<_, Cpu>(&suite, &args(&[]), &dir, 2, &device).unwrap();
        assert!(executed(&suite).is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_summary_check_finds_missing_suites_unmeasured_values_and_failing_claims() {
        let dir = std::env::temp_dir().join(format!("llc-xtask-check-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("summary.json");
        let claims = serde_json::json!({ "claims": [
            { "suite": "dln", "claim": "a", "holds": true, "value": 0.02 },
            { "suite": "dln", "claim": "b", "holds": false, "value": { "x": 1.0 } },
            { "suite": "rescaling", "claim": "c", "holds": true, "value": { "net": null } },
        ]});
        std::fs::write(&path, claims.to_string()).unwrap();
        assert!(check_summary(&path, &["dln"], false).is_empty());
        let strict = check_summary(&path, &["dln"], true);
        assert!(strict.len() == 1 && strict[0].contains("does not hold: b"), "{strict:?}");
        let more = check_summary(&path, &["dln", "rescaling", "sgld-vs-mala"], false);
        assert_eq!(more.len(), 2, "{more:?}");
        assert!(more.iter().any(|p| p.contains("no claims for suite sgld-vs-mala")));
        assert!(more.iter().any(|p| p.contains("no measured value for 'c'")));
        std::fs::write(&path, "{ not json").unwrap();
        assert!(check_summary(&path, &["dln"], false)[0].contains("not valid JSON"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_dln_only_scales_parse_and_the_other_files_lack_them() {
        let dir = config::experiments_dir();
        for scale in ["auto", "paper-epsilon"] {
            let dln = dln::DlnSuite::load(&dir, scale).unwrap();
            let ids: Vec<String> = dln.plan().iter().map(|s| dln.id(s)).collect();
            let unique: std::collections::HashSet<&String> = ids.iter().collect();
            assert!(!ids.is_empty() && unique.len() == ids.len(), "run ids are unique at scale {scale}");
            assert!(config::has_scale(&dir.join("dln.toml"), scale).unwrap());
            assert!(!config::has_scale(&dir.join("rescaling.toml"), scale).unwrap());
        }
        assert!(config::has_scale(&dir.join("sgld-vs-mala.toml"), "quick").unwrap());
    }

    #[test]
    fn an_unknown_scale_is_an_error_naming_the_known_ones() {
        let err = dln::DlnSuite::load(&config::experiments_dir(), "huge").err().unwrap();
        assert!(err.contains("no scale 'huge'") && err.contains("quick"), "{err}");
    }
}
