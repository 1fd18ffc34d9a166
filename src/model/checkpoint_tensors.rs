//! The tensors a config implies, by Hugging Face name and shape: what a checkpoint is
//! checked against before anything is built (`checkpoint::load_with_config`).

use crate::config::BertConfig;

/// Every tensor [`crate::model::BertForMaskedLM::from_source`] asks for, by Hugging Face name, with the
/// shape it must have (torch's orientation), in the order it asks: what a checkpoint is
/// checked against before anything is allocated. Lazy, because a config may claim any
/// number of layers.
pub fn checkpoint_tensors(config: &BertConfig) -> impl Iterator<Item = (String, Vec<usize>)> + '_ {
    let (h, i) = (config.hidden_size, config.intermediate_size);
    let linear = |p: String, d_in: usize, d_out: usize| {
        [
            (format!("{p}.weight"), vec![d_out, d_in]),
            (format!("{p}.bias"), vec![d_out]),
        ]
    };
    let norm = move |p: String| {
        [
            (format!("{p}.weight"), vec![h]),
            (format!("{p}.bias"), vec![h]),
        ]
    };
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
    .chain(norm(format!("{e}.LayerNorm")));
    let layers = (0..config.num_hidden_layers).flat_map(move |n| {
        let p = format!("bert.encoder.layer.{n}");
        let a = format!("{p}.attention");
        linear(format!("{a}.self.query"), h, h)
            .into_iter()
            .chain(linear(format!("{a}.self.key"), h, h))
            .chain(linear(format!("{a}.self.value"), h, h))
            .chain(linear(format!("{a}.output.dense"), h, h))
            .chain(norm(format!("{a}.output.LayerNorm")))
            .chain(linear(format!("{p}.intermediate.dense"), h, i))
            .chain(linear(format!("{p}.output.dense"), i, h))
            .chain(norm(format!("{p}.output.LayerNorm")))
    });
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
    let head = decoder
        .into_iter()
        .chain(linear("cls.predictions.transform.dense".into(), h, h))
        .chain(norm("cls.predictions.transform.LayerNorm".into()))
        .chain([(bias.to_string(), vec![config.vocab_size])]);
    embeddings.chain(layers).chain(head)
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
}
