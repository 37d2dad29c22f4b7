//! OpenBLAS's settings for the `blas` build: its core type and thread count, fixed before it loads.
//!
//! With the `blas` feature, burn-ndarray's matrix products go through the system's OpenBLAS. On
//! the project's 2-core Xeon VM a 1024³ f32 GEMM runs at about 70 GFLOP/s with burn-ndarray's
//! default (matrixmultiply) and at about 125 GFLOP/s with Debian's OpenBLAS 0.3.21 on one thread,
//! but only when `OPENBLAS_CORETYPE=SkylakeX` is set: OpenBLAS's CPU detection does not recognise
//! this Xeon, falls back to its "Prescott" kernels (`OPENBLAS_VERBOSE=2` prints `Core: Prescott`)
//! and reaches about 17 GFLOP/s. Each estimation run is one chain on one thread (and `cargo xtask
//! reproduce` runs one run per core), so OpenBLAS's own threads would only compete with them:
//! `OPENBLAS_NUM_THREADS=1` as well.
//!
//! OpenBLAS reads both variables in a library constructor, before `main` runs, so setting them
//! from inside the process is too late (and `std::env::set_var` is `unsafe` in Rust 2024, which
//! the workspace forbids). Instead the binary starts itself again with the variables set, once:
//! the child finds them set and goes on. A variable the user set is never overridden. Both
//! binaries, `llc` and `cargo xtask`, call [`reexec_with_settings`] first thing in `main` when
//! they are built with their `blas` feature (which turns on this crate's).

use std::process::{Command, ExitCode};

/// The variables to add to the environment: `OPENBLAS_CORETYPE=SkylakeX` when it is unset and the
/// CPU runs OpenBLAS's SkylakeX kernels (AVX-512 F, CD, BW, DQ and VL, x86_64 only), and
/// `OPENBLAS_NUM_THREADS=1` when it is unset.
fn missing_settings() -> Vec<(&'static str, &'static str)> {
    let mut settings = Vec::new();
    if std::env::var_os("OPENBLAS_CORETYPE").is_none() && runs_skylakex_kernels() {
        settings.push(("OPENBLAS_CORETYPE", "SkylakeX"));
    }
    if std::env::var_os("OPENBLAS_NUM_THREADS").is_none() {
        settings.push(("OPENBLAS_NUM_THREADS", "1"));
    }
    settings
}

/// Whether the CPU has the AVX-512 subsets that OpenBLAS's SkylakeX kernels use.
fn runs_skylakex_kernels() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512cd")
            && std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("avx512dq")
            && std::arch::is_x86_feature_detected!("avx512vl")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Re-executes this binary with the same arguments and OpenBLAS's missing settings, if any are
/// missing, and returns the child's exit status; `None` means this process should go on (nothing
/// was missing, or the child could not be started, which is reported as a warning).
pub fn reexec_with_settings() -> Option<ExitCode> {
    let settings = missing_settings();
    if settings.is_empty() {
        return None;
    }
    let warn = |what: &str| {
        eprintln!("warning: {what}; OpenBLAS keeps its own core type and thread count");
    };
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            warn(&format!("cannot find this executable to restart it ({e})"));
            return None;
        }
    };
    // stdin, stdout and stderr are inherited, so the child reads and writes what this process would.
    match Command::new(&exe).args(std::env::args_os().skip(1)).envs(settings).status() {
        Ok(status) => Some(exit_code(status)),
        Err(e) => {
            warn(&format!("cannot restart {} ({e})", exe.display()));
            None
        }
    }
}

/// The child's exit status as this process's: its code, or 128 + the signal that ended it.
fn exit_code(status: std::process::ExitStatus) -> ExitCode {
    #[cfg(unix)]
    let signal = std::os::unix::process::ExitStatusExt::signal(&status);
    #[cfg(not(unix))]
    let signal: Option<i32> = None;
    let code = status.code().or(signal.map(|s| 128 + s)).unwrap_or(1);
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
