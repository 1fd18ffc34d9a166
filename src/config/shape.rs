//! What a configuration implies for the model's shape, per family: the widths of the
//! embeddings and the MLM head, the layers stored and run, the positions a sequence may
//! use, and the parameters transformers would count.

use super::{BertConfig, Family, Task};

impl BertConfig {
    /// The family `model_type` names (BERT for a config that was never validated).
    pub fn family(&self) -> Family {
        Family::from_model_type(&self.model_type).unwrap_or(Family::Bert)
    }

    /// The width of the word, position and token-type embeddings.
    pub fn embedding_width(&self) -> usize {
        match self.family() {
            f if f.factorised_embeddings() => self.embedding_size.unwrap_or(self.hidden_size),
            _ => self.hidden_size,
        }
    }

    /// Whether the embeddings go through a projection before the first layer (ALBERT's
    /// `embedding_hidden_mapping_in` always; ELECTRA's `embeddings_project` when the widths differ).
    pub fn projects_embeddings(&self) -> bool {
        match self.family() {
            Family::Albert => true,
            Family::Electra => self.embedding_width() != self.hidden_size,
            _ => false,
        }
    }

    /// The width of the MLM head's transform (its LayerNorm and the decoder's input).
    pub fn head_width(&self) -> usize {
        match self.family() {
            Family::Albert | Family::Electra => self.embedding_width(),
            _ => self.hidden_size,
        }
    }

    /// The layers stored in the checkpoint: ALBERT's groups × inner layers, else one per layer.
    pub fn stored_layers(&self) -> usize {
        match self.family() {
            Family::Albert => self
                .num_hidden_groups
                .unwrap_or(1)
                .saturating_mul(self.inner_group_num.unwrap_or(1)),
            _ => self.num_hidden_layers,
        }
    }

    /// The stored layer each step of the forward pass runs, in order: `0..num_hidden_layers`,
    /// or ALBERT's groups (`AlbertTransformer`: layer `i` runs every inner layer of group
    /// `i / (num_hidden_layers / num_hidden_groups)`). Lazy: a config may claim any size.
    pub fn layer_schedule(&self) -> impl Iterator<Item = usize> + '_ {
        let (groups, inner) = match self.family() {
            Family::Albert => (
                self.num_hidden_groups.unwrap_or(1).max(1),
                self.inner_group_num.unwrap_or(1).max(1),
            ),
            _ => (self.num_hidden_layers.max(1), 1),
        };
        let per_group = (self.num_hidden_layers / groups).max(1);
        (0..self.num_hidden_layers)
            .flat_map(move |i| (0..inner).map(move |j| (i / per_group) * inner + j))
    }

    /// Layers a forward pass runs (one attention map and hidden state each): ALBERT runs
    /// every inner layer of a group at each of its `num_hidden_layers`.
    pub fn layers_run(&self) -> usize {
        match self.family() {
            Family::Albert => self
                .num_hidden_layers
                .saturating_mul(self.inner_group_num.unwrap_or(1).max(1)),
            _ => self.num_hidden_layers,
        }
    }

    /// The longest sequence the position table serves: RoBERTa's positions start after
    /// `padding_idx`, so `padding_idx + 1` rows are never a real token's.
    pub fn max_tokens(&self) -> usize {
        let offset = match (self.family().positions_after_padding(), self.pad_token_id) {
            (true, Some(pad)) => pad + 1,
            _ => 0,
        };
        self.max_position_embeddings.saturating_sub(offset)
    }

    /// Parameters of the model this configuration builds, with the head its
    /// `architectures` names, as transformers counts them (a masked-LM or token classifier
    /// has no pooler; a tied decoder is the word embeddings). In floating point: a config
    /// can claim any size (that is how absurd ones are caught), and integers could
    /// overflow. `Head::parameters` counts a built model; the tests hold the two equal.
    pub fn parameter_count(&self) -> f64 {
        let [v, h, l, i, p] = [
            self.vocab_size,
            self.hidden_size,
            self.stored_layers(),
            self.intermediate_size,
            self.max_position_embeddings,
        ]
        .map(|x| x as f64);
        let t = if self.family().has_token_types() {
            self.type_vocab_size as f64
        } else {
            0.0
        };
        let (e, w) = (self.embedding_width() as f64, self.head_width() as f64);
        let projection = if self.projects_embeddings() {
            e * h + h
        } else {
            0.0
        };
        let embeddings = (v + p + t) * e + 2.0 * e + projection;
        // Attention (Q, K, V, output) and its LayerNorm, then the feed-forward pair and its LayerNorm.
        let layer = 4.0 * (h * h + h) + 2.0 * h + (h * i + i) + (i * h + h) + 2.0 * h;
        let labels = self.labels().map_or(0, |l| l.len()) as f64;
        let head = match self.task() {
            Task::MaskedLm => {
                let untied_decoder = if self.tie_word_embeddings { 0.0 } else { v * w };
                h * w + w + 2.0 * w + v + untied_decoder
            }
            Task::Sequence => (h * h + h) + (h * labels + labels),
            Task::Token => h * labels + labels,
        };
        embeddings + l * layer + head
    }
}
