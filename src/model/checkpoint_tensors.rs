//! The tensors a config implies, by Hugging Face name and shape: what a checkpoint is
//! checked against before anything is built (`checkpoint::load_with_config`).

use crate::config::BertConfig;

/// Every tensor [`crate::model::BertForMaskedLM::from_source`] asks for, by Hugging Face name, with the
/// shape it must have (torch's orientation), in the order it asks: what a checkpoint is
/// checked against before anything is allocated. Lazy, because a config may claim any
/// number of layers.
pub fn checkpoint_tensors(config: &BertConfig) -> impl Iterator<Item = (String, Vec<usize>)> + '_ {
    encoder_tensors(config).chain(mlm_head_tensors(config))
}

/// What a task model asks for: the encoder, the pooler (sequence classification), and
/// the `classifier` of `labels` outputs.
pub fn task_tensors(
    config: &BertConfig,
    pooler: bool,
    labels: usize,
) -> impl Iterator<Item = (String, Vec<usize>)> + '_ {
    let h = config.hidden_size;
    let pooler = pooler.then(|| pooler_tensors(h)).into_iter().flatten();
    encoder_tensors(config)
        .chain(pooler)
        .chain(linear("classifier".into(), h, labels))
}

/// `bert.pooler.dense`.
pub fn pooler_tensors(h: usize) -> [(String, Vec<usize>); 2] {
    linear("bert.pooler.dense".into(), h, h)
}

/// A Linear's weight (torch's `[out, in]`) and bias.
fn linear(p: String, d_in: usize, d_out: usize) -> [(String, Vec<usize>); 2] {
    [
        (format!("{p}.weight"), vec![d_out, d_in]),
        (format!("{p}.bias"), vec![d_out]),
    ]
}

/// A LayerNorm's weight and bias.
fn norm(p: String, h: usize) -> [(String, Vec<usize>); 2] {
    [
        (format!("{p}.weight"), vec![h]),
        (format!("{p}.bias"), vec![h]),
    ]
}

/// The embeddings and layers (`bert.embeddings.*`, `bert.encoder.*`).
pub fn encoder_tensors(config: &BertConfig) -> impl Iterator<Item = (String, Vec<usize>)> + '_ {
    let (h, i) = (config.hidden_size, config.intermediate_size);
    let e = "bert.embeddings";
    let embeddings = [
        (
            format!("{e}.word_embeddings.weight"),
            vec![config.vocab_size, h],
        ),
        (
            format!("{e}.position_embeddings.weight"),
            vec![config.max_position_embeddings, h],
        ),
        (
            format!("{e}.token_type_embeddings.weight"),
            vec![config.type_vocab_size, h],
        ),
    ]
    .into_iter()
    .chain(norm(format!("{e}.LayerNorm"), h));
    let layers = (0..config.num_hidden_layers).flat_map(move |n| {
        let p = format!("bert.encoder.layer.{n}");
        let a = format!("{p}.attention");
        linear(format!("{a}.self.query"), h, h)
            .into_iter()
            .chain(linear(format!("{a}.self.key"), h, h))
            .chain(linear(format!("{a}.self.value"), h, h))
            .chain(linear(format!("{a}.output.dense"), h, h))
            .chain(norm(format!("{a}.output.LayerNorm"), h))
            .chain(linear(format!("{p}.intermediate.dense"), h, i))
            .chain(linear(format!("{p}.output.dense"), i, h))
            .chain(norm(format!("{p}.output.LayerNorm"), h))
    });
    embeddings.chain(layers)
}

/// The masked-LM head (`cls.predictions.*`).
fn mlm_head_tensors(config: &BertConfig) -> impl Iterator<Item = (String, Vec<usize>)> + '_ {
    let h = config.hidden_size;
    let (decoder, bias) = if config.tie_word_embeddings {
        (None, "cls.predictions.bias")
    } else {
        (
            Some((
                "cls.predictions.decoder.weight".to_string(),
                vec![config.vocab_size, h],
            )),
            "cls.predictions.decoder.bias",
        )
    };
    decoder
        .into_iter()
        .chain(linear("cls.predictions.transform.dense".into(), h, h))
        .chain(norm("cls.predictions.transform.LayerNorm".into(), h))
        .chain([(bias.to_string(), vec![config.vocab_size])])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Result;
    use crate::model::BertForMaskedLM;
    use crate::model::init::{ParamKind, RandomInit, WeightSource};
    use burn::tensor::Tensor;

    /// Random weights, remembering what was asked for.
    struct Recording {
        init: RandomInit,
        asked: Vec<(String, Vec<usize>)>,
    }

    impl WeightSource for Recording {
        fn tensor<const D: usize>(
            &mut self,
            name: &str,
            shape: [usize; D],
            kind: ParamKind,
        ) -> Result<Tensor<D>> {
            self.asked.push((name.to_string(), shape.to_vec()));
            self.init.tensor(name, shape, kind)
        }
    }

    #[test]
    fn checkpoint_tensors_are_exactly_what_from_source_asks_for() {
        for tied in [true, false] {
            let config = BertConfig {
                vocab_size: 11,
                hidden_size: 8,
                num_hidden_layers: 2,
                num_attention_heads: 2,
                intermediate_size: 12,
                max_position_embeddings: 7,
                type_vocab_size: 3,
                tie_word_embeddings: tied,
                ..BertConfig::default()
            };
            let mut src = Recording {
                init: RandomInit {
                    std: 0.02,
                    device: crate::device::cpu(),
                },
                asked: Vec::new(),
            };
            BertForMaskedLM::from_source(&config, &mut src).unwrap();
            let listed: Vec<_> = checkpoint_tensors(&config).collect();
            assert_eq!(listed, src.asked, "tie_word_embeddings: {tied}");
        }
    }

    #[test]
    fn task_tensors_are_exactly_what_the_task_models_ask_for() {
        use crate::config::Task;
        use crate::model::{BertForSequenceClassification, BertForTokenClassification};
        let labels = ["a", "b", "c"].map(String::from);
        for task in [Task::Sequence, Task::Token] {
            let config = BertConfig {
                vocab_size: 11,
                hidden_size: 8,
                num_hidden_layers: 2,
                num_attention_heads: 2,
                intermediate_size: 12,
                max_position_embeddings: 7,
                ..BertConfig::default()
            }
            .with_labels(task, &labels);
            let mut src = Recording {
                init: RandomInit {
                    std: 0.02,
                    device: crate::device::cpu(),
                },
                asked: Vec::new(),
            };
            let pooler = task == Task::Sequence;
            if pooler {
                BertForSequenceClassification::from_source(&config, &mut src).unwrap();
            } else {
                BertForTokenClassification::from_source(&config, &mut src).unwrap();
            }
            let listed: Vec<_> = task_tensors(&config, pooler, 3).collect();
            assert_eq!(listed, src.asked, "{task:?}");
        }
    }
}
