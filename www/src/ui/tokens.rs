//! The token sequence the user edits: chips toggle between their word piece and
//! `[MASK]`, predictions fill masks in. Kept apart from the DOM so it is testable.

use bert_burn::Encoding;

use super::dom;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct TokenState {
    /// What each chip shows now.
    pub tokens: Vec<String>,
    /// What the model runs on now.
    pub ids: Vec<u32>,
    pub type_ids: Vec<u32>,
    /// The tokenizer's output, to undo a mask.
    pub original_ids: Vec<u32>,
    pub original_tokens: Vec<String>,
    /// `[CLS]`, `[SEP]`… (a typed `[MASK]` too, but that one stays editable).
    pub special: Vec<bool>,
    pub word_ids: Vec<Option<u32>>,
    pub sequence_ids: Vec<Option<usize>>,
    /// Filled in from a prediction.
    pub filled: Vec<bool>,
    pub mask_id: u32,
    pub mask_token: String,
    pub truncated: bool,
}

impl TokenState {
    pub fn new(enc: &Encoding, mask_id: u32, mask_token: &str) -> Self {
        Self {
            tokens: enc.tokens.clone(),
            ids: enc.ids.clone(),
            type_ids: enc.type_ids.clone(),
            original_ids: enc.ids.clone(),
            original_tokens: enc.tokens.clone(),
            special: enc.special.clone(),
            word_ids: enc.word_ids.clone(),
            sequence_ids: enc.sequence_ids.clone(),
            filled: vec![false; enc.ids.len()],
            mask_id,
            mask_token: mask_token.into(),
            truncated: enc.truncated,
        }
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    pub fn is_mask(&self, i: usize) -> bool {
        self.ids[i] == self.mask_id
    }

    /// `[CLS]`/`[SEP]`/`[PAD]`: never masked. A typed `[MASK]` can be filled and re-masked.
    pub fn is_fixed(&self, i: usize) -> bool {
        self.special[i] && self.original_ids[i] != self.mask_id
    }

    pub fn mask_positions(&self) -> Vec<usize> {
        (0..self.len()).filter(|&i| self.is_mask(i)).collect()
    }

    /// Index of the first token of the second segment, for pairs.
    pub fn segment_boundary(&self) -> Option<usize> {
        self.type_ids.iter().position(|&t| t == 1)
    }

    /// Chip `i` clicked: a word piece becomes `[MASK]`, a mask goes back to its word
    /// piece (a typed `[MASK]` stays one). With `whole_word`, every piece of the word follows.
    pub fn toggle(&mut self, i: usize, whole_word: bool) {
        if i >= self.len() || self.is_fixed(i) {
            return;
        }
        let to_mask = !self.is_mask(i);
        let targets: Vec<usize> = match (whole_word, self.word_ids[i], self.sequence_ids[i]) {
            (true, Some(word), seq) => (0..self.len())
                .filter(|&j| {
                    self.word_ids[j] == Some(word)
                        && self.sequence_ids[j] == seq
                        && !self.is_fixed(j)
                })
                .collect(),
            _ => vec![i],
        };
        for j in targets {
            if to_mask {
                self.set(j, self.mask_id, &self.mask_token.clone(), false);
            } else if self.original_ids[j] != self.mask_id {
                self.set(
                    j,
                    self.original_ids[j],
                    &self.original_tokens[j].clone(),
                    false,
                );
            }
        }
    }

    /// A prediction chosen for position `i`.
    pub fn fill(&mut self, i: usize, id: u32, token: &str) {
        if i < self.len() && !self.is_fixed(i) {
            self.set(i, id, token, true);
        }
    }

    fn set(&mut self, i: usize, id: u32, token: &str, filled: bool) {
        self.ids[i] = id;
        self.tokens[i] = token.into();
        self.filled[i] = filled;
    }

    /// The CSS classes of chip `i`.
    pub fn chip_class(&self, i: usize) -> String {
        let mut class = String::from("token");
        if self.is_mask(i) {
            class.push_str(" mask");
        } else if self.is_fixed(i) {
            class.push_str(" special");
        } else if self.filled[i] {
            class.push_str(" filled");
        }
        if self.tokens[i].starts_with("##") {
            class.push_str(" piece");
        }
        if self.type_ids[i] == 1 {
            class.push_str(" segment-b");
        }
        class
    }
}

/// Draws the chips into `container` (text only, through `textContent`).
pub fn render(container: &web_sys::Element, state: &TokenState) {
    dom::clear(container);
    for i in 0..state.len() {
        let chip = dom::el("button", &state.chip_class(i), &state.tokens[i]);
        dom::set_attr(&chip, "type", "button");
        dom::set_attr(&chip, "data-testid", "token");
        dom::set_attr(&chip, "data-index", &i.to_string());
        dom::set_attr(&chip, "data-token-id", &state.ids[i].to_string());
        let title = if state.is_fixed(i) {
            format!("{} (special token)", state.tokens[i])
        } else if state.is_mask(i) {
            format!("position {i}: masked (click to restore)")
        } else {
            format!("position {i}: id {} (click to mask)", state.ids[i])
        };
        dom::set_attr(&chip, "title", &title);
        let _ = container.append_child(&chip);
    }
}
