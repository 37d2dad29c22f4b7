//! Fast standard normal draws on the host: Marsaglia and Tsang's 128-layer ziggurat in `f32`.
//!
//! An SGLD step needs d Gaussian draws, which at d = 10⁶ made the host noise the second-largest
//! cost of a CPU step after the matrix products (rand_distr's `StandardNormal` for `f32` on a
//! ChaCha8 stream: 8–11 ns per draw, measured with docs/performance.md's profile). This ziggurat
//! takes one 64-bit word per draw on its fast path (98.8% of draws): 32 bits give the value and
//! 7 *other* bits the layer, so that value and layer are independent (the classic version reuses
//! the value's low bits for the layer). With a PCG-64 stream it costs about 3 ns per draw.
//!
//! Reference: G. Marsaglia and W. W. Tsang, "The ziggurat method for generating random
//! variables", Journal of Statistical Software 5(8), 2000 (the `RNOR` generator and its tables).
//! The method is exact: the fast path returns a point of the layer's inner rectangle, the wedge
//! and the tail (|x| > r = 3.442619855899) are sampled by rejection.

use std::sync::OnceLock;

use rand::Rng;

/// The right edge r of the base layer (Marsaglia & Tsang's `dn`).
const R: f64 = 3.442_619_855_899;
/// The area of each layer, base strip and tail included (Marsaglia & Tsang's `vn`).
const AREA: f64 = 9.912_563_035_262_17e-3;
/// 2³¹: the scale of a signed 32-bit draw.
const M1: f64 = 2_147_483_648.0;

/// The ziggurat's tables: `k[i]` the fast-path threshold for |value|, `w[i]` the scale from a
/// 32-bit draw to x, `f[i]` the density exp(−x²/2) at the layer's edge.
#[derive(Debug)]
pub(crate) struct Ziggurat {
    k: [u32; 128],
    w: [f32; 128],
    f: [f32; 128],
}

impl Ziggurat {
    /// The tables, computed once in f64 per process (Marsaglia & Tsang's `zigset`).
    pub(crate) fn tables() -> &'static Self {
        static TABLES: OnceLock<Ziggurat> = OnceLock::new();
        TABLES.get_or_init(Self::build)
    }

    fn build() -> Self {
        let mut k = [0u32; 128];
        let mut w = [0f32; 128];
        let mut f = [0f32; 128];
        let mut edge = R;
        let mut previous = R;
        let q = AREA / (-0.5 * edge * edge).exp();
        k[0] = ((edge / q) * M1) as u32;
        k[1] = 0;
        w[0] = (q / M1) as f32;
        w[127] = (edge / M1) as f32;
        f[0] = 1.0;
        f[127] = (-0.5 * edge * edge).exp() as f32;
        for i in (1..=126).rev() {
            edge = (-2.0 * (AREA / edge + (-0.5 * edge * edge).exp()).ln()).sqrt();
            k[i + 1] = ((edge / previous) * M1) as u32;
            previous = edge;
            f[i] = (-0.5 * edge * edge).exp() as f32;
            w[i] = (edge / M1) as f32;
        }
        Self { k, w, f }
    }

    /// One draw from N(0, 1).
    #[inline]
    pub(crate) fn sample<G: Rng + ?Sized>(&self, rng: &mut G) -> f32 {
        let word = rng.next_u64();
        let value = (word >> 32) as u32 as i32;
        let layer = (word & 127) as usize;
        if value.unsigned_abs() < self.k[layer] {
            return value as f32 * self.w[layer];
        }
        self.sample_slow(value, layer, rng)
    }

    /// The wedge and tail cases (1.2% of draws), by rejection.
    #[cold]
    fn sample_slow<G: Rng + ?Sized>(&self, mut value: i32, mut layer: usize, rng: &mut G) -> f32 {
        loop {
            if layer == 0 {
                // The tail beyond r: Marsaglia's method, x = −ln(U₁)/r accepted when
                // −2·ln(U₂) ≥ x².
                loop {
                    let x = -open_unit(rng).ln() / R;
                    let y = -open_unit(rng).ln();
                    if y + y >= x * x {
                        let tail = (R + x) as f32;
                        return if value > 0 { tail } else { -tail };
                    }
                }
            }
            let x = value as f32 * self.w[layer];
            let u = open_unit(rng) as f32;
            let density_at_edge = self.f[layer] + u * (self.f[layer - 1] - self.f[layer]);
            if density_at_edge < (-0.5 * x * x).exp() {
                return x;
            }
            let word = rng.next_u64();
            value = (word >> 32) as u32 as i32;
            layer = (word & 127) as usize;
            if value.unsigned_abs() < self.k[layer] {
                return value as f32 * self.w[layer];
            }
        }
    }
}

