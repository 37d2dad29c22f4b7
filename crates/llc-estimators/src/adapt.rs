//! Dual averaging of log ε towards a target acceptance probability, one instance per chain (the
//! algorithm and its constants are documented on [`EpsilonAdaptation`]).

use crate::EpsilonAdaptation;

/// Shrinkage γ_da of Hoffman & Gelman (2014), Algorithm 5.
const GAMMA: f64 = 0.05;
/// Offset t₀, which damps the first iterations.
const T0: f64 = 10.0;
/// Exponent κ of the averaging weights.
const KAPPA: f64 = 0.75;
/// ε stays within this factor of the starting ε₀.
const RANGE: f64 = 1e4;

/// One chain's step-size adaptation.
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
        Self { target: settings.target_acceptance, mu, m: 0, h_bar: 0.0, log_eps_bar: mu, log_eps: mu }
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
        let settings = EpsilonAdaptation { target_acceptance: 0.9, ..Default::default() };
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
}
