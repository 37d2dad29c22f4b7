//! Sources of the Gaussian noise ξ ~ N(0, I) in a Langevin step.
//!
//! On the CPU the noise is drawn on the host from a ChaCha8 stream per chain
//! (`seed_from_u64(seed)` then `set_stream(chain_idx)`), so that a run is reproducible bit for bit
//! whatever else runs in the process. On an accelerator, moving d normal draws per step from the host
//! would dominate the step, so [`NoiseSource::Backend`] draws them on the device with the backend's
//! own generator (seeded once per chain, but shared by everything on that device). MALA also draws
//! its accept/reject coin from the same source ([`NoiseSource::uniform`]).

use burn::tensor::backend::Backend;
use burn::tensor::{Distribution, ElementConversion, Tensor, TensorData};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// Where a chain's Gaussian noise comes from.
#[derive(Debug, Clone)]
pub enum NoiseSource {
    /// Host-side ChaCha8 stream: deterministic per (seed, chain), independent of threads.
    Host(Box<ChaCha8Rng>),
    /// The backend's generator (`Tensor::random`), seeded by [`NoiseSource::backend`].
    Backend,
}

impl NoiseSource {
    /// A host stream for chain `chain_idx` of a run seeded with `seed`.
    pub fn host(seed: u64, chain_idx: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(chain_idx.wrapping_add(1) << 8);
        Self::Host(Box::new(rng))
    }

    /// The backend's own generator, seeded now with a value derived from (seed, chain).
    pub fn backend<B: Backend>(device: &B::Device, seed: u64, chain_idx: u64) -> Self {
        B::seed(device, seed ^ chain_idx.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        Self::Backend
    }

    /// `numel` standard normal draws as a 1-D tensor on `device`.
    pub fn normal<B: Backend>(&mut self, numel: usize, device: &B::Device) -> Tensor<B, 1> {
        match self {
            Self::Host(rng) => {
                let values: Vec<f32> = (0..numel).map(|_| rng.sample::<f32, _>(StandardNormal)).collect();
                Tensor::from_data(TensorData::new(values, [numel]), device)
            }
            Self::Backend => Tensor::random([numel], Distribution::Normal(0.0, 1.0), device),
        }
    }

    /// One uniform draw in [0, 1), from the same stream as [`NoiseSource::normal`] (MALA's
    /// accept/reject coin). `device` is only used by [`NoiseSource::Backend`].
    pub fn uniform<B: Backend>(&mut self, device: &B::Device) -> f64 {
        match self {
            Self::Host(rng) => rng.random::<f64>(),
            Self::Backend => {
                let draw: f64 = Tensor::<B, 1>::random([1], Distribution::Default, device).into_scalar().elem();
                // Guard against a backend whose generator can return 1 (or more, after rounding).
                draw.clamp(0.0, 1.0 - f64::EPSILON)
            }
        }
    }
}
