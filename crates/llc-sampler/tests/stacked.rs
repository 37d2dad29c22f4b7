//! Stacked chains (`SgldChains`) against separate chains, and the fused host update against the
//! device update: the same rule, the same noise, the same result up to f32 rounding.

use burn::backend::{Autodiff, NdArray};
use burn::module::{Module, Param};
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use llc_sampler::{
    ChainMismatch, DiagonalPreconditioner, NoiseSource, RmsPropConfig, RmsPropVariant, SamplerError, SgldChain,
    SgldChains, SgldConfig,
};

type B = Autodiff<NdArray>;

/// C parameter vectors stacked as one `[C, d]` parameter; chain c's loss is ½ Σ a_i w_{c,i}².
#[derive(Module, Debug)]
struct Stacked<B: Backend> {
    w: Param<Tensor<B, 2>>,
}

/// One parameter vector with the same loss, for the separate chains.
#[derive(Module, Debug)]
struct Single<B: Backend> {
    w: Param<Tensor<B, 1>>,
}

const A: [f32; 4] = [1.0, 2.0, 3.0, 4.0];
const START: [f32; 4] = [0.5, -1.0, 0.25, 2.0];

fn curvature<K: Backend>() -> Tensor<K, 1> {
    Tensor::from_data(TensorData::new(A.to_vec(), [4]), &Default::default())
}

fn stacked(copies: usize) -> Stacked<B> {
    let values: Vec<f32> = (0..copies).flat_map(|_| START).collect();
    Stacked { w: Param::from_tensor(Tensor::from_data(TensorData::new(values, [copies, 4]), &Default::default())) }
}

fn single() -> Single<B> {
    Single { w: Param::from_tensor(Tensor::from_data(TensorData::new(START.to_vec(), [4]), &Default::default())) }
}

fn stacked_loss(m: &Stacked<B>) -> Tensor<B, 1> {
    let copies = m.w.dims()[0];
    (m.w.val().square() * curvature::<B>().reshape([1, 4])).sum_dim(1).reshape([copies]).mul_scalar(0.5)
}

fn single_loss(m: &Single<B>) -> Tensor<B, 1> {
    (m.w.val().square() * curvature::<B>()).sum().mul_scalar(0.5)
}

fn rows(m: &Stacked<B>) -> Vec<Vec<f32>> {
    let copies = m.w.dims()[0];
    let values = m.w.val().into_data().to_vec::<f32>().unwrap();
    values.chunks(values.len() / copies).map(<[f32]>::to_vec).collect()
}

fn host_noise(seed: u64, copies: usize) -> Vec<NoiseSource> {
    (0..copies).map(|c| NoiseSource::host(seed, c as u64)).collect()
}

fn close(a: f64, b: f64, tolerance: f64) -> bool {
    (a - b).abs() <= tolerance * (1.0 + a.abs().max(b.abs()))
}

fn configs() -> Vec<(&'static str, SgldConfig)> {
    let plain = SgldConfig { epsilon: 2e-3, gamma: 1.0, n_beta: 50.0, rmsprop: None };
    let rms = |variant| SgldConfig {
        rmsprop: Some(RmsPropConfig { variant, alpha: 0.9, stabilizer: 0.1 }),
        epsilon: 1e-2,
        ..plain
    };
    vec![
        ("plain", plain),
        ("rmsprop (devinterp)", rms(RmsPropVariant::Devinterp)),
        ("rmsprop (bias-corrected)", rms(RmsPropVariant::BiasCorrected)),
    ]
}

#[test]
fn stacked_chains_match_separate_chains() {
    // Chain c of the stack draws the same noise as a separate chain c, so the two agree up to the
    // rounding of the reductions (the separate loss sums 4 values, the stacked one sums a row).
    let copies = 3;
    for (name, config) in configs() {
        let mut stack = SgldChains::new(stacked(copies), copies, config, host_noise(9, copies)).unwrap();
        let mut separate: Vec<_> =
            (0..copies).map(|c| SgldChain::new(single(), config, NoiseSource::host(9, c as u64)).unwrap()).collect();
        for step in 0..60 {
            let with_acceptance = step % 3 == 0;
            let report = stack.step(stacked_loss, with_acceptance);
            for (c, chain) in separate.iter_mut().enumerate() {
                let own = chain.step(single_loss, with_acceptance);
                assert!(close(own.loss, report.losses[c], 1e-5), "{name}, step {step}, chain {c}");
                if let (Some(a), Some(b)) = (own.mala_acceptance, report.mala_acceptance.as_ref()) {
                    assert!(close(a, b[c], 1e-4), "{name}, step {step}, chain {c}: acceptance {a} vs {}", b[c]);
                }
            }
        }
        for (c, row) in rows(stack.module()).iter().enumerate() {
            let own = separate[c].module().w.val().into_data().to_vec::<f32>().unwrap();
            for (x, y) in row.iter().zip(&own) {
                assert!(close(f64::from(*x), f64::from(*y), 1e-5), "{name}, chain {c}: {row:?} vs {own:?}");
            }
        }
        // The chains are different chains: their noise streams differ.
        let end = rows(stack.module());
        assert_ne!(end[0], end[1]);
    }
}

