//! The text is the page's state: masking a chip writes `[MASK]` into the text box at that
//! word piece's characters, restoring it writes the piece back, filling writes the chosen
//! word; the chips are then the tokenizer's view of the new text. What a mask replaced
//! and where words were filled in are remembered as [`Span`]s that follow the text as it
//! changes (typing included). Pure logic, tested natively.

use super::tokens::TokenState;

/// Characters `[start, end)` of text box `segment` (0: the sentence, 1: the second one)
/// become `text`. Offsets count Unicode scalar values, as the tokenizer's do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextEdit {
    pub segment: usize,
    pub start: usize,
    pub end: usize,
    pub text: String,
}

/// What a stretch of a text box is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SpanKind {
    /// A mask the user made; `original` is what it replaced.
    Masked { original: String },
    /// A word filled in from a prediction.
    Filled,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    pub segment: usize,
    pub start: usize,
    pub end: usize,
    pub kind: SpanKind,
}

/// `text` with `edits` (all of one segment, not overlapping) applied.
pub fn apply(text: &str, edits: &[&TextEdit]) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut sorted: Vec<&&TextEdit> = edits.iter().collect();
    sorted.sort_by_key(|e| e.start);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for e in sorted {
        let (start, end) = (e.start.min(chars.len()), e.end.min(chars.len()));
        if start < at {
            continue;
        }
        out.extend(&chars[at..start]);
        out.push_str(&e.text);
        at = end;
    }
    out.extend(&chars[at.min(chars.len())..]);
    out
}

/// Moves `spans` of `segment` from `old` to `new` text: a span before or after the changed
/// stretch (found as the common prefix and suffix) keeps its characters; one that overlaps
/// it is dropped — what it described is gone.
pub fn follow(spans: Vec<Span>, segment: usize, old: &str, new: &str) -> Vec<Span> {
    let (a, b): (Vec<char>, Vec<char>) = (old.chars().collect(), new.chars().collect());
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let max_suffix = a.len().min(b.len()) - prefix;
    let suffix = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take(max_suffix)
        .take_while(|(x, y)| x == y)
        .count();
    let (changed_end, delta) = (a.len() - suffix, b.len() as isize - a.len() as isize);
    spans
        .into_iter()
        .filter_map(|s| {
            if s.segment != segment || a == b || s.end <= prefix {
                Some(s)
            } else if s.start >= changed_end {
                let shift = |x: usize| (x as isize + delta) as usize;
                Some(Span {
                    start: shift(s.start),
                    end: shift(s.end),
                    ..s
                })
            } else {
                None
            }
        })
        .collect()
}

/// The characters of chip `i` in its text box, if it came from the text.
fn chip_range(state: &TokenState, i: usize) -> Option<(usize, usize, usize)> {
    let segment = state.sequence_ids.get(i).copied().flatten()?;
    let (start, end) = *state.offsets.get(i)?;
    (end > start).then_some((segment, start, end))
}

/// Masking chip `i` (and, with `whole_word`, the other pieces of its word): each piece's
/// characters become the mask token. Special chips and masks give nothing.
pub fn mask_edits(state: &TokenState, i: usize, whole_word: bool) -> Vec<TextEdit> {
    if i >= state.len() || state.is_fixed(i) || state.is_mask(i) {
        return Vec::new();
    }
    let same_word = |j: usize| {
        whole_word
            && state.word_ids[i].is_some()
            && state.word_ids[j] == state.word_ids[i]
            && state.sequence_ids[j] == state.sequence_ids[i]
    };
    (0..state.len())
        .filter(|&j| j == i || same_word(j))
        .filter(|&j| !state.is_fixed(j) && !state.is_mask(j))
        .filter_map(|j| chip_range(state, j))
        .map(|(segment, start, end)| TextEdit {
            segment,
            start,
            end,
            text: state.mask_token.clone(),
        })
        .collect()
}

/// Clicking mask chip `i`: what it replaced comes back, if the user masked it here (a
/// typed `[MASK]` has nothing to go back to).
pub fn unmask_edit(state: &TokenState, spans: &[Span], i: usize) -> Option<TextEdit> {
    let (segment, start, end) = chip_range(state, i)?;
    spans.iter().find_map(|s| match &s.kind {
        SpanKind::Masked { original } if (s.segment, s.start, s.end) == (segment, start, end) => {
            Some(TextEdit {
                segment,
                start,
                end,
                text: original.clone(),
            })
        }
        _ => None,
    })
}

/// Writing `text` (a prediction's `text`: `ing` of `##ing`, `fox` of `Ġfox`) where mask
/// chip `i` is.
pub fn fill_edit(state: &TokenState, i: usize, text: &str) -> Option<TextEdit> {
    if i >= state.len() || !state.is_mask(i) {
        return None;
    }
    let (segment, start, end) = chip_range(state, i)?;
    Some(TextEdit {
        segment,
        start,
        end,
        text: text.to_string(),
    })
}

