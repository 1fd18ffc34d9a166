//! Turning encodings into model inputs, and masked-token prediction on the host.
//!
//! Every device read here is one asynchronous read (`into_data_async`), the only kind
//! WebGPU allows in the browser; softmax and top-k then run on the host.

use burn::tensor::{Device, Int, Tensor, TensorData, Transaction};
use serde::{Deserialize, Serialize};

use crate::checkpoint::{data_to_f32, read_f32};
use crate::error::{BertError, Result};
use crate::model::{BertForMaskedLM, OutputOptions};
use crate::tokenizer::{BertTokenizer, Encoding};

/// A padded batch on the device: ids, token types and the attention mask, `[batch, seq]`.
pub struct InputTensors {
    pub input_ids: Tensor<2, Int>,
    pub token_type_ids: Tensor<2, Int>,
    /// `None` when no sequence is padded (as transformers' `attention_mask=None`): the
    /// model then adds no mask to its attention scores (a kernel less per layer on a GPU).
    pub attention_mask: Option<Tensor<2>>,
}

impl InputTensors {
    /// `[batch, seq]`.
    pub fn dims(&self) -> [usize; 2] {
        self.input_ids.dims()
    }
}

/// Pads `sequences` (ids, type ids) to the longest with `pad_id`, checking them against
/// the model's limits so a mismatched tokenizer is an error, not garbage or a panic.
pub fn make_inputs(
    model: &BertForMaskedLM,
    sequences: &[(&[u32], &[u32])],
    pad_id: u32,
    device: &Device,
) -> Result<InputTensors> {
    let cfg = model.config();
    let seq = sequences
        .iter()
        .map(|(ids, _)| ids.len())
        .max()
        .unwrap_or(0);
    if sequences.is_empty() || seq == 0 {
        return Err(BertError::Input(
            "nothing to run: the batch is empty".into(),
        ));
    }
    if seq > cfg.max_position_embeddings {
        return Err(BertError::Input(format!(
            "sequence of {seq} tokens is longer than the model's max_position_embeddings {}",
            cfg.max_position_embeddings
        )));
    }
    let batch = sequences.len();
    let mut ids = vec![pad_id as i64; batch * seq];
    let mut types = vec![0i64; batch * seq];
    let mut mask = vec![0f32; batch * seq];
    for (b, (seq_ids, seq_types)) in sequences.iter().enumerate() {
        if seq_ids.len() != seq_types.len() {
            return Err(BertError::Input("ids and type ids differ in length".into()));
        }
        for (t, (&id, &ty)) in seq_ids.iter().zip(seq_types.iter()).enumerate() {
            if id as usize >= cfg.vocab_size {
                return Err(BertError::Input(format!(
                    "token id {id} is outside the model's vocabulary of {} (tokenizer and model do not match)",
                    cfg.vocab_size
                )));
            }
            if ty as usize >= cfg.type_vocab_size {
                return Err(BertError::Input(format!(
                    "token type {ty} is outside the model's type_vocab_size {} (does this model take sentence pairs?)",
                    cfg.type_vocab_size
                )));
            }
            ids[b * seq + t] = id as i64;
            types[b * seq + t] = ty as i64;
            mask[b * seq + t] = 1.0;
        }
    }
    Ok(InputTensors {
        input_ids: Tensor::from_data(TensorData::new(ids, [batch, seq]), device),
        token_type_ids: Tensor::from_data(TensorData::new(types, [batch, seq]), device),
        attention_mask: mask
            .contains(&0.0)
            .then(|| Tensor::from_data(TensorData::new(mask, [batch, seq]), device)),
    })
}

/// One candidate for a masked position.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Prediction {
    pub token: String,
    pub id: u32,
    pub probability: f32,
}

/// The top-k candidates for one masked position.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct MaskPredictions {
    pub position: usize,
    pub predictions: Vec<Prediction>,
}

/// Softmax over the whole row (in f64, for probabilities that sum to one) and the
/// `k` most probable ids, best first. Ties go to the lower id, as `torch.topk` tends to.
pub fn top_k_softmax(logits: &[f32], k: usize) -> Vec<(u32, f32)> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let sum: f64 = logits.iter().map(|&x| (x as f64 - max).exp()).sum();
    let mut order: Vec<u32> = (0..logits.len() as u32).collect();
    let k = k.min(order.len());
    let by_logit = |a: &u32, b: &u32| {
        logits[*b as usize]
            .total_cmp(&logits[*a as usize])
            .then(a.cmp(b))
    };
    if k < order.len() && k > 0 {
        order.select_nth_unstable_by(k - 1, by_logit);
    }
    order.truncate(k);
    order.sort_by(by_logit);
    order
        .into_iter()
        .map(|id| (id, ((logits[id as usize] as f64 - max).exp() / sum) as f32))
        .collect()
}

/// The `k` most probable tokens of one logit row, with their text. A row with NaN or ±∞ is
/// an error (a damaged or diverged model), never `NaN %` on the page.
pub fn top_k_predictions(
    logits: &[f32],
    k: usize,
    tokenizer: &BertTokenizer,
) -> Result<Vec<Prediction>> {
    ensure_finite(logits, " at a masked position")?;
    Ok(top_k_softmax(logits, k)
        .into_iter()
        .map(|(id, probability)| Prediction {
            token: tokenizer.id_to_token(id).unwrap_or_default(),
            id,
            probability,
        })
        .collect())
}

