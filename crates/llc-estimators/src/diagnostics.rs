//! Convergence diagnostics for several Markov chains of scalar draws.
//!
//! The estimator of the local learning coefficient averages the loss over the draws of several SGLD
//! chains, so before trusting that average we want to know two things: whether the chains agree with
//! each other (they explore the same distribution), and how many independent draws the correlated
//! chains are worth. This module answers both for any set of scalar traces, typically the per-step
//! losses of each chain after burn-in.
//!
//! - [`split_r_hat`] is the potential scale reduction factor R̂ computed on split chains, as described
//!   by Vehtari, Gelman, Simpson, Carpenter and Bürkner (2021), "Rank-normalization, folding, and
//!   localization: an improved R̂ for assessing convergence of MCMC". Every chain is cut into a first
//!   and a second half, and the spread of the half-chain means is compared with the spread inside the
//!   halves. Values close to 1 mean the halves look alike; the paper recommends treating values above
//!   1.01 as a warning sign, and values above 1.1 as clear non-convergence.
//! - [`effective_sample_size`] is the multi-chain effective sample size used by Stan: the autocorrelations
//!   of all chains are pooled through the same between/within variance estimate that R̂ uses, and the
//!   resulting autocorrelation sum is truncated with Geyer's initial monotone sequence estimator.
//! - [`monte_carlo_standard_error`] turns that effective sample size into a standard error for the mean
//!   of all draws.
//! - [`autocorrelation`] and [`mean_and_std`] are the small building blocks, public because they are
//!   useful on their own when inspecting a single trace.
//!
//! Neither R̂ nor the effective sample size here applies the rank normalization of the 2021 paper: they
//! work on the draws as given (the "basic" variants), which is the right thing for the mean of the loss,
//! the quantity the estimator actually uses. Both functions return `None` instead of a meaningless number
//! when the input cannot support the statistic (too few draws, no chains, constant chains, or
//! non-finite values).
//!
//! When chains have different lengths, every chain is cut to the length of the shortest one (its first
//! draws are kept), so that each chain weighs the same in the pooled statistics.

/// Smallest number of draws per chain that the diagnostics accept.
///
/// Split-R̂ needs at least two draws in each half-chain to estimate a variance, and Stan's effective
/// sample size uses the same lower limit.
const MIN_DRAWS_PER_CHAIN: usize = 4;

/// Returns the sample mean and the sample standard deviation of `xs`.
///
/// The standard deviation uses the unbiased variance, with denominator `n − 1`. A single value has a
/// standard deviation of 0, and an empty slice gives `(NaN, NaN)` because neither statistic exists.
/// Non-finite values propagate into the result.
pub fn mean_and_std(xs: &[f64]) -> (f64, f64) {
    match xs.len() {
        0 => (f64::NAN, f64::NAN),
        1 => (xs[0], 0.0),
        n_values => {
            let mean = xs.iter().sum::<f64>() / n_values as f64;
            let sum_of_squares: f64 = xs.iter().map(|&x| (x - mean) * (x - mean)).sum();
            (mean, (sum_of_squares / (n_values - 1) as f64).sqrt())
        }
    }
}

/// Returns the sample autocorrelation of `x` at the lags `0, 1, …, max_lag`.
///
/// The autocovariance at lag `k` is the sum of `(x[t] − mean)·(x[t + k] − mean)` over the `n − k`
/// overlapping pairs, divided by `n` (not by `n − k`). This is the usual biased estimator: it shrinks
/// long lags towards zero and keeps the sequence positive semi-definite. Dividing by the lag-0 value
/// gives autocorrelations, so the first entry is always 1.
///
/// The result has `min(max_lag, n − 1) + 1` entries, because lags of `n` or more have no pairs. It is
/// empty when `x` is empty. When `x` is constant, or contains a non-finite value, the autocorrelation is
/// undefined and every entry is NaN.
///
/// The cost is proportional to `n · max_lag`, or to `n · log n` when `max_lag` is long enough that a
/// fast Fourier transform is cheaper.
pub fn autocorrelation(x: &[f64], max_lag: usize) -> Vec<f64> {
    if x.is_empty() {
        return Vec::new();
    }
    let n_lags = max_lag.min(x.len() - 1) + 1;
    let (mean, _) = mean_and_std(x);
    let centered: Vec<f64> = x.iter().map(|&value| value - mean).collect();
    let variance = lagged_product_sum(&centered, 0);
    if !(variance.is_finite() && variance > 0.0) {
        return vec![f64::NAN; n_lags];
    }
    let products = if n_lags > fft_break_even_lag(x.len()) {
        let mut all_lags = lagged_product_sums_fft(&centered);
        all_lags.truncate(n_lags);
        all_lags
    } else {
        (0..n_lags).map(|lag| lagged_product_sum(&centered, lag)).collect()
    };
    products.into_iter().map(|product| product / variance).collect()
}

