//! `--device cpu|cuda`: the backends, and the one-line errors when CUDA cannot be used.

use crate::exit::Failure;

/// The CPU backend with autodiff: burn-ndarray, f32.
pub(crate) type Cpu = burn::backend::Autodiff<burn::backend::NdArray<f32>>;

/// The GPU backend with autodiff: burn-cuda, f32 (only with the `cuda` feature).
#[cfg(feature = "cuda")]
pub(crate) type Gpu = burn::backend::Autodiff<burn::backend::Cuda<f32>>;

/// The error for `--device cuda` in a build without the `cuda` feature, naming the command that
/// builds and runs one with it.
#[cfg(not(feature = "cuda"))]
pub(crate) fn cuda_not_built(model: &str) -> Failure {
    Failure::usage(format!(
        "--device cuda needs the `cuda` feature: run \
         `cargo run --release -p llc-cli --features cuda -- estimate {model} --device cuda …`"
    ))
}

/// The first CUDA device, after checking that a tensor can be made on it.
///
/// burn-cuda does not return an error when there is no usable GPU: creating the device's runtime
/// panics (no driver library, no device, a driver too old). The probe catches that panic, with the
/// panic hook silenced for its duration so that no message or backtrace reaches the terminal, and
/// turns it into the CLI's one-line error.
#[cfg(feature = "cuda")]
pub(crate) fn cuda_device() -> Result<burn::backend::cuda::CudaDevice, Failure> {
    use burn::tensor::Tensor;

    let device = burn::backend::cuda::CudaDevice::default();
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let probe = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        Tensor::<Gpu, 1>::zeros([1], &device).try_into_data()
    }));
    std::panic::set_hook(hook);
    let reason = match probe {
        Ok(Ok(_)) => return Ok(device),
        Ok(Err(e)) => format!("{e:?}"),
        Err(payload) => payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_else(|| "unknown reason".to_owned()),
    };
    let reason = reason.split_whitespace().collect::<Vec<_>>().join(" ");
    Err(Failure::usage(format!(
        "--device cuda: no usable CUDA device ({reason}); check `nvidia-smi`, or use --device cpu"
    )))
}
