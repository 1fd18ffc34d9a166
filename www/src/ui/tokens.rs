//! The token sequence the user edits: chips toggle between their word piece and
//! `[MASK]`, predictions fill masks in. Kept apart from the DOM so it is testable.

use bert_burn::Encoding;

use wasm_bindgen::JsCast;

use super::dom;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct TokenState {
    /// The tokenizer's view of the text boxes: a chip per token.
    pub tokens: Vec<String>,
    /// What each chip shows (`Encoding::labels`: `fox` for `Ġfox` or `▁fox`).
    pub labels: Vec<String>,
    pub ids: Vec<u32>,
    pub type_ids: Vec<u32>,
    /// Each token's characters in its text box (see [`super::text_edits`]).
    pub offsets: Vec<(usize, usize)>,
    /// `[CLS]`, `[SEP]`… (a `[MASK]` too, but that one is the user's).
    pub special: Vec<bool>,
    pub word_ids: Vec<Option<u32>>,
    pub sequence_ids: Vec<Option<usize>>,
    /// In a word filled in from a prediction.
    pub filled: Vec<bool>,
    pub mask_id: u32,
    pub mask_token: String,
    pub truncated: bool,
}

impl TokenState {
    pub fn new(enc: &Encoding, mask_id: u32, mask_token: &str) -> Self {
        Self {
            tokens: enc.tokens.clone(),
            labels: if enc.labels.len() == enc.tokens.len() {
                enc.labels.clone()
            } else {
                enc.tokens.clone()
            },
            ids: enc.ids.clone(),
            type_ids: enc.type_ids.clone(),
            offsets: enc.offsets.clone(),
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

    /// `[CLS]`/`[SEP]`/`[PAD]`: no chip action. A `[MASK]` is the user's to undo or fill.
    pub fn is_fixed(&self, i: usize) -> bool {
        self.special[i] && !self.is_mask(i)
    }

    pub fn mask_positions(&self) -> Vec<usize> {
        (0..self.len()).filter(|&i| self.is_mask(i)).collect()
    }

    /// Whether token `i` continues the word before it in the text (no space between them:
    /// `##ed` after `open`, `.` after `door`), from the offsets, whatever the tokenizer.
    pub fn attached(&self, i: usize) -> bool {
        let added = |k: usize| self.special[k] && self.offsets[k].0 == self.offsets[k].1;
        // The token before, past bare word-start markers (a lone `Ġ` or `▁` is a space).
        let Some(j) = (0..i.min(self.len()))
            .rev()
            .find(|&k| self.labels[k] != "␣")
        else {
            return false;
        };
        !added(j)
            && !added(i)
            && self.sequence_ids[i] == self.sequence_ids[j]
            && self.offsets[i].0 == self.offsets[j].1
    }

    /// Whether token `i` is a later piece of a word (`##ed`, byte-level `ic` of `quick`).
    pub fn is_piece(&self, i: usize) -> bool {
        i > 0
            && !self.special[i]
            && self.word_ids[i].is_some()
            && self.word_ids[i] == self.word_ids[i - 1]
            && self.sequence_ids[i] == self.sequence_ids[i - 1]
    }

    /// Which tokens the tokenizer added around the text (`[CLS]`, `<s>`…): specials that
    /// cover none of its characters (a typed `[MASK]` or `[UNK]` covers some).
    pub fn added(&self) -> Vec<bool> {
        (0..self.len())
            .map(|i| self.special[i] && self.offsets[i].0 == self.offsets[i].1)
            .collect()
    }

    /// Index of the first token of the second segment, for pairs.
    pub fn segment_boundary(&self) -> Option<usize> {
        self.type_ids.iter().position(|&t| t == 1)
    }

    pub fn chip_class(&self, i: usize) -> String {
        let mut class = String::from("token");
        if self.is_mask(i) {
            class.push_str(" mask");
        } else if self.is_fixed(i) {
            class.push_str(" special");
        } else if self.filled[i] {
            class.push_str(" filled");
        }
        if self.is_piece(i) {
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
        let chip = dom::el("button", &state.chip_class(i), &state.labels[i]);
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
            format!("{} (special token)", state.labels[i])
        } else if state.is_mask(i) {
            format!("position {i}: masked (click to restore)")
        } else {
            format!(
                "position {i}: {} (id {}; click to mask)",
                state.tokens[i], state.ids[i]
            )
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
    fn chips_say_what_each_token_is() {
        let mut s = state("the [MASK] sat");
        let last = s.len() - 1;
        assert!(s.is_fixed(0) && s.is_fixed(last), "[CLS] and [SEP]");
        assert_eq!(s.mask_positions(), vec![2]);
        assert!(!s.is_fixed(2), "a typed mask is the user's");
        assert!(s.chip_class(2).contains("mask") && s.chip_class(0).contains("special"));
        s.filled[3] = true;
        assert!(s.chip_class(3).contains("filled"));
        assert_eq!(s.offsets[1], (0, 3), "character offsets into the text");
        assert!(s.segment_boundary().is_none());
    }
}
