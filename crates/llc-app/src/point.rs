//! The measured point w*: a random teacher network with its noiseless synthetic data set, and the
//! losses the estimator evaluates there.
//!
//! Every estimate of the `llc` command and of `cargo xtask` is set up the same way: the teacher is
//! drawn from a seed s, the inputs x ~ U[−10, 10] from seed s + 1 (sample i depends only on that
//! seed and i, so data sets of different sizes nest), the targets are y = teacher(x), and w* is
//! the teacher itself (or, in the DLN suite, an SGD-trained student on the same data). A noiseless
//! teacher has L_n(w*) = 0, which a data set held in memory checks by computing it and a streamed
//! one takes as known ([`Point::init`]).

use std::fmt;

use burn::tensor::Tensor;
use burn::tensor::backend::{AutodiffBackend, Backend};
use llc_estimators::{DataSource, Estimator, EstimatorConfig, EstimatorError, InitLoss, LlcEstimate, Progress};
use llc_models::{
    DataForm, Dln, DlnTeacher, Mlp, MlpTeacher, ModelError, RegressionData, StackedDln, SyntheticInputs, mse,
    mse_per_copy,
};
use llc_theory::TheoryError;
use serde::{Deserialize, Serialize};

/// A minibatch of a regression data set: inputs and targets, one sample per row.
pub type Batch<B> = (Tensor<B, 2>, Tensor<B, 2>);

/// The models crate's regression data as the estimator's [`DataSource`].
pub struct Regression<B: Backend>(pub RegressionData<B>);

impl<B: Backend> DataSource for Regression<B> {
    type Batch = Batch<B>;

    fn len(&self) -> usize {
        self.0.n()
    }

    fn batch(&self, indices: &[usize]) -> Batch<B> {
        // The estimator only asks for indices below n, the one condition `batch` checks.
        self.0.batch(indices).expect("the estimator draws indices below n")
    }
}

/// How a deep linear teacher is drawn (`--teacher`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Teacher {
    /// Every layer full rank.
    FullRank,
    /// The paper's procedure: each layer's rank cut at random with probability 1/2.
    PaperRandom,
}

impl Teacher {
    /// The value's spelling on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::FullRank => "full-rank",
            Self::PaperRandom => "paper-random",
        }
    }
}

/// Why a point could not be set up.
#[derive(Debug, Clone)]
pub enum SetupError {
    /// The teacher could not be drawn.
    Teacher(ModelError),
    /// Aoyagi's theorem refused the teacher's rank (a bug: the teacher's widths were valid).
    Theory {
        /// The rank of the teacher's product.
        rank: usize,
        /// The theory crate's reason.
        error: TheoryError,
    },
    /// The synthetic inputs could not be defined.
    Inputs(ModelError),
    /// The data set could not be built.
    Data(ModelError),
}

impl SetupError {
    /// Whether the caller's settings are at fault (everything but a failure of the theory).
    pub fn is_input_error(&self) -> bool {
        !matches!(self, Self::Theory { .. })
    }
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Teacher(e) => write!(f, "cannot build the teacher: {e}"),
            Self::Theory { rank, error } => write!(f, "theory failed for the teacher's rank {rank}: {error}"),
            Self::Inputs(e) => write!(f, "cannot define the data set: {e}"),
            Self::Data(e) => write!(f, "cannot build the data set: {e}"),
        }
    }
}

impl std::error::Error for SetupError {}

/// The data set of a teacher drawn from `seed`: `n` samples from inputs seed `seed + 1`, held in
/// memory or streamed as `form` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Synthetic {
    /// The number of samples.
    pub n: usize,
    /// The teacher's seed (the inputs use the next one).
    pub seed: u64,
    /// Held in memory, generated per minibatch, or chosen by size.
    pub form: DataForm,
}

impl Synthetic {
    /// The inputs of `width` features.
    fn inputs(&self, width: usize) -> Result<SyntheticInputs, SetupError> {
        SyntheticInputs::new(self.seed.wrapping_add(1), self.n, width).map_err(SetupError::Inputs)
    }
}

/// A deep linear teacher of `widths` drawn from `seed`: with product rank exactly `rank` when it is
/// given, else as `teacher` says.
pub fn dln_teacher(
    widths: &[usize],
    teacher: Teacher,
    rank: Option<usize>,
    seed: u64,
) -> Result<DlnTeacher, SetupError> {
    match (rank, teacher) {
        (Some(rank), _) => DlnTeacher::with_rank(widths, rank, seed),
        (None, Teacher::FullRank) => DlnTeacher::full_rank(widths, seed),
        (None, Teacher::PaperRandom) => DlnTeacher::random(widths, seed),
    }
    .map_err(SetupError::Teacher)
}

