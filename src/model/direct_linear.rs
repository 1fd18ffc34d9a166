//! `Wᵀ·X + b` for tokens-as-columns activations (see `layout.rs`) as one barrier-free GPU
//! kernel, for adapters that are CPUs underneath (SwiftShader, lavapipe).
//!
//! Without cooperative-matrix units, Burn's matmul on wgpu is a tiled kernel that stages
//! its operands through workgroup memory between barriers. On a software adapter every
//! barrier is a switch between the emulated invocations, and such matmuls were most of a
//! forward pass there (figures: BENCHMARKS.md, "Why the code is as it is"). Here
//! each invocation computes a 4 × 4 block of outputs on its own, looping over the input
//! width in vectors of four: no shared memory, no barrier — what a CPU runs well.
//!
//! Off by default ([`set_enabled`]): on real GPUs Burn's tiled kernel is the one built for
//! them. `device::wgpu` (native) and the page turn it on when the adapter is a software one.

use std::sync::atomic::{AtomicBool, Ordering};

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, DispatchDevice, backend_extension};
use burn::nn::Linear;
use burn::tensor::{Device, Shape, Tensor};

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Use the direct kernel for linear layers on wgpu devices (from the next forward pass).
pub fn set_enabled(on: bool) {
    ENABLED.store(on, Ordering::Relaxed);
}

/// Whether [`set_enabled`] turned the direct kernel on.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

#[backend_extension(Cube: cfg(feature = "wgpu"), Fusion: cfg(all(feature = "wgpu", target_arch = "wasm32")))]
pub trait DirectLinearOps: Backend {
    /// `weight` `[in, out]` (Burn's `Linear`), `x` `[batch, in, seq]`, `bias` `[out]` →
    /// `[batch, out, seq]`.
    #[fusion(dtype = x, shape = output_shape(weight, x))]
    fn direct_linear(
        weight: FloatTensor<Self>,
        x: FloatTensor<Self>,
        bias: FloatTensor<Self>,
    ) -> FloatTensor<Self>;

    /// [`Self::direct_linear`] without a bias.
    #[fusion(dtype = x, shape = output_shape(weight, x))]
    fn direct_matmul(weight: FloatTensor<Self>, x: FloatTensor<Self>) -> FloatTensor<Self>;
}

/// The output's shape, for the fusion stream (which records it before the kernel runs).
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
fn output_shape(weight: &Shape, x: &Shape) -> Shape {
    Shape::new([x[0], weight[1], x[2]])
}

/// Whether linear layers on `device` run the direct kernel: turned on, and a plain wgpu
/// device (an autodiff device, for training, keeps Burn's differentiable ops).
pub(crate) fn applies(device: &Device) -> bool {
    enabled() && on_wgpu(device)
}

/// A plain wgpu device (not autodiff, not the CPU).
pub(crate) fn on_wgpu(device: &Device) -> bool {
    matches!(device.as_dispatch(), DispatchDevice::Cube(_))
}

/// [`applies`] for an f32 tensor (the kernel sums in its input's type: f16 would lose the
/// precision a sum over thousands of products needs, and Burn's matmul sums f16 in f32).
pub(crate) fn applies_to<const D: usize>(x: &Tensor<D>) -> bool {
    x.dtype() == burn::tensor::DType::F32 && applies(&x.device())
}

/// `Wᵀ·X (+ b)` for a layer whose weight and input are on a device the kernel
/// [`applies`] to.
pub(crate) fn linear_columns(layer: &Linear, x: Tensor<3>, with_bias: bool) -> Tensor<3> {
    let bias = layer.bias.as_ref().filter(|_| with_bias).map(|b| b.val());
    columns(layer.weight.val(), x, bias)
}