#[test]
fn host_and_device_updates_agree() {
    // The fused host pass and the tensor operations compute the same rule from the same noise;
    // they differ only in the order of f32 operations, so 1e-5 relative is ample after 40 steps.
    let copies = 2;
    let mut cases = configs();
    cases.push(("diagonal P", SgldConfig { epsilon: 1e-3, gamma: 1.0, n_beta: 50.0, rmsprop: None }));
    for (name, config) in cases {
        let build = || {
            let model = stacked(copies);
            let mut chains = SgldChains::new(model.clone(), copies, config, host_noise(4, copies)).unwrap();
            if name == "diagonal P" {
                let p = vec![4.0, 0.25, 1.0, 2.0, 1.0, 0.5, 3.0, 1.0];
                let precond = DiagonalPreconditioner::in_visit_order(&model, vec![p]).unwrap();
                chains = chains.with_diagonal_preconditioner(precond).unwrap();
            }
            // Per-chain step sizes: the second chain takes half the first's.
            chains.set_epsilon(1, config.epsilon / 2.0).unwrap();
            chains
        };
        let mut host = build();
        let mut device = build().with_device_update();
        for step in 0..40 {
            let a = host.step(stacked_loss, step % 2 == 0);
            let b = device.step(stacked_loss, step % 2 == 0);
            for c in 0..copies {
                assert!(close(a.losses[c], b.losses[c], 1e-5), "{name}, step {step}: {a:?} vs {b:?}");
            }
            if let (Some(x), Some(y)) = (&a.mala_acceptance, &b.mala_acceptance) {
                for c in 0..copies {
                    assert!(close(x[c], y[c], 1e-4), "{name}, step {step}: {x:?} vs {y:?}");
                }
            }
        }
        for (x, y) in rows(host.module()).concat().iter().zip(rows(device.module()).concat()) {
            assert!(close(f64::from(*x), f64::from(y), 1e-5), "{name}: {x} vs {y}");
        }
    }
}

#[test]
fn a_diverging_chain_stays_put_while_the_others_move() {
    let copies = 3;
    let config = SgldConfig { epsilon: 1e-3, gamma: 1.0, n_beta: 50.0, rmsprop: None };
    // Chain 1's loss is NaN; the others are the usual quadratic.
    let poisoned = |m: &Stacked<B>| {
        let mask = Tensor::<B, 1>::from_data(TensorData::new(vec![0.0f32, f32::NAN, 0.0], [3]), &Default::default());
        stacked_loss(m) + mask
    };
    for device_update in [false, true] {
        let mut chains = SgldChains::new(stacked(copies), copies, config, host_noise(2, copies)).unwrap();
        if device_update {
            chains = chains.with_device_update();
        }
        let report = chains.step(poisoned, true);
        assert_eq!(report.moved, vec![true, false, true]);
        assert!(report.losses[1].is_nan());
        let acceptance = report.mala_acceptance.unwrap();
        assert!(acceptance[1].is_nan() && acceptance[0] > 0.0 && acceptance[2] > 0.0, "{acceptance:?}");
        let after = rows(chains.module());
        assert_eq!(after[1], START.to_vec(), "the diverged chain did not move");
        assert_ne!(after[0], START.to_vec());
        assert_ne!(after[2], START.to_vec());
        // A frozen chain no longer moves, even with a finite loss.
        chains.freeze(0);
        assert!(chains.is_frozen(0));
        let report = chains.step(stacked_loss, false);
        assert_eq!(report.moved, vec![false, true, true]);
        assert_eq!(rows(chains.module())[0], after[0]);
        assert_ne!(rows(chains.module())[1], after[1]);
    }
}

