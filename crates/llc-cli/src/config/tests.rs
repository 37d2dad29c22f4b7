//! Tests of `--config`: examples of each rule, and properties over generated files (a file means
//! what its flags mean, unknown keys are named, arbitrary input never panics and is refused on one
//! line, and a value is accepted in a file exactly when it is accepted as a flag).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::Path;

use clap::CommandFactory;
use proptest::prelude::*;
use toml::Value;

use crate::args::{Cli, Command, EstimateCommand, EstimateDlnArgs, ParseError};
use crate::estimate::estimator_config;
use llc_app::report::{escape_controls, one_line};

/// The name the tests give their config file.
const FILE: &str = "run.toml";

/// Parses `llc <args>` where `run.toml` holds `file` (and no other file exists).
fn parse_with(args: &[&str], file: &[u8]) -> Result<Cli, ParseError> {
    let argv: Vec<OsString> = std::iter::once("llc").chain(args.iter().copied()).map(OsString::from).collect();
    let read = |path: &Path| {
        if path == Path::new(FILE) {
            Ok(file.to_vec())
        } else {
            Err(std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory"))
        }
    };
    Cli::parse_from(argv, &read)
}

/// The one line a refusal prints.
fn error_line(err: &ParseError) -> String {
    match err {
        ParseError::Clap(e) => escape_controls(&one_line(&e.to_string())),
        ParseError::Refused(f) => f.line(),
    }
}

/// The `llc estimate dln` arguments of a parse that must succeed.
fn dln(result: Result<Cli, ParseError>) -> EstimateDlnArgs {
    match result {
        Ok(Cli { command: Command::Estimate(EstimateCommand::Dln(args)) }) => args,
        Ok(other) => panic!("not llc estimate dln: {other:?}"),
        Err(e) => panic!("refused: {}", error_line(&e)),
    }
}

/// Everything a parse decides, except where the settings came from: the arguments with `--config`
/// cleared, and the estimator settings (or the refusal) they give.
fn meaning(mut args: EstimateDlnArgs) -> String {
    args.common.config = None;
    format!("{args:?} {:?}", estimator_config::<llc_app::Cpu>(&args.common).map_err(|f| f.message))
}

fn refusal(result: Result<Cli, ParseError>) -> String {
    match result {
        Ok(cli) => panic!("accepted: {cli:?}"),
        Err(e) => {
            let line = error_line(&e);
            assert_eq!(line.lines().count(), 1, "{line}");
            line
        }
    }
}

#[test]
fn a_file_gives_the_settings_of_its_flags() {
    let file = b"widths = [20, 30, 25, 10]\nepsilon = \"auto\"\nsteps = 12000\nn = 1e5\nsampler = \"sgld\"\nseed = 3\n\
                 burn-in = 4000\ntarget-acceptance = 0.8\nnbeta = 5000.5\njson = true\nquiet = false\n";
    let from_file = dln(parse_with(&["estimate", "dln", "--config", FILE], file));
    let from_flags = dln(parse_with(
        &[
            "estimate",
            "dln",
            "--widths",
            "20,30,25,10",
            "--epsilon",
            "auto",
            "--steps",
            "12000",
            "--n",
            "100000",
            "--sampler",
            "sgld",
            "--seed",
            "3",
            "--burn-in",
            "4000",
            "--target-acceptance",
            "0.8",
            "--nbeta",
            "5000.5",
            "--json",
        ],
        b"",
    ));
    assert_eq!(meaning(from_file), meaning(from_flags));
}

#[test]
fn the_command_line_overrides_the_file() {
    let file = b"widths = [5, 3, 5]\nseed = 3\nsteps = 500\n";
    let args = dln(parse_with(&["estimate", "dln", "--config", FILE, "--seed", "4", "--widths", "6,2,6"], file));
    assert_eq!((args.common.seed, args.common.steps, args.network.widths.0), (4, 500, vec![6, 2, 6]));
    // Strings are the flags' text, numbers may be floats.
    let file = b"widths = \"5,3,5\"\nn = \"1e4\"\nsteps = 2e3\nepsilon = 1e-6\n";
    let args = dln(parse_with(&["estimate", "dln", "--config", FILE], file));
    assert_eq!((args.common.n, args.common.steps), (10_000, 2_000));
    assert_eq!(args.common.epsilon, Some(crate::args::EpsilonArg::Fixed(1e-6)));
}

#[test]
fn calibrate_reads_its_grid_from_the_file() {
    let file = b"widths = [5, 4, 3]\nepsilons = [1e-6, 1e-5]\ngammas = [0, 1.5]\nout = \"cal\"\n";
    let Ok(Cli { command: Command::Calibrate(crate::args::CalibrateCommand::Dln(args)) }) =
        parse_with(&["calibrate", "dln", "--config", FILE], file)
    else {
        panic!("llc calibrate dln --config refused");
    };
    assert_eq!(args.grid.epsilons.map(|g| g.0), Some(vec![1e-6, 1e-5]));
    assert_eq!(args.grid.gammas.map(|g| g.0), Some(vec![0.0, 1.5]));
    assert_eq!(args.grid.out, std::path::PathBuf::from("cal"));
}

#[test]
fn bad_files_are_refused_on_one_line_naming_the_key() {
    let cases: &[(&str, &str)] = &[
        ("widths = [5, 3, 5]\nbogus = 1\n", "run.toml: line 2: key 'bogus': unknown key"),
        ("widths = [5, 3, 5]\nburn_in = 1\n", "key 'burn_in': unknown key; keys are spelled as the flags: 'burn-in'"),
        ("widths = [5, 3, 5]\nsteps = true\n", "key 'steps': expected a number, got a boolean"),
        ("widths = [5, 3, 5]\nsteps = 0\n", "key 'steps': invalid value '0'"),
        ("widths = [5, 3, 5]\nepsilon = nan\n", "key 'epsilon': invalid value 'NaN'"),
        ("widths = [5, 3, 5]\ngamma = -inf\n", "key 'gamma': invalid value '-inf'"),
        ("widths = []\n", "key 'widths': invalid value '' for '--widths <H1,H2,...>'"),
        ("widths = [5, \"3\"]\n", "key 'widths': item 2 is a string"),
        ("widths = [5, 3.5]\n", "is not a positive integer"),
        ("widths = [5, 3, 5]\nsampler = 3\n", "key 'sampler': expected a string, got an integer"),
        ("widths = [5, 3, 5]\n[sampler]\nname = \"sgld\"\n", "key 'sampler': expected a string, got a table"),
        ("widths = [5, 3, 5]\nseed = 1979-05-27\n", "key 'seed': expected a number, got a datetime"),
        ("widths = [5, 3, 5]\njson = 1\n", "key 'json': expected true or false"),
        ("widths = [5, 3, 5]\nconfig = \"x.toml\"\n", "key 'config': a config file cannot name another"),
        ("widths = [5, 3, 5]\nsteps =\n", "run.toml: line 2, column 8:"),
        ("widths = [5, 3, 5]\nsteps = 1\nsteps = 2\n", "line 3, column 1: duplicate key"),
        ("widths = [5, 3, 5]\nrank = 1\nteacher = \"paper-random\"\n", "run.toml: the argument '--rank <R>'"),
        ("widths = [5, 3, 5]\nrescale = 2\n", "key 'rescale': unknown key"),
        ("\"a\\nb\" = 1\n", "key 'a\\nb': unknown key"),
    ];
    for (file, fragment) in cases {
        let line = refusal(parse_with(&["estimate", "dln", "--config", FILE], file.as_bytes()));
        assert!(line.starts_with("error: run.toml: "), "{file:?}: {line}");
        assert!(line.contains(fragment), "{file:?}: {line:?} should contain {fragment:?}");
    }
    let line = refusal(parse_with(&["calibrate", "dln", "--config", FILE], b"widths = [5, 3, 5]\nepsilon = 1e-7\n"));
    assert!(line.contains("key 'epsilon': llc calibrate has no --epsilon"), "{line}");
    let line = refusal(parse_with(&["estimate", "dln", "--config", "missing.toml"], b""));
    assert!(line.starts_with("error: missing.toml: cannot read the config file: No such file"), "{line}");
    let line = refusal(parse_with(&["estimate", "dln", "--config", FILE], b"widths = [5, 3, 5]\n\xff\n"));
    assert!(line.contains("not UTF-8 text (from byte 19)"), "{line}");
    // A mistake on the command line is reported as clap reports it, before the file is read.
    let line = refusal(parse_with(&["estimate", "dln", "--config", "missing.toml", "--bogus"], b""));
    assert!(line.contains("unexpected argument '--bogus'"), "{line}");
}

#[test]
fn only_regular_files_of_modest_size_are_read() {
    let dir = std::env::temp_dir().join(format!("llc-config-read-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    assert_eq!(super::read_file(&dir).unwrap_err().to_string(), "it is a directory");
    let big = dir.join("big.toml");
    std::fs::write(&big, vec![b'#'; super::MAX_FILE_BYTES as usize + 1]).unwrap();
    assert!(super::read_file(&big).unwrap_err().to_string().contains("larger than 1024 KiB"));
    let small = dir.join("small.toml");
    std::fs::write(&small, b"seed = 1\n").unwrap();
    assert_eq!(super::read_file(&small).unwrap(), b"seed = 1\n");
    #[cfg(unix)]
    assert_eq!(super::read_file(Path::new("/dev/null")).unwrap_err().to_string(), "it is not a regular file");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The keys of `llc estimate dln`'s config files.
fn accepted_keys() -> Vec<String> {
    let command = Cli::command();
    let dln = command.find_subcommand("estimate").and_then(|c| c.find_subcommand("dln")).expect("llc estimate dln");
    dln.get_arguments()
        .filter(|a| !a.is_hide_set())
        .filter_map(|a| a.get_long())
        .filter(|long| !matches!(*long, "help" | "version" | "config"))
        .map(String::from)
        .collect()
}

/// One generated setting: its key, its text as a flag (`None` for a switch) and its value in a file.
#[derive(Debug, Clone)]
struct Setting {
    key: &'static str,
    flag: Option<String>,
    file: Value,
}

/// An integer setting, written in the file as an integer, a float or a string (a float only for the
/// counts, whose flags accept whole numbers such as 1e5 or 12.0; --rank takes digits only).
fn count(key: &'static str, range: std::ops::Range<u32>) -> BoxedStrategy<Setting> {
    let forms = if key == "rank" { vec![0u8, 2] } else { vec![0, 1, 2] };
    (range, proptest::sample::select(forms))
        .prop_map(move |(v, form)| Setting {
            key,
            flag: Some(v.to_string()),
            file: match form {
                0 => Value::Integer(v.into()),
                1 => Value::Float(v.into()),
                _ => Value::String(v.to_string()),
            },
        })
        .boxed()
}

/// A real setting, as a float (or a string) in the file and in exponent form as a flag.
fn real(key: &'static str, range: std::ops::Range<f64>) -> BoxedStrategy<Setting> {
    (range, any::<bool>())
        .prop_map(move |(v, string)| Setting {
            key,
            flag: Some(format!("{v:e}")),
            file: if string { Value::String(v.to_string()) } else { Value::Float(v) },
        })
        .boxed()
}

/// A named setting (a string in the file).
fn word(key: &'static str, names: &'static [&'static str]) -> BoxedStrategy<Setting> {
    proptest::sample::select(names)
        .prop_map(move |name| Setting { key, flag: Some(name.to_string()), file: Value::String(name.to_string()) })
        .boxed()
}

fn switch(key: &'static str) -> BoxedStrategy<Setting> {
    any::<bool>().prop_map(move |on| Setting { key, flag: None, file: Value::Boolean(on) }).boxed()
}

/// Any valid value of any key of `llc estimate dln` (--rank and --teacher exclude each other, so
/// only --rank is generated).
fn setting() -> impl Strategy<Value = Setting> {
    let widths = (proptest::collection::vec(1u32..40, 2..6), any::<bool>()).prop_map(|(w, array)| {
        let text = w.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
        let file = if array {
            Value::Array(w.iter().map(|&v| Value::Integer(v.into())).collect())
        } else {
            Value::String(text.clone())
        };
        Setting { key: "widths", flag: Some(text), file }
    });
    let seed = any::<u64>().prop_map(|s| Setting {
        key: "seed",
        flag: Some(s.to_string()),
        file: i64::try_from(s).map_or_else(|_| Value::String(s.to_string()), Value::Integer),
    });
    let epsilon = prop_oneof![
        Just(Setting { key: "epsilon", flag: Some("auto".into()), file: Value::String("auto".into()) }),
        real("epsilon", 1e-12..1e-2),
    ];
    prop_oneof![
        widths,
        seed,
        epsilon,
        count("rank", 0..6),
        count("stack", 1..4),
        count("n", 1..10_000_000),
        count("steps", 1..1_000_000),
        count("burn-in", 0..1_000_000),
        real("target-acceptance", 0.01..0.99),
        real("max-bias", 1e-4..1.0),
        count("max-restarts", 0..20),
        real("gamma", 0.0..1e3),
        real("nbeta", 1e-3..1e7),
        count("batch", 1..10_000),
        count("chains", 1..16),
        word("sampler", &["sgld", "rmsprop-sgld", "rmsprop-sgld-bias-corrected", "mala"]),
        word("draw-loss", &["minibatch", "full"]),
        count("acceptance-every", 0..100),
        word("data", &["auto", "materialized", "streaming"]),
        word("device", &["cpu", "cuda"]),
        switch("json"),
        switch("quiet"),
    ]
}

/// Settings with distinct keys.
fn settings() -> impl Strategy<Value = Vec<Setting>> {
    proptest::collection::vec(setting(), 0..12).prop_map(|all| {
        let mut seen = std::collections::BTreeSet::new();
        all.into_iter().filter(|s| seen.insert(s.key)).collect()
    })
}

fn as_flags(settings: &[Setting]) -> Vec<String> {
    settings
        .iter()
        .filter_map(|s| match (&s.file, &s.flag) {
            (Value::Boolean(on), _) => on.then(|| format!("--{}", s.key)),
            (_, Some(text)) => Some(format!("--{}={text}", s.key)),
            (_, None) => None,
        })
        .collect()
}

fn as_file(settings: &[Setting]) -> String {
    let table: toml::Table = settings.iter().map(|s| (s.key.to_string(), s.file.clone())).collect();
    toml::to_string(&table).expect("a table of plain values serializes")
}

/// A key that is not a setting of `llc estimate dln`.
fn unknown_key() -> impl Strategy<Value = String> {
    let accepted = accepted_keys();
    prop_oneof!["[a-z][a-z_-]{0,15}", "\\PC{0,12}", any::<String>()]
        .prop_filter("a key that is a setting", move |k| !accepted.contains(k) && k != "config")
}

/// A TOML document of accepted and other keys with values of every type, valid or not.
fn hostile_file() -> impl Strategy<Value = String> {
    let keys = accepted_keys();
    let key = prop_oneof![proptest::sample::select(keys), "[a-z_-]{1,10}"];
    let value = proptest::sample::select(vec![
        "1",
        "-1",
        "0",
        "nan",
        "-nan",
        "inf",
        "-inf",
        "1.5",
        "1e300",
        "1e-320",
        "2.5e-7",
        "9223372036854775807",
        "\"x\"",
        "\"auto\"",
        "\"\"",
        "\"5,3,5\"",
        "\"-1\"",
        "\"1e5\"",
        "true",
        "false",
        "[]",
        "[5, 3, 5]",
        "[0]",
        "[1, [2]]",
        "[\"a\"]",
        "[1.5, nan]",
        "{ a = 1 }",
        "1979-05-27",
        "0x10",
        "1_000",
        "'''\nmulti\n'''",
    ]);
    proptest::collection::vec((key, value), 0..8)
        .prop_map(|pairs| pairs.into_iter().map(|(k, v)| format!("{k} = {v}\n")).collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, failure_persistence: None, ..ProptestConfig::default() })]

    /// (a) Settings in a file, with some given on the command line too, mean what the same flags
    /// mean, the command line's winning.
    #[test]
    fn a_file_means_what_its_flags_mean(file in settings(), line in settings(), widths_in_file in any::<bool>()) {
        let mut file = file;
        // A switch that the file sets cannot be unset on the command line (there is no --no-json),
        // so the command line's switches are only ever set.
        let mut line: Vec<Setting> = line.into_iter().filter(|s| s.file != Value::Boolean(false)).collect();
        let widths = Setting { key: "widths", flag: Some("5,3,5".into()), file: Value::Array(vec![5.into(), 3.into(), 5.into()]) };
        let target = if widths_in_file { &mut file } else { &mut line };
        if !target.iter().any(|s| s.key == "widths") {
            target.push(widths);
        }
        let text = as_file(&file);
        let mut args: Vec<String> = ["estimate", "dln", "--config", FILE].map(String::from).to_vec();
        args.extend(as_flags(&line));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let from_file = dln(parse_with(&args, text.as_bytes()));

        let mut merged: Vec<Setting> = file.iter().filter(|f| line.iter().all(|l| l.key != f.key)).cloned().collect();
        merged.extend(line.iter().cloned());
        let mut args: Vec<String> = ["estimate", "dln"].map(String::from).to_vec();
        args.extend(as_flags(&merged));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let from_flags = dln(parse_with(&args, b""));
        prop_assert_eq!(meaning(from_file), meaning(from_flags), "file:\n{}", text);
    }

    /// (b) A key that is not a setting is refused, and the message names it.
    #[test]
    fn unknown_keys_are_named(key in unknown_key(), value in prop_oneof![Just(Value::Integer(1)), Just(Value::Boolean(true)), Just(Value::String("x".into()))]) {
        let table: toml::Table = [(key.clone(), value)].into_iter().collect();
        let text = toml::to_string(&table).expect("any key serializes");
        let line = refusal(parse_with(&["estimate", "dln", "--widths", "5,3,5", "--config", FILE], text.as_bytes()));
        let named = format!("error: run.toml: line 1: key '{}': unknown key", escape_controls(&key));
        prop_assert!(line.starts_with(&named), "{:?} should start with {:?}", line, named);
    }

    /// (c) Arbitrary bytes as a config file never panic: they parse, or are refused on one line
    /// that names the file.
    #[test]
    fn arbitrary_bytes_are_parsed_or_refused_on_one_line(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        check_arbitrary(&bytes)?;
    }

    #[test]
    fn arbitrary_text_is_parsed_or_refused_on_one_line(text in any::<String>()) {
        check_arbitrary(text.as_bytes())?;
    }

    #[test]
    fn hostile_documents_are_parsed_or_refused_on_one_line(text in hostile_file()) {
        check_arbitrary(text.as_bytes())?;
    }

    /// (e) A value is accepted in a file exactly when its flag accepts the same text, with the
    /// same meaning.
    #[test]
    fn a_value_is_valid_in_a_file_exactly_when_it_is_valid_as_a_flag(
        key in proptest::sample::select(accepted_keys()),
        text in prop_oneof!["[-+0-9.eE,a-z ]{0,12}", "\\PC{0,10}", Just("auto".to_string()), Just("5,3,5".to_string())],
    ) {
        prop_assume!(key != "json" && key != "quiet");
        let flag = format!("--{key}={text}");
        let mut args = vec!["estimate", "dln", &flag];
        if key != "widths" {
            args.extend(["--widths", "4,2,4"]);
        }
        let as_flag = parse_with(&args, b"");
        let table: toml::Table = [(key.clone(), Value::String(text.clone()))].into_iter().collect();
        let file = toml::to_string(&table).expect("a string serializes");
        let widths_flag = if key == "widths" { vec![] } else { vec!["--widths", "4,2,4"] };
        let mut args = vec!["estimate", "dln", "--config", FILE];
        args.extend(widths_flag);
        let in_file = parse_with(&args, file.as_bytes());
        match (as_flag, in_file) {
            (Ok(a), Ok(b)) => {
                let (Command::Estimate(EstimateCommand::Dln(a)), Command::Estimate(EstimateCommand::Dln(b))) = (a.command, b.command) else {
                    panic!("not llc estimate dln");
                };
                prop_assert_eq!(meaning(a), meaning(b));
            }
            (Err(_), Err(e)) => prop_assert!(error_line(&e).contains(&format!("key '{key}'")), "{}", error_line(&e)),
            (a, b) => prop_assert!(false, "{flag}: as a flag {:?}, in a file {:?}", a.map(|_| ()).map_err(|e| error_line(&e)), b.map(|_| ()).map_err(|e| error_line(&e))),
        }
    }
}

fn check_arbitrary(bytes: &[u8]) -> Result<(), TestCaseError> {
    for command in [["estimate", "dln"], ["calibrate", "mlp"]] {
        let args = [command[0], command[1], "--widths", "5,3,5", "--config", FILE];
        if let Err(e) = parse_with(&args, bytes) {
            let line = error_line(&e);
            prop_assert!(!line.contains('\n') && !line.contains('\r'), "{:?}", line);
            prop_assert!(line.starts_with("error: "), "{}", line);
            if let ParseError::Refused(_) = e {
                prop_assert!(line.starts_with("error: run.toml: "), "{}", line);
            }
        }
    }
    Ok(())
}

#[test]
fn the_key_list_is_what_the_docs_say() {
    let keys = accepted_keys();
    for key in ["widths", "rank", "teacher", "stack", "seed", "n", "steps", "burn-in", "epsilon", "target-acceptance"] {
        assert!(keys.iter().any(|k| k == key), "{key} missing from {keys:?}");
    }
    let kinds: BTreeMap<String, super::Kind> = {
        let command = Cli::command();
        let dln = command.find_subcommand("estimate").and_then(|c| c.find_subcommand("dln")).unwrap();
        dln.get_arguments().filter_map(|a| Some((a.get_long()?.to_string(), super::kind(a)))).collect()
    };
    assert_eq!(kinds["widths"], super::Kind::List);
    assert_eq!(kinds["epsilon"], super::Kind::Number);
    assert_eq!(kinds["seed"], super::Kind::Number);
    assert_eq!(kinds["sampler"], super::Kind::Word);
    assert_eq!(kinds["json"], super::Kind::Switch);
}
