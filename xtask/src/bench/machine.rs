//! What the benchmarks record about the machine and the process: the CPU, the core count, the date,
//! and the resident set size from `/proc/self/status` (Linux only; elsewhere `None`, printed as
//! "n/a").

use serde::Serialize;

/// The machine a measurement ran on, for the header of the table and the JSON files.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Machine {
    /// The CPU model (`model name` in /proc/cpuinfo), or "unknown CPU".
    pub(crate) cpu: String,
    /// Logical cores this process may use.
    pub(crate) cores: usize,
    /// When the measurement started, in UTC (`YYYY-MM-DD HH:MM UTC`).
    pub(crate) date: String,
    /// The backend, e.g. "CPU (burn-ndarray, f32)" (`llc_app::AppBackend::NAME`).
    pub(crate) backend: &'static str,
}

impl Machine {
    /// This machine, now, running on `backend`.
    pub(crate) fn here(backend: &'static str) -> Self {
        Self {
            cpu: cpu_model().unwrap_or_else(|| "unknown CPU".into()),
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            date: utc_now(),
            backend,
        }
    }

    /// One line: `AMD EPYC 9R14, 2 cores, 2025-01-01 12:00 UTC, CPU (burn-ndarray, f32)`.
    pub(crate) fn line(&self) -> String {
        format!("{}, {} cores, {}, {}", self.cpu, self.cores, self.date, self.backend)
    }
}

/// The first `model name` of /proc/cpuinfo.
fn cpu_model() -> Option<String> {
    let text = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    text.lines()
        .find(|line| line.starts_with("model name"))
        .and_then(|line| line.split_once(':'))
        .map(|(_, name)| name.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|name| !name.is_empty())
}

/// The current time in UTC as `YYYY-MM-DD HH:MM UTC` (from the system clock, with the civil-date
/// conversion of H. Hinnant's `civil_from_days`).
fn utc_now() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02} UTC", rest / 3600, rest % 3600 / 60)
}

/// The (year, month, day) of the proleptic Gregorian calendar `days` days after 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// A field of /proc/self/status in MiB (`VmRSS`: resident now; `VmHWM`: the peak so far), or
/// `None` where there is no such file (not Linux) or no such field.
pub(crate) fn status_mib(field: &str) -> Option<f64> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = text.lines().find(|line| line.strip_prefix(field).is_some_and(|rest| rest.starts_with(':')))?;
    // The line reads `VmRSS:	  123456 kB`.
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// The resident set size now, in MiB.
pub(crate) fn rss_mib() -> Option<f64> {
    status_mib("VmRSS")
}

/// The peak resident set size of this process so far, in MiB.
pub(crate) fn peak_rss_mib() -> Option<f64> {
    status_mib("VmHWM")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_match_known_days() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }

    #[test]
    fn the_resident_set_is_read_on_linux() {
        if cfg!(target_os = "linux") {
            let (now, peak) = (rss_mib().unwrap(), peak_rss_mib().unwrap());
            assert!(now > 0.0 && peak >= now, "{now} {peak}");
        } else {
            assert!(rss_mib().is_none());
        }
    }
}