/// Returns the split-R̂ convergence diagnostic of several chains, or `None` when it is undefined.
///
/// Every chain is first cut to the length `n` of the shortest chain (keeping its first draws), then
/// split into a first half and a second half of `⌊n/2⌋` draws each; for an odd `n` the middle draw is
/// left out. With `m` half-chains of length `h`, let `W` be the mean of the half-chain sample variances
/// and `B/h` the sample variance of the half-chain means. The pooled estimate of the target variance is
/// `var⁺ = (h − 1)/h · W + B/h`, which overestimates the variance while the chains have not mixed,
/// whereas `W` underestimates it. Their ratio gives `R̂ = sqrt(var⁺ / W)`, which tends to 1 from above
/// as the chains converge. Splitting the chains makes R̂ also detect a drift within a single chain, so
/// a single chain is accepted.
///
/// Returns `None` when there are no chains, when the shortest chain has fewer than 4 draws, when any
/// value anywhere in the input (including draws dropped by the truncation) is not finite, or when the
/// within-half-chain variance `W` is zero.
pub fn split_r_hat(chains: &[Vec<f64>]) -> Option<f64> {
    let n_draws = validated_common_length(chains)?;
    let half_length = n_draws / 2;
    let halves: Vec<&[f64]> =
        chains.iter().flat_map(|chain| [&chain[..half_length], &chain[n_draws - half_length..n_draws]]).collect();
    let (within, between_over_length) = within_and_between_variance(&halves);
    if within <= 0.0 {
        return None;
    }
    let length = half_length as f64;
    let var_plus = (length - 1.0) / length * within + between_over_length;
    Some((var_plus / within).sqrt())
}

/// Returns the effective sample size of the draws of several chains, or `None` when it is undefined.
///
/// The effective sample size is the number of independent draws that would estimate the mean as
/// precisely as the correlated draws at hand: for `N` draws in total it is `N / τ`, where
/// `τ = 1 + 2·Σ_{k≥1} ρ_k` is the integrated autocorrelation time. This function follows Stan's
/// multi-chain estimate:
///
/// 1. Every chain is cut to the length `n` of the shortest chain (keeping its first draws). The chains
///    are not split.
/// 2. For every chain, the autocovariances at each lag are computed with the biased estimator of
///    [`autocorrelation`], and their mean over the chains is taken at each lag.
/// 3. With `W` the mean of the chain sample variances and `var⁺` the pooled variance estimate of
///    [`split_r_hat`] computed on whole chains, the combined autocorrelation at lag `k` is
///    `ρ_k = 1 − (W − mean autocovariance at lag k) / var⁺`. When the chains disagree, `var⁺` exceeds
///    `W`, so the autocorrelations stay high and the effective sample size drops.
/// 4. The sum over lags is truncated with Geyer's initial monotone sequence: autocorrelations are taken in
///    pairs `ρ_{2t} + ρ_{2t+1}`, which are positive and decreasing for a reversible chain, so the sum stops
///    at the first pair whose sum is negative, and any pair larger than the pair before it is lowered to
///    that earlier value. As in Stan, the sum also stops a few lags before the end of the chain; when it
///    stops there rather than at a negative pair, the next positive autocorrelation is added once as a
///    correction term, which reduces the variance of the estimate for antithetic chains.
/// 5. The result is `N / τ`, capped at `N · log10(N)` as Stan does, because for strongly antithetic
///    chains `τ` can be close to zero.
///
/// The autocovariances are computed lag by lag, only as far as the truncation needs, so the cost is
/// proportional to the number of draws times the truncation lag; for very slowly mixing chains, where
/// the truncation lag becomes long, the remaining lags are obtained at once with a fast Fourier
/// transform instead. A single chain is allowed: its effective sample size is then the classic
/// single-chain estimate with `var⁺ = (n − 1)/n · W`.
///
/// Returns `None` when there are no chains, when the shortest chain has fewer than 4 draws, when any
/// value anywhere in the input (including draws dropped by the truncation) is not finite, or when the
/// mean within-chain variance is zero.
pub fn effective_sample_size(chains: &[Vec<f64>]) -> Option<f64> {
    let n_draws = validated_common_length(chains)?;
    let truncated: Vec<&[f64]> = chains.iter().map(|chain| &chain[..n_draws]).collect();
    let (within, between_over_length) = within_and_between_variance(&truncated);
    if within <= 0.0 {
        return None;
    }
    let length = n_draws as f64;
    let var_plus = (length - 1.0) / length * within + between_over_length;
    let mut autocovariances = PooledAutocovariance::new(&truncated);
    // Combined autocorrelation at a lag, from the chain-averaged autocovariance at that lag.
    let mut combined_rho = |lag: usize| 1.0 - (within - autocovariances.at(lag)) / var_plus;
    let tau = geyer_autocorrelation_time(n_draws, &mut combined_rho);
    let n_total = (n_draws * chains.len()) as f64;
    let cap = n_total * n_total.log10();
    if tau > 0.0 { Some((n_total / tau).min(cap)) } else { Some(cap) }
}

