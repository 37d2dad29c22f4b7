//! Sources of the Gaussian noise ξ ~ N(0, I) in a Langevin step.
//!
//! On the CPU the noise is drawn on the host from a PCG-64 stream per chain (O'Neill's
//! `Lcg128Xsl64`, the state derived from the run's seed and the chain, the chain also selecting the
//! LCG's increment) through an `f32` ziggurat ([`crate::normal`]), so that a run is reproducible
//! bit for bit whatever else runs in the process, and a draw costs about 3 ns. The SGLD sampler then
//! computes its whole update on the host in one fused pass (see [`crate::SgldChains`]). On an
//! accelerator, moving d normal draws per step from the host would dominate the step, so
//! [`NoiseSource::Backend`] draws them on the device with the backend's own generator (seeded once
//! per chain, but shared by everything on that device), and the update runs as tensor operations on
//! the device. MALA also draws its accept/reject coin from the same source
//! ([`NoiseSource::uniform`]).

use burn::tensor::backend::Backend;
use burn::tensor::{Distribution, ElementConversion, Tensor, TensorData};
use rand::RngExt;
use rand_pcg::Pcg64;
use serde::{Deserialize, Serialize};

use crate::normal::Ziggurat;

/// Where each chain's Gaussian noise ξ is drawn (and, with it, where the SGLD update is computed).
///
/// On the CPU the host stream is both reproducible (one stream per chain, bit for bit whatever
/// else runs) and the fastest: the whole update is one fused pass over the parameters. On an
/// accelerator, copying d values between host and device at every step would dominate the step,
/// so `Device` draws ξ with the backend's own generator and computes the update with tensor ops
/// on the device (reproducible only as far as the backend's generator is). [`NoiseHome`] says
/// which of the two a backend prefers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NoisePlacement {
    /// A per-chain stream on the host ([`NoiseSource::host`]), the default.
    #[default]
    Host,
    /// The backend's generator on the model's device ([`NoiseSource::backend`]).
    Device,
}

impl NoisePlacement {
    /// The name used on the command line and in configs.
    pub fn name(self) -> &'static str {
        match self {
            Self::Host => "host",
            Self::Device => "device",
        }
    }

    /// The placement backend `B` prefers ([`NoiseHome::NOISE`]).
    pub fn of<B: NoiseHome>() -> Self {
        B::NOISE
    }
}

/// Where a backend's chains should draw their noise: a capability of the backend type, so that
/// code generic over the backend never has to compare types to choose.
///
/// Host-memory backends (burn-ndarray) prefer [`NoisePlacement::Host`], accelerators (burn-cuda,
/// with the `cuda` feature) [`NoisePlacement::Device`]; the autodiff decorator prefers what the
/// backend it wraps prefers. A backend without an implementation can still be used by setting the
/// placement by hand.
///
/// ```
/// use burn::backend::{Autodiff, NdArray};
/// use llc_sampler::NoisePlacement;
///
/// assert_eq!(NoisePlacement::of::<Autodiff<NdArray>>(), NoisePlacement::Host);
/// ```
pub trait NoiseHome: Backend {
    /// Where chains on this backend draw their noise.
    const NOISE: NoisePlacement;
}

impl NoiseHome for burn::backend::NdArray<f32> {
    const NOISE: NoisePlacement = NoisePlacement::Host;
}

impl NoiseHome for burn::backend::NdArray<f64> {
    const NOISE: NoisePlacement = NoisePlacement::Host;
}

impl<B: NoiseHome> NoiseHome for burn::backend::Autodiff<B> {
    const NOISE: NoisePlacement = B::NOISE;
}

#[cfg(feature = "cuda")]
impl NoiseHome for burn::backend::Cuda<f32> {
    const NOISE: NoisePlacement = NoisePlacement::Device;
}

/// A host stream of standard normal draws: one PCG-64 generator and the ziggurat's tables.
#[derive(Debug, Clone)]
pub struct HostNormal {
    rng: Pcg64,
    tables: &'static Ziggurat,
}

