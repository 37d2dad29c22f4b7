//! Where minibatches come from: any type that can produce the batch for a list of sample indices.

/// A data set of `len()` samples from which the estimator draws minibatches by index.
///
/// The batch type is whatever the user's loss closure consumes (e.g. a pair of input and target
/// tensors). Implementations may hold the data in memory or generate sample i on demand.
pub trait DataSource {
    /// One minibatch.
    type Batch;

    /// The number of samples n.
    fn len(&self) -> usize;

    /// True when there are no samples.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The minibatch made of the samples at `indices` (each `< len()`, possibly repeated).
    fn batch(&self, indices: &[usize]) -> Self::Batch;
}

/// A [`DataSource`] from a sample count and a closure, for data that lives elsewhere.
///
/// ```
/// use llc_estimators::{DataSource, FnDataSource};
/// let squares = FnDataSource::new(10, |idx: &[usize]| idx.iter().map(|i| i * i).collect::<Vec<_>>());
/// assert_eq!(squares.batch(&[2, 3]), vec![4, 9]);
/// ```
pub struct FnDataSource<F> {
    n: usize,
    make_batch: F,
}

impl<F> FnDataSource<F> {
    /// A data set of `n` samples whose minibatch for `indices` is `make_batch(indices)`.
    pub fn new(n: usize, make_batch: F) -> Self {
        Self { n, make_batch }
    }
}

impl<F, T> DataSource for FnDataSource<F>
where
    F: Fn(&[usize]) -> T,
{
    type Batch = T;

    fn len(&self) -> usize {
        self.n
    }

    fn batch(&self, indices: &[usize]) -> T {
        (self.make_batch)(indices)
    }
}