/// Returns the Monte Carlo standard error of the mean of all draws, or `None` when it is undefined.
///
/// It is the sample standard deviation of all draws (after cutting every chain to the shortest length)
/// divided by the square root of [`effective_sample_size`]. This is the uncertainty that the finite,
/// correlated sampling adds to a posterior mean such as the mean loss of the SGLD chains. It is `None`
/// exactly when the effective sample size is.
pub fn monte_carlo_standard_error(chains: &[Vec<f64>]) -> Option<f64> {
    let ess = effective_sample_size(chains)?;
    let n_draws = chains.iter().map(Vec::len).min()?;
    let pooled: Vec<f64> = chains.iter().flat_map(|chain| chain[..n_draws].iter().copied()).collect();
    let (_, std) = mean_and_std(&pooled);
    Some(std / ess.sqrt())
}

/// Checks the input shared by the diagnostics and returns the common (shortest) chain length.
///
/// Returns `None` for no chains, fewer than [`MIN_DRAWS_PER_CHAIN`] draws in the shortest chain, or any
/// non-finite value in any chain.
fn validated_common_length(chains: &[Vec<f64>]) -> Option<usize> {
    let n_draws = chains.iter().map(Vec::len).min()?;
    let all_finite = chains.iter().all(|chain| chain.iter().all(|value| value.is_finite()));
    (n_draws >= MIN_DRAWS_PER_CHAIN && all_finite).then_some(n_draws)
}

/// Returns `(W, B/n)` for equally long chains of length `n`: the mean of the chain sample variances, and
/// the sample variance of the chain means (0 for a single chain).
fn within_and_between_variance(chains: &[&[f64]]) -> (f64, f64) {
    let (means, variances): (Vec<f64>, Vec<f64>) = chains
        .iter()
        .map(|chain| {
            let (mean, std) = mean_and_std(chain);
            (mean, std * std)
        })
        .unzip();
    let within = variances.iter().sum::<f64>() / variances.len() as f64;
    let between_over_length = if means.len() > 1 {
        let (_, std_of_means) = mean_and_std(&means);
        std_of_means * std_of_means
    } else {
        0.0
    };
    (within, between_over_length)
}

/// Returns Geyer's truncated estimate of the integrated autocorrelation time `τ = −1 + 2·Σ ρ_k`.
///
/// `rho_at(k)` gives the autocorrelation estimate at lag `k ≥ 1` (lag 0 is 1 by definition); it is called
/// for increasing lags, each at most once, and only as far as the truncation needs. See
/// [`effective_sample_size`] for the rules of the truncation.
fn geyer_autocorrelation_time(n_draws: usize, rho_at: &mut impl FnMut(usize) -> f64) -> f64 {
    // `rho[k]` is the accepted estimate at lag k; a rejected (negative) pair is stored as zeros.
    let mut rho = vec![1.0, rho_at(1)];
    let mut last_pair_sum = rho[0] + rho[1];
    // Index of the odd lag that closes the last pair examined.
    let mut last_odd_lag = 1;
    while last_odd_lag + 4 < n_draws && last_pair_sum > 0.0 {
        let even = rho_at(last_odd_lag + 1);
        let odd = rho_at(last_odd_lag + 2);
        last_pair_sum = even + odd;
        if last_pair_sum >= 0.0 {
            rho.extend([even, odd]);
        } else {
            rho.extend([0.0, 0.0]);
        }
        last_odd_lag += 2;
    }
    // Correction term: the autocorrelation at the last lag when it is still positive (always zero when
    // the sum stopped at a negative pair, since that pair was stored as zeros).
    let correction = rho[last_odd_lag].max(0.0);
    // Monotone sequence: no pair (ρ_{2t}, ρ_{2t+1}) may exceed the pair before it; the last lag, which
    // only enters through the correction term, is left as it is.
    let mut even_lag = 2;
    while even_lag + 1 < last_odd_lag {
        let previous_pair = rho[even_lag - 2] + rho[even_lag - 1];
        if rho[even_lag] + rho[even_lag + 1] > previous_pair {
            rho[even_lag] = previous_pair / 2.0;
            rho[even_lag + 1] = previous_pair / 2.0;
        }
        even_lag += 2;
    }
    -1.0 + 2.0 * rho[..last_odd_lag].iter().sum::<f64>() + correction
}

