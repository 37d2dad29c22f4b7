//! Synthetic inputs `x ~ U[low, high]^width`, defined sample by sample from `(seed, index)`
//! (docs/method.md §3: the paper uses `U[−10, 10]`).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::ModelError;

/// The paper's input range: every coordinate is uniform on `[−10, 10]` (docs/method.md §3, §5, §6).
pub const PAPER_INPUT_RANGE: (f32, f32) = (-10.0, 10.0);

/// A synthetic input data set of `n` samples of `width` coordinates, each uniform on
/// `[low, high]`, fully determined by a seed.
///
/// The definition is counter based, so that any minibatch can be produced without holding the
/// data set (at paper scale, `n = 10⁶` inputs of width 3000 would take 12 GB): coordinate `j` of
/// sample `i` is made from the 32-bit word at position `i·width + j` of the
/// `ChaCha8Rng::seed_from_u64(seed)` key stream. The top 24 bits of that word give
/// `u = word / 2²⁴ ∈ [0, 1)` on the exact f32 grid, and the coordinate is `low + (high − low)·u`
/// computed in f64, rounded to f32 and clamped to `[low, high]`. Streamed rows and the
/// materialized data set are therefore bit-identical.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SyntheticInputs {
    seed: u64,
    n: usize,
    width: usize,
    low: f32,
    high: f32,
}

impl SyntheticInputs {
    /// A data set of `n` samples of `width` coordinates on the paper's range `[−10, 10]`.
    ///
    /// `n` and `width` must be positive, and `n·width` must fit the generator's 2⁶⁴-word address
    /// space.
    pub fn new(seed: u64, n: usize, width: usize) -> Result<Self, ModelError> {
        Self::with_range(seed, n, width, PAPER_INPUT_RANGE.0, PAPER_INPUT_RANGE.1)
    }

    /// A data set of `n` samples of `width` coordinates uniform on `[low, high]`; the bounds must
    /// be finite with `low < high`.
    pub fn with_range(seed: u64, n: usize, width: usize, low: f32, high: f32) -> Result<Self, ModelError> {
        if n == 0 {
            return Err(ModelError::Empty { what: "the data set (n = 0)" });
        }
        if width == 0 {
            return Err(ModelError::ZeroWidth { index: 0 });
        }
        if !(low.is_finite() && high.is_finite() && low < high) {
            return Err(ModelError::InvalidRange { low, high });
        }
        let words = (n as u128) * (width as u128);
        if words > u128::from(u64::MAX) || n.checked_mul(width).is_none() {
            return Err(ModelError::TooLarge { what: "the data set (n times width)" });
        }
        Ok(Self { seed, n, width, low, high })
    }

    /// The seed of the key stream.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The number of samples `n`.
    pub fn n(&self) -> usize {
        self.n
    }

    /// The number of coordinates of each sample (the network's input width `H_1`).
    pub fn width(&self) -> usize {
        self.width
    }

    /// The range `(low, high)` of every coordinate.
    pub fn range(&self) -> (f32, f32) {
        (self.low, self.high)
    }

    /// Maps one key-stream word to a coordinate in `[low, high]`.
    fn coordinate(&self, word: u32) -> f32 {
        let u = f64::from(word >> 8) / f64::from(1_u32 << 24);
        let (low, high) = (f64::from(self.low), f64::from(self.high));
        ((low + (high - low) * u) as f32).clamp(self.low, self.high)
    }

    /// Replaces the contents of `out` with the samples at `indices`, one row of `width` values
    /// after another (row-major `[indices.len(), width]`). Indices may repeat and come in any
    /// order; an index `≥ n` is an error and leaves `out` empty.
    pub fn fill_rows(&self, indices: &[usize], out: &mut Vec<f32>) -> Result<(), ModelError> {
        out.clear();
        if let Some(&index) = indices.iter().find(|&&i| i >= self.n) {
            return Err(ModelError::IndexOutOfRange { index, n: self.n });
        }
        out.reserve(indices.len() * self.width);
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        for &i in indices {
            let start = (i as u128) * (self.width as u128);
            if rng.get_word_pos() != start {
                rng.set_word_pos(start);
            }
            for _ in 0..self.width {
                out.push(self.coordinate(rng.next_u32()));
            }
        }
        Ok(())
    }

    /// The samples at `indices` as a new row-major `[indices.len(), width]` buffer; see
    /// [`SyntheticInputs::fill_rows`].
    pub fn rows(&self, indices: &[usize]) -> Result<Vec<f32>, ModelError> {
        let mut out = Vec::new();
        self.fill_rows(indices, &mut out)?;
        Ok(out)
    }

    /// All `n` samples as one row-major `[n, width]` buffer, identical to the streamed rows.
    pub fn materialize(&self) -> Vec<f32> {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        (0..self.n * self.width).map(|_| self.coordinate(rng.next_u32())).collect()
    }
}
