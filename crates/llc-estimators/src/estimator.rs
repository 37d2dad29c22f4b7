//! The one entry point: [`Estimator`], a builder over the model, the data and the loss, with
//! optional settings and [`Estimator::run`].

use burn::module::AutodiffModule;
use burn::tensor::Tensor;
use burn::tensor::backend::AutodiffBackend;
use llc_sampler::{DiagonalPreconditioner, SgldChains};

use crate::error::ConfigError;
use crate::run::Run;
use crate::{
    DataSource, DrawLoss, EstimatorConfig, EstimatorError, FULL_DRAW_LOSS_CHUNK, LlcEstimate, NoProgress, Progress,
    SamplerKind,
};

/// How L_n(w*) is obtained.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum InitLoss {
    /// Average the loss over the whole data set, in chunks of this many samples.
    Compute {
        /// Samples per chunk.
        chunk: usize,
    },
    /// Known exactly (e.g. 0 at a noiseless teacher), so the full pass is skipped.
    Known(f64),
}

impl Default for InitLoss {
    /// A full pass over the data in chunks of [`FULL_DRAW_LOSS_CHUNK`] samples.
    fn default() -> Self {
        Self::Compute { chunk: FULL_DRAW_LOSS_CHUNK }
    }
}

/// The estimator of λ̂ at the point `model` (which is w*): multi-chain SGLD, RMSprop-SGLD or
/// full-batch MALA (`config.sampler`), all driven by one chain loop.
///
/// `loss(model, batch)` returns the mean loss over a batch, as a one-element tensor (for stacked
/// chains, one mean per copy). Everything else is optional, with these defaults:
///
/// | setting | default | setter |
/// |---|---|---|
/// | sampler, steps, ε, γ, nβ, seed, … | [`EstimatorConfig::default`] | [`with_config`](Self::with_config) |
/// | L_n(w*) | a full pass over the data ([`InitLoss::default`]) | [`with_init_loss`](Self::with_init_loss) |
/// | draw loss | the step's minibatch loss | [`with_draw_loss`](Self::with_draw_loss) |
/// | preconditioner | none (P = 1, or RMSprop's own) | [`with_preconditioner`](Self::with_preconditioner) |
/// | stacked chains | 1 (chains one at a time) | [`with_stacked_chains`](Self::with_stacked_chains) |
/// | progress | none | [`with_progress`](Self::with_progress) |
///
/// Every option combines with every other, except where the combination cannot work, which
/// [`run`](Self::run) refuses with a typed [`ConfigError`] before any step: MALA with stacked
/// chains, and a fixed preconditioner with an RMSprop sampler.
///
/// **Chains and seeds.** Chain k has its own noise and minibatch streams derived from
/// `config.seed` and k, so the same seed on the same backend gives the same result, whether the
/// chains run one at a time or stacked. A chain whose loss becomes NaN, ∞ or explodes restarts
/// from w* with ε halved, up to `config.max_restarts` times; after that it stops, is named in the
/// result, and every other chain is kept (docs/method.md §8).
///
/// **MALA** uses the whole data set at every step (`data.batch(&[0, 1, …, n − 1])`, built once and
/// reused, so it must fit in memory); each draw is the full-data loss at the chain's point, and the
/// reported acceptance is the real acceptance rate. `batch_size` and `acceptance_every` are
/// ignored.
///
/// **Stacked chains.** For small models, one module holding C copies of w* along the leading
/// dimension of every parameter (e.g. `llc_models::StackedDln::replicate(&dln, C)`) steps C
/// chains with one forward, backward and update, several times faster on the CPU. The loss then
/// returns the C copies' mean losses as a `[C]` tensor, where the batch holds the C chains'
/// minibatches one after another (copy c takes block c). `config.n_chains` must be a multiple of C.
///
/// ```
/// use burn::backend::{Autodiff, NdArray};
/// use burn::module::{Module, Param};
/// use burn::tensor::Tensor;
/// use llc_estimators::{Estimator, EstimatorConfig, FnDataSource, InitLoss};
///
/// type B = Autodiff<NdArray>;
///
/// #[derive(Module, Debug)]
/// struct Line<B: burn::tensor::backend::Backend> {
///     a: Param<Tensor<B, 1>>,
/// }
///
/// let device = Default::default();
/// let model = Line::<B> { a: Param::from_tensor(Tensor::zeros([1], &device)) };
/// let xs: Vec<f32> = (0..1000).map(|i| (i as f32 / 500.0) - 1.0).collect();
/// let data = FnDataSource::new(xs.len(), |idx: &[usize]| {
///     Tensor::<B, 1>::from_floats(idx.iter().map(|&i| xs[i]).collect::<Vec<_>>().as_slice(), &device)
/// });
/// let loss = |m: &Line<B>, x: &Tensor<B, 1>| (x.clone() * m.a.val()).square().mean();
/// let config = EstimatorConfig::default().with_chains(2).with_steps(2_000).with_burn_in(500).with_batch_size(100);
/// let estimate = Estimator::new(&model, &data, loss)
///     .with_config(config.with_epsilon(1e-3))
///     .with_init_loss(InitLoss::Known(0.0))
///     .run()
///     .unwrap();
/// assert!((estimate.lambda_hat - 0.5).abs() < 0.15, "λ̂ = {}", estimate.lambda_hat);
/// ```
pub struct Estimator<'a, B: AutodiffBackend, M, D, L> {
    model: &'a M,
    data: &'a D,
    loss: L,
    config: EstimatorConfig,
    copies: usize,
    preconditioner: Option<DiagonalPreconditioner<B>>,
    init_loss: InitLoss,
    progress: Option<&'a mut dyn Progress>,
}

