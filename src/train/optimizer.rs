//! AdamW as `torch.optim.AdamW`, with BERT's no-decay group, a linear warm-up/decay
//! schedule and global gradient-norm clipping as `torch.nn.utils.clip_grad_norm_`.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamGroup, ParamId};
use burn::optim::{AdamWConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::{Bytes, Device, Tensor};

use super::{MlmBatch, mlm_loss};
use crate::checkpoint::read_f32;
use crate::error::{BertError, Result};
use crate::model::BertForMaskedLM;

/// Hyper-parameters of a training run.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainConfig {
    pub lr: f64,
    pub warmup_steps: usize,
    /// Steps of the whole run; the rate decays linearly to zero at this step.
    pub total_steps: usize,
    pub beta1: f32,
    pub beta2: f32,
    pub eps: f32,
    pub weight_decay: f32,
    /// BERT's choice: no weight decay on biases and LayerNorm parameters.
    pub no_decay_on_bias_and_norm: bool,
    /// Global L2 norm the gradients are clipped to; `None` disables clipping.
    pub max_grad_norm: Option<f32>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            lr: 1e-4,
            warmup_steps: 0,
            total_steps: 1,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-6,
            weight_decay: 0.01,
            no_decay_on_bias_and_norm: true,
            max_grad_norm: Some(1.0),
        }
    }
}

/// transformers' `get_linear_schedule_with_warmup`: rate for optimizer step `step` (0-based).
pub fn lr_at(config: &TrainConfig, step: usize) -> f64 {
    if step < config.warmup_steps {
        return config.lr * step as f64 / config.warmup_steps.max(1) as f64;
    }
    let remaining = config.total_steps.saturating_sub(step) as f64;
    let span = config
        .total_steps
        .saturating_sub(config.warmup_steps)
        .max(1) as f64;
    config.lr * (remaining / span).max(0.0)
}

/// Every float parameter's id and rank.
#[derive(Default)]
struct ParamList(Vec<(ParamId, usize)>);

impl ModuleVisitor for ParamList {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.push((param.id, D));
    }
}

/// Scales all gradients so their global L2 norm is at most `max_norm`, on the device
/// (no host read): `coef = min(1, max_norm / (norm + 1e-6))`, as PyTorch computes it.
fn clip_global_norm(grads: &mut GradientsParams, params: &[(ParamId, usize)], max_norm: f32) {
    let mut sum: Option<Tensor<1>> = None;
    for &(id, rank) in params {
        let sq = match rank {
            1 => grads.get::<1>(id).map(|g| g.powi_scalar(2).sum()),
            2 => grads.get::<2>(id).map(|g| g.powi_scalar(2).sum()),
            _ => None,
        };
        if let Some(sq) = sq {
            sum = Some(match sum {
                Some(s) => s + sq,
                None => sq,
            });
        }
    }
    let Some(sum) = sum else { return };
    let coef = (sum.sqrt() + 1e-6)
        .recip()
        .mul_scalar(max_norm)
        .clamp_max(1.0);
    for &(id, rank) in params {
        match rank {
            1 => {
                if let Some(g) = grads.remove::<1>(id) {
                    grads.register(id, g * coef.clone());
                }
            }
            2 => {
                if let Some(g) = grads.remove::<2>(id) {
                    grads.register(id, g * coef.clone().unsqueeze::<2>());
                }
            }
            _ => {}
        }
    }
}

/// Runs optimizer steps on a model that lives on an autodiff device.
pub struct MlmTrainer {
    pub config: TrainConfig,
    optim: ModuleOptimizer,
    /// Optimizer steps taken so far (drives the schedule and Adam's bias correction).
    pub step: usize,
}

/// Result of one step.
#[derive(Clone, Copy, Debug)]
pub struct StepReport {
    /// Loss of the batch before the update.
    pub loss: f32,
    pub lr: f64,
}

