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
/// panic hook replaced for its duration so that no message or backtrace reaches the terminal, and
/// turns it into the CLI's one-line error.
#[cfg(feature = "cuda")]
pub(crate) fn cuda_device() -> Result<burn::backend::cuda::CudaDevice, Failure> {
    use burn::tensor::Tensor;

    let device = burn::backend::cuda::CudaDevice::default();
    // The runtime may panic on another thread (its server) and this one then sees a closed
    // channel, so the hook keeps the first panic's message, from whichever thread, as the reason.
    let first_panic = std::sync::Arc::new(std::sync::Mutex::new(None::<String>));
    let sink = std::sync::Arc::clone(&first_panic);
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let mut slot = sink.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            *slot = Some(info.payload_as_str().unwrap_or("a panic without a message").to_owned());
        }
    }));
    let probe = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        Tensor::<Gpu, 1>::zeros([1], &device).try_into_data()
    }));
    std::panic::set_hook(hook);
    let panicked = first_panic.lock().unwrap_or_else(|p| p.into_inner()).take();
    let reason = match probe {
        Ok(Ok(_)) => return Ok(device),
        Ok(Err(e)) => format!("{e:?}"),
        Err(_) => panicked.unwrap_or_else(|| "the runtime panicked".to_owned()),
    };
    // One line, and short enough to read.
    let mut reason = reason.split_whitespace().collect::<Vec<_>>().join(" ");
    if reason.chars().count() > 200 {
        reason = reason.chars().take(200).collect::<String>() + " …";
    }
    Err(Failure::usage(format!(
        "--device cuda: no usable CUDA device ({reason}); check `nvidia-smi`, or use --device cpu"
    )))
}