/// A uniform draw on the open interval (0, 1) with 53 random bits.
fn open_unit<G: Rng + ?Sized>(rng: &mut G) -> f64 {
    ((rng.next_u64() >> 11) as f64 + 0.5) * (1.0 / 9_007_199_254_740_992.0)
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_pcg::Pcg64;

    use super::*;

    /// Φ(x), the standard normal distribution function, from erfc by its continued-fraction-free
    /// series/asymptotic split (accurate to ~1e-7, ample for a KS test at this sample size).
    fn normal_cdf(x: f64) -> f64 {
        0.5 * erfc(-x / std::f64::consts::SQRT_2)
    }

    /// Complementary error function (Numerical Recipes' Chebyshev fit, relative error < 1.2e-7).
    fn erfc(x: f64) -> f64 {
        let z = x.abs();
        let t = 1.0 / (1.0 + 0.5 * z);
        let poly = -z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
        let value = t * poly.exp();
        if x >= 0.0 { value } else { 2.0 - value }
    }

    #[test]
    fn draws_follow_the_standard_normal() {
        let zig = Ziggurat::tables();
        let mut rng = Pcg64::seed_from_u64(7);
        let n = 400_000;
        let mut draws: Vec<f64> = (0..n).map(|_| f64::from(zig.sample(&mut rng))).collect();
        let mean = draws.iter().sum::<f64>() / n as f64;
        let var = draws.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        let kurtosis = draws.iter().map(|x| (x - mean).powi(4)).sum::<f64>() / n as f64 / (var * var);
        // Standard errors at n = 4e5: mean 1/√n = 0.0016, variance √(2/n) = 0.0022, kurtosis
        // √(24/n) = 0.0077; the bounds are about 4 standard errors.
        assert!(mean.abs() < 0.0065, "mean {mean}");
        assert!((var - 1.0).abs() < 0.009, "variance {var}");
        assert!((kurtosis - 3.0).abs() < 0.031, "kurtosis {kurtosis}");
        // The tail beyond r (P = 2·(1 − Φ(r)) = 5.76e-4, 230 expected draws, sd 15) is reached.
        let tail = draws.iter().filter(|x| x.abs() > R).count() as f64;
        let expected = 2.0 * (1.0 - normal_cdf(R)) * n as f64;
        assert!((tail - expected).abs() < 4.0 * expected.sqrt(), "tail {tail} vs {expected}");
        // Kolmogorov–Smirnov distance to Φ: its 0.1% critical value at n = 4e5 is 1.95/√n = 0.0031.
        draws.sort_by(f64::total_cmp);
        let ks = draws
            .iter()
            .enumerate()
            .map(|(i, &x)| {
                let cdf = normal_cdf(x);
                (cdf - i as f64 / n as f64).abs().max(((i + 1) as f64 / n as f64 - cdf).abs())
            })
            .fold(0.0f64, f64::max);
        assert!(ks < 0.0031, "KS distance {ks}");
    }

    #[test]
    fn same_stream_same_draws() {
        let zig = Ziggurat::tables();
        let mut a = Pcg64::seed_from_u64(3);
        let mut b = Pcg64::seed_from_u64(3);
        let xs: Vec<f32> = (0..1000).map(|_| zig.sample(&mut a)).collect();
        let ys: Vec<f32> = (0..1000).map(|_| zig.sample(&mut b)).collect();
        assert_eq!(xs, ys);
    }
}
