//! The automatic step size, one instance per chain: dual averaging of log ε towards a target
//! acceptance probability, capped so that minibatch gradient noise biases λ̂ by at most a set
//! fraction (the algorithm, the cap and their constants are documented on [`EpsilonAdaptation`]).

use crate::EpsilonAdaptation;

/// Shrinkage γ_da of Hoffman & Gelman (2014), Algorithm 5.
const GAMMA: f64 = 0.05;
/// Offset t₀, which damps the first iterations.
const T0: f64 = 10.0;
/// Exponent κ of the averaging weights.
const KAPPA: f64 = 0.75;
/// ε stays within this factor of the starting ε₀.
const RANGE: f64 = 1e4;

/// Exponential moving averages of the bias terms forget at this rate per acceptance measure (a
/// memory of about 100 measures, 200 steps at the default spacing), and at five times this rate
/// per gradient-noise measure (which come five times less often), so that the cap follows the
/// chain as it moves away from w* into stiffer regions.
const FORGET: f64 = 0.01;
/// The fewest measures of each kind before the cap applies.
const MIN_BIAS_MEASURES: u32 = 20;

/// One chain's automatic step size: dual averaging on the acceptance probability, capped by the
/// predicted bias of λ̂.
#[derive(Debug, Clone)]
pub(crate) struct StepSizeAdaptation {
    dual: DualAveraging,
    cap: BiasCap,
}

impl StepSizeAdaptation {
    /// Starts at ε₀ for a chain whose tempered posterior has inverse temperature `n_beta` and whose
    /// anchor has loss `init_loss` = L_n(w*).
    pub(crate) fn new(settings: &EpsilonAdaptation, epsilon0: f64, n_beta: f64, init_loss: f64) -> Self {
        Self {
            dual: DualAveraging::new(settings, epsilon0),
            cap: BiasCap::new(settings.max_bias, settings.noise_every, n_beta, init_loss),
        }
    }

    /// Takes the measures of one move made with step `epsilon` from a point of minibatch loss
    /// `loss`: its MALA acceptance probability and its curvature Δᵀ(∇U(w') − ∇U(w)); returns the
    /// step to use next.
    pub(crate) fn update(&mut self, acceptance: f64, curvature: f64, epsilon: f64, loss: f64) -> f64 {
        self.cap.observe_move(curvature, epsilon, loss);
        self.dual.update(acceptance).min(self.cap.limit())
    }

    /// Takes one gradient-noise measure, tr(P·Σ_B), and returns the step to use next.
    pub(crate) fn observe_noise(&mut self, trace: f64) -> f64 {
        self.cap.observe_noise(trace);
        self.current()
    }

    /// The step in use while adapting.
    pub(crate) fn current(&self) -> f64 {
        self.dual.current().min(self.cap.limit())
    }

    /// The step the chain keeps once adaptation ends: the averaged ε̄, capped.
    pub(crate) fn chosen(&self) -> f64 {
        self.dual.averaged().min(self.cap.limit())
    }
}

/// An exponential moving average that starts as a plain mean: the m-th value has weight
/// max(1/m, `forget`).
#[derive(Debug, Clone, Copy)]
struct Average {
    forget: f64,
    count: u32,
    value: f64,
}

impl Average {
    fn new(forget: f64) -> Self {
        Self { forget, count: 0, value: 0.0 }
    }

    fn push(&mut self, x: f64) {
        self.count += 1;
        let weight = (1.0 / f64::from(self.count)).max(self.forget);
        self.value += weight * (x - self.value);
    }
}

/// The bias bound on ε (see [`EpsilonAdaptation::max_bias`]): the largest ε whose predicted
/// relative bias ε·(K_step + K_noise)/λ̂ is at most the bound, with
/// K_step = tr(P·nβ∇²L)/8 ≈ Δᵀ(∇U(w') − ∇U(w))/(8ε) from the acceptance measures and
/// K_noise = (nβ)²·tr(P·Σ_B)/8 from the gradient-noise measures, each a moving average over the
/// chain's recent points, and λ̂ = nβ·(L − L_n(w*)) averaged over the same points.
#[derive(Debug, Clone)]
struct BiasCap {
    max_bias: f64,
    n_beta: f64,
    init_loss: f64,
    step: Average,
    noise: Average,
    excess: Average,
}

impl BiasCap {
    fn new(max_bias: f64, noise_every: usize, n_beta: f64, init_loss: f64) -> Self {
        // Noise measures come `noise_every / every` times less often than acceptance measures; at
        // the defaults (10 and 2) they forget five times faster, so both remember about as long.
        let noise_forget = (FORGET * noise_every.max(1) as f64 / 2.0).min(1.0);
        Self {
            max_bias,
            n_beta,
            init_loss,
            step: Average::new(FORGET),
            noise: Average::new(noise_forget),
            excess: Average::new(FORGET),
        }
    }

