//! An exact rational number, just large enough for learning coefficients.
//!
//! Aoyagi's λ for a deep linear network is a multiple of 1/(4ℓ) and the two-layer formulas are
//! multiples of 1/8, so every coefficient this crate computes is held as a reduced fraction of
//! 128-bit integers and only turned into `f64` at the edge.

use std::cmp::Ordering;
use std::fmt;

/// A reduced fraction `numer / denom` with `denom > 0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rational {
    numer: i128,
    denom: i128,
}

impl Rational {
    /// Builds `numer / denom` in lowest terms.
    ///
    /// # Panics
    /// Panics if `denom == 0`; every caller in this crate divides by a positive count.
    pub fn new(numer: i128, denom: i128) -> Self {
        assert!(denom != 0, "Rational::new: zero denominator");
        let sign = if denom < 0 { -1 } else { 1 };
        let g = gcd(numer.unsigned_abs(), denom.unsigned_abs()).max(1) as i128;
        Self { numer: sign * numer / g, denom: sign * denom / g }
    }

    /// The integer `n` as a rational.
    pub fn from_integer(n: i128) -> Self {
        Self { numer: n, denom: 1 }
    }

    /// The numerator of the reduced fraction (carries the sign).
    pub fn numer(self) -> i128 {
        self.numer
    }

    /// The denominator of the reduced fraction (always positive).
    pub fn denom(self) -> i128 {
        self.denom
    }

    /// The nearest `f64` (exact whenever numerator and denominator fit in 53 bits).
    pub fn to_f64(self) -> f64 {
        self.numer as f64 / self.denom as f64
    }
}

impl Ord for Rational {
    fn cmp(&self, other: &Self) -> Ordering {
        // Denominators are positive, so cross-multiplying keeps the order. The values this crate
        // builds stay far below i128's range (see `dln::MAX_WIDTH`).
        (self.numer * other.denom).cmp(&(other.numer * self.denom))
    }
}

impl PartialOrd for Rational {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Rational {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.denom == 1 { write!(f, "{}", self.numer) } else { write!(f, "{}/{}", self.numer, self.denom) }
    }
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::Rational;

    #[test]
    fn reduces_and_normalizes_sign() {
        let half = Rational::new(-6, -12);
        assert_eq!((half.numer(), half.denom()), (1, 2));
        assert_eq!(Rational::new(3, -6), Rational::new(-1, 2));
        assert_eq!(Rational::new(0, 7), Rational::from_integer(0));
        assert_eq!(Rational::new(13, 2).to_string(), "13/2");
        assert_eq!(Rational::new(16, 2).to_string(), "8");
        assert!(Rational::new(1, 3) < Rational::new(1, 2));
        assert_eq!(Rational::new(79, 2).to_f64(), 39.5);
    }
}