/// `weight [in, out]`, `x [batch, in, seq]`, `bias [out]` → `Wᵀ·X (+ b)` `[batch, out, seq]`.
pub(crate) fn columns(weight: Tensor<2>, x: Tensor<3>, bias: Option<Tensor<1>>) -> Tensor<3> {
    let out = match bias {
        Some(bias) => Dispatch::direct_linear(
            weight.into_dispatch(),
            x.into_dispatch(),
            bias.into_dispatch(),
        ),
        None => Dispatch::direct_matmul(weight.into_dispatch(), x.into_dispatch()),
    };
    Tensor::from_dispatch(out)
}

/// `x · W + b` for rows `x [n, in]` (the masked positions before the vocabulary
/// projection), computed as `(Wᵀ·xᵀ + b)ᵀ`.
pub(crate) fn rows(weight: Tensor<2>, x: Tensor<2>, bias: Option<Tensor<1>>) -> Tensor<2> {
    let out = columns(weight, x.transpose().unsqueeze_dim::<3>(0), bias);
    out.squeeze_dim::<2>(0).transpose()
}

/// The kernel and its launch, apart so that CubeCL's prelude does not shadow Burn's names.
#[cfg(feature = "wgpu")]
mod cube {
    use burn::backend::cubecl::dtype_to_storage_type;
    use burn::backend::tensor::FloatTensor;
    use burn::tensor::Shape;
    use burn_cubecl::CubeBackend;
    use burn_cubecl::kernel::{into_contiguous, untile};
    use burn_cubecl::ops::numeric::empty_device_contiguous_dtype;
    use burn_cubecl::tensor::CubeTensor;
    use cubecl::prelude::*;
    use cubecl::{calculate_cube_count_elemwise, tensor_vector_size_parallel};

    /// Outputs (`out` rows × `seq` columns) per invocation: 16 vector multiply-adds for every
    /// 4 weight vectors and 16 input values read.
    const TILE_O: usize = 4;
    const TILE_S: usize = 4;

    impl super::DirectLinearOps for CubeBackend {
        fn direct_linear(
            weight: FloatTensor<Self>,
            x: FloatTensor<Self>,
            bias: FloatTensor<Self>,
        ) -> FloatTensor<Self> {
            launch(weight, x, Some(bias))
        }

        fn direct_matmul(weight: FloatTensor<Self>, x: FloatTensor<Self>) -> FloatTensor<Self> {
            launch(weight, x, None)
        }
    }