    /// Adds a move's curvature, taken with step `epsilon` from a point of loss `loss`; non-finite
    /// values are ignored.
    fn observe_move(&mut self, curvature: f64, epsilon: f64, loss: f64) {
        if curvature.is_finite() && loss.is_finite() && epsilon > 0.0 {
            self.step.push(curvature.max(0.0) / (8.0 * epsilon));
            self.excess.push(self.n_beta * (loss - self.init_loss));
        }
    }

    /// Adds a gradient-noise measure; a non-finite value is ignored.
    fn observe_noise(&mut self, trace: f64) {
        if trace.is_finite() {
            self.noise.push(self.n_beta * self.n_beta * trace.max(0.0) / 8.0);
        }
    }

    /// The predicted bias per unit ε, K_step + K_noise (the noise part counts once measured).
    fn per_epsilon(&self) -> f64 {
        let noise = if self.noise.count >= MIN_BIAS_MEASURES { self.noise.value } else { 0.0 };
        self.step.value + noise
    }

    /// The largest ε allowed so far: ∞ until there are enough measures, while the chain's loss
    /// has not risen above L_n(w*) on average, or with an infinite bound.
    fn limit(&self) -> f64 {
        let per_epsilon = self.per_epsilon();
        if self.step.count < MIN_BIAS_MEASURES
            || self.excess.value <= 0.0
            || per_epsilon <= 0.0
            || !self.max_bias.is_finite()
        {
            return f64::INFINITY;
        }
        self.max_bias * self.excess.value / per_epsilon
    }
}

/// Dual averaging of log ε towards a target acceptance probability.
#[derive(Debug, Clone)]
pub(crate) struct DualAveraging {
    target: f64,
    /// μ = log ε₀.
    mu: f64,
    /// Measures so far, m.
    m: u32,
    /// H̄_m.
    h_bar: f64,
    /// log ε̄_m.
    log_eps_bar: f64,
    /// log ε_m, the step in use while adapting.
    log_eps: f64,
}

impl DualAveraging {
    /// Starts at ε₀ (which is also the point the iterates shrink towards).
    pub(crate) fn new(settings: &EpsilonAdaptation, epsilon0: f64) -> Self {
        let mu = epsilon0.ln();
        Self { target: settings.target_for(true), mu, m: 0, h_bar: 0.0, log_eps_bar: mu, log_eps: mu }
    }

    /// Takes one measured acceptance probability and returns the step to use next, ε_m. A NaN
    /// measure (no move was made) changes nothing.
    pub(crate) fn update(&mut self, acceptance: f64) -> f64 {
        if acceptance.is_nan() {
            return self.current();
        }
        self.m += 1;
        let m = f64::from(self.m);
        let weight = 1.0 / (m + T0);
        self.h_bar = (1.0 - weight) * self.h_bar + weight * (self.target - acceptance.clamp(0.0, 1.0));
        let bound = RANGE.ln();
        self.log_eps = (self.mu - m.sqrt() / GAMMA * self.h_bar).clamp(self.mu - bound, self.mu + bound);
        let eta = m.powf(-KAPPA);
        self.log_eps_bar = eta * self.log_eps + (1.0 - eta) * self.log_eps_bar;
        self.current()
    }

    /// The step in use while adapting, ε_m.
    pub(crate) fn current(&self) -> f64 {
        self.log_eps.exp()
    }

