//! Bad input is an error value with a readable message, never a panic.

use llc_models::{DataForm, Dln, DlnTeacher, Mlp, MlpTeacher, ModelError, RegressionData, SyntheticInputs};
use nalgebra::{DMatrix, DVector};

use crate::common::B;

#[test]
fn bad_widths_and_ranks_are_errors() {
    assert_eq!(DlnTeacher::random(&[], 0), Err(ModelError::TooFewWidths { got: 0 }));
    assert_eq!(DlnTeacher::random(&[5], 0), Err(ModelError::TooFewWidths { got: 1 }));
    assert_eq!(DlnTeacher::random(&[5, 0, 3], 0), Err(ModelError::ZeroWidth { index: 1 }));
    assert_eq!(DlnTeacher::with_rank(&[5, 3, 5], 4, 0), Err(ModelError::RankTooLarge { rank: 4, narrowest: 3 }));
    assert_eq!(DlnTeacher::with_rank(&[0, 3], 0, 0), Err(ModelError::ZeroWidth { index: 0 }));
    assert_eq!(MlpTeacher::random(&[4], 0, 1.0), Err(ModelError::TooFewWidths { got: 1 }));
    for std in [-1.0, f64::NAN, f64::INFINITY] {
        assert!(matches!(MlpTeacher::random(&[4, 3, 2], 0, std), Err(ModelError::InvalidValue { .. })));
    }
}

#[test]
fn bad_matrices_are_errors() {
    let device = Default::default();
    // Matrices that do not chain: 3×4 followed by 5×2.
    let broken = vec![DMatrix::zeros(3, 4), DMatrix::zeros(5, 2)];
    assert!(matches!(DlnTeacher::from_matrices(broken.clone()), Err(ModelError::ShapeMismatch { .. })));
    assert!(matches!(Dln::<B>::from_matrices(&broken, &device), Err(ModelError::ShapeMismatch { .. })));
    assert!(matches!(DlnTeacher::from_matrices(vec![]), Err(ModelError::TooFewWidths { got: 0 })));
    assert!(matches!(DlnTeacher::from_matrices(vec![DMatrix::zeros(3, 0)]), Err(ModelError::ZeroWidth { index: 1 })));
    let mut nan = DMatrix::zeros(2, 2);
    nan[(1, 0)] = f64::NAN;
    assert!(matches!(DlnTeacher::from_matrices(vec![nan]), Err(ModelError::InvalidValue { .. })));

    assert!(matches!(
        Dln::<B>::from_host_f32(&[2, 3], &[vec![0.0; 5]], &device),
        Err(ModelError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        Dln::<B>::from_host_f32(&[2, 3, 4], &[vec![0.0; 6]], &device),
        Err(ModelError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        Mlp::<B>::from_host(&[2, 3], &[vec![0.0; 6]], &[vec![0.0; 2]], &device),
        Err(ModelError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        MlpTeacher::from_parts(vec![DMatrix::zeros(2, 3)], vec![DVector::zeros(2)]),
        Err(ModelError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        Mlp::<B>::from_matrices(&[DMatrix::zeros(2, 3)], &[], &device),
        Err(ModelError::ShapeMismatch { .. })
    ));
}

#[test]
fn bad_planted_copies_are_errors_and_change_nothing() {
    let mut teacher = MlpTeacher::random(&[4, 6, 3], 0, 1.0).unwrap();
    let before = teacher.clone();
    assert_eq!(teacher.plant_copies(1, 0, &[1]), Err(ModelError::LayerOutOfRange { layer: 1, hidden_layers: 1 }));
    assert_eq!(teacher.plant_copies(0, 6, &[1]), Err(ModelError::NeuronOutOfRange { layer: 0, neuron: 6, width: 6 }));
    assert_eq!(
        teacher.plant_copies(0, 0, &[1, 2, 9]),
        Err(ModelError::NeuronOutOfRange { layer: 0, neuron: 9, width: 6 })
    );
    assert_eq!(teacher, before, "a rejected call changes nothing");
    assert!(teacher.forward(&DMatrix::zeros(2, 5)).is_err(), "wrong input width");
}

#[test]
fn bad_data_requests_are_errors() {
    assert!(matches!(SyntheticInputs::new(0, 0, 3), Err(ModelError::Empty { .. })));
    assert!(matches!(SyntheticInputs::new(0, 3, 0), Err(ModelError::ZeroWidth { index: 0 })));
    assert!(matches!(SyntheticInputs::new(0, usize::MAX, 2), Err(ModelError::TooLarge { .. })));
    for (low, high) in [(1.0, 1.0), (2.0, 1.0), (f32::NAN, 1.0), (0.0, f32::INFINITY)] {
        assert!(matches!(SyntheticInputs::with_range(0, 3, 3, low, high), Err(ModelError::InvalidRange { .. })));
    }
    let inputs = SyntheticInputs::new(0, 10, 3).unwrap();
    assert_eq!(inputs.rows(&[0, 10]), Err(ModelError::IndexOutOfRange { index: 10, n: 10 }));

    let device = Default::default();
    let teacher = DlnTeacher::random(&[4, 2], 0).unwrap();
    assert!(matches!(
        RegressionData::<B>::dln(&teacher, inputs, DataForm::Auto, &device),
        Err(ModelError::ShapeMismatch { .. })
    ));
    let teacher = DlnTeacher::random(&[3, 2], 0).unwrap();
    for form in [DataForm::Materialized, DataForm::Streaming] {
        let data = RegressionData::<B>::dln(&teacher, inputs, form, &device).unwrap();
        assert!(matches!(data.batch(&[]), Err(ModelError::Empty { .. })));
        assert_eq!(data.batch(&[3, 11]).err(), Some(ModelError::IndexOutOfRange { index: 11, n: 10 }));
    }
    let x = burn::tensor::Tensor::<B, 2>::zeros([3, 2], &device);
    let y = burn::tensor::Tensor::<B, 2>::zeros([4, 1], &device);
    assert!(matches!(RegressionData::from_tensors(x, y), Err(ModelError::ShapeMismatch { .. })));
}

#[test]
fn every_error_has_a_message() {
    let errors = [
        ModelError::TooFewWidths { got: 1 },
        ModelError::ZeroWidth { index: 2 },
        ModelError::RankTooLarge { rank: 4, narrowest: 3 },
        ModelError::ShapeMismatch { what: "bias of layer 1".into(), expected: vec![3], got: vec![2] },
        ModelError::LayerOutOfRange { layer: 2, hidden_layers: 1 },
        ModelError::NeuronOutOfRange { layer: 0, neuron: 9, width: 6 },
        ModelError::InvalidAlpha { neuron: 1, value: -1.0 },
        ModelError::InvalidValue { what: "x", value: -1.0, requirement: "positive" },
        ModelError::InvalidRange { low: 1.0, high: 0.0 },
        ModelError::IndexOutOfRange { index: 10, n: 10 },
        ModelError::Empty { what: "the minibatch" },
        ModelError::TooLarge { what: "the data set" },
        ModelError::RankNotReached { wanted: 2, got: 1 },
        ModelError::BatchSizeOutOfRange { batch_size: 0, n: 10 },
    ];
    for e in errors {
        let message = e.to_string();
        assert!(message.len() > 15 && !message.contains('\n'), "{message}");
    }
    assert!(ModelError::ZeroWidth { index: 2 }.to_string().contains("width number 3"));
}
