//! The token sequence the user edits: chips toggle between their word piece and
//! `[MASK]`, predictions fill masks in. Kept apart from the DOM so it is testable.

use bert_burn::Encoding;

use wasm_bindgen::JsCast;

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
        if state.is_fixed(i) {
            // Not a control: nothing happens on a click, so keyboard focus skips it.
            dom::set_attr(&chip, "tabindex", "-1");
            dom::set_attr(&chip, "aria-disabled", "true");
        } else {
            dom::set_attr(&chip, "aria-pressed", &state.is_mask(i).to_string());
        }
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

/// Puts keyboard focus back on chip `i` after a re-render (the old chip is gone).
pub fn focus(container: &web_sys::Element, i: usize) {
    let selector = format!("[data-testid=\"token\"][data-index=\"{i}\"]");
    if let Some(chip) = container
        .query_selector(&selector)
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = chip.focus();
    }
}

#[cfg(test)]
mod tests {
    use bert_burn::BertTokenizer;

    use super::TokenState;

    const TOKENIZER: &[u8] =
        include_bytes!("../../../tests/fixtures/models/gelu-f32/tokenizer.json");

    fn state(text: &str) -> TokenState {
        let tokenizer = BertTokenizer::from_json(TOKENIZER, 64).unwrap();
        let enc = tokenizer.encode(text, None).unwrap();
        TokenState::new(&enc, tokenizer.mask_id(), tokenizer.mask_token())
    }

    #[test]
    fn toggling_masks_a_word_and_back() {
        let mut s = state("the cat sat");
        let before = s.clone();
        s.toggle(1, true);
        assert_eq!(s.mask_positions(), vec![1]);
        assert_eq!(s.tokens[1], s.mask_token);
        s.toggle(1, true);
        assert_eq!(s, before);
    }

    #[test]
    fn special_tokens_are_never_masked_or_filled() {
        let mut s = state("the cat sat");
        let last = s.len() - 1;
        let before = s.clone();
        s.toggle(0, false);
        s.toggle(last, false);
        s.fill(0, 7, "x");
        assert_eq!(s, before, "[CLS] and [SEP] stay as they are");
    }

    #[test]
    fn a_fill_replaces_the_mask_and_is_marked() {
        let mut s = state("the [MASK] sat");
        let at = s.mask_positions();
        assert_eq!(at.len(), 1, "a typed mask is a mask");
        s.fill(at[0], 42, "dog");
        assert!(s.mask_positions().is_empty());
        assert_eq!((s.ids[at[0]], s.tokens[at[0]].as_str()), (42, "dog"));
        assert!(s.filled[at[0]]);
        // A typed mask can be masked again after a fill.
        s.toggle(at[0], false);
        assert_eq!(s.mask_positions(), at);
    }

    #[test]
    fn out_of_range_positions_change_nothing() {
        let mut s = state("the cat");
        let before = s.clone();
        s.toggle(99, true);
        s.fill(99, 1, "x");
        assert_eq!(s, before);
    }
}