    /// The averaged step ε̄_m, which the chain keeps once adaptation ends.
    pub(crate) fn averaged(&self) -> f64 {
        self.log_eps_bar.exp()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A toy chain whose acceptance probability is exp(−ε/s), so the ε that gives acceptance δ is
    /// s·ln(1/δ). Measures are noisy (±0.1, uniform, from a fixed-seed LCG); dual averaging must
    /// still land within 15% of the answer from ε₀ a factor 100 too small and a factor 100 too
    /// large, in 300 measures. (The noise shifts ε̄ by about its own size times the slope of
    /// log ε̄ against α, about 10%, and the average over 300 measures removes most of it.)
    #[test]
    fn it_finds_the_step_that_gives_the_target_acceptance() {
        let settings = EpsilonAdaptation { target_acceptance: Some(0.9), ..Default::default() };
        let scale = 3e-7;
        let answer = scale * (1.0f64 / 0.9).ln();
        for start in [answer / 100.0, answer * 100.0] {
            let mut adapt = DualAveraging::new(&settings, start);
            let mut state = 12345u64;
            let mut epsilon = adapt.current();
            for _ in 0..300 {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let noise = ((state >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 0.2;
                epsilon = adapt.update((-epsilon / scale).exp() + noise);
            }
            let found = adapt.averaged();
            assert!((found / answer - 1.0).abs() < 0.15, "from {start:e}: found {found:e}, answer {answer:e}");
        }
    }

    #[test]
    fn nan_measures_are_ignored_and_the_range_is_bounded() {
        let settings = EpsilonAdaptation::default();
        let mut adapt = DualAveraging::new(&settings, 1e-6);
        assert!((adapt.update(f64::NAN) / 1e-6 - 1.0).abs() < 1e-12, "a NaN measure leaves ε₀");
        // Acceptance 1 forever pushes ε up, but never past 10⁴·ε₀.
        for _ in 0..10_000 {
            adapt.update(1.0);
        }
        assert!(adapt.current() <= 1e-6 * RANGE * (1.0 + 1e-9), "{}", adapt.current());
        assert!(adapt.averaged() > 1e-6, "{}", adapt.averaged());
    }

    /// The cap is max_bias·λ̂/(K_step + K_noise) with the three read off the measures exactly: here
    /// K_step = 10⁶/8 (curvature ε·10⁶), K_noise = nβ²·10/8 and λ̂ = nβ·(0.6 − 0.1) = 50.
    #[test]
    fn the_cap_is_the_bias_bound_over_the_predicted_bias_per_unit_step() {
        let settings = EpsilonAdaptation::default();
        let (n_beta, init_loss) = (100.0, 0.1);
        let mut adapt = StepSizeAdaptation::new(&settings, 1e-7, n_beta, init_loss);
        let expected = settings.max_bias * 50.0 / (1e6 / 8.0 + n_beta * n_beta * 10.0 / 8.0);
        for _ in 0..MIN_BIAS_MEASURES {
            // Before enough move measures the cap does not bind.
            assert!(adapt.cap.limit().is_infinite());
            let epsilon = adapt.current();
            adapt.update(1.0, epsilon * 1e6, epsilon, 0.6);
        }
        assert!((adapt.cap.limit() / (settings.max_bias * 50.0 / (1e6 / 8.0)) - 1.0).abs() < 1e-9, "step part only");
        for _ in 0..MIN_BIAS_MEASURES {
            adapt.observe_noise(10.0);
        }
        assert!((adapt.cap.limit() / expected - 1.0).abs() < 1e-9, "{} vs {expected}", adapt.cap.limit());
        for _ in 0..500 {
            let epsilon = adapt.current();
            adapt.update(1.0, epsilon * 1e6, epsilon, 0.6);
        }
        // Acceptance 1 drives dual averaging far above the cap; the cap decides.
        assert!(adapt.dual.averaged() > expected, "{}", adapt.dual.averaged());
        assert!((adapt.current() / expected - 1.0).abs() < 1e-9);
        assert!((adapt.chosen() / expected - 1.0).abs() < 1e-9);
    }

    /// The moving averages follow a chain into a stiffer region: after the curvature per unit step
    /// quadruples, the cap falls to a quarter within a few hundred measures (memory ≈ 100).
    #[test]
    fn the_cap_follows_the_curvature_and_ignores_bad_measures() {
        let settings = EpsilonAdaptation { max_bias: 0.05, ..Default::default() };
        let mut adapt = StepSizeAdaptation::new(&settings, 1e-7, 1.0, 0.0);
        for _ in 0..300 {
            adapt.update(0.95, 1e-7 * 8.0, 1e-7, 2.0);
        }
        let before = adapt.cap.limit();
        assert!((before / (0.05 * 2.0) - 1.0).abs() < 1e-9, "{before}");
        adapt.update(0.95, f64::NAN, 1e-7, 2.0);
        adapt.update(0.95, 1.0, 1e-7, f64::INFINITY);
        adapt.observe_noise(f64::NAN);
        assert_eq!(adapt.cap.limit(), before, "non-finite measures change nothing");
        for _ in 0..600 {
            adapt.update(0.95, 4e-7 * 8.0, 1e-7, 2.0);
        }
        let after = adapt.cap.limit();
        assert!((after / (before / 4.0) - 1.0).abs() < 0.01, "{after} vs {}", before / 4.0);
        // A chain whose loss stays at or below L_n(w*) has no λ̂ to scale the bound with: no cap.
        let mut flat = StepSizeAdaptation::new(&settings, 1e-7, 1.0, 5.0);
        for _ in 0..100 {
            flat.update(0.95, 1e-6, 1e-7, 4.0);
        }
        assert!(flat.cap.limit().is_infinite());
        // An infinite bound switches the cap off.
        let settings = EpsilonAdaptation { max_bias: f64::INFINITY, ..Default::default() };
        let mut off = StepSizeAdaptation::new(&settings, 1e-7, 1.0, 0.0);
        for _ in 0..100 {
            off.update(0.95, 1e-6, 1e-7, 4.0);
        }
        assert!(off.cap.limit().is_infinite());
    }
}