/// Chain-averaged autocovariances, computed lazily lag by lag and switching to an FFT for long lags.
struct PooledAutocovariance {
    /// Every chain with its mean subtracted.
    centered_chains: Vec<Vec<f64>>,
    /// Lag beyond which all autocovariances are computed at once with the FFT.
    break_even_lag: usize,
    /// Chain-averaged autocovariances for every lag, once the FFT has been used.
    all_lags: Option<Vec<f64>>,
}

impl PooledAutocovariance {
    /// Centers the chains, which must all have the same length.
    fn new(chains: &[&[f64]]) -> Self {
        let centered_chains: Vec<Vec<f64>> = chains
            .iter()
            .map(|chain| {
                let (mean, _) = mean_and_std(chain);
                chain.iter().map(|&value| value - mean).collect()
            })
            .collect();
        let n_draws = centered_chains.first().map_or(0, Vec::len);
        Self { centered_chains, break_even_lag: fft_break_even_lag(n_draws), all_lags: None }
    }

    /// Returns the mean over chains of the biased autocovariance at `lag`, which must be below the chain
    /// length.
    fn at(&mut self, lag: usize) -> f64 {
        let n_chains = self.centered_chains.len() as f64;
        let n_draws = self.centered_chains[0].len() as f64;
        if lag > self.break_even_lag && self.all_lags.is_none() {
            let mut sums = vec![0.0; self.centered_chains[0].len()];
            for chain in &self.centered_chains {
                for (total, product) in sums.iter_mut().zip(lagged_product_sums_fft(chain)) {
                    *total += product;
                }
            }
            self.all_lags = Some(sums.into_iter().map(|sum| sum / (n_chains * n_draws)).collect());
        }
        match &self.all_lags {
            Some(all_lags) => all_lags[lag],
            None => {
                let sum: f64 = self.centered_chains.iter().map(|chain| lagged_product_sum(chain, lag)).sum();
                sum / (n_chains * n_draws)
            }
        }
    }
}

/// Returns the number of lags above which one FFT is cheaper than computing every lag directly.
///
/// A direct lag costs about `n` multiply-adds; the FFT route costs a few passes of `m·log2(m)` work with
/// `m ≥ 2n`, so it wins after a few tens of lags. The constant only affects speed, not the result.
fn fft_break_even_lag(n_draws: usize) -> usize {
    let padded = (2 * n_draws).next_power_of_two().max(2);
    8 * padded.trailing_zeros() as usize
}

/// Returns `Σ_t centered[t]·centered[t + lag]`, the unnormalized autocovariance at one lag.
fn lagged_product_sum(centered: &[f64], lag: usize) -> f64 {
    if lag >= centered.len() {
        return 0.0;
    }
    // Four independent accumulators let the compiler overlap the floating-point additions.
    let leading = &centered[..centered.len() - lag];
    let lagged = &centered[lag..];
    let mut partial = [0.0_f64; 4];
    let mut leading_blocks = leading.chunks_exact(4);
    let mut lagged_blocks = lagged.chunks_exact(4);
    for (block, lagged_block) in leading_blocks.by_ref().zip(lagged_blocks.by_ref()) {
        for lane in 0..4 {
            partial[lane] += block[lane] * lagged_block[lane];
        }
    }
    let remainder: f64 =
        leading_blocks.remainder().iter().zip(lagged_blocks.remainder()).map(|(&left, &right)| left * right).sum();
    (partial[0] + partial[1]) + (partial[2] + partial[3]) + remainder
}

/// Returns `Σ_t centered[t]·centered[t + lag]` for every lag from 0 to `n − 1`, in `O(n log n)`.
///
/// The series is padded with zeros to a power of two at least `2n` long (so that the circular
/// correlation computed by the FFT equals the linear one), transformed, replaced by its squared modulus,
/// and transformed back.
fn lagged_product_sums_fft(centered: &[f64]) -> Vec<f64> {
    let n_draws = centered.len();
    let padded = (2 * n_draws).next_power_of_two().max(2);
    let mut real = vec![0.0; padded];
    let mut imaginary = vec![0.0; padded];
    real[..n_draws].copy_from_slice(centered);
    fft_in_place(&mut real, &mut imaginary);
    for (re, im) in real.iter_mut().zip(imaginary.iter_mut()) {
        *re = *re * *re + *im * *im;
        *im = 0.0;
    }
    // The power spectrum is real and symmetric, so a forward transform equals `padded` times the
    // inverse one.
    fft_in_place(&mut real, &mut imaginary);
    real.truncate(n_draws);
    real.iter_mut().for_each(|value| *value /= padded as f64);
    real
}

