//! The backends an estimate runs on (burn-ndarray on the CPU, burn-cuda behind the `cuda` feature),
//! the choice between them at run time, and the probe that turns a missing GPU into an error.
//!
//! The estimates are generic over the backend type, but `--device` is a value: [`on_backend`]
//! bridges the two by running an [`OnBackend`] task with the backend type the value names.

use std::fmt;

use burn::tensor::backend::AutodiffBackend;
use llc_estimators::NoiseHome;
use serde::{Deserialize, Serialize};

/// The CPU backend: burn-ndarray in f32 with autodiff.
pub type Cpu = burn::backend::Autodiff<burn::backend::NdArray<f32>>;

/// The GPU backend: burn-cuda in f32 with autodiff (only with the `cuda` feature).
#[cfg(feature = "cuda")]
pub type Gpu = burn::backend::Autodiff<burn::backend::Cuda<f32>>;

/// Where the chains run (`--device`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Device {
    /// burn-ndarray on the CPU, noise from a per-chain host stream (reproducible bit for bit).
    Cpu,
    /// burn-cuda on the first NVIDIA GPU, noise from the backend's generator on the GPU (needs a
    /// build with the `cuda` feature).
    Cuda,
}

impl Device {
    /// The value's spelling on the command line and in reports: `cpu` or `cuda`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Cpu => "cpu",
            Self::Cuda => "cuda",
        }
    }

    /// The name of the backend this value selects in this build ([`AppBackend::NAME`]), without
    /// starting it; [`DeviceError::NotBuilt`] for CUDA in a build without the `cuda` feature.
    pub fn backend_name(self) -> Result<&'static str, DeviceError> {
        match self {
            Self::Cpu => Ok(Cpu::NAME),
            #[cfg(feature = "cuda")]
            Self::Cuda => Ok(Gpu::NAME),
            #[cfg(not(feature = "cuda"))]
            Self::Cuda => Err(DeviceError::NotBuilt),
        }
    }
}

/// A backend the binaries run estimates on: an autodiff backend that knows where its chains draw
/// their noise ([`NoiseHome`]), with its [`Device`] and its name for reports.
pub trait AppBackend: AutodiffBackend + NoiseHome {
    /// The `--device` value that selects it.
    const DEVICE: Device;
    /// Its name in reports, e.g. "CPU (burn-ndarray, f32)".
    const NAME: &'static str;
}

impl AppBackend for Cpu {
    const DEVICE: Device = Device::Cpu;
    const NAME: &'static str =
        if cfg!(feature = "blas") { "CPU (burn-ndarray + OpenBLAS, f32)" } else { "CPU (burn-ndarray, f32)" };
}

#[cfg(feature = "cuda")]
impl AppBackend for Gpu {
    const DEVICE: Device = Device::Cuda;
    const NAME: &'static str = "GPU (burn-cuda, f32)";
}

/// Work that is generic over the backend, to be run on the one a [`Device`] names
/// ([`on_backend`]).
pub trait OnBackend {
    /// What the work returns.
    type Output;

    /// Does the work on backend `B` and its `device`.
    fn run<B: AppBackend>(self, device: &B::Device) -> Self::Output;
}

/// Runs `task` on the backend that `device` names: burn-ndarray on the CPU, or burn-cuda on the
/// first GPU once `cuda_device` has checked that it can be used. Without the `cuda` feature,
/// [`Device::Cuda`] is [`DeviceError::NotBuilt`].
pub fn on_backend<T: OnBackend>(device: Device, task: T) -> Result<T::Output, DeviceError> {
    match device {
        Device::Cpu => Ok(task.run::<Cpu>(&Default::default())),
        #[cfg(feature = "cuda")]
        Device::Cuda => Ok(task.run::<Gpu>(&cuda_device()?)),
        #[cfg(not(feature = "cuda"))]
        Device::Cuda => Err(DeviceError::NotBuilt),
    }
}

/// Why the GPU cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceError {
    /// This build has no `cuda` feature.
    NotBuilt,
    /// burn-cuda could not make a tensor on the first device; the reason, on one line.
    Unusable(String),
}

impl DeviceError {
    /// The one-line message for a user of `command` of package `package`, which names the cargo
    /// command that builds and runs it with the feature: "--device cuda needs the `cuda` feature:
    /// run `cargo run --release -p llc-cli --features cuda -- estimate dln --device cuda …`".
    pub fn message(&self, package: &str, command: &str) -> String {
        match self {
            Self::NotBuilt => format!(
                "--device cuda needs the `cuda` feature: run \
                 `cargo run --release -p {package} --features cuda -- {command} --device cuda …`"
            ),
            Self::Unusable(_) => self.to_string(),
        }
    }
}

impl fmt::Display for DeviceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotBuilt => write!(f, "--device cuda needs the `cuda` feature"),
            Self::Unusable(reason) => {
                write!(f, "--device cuda: no usable CUDA device ({reason}); check `nvidia-smi`, or use --device cpu")
            }
        }
    }
}

impl std::error::Error for DeviceError {}

/// The first CUDA device, after checking that a tensor can be made on it.
///
/// burn-cuda does not return an error when there is no usable GPU: creating the device's runtime
/// panics (no driver library, no device, a driver too old). The probe catches that panic, with the
/// panic hook replaced for its duration so that no message or backtrace reaches the terminal, and
/// returns its message as one line.
#[cfg(feature = "cuda")]
pub fn cuda_device() -> Result<burn::backend::cuda::CudaDevice, DeviceError> {
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
    Err(DeviceError::Unusable(reason))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reports the backend it ran on.
    struct Which;

    impl OnBackend for Which {
        type Output = (Device, &'static str);

        fn run<B: AppBackend>(self, _: &B::Device) -> Self::Output {
            (B::DEVICE, B::NAME)
        }
    }

    #[test]
    fn the_cpu_runs_on_burn_ndarray_with_host_noise() {
        let (device, name) = on_backend(Device::Cpu, Which).unwrap();
        assert_eq!((device, Device::Cpu.backend_name()), (Device::Cpu, Ok(name)));
        assert!(name.starts_with("CPU (burn-ndarray"), "{name}");
        assert_eq!(llc_estimators::NoisePlacement::of::<Cpu>(), llc_estimators::NoisePlacement::Host);
    }

    #[cfg(not(feature = "cuda"))]
    #[test]
    fn cuda_without_the_feature_names_the_command_that_builds_it() {
        let error = on_backend(Device::Cuda, Which).unwrap_err();
        assert_eq!(error, DeviceError::NotBuilt);
        let message = error.message("llc-cli", "estimate dln");
        assert!(message.contains("-p llc-cli --features cuda -- estimate dln --device cuda"), "{message}");
    }
}
