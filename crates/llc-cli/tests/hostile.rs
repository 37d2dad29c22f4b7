//! Hostile input, table-driven: every malformed invocation or config file is refused before any
//! sampling, with exit status 2, exactly one line `error: …` on stderr that names the problem,
//! nothing on stdout, no panic or backtrace, and no file created or changed.
//!
//! Each case runs in a fresh empty directory as the current directory (the default output of
//! `llc calibrate`, ./calibration, would appear there), with the sampling sizes kept tiny in case
//! validation let it through by mistake, and is killed and failed after 30 seconds.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

/// How long a case may run before it is killed and failed.
const TIMEOUT: Duration = Duration::from_secs(30);

/// `llc <command> <model>` with the flags of `base`, less those that `extra` sets, then `extra`.
fn build(command: [&str; 2], base: &[[&str; 2]], extra: &[&str]) -> Vec<String> {
    let set = |flag: &str| extra.iter().any(|e| *e == flag || e.starts_with(&format!("{flag}=")));
    let kept = base.iter().filter(|[flag, _]| !set(flag)).flat_map(|pair| pair.iter());
    command.iter().chain(kept).chain(extra).map(|a| a.to_string()).collect()
}

/// Tiny sampling sizes (n = 200, 2 chains × 100 steps, batch 10), in case validation lets a case
/// through by mistake.
const TINY: [[&str; 2]; 5] =
    [["--widths", "5,3,5"], ["--n", "200"], ["--steps", "100"], ["--batch", "10"], ["--chains", "2"]];

/// TINY with a fixed ε, for `llc estimate`: 100 steps are too few for the automatic step size (the
/// default), whose refusal would hide the error a case is about. Cases about `--epsilon auto` set
/// it themselves.
const TINY_FIXED: [[&str; 2]; 6] = [TINY[0], TINY[1], TINY[2], TINY[3], TINY[4], ["--epsilon", "1e-6"]];

/// A tiny `llc estimate dln` (5→3→5) with `extra`, which validation must refuse.
fn dln(extra: &[&str]) -> Vec<String> {
    build(["estimate", "dln"], &TINY_FIXED, &[extra, &["--quiet"]].concat())
}

/// The same for `llc estimate mlp`.
fn mlp(extra: &[&str]) -> Vec<String> {
    build(["estimate", "mlp"], &TINY_FIXED, &[extra, &["--quiet"]].concat())
}

/// The same for `llc calibrate dln` over a 1 × 1 grid.
fn calibrate(extra: &[&str]) -> Vec<String> {
    let grid = [TINY[0], TINY[1], TINY[2], TINY[3], ["--epsilons", "1e-6"], ["--nbetas", "100"]];
    build(["calibrate", "dln"], &grid, &[extra, &["--quiet"]].concat())
}

/// Exactly these arguments.
fn raw(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| a.to_string()).collect()
}