/// A ReLU teacher of `widths` (with biases) drawn from `seed`: weights N(0, 1/fan_in), hidden
/// biases N(0, `hidden_bias_std`²).
pub fn mlp_teacher(widths: &[usize], seed: u64, hidden_bias_std: f64) -> Result<MlpTeacher, SetupError> {
    MlpTeacher::random(widths, seed, hidden_bias_std).map_err(SetupError::Teacher)
}

/// The point an estimate measures, with everything it needs.
pub struct Point<M, B: Backend> {
    /// w* as a module.
    pub model: M,
    /// The data set.
    pub data: Regression<B>,
    /// How the estimator obtains L_n(w*): computed when the data set is in memory, known to be 0
    /// when it is streamed.
    pub init: InitLoss,
}

impl<M, B: Backend> Point<M, B> {
    /// The teacher `model` and its data.
    fn at_teacher(model: M, data: RegressionData<B>) -> Self {
        // A noiseless teacher has L_n(w*) = 0 exactly; with data in memory it is also checked.
        let init = if data.is_materialized() { InitLoss::Compute { chunk: 4096 } } else { InitLoss::Known(0.0) };
        Self { model, data: Regression(data), init }
    }

    /// Whether the data set is held in memory (else each minibatch is generated).
    pub fn materialized(&self) -> bool {
        self.data.0.is_materialized()
    }

    /// The form of the data set, as reports write it: `materialized` or `streaming`.
    pub fn data_form(&self) -> &'static str {
        if self.materialized() { "materialized" } else { "streaming" }
    }
}

impl<M, B: AutodiffBackend> Point<M, B>
where
    M: burn::module::AutodiffModule<B>,
{
    /// The estimator at this point with `loss`, L_n(w*) obtained as [`Point::init`] says; the
    /// caller adds its settings and runs it.
    pub fn estimator<L>(&self, loss: L) -> Estimator<'_, B, M, Regression<B>, L>
    where
        L: Fn(&M, &Batch<B>) -> Tensor<B, 1>,
    {
        Estimator::new(&self.model, &self.data, loss).with_init_loss(self.init)
    }

    /// Runs the estimator at this point with `loss` and `config`, reporting to `progress` (the
    /// common case of [`Point::estimator`]: no preconditioner, chains one at a time).
    pub fn estimate<L>(
        &self,
        loss: L,
        config: EstimatorConfig,
        progress: &mut dyn Progress,
    ) -> Result<LlcEstimate, EstimatorError>
    where
        L: Fn(&M, &Batch<B>) -> Tensor<B, 1>,
    {
        self.estimator(loss).with_config(config).with_progress(progress).run()
    }
}

/// A deep linear teacher's [`Point`], with the rank of its product and Aoyagi's λ for that rank.
pub struct DlnPoint<B: Backend> {
    /// The teacher and its data.
    pub point: Point<Dln<B>, B>,
    /// The rank of the teacher's product.
    pub rank: usize,
    /// Aoyagi's exact λ at that rank.
    pub lambda: f64,
}

/// The point at a deep linear `teacher`, with its data set on `device`.
pub fn dln_point<B: Backend>(
    teacher: &DlnTeacher,
    data: Synthetic,
    device: &B::Device,
) -> Result<DlnPoint<B>, SetupError> {
    let rank = teacher.true_rank();
    let widths = teacher.widths();
    let lambda = llc_theory::dln_learning_coefficient(widths, rank)
        .map_err(|error| SetupError::Theory { rank, error })?
        .lambda();
    let inputs = data.inputs(widths[0])?;
    let set = RegressionData::<B>::dln(teacher, inputs, data.form, device).map_err(SetupError::Data)?;
    Ok(DlnPoint { point: Point::at_teacher(teacher.to_module::<B>(device), set), rank, lambda })
}

/// The point at a ReLU `teacher`, with its data set on `device`.
pub fn mlp_point<B: Backend>(
    teacher: &MlpTeacher,
    data: Synthetic,
    device: &B::Device,
) -> Result<Point<Mlp<B>, B>, SetupError> {
    let inputs = data.inputs(teacher.widths()[0])?;
    let set = RegressionData::<B>::mlp(teacher, inputs, data.form, device).map_err(SetupError::Data)?;
    Ok(Point::at_teacher(teacher.to_module::<B>(device), set))
}