/// Replaces `(real, imaginary)` by its discrete Fourier transform `X_k = Σ_j x_j·exp(−2πi·jk/m)`.
///
/// Iterative radix-2 Cooley–Tukey; the length `m` must be a power of two. The twiddle factors come from
/// one table of `m/2` directly evaluated sines and cosines, so rounding errors do not build up through
/// repeated multiplication.
fn fft_in_place(real: &mut [f64], imaginary: &mut [f64]) {
    let length = real.len();
    debug_assert!(length.is_power_of_two() && imaginary.len() == length);
    if length < 2 {
        return;
    }
    // Reorder the input into bit-reversed index order.
    let index_bits = length.trailing_zeros();
    for index in 0..length {
        let reversed = index.reverse_bits() >> (usize::BITS - index_bits);
        if reversed > index {
            real.swap(index, reversed);
            imaginary.swap(index, reversed);
        }
    }
    let twiddles: Vec<(f64, f64)> = (0..length / 2)
        .map(|k| {
            let angle = -2.0 * std::f64::consts::PI * k as f64 / length as f64;
            (angle.cos(), angle.sin())
        })
        .collect();
    // Combine pairs of transforms of length `half` into transforms of length `2·half`.
    let mut half = 1;
    while half < length {
        let twiddle_stride = length / (2 * half);
        for block_start in (0..length).step_by(2 * half) {
            for offset in 0..half {
                let (cos, sin) = twiddles[offset * twiddle_stride];
                let top = block_start + offset;
                let bottom = top + half;
                let rotated_re = real[bottom] * cos - imaginary[bottom] * sin;
                let rotated_im = real[bottom] * sin + imaginary[bottom] * cos;
                real[bottom] = real[top] - rotated_re;
                imaginary[bottom] = imaginary[top] - rotated_im;
                real[top] += rotated_re;
                imaginary[top] += rotated_im;
            }
        }
        half *= 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny deterministic source of standard normal draws: splitmix64 for uniform bits, Box–Muller for
    /// the normal transform. Good enough for statistical tests, and identical on every platform.
    struct NormalSource {
        state: u64,
        spare: Option<f64>,
    }

    impl NormalSource {
        fn new(seed: u64) -> Self {
            Self { state: seed, spare: None }
        }

        fn next_u64(&mut self) -> u64 {
            self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }

        /// Uniform in (0, 1], never 0 so that the logarithm below is finite.
        fn next_uniform(&mut self) -> f64 {
            ((self.next_u64() >> 11) as f64 + 1.0) / (1u64 << 53) as f64
        }

        fn next_normal(&mut self) -> f64 {
            if let Some(value) = self.spare.take() {
                return value;
            }
            let radius = (-2.0 * self.next_uniform().ln()).sqrt();
            let angle = 2.0 * std::f64::consts::PI * self.next_uniform();
            self.spare = Some(radius * angle.sin());
            radius * angle.cos()
        }

        fn normal_chain(&mut self, n_draws: usize, mean: f64) -> Vec<f64> {
            (0..n_draws).map(|_| mean + self.next_normal()).collect()
        }

        /// A stationary AR(1) chain `x_t = φ·x_{t−1} + ε_t`, started from its stationary distribution
        /// `N(0, 1/(1 − φ²))` so that no burn-in is needed.
        fn ar1_chain(&mut self, n_draws: usize, phi: f64) -> Vec<f64> {
            let mut value = self.next_normal() / (1.0 - phi * phi).sqrt();
            (0..n_draws)
                .map(|_| {
                    let current = value;
                    value = phi * value + self.next_normal();
                    current
                })
                .collect()
        }
    }

    fn normal_chains(seed: u64, n_chains: usize, n_draws: usize) -> Vec<Vec<f64>> {
        let mut source = NormalSource::new(seed);
        (0..n_chains).map(|_| source.normal_chain(n_draws, 0.0)).collect()
    }

    #[test]
    fn mean_and_std_of_known_values() {
        let (mean, std) = mean_and_std(&[1.0, 2.0, 3.0, 4.0]);
        assert!((mean - 2.5).abs() < 1e-15);
        assert!((std - (5.0_f64 / 3.0).sqrt()).abs() < 1e-15);
        assert_eq!(mean_and_std(&[7.0]), (7.0, 0.0));
        let (empty_mean, empty_std) = mean_and_std(&[]);
        assert!(empty_mean.is_nan() && empty_std.is_nan());
    }

    #[test]
    fn autocorrelation_matches_a_brute_force_sum_and_basic_cases() {
        let x = NormalSource::new(3).ar1_chain(500, 0.6);
        let mean = x.iter().sum::<f64>() / x.len() as f64;
        let brute = |lag: usize| -> f64 { (0..x.len() - lag).map(|t| (x[t] - mean) * (x[t + lag] - mean)).sum() };
        let rho = autocorrelation(&x, 20);
        assert_eq!(rho.len(), 21);
        assert_eq!(rho[0], 1.0);
        for (lag, &value) in rho.iter().enumerate() {
            assert!((value - brute(lag) / brute(0)).abs() < 1e-12, "lag {lag}");
        }
        // Long lags go through the FFT and must agree with the direct sum too.
        let all = autocorrelation(&x, 10_000);
        assert_eq!(all.len(), x.len());
        for lag in [0, 1, 7, 100, 250, 499] {
            assert!((all[lag] - brute(lag) / brute(0)).abs() < 1e-12, "lag {lag}");
        }
        // A perfectly alternating series is anti-correlated at lag 1 (biased estimator: −(n−1)/n).
        let alternating: Vec<f64> = (0..10).map(|t| if t % 2 == 0 { 1.0 } else { -1.0 }).collect();
        assert!((autocorrelation(&alternating, 1)[1] + 0.9).abs() < 1e-15);
        assert!(autocorrelation(&[], 5).is_empty());
        assert!(autocorrelation(&[2.0; 5], 3).iter().all(|value| value.is_nan()));
        assert_eq!(autocorrelation(&[2.0; 5], 3).len(), 4);
    }

    #[test]
    fn fft_lagged_products_match_the_direct_sums() {
        for n_draws in [1, 2, 3, 17, 64, 1000] {
            let x = NormalSource::new(n_draws as u64).normal_chain(n_draws, 0.0);
            let fast = lagged_product_sums_fft(&x);
            assert_eq!(fast.len(), n_draws);
            let scale = lagged_product_sum(&x, 0);
            for (lag, &value) in fast.iter().enumerate() {
                assert!((value - lagged_product_sum(&x, lag)).abs() <= 1e-12 * scale, "n {n_draws} lag {lag}");
            }
        }
    }

    #[test]
    fn iid_normal_draws_give_r_hat_near_one_and_ess_near_the_draw_count() {
        // 4 chains × 5000 i.i.d. N(0, 1) draws, N = 20000.
        // R̂: with 8 half-chains of h = 2500 draws, R̂² − 1 ≈ (B/W − 1)/h, and B/W ~ χ²₇/7 has a
        // standard deviation of about 0.53, so R̂ − 1 is of order 1e-4; the window [0.99, 1.01] is ~100
        // standard deviations wide and only fails if the function is wrong.
        // ESS: each lag's autocorrelation estimate has a standard deviation of about 1/√N ≈ 0.007, and
        // Geyer's truncation keeps a handful of lags for i.i.d. draws, so τ̂ = −1 + 2Σρ̂ has a standard
        // deviation of a few hundredths. ±15% of N is therefore several standard deviations (over 40
        // other seeds at these sizes, ESS/N had mean 0.99, standard deviation 0.016, range 0.94..1.02).
        let n_draws = 5000;
        for seed in [1, 2, 3] {
            let chains = normal_chains(seed, 4, n_draws);
            let r_hat = split_r_hat(&chains).expect("defined");
            assert!((0.99..=1.01).contains(&r_hat), "seed {seed}: R̂ = {r_hat}");
            let ess = effective_sample_size(&chains).expect("defined");
            let n_total = (4 * n_draws) as f64;
            assert!((ess / n_total - 1.0).abs() < 0.15, "seed {seed}: ESS = {ess} of {n_total}");
        }
    }

    #[test]
    fn single_chain_ess_of_iid_draws_is_near_the_draw_count() {
        // One chain of 20000 draws: the same ±15% reasoning as the multi-chain test above.
        let chains = normal_chains(11, 1, 20_000);
        let ess = effective_sample_size(&chains).expect("defined");
        assert!((ess / 20_000.0 - 1.0).abs() < 0.15, "ESS = {ess}");
        assert!(split_r_hat(&chains).is_some_and(|r_hat| (0.99..=1.01).contains(&r_hat)));
    }

    #[test]
    fn ar1_chains_give_the_theoretical_ess() {
        // For x_t = φ·x_{t−1} + ε_t, ρ_k = φ^k and τ = (1 + φ)/(1 − φ) = 19 for φ = 0.9, so the ESS of
        // N = 4 × 20000 = 80000 draws is about 80000/19 ≈ 4211.
        // Tolerance: the estimator of τ with a window of L lags has a relative variance of about
        // 2(2L + 1)/N (Sokal's formula). Geyer's truncation stops where φ^k falls to the noise level
        // √(τ/N) ≈ 0.015, i.e. L ≈ 40, giving a relative standard deviation of about 4.5%; ±25% is more
        // than 5 standard deviations, while a wrong pooling or truncation (e.g. no autocorrelation at all,
        // or a missing factor 2) would be off by far more. Over 40 other seeds at these sizes the ratio of
        // the estimate to 80000/19 had mean 0.996, standard deviation 0.040 and range 0.91..1.10; the two
        // seeds used here happen to sit near −12%, still well inside the window.
        let phi = 0.9;
        let n_draws = 20_000;
        let expected = (4 * n_draws) as f64 * (1.0 - phi) / (1.0 + phi);
        for seed in [5, 6] {
            let mut source = NormalSource::new(seed);
            let chains: Vec<Vec<f64>> = (0..4).map(|_| source.ar1_chain(n_draws, phi)).collect();
            let ess = effective_sample_size(&chains).expect("defined");
            assert!((ess / expected - 1.0).abs() < 0.25, "seed {seed}: ESS = {ess}, expected ≈ {expected}");
            let r_hat = split_r_hat(&chains).expect("defined");
            assert!(r_hat < 1.01, "seed {seed}: R̂ = {r_hat}");
        }
    }

    #[test]
    fn antithetic_chains_have_ess_above_the_draw_count() {
        // φ = −0.5 gives τ = 0.5/1.5 = 1/3, so the ESS is about three times the 4 × 5000 draws, still
        // below the cap N·log10(N) ≈ 86000. The window 2N..4N is wide against the ~5% noise of τ̂.
        let mut source = NormalSource::new(8);
        let chains: Vec<Vec<f64>> = (0..4).map(|_| source.ar1_chain(5000, -0.5)).collect();
        let ess = effective_sample_size(&chains).expect("defined");
        assert!((40_000.0..80_000.0).contains(&ess), "ESS = {ess}");
    }

    #[test]
    fn strongly_antithetic_short_chains_hit_the_cap() {
        // Two short chains with φ = −0.4: the truncated sum gives τ̂ below 1/log10(N), so the result is
        // the cap N·log10(N) = 100·2 = 200 (checked against an independent transcription of Stan's
        // algorithm). Every other estimate stays at or below its cap.
        let mut source = NormalSource::new(22);
        let chains: Vec<Vec<f64>> = (0..2).map(|_| source.ar1_chain(50, -0.4)).collect();
        assert_eq!(effective_sample_size(&chains), Some(200.0));
        let more_chains = normal_chains(23, 3, 40);
        let n_total = 120.0_f64;
        assert!(effective_sample_size(&more_chains).is_some_and(|ess| ess <= n_total * n_total.log10()));
    }

    #[test]
    fn very_slowly_mixing_chains_take_the_fft_route_and_give_a_small_ess() {
        // φ = 0.999 needs hundreds of lags, beyond the break-even lag, so the FFT path is exercised.
        // τ = 1999 and N = 4 × 20000, so the ESS should be about 40; with so few effective draws the
        // estimate is rough, hence the wide window.
        let mut source = NormalSource::new(9);
        let chains: Vec<Vec<f64>> = (0..4).map(|_| source.ar1_chain(20_000, 0.999)).collect();
        let ess = effective_sample_size(&chains).expect("defined");
        assert!((10.0..200.0).contains(&ess), "ESS = {ess}");
    }

    #[test]
    fn chains_with_different_means_give_a_large_r_hat_and_a_small_ess() {
        let mut source = NormalSource::new(4);
        let chains: Vec<Vec<f64>> = (0..4).map(|chain_idx| source.normal_chain(1000, chain_idx as f64)).collect();
        let r_hat = split_r_hat(&chains).expect("defined");
        assert!(r_hat > 1.1, "R̂ = {r_hat}");
        let ess = effective_sample_size(&chains).expect("defined");
        assert!(ess < 400.0, "ESS = {ess}");
    }

    #[test]
    fn a_drifting_single_chain_is_caught_by_splitting() {
        // The first and second halves have different means, which only split-R̂ can see in one chain.
        let mut source = NormalSource::new(10);
        let chain: Vec<f64> = (0..2000).map(|t| t as f64 / 500.0 + source.next_normal()).collect();
        let r_hat = split_r_hat(&[chain]).expect("defined");
        assert!(r_hat > 1.1, "R̂ = {r_hat}");
    }

    #[test]
    fn undefined_inputs_give_none() {
        let no_chains: Vec<Vec<f64>> = Vec::new();
        let constant = vec![vec![1.5; 100], vec![1.5; 100]];
        // Each chain constant but at different levels: the within-chain variance is still zero.
        let constant_levels = vec![vec![1.0; 100], vec![2.0; 100]];
        let too_short = vec![vec![1.0, 2.0, 3.0], vec![1.0, 2.0, 3.0, 4.0, 5.0]];
        let empty_chain = vec![vec![], vec![1.0, 2.0, 3.0, 4.0]];
        let mut with_nan = normal_chains(12, 2, 100);
        with_nan[1][50] = f64::NAN;
        let mut with_infinity = normal_chains(13, 2, 100);
        with_infinity[0][3] = f64::INFINITY;
        // A NaN beyond the common length still makes the input invalid.
        let mut nan_in_dropped_tail = normal_chains(14, 2, 100);
        nan_in_dropped_tail[0].push(f64::NAN);
        for (name, chains) in [
            ("no chains", &no_chains),
            ("constant", &constant),
            ("constant levels", &constant_levels),
            ("too short", &too_short),
            ("empty chain", &empty_chain),
            ("NaN", &with_nan),
            ("infinity", &with_infinity),
            ("NaN in dropped tail", &nan_in_dropped_tail),
        ] {
            assert_eq!(split_r_hat(chains), None, "{name}");
            assert_eq!(effective_sample_size(chains), None, "{name}");
            assert_eq!(monte_carlo_standard_error(chains), None, "{name}");
        }
        // Four draws per chain is the smallest accepted size.
        let minimal = vec![vec![1.0, 3.0, 2.0, 4.0], vec![2.0, 1.0, 4.0, 3.0]];
        assert!(split_r_hat(&minimal).is_some());
        assert!(effective_sample_size(&minimal).is_some());
    }

    #[test]
    fn chains_of_different_lengths_are_cut_to_the_shortest() {
        let mut chains = normal_chains(15, 3, 1000);
        let truncated = chains.clone();
        chains[0].extend([50.0, -50.0, 75.0]);
        chains[2].extend(normal_chains(16, 1, 500).remove(0));
        assert_eq!(split_r_hat(&chains), split_r_hat(&truncated));
        assert_eq!(effective_sample_size(&chains), effective_sample_size(&truncated));
        assert_eq!(monte_carlo_standard_error(&chains), monte_carlo_standard_error(&truncated));
        assert!(split_r_hat(&chains).is_some());
    }

    #[test]
    fn odd_chain_lengths_leave_out_the_middle_draw() {
        // With 5 draws the halves are draws 0..2 and 3..5; changing draw 2 must not change R̂.
        let first = vec![vec![0.0, 1.0, 100.0, 0.5, 1.5], vec![1.0, 0.0, -3.0, 1.5, 0.5]];
        let second = vec![vec![0.0, 1.0, -7.0, 0.5, 1.5], vec![1.0, 0.0, 9.0, 1.5, 0.5]];
        assert_eq!(split_r_hat(&first), split_r_hat(&second));
    }

    #[test]
    fn split_r_hat_matches_a_hand_computation() {
        // Built so that the pieces are easy to check by hand:
        // chain A = [0, 2, 4, 6] → halves [0, 2] and [4, 6]; chain B = [1, 3, 3, 5] → [1, 3] and [3, 5].
        // Half means 1, 5, 2, 4; half variances all 2, so W = 2. Variance of the means (n−1 = 3):
        // ((1−3)² + (5−3)² + (2−3)² + (4−3)²)/3 = 10/3. With h = 2: var⁺ = ½·2 + 10/3 = 13/3,
        // R̂ = sqrt(13/6).
        let chains = vec![vec![0.0, 2.0, 4.0, 6.0], vec![1.0, 3.0, 3.0, 5.0]];
        let r_hat = split_r_hat(&chains).expect("defined");
        assert!((r_hat - (13.0_f64 / 6.0).sqrt()).abs() < 1e-12, "R̂ = {r_hat}");
    }

    #[test]
    fn monte_carlo_standard_error_of_iid_draws_is_sigma_over_root_n() {
        // Same sizes as the i.i.d. ESS test: the ESS is within a few percent of N, and the sample standard
        // deviation of 20000 draws within about 0.5% of 1, so ±15% on 1/√N is safe.
        let chains = normal_chains(17, 4, 5000);
        let mcse = monte_carlo_standard_error(&chains).expect("defined");
        let expected = 1.0 / (20_000.0_f64).sqrt();
        assert!((mcse / expected - 1.0).abs() < 0.15, "MCSE = {mcse}, expected ≈ {expected}");
    }
}