    /// `out[b, o, s] = bias[o] + Σ_k weight[k, o] · x[b, k, s]`; `weight` read in vectors of
    /// `N` along `k` (the checkpoint's `[out, in]` rows, which Burn's `[in, out]` weight is a
    /// transposed view of), `x` through its strides (any layout), one `TILE_O × TILE_S` block
    /// of outputs per invocation. Reads past the last row or column are clamped to it (always
    /// in bounds); writes there are skipped.
    #[cube(launch_unchecked)]
    fn direct_linear_kernel<F: Float, N: Size>(
        weight: &Tensor<Vector<F, N>>,
        x: &Tensor<F>,
        bias: ComptimeOption<&[F]>,
        output: &mut Tensor<F>,
        o_blocks: usize,
        s_blocks: usize,
        #[comptime] tile_o: usize,
        #[comptime] tile_s: usize,
        #[define(F)] _dtype: ElemType,
    ) {
        if ABSOLUTE_POS >= x.shape(0) * o_blocks * s_blocks {
            terminate!();
        }
        // Output blocks fastest: neighbouring invocations read the same inputs.
        let ob = ABSOLUTE_POS % o_blocks;
        let rest = ABSOLUTE_POS / o_blocks;
        let sb = rest % s_blocks;
        let b = rest / s_blocks;

        let n = weight.vector_size();
        let d_in = weight.shape(0);
        let d_out = weight.shape(1);
        let seq = x.shape(2);
        let ws_k = weight.stride(0);
        let ws_o = weight.stride(1);
        let xs_k = x.stride(1);
        let xs_s = x.stride(2);
        let x_base = b * x.stride(0);
        let out_base = b * output.stride(0);
        let os_o = output.stride(1);
        let os_s = output.stride(2);

        let o0 = ob * tile_o;
        let s0 = sb * tile_s;
        let o_last = d_out - 1;
        let s_last = seq - 1;

        let mut acc = Array::<Vector<F, N>>::new(comptime!(tile_o * tile_s));
        #[unroll]
        for t in 0..comptime!(tile_o * tile_s) {
            acc[t] = Vector::broadcast(F::from_int(0));
        }
        let mut xv = Array::<Vector<F, N>>::new(tile_s);

        for kc in 0..d_in / n {
            let k = kc * n;
            #[unroll]
            for c in 0..tile_s {
                let base = x_base + clamp_max(s0 + c, s_last) * xs_s + k * xs_k;
                let mut v = Vector::<F, N>::empty();
                #[unroll]
                for j in 0..n {
                    v.insert(j, x[base + j * xs_k]);
                }
                xv[c] = v;
            }
            #[unroll]
            for r in 0..tile_o {
                let w = weight[(k * ws_k + clamp_max(o0 + r, o_last) * ws_o) / n];
                #[unroll]
                for c in 0..tile_s {
                    acc[comptime!(r * tile_s + c)] += w * xv[c];
                }
            }
        }

        #[unroll]
        for r in 0..tile_o {
            let o = o0 + r;
            if o < d_out {
                let bias_o: ComptimeOption<F> = bias.as_ref().map(|bias| bias[o]);
                let bias_o = bias_o.unwrap_or_else(|| F::from_int(0));
                #[unroll]
                for c in 0..tile_s {
                    let s = s0 + c;
                    if s < seq {
                        let v = acc[comptime!(r * tile_s + c)];
                        let mut sum = bias_o;
                        #[unroll]
                        for j in 0..n {
                            sum += v.extract(j);
                        }
                        output[out_base + o * os_o + s * os_s] = sum;
                    }
                }
            }
        }
    }

    fn launch(weight: CubeTensor, x: CubeTensor, bias: Option<CubeTensor>) -> CubeTensor {
        // A tensor stored in tiles (only ever made by Burn's matmul) cannot be read by index.
        let weight = untile(weight);
        let x = untile(x);
        // Read as a plain slice, which ignores strides.
        let bias = bias.map(into_contiguous);

        let [d_in, d_out] = weight.meta.shape().dims::<2>();
        let [batch, x_in, seq] = x.meta.shape().dims::<3>();
        // Our own callers' contract (`linear_columns`, `rows`), not user input.
        debug_assert_eq!(x_in, d_in, "the direct kernel's input width");
        debug_assert!(
            bias.as_ref()
                .is_none_or(|b| b.meta.shape().dims::<1>() == [d_out])
        );
        let client = x.client.clone();
        let dtype = x.dtype;
        let output = empty_device_contiguous_dtype(
            client.clone(),
            x.device.clone(),
            Shape::new([batch, d_out, seq]),
            dtype,
        );
        let o_blocks = d_out.div_ceil(TILE_O);
        let s_blocks = seq.div_ceil(TILE_S);
        let units = batch * o_blocks * s_blocks;
        if units == 0 || d_in == 0 {
            return output;
        }
        // The widest vector (WGSL's largest is 4) along `k` that divides the input width and
        // the weight's other stride; 1 (strided reads) when `k` is not contiguous.
        let n = tensor_vector_size_parallel(
            client
                .io_optimized_vector_sizes(dtype.size())
                .filter(|&v| v <= 4),
            weight.meta.shape(),
            weight.meta.strides(),
            0,
        );
        let cube_dim = CubeDim::new(&client, units);
        let cube_count = calculate_cube_count_elemwise(&client, units, cube_dim);
        // SAFETY: every read index is in bounds (rows and columns clamped to the last one,
        // k < d_in, vector offsets are multiples of `n` as `tensor_vector_size_parallel`
        // checked), and every write is guarded by the output's bounds.
        unsafe {
            direct_linear_kernel::launch_unchecked(
                &client,
                cube_count,
                cube_dim,
                n,
                weight.into_tensor_arg(),
                x.into_tensor_arg(),
                bias.map(|bias| bias.into_buffer_arg()).into(),
                output.clone().into_tensor_arg(),
                o_blocks,
                s_blocks,
                TILE_O,
                TILE_S,
                dtype_to_storage_type(dtype),
            );
        }
        output
    }
}

