//! Counting the GPU kernels a piece of work launches, by kind (Burn's GPU runtime, cubecl,
//! calls an installed observer on every launch). Zero on the CPU backend.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use cubecl_runtime::logging::{LaunchObservation, LaunchObserver};

#[derive(Default)]
struct Launches(Mutex<BTreeMap<&'static str, usize>>);

impl LaunchObserver for Launches {
    fn launched(&self, kernel: &'static str) {
        if let Ok(mut counts) = self.0.lock() {
            *counts.entry(kernel).or_default() += 1;
        }
    }
}

/// Counts launches from [`KernelCount::start`] to [`KernelCount::finish`]. There is one
/// observer slot per instance: work running beside it (a fine-tuning step) is counted too.
pub struct KernelCount {
    launches: Arc<Launches>,
    watching: LaunchObservation,
}

impl KernelCount {
    pub fn start() -> Self {
        let launches = Arc::new(Launches::default());
        let watching = LaunchObservation::new(launches.clone());
        Self { launches, watching }
    }

    /// All launches, and `name ×count` lines, most launched first.
    pub fn finish(self) -> (usize, Vec<String>) {
        drop(self.watching);
        let counts = self
            .launches
            .0
            .lock()
            .map(|c| c.clone())
            .unwrap_or_default();
        let mut lines: Vec<(&str, usize)> = counts.into_iter().collect();
        lines.sort_by_key(|line| std::cmp::Reverse(line.1));
        let total = lines.iter().map(|(_, n)| n).sum();
        (
            total,
            lines
                .into_iter()
                .map(|(name, n)| format!("{} ×{n}", short_kernel_name(name)))
                .collect(),
        )
    }
}

/// `a::b::KernelBinop<x::AddOp>` → `KernelBinop<AddOp>`: the kernel and, when it is one
/// short word, its first type argument (which operation); the rest of the path is noise.
pub fn short_kernel_name(name: &str) -> String {
    let last = |path: &str| path.rsplit("::").next().unwrap_or(path).trim().to_string();
    match name.split_once('<') {
        Some((kernel, args)) => {
            let first = last(args.split([',', '<', '>']).next().unwrap_or(""));
            if !first.is_empty() && first.len() <= 16 {
                format!("{}<{first}>", last(kernel))
            } else {
                last(kernel)
            }
        }
        None => last(name),
    }
}