impl MlmTrainer {
    pub fn new(config: TrainConfig) -> Result<Self> {
        let adamw = |decay: f32| {
            AdamWConfig::new()
                .with_beta_1(config.beta1)
                .with_beta_2(config.beta2)
                .with_epsilon(config.eps)
                .with_weight_decay(decay)
        };
        let mut optim = adamw(config.weight_decay).init();
        if config.no_decay_on_bias_and_norm {
            // Every rank-1 parameter of BERT is a bias or a LayerNorm gain/shift.
            let group = ParamGroup::from_regex(r"(^|\.)(bias|beta|gamma)$")
                .map_err(|e| BertError::Input(format!("parameter group: {e:?}")))?;
            optim = optim.with_group(group, adamw(0.0).build(), None);
        }
        Ok(Self {
            config,
            optim,
            step: 0,
        })
    }

    /// One optimizer step on `batch`; returns the updated model and the loss before it.
    /// The loss comes back with one asynchronous read after the update is queued.
    pub async fn step(
        &mut self,
        model: BertForMaskedLM,
        batch: &MlmBatch,
        pad_id: u32,
        device: &Device,
    ) -> Result<(BertForMaskedLM, StepReport)> {
        let loss = mlm_loss(&model, batch, pad_id, device)?;
        self.step_on_loss(model, loss).await
    }

    /// One optimizer step of any model (masked LM or a task head) on its `loss`.
    pub async fn step_on_loss<M: Module>(
        &mut self,
        model: M,
        loss: Tensor<1>,
    ) -> Result<(M, StepReport)> {
        let grads = loss.backward();
        let mut grads = GradientsParams::from_grads(grads, &model);
        if let Some(max_norm) = self.config.max_grad_norm {
            let mut params = ParamList::default();
            model.visit(&mut params);
            clip_global_norm(&mut grads, &params.0, max_norm);
        }
        let lr = lr_at(&self.config, self.step);
        let model = self.optim.step(lr, model, grads);
        self.step += 1;
        let loss = read_f32(loss.detach()).await?;
        let loss = loss.first().copied().unwrap_or(f32::NAN);
        Ok((model, StepReport { loss, lr }))
    }
}

/// The ids of the model's parameters in visiting order. The optimizer's state is keyed
/// by these ids, so a checkpoint stores them to pair the state with a reloaded model.
pub fn param_ids(model: &BertForMaskedLM) -> Vec<u64> {
    let mut params = ParamList::default();
    model.visit(&mut params);
    params.0.into_iter().map(|(id, _)| id.val()).collect()
}

/// Gives a freshly loaded model the parameter ids it had when its optimizer state was saved.
pub fn with_param_ids(model: BertForMaskedLM, ids: &[u64]) -> Result<BertForMaskedLM> {
    let have = param_ids(&model).len();
    if have != ids.len() {
        return Err(BertError::Input(format!(
            "the saved optimizer state covers {} parameters but the model has {have}",
            ids.len()
        )));
    }
    struct Assign<'a>(std::slice::Iter<'a, u64>);
    impl ModuleMapper for Assign<'_> {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            let (id, value, mapper) = param.consume();
            let id = self.0.next().map_or(id, |&v| ParamId::from(v));
            Param::from_mapped_value(id, value, mapper)
        }
    }
    Ok(model.map(&mut Assign(ids.iter())))
}

impl MlmTrainer {
    /// The optimizer's moments and step counts as burnpack bytes (see [`param_ids`]).
    pub fn state_bytes(&self) -> Result<Vec<u8>> {
        let bytes = self.optim.into_bytes().map_err(|e| {
            BertError::Input(format!("cannot serialize the optimizer state: {e:?}"))
        })?;
        Ok(bytes.to_vec())
    }

    /// Restores what [`state_bytes`](Self::state_bytes) saved, `step` optimizer steps in.
    pub fn load_state(mut self, bytes: Vec<u8>, step: usize) -> Result<Self> {
        self.optim = self
            .optim
            .from_bytes(Bytes::from_bytes_vec(bytes))
            .map_err(|e| BertError::Input(format!("the optimizer state is unreadable: {e:?}")))?;
        self.step = step;
        Ok(self)
    }
}
