//! Run records: one JSON object per line, appended and flushed the moment a run finishes, so an
//! interrupted reproduce loses at most the runs in flight.
//!
//! A suite's directory holds `runs.jsonl` (unsharded runs) and `runs.shard-K-of-N.jsonl` (one per
//! shard of a job array, so that shards never write the same file). Loading reads every
//! `runs*.jsonl` there, which is how the final pass merges the shards. Each record carries the
//! fingerprint of the settings it ran with; a record whose settings no longer match the config is
//! ignored (and its run is done again), and a torn last line from a killed process is skipped.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// One finished run: what was asked (`spec`) and what came out (`result`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Record<S, R> {
    /// The run's name, unique within its suite and scale.
    pub(crate) id: String,
    /// Fingerprint of `spec` (FNV-1a of its JSON form).
    pub(crate) fingerprint: String,
    /// The run's complete settings.
    pub(crate) spec: S,
    /// What it measured.
    pub(crate) result: R,
}

/// FNV-1a (64-bit) of the JSON form of `value`, as 16 hex digits: stable across runs and
/// platforms, unlike `std`'s hasher.
pub(crate) fn fingerprint<T: Serialize>(value: &T) -> String {
    let json = serde_json::to_string(value).unwrap_or_default();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in json.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// What [`load`] found in a suite directory.
pub(crate) struct Loaded<S, R> {
    /// The valid records by id (the last one wins if an id appears twice).
    pub(crate) records: HashMap<String, Record<S, R>>,
    /// Lines that could not be parsed (a torn write) or whose fingerprint is stale.
    pub(crate) skipped: usize,
}

/// Reads every `runs*.jsonl` in `dir`, keeping records whose fingerprint matches
/// `expected(id)` (the fingerprint of the planned run of that id; `None`: not planned, ignored).
pub(crate) fn load<S, R>(dir: &Path, expected: impl Fn(&str) -> Option<String>) -> Result<Loaded<S, R>, String>
where
    S: DeserializeOwned,
    R: DeserializeOwned,
{
    let mut loaded = Loaded { records: HashMap::new(), skipped: 0 };
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(loaded),
        Err(e) => return Err(format!("cannot read {}: {e}", dir.display())),
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("runs") && n.ends_with(".jsonl"))
        })
        .collect();
    files.sort();
    for path in files {
        let file = File::open(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        for line in BufReader::new(file).lines() {
            let line = line.map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<Record<S, R>>(&line) {
                Ok(record) if expected(&record.id).as_deref() == Some(record.fingerprint.as_str()) => {
                    loaded.records.insert(record.id.clone(), record);
                }
                _ => loaded.skipped += 1,
            }
        }
    }
    Ok(loaded)
}

/// Appends records to one file, one line each, flushed and synced at once; shared by the
/// worker threads.
pub(crate) struct Appender {
    path: PathBuf,
    file: Mutex<File>,
}

impl Appender {
    /// Opens (creating) `dir/name` for appending; `dir` is created too.
    pub(crate) fn open(dir: &Path, name: &str) -> Result<Self, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let path = dir.join(name);
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok(Self { path, file: Mutex::new(file) })
    }

    /// Writes one record as one line (a single write, so a crash leaves at most a torn last line).
    pub(crate) fn append<S: Serialize, R: Serialize>(&self, record: &Record<S, R>) -> Result<(), String> {
        let mut line = serde_json::to_string(record).map_err(|e| format!("cannot encode record {}: {e}", record.id))?;
        line.push('\n');
        let mut file = self.file.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        file.write_all(line.as_bytes())
            .and_then(|()| file.flush())
            .and_then(|()| file.sync_data())
            .map_err(|e| format!("cannot write {}: {e}", self.path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("llc-xtask-records-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn records_round_trip_and_stale_or_torn_lines_are_skipped() {
        let dir = temp_dir("round-trip");
        let appender = Appender::open(&dir, "runs.jsonl").unwrap();
        let a = Record { id: "a".into(), fingerprint: fingerprint(&1u32), spec: 1u32, result: 10.0f64 };
        let b = Record { id: "b".into(), fingerprint: fingerprint(&2u32), spec: 2u32, result: 20.0f64 };
        appender.append(&a).unwrap();
        appender.append(&b).unwrap();
        // A shard file and a torn line, as a killed process leaves it.
        let shard = Appender::open(&dir, "runs.shard-2-of-2.jsonl").unwrap();
        let c = Record { id: "c".into(), fingerprint: fingerprint(&3u32), spec: 3u32, result: 30.0f64 };
        shard.append(&c).unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(dir.join("runs.jsonl"))
            .unwrap()
            .write_all(b"{\"id\":\"d\",\"finger")
            .unwrap();

        // Run "b" is now planned with other settings: its record is stale.
        let expected = |id: &str| match id {
            "a" => Some(fingerprint(&1u32)),
            "b" => Some(fingerprint(&22u32)),
            "c" => Some(fingerprint(&3u32)),
            _ => None,
        };
        let loaded: Loaded<u32, f64> = load(&dir, expected).unwrap();
        let mut ids: Vec<&String> = loaded.records.keys().collect();
        ids.sort();
        assert_eq!(ids, ["a", "c"]);
        assert_eq!(loaded.records["c"].result, 30.0);
        assert_eq!(loaded.skipped, 2, "the stale record of b and the torn line");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_missing_directory_has_no_records() {
        let loaded: Loaded<u32, f64> = load(&temp_dir("missing"), |_| None).unwrap();
        assert!(loaded.records.is_empty());
    }

    #[test]
    fn fingerprints_are_stable_and_distinguish_settings() {
        assert_eq!(fingerprint(&(1, "x")), fingerprint(&(1, "x")));
        assert_ne!(fingerprint(&(1, "x")), fingerprint(&(2, "x")));
    }
}
