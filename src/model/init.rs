//! Building a [`BertForMaskedLM`] from named tensors, and listing its tensors back
//! under the same Hugging Face names. Checkpoint loading and random initialisation
//! both go through [`WeightSource`], so the name ↔ module mapping is written once.

use burn::module::Param;
use burn::nn::{Embedding, Linear};
use burn::tensor::{Device, Distribution, Tensor};

use super::attention::{BertAttention, BertSelfAttention, BertSelfOutput};
use super::bert::{BertForMaskedLM, BertModel};
use super::embeddings::BertEmbeddings;
use super::head::{BertLMPredictionHead, BertOnlyMLMHead, BertPredictionHeadTransform};
use super::layer::{BertEncoder, BertIntermediate, BertLayer, BertOutput};
use super::layer_norm::LayerNorm;
use crate::config::BertConfig;
use crate::error::Result;

/// How transformers' `_init_weights` initialises a parameter; a checkpoint ignores it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamKind {
    /// Linear and embedding matrices: N(0, initializer_range).
    Matrix,
    /// Biases: zeros.
    Bias,
    /// LayerNorm weight: ones.
    NormWeight,
    /// LayerNorm bias: zeros.
    NormBias,
}

/// Supplies the tensor for a parameter, given its Hugging Face name and shape.
pub trait WeightSource {
    fn tensor<const D: usize>(
        &mut self,
        name: &str,
        shape: [usize; D],
        kind: ParamKind,
    ) -> Result<Tensor<D>>;
}

/// Fresh weights as transformers' `BertPreTrainedModel._init_weights` makes them.
pub struct RandomInit {
    pub std: f64,
    pub device: Device,
}

impl WeightSource for RandomInit {
    fn tensor<const D: usize>(
        &mut self,
        _name: &str,
        shape: [usize; D],
        kind: ParamKind,
    ) -> Result<Tensor<D>> {
        Ok(match kind {
            ParamKind::Matrix => {
                Tensor::random(shape, Distribution::Normal(0.0, self.std), &self.device)
            }
            ParamKind::Bias | ParamKind::NormBias => Tensor::zeros(shape, &self.device),
            ParamKind::NormWeight => Tensor::ones(shape, &self.device),
        })
    }
}

pub(crate) fn linear<S: WeightSource>(
    src: &mut S,
    prefix: &str,
    d_in: usize,
    d_out: usize,
) -> Result<Linear> {
    // Checkpoints store `[out, in]` (torch); Burn's Linear multiplies by `[in, out]`.
    let weight = src.tensor(
        &format!("{prefix}.weight"),
        [d_out, d_in],
        ParamKind::Matrix,
    )?;
    let bias = src.tensor(&format!("{prefix}.bias"), [d_out], ParamKind::Bias)?;
    Ok(Linear {
        weight: Param::from_tensor(weight.transpose()),
        bias: Some(Param::from_tensor(bias)),
    })
}

fn layer_norm<S: WeightSource>(
    src: &mut S,
    prefix: &str,
    width: usize,
    eps: f64,
) -> Result<LayerNorm> {
    let gamma = src.tensor(&format!("{prefix}.weight"), [width], ParamKind::NormWeight)?;
    let beta = src.tensor(&format!("{prefix}.bias"), [width], ParamKind::NormBias)?;
    Ok(LayerNorm::new(gamma, beta, eps))
}

fn embedding<S: WeightSource>(
    src: &mut S,
    name: &str,
    rows: usize,
    width: usize,
) -> Result<Embedding> {
    Ok(Embedding {
        weight: Param::from_tensor(src.tensor(name, [rows, width], ParamKind::Matrix)?),
    })
}

