//! Where the model runs in the page: WebGPU through Burn's asynchronous init, or
//! Burn's CPU backend when the browser has no WebGPU, no adapter, or loses the device.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};

use bert_burn::model::precision::Precision;
use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsCast;

/// What the user asked for (`?backend=` in the URL, or the tests).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Preference {
    /// WebGPU on a real GPU, else the CPU: a software adapter (SwiftShader, the one a
    /// browser offers without a usable GPU) runs the embedded model ~13-15x slower than the CPU
    /// backend (measured in BENCHMARKS.md).
    Auto,
    /// WebGPU whenever there is an adapter, software ones included (`?backend=webgpu`).
    WebGpu,
    /// The CPU backend even where WebGPU works.
    Cpu,
}

impl Preference {
    pub fn parse(text: &str) -> Self {
        match text {
            "cpu" => Self::Cpu,
            "webgpu" => Self::WebGpu,
            _ => Self::Auto,
        }
    }
}

/// The device in use and how to describe it to the user.
#[derive(Clone, Debug)]
pub struct Backend {
    pub device: Device,
    pub info: BackendInfo,
}

/// What runs the model: a WebGPU device, or Burn's CPU backend in wasm.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    Webgpu,
    Cpu,
}

impl BackendKind {
    /// `webgpu` or `cpu`: what the page shows in `data-testid="backend"` (and the JSON names).
    pub fn name(self) -> &'static str {
        match self {
            Self::Webgpu => "webgpu",
            Self::Cpu => "cpu",
        }
    }
}

impl std::fmt::Display for BackendKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct BackendInfo {
    pub kind: BackendKind,
    /// The adapter (name, type, driver), or the CPU backend's name.
    pub adapter: String,
    /// Why the page is not on WebGPU, in words, when it is not.
    pub fallback_reason: Option<String>,
    /// The largest buffer the GPU binds for a shader (bytes); a tensor beyond it cannot run.
    pub max_binding_bytes: Option<u64>,
    /// Whether the adapter emulates a GPU on the CPU (SwiftShader and the like).
    pub software: bool,
    /// What masked-LM predictions run in: f16 on a GPU with `shader-f16`, else f32.
    pub precision: Precision,
}

thread_local! {
    /// WebGPU can be initialised once per page; every later load reuses the device.
    static WEBGPU: RefCell<Option<Result<Backend, String>>> = const { RefCell::new(None) };
}

thread_local! {
    /// The wgpu device behind Burn's, kept only so tests can make it lost.
    static WGPU_DEVICE: RefCell<Option<burn::tensor::wgpu::wgpu::Device>> = const { RefCell::new(None) };
}

/// Destroys the WebGPU device as a driver reset would, so tests can check that the page
/// notices and carries on on the CPU. Returns whether there was a device to destroy.
#[cfg(feature = "testing")]
pub fn lose_webgpu_device() -> bool {
    WGPU_DEVICE.with(|d| d.borrow().as_ref().map(|device| device.destroy()).is_some())
}

/// Set by the device-lost callback; checked after a failed GPU read.
static DEVICE_LOST: AtomicBool = AtomicBool::new(false);

/// Whether the WebGPU device was lost (driver reset, tab in background too long…).
pub fn device_lost() -> bool {
    DEVICE_LOST.load(Ordering::SeqCst)
}

/// The CPU backend, with the reason the page is on it.
pub fn cpu(reason: Option<String>) -> Backend {
    crate::run_static_constructors();
    Backend {
        device: bert_burn::device::cpu(),
        info: BackendInfo {
            kind: BackendKind::Cpu,
            adapter: "Burn CPU backend (flex, WebAssembly)".into(),
            fallback_reason: reason,
            max_binding_bytes: None,
            software: false,
            precision: Precision::F32,
        },
    }
}

/// Opens the backend for `preference`: WebGPU if it can, else the CPU with a reason.
pub async fn open(preference: Preference) -> Backend {
    // Burn's GPU runtime needs them, and an embedder (a test harness) may not run `start`.
    crate::run_static_constructors();
    if preference == Preference::Cpu {
        return cpu(Some("the CPU backend was chosen (?backend=cpu)".into()));
    }
    if device_lost() {
        return cpu(Some(
            "the WebGPU device was lost; running on the CPU".into(),
        ));
    }
    match webgpu().await {
        Ok(backend) if preference == Preference::Auto && backend.info.software => {
            cpu(Some(format!(
                "the only WebGPU adapter is a software emulation ({}), slower than the CPU backend; \
             running on the CPU (?backend=webgpu uses it anyway)",
                backend.info.adapter
            )))
        }
        Ok(backend) => backend,
        Err(reason) => cpu(Some(reason)),
    }
}