/// [`BertError::NonFiniteOutput`] if any value is NaN or ±∞; `context` says where.
pub fn ensure_finite(values: &[f32], context: &str) -> Result<()> {
    if values.iter().all(|v| v.is_finite()) {
        Ok(())
    } else {
        Err(BertError::NonFiniteOutput {
            context: context.into(),
        })
    }
}

/// Positions of the mask token in `ids`.
pub fn mask_positions(ids: &[u32], mask_id: u32) -> Vec<usize> {
    ids.iter()
        .enumerate()
        .filter(|(_, id)| **id == mask_id)
        .map(|(i, _)| i)
        .collect()
}

/// Logits `[positions.len()][vocab]` for the given positions of one sequence. The
/// vocabulary projection runs only on those rows, and they come back in one read.
pub async fn logits_at(
    model: &BertForMaskedLM,
    ids: &[u32],
    type_ids: &[u32],
    positions: &[usize],
    pad_id: u32,
    device: &Device,
) -> Result<Vec<Vec<f32>>> {
    let inputs = make_inputs(model, &[(ids, type_ids)], pad_id, device)?;
    let rows: Vec<i64> = positions.iter().map(|&p| p as i64).collect();
    let logits = logits_at_rows(model, inputs, rows, device);
    let vocab = model.config().vocab_size;
    let flat = read_f32(logits).await?;
    Ok(flat.chunks(vocab).map(|c| c.to_vec()).collect())
}

/// Logits `[rows.len(), vocab]` at flattened positions (`b * seq + t`) of a batch: the
/// encoder sees every token, the vocabulary projection runs on those rows only.
pub fn logits_at_rows(
    model: &BertForMaskedLM,
    inputs: InputTensors,
    rows: Vec<i64>,
    device: &Device,
) -> Tensor<2> {
    let out = model.bert.forward(
        inputs.input_ids,
        inputs.token_type_ids,
        inputs.attention_mask,
        OutputOptions::NONE,
    );
    model.mlm_logits(hidden_rows(out.last_hidden_state, rows, device))
}

/// The hidden states `[batch, seq, hidden]` at flattened positions (`b * seq + t`) →
/// `[rows.len(), hidden]`. A batch of one selects along the sequence directly: at inference
/// the encoder hands back a transposed view, which flattening would first copy.
fn hidden_rows(hidden: Tensor<3>, rows: Vec<i64>, device: &Device) -> Tensor<2> {
    let [batch, seq, width] = hidden.dims();
    let n = rows.len();
    let index = Tensor::<1, Int>::from_data(TensorData::new(rows, [n]), device);
    if batch == 1 {
        hidden.select(1, index).reshape([n, width])
    } else {
        hidden.reshape([batch * seq, width]).select(0, index)
    }
}

/// Reads one forward pass back: logits `[seq][vocab]` flattened, hidden states and
/// attentions, each flattened, for one unpadded sequence.
pub struct HostForward {
    pub logits: Vec<f32>,
    pub hidden_states: Vec<Vec<f32>>,
    pub attentions: Vec<Vec<f32>>,
}

/// Runs a full forward pass with every output and reads it to the host.
pub async fn forward_host(
    model: &BertForMaskedLM,
    ids: &[u32],
    type_ids: &[u32],
    pad_id: u32,
    device: &Device,
) -> Result<HostForward> {
    let inputs = make_inputs(model, &[(ids, type_ids)], pad_id, device)?;
    let out = model.forward(
        inputs.input_ids,
        inputs.token_type_ids,
        inputs.attention_mask,
        OutputOptions::ALL,
    );
    let mut hidden_states = Vec::new();
    for h in out.hidden_states {
        hidden_states.push(read_f32(h).await?);
    }
    let mut attentions = Vec::new();
    for a in out.attentions {
        attentions.push(read_f32(a).await?);
    }
    Ok(HostForward {
        logits: read_f32(out.logits).await?,
        hidden_states,
        attentions,
    })
}

/// Top-k predictions for every mask in `encoding`.
pub async fn fill_mask(
    model: &BertForMaskedLM,
    encoding: &Encoding,
    tokenizer: &BertTokenizer,
    top_k: usize,
    device: &Device,
) -> Result<Vec<MaskPredictions>> {
    let positions = mask_positions(&encoding.ids, tokenizer.mask_id());
    if positions.is_empty() {
        return Err(BertError::Input(format!(
            "the text has no {} token to predict (type {} where a word should be guessed)",
            tokenizer.mask_token(),
            tokenizer.mask_token()
        )));
    }
    predict_at(
        model,
        &encoding.ids,
        &encoding.type_ids,
        &positions,
        tokenizer,
        top_k,
        device,
    )
    .await
}

