//! The tensors a config implies, by Hugging Face name and shape: what a checkpoint is
//! checked against before anything is built (`checkpoint::load_with_config`).

use super::names::TensorNames;
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

/// The embeddings, projection and stored layers, under the family's names.
pub fn encoder_tensors(config: &BertConfig) -> impl Iterator<Item = (String, Vec<usize>)> + '_ {
    let names = TensorNames::of(config);
    let (h, i, e) = (
        config.hidden_size,
        config.intermediate_size,
        config.embedding_width(),
    );
    let types = names
        .token_type_embeddings
        .clone()
        .map(|name| (name, vec![config.type_vocab_size, e]));
    let embeddings = [
        (names.word_embeddings.clone(), vec![config.vocab_size, e]),
        (
            names.position_embeddings.clone(),
            vec![config.max_position_embeddings, e],
        ),
    ]
    .into_iter()
    .chain(types)
    .chain(norm(names.embeddings_norm.clone(), e))
    .chain(
        names
            .projection
            .clone()
            .into_iter()
            .flat_map(move |p| linear(p, e, h)),
    );
    let layers = (0..config.stored_layers()).flat_map(move |n| {
        let l = names.layer(n);
        linear(l.query, h, h)
            .into_iter()
            .chain(linear(l.key, h, h))
            .chain(linear(l.value, h, h))
            .chain(linear(l.attention_dense, h, h))
            .chain(norm(l.attention_norm, h))
            .chain(linear(l.intermediate, h, i))
            .chain(linear(l.output, i, h))
            .chain(norm(l.output_norm, h))
    });
    embeddings.chain(layers)
}

/// The masked-LM head.
fn mlm_head_tensors(config: &BertConfig) -> impl Iterator<Item = (String, Vec<usize>)> + '_ {
    let names = TensorNames::of(config);
    let (h, w, v) = (config.hidden_size, config.head_width(), config.vocab_size);
    let decoder = (!config.tie_word_embeddings).then(|| (names.head_decoder.clone(), vec![v, w]));
    decoder
        .into_iter()
        .chain(linear(names.head_dense.clone(), h, w))
        .chain(norm(names.head_norm.clone(), w))
        .chain([(
            names.vocab_bias(config.tie_word_embeddings).to_string(),
            vec![v],
        )])
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
        let families = [
            ("bert", None, None),
            ("roberta", None, None),
            ("camembert", None, None),
            ("distilbert", None, None),
            ("albert", Some(6), Some(2)),
            ("electra", Some(6), None),
            ("electra", None, None),
        ];
        for ((model_type, embedding_size, inner), tied) in
            families.into_iter().flat_map(|f| [(f, true), (f, false)])
        {
            let config = BertConfig {
                model_type: model_type.into(),
                embedding_size,
                num_hidden_groups: inner.map(|_| 2),
                inner_group_num: inner,
                pad_token_id: Some(1),
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
            assert_eq!(
                listed, src.asked,
                "{model_type} tie_word_embeddings: {tied}"
            );
            let model = BertForMaskedLM::from_source(&config, &mut src).unwrap();
            let built = burn::module::Module::num_params(&model);
            assert_eq!(
                config.parameter_count(),
                built as f64,
                "{model_type} parameters"
            );
            let saved: Vec<_> = model
                .named_tensors()
                .into_iter()
                .map(|t| (t.0, t.1))
                .collect();
            let first = |n: &str| listed.iter().any(|(l, _)| l == n);
            assert!(
                saved
                    .iter()
                    .all(|(n, _)| first(n) || TensorNames::of(&config).head_bias.contains(n)),
                "{model_type}: every saved tensor is one the loader reads"
            );
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