/// What a case puts in its directory before it runs.
#[derive(Clone, Copy)]
enum Setup {
    Nothing,
    /// `llc.toml` with these bytes.
    Config(&'static [u8]),
    /// A regular file `blocker`, where a directory is expected.
    Blocker,
    /// A directory `conf.d`, where a file is expected.
    Directory,
}

struct Case {
    args: Vec<String>,
    setup: Setup,
    /// What the one line must contain.
    fragment: &'static str,
}

fn case(args: Vec<String>, fragment: &'static str) -> Case {
    in_setup(args, Setup::Nothing, fragment)
}

fn with_config(args: Vec<String>, config: &'static str, fragment: &'static str) -> Case {
    in_setup(args, Setup::Config(config.as_bytes()), fragment)
}

/// A case that runs after `setup`.
fn in_setup(args: Vec<String>, setup: Setup, fragment: &'static str) -> Case {
    Case { args, setup, fragment }
}

/// `--config llc.toml`.
const CONFIG: [&str; 2] = ["--config", "llc.toml"];

/// Config files that `llc estimate dln --config llc.toml` must refuse, each with a fragment of its
/// one line.
const BAD_FILES: &[(&str, &str)] = &[
    ("bogus = 1\n", "llc.toml: line 1: key 'bogus': unknown key"),
    ("stack = 2\nrescale = 2\n", "llc.toml: line 2: key 'rescale': unknown key"),
    ("config = \"other.toml\"\n", "key 'config': a config file cannot name another"),
    ("seed = true\n", "key 'seed': expected a number, got a boolean"),
    ("sampler = 1\n", "key 'sampler': expected a string, got an integer"),
    ("quiet = \"yes\"\n", "key 'quiet': expected true or false, got a string"),
    ("widths = [5, \"3\", 5]\n", "key 'widths': item 2 is a string"),
    ("seed = 1979-05-27\n", "key 'seed': expected a number, got a datetime"),
    ("[sampler]\nkind = \"sgld\"\n", "key 'sampler': expected a string, got a table"),
    ("epsilon = nan\n", "key 'epsilon': invalid value 'NaN'"),
    ("gamma = -inf\n", "key 'gamma': invalid value '-inf'"),
    ("nbeta = inf\n", "key 'nbeta': invalid value 'inf'"),
    ("steps = 0\n", "key 'steps': invalid value '0' for '--steps <T>'"),
    ("chains = -2\n", "key 'chains': invalid value '-2'"),
    ("rank = 1.5\n", "key 'rank': invalid value '1.5'"),
    ("target-acceptance = 1.5\n", "strictly between 0 and 1"),
    ("epsilon = 1e-320\n", "outside the range of f32"),
    ("target-acceptance = 0.9\n", "--target-acceptance only applies with --epsilon auto"),
    ("steps =\n", "llc.toml: line 1, column 8:"),
    ("seed = 1\nseed = 2\n", "llc.toml: line 2, column 1: duplicate key"),
    ("n = 99999999999999999999\n", "llc.toml: line 1, column 5:"),
    ("\"a\\nb\" = 1\n", "key 'a\\nb': unknown key"),
    ("burn_in = 10\n", "key 'burn_in': unknown key; keys are spelled as the flags: 'burn-in'"),
    ("rank = 1\nteacher = \"paper-random\"\n", "llc.toml: the argument '--rank <R>' cannot be used with"),
];

fn cases() -> Vec<Case> {
    let mut cases = vec![
        // Bad numbers.
        case(dln(&["--n", "nan"]), "invalid value 'nan' for '--n <N>'"),
        case(dln(&["--steps", "inf"]), "invalid value 'inf' for '--steps <T>'"),
        case(dln(&["--chains", "many"]), "invalid value 'many' for '--chains <C>'"),
        case(dln(&["--batch", "1.5"]), "invalid value '1.5' for '--batch <M>'"),
        case(dln(&["--seed", "1.5"]), "invalid value '1.5' for '--seed <SEED>'"),
        case(dln(&["--gamma", "-1"]), "expected a finite number ≥ 0, got '-1'"),
        case(dln(&["--gamma", "inf"]), "expected a finite number ≥ 0, got 'inf'"),
        case(dln(&["--nbeta", "0"]), "expected a finite number > 0, got '0'"),
        case(dln(&["--epsilon", "0"]), "expected 'auto' or a finite number > 0, got '0'"),
        case(dln(&["--epsilon", "nan"]), "expected 'auto' or a finite number > 0, got 'nan'"),
        case(dln(&["--epsilon", "-1e-7"]), "got '-1e-7'"),
        case(dln(&["--epsilon", "1e-320"]), "'1e-320' is outside the range of f32"),
        case(dln(&["--epsilon", "1e300"]), "'1e300' is outside the range of f32"),
        case(mlp(&["--rescale", "0"]), "invalid value '0' for '--rescale <ALPHA>'"),
        // Negative or zero sizes.
        case(dln(&["--n=-5"]), "invalid value '-5' for '--n <N>'"),
        case(dln(&["--chains", "0"]), "expected a whole number ≥ 1, got '0'"),
        case(dln(&["--stack", "0"]), "invalid value '0' for '--stack <C>'"),
        case(dln(&["--max-restarts", "-1"]), "unexpected argument '-1'"),
        // Impossible networks.
        case(raw(&["estimate", "dln", "--widths", "5,0,5", "--n", "200", "--batch", "10"]), "width number 2 is 0"),
        case(raw(&["estimate", "dln", "--widths", ""]), "empty list"),
        case(raw(&["estimate", "dln", "--widths", "5,,5"]), "item 2 of the list is empty"),
        case(raw(&["estimate", "dln", "--widths", "5"]), "at least 2 widths"),
        case(raw(&["estimate", "mlp", "--widths", "5,-3,5"]), "item 2 ('-3')"),
        case(dln(&["--rank", "4"]), "rank 4 exceeds the narrowest width 3"),
        case(dln(&["--rank", "1", "--teacher", "paper-random"]), "cannot be used with"),
        // Sizes that cannot fit in memory (these used to abort with a failed allocation).
        case(
            raw(&["estimate", "dln", "--widths", "1000000,1000000", "--quiet"]),
            "parameters of the network (--widths)",
        ),
        case(dln(&["--chains", "1e12"]), "(--chains, --steps)"),
        case(raw(&["estimate", "dln", "--widths", "5,3,5", "--steps", "1e15", "--quiet"]), "(--chains, --steps)"),
        case(dln(&["--n", "1e12", "--data", "materialized"]), "held in memory (--n, --data)"),
        case(raw(&["estimate", "dln", "--widths", "5,3,5", "--n", "1e12", "--batch", "1e12"]), "(--batch)"),
        case(raw(&["estimate", "mlp", "--widths", "5,3,5", "--n", "1e15", "--sampler", "mala"]), "MALA's full batch"),
        // Inconsistent settings.
        case(dln(&["--batch", "500"]), "batch size must be between 1 and n = 200, got 500"),
        case(dln(&["--burn-in", "100"]), "burn-in (100) must be smaller than the number of steps (100)"),
        case(dln(&["--stack", "3", "--chains", "2"]), "2 chains cannot be split into groups of 3 stacked chains"),
        case(dln(&["--stack", "2", "--sampler", "mala"]), "--stack needs an SGLD sampler"),
        case(dln(&["--target-acceptance", "0.8"]), "--target-acceptance only applies with --epsilon auto"),
        case(dln(&["--epsilon", "auto", "--target-acceptance", "1.5"]), "strictly between 0 and 1, got '1.5'"),
        case(dln(&["--max-bias", "0.05"]), "--max-bias only applies with --epsilon auto"),
        case(dln(&["--epsilon", "auto", "--max-bias", "0"]), "expected a finite number > 0, got '0'"),
        case(
            dln(&["--epsilon", "auto", "--sampler", "mala", "--max-bias", "0.05"]),
            "--max-bias does not apply to --sampler mala",
        ),
        case(dln(&["--epsilon", "auto", "--sampler", "mala"]), "use a longer burn-in"),
        case(dln(&["--epsilon", "auto"]), "use a longer burn-in"),
        case(mlp(&["--preconditioner", "rmsprop", "--sampler", "mala"]), "cannot be used with --sampler mala"),
        case(mlp(&["--preconditioner", "matched", "--sampler", "rmsprop-sgld"]), "cannot be combined"),
        // Unknown or unavailable choices.
        case(dln(&["--bogus"]), "unexpected argument '--bogus'"),
        case(dln(&["--sampler", "bogus"]), "invalid value 'bogus' for '--sampler <SAMPLER>'"),
        case(dln(&["--device", "cuda"]), "--device cuda needs the `cuda` feature"),
        case(raw(&["estimate", "dln", "--n", "200"]), "required arguments were not provided: --widths"),
        case(raw(&["estimate", "cnn", "--widths", "5,3,5"]), "unrecognized subcommand 'cnn'"),
        // llc calibrate.
        case(calibrate(&["--epsilon", "1e-7"]), "llc calibrate has no --epsilon"),
        case(calibrate(&["--acceptance-every", "0"]), "--acceptance-every must be at least 1"),
        case(calibrate(&["--epsilons", "1e-6,1e-6"]), "repeats item 1"),
        case(calibrate(&["--gammas", "0,1"]), "cannot be used with"),
        case(calibrate(&["--burn-in", "100"]), "burn-in (100) must be smaller"),
        case(calibrate(&["--device", "cuda"]), "--device cuda needs the `cuda` feature"),
        case(raw(&["calibrate", "dln", "--widths", "5,3,5", "--steps", "1e13", "--quiet"]), "in each of 21 cells"),
        in_setup(
            calibrate(&["--out", "blocker/calibration"]),
            Setup::Blocker,
            "cannot create the output directory blocker/calibration",
        ),
        in_setup(calibrate(&["--out", "blocker"]), Setup::Blocker, "output directory blocker"),
        // Config files.
        with_config(raw(&["estimate", "dln", "--config", "llc.toml"]), "widths = []\n", "key 'widths'"),
        with_config(
            raw(&["estimate", "dln", "--config", "llc.toml", "--n", "200"]),
            "widths = [5, 0, 5]\n",
            "width number 2 is 0",
        ),
        with_config(
            raw(&["estimate", "dln", "--config", "llc.toml"]),
            "steps = 100\n",
            "required arguments were not provided: --widths",
        ),
        // (Without TINY_FIXED's --epsilon, which would override the file's.)
        with_config(
            build(["estimate", "dln"], &TINY, &[&CONFIG[..], &["--quiet"]].concat()),
            "epsilon = \"auto\"\nsampler = \"mala\"\n",
            "the automatic step size needs at least 50 acceptance measures",
        ),
        with_config(
            build(["estimate", "dln"], &TINY, &[&CONFIG[..], &["--quiet"]].concat()),
            "sampler = \"mala\"\nmax-bias = 0.05\n",
            "--max-bias does not apply to --sampler mala",
        ),
        with_config(
            raw(&["estimate", "dln", "--widths", "5,3,5", "--config", "llc.toml"]),
            "chains = 1e12\n",
            "(--chains, --steps)",
        ),
        in_setup(dln(&CONFIG), Setup::Config(b"seed = \"\xff\"\n"), "llc.toml: the config file is not UTF-8"),
        with_config(calibrate(&CONFIG), "epsilon = 1e-7\n", "key 'epsilon': llc calibrate has no --epsilon"),
        with_config(calibrate(&CONFIG), "epsilons = [1e-6, \"x\"]\n", "key 'epsilons': item 2 is a string"),
        in_setup(
            calibrate(&["--config", "blocker/llc.toml"]),
            Setup::Blocker,
            "blocker/llc.toml: cannot read the config file: Not a directory",
        ),
        case(dln(&CONFIG), "llc.toml: cannot read the config file: No such file or directory"),
        in_setup(
            dln(&["--config", "conf.d"]),
            Setup::Directory,
            "conf.d: cannot read the config file: it is a directory",
        ),
        case(dln(&["--config", "/dev/zero"]), "/dev/zero: cannot read the config file: it is not a regular file"),
        case(dln(&["--config", "a.toml", "--config", "b.toml"]), "'--config <FILE>' cannot be used multiple times"),
        case(raw(&["theory", "dln", "--widths", "5,3,5", "--config", "llc.toml"]), "unexpected argument '--config'"),
    ];
    cases.extend(BAD_FILES.iter().map(|&(file, fragment)| with_config(dln(&CONFIG), file, fragment)));
    cases
}

/// A fresh empty directory for one case.
fn fresh_dir(index: usize) -> PathBuf {
    let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let dir = std::env::temp_dir().join(format!("llc-hostile-{}-{index}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    dir
}

/// Every path under `dir` with its size and modification time.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (u64, Option<SystemTime>)> {
    let mut seen = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        for entry in std::fs::read_dir(&path).expect("a readable directory").flatten() {
            let meta = entry.metadata().expect("metadata");
            if meta.is_dir() {
                stack.push(entry.path());
            }
            seen.insert(entry.path().strip_prefix(dir).unwrap().to_path_buf(), (meta.len(), meta.modified().ok()));
        }
    }
    seen
}

/// What a run left: its exit status, stdout and stderr.
struct Ran {
    status: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs `llc args` in `dir`, killing it after [`TIMEOUT`].
fn run(args: &[String], dir: &Path) -> Result<Ran, String> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_llc"))
        .args(args)
        .current_dir(dir)
        .env("RUST_BACKTRACE", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start llc: {e}"))?;
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            String::from_utf8_lossy(&bytes).into_owned()
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("piped stdout")));
    let stderr = drain(Box::new(child.stderr.take().expect("piped stderr")));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("still running after {TIMEOUT:?}: killed (validation must come before sampling)"));
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Ok(Ran {
        status: status.code(),
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    })
}