/// The spans `edits` leave behind in the new text (`kind_of` says what each one made),
/// given that they were applied together to one segment.
pub fn spans_of(edits: &[TextEdit], originals: &[String], filled: bool) -> Vec<Span> {
    let mut order: Vec<usize> = (0..edits.len()).collect();
    order.sort_by_key(|&k| (edits[k].segment, edits[k].start));
    let mut out = Vec::new();
    let mut shift: isize = 0;
    let mut segment = usize::MAX;
    for k in order {
        let e = &edits[k];
        if e.segment != segment {
            (segment, shift) = (e.segment, 0);
        }
        let start = (e.start as isize + shift) as usize;
        let len = e.text.chars().count();
        shift += len as isize - (e.end - e.start) as isize;
        let kind = if filled {
            SpanKind::Filled
        } else {
            SpanKind::Masked {
                original: originals.get(k).cloned().unwrap_or_default(),
            }
        };
        out.push(Span {
            segment,
            start,
            end: start + len,
            kind,
        });
    }
    out
}

/// Whether chip `i` lies in a word filled in from a prediction.
pub fn is_filled(state: &TokenState, spans: &[Span], i: usize) -> bool {
    chip_range(state, i).is_some_and(|(segment, start, end)| {
        spans.iter().any(|s| {
            s.kind == SpanKind::Filled && s.segment == segment && s.start <= start && end <= s.end
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use bert_burn::BertTokenizer;

    const TOKENIZER: &[u8] =
        include_bytes!("../../../tests/fixtures/models/gelu-f32/tokenizer.json");

    fn state(a: &str, b: Option<&str>) -> TokenState {
        let tokenizer = BertTokenizer::from_json(TOKENIZER, 64).unwrap();
        let enc = tokenizer.encode(a, b).unwrap();
        TokenState::new(&enc, tokenizer.mask_id(), tokenizer.mask_token())
    }

    fn edit(texts: &mut [String; 2], spans: &mut Vec<Span>, edits: &[TextEdit], filled: bool) {
        let originals: Vec<String> = edits
            .iter()
            .map(|e| {
                texts[e.segment]
                    .chars()
                    .skip(e.start)
                    .take(e.end - e.start)
                    .collect()
            })
            .collect();
        for (segment, text) in texts.iter_mut().enumerate() {
            let mine: Vec<&TextEdit> = edits.iter().filter(|e| e.segment == segment).collect();
            let new = apply(text, &mine);
            *spans = follow(std::mem::take(spans), segment, text, &new);
            *text = new;
        }
        spans.extend(spans_of(edits, &originals, filled));
    }

    #[test]
    fn masking_writes_the_mask_into_the_text_and_unmasking_restores_it() {
        let mut texts = ["the sat on the.".to_string(), "ünïcode the".to_string()];
        let mut spans = Vec::new();
        let s = state(&texts[0], Some(&texts[1]));
        assert_eq!(s.tokens[2], "sat", "{:?}", s.tokens);
        edit(&mut texts, &mut spans, &mask_edits(&s, 2, false), false);
        assert_eq!(texts[0], "the [MASK] on the.");
        // Chips are the tokenizer's view of the new text: the mask is there, and undoes.
        let s = state(&texts[0], Some(&texts[1]));
        assert!(s.is_mask(2));
        let undo = unmask_edit(&s, &spans, 2).unwrap();
        edit(&mut texts, &mut spans, &[undo], false);
        assert_eq!(texts[0], "the sat on the.");
        // The second box, with characters outside ASCII before the word.
        let s = state(&texts[0], Some(&texts[1]));
        let last = s.tokens.iter().rposition(|t| t == "the").unwrap();
        edit(&mut texts, &mut spans, &mask_edits(&s, last, false), false);
        assert_eq!(texts[1], "ünïcode [MASK]");
        // Special chips give no edit; a typed mask has nothing to restore.
        let s = state("a [MASK] b", None);
        assert!(mask_edits(&s, 0, false).is_empty());
        assert!(unmask_edit(&s, &[], 2).is_none());
    }

    #[test]
    fn whole_words_fills_and_typing_keep_the_spans_in_place() {
        let mut texts = ["she unlocked it".to_string(), String::new()];
        let mut spans = Vec::new();
        let s = state(&texts[0], None);
        let pieces = s.tokens.iter().filter(|t| t.starts_with("##")).count();
        assert!(pieces > 0, "the fixture splits a word: {:?}", s.tokens);
        let first = s.tokens.iter().position(|t| t.starts_with("##")).unwrap() - 1;
        edit(&mut texts, &mut spans, &mask_edits(&s, first, true), false);
        assert_eq!(
            texts[0].matches("[MASK]").count(),
            pieces + 1,
            "{}",
            texts[0]
        );
        // Filling the first mask writes the word; typing before it moves its span along.
        let s = state(&texts[0], None);
        let m = s.mask_positions()[0];
        edit(
            &mut texts,
            &mut spans,
            &[fill_edit(&s, m, "opened").unwrap()],
            true,
        );
        assert!(texts[0].starts_with("she opened[MASK]"), "{}", texts[0]);
        let typed = format!("so {}", texts[0]);
        spans = follow(spans, 0, &texts[0], &typed);
        texts[0] = typed;
        let s = state(&texts[0], None);
        let opened = s
            .tokens
            .iter()
            .position(|t| t == "opened" || t == "open")
            .unwrap();
        assert!(is_filled(&s, &spans, opened), "{:?} {spans:?}", s.tokens);
        assert!(!is_filled(&s, &spans, 1));
        // Typing over a span drops it.
        let over = texts[0].replacen("opened", "x", 1);
        assert!(
            follow(spans, 0, &texts[0], &over)
                .iter()
                .all(|s| s.kind != SpanKind::Filled)
        );
    }
}