/// The ReLU network `model` with every hidden neuron rescaled by `alpha` (its incoming weights and
/// bias × α, its outgoing weights ÷ α: the same function, so the same data and the same true λ),
/// and the factors of the diagonal preconditioner matched to the rescaling, in the module's visit
/// order (α² on a rescaled neuron's incoming weights and bias, 1/α² on its outgoing weights; the
/// products over layers). A network without hidden layers comes back as it is, with no factors.
pub fn rescaled_mlp<B: Backend>(model: &Mlp<B>, alpha: f32) -> Result<(Mlp<B>, Vec<Vec<f32>>), ModelError> {
    let mut model = model.clone();
    let mut matched: Vec<Vec<f32>> = Vec::new();
    let widths = model.widths();
    for layer in 0..model.hidden_layers() {
        let alphas = vec![alpha; widths[layer + 1]];
        let factors = model.rescale_preconditioner(layer, &alphas)?;
        model = model.rescale_hidden(layer, &alphas)?;
        if matched.is_empty() {
            matched = factors.into_iter().map(|p| p.factors).collect();
        } else {
            for (acc, p) in matched.iter_mut().zip(factors) {
                acc.iter_mut().zip(p.factors).for_each(|(a, f)| *a *= f);
            }
        }
    }
    Ok((model, matched))
}

/// The mean squared error of a deep linear network on a minibatch.
pub fn dln_loss<B: Backend>(m: &Dln<B>, (x, y): &Batch<B>) -> Tensor<B, 1> {
    mse(m.forward(x.clone()), y.clone())
}

/// The mean squared error of a ReLU network on a minibatch.
pub fn mlp_loss<B: Backend>(m: &Mlp<B>, (x, y): &Batch<B>) -> Tensor<B, 1> {
    mse(m.forward(x.clone()), y.clone())
}

/// The mean squared errors of the `copies` copies of a stacked deep linear network, one per copy,
/// on a batch that holds the copies' minibatches one after another (copy c takes block c).
pub fn stacked_dln_loss<B: Backend>(copies: usize) -> impl Fn(&StackedDln<B>, &Batch<B>) -> Tensor<B, 1> {
    move |m, (x, y)| {
        let ([rows, width_in], width_out) = (x.dims(), y.dims()[1]);
        let x = x.clone().reshape([copies, rows / copies, width_in]);
        let y = y.clone().reshape([copies, rows / copies, width_out]);
        mse_per_copy(m.forward(x), y)
    }
}

/// The number of parameters d of a network with these widths, input first: the weights, and with
/// `biases` a bias per neuron after the input.
pub fn parameter_count(widths: &[usize], biases: bool) -> usize {
    widths.windows(2).map(|w| w[0] * w[1] + if biases { w[1] } else { 0 }).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Cpu;

    #[test]
    fn a_materialized_teacher_point_computes_its_loss_and_a_streamed_one_knows_it() {
        let teacher = dln_teacher(&[4, 3, 2], Teacher::FullRank, None, 7).unwrap();
        let device = Default::default();
        let data = Synthetic { n: 50, seed: 7, form: DataForm::Materialized };
        let dln = dln_point::<Cpu>(&teacher, data, &device).unwrap();
        assert_eq!((dln.rank, dln.lambda), (2, llc_theory::dln_learning_coefficient(&[4, 3, 2], 2).unwrap().lambda()));
        assert!(dln.point.materialized() && matches!(dln.point.init, InitLoss::Compute { .. }));
        let streamed = dln_point::<Cpu>(&teacher, Synthetic { form: DataForm::Streaming, ..data }, &device).unwrap();
        assert_eq!((streamed.point.data_form(), streamed.point.init), ("streaming", InitLoss::Known(0.0)));
        // Both forms hold the same samples.
        let (a, _) = dln.point.data.batch(&[3, 17]);
        let (b, _) = streamed.point.data.batch(&[3, 17]);
        assert_eq!(a.into_data(), b.into_data());
    }

    #[test]
    fn setup_errors_name_their_cause() {
        let error = dln_teacher(&[4, 3, 2], Teacher::FullRank, Some(5), 0).unwrap_err();
        assert!(error.is_input_error() && error.to_string().starts_with("cannot build the teacher: "), "{error}");
        let teacher = mlp_teacher(&[2, 3, 1], 0, 1.0).unwrap();
        let error = mlp_point::<Cpu>(&teacher, Synthetic { n: 0, seed: 0, form: DataForm::Auto }, &Default::default());
        assert!(error.is_err());
    }

    #[test]
    fn parameters_are_counted_with_and_without_biases() {
        assert_eq!(parameter_count(&[20, 30, 25, 10], false), 1600);
        assert_eq!(parameter_count(&[3, 4, 2], true), 3 * 4 + 4 + 4 * 2 + 2);
    }
}
