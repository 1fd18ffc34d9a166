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
use super::names::TensorNames;
use crate::config::{BertConfig, HeadActivation, HiddenAct};
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
    /// The encoder (embeddings, projection, stored layers), under the names of its family.
    pub fn from_source<S: WeightSource>(config: &BertConfig, src: &mut S) -> Result<Self> {
        config.validate()?;
        let names = TensorNames::of(config);
        let (h, e) = (config.hidden_size, config.embedding_width());
        let eps = config.layer_norm_eps;
        let act = config.act();

        // Asked for in the order `checkpoint_tensors` lists them.
        let word_embeddings = embedding(src, &names.word_embeddings, config.vocab_size, e)?;
        let position_embeddings = embedding(
            src,
            &names.position_embeddings,
            config.max_position_embeddings,
            e,
        )?;
        let token_type_embeddings = match &names.token_type_embeddings {
            Some(name) => Some(embedding(src, name, config.type_vocab_size, e)?),
            None => None,
        };
        let embeddings = BertEmbeddings {
            word_embeddings,
            position_embeddings,
            token_type_embeddings,
            layer_norm: layer_norm(src, &names.embeddings_norm, e, eps)?,
            padding_idx: config
                .family()
                .positions_after_padding()
                .then_some(config.pad_token_id)
                .flatten(),
        };
        let projection = match &names.projection {
            Some(name) => Some(linear(src, name, e, h)?),
            None => None,
        };

        // Grown as layers are built, never sized from the config up front (a config may
        // claim any number).
        let mut layers = Vec::new();
        for n in 0..config.stored_layers() {
            let l = names.layer(n);
            let i = config.intermediate_size;
            layers.push(BertLayer {
                attention: BertAttention {
                    self_attention: BertSelfAttention {
                        query: linear(src, &l.query, h, h)?,
                        key: linear(src, &l.key, h, h)?,
                        value: linear(src, &l.value, h, h)?,
                        num_heads: config.num_attention_heads,
                        head_dim: config.head_dim(),
                    },
                    output: BertSelfOutput {
                        dense: linear(src, &l.attention_dense, h, h)?,
                        layer_norm: layer_norm(src, &l.attention_norm, h, eps)?,
                    },
                },
                intermediate: BertIntermediate {
                    dense: linear(src, &l.intermediate, h, i)?,
                    act,
                },
                output: BertOutput {
                    dense: linear(src, &l.output, i, h)?,
                    layer_norm: layer_norm(src, &l.output_norm, h, eps)?,
                },
            });
        }
        Ok(BertModel {
            embeddings,
            projection,
            encoder: BertEncoder {
                layer: layers,
                schedule: config.layer_schedule().collect(),
            },
        })
    }
}

impl BertForMaskedLM {
    /// Builds the model, asking `src` for every tensor by its Hugging Face name.
    pub fn from_source<S: WeightSource>(config: &BertConfig, src: &mut S) -> Result<Self> {
        let bert = BertModel::from_source(config, src)?;
        let names = TensorNames::of(config);
        let (h, w) = (config.hidden_size, config.head_width());
        let eps = config.layer_norm_eps;
        let act = match config.family().head_activation() {
            HeadActivation::Configured => config.act(),
            HeadActivation::Gelu => HiddenAct::Gelu,
        };
        let decoder = if config.tie_word_embeddings {
            None
        } else {
            let w = src.tensor(
                &names.head_decoder,
                [config.vocab_size, w],
                ParamKind::Matrix,
            )?;
            Some(Param::from_tensor(w))
        };
        let cls = BertOnlyMLMHead {
            predictions: BertLMPredictionHead {
                transform: BertPredictionHeadTransform {
                    dense: linear(src, &names.head_dense, h, w)?,
                    layer_norm: layer_norm(src, &names.head_norm, w, eps)?,
                    act,
                },
                decoder,
                bias: Param::from_tensor(src.tensor(
                    names.vocab_bias(config.tie_word_embeddings),
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
        let names = TensorNames::of(&self.config);
        let mut named = NamedTensors::default();
        named.encoder(&self.bert, &names);
        let head = &self.cls.predictions;
        named.linear(&names.head_dense, &head.transform.dense);
        named.norm(&names.head_norm, &head.transform.layer_norm);
        if let Some(decoder) = &head.decoder {
            // Untied, transformers 5 writes the decoder's weight and bias as well.
            named.tensor(&names.head_decoder, decoder.val());
            if let Some(decoder_bias) = names.head_bias.get(1) {
                named.tensor(decoder_bias, head.bias.val());
            }
        }
        named.tensor(&names.head_bias[0], head.bias.val());
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

    /// The encoder's parameters: embeddings, projection and stored layers.
    pub fn encoder(&mut self, bert: &BertModel, names: &TensorNames) {
        let emb = &bert.embeddings;
        self.tensor(&names.word_embeddings, emb.word_embeddings.weight.val());
        self.tensor(
            &names.position_embeddings,
            emb.position_embeddings.weight.val(),
        );
        if let (Some(name), Some(types)) =
            (&names.token_type_embeddings, &emb.token_type_embeddings)
        {
            self.tensor(name, types.weight.val());
        }
        self.norm(&names.embeddings_norm, &emb.layer_norm);
        if let (Some(name), Some(projection)) = (&names.projection, &bert.projection) {
            self.linear(name, projection);
        }
        for (n, layer) in bert.encoder.layer.iter().enumerate() {
            let l = names.layer(n);
            let sa = &layer.attention.self_attention;
            self.linear(&l.query, &sa.query);
            self.linear(&l.key, &sa.key);
            self.linear(&l.value, &sa.value);
            self.linear(&l.attention_dense, &layer.attention.output.dense);
            self.norm(&l.attention_norm, &layer.attention.output.layer_norm);
            self.linear(&l.intermediate, &layer.intermediate.dense);
            self.linear(&l.output, &layer.output.dense);
            self.norm(&l.output_norm, &layer.output.layer_norm);
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