impl BertModel {
    /// The encoder (`bert.embeddings.*`, `bert.encoder.*`).
    pub fn from_source<S: WeightSource>(config: &BertConfig, src: &mut S) -> Result<Self> {
        config.validate()?;
        let h = config.hidden_size;
        let eps = config.layer_norm_eps;
        let act = config.act();

        let embeddings = BertEmbeddings {
            word_embeddings: embedding(
                src,
                "bert.embeddings.word_embeddings.weight",
                config.vocab_size,
                h,
            )?,
            position_embeddings: embedding(
                src,
                "bert.embeddings.position_embeddings.weight",
                config.max_position_embeddings,
                h,
            )?,
            token_type_embeddings: embedding(
                src,
                "bert.embeddings.token_type_embeddings.weight",
                config.type_vocab_size,
                h,
            )?,
            layer_norm: layer_norm(src, "bert.embeddings.LayerNorm", h, eps)?,
        };

        // Grown as layers are built, never sized from the config up front (a config may
        // claim any number).
        let mut layers = Vec::new();
        for i in 0..config.num_hidden_layers {
            let p = format!("bert.encoder.layer.{i}");
            layers.push(BertLayer {
                attention: BertAttention {
                    self_attention: BertSelfAttention {
                        query: linear(src, &format!("{p}.attention.self.query"), h, h)?,
                        key: linear(src, &format!("{p}.attention.self.key"), h, h)?,
                        value: linear(src, &format!("{p}.attention.self.value"), h, h)?,
                        num_heads: config.num_attention_heads,
                        head_dim: config.head_dim(),
                    },
                    output: BertSelfOutput {
                        dense: linear(src, &format!("{p}.attention.output.dense"), h, h)?,
                        layer_norm: layer_norm(
                            src,
                            &format!("{p}.attention.output.LayerNorm"),
                            h,
                            eps,
                        )?,
                    },
                },
                intermediate: BertIntermediate {
                    dense: linear(
                        src,
                        &format!("{p}.intermediate.dense"),
                        h,
                        config.intermediate_size,
                    )?,
                    act,
                },
                output: BertOutput {
                    dense: linear(
                        src,
                        &format!("{p}.output.dense"),
                        config.intermediate_size,
                        h,
                    )?,
                    layer_norm: layer_norm(src, &format!("{p}.output.LayerNorm"), h, eps)?,
                },
            });
        }
        Ok(BertModel {
            embeddings,
            encoder: BertEncoder { layer: layers },
        })
    }
}

impl BertForMaskedLM {
    /// Builds the model, asking `src` for every tensor by its Hugging Face name.
    pub fn from_source<S: WeightSource>(config: &BertConfig, src: &mut S) -> Result<Self> {
        let bert = BertModel::from_source(config, src)?;
        let h = config.hidden_size;
        let eps = config.layer_norm_eps;
        let act = config.act();
        let decoder = if config.tie_word_embeddings {
            None
        } else {
            let w = src.tensor(
                "cls.predictions.decoder.weight",
                [config.vocab_size, h],
                ParamKind::Matrix,
            )?;
            Some(Param::from_tensor(w))
        };
        // transformers adds the decoder's own bias; tied, that *is* `cls.predictions.bias`.
        let bias_name = if config.tie_word_embeddings {
            "cls.predictions.bias"
        } else {
            "cls.predictions.decoder.bias"
        };
        let cls = BertOnlyMLMHead {
            predictions: BertLMPredictionHead {
                transform: BertPredictionHeadTransform {
                    dense: linear(src, "cls.predictions.transform.dense", h, h)?,
                    layer_norm: layer_norm(src, "cls.predictions.transform.LayerNorm", h, eps)?,
                    act,
                },
                decoder,
                bias: Param::from_tensor(src.tensor(
                    bias_name,
                    [config.vocab_size],
                    ParamKind::Bias,
                )?),
            },
        };

        Ok(BertForMaskedLM {
            bert,
            cls,
            config: config.clone(),
        })
    }

    /// A freshly initialised model, as `BertForMaskedLM(config)` in transformers.
    pub fn init(config: &BertConfig, device: &Device) -> Result<Self> {
        let mut src = RandomInit {
            std: config.initializer_range,
            device: device.clone(),
        };
        Self::from_source(config, &mut src)
    }

    /// Every parameter under its Hugging Face name, flattened, with its HF shape
    /// (Linear weights back in torch's `[out, in]`). Tied weights appear once, as
    /// transformers 5 writes them.
    pub fn named_tensors(&self) -> Vec<NamedTensor> {
        let mut named = NamedTensors::default();
        named.encoder(&self.bert);
        let head = &self.cls.predictions;
        named.linear("cls.predictions.transform.dense", &head.transform.dense);
        named.norm(
            "cls.predictions.transform.LayerNorm",
            &head.transform.layer_norm,
        );
        if let Some(decoder) = &head.decoder {
            // Untied, transformers 5 writes the decoder's weight and bias as well.
            named.tensor("cls.predictions.decoder.weight", decoder.val());
            named.tensor("cls.predictions.decoder.bias", head.bias.val());
        }
        named.tensor("cls.predictions.bias", head.bias.val());
        named.0
    }
}

/// A parameter under its Hugging Face name, with its HF shape, flattened.
pub type NamedTensor = (String, Vec<usize>, Tensor<1>);

/// Collects parameters under their Hugging Face names.
#[derive(Default)]
pub(crate) struct NamedTensors(pub Vec<NamedTensor>);