impl HostNormal {
    /// The stream of chain `chain_idx` in a run seeded with `seed`.
    fn new(seed: u64, chain_idx: u64) -> Self {
        // SplitMix64 finalizers decorrelate neighbouring seeds and chains before they become the
        // 128-bit state; the chain also picks the LCG increment (PCG's stream selector).
        let state = (u128::from(splitmix(seed ^ splitmix(chain_idx))) << 64) | u128::from(splitmix(!seed));
        let stream = (u128::from(chain_idx) << 1) | 0xDA3E_39CB_94B9_5BDB;
        Self { rng: Pcg64::new(state, stream), tables: Ziggurat::tables() }
    }

    /// One draw from N(0, 1).
    #[inline]
    pub(crate) fn next(&mut self) -> f32 {
        self.tables.sample(&mut self.rng)
    }

    /// Fills `out` with draws from N(0, 1), in order.
    pub(crate) fn fill(&mut self, out: &mut [f32]) {
        for x in out {
            *x = self.next();
        }
    }
}

/// The SplitMix64 output function (Steele, Lea & Flood 2014), a bijective mixer of 64-bit words.
fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Where a chain's Gaussian noise comes from.
#[derive(Debug, Clone)]
pub enum NoiseSource {
    /// Host-side PCG-64 stream: deterministic per (seed, chain), independent of threads.
    Host(Box<HostNormal>),
    /// The backend's generator (`Tensor::random`), seeded by [`NoiseSource::backend`].
    Backend,
}

impl NoiseSource {
    /// A host stream for chain `chain_idx` of a run seeded with `seed`.
    pub fn host(seed: u64, chain_idx: u64) -> Self {
        Self::Host(Box::new(HostNormal::new(seed, chain_idx)))
    }

    /// The backend's own generator, seeded now with a value derived from (seed, chain).
    pub fn backend<B: Backend>(device: &B::Device, seed: u64, chain_idx: u64) -> Self {
        B::seed(device, seed ^ chain_idx.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        Self::Backend
    }

    /// Whether this source draws on the host.
    pub fn is_host(&self) -> bool {
        matches!(self, Self::Host(_))
    }

    /// `numel` standard normal draws as a 1-D tensor on `device`.
    pub fn normal<B: Backend>(&mut self, numel: usize, device: &B::Device) -> Tensor<B, 1> {
        match self {
            Self::Host(stream) => {
                let mut values = vec![0f32; numel];
                stream.fill(&mut values);
                Tensor::from_data(TensorData::new(values, [numel]), device)
            }
            Self::Backend => Tensor::random([numel], Distribution::Normal(0.0, 1.0), device),
        }
    }

    /// One uniform draw in [0, 1), from the same stream as [`NoiseSource::normal`] (MALA's
    /// accept/reject coin). `device` is only used by [`NoiseSource::Backend`].
    pub fn uniform<B: Backend>(&mut self, device: &B::Device) -> f64 {
        match self {
            Self::Host(stream) => stream.rng.random::<f64>(),
            Self::Backend => {
                let draw: f64 = Tensor::<B, 1>::random([1], Distribution::Default, device).into_scalar().elem();
                // Guard against a backend whose generator can return 1 (or more, after rounding).
                draw.clamp(0.0, 1.0 - f64::EPSILON)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_and_seeds_get_different_streams() {
        let draws = |seed, chain| {
            let NoiseSource::Host(mut stream) = NoiseSource::host(seed, chain) else { unreachable!() };
            (0..8).map(|_| stream.next()).collect::<Vec<f32>>()
        };
        assert_eq!(draws(1, 0), draws(1, 0));
        assert_ne!(draws(1, 0), draws(1, 1));
        assert_ne!(draws(1, 0), draws(2, 0));
        assert_ne!(draws(0, 1), draws(1, 0));
    }

    #[test]
    fn neighbouring_chains_are_uncorrelated() {
        // The sample correlation of two independent streams of 200,000 draws has standard error
        // 1/√n = 0.0022; 0.01 is 4.5 of them.
        let NoiseSource::Host(mut a) = NoiseSource::host(5, 0) else { unreachable!() };
        let NoiseSource::Host(mut b) = NoiseSource::host(5, 1) else { unreachable!() };
        let n = 200_000;
        let dot: f64 = (0..n).map(|_| f64::from(a.next()) * f64::from(b.next())).sum();
        assert!((dot / n as f64).abs() < 0.01, "correlation {}", dot / n as f64);
    }
}