/// Top-k predictions at the given positions of one sequence.
async fn predict_at(
    model: &BertForMaskedLM,
    ids: &[u32],
    type_ids: &[u32],
    positions: &[usize],
    tokenizer: &BertTokenizer,
    top_k: usize,
    device: &Device,
) -> Result<Vec<MaskPredictions>> {
    if top_k == 0 {
        return Err(BertError::Input("top-k must be at least 1".into()));
    }
    let rows = logits_at(model, ids, type_ids, positions, tokenizer.pad_id(), device).await?;
    positions
        .iter()
        .zip(rows)
        .map(|(&position, row)| {
            Ok(MaskPredictions {
                position,
                predictions: top_k_predictions(&row, top_k, tokenizer)?,
            })
        })
        .collect()
}

/// One step of [`fill_iteratively`]: which mask was filled, with what.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct FillStep {
    pub position: usize,
    pub token: String,
    pub id: u32,
    pub probability: f32,
}

/// Joint fill of several masks: fill the mask the model is most sure of, run again
/// with it filled in, repeat until every mask is filled. Returns the steps and the ids.
pub async fn fill_iteratively(
    model: &BertForMaskedLM,
    encoding: &Encoding,
    tokenizer: &BertTokenizer,
    device: &Device,
) -> Result<(Vec<FillStep>, Vec<u32>)> {
    let mut ids = encoding.ids.clone();
    let mut remaining = mask_positions(&ids, tokenizer.mask_id());
    if remaining.is_empty() {
        return Err(BertError::Input(format!(
            "the text has no {} token to fill",
            tokenizer.mask_token()
        )));
    }
    let mut steps = Vec::new();
    while !remaining.is_empty() {
        let masks = predict_at(
            model,
            &ids,
            &encoding.type_ids,
            &remaining,
            tokenizer,
            1,
            device,
        )
        .await?;
        let (position, best) = masks
            .into_iter()
            .filter_map(|m| m.predictions.into_iter().next().map(|p| (m.position, p)))
            .max_by(|a, b| a.1.probability.total_cmp(&b.1.probability))
            .ok_or_else(|| BertError::Input("the model returned no prediction".into()))?;
        ids[position] = best.id;
        remaining.retain(|&p| p != position);
        steps.push(FillStep {
            position,
            token: best.token,
            id: best.id,
            probability: best.probability,
        });
    }
    Ok((steps, ids))
}

/// What the browser shows for one sequence: the top-k at every mask and every
/// layer's attention probabilities.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Analysis {
    pub masks: Vec<MaskPredictions>,
    pub layers: usize,
    pub heads: usize,
    pub seq: usize,
    /// `[layer][head][query][key]`, flattened.
    pub attentions: Vec<f32>,
}

/// One forward pass for both the mask predictions (head run on the mask rows only)
/// and the attentions, all read back from the device together.
/// A sequence without a mask is fine: it gets attentions and no predictions.
pub async fn analyze(
    model: &BertForMaskedLM,
    ids: &[u32],
    type_ids: &[u32],
    tokenizer: &BertTokenizer,
    top_k: usize,
    device: &Device,
) -> Result<Analysis> {
    if top_k == 0 {
        return Err(BertError::Input("top-k must be at least 1".into()));
    }
    let inputs = make_inputs(model, &[(ids, type_ids)], tokenizer.pad_id(), device)?;
    let seq = ids.len();
    let out = model.bert.forward(
        inputs.input_ids,
        inputs.token_type_ids,
        inputs.attention_mask,
        OutputOptions {
            hidden_states: false,
            attentions: true,
        },
    );
    let layers = out.attentions.len();
    let heads = model.config().num_attention_heads;

    // The mask rows' logits and every attention map come back in one read: on WebGPU
    // each read is a round trip to the GPU, the largest fixed cost of a short input.
    // (Each layer's map is registered as it is: joining them on the device would cost
    // a copy kernel; the host joins them instead.)
    let positions = mask_positions(ids, tokenizer.mask_id());
    let mut read = Transaction::default();
    for map in out.attentions {
        read = read.register(map);
    }
    if !positions.is_empty() {
        let rows: Vec<i64> = positions.iter().map(|&p| p as i64).collect();
        let hidden = hidden_rows(out.last_hidden_state, rows, device);
        read = read.register(model.mlm_logits(hidden));
    }
    let mut data = read
        .execute_async()
        .await
        .map_err(|e| BertError::Device(format!("reading from the device failed: {e:?}")))?
        .into_iter()
        .map(data_to_f32);
    let mut attentions = Vec::with_capacity(layers * heads * seq * seq);
    for _ in 0..layers {
        let map = data.next().ok_or_else(|| {
            BertError::Device("the device returned too few attention maps".into())
        })??;
        attentions.extend_from_slice(&map);
    }
    let mut masks = Vec::with_capacity(positions.len());
    if let Some(logits) = data.next() {
        for (&position, row) in positions
            .iter()
            .zip(logits?.chunks(model.config().vocab_size))
        {
            masks.push(MaskPredictions {
                position,
                predictions: top_k_predictions(row, top_k, tokenizer)?,
            });
        }
    }
    ensure_finite(&attentions, " in the attention maps")?;
    Ok(Analysis {
        masks,
        layers,
        heads,
        seq,
        attentions,
    })
}
