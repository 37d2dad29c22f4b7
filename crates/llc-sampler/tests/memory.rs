//! Memory stays flat over a long chain. These tests live in their own test binary: resident memory is
//! a property of the whole process, and the other sampler tests (one of them builds a 10⁶-parameter
//! model) would otherwise run in parallel threads of the same process and move it by tens of MB.
#![cfg(target_os = "linux")]

use std::sync::Mutex;

use llc_sampler::{MalaChain, MalaConfig, NoiseSource, RmsPropConfig, SgldChain, SgldConfig};

mod common;

use common::{quadratic, quadratic_loss};

/// The two tests take turns, so that one's warm-up allocations never fall inside the other's window.
static ALONE: Mutex<()> = Mutex::new(());

/// The resident set size of this process in kB.
fn rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Memory stays flat: the autodiff graph must not grow across steps. Resident memory after 20,000
/// further steps may move by allocator noise but not by a per-step leak (a leaked graph node per
/// step would add well over 10 MB here).
#[test]
fn an_sgld_chain_keeps_memory_flat_over_many_steps() {
    let _alone = ALONE.lock().unwrap_or_else(|e| e.into_inner());
    let config = SgldConfig { epsilon: 1e-4, gamma: 1.0, n_beta: 10.0, rmsprop: Some(RmsPropConfig::default()) };
    let start = vec![0.1f32; 256];
    let a = vec![1.0f32; 256];
    let mut chain = SgldChain::new(quadratic(&start), config, NoiseSource::host(0, 0)).unwrap();
    let loss = quadratic_loss(&a);
    for _ in 0..2_000 {
        chain.step(&loss, true);
    }
    let before = rss_kb();
    for step in 0..20_000 {
        chain.step(&loss, step % 20 == 0);
    }
    let after = rss_kb();
    assert!(after < before + 10_240, "resident memory grew from {before} kB to {after} kB");
}

/// The autodiff graph must not grow across steps (accepted or rejected): resident memory after
/// 10,000 further steps may move by allocator noise, not by a per-step leak.
#[test]
fn a_mala_chain_keeps_memory_flat_over_many_steps() {
    let _alone = ALONE.lock().unwrap_or_else(|e| e.into_inner());
    let config = MalaConfig { epsilon: 1e-3, gamma: 1.0, n_beta: 10.0 };
    let a = vec![1.0f32; 256];
    let mut chain = MalaChain::new(quadratic(&[0.1f32; 256]), config, NoiseSource::host(0, 0)).unwrap();
    let loss = quadratic_loss(&a);
    for _ in 0..1_000 {
        chain.step(&loss);
    }
    let before = rss_kb();
    for _ in 0..10_000 {
        chain.step(&loss);
    }
    let after = rss_kb();
    let rate = chain.acceptance_rate().unwrap();
    assert!(rate > 0.0 && rate < 1.0, "both branches exercised: rate {rate}");
    assert!(after < before + 10_240, "resident memory grew from {before} kB to {after} kB");
}