/// A restarted chain is back at w* with fresh RMSprop state and step count, and from there it is
/// exactly a new chain whose noise stream carries on where the old one stopped; the other chains
/// are untouched. Checked on both update paths (the host pass and the device tensor ops).
#[test]
fn a_restarted_chain_starts_over_at_the_anchor() {
    let copies = 2;
    let (before, after) = (30usize, 25usize);
    for (name, config) in configs() {
        for device_update in [false, true] {
            let mut chains = SgldChains::new(stacked(copies), copies, config, host_noise(5, copies)).unwrap();
            if device_update {
                chains = chains.with_device_update();
            }
            for _ in 0..before {
                chains.step(stacked_loss, false);
            }
            let moved = rows(chains.module());
            assert_ne!(moved[1], START.to_vec());
            chains.freeze(1);
            chains.restart(1);
            assert!(!chains.is_frozen(1), "a restart unfreezes the chain");
            assert_eq!(rows(chains.module()), vec![moved[0].clone(), START.to_vec()], "{name}");
            // The reference: a fresh chain at w* whose stream has skipped the draws chain 1 made.
            let mut noise = NoiseSource::host(5, 1);
            noise.normal::<NdArray>(before * START.len(), &Default::default());
            let mut fresh = SgldChain::new(single(), config, noise).unwrap();
            for step in 0..after {
                let report = chains.step(stacked_loss, step % 2 == 0);
                let own = fresh.step(single_loss, step % 2 == 0);
                assert!(close(own.loss, report.losses[1], 1e-5), "{name}, step {step}");
                if let (Some(a), Some(b)) = (own.mala_acceptance, report.mala_acceptance.as_ref()) {
                    assert!(close(a, b[1], 1e-4), "{name}, step {step}: acceptance {a} vs {}", b[1]);
                }
            }
            let own = fresh.module().w.val().into_data().to_vec::<f32>().unwrap();
            for (x, y) in rows(chains.module())[1].iter().zip(&own) {
                assert!(close(f64::from(*x), f64::from(*y), 1e-5), "{name} (device update {device_update})");
            }
        }
    }
}

#[test]
fn chains_that_do_not_fit_the_module_are_errors() {
    let config = SgldConfig { epsilon: 1e-3, gamma: 1.0, n_beta: 50.0, rmsprop: None };
    let mismatch = |result: Result<SgldChains<B, Stacked<B>>, SamplerError>| match result {
        Err(SamplerError::Chains(why)) => why,
        Err(other) => panic!("wrong error: {other}"),
        Ok(_) => panic!("accepted"),
    };
    let why = mismatch(SgldChains::new(stacked(2), 3, config, host_noise(0, 3)));
    assert_eq!(why, ChainMismatch::LeadingDimension { copies: 3, parameter: 0, shape: vec![2, 4] });
    assert!(why.to_string().contains("first dimension to be 3"), "{why}");
    let why = mismatch(SgldChains::new(stacked(3), 3, config, host_noise(0, 2)));
    assert_eq!(why, ChainMismatch::NoiseSources { copies: 3, given: 2, mixed: false });
    assert!(why.to_string().contains("3 host noise streams"), "{why}");
    let mut mixed = host_noise(0, 2);
    mixed.push(NoiseSource::Backend);
    let why = mismatch(SgldChains::new(stacked(3), 3, config, mixed));
    assert_eq!(why, ChainMismatch::NoiseSources { copies: 3, given: 3, mixed: true });
    assert!(why.to_string().contains("both kinds"), "{why}");
    assert_eq!(mismatch(SgldChains::new(stacked(1), 0, config, host_noise(0, 1))), ChainMismatch::NoChains);
    let mut chains = SgldChains::new(stacked(2), 2, config, host_noise(0, 2)).unwrap();
    assert!(chains.set_epsilon(0, -1.0).is_err());
    assert!(chains.set_epsilon(0, f64::NAN).is_err());
    chains.set_epsilon(1, 5e-4).unwrap();
    assert_eq!((chains.epsilon(0), chains.epsilon(1)), (1e-3, 5e-4));
}

#[test]
fn backend_noise_drives_the_device_update() {
    // With the backend's generator the chains still move, stay finite and differ from each other.
    let copies = 2;
    let config = SgldConfig { epsilon: 1e-3, gamma: 1.0, n_beta: 50.0, rmsprop: None };
    let device = Default::default();
    let noise = vec![NoiseSource::backend::<NdArray>(&device, 1, 0)];
    let mut chains = SgldChains::new(stacked(copies), copies, config, noise).unwrap();
    for _ in 0..20 {
        let report = chains.step(stacked_loss, true);
        assert!(report.losses.iter().all(|l| l.is_finite()));
        assert!(report.mala_acceptance.unwrap().iter().all(|a| (0.0..=1.0).contains(a)));
    }
    let end = rows(chains.module());
    assert_ne!(end[0], end[1]);
    assert_ne!(end[0], START.to_vec());
}