impl<'a, B, M, D, L> Estimator<'a, B, M, D, L>
where
    B: AutodiffBackend,
    M: AutodiffModule<B>,
    D: DataSource,
    L: Fn(&M, &D::Batch) -> Tensor<B, 1>,
{
    /// An estimator at `model` (w*) over `data`, with the default settings.
    pub fn new(model: &'a M, data: &'a D, loss: L) -> Self {
        Self {
            model,
            data,
            loss,
            config: EstimatorConfig::default(),
            copies: 1,
            preconditioner: None,
            init_loss: InitLoss::default(),
            progress: None,
        }
    }

    /// The estimator's settings (sampler, chains, steps, ε, γ, nβ, seed, …).
    pub fn with_config(mut self, config: EstimatorConfig) -> Self {
        self.config = config;
        self
    }

    /// How L_n(w*) is obtained (default: a full pass over the data).
    pub fn with_init_loss(mut self, init_loss: InitLoss) -> Self {
        self.init_loss = init_loss;
        self
    }

    /// Which loss each kept draw records (sets `config.draw_loss`).
    pub fn with_draw_loss(mut self, draw_loss: DrawLoss) -> Self {
        self.config.draw_loss = draw_loss;
        self
    }

    /// A fixed diagonal preconditioner P in every chain's update (SGLD or MALA), e.g. the one
    /// matched to a ReLU rescaling, which makes both samplers equivariant under it. It must have
    /// been built for `model` (it is keyed by parameter ids, which clones keep), stacked if the
    /// chains are ([`DiagonalPreconditioner::in_visit_order_stacked`]).
    pub fn with_preconditioner(mut self, preconditioner: DiagonalPreconditioner<B>) -> Self {
        self.preconditioner = Some(preconditioner);
        self
    }

    /// `model` holds `copies` stacked copies of w* (see the type's docs); groups of `copies`
    /// chains then step as one module.
    pub fn with_stacked_chains(mut self, copies: usize) -> Self {
        self.copies = copies;
        self
    }

    /// Reports progress (steps done, divergences, restarts) to `progress` while it runs.
    pub fn with_progress(mut self, progress: &'a mut dyn Progress) -> Self {
        self.progress = Some(progress);
        self
    }

    /// Checks every setting and their combinations, naming the first problem; [`run`](Self::run)
    /// does this before any work.
    pub fn validate(&self) -> Result<(), EstimatorError> {
        let config = &self.config;
        config.validate(self.data.len())?;
        if self.copies == 0 {
            return Err(ConfigError::Zero { name: "stacked chains" }.into());
        }
        if self.copies > 1 && config.sampler == SamplerKind::Mala {
            return Err(ConfigError::StackedMala.into());
        }
        if !config.n_chains.is_multiple_of(self.copies) {
            return Err(ConfigError::StackedGroups { chains: config.n_chains, copies: self.copies }.into());
        }
        SgldChains::<B, M>::check_stack(self.model, self.copies)?;
        if let Some(p) = &self.preconditioner {
            if matches!(config.sampler, SamplerKind::RmspropSgld | SamplerKind::RmspropSgldBiasCorrected) {
                return Err(ConfigError::PreconditionerWithRmsprop.into());
            }
            p.check_fits(self.model)?;
        }
        Ok(())
    }

    /// Validates the settings, computes L_n(w*), runs every chain and returns the estimate.
    pub fn run(self) -> Result<LlcEstimate, EstimatorError> {
        self.validate()?;
        let Self { model, data, loss, config, copies, preconditioner, init_loss, progress } = self;
        let mut no_progress = NoProgress;
        let progress: &mut dyn Progress = match progress {
            Some(p) => p,
            None => &mut no_progress,
        };
        Run::start(model, copies, data, &loss, &config, init_loss)?.all_chains(model, preconditioner.as_ref(), progress)
    }
}