async fn webgpu() -> Result<Backend, String> {
    if let Some(done) = WEBGPU.with(|w| w.borrow().clone()) {
        return done;
    }
    let result = init_webgpu().await;
    WEBGPU.with(|w| *w.borrow_mut() = Some(result.clone()));
    result
}

fn navigator_has_gpu() -> bool {
    crate::global_scope::navigator_gpu().is_some()
}

async fn init_webgpu() -> Result<Backend, String> {
    if !navigator_has_gpu() {
        return Err(
            "this browser has no WebGPU (navigator.gpu is missing); running on the CPU".into(),
        );
    }
    let (device, setup) = Device::wgpu_options()
        .init_with_setup_async()
        .await
        .map_err(|e| {
            format!("WebGPU is present but no adapter could be used ({e}); running on the CPU")
        })?;
    setup.device.set_device_lost_callback(|_reason, message| {
        DEVICE_LOST.store(true, Ordering::SeqCst);
        web_sys::console::error_1(&format!("WebGPU device lost: {message}").into());
    });
    WGPU_DEVICE.with(|d| *d.borrow_mut() = Some(setup.device.clone()));
    let info = setup.adapter.get_info();
    let mut adapter = if info.name.is_empty() {
        "WebGPU adapter".to_string()
    } else {
        info.name.clone()
    };
    let software = bert_burn::device::is_software(&info);
    bert_burn::model::direct_linear::set_enabled(software);
    let kind = format!("{:?}", info.device_type);
    if kind != "Other" {
        adapter.push_str(&format!(" ({kind})"));
    }
    if !info.driver.is_empty() {
        adapter.push_str(&format!(", {}", info.driver));
    }
    let limits = setup.device.limits();
    Ok(Backend {
        device,
        info: BackendInfo {
            kind: BackendKind::Webgpu,
            adapter,
            fallback_reason: None,
            max_binding_bytes: Some(
                limits
                    .max_storage_buffer_binding_size
                    .min(limits.max_buffer_size),
            ),
            software,
            precision: Precision::F32,
        },
    })
}

/// What the page holds in memory: the wasm heap, and on a GPU what Burn's allocator holds.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct MemoryFigures {
    /// The WebAssembly memory's size; it grows in 64 KiB pages and never shrinks.
    pub wasm_heap_bytes: u64,
    /// Bytes of that heap allocated and not freed ([`crate::heap`]): flat unless something leaks.
    pub wasm_live_bytes: u64,
    /// Live allocations on the device (`None` on the CPU backend, which keeps no pools).
    pub gpu_allocations: Option<u64>,
    /// Bytes of those allocations.
    pub gpu_bytes_in_use: Option<u64>,
    /// Bytes the allocator has reserved on the device: live tensors plus pages kept for reuse.
    pub gpu_bytes_reserved: Option<u64>,
}

/// The wasm heap alone (no device yet).
pub fn wasm_heap_only() -> MemoryFigures {
    let wasm_heap_bytes = wasm_bindgen::memory()
        .dyn_into::<js_sys::WebAssembly::Memory>()
        .map(|m| {
            m.buffer()
                .unchecked_into::<js_sys::ArrayBuffer>()
                .byte_length() as u64
        })
        .unwrap_or(0);
    MemoryFigures {
        wasm_heap_bytes,
        wasm_live_bytes: crate::heap::live_bytes(),
        ..MemoryFigures::default()
    }
}

/// Measures [`MemoryFigures`] for `device`. Queued GPU work is submitted first so it is
/// counted; nothing is read back from the GPU.
pub fn memory(device: &Device) -> MemoryFigures {
    let pools = device.memory_pool_usage();
    MemoryFigures {
        gpu_allocations: pools.as_ref().map(|p| p.number_allocs),
        gpu_bytes_in_use: pools.as_ref().map(|p| p.bytes_in_use),
        gpu_bytes_reserved: pools.as_ref().map(|p| p.bytes_reserved),
        ..wasm_heap_only()
    }
}

/// Whether a GPU failure that just happened was the device being lost. The lost
/// callback runs as its own task, possibly after the failed read has already returned,
/// so this waits for it a little (up to `wait_ms`) before answering no.
pub async fn lost_after_failure(wait_ms: i32) -> bool {
    let mut waited = 0;
    while !device_lost() && waited < wait_ms {
        crate::global_scope::sleep_ms(50).await;
        waited += 50;
    }
    device_lost()
}
