//! Loading the task models: a task checkpoint as published (`bert.pooler.*` and
//! `classifier.*` in the file), or any BERT checkpoint — a masked-LM one like the
//! embedded model — as the start of a new classifier, whose head is initialised as
//! transformers initialises it (N(0, initializer_range) weights, zero biases).

use burn::tensor::{Device, Tensor};

use super::{CheckpointSource, SafetensorsFile, candidates, check_header};
use crate::config::BertConfig;
use crate::error::Result;
use crate::model::checkpoint_tensors::{encoder_tensors, pooler_tensors, task_tensors};
use crate::model::init::{ParamKind, RandomInit, WeightSource};
use crate::model::names::TensorNames;
use crate::model::{BertForSequenceClassification, BertForTokenClassification};

/// Where a classifier's head comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeadWeights {
    /// From the checkpoint, which must hold every tensor of the config's task model.
    FromCheckpoint,
    /// A new head for the config's labels: the classifier is initialised afresh; the
    /// pooler is kept from the checkpoint when it has one (bert-base's does), else new.
    New,
}

/// Serves the encoder from the file and, for a new head, the head from a random init.
struct TaskSource<'a> {
    file: CheckpointSource<'a>,
    random: RandomInit,
    head: HeadWeights,
    /// For a new head: whether the file has a usable pooler.
    file_pooler: bool,
}

impl WeightSource for TaskSource<'_> {
    fn tensor<const D: usize>(
        &mut self,
        name: &str,
        shape: [usize; D],
        kind: ParamKind,
    ) -> Result<Tensor<D>> {
        let fresh = self.head == HeadWeights::New
            && (name.starts_with("classifier.")
                || (name.starts_with("bert.pooler.") && !self.file_pooler));
        if fresh {
            self.random.tensor(name, shape, kind)
        } else {
            self.file.tensor(name, shape, kind)
        }
    }
}

/// Whether `file` holds a pooler of the right shape (under any accepted spelling).
fn has_pooler(file: &SafetensorsFile<'_>, config: &BertConfig) -> bool {
    let table = TensorNames::of(config);
    pooler_tensors(config.hidden_size)
        .iter()
        .all(|(name, shape)| {
            candidates(name, &table)
                .iter()
                .any(|n| file.contains(n) && file.check(n, shape).is_ok())
        })
}

fn source<'a>(
    config: &BertConfig,
    file: &'a SafetensorsFile<'a>,
    device: &Device,
    head: HeadWeights,
    pooler: bool,
) -> Result<TaskSource<'a>> {
    let labels = config.validate_labels()?;
    match head {
        HeadWeights::FromCheckpoint => {
            check_header(config, file, task_tensors(config, pooler, labels))?
        }
        HeadWeights::New => check_header(config, file, encoder_tensors(config))?,
    }
    Ok(TaskSource {
        file: CheckpointSource {
            file,
            names: TensorNames::of(config),
            device: device.clone(),
        },
        random: RandomInit {
            std: config.initializer_range,
            device: device.clone(),
        },
        head,
        file_pooler: has_pooler(file, config),
    })
}

/// A `BertForSequenceClassification` for `config`'s labels from the safetensors bytes.
pub fn load_sequence_classifier(
    config: &BertConfig,
    safetensors: &[u8],
    device: &Device,
    head: HeadWeights,
) -> Result<BertForSequenceClassification> {
    let file = SafetensorsFile::parse(safetensors)?;
    let mut src = source(config, &file, device, head, true)?;
    BertForSequenceClassification::from_source(config, &mut src)
}

/// A `BertForTokenClassification` for `config`'s labels from the safetensors bytes.
pub fn load_token_classifier(
    config: &BertConfig,
    safetensors: &[u8],
    device: &Device,
    head: HeadWeights,
) -> Result<BertForTokenClassification> {
    let file = SafetensorsFile::parse(safetensors)?;
    let mut src = source(config, &file, device, head, false)?;
    BertForTokenClassification::from_source(config, &mut src)
}
