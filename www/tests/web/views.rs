//! The DOM the UI builds: chip edits written into the text, chips and predictions
//! as text with their test hooks, the heatmap.

use super::*;

fn test_state(text: &str, text_b: Option<&str>) -> TokenState {
    let tok = BertTokenizer::from_json(TOKENIZER, 128).unwrap();
    let enc = tok.encode(text, text_b).unwrap();
    TokenState::new(&enc, tok.mask_id(), tok.mask_token())
}

#[wasm_bindgen_test]
fn chip_edits_write_masks_and_fills_into_the_text() {
    use bert_web::ui::text_edits::{apply, fill_edit, mask_edits};
    let text = "the unbelievable cat";
    let s = test_state(text, Some("sat [MASK]"));
    let n = s.len();
    assert!(
        s.is_fixed(0) && s.is_fixed(n - 1),
        "[CLS] and [SEP] are fixed"
    );
    assert!(
        mask_edits(&s, 0, false).is_empty(),
        "[CLS] cannot be masked"
    );
    let typed = s.tokens.iter().position(|t| t == "[MASK]").unwrap();
    assert_eq!(s.mask_positions(), vec![typed], "a typed [MASK] is a mask");
    // A word of several pieces: whole-word masking writes a mask for every piece.
    let word = s.word_ids[2];
    let pieces = (0..n)
        .filter(|&j| s.word_ids[j] == word && s.sequence_ids[j] == Some(0))
        .count();
    let edits = mask_edits(&s, 2, true);
    assert_eq!(edits.len(), pieces);
    let masked = apply(text, &edits.iter().collect::<Vec<_>>());
    assert_eq!(masked.matches("[MASK]").count(), pieces, "{masked}");
    assert!(
        masked.starts_with("the [MASK]") && masked.ends_with(" cat"),
        "{masked}"
    );
    // A fill writes the word where the mask was, in the second box.
    let fill = fill_edit(&s, typed, "down").unwrap();
    assert_eq!(fill.segment, 1);
    assert_eq!(apply("sat [MASK]", &[&fill]), "sat down");
    assert!(
        s.segment_boundary().is_some(),
        "a pair has a second segment"
    );
}

fn container() -> web_sys::Element {
    let c = dom::el("div", "", "");
    dom::document().body().unwrap().append_child(&c).unwrap();
    c
}

#[wasm_bindgen_test]
fn chips_and_predictions_are_text_only_with_test_hooks() {
    let mut s = test_state("hello world", None);
    // Untrusted text (a token, a prediction) must never become markup.
    let evil = "<img src=x onerror=alert(1)>";
    s.tokens[1] = evil.into();
    s.labels[1] = evil.into();
    let c = container();
    bert_web::ui::tokens::render(&c, &s);
    let chips = c.query_selector_all("[data-testid=token]").unwrap();
    assert_eq!(chips.length() as usize, s.len());
    let chip: web_sys::Element = chips.item(1).unwrap().dyn_into().unwrap();
    assert_eq!(chip.text_content().unwrap(), evil);
    assert_eq!(chip.get_attribute("data-index").unwrap(), "1");
    assert!(
        c.query_selector("img").unwrap().is_none(),
        "no element was created from token text"
    );
    let first: web_sys::Element = chips.item(0).unwrap().dyn_into().unwrap();
    assert!(first.class_name().contains("special"));

    let masks = vec![bert_burn::inference::MaskPredictions {
        position: 2,
        predictions: vec![
            bert_burn::inference::Prediction {
                token: evil.into(),
                text: evil.into(),
                id: 7,
                probability: 0.75,
            },
            bert_burn::inference::Prediction {
                token: "b".into(),
                text: "b".into(),
                id: 9,
                probability: 0.25,
            },
        ],
        by_layer: Vec::new(),
    }];
    let p = container();
    predictions::render(&p, &masks, &s);
    let rows = p.query_selector_all("[data-testid=prediction]").unwrap();
    assert_eq!(rows.length(), 2);
    let row: web_sys::Element = rows.item(0).unwrap().dyn_into().unwrap();
    assert_eq!(row.get_attribute("data-mask-position").unwrap(), "2");
    assert_eq!(row.get_attribute("data-token-id").unwrap(), "7");
    assert!(row.text_content().unwrap().contains("75.0%"));
    assert!(p.query_selector("img").unwrap().is_none());
}

#[wasm_bindgen_test]
async fn heatmap_draws_the_attention_of_a_head() {
    let backend = backend::cpu(None);
    let session = Session::load(&fixture_files(), &backend).unwrap();
    let enc = session
        .tokenize("the cat sat on the [MASK].", None)
        .unwrap();
    let a = session
        .analyze(&enc.ids, &enc.type_ids, top_k(3))
        .await
        .unwrap();
    assert_eq!(a.masks.len(), 1);
    // Rows of a head's map are probability distributions; the mean is one too.
    for head in [Some(0), None] {
        let m = heatmap::matrix(&a, a.layers - 1, head);
        for row in m.chunks(a.seq) {
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-4);
        }
    }
    let canvas: web_sys::HtmlCanvasElement = dom::el("canvas", "", "").dyn_into().unwrap();
    canvas.set_width(200);
    canvas.set_height(200);
    let visible: Vec<usize> = (0..a.seq).collect();
    let view = heatmap::View {
        seq: a.seq,
        visible: &visible,
        labels: &enc.tokens,
        hover: Some(1),
        boundary: None,
        with_labels: true,
    };
    heatmap::draw(&canvas, &heatmap::matrix(&a, 0, Some(0)), &view);
    let ctx: web_sys::CanvasRenderingContext2d = canvas
        .get_context("2d")
        .unwrap()
        .unwrap()
        .dyn_into()
        .unwrap();
    let pixels = ctx.get_image_data(0.0, 0.0, 200.0, 200.0).unwrap().data();
    let non_white = pixels
        .chunks(4)
        .filter(|p| p[0] < 200 || p[1] < 200)
        .count();
    assert!(non_white > 500, "only {non_white} coloured pixels");
    assert_eq!(
        heatmap::token_at(&canvas, 199.0, 199.0, &view),
        Some(a.seq - 1)
    );
    assert_eq!(
        heatmap::token_at(&canvas, 10.0, 10.0, &view),
        None,
        "the label corner is no token"
    );
}