#[cfg(test)]
mod tests {
    use burn::module::Param;
    use burn::tensor::{Distribution, Tensor, Tolerance};

    use super::*;

    /// Burn's own ops, for reference: `Wᵀ·X + b`.
    fn reference(layer: &Linear, x: Tensor<3>) -> Tensor<3> {
        let out = layer
            .weight
            .val()
            .transpose()
            .unsqueeze_dim::<3>(0)
            .matmul(x);
        let bias = layer.bias.as_ref().map(|b| b.val());
        match bias {
            Some(b) => {
                let d = b.dims()[0];
                out + b.reshape([1, d, 1])
            }
            None => out,
        }
    }

    #[test]
    fn direct_kernel_equals_burns_matmul_on_every_layout_and_tail() {
        let Some(device) = crate::device::wgpu_if_present().unwrap() else {
            return;
        };
        set_enabled(true);
        let normal = Distribution::Normal(0.0, 1.0);
        // (batch, in, out, seq): tails in every dimension, an input width that is no
        // multiple of 4 (scalar reads), one token, the embedded model's width.
        for (batch, d_in, d_out, seq) in [
            (2, 12, 8, 9),
            (1, 13, 10, 1),
            (2, 64, 37, 5),
            (1, 256, 256, 9),
        ] {
            for transposed_weight in [true, false] {
                // As checkpoints load (a transposed view of `[out, in]`) and as stored after
                // training (row-major `[in, out]`).
                let weight = match transposed_weight {
                    true => Tensor::<2>::random([d_out, d_in], normal, &device).transpose(),
                    false => Tensor::<2>::random([d_in, d_out], normal, &device),
                };
                let layer = Linear {
                    weight: Param::from_tensor(weight),
                    bias: Some(Param::from_tensor(Tensor::random([d_out], normal, &device))),
                };
                for view in [false, true] {
                    // The encoder's first input is a view of `[batch, seq, in]`.
                    let x = match view {
                        true => {
                            Tensor::<3>::random([batch, seq, d_in], normal, &device).swap_dims(1, 2)
                        }
                        false => Tensor::<3>::random([batch, d_in, seq], normal, &device),
                    };
                    let want = reference(&layer, x.clone());
                    let what = format!(
                        "{batch}×{d_in}→{d_out}×{seq}, transposed weight {transposed_weight}, view {view}"
                    );
                    assert!(applies(&device), "the direct kernel is off ({what})");
                    for with_bias in [true, false] {
                        let got = linear_columns(&layer, x.clone(), with_bias);
                        assert_eq!(got.dims(), [batch, d_out, seq], "{what}");
                        let want = match with_bias {
                            true => want.clone(),
                            false => {
                                want.clone()
                                    - layer.bias.as_ref().unwrap().val().reshape([1, d_out, 1])
                            }
                        };
                        got.into_data()
                            .assert_approx_eq::<f32>(&want.into_data(), Tolerance::absolute(1e-4));
                    }
                }
            }
        }
        // A software adapter predicts in f32, on this kernel, even with `shader-f16`.
        let precision = crate::model::precision::Precision::best_for(&device);
        assert_eq!(precision, crate::model::precision::Precision::F32);
        // Training (an autodiff device) keeps Burn's ops, and so does everything when off.
        assert!(
            !applies(&device.clone().autodiff()),
            "used on an autodiff device"
        );
        set_enabled(false);
        assert!(!applies(&device), "turned off, it must not be used");
    }
}
