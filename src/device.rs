//! Choosing where the model runs. Model code takes any Burn [`Device`]; this is only
//! the menu offered to users.

use burn::tensor::Device;

use crate::error::{BertError, Result};

/// The backends a user can ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// Burn's pure-Rust CPU backend (`flex`).
    Cpu,
    /// wgpu: Vulkan/Metal/DX12 natively, WebGPU in the browser.
    Wgpu,
    /// NVIDIA CUDA (native builds with the `cuda` feature, for pretraining on a GPU).
    Cuda,
}

impl Backend {
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "cpu" | "flex" => Ok(Self::Cpu),
            "wgpu" | "gpu" | "webgpu" => Ok(Self::Wgpu),
            "cuda" => Ok(Self::Cuda),
            other => Err(BertError::Input(format!(
                "unknown backend `{other}` (use cpu, wgpu or cuda)"
            ))),
        }
    }
}

/// The CPU device.
pub fn cpu() -> Device {
    Device::flex()
}

/// Opens the default wgpu adapter; no adapter is an error, not a panic. On a software
/// adapter (lavapipe, SwiftShader) linear layers run our direct kernel
/// ([`crate::model::direct_linear`]), which suits a CPU underneath.
#[cfg(all(feature = "wgpu", not(target_arch = "wasm32")))]
pub fn wgpu() -> Result<Device> {
    // The default device is set up once per process; later calls share it.
    static WGPU: std::sync::OnceLock<std::result::Result<Device, String>> =
        std::sync::OnceLock::new();
    WGPU.get_or_init(|| {
        let (device, setup) = Device::wgpu_options()
            .init_with_setup()
            .map_err(|e| format!("no usable wgpu adapter: {e}"))?;
        crate::model::direct_linear::set_enabled(is_software(&setup.adapter.get_info()));
        Ok(device)
    })
    .clone()
    .map_err(BertError::Device)
}

/// The wgpu device for a check that needs one: `Ok(None)` when there is no adapter, unless
/// `BERT_REQUIRE_WGPU=1` (scripts/test.sh sets it) makes that an error.
#[cfg(all(feature = "wgpu", not(target_arch = "wasm32")))]
pub fn wgpu_if_present() -> Result<Option<Device>> {
    match wgpu() {
        Ok(device) => Ok(Some(device)),
        Err(e) if std::env::var("BERT_REQUIRE_WGPU").as_deref() == Ok("1") => Err(e),
        Err(e) => {
            eprintln!("no wgpu adapter, the check is skipped: {e}");
            Ok(None)
        }
    }
}

/// Whether a wgpu adapter emulates a GPU on the CPU.
#[cfg(feature = "wgpu")]
pub fn is_software(info: &burn::tensor::wgpu::wgpu::AdapterInfo) -> bool {
    info.device_type == burn::tensor::wgpu::wgpu::DeviceType::Cpu
}

/// The device for `backend` (native builds).
#[cfg(not(target_arch = "wasm32"))]
pub fn open(backend: Backend) -> Result<Device> {
    match backend {
        Backend::Cpu => Ok(cpu()),
        #[cfg(feature = "wgpu")]
        Backend::Wgpu => wgpu(),
        #[cfg(not(feature = "wgpu"))]
        Backend::Wgpu => Err(BertError::Device("this build has no wgpu support (feature `wgpu`)".into())),
        #[cfg(feature = "cuda")]
        Backend::Cuda => Ok(Device::cuda(0)),
        #[cfg(not(feature = "cuda"))]
        Backend::Cuda => Err(BertError::Device(
            "this build has no CUDA support: rebuild with `cargo build --release --features cuda` (needs the CUDA toolkit)".into(),
        )),
    }
}