/// What is wrong with how `case` was refused, if anything.
fn check(index: usize, case: &Case) -> Result<(), String> {
    let dir = fresh_dir(index);
    match case.setup {
        Setup::Nothing => {}
        Setup::Config(bytes) => std::fs::write(dir.join("llc.toml"), bytes).expect("writes llc.toml"),
        Setup::Blocker => std::fs::write(dir.join("blocker"), b"not a directory").expect("writes blocker"),
        Setup::Directory => std::fs::create_dir(dir.join("conf.d")).expect("creates conf.d"),
    }
    let before = snapshot(&dir);
    let outcome = run(&case.args, &dir);
    let after = snapshot(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    let ran = outcome?;
    let err = &ran.stderr;
    let mut problems = Vec::new();
    if ran.status != Some(2) {
        problems.push(format!("exit status {:?}, not 2", ran.status));
    }
    if err.lines().count() != 1 || !err.ends_with('\n') {
        problems.push(format!("{} lines on stderr, not one", err.lines().count()));
    }
    if !err.starts_with("error: ") {
        problems.push("stderr does not start with `error: `".into());
    }
    if !err.contains(case.fragment) {
        problems.push(format!("the message does not mention {:?}", case.fragment));
    }
    if err.contains("panicked") || err.contains("backtrace") || err.contains("RUST_BACKTRACE") {
        problems.push("it panicked".into());
    }
    if !ran.stdout.is_empty() {
        problems.push(format!("stdout is not empty: {:?}", ran.stdout));
    }
    if before != after {
        let changed: Vec<_> =
            after.iter().filter(|(path, meta)| before.get(*path) != Some(meta)).map(|(p, _)| p).collect();
        problems.push(format!("files were created or changed: {changed:?}"));
    }
    if problems.is_empty() { Ok(()) } else { Err(format!("{}; stderr: {err:?}", problems.join("; "))) }
}

#[test]
fn hostile_input_is_refused_with_one_line_status_2_and_no_files() {
    let cases = cases();
    assert!(cases.len() >= 30, "the table should hold at least 30 cases, it has {}", cases.len());
    let failures: Vec<String> = cases
        .iter()
        .enumerate()
        .filter_map(|(i, case)| check(i, case).err().map(|why| format!("llc {}: {why}", case.args.join(" "))))
        .collect();
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

#[test]
fn the_table_covers_each_kind_of_case() {
    let cases = cases();
    let with_config = cases.iter().filter(|c| matches!(c.setup, Setup::Config(_))).count();
    let calibrate = cases.iter().filter(|c| c.args.first().is_some_and(|a| a == "calibrate")).count();
    assert!(with_config >= 20, "{with_config} config-file cases");
    assert!(calibrate >= 10, "{calibrate} calibrate cases");
}