impl NamedTensors {
    pub fn tensor<const D: usize>(&mut self, name: &str, t: Tensor<D>) {
        let shape = t.dims().to_vec();
        let n = shape.iter().product::<usize>();
        self.0.push((name.to_string(), shape, t.reshape([n])));
    }

    /// `{prefix}.weight` in torch's `[out, in]` and `{prefix}.bias`.
    pub fn linear(&mut self, prefix: &str, lin: &Linear) {
        self.tensor(&format!("{prefix}.weight"), lin.weight.val().transpose());
        if let Some(b) = &lin.bias {
            self.tensor(&format!("{prefix}.bias"), b.val());
        }
    }

    pub fn norm(&mut self, prefix: &str, norm: &LayerNorm) {
        self.tensor(&format!("{prefix}.weight"), norm.gamma.val());
        self.tensor(&format!("{prefix}.bias"), norm.beta.val());
    }

    /// The encoder's parameters: embeddings and layers.
    pub fn encoder(&mut self, bert: &BertModel) {
        let emb = &bert.embeddings;
        let e = "bert.embeddings";
        self.tensor(
            &format!("{e}.word_embeddings.weight"),
            emb.word_embeddings.weight.val(),
        );
        self.tensor(
            &format!("{e}.position_embeddings.weight"),
            emb.position_embeddings.weight.val(),
        );
        self.tensor(
            &format!("{e}.token_type_embeddings.weight"),
            emb.token_type_embeddings.weight.val(),
        );
        self.norm(&format!("{e}.LayerNorm"), &emb.layer_norm);
        for (i, layer) in bert.encoder.layer.iter().enumerate() {
            let p = format!("bert.encoder.layer.{i}");
            let sa = &layer.attention.self_attention;
            self.linear(&format!("{p}.attention.self.query"), &sa.query);
            self.linear(&format!("{p}.attention.self.key"), &sa.key);
            self.linear(&format!("{p}.attention.self.value"), &sa.value);
            self.linear(
                &format!("{p}.attention.output.dense"),
                &layer.attention.output.dense,
            );
            self.norm(
                &format!("{p}.attention.output.LayerNorm"),
                &layer.attention.output.layer_norm,
            );
            self.linear(
                &format!("{p}.intermediate.dense"),
                &layer.intermediate.dense,
            );
            self.linear(&format!("{p}.output.dense"), &layer.output.dense);
            self.norm(&format!("{p}.output.LayerNorm"), &layer.output.layer_norm);
        }
    }
}

impl BertForMaskedLM {
    /// Starts attention *local* instead of uniform (a "mimetic" initialisation after
    /// Trockman & Kolter, 2023): sinusoidal position embeddings at BERT's init scale, and
    /// in every layer `key = query ~ N(0, qk_std)`, so that a query scores keys by
    /// similarity, and with sinusoidal positions nearby tokens score highest. Measured on
    /// the embedded configuration (torch probe, batch 16 × 128): the plain init sat on the
    /// unigram plateau with uniform attention in every head; this one kept falling past it.
    /// It changes starting values only: the model and its checkpoints stay plain BERT.
    pub fn with_local_attention_init(mut self, qk_std: f64) -> Self {
        let config = self.config.clone();
        let device = self
            .bert
            .embeddings
            .position_embeddings
            .weight
            .val()
            .device();
        let (positions, hidden) = (config.max_position_embeddings, config.hidden_size);
        let mut table = vec![0f32; positions * hidden];
        for pos in 0..positions {
            for pair in 0..hidden / 2 {
                let angle = pos as f64 / 10_000f64.powf(2.0 * pair as f64 / hidden as f64);
                table[pos * hidden + 2 * pair] = angle.sin() as f32;
                table[pos * hidden + 2 * pair + 1] = angle.cos() as f32;
            }
        }
        // sin/cos have variance 1/2: scaled to BERT's N(0, initializer_range) per element.
        let scale = config.initializer_range * std::f64::consts::SQRT_2;
        let table = Tensor::<2>::from_data(
            burn::tensor::TensorData::new(table, [positions, hidden]),
            &device,
        ) * scale;
        self.bert.embeddings.position_embeddings.weight = Param::from_tensor(table);
        for layer in &mut self.bert.encoder.layer {
            let attention = &mut layer.attention.self_attention;
            let w =
                Tensor::<2>::random([hidden, hidden], Distribution::Normal(0.0, qk_std), &device);
            attention.query.weight = Param::from_tensor(w.clone());
            attention.key.weight = Param::from_tensor(w);
        }
        self
    }
}
