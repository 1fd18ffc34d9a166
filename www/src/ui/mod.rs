//! The page: wires the DOM (see `www/index.html`) to a [`Session`]. Thin on purpose:
//! the model work is in `bert-burn`, the token editing in [`tokens`], the drawing in
//! [`heatmap`] and [`predictions`].

pub mod chart;
pub mod dom;
mod finetune_panel;
pub mod heatmap;
pub mod predictions;
pub mod tokens;

use std::cell::RefCell;
use std::rc::Rc;

use bert_burn::inference::Analysis;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::{
    DragEvent, Element, Event, HtmlCanvasElement, HtmlInputElement, HtmlSelectElement,
    HtmlTextAreaElement, MouseEvent,
};

use crate::backend::{self, Preference};
use crate::model_files::{self, Location, ModelFiles};
use crate::session::Session;
use tokens::TokenState;

/// Where the page looks for its embedded model (relative: works under any sub-path).
pub const EMBEDDED_MODEL: &str = "assets/";

#[derive(Default)]
struct State {
    session: Option<Rc<Session>>,
    /// The loaded files, kept so a lost GPU can be replaced by the CPU without a download.
    files: Option<Rc<ModelFiles>>,
    tokens: TokenState,
    /// The last forward pass and the tokens it ran on.
    analysis: Option<(Analysis, Vec<String>, Option<usize>)>,
    hover: Option<usize>,
    busy: bool,
    /// Predict was asked for while a run was busy.
    pending: bool,
    /// A fine-tuning run is going; Stop sets `stop_requested`, checked before each step.
    training: bool,
    stop_requested: bool,
    /// The weights in use were fine-tuned here (Reset goes back to the loaded ones).
    finetuned: bool,
    predictions_run: u32,
}

type Shared = Rc<RefCell<State>>;

fn param(name: &str) -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search)
        .ok()?
        .get(name)
}

fn preference() -> Preference {
    Preference::parse(&param("backend").unwrap_or_default())
}

fn set_status(text: &str) {
    if let Some(e) = dom::by_testid("status") {
        dom::set_text(&e, text);
        let class = if text.starts_with("error") {
            "status error"
        } else {
            "status"
        };
        e.set_class_name(class);
    }
}

fn show_error(message: &str) {
    set_status(&format!("error: {message}"));
}

pub fn start() {
    let state: Shared = Rc::new(RefCell::new(State::default()));
    wire(&state);
    let initial = param("model");
    let state2 = state.clone();
    spawn_local(async move {
        match initial {
            Some(text) => match Location::parse(&text) {
                Ok(location) => {
                    dom::testid::<HtmlInputElement>("model-id-input").set_value(&text);
                    load_location(&state2, location).await;
                }
                Err(e) => show_error(&e),
            },
            None => load_embedded(&state2).await,
        }
    });
}

/// The embedded model, if this build ships one; otherwise the page asks for a model.
async fn load_embedded(state: &Shared) {
    let location = Location::Url(EMBEDDED_MODEL.into());
    match model_files::fetch_bytes(&location.file_url("config.json"), &|_, _, _| {}).await {
        Ok(_) => load_location(state, location).await,
        Err(model_files::FetchError::NotFound(_)) => set_status(
            "no model loaded: this build has no embedded model; load one from the Hub, a URL or local files",
        ),
        Err(e) => show_error(&e.to_string()),
    }
}

async fn load_location(state: &Shared, location: Location) {
    set_status(&format!("loading {}", location.describe()));
    let bar = dom::testid::<web_sys::HtmlProgressElement>("load-progress");
    let label = dom::by_id("load-progress-text");
    dom::set_hidden(&bar, false);
    let progress = |name: &str, done: f64, total: Option<f64>| {
        let mb = |b: f64| b / 1e6;
        match total {
            Some(t) if t > 0.0 => {
                bar.set_max(t);
                bar.set_value(done);
            }
            _ => {
                let _ = bar.remove_attribute("value");
            }
        }
        if let Some(l) = &label {
            let text = match total {
                Some(t) => format!("{name}: {:.1} / {:.1} MB", mb(done), mb(t)),
                None => format!("{name}: {:.1} MB", mb(done)),
            };
            dom::set_text(l, &text);
        }
    };
    let result = model_files::fetch_model(&location, &progress).await;
    dom::set_hidden(&bar, true);
    match result {
        Ok(files) => install(state, Rc::new(files), preference(), false).await,
        Err(e) => show_error(&e),
    }
}

/// Builds the model from `files` on the chosen backend and makes it the page's model.
/// `keep_tokens`: the same model again (after a lost GPU), so the user's masks stay.
async fn install(state: &Shared, files: Rc<ModelFiles>, preference: Preference, keep_tokens: bool) {
    set_status(&format!("starting the model from {}", files.source));
    let started = dom::now_ms();
    let backend = backend::open(preference).await;
    let session = match Session::load(&files, &backend) {
        Ok(s) => Rc::new(s),
        Err(e) => return show_error(&e),
    };
    show_backend(&session);
    show_model_info(&session, &files.source, dom::now_ms() - started);
    {
        let mut s = state.borrow_mut();
        s.session = Some(session);
        s.files = Some(files);
        s.analysis = None;
        s.predictions_run = 0;
    }
    if !keep_tokens || state.borrow().tokens.is_empty() {
        retokenize(state);
    }
    set_status("ready");
    if let Some(e) = dom::by_testid("status") {
        // Milliseconds from navigation to a usable model, for benchmarks.
        dom::set_attr(&e, "data-ready-ms", &format!("{:.0}", dom::now_ms()));
    }
    predict(state).await;
}

fn show_backend(session: &Session) {
    let info = &session.backend;
    if let Some(e) = dom::by_testid("backend") {
        dom::set_text(&e, &info.kind);
        e.set_class_name(&format!("badge {}", info.kind));
    }
    if let Some(e) = dom::by_id("adapter") {
        dom::set_text(&e, &info.adapter);
    }
    if let Some(e) = dom::by_id("fallback-notice") {
        dom::set_text(&e, info.fallback_reason.as_deref().unwrap_or(""));
        dom::set_hidden(&e, info.fallback_reason.is_none());
    }
}

fn show_model_info(session: &Session, source: &str, ms: f64) {
    let c = session.config();
    let params = crate::session::parameter_count(c) as f64 / 1e6;
    let source = if source == EMBEDDED_MODEL { "the embedded model (assets/, see assets/MODEL_CARD.md)" } else { source };
    let text = format!(
        "{source}: {} layers, hidden size {}, {} heads, vocabulary {}, {} positions, {params:.1} M parameters; started in {ms:.0} ms",
        c.num_hidden_layers,
        c.hidden_size,
        c.num_attention_heads,
        c.vocab_size,
        c.max_position_embeddings
    );
    if let Some(e) = dom::by_id("model-info") {
        dom::set_text(&e, &text);
    }
}

fn text_inputs() -> (String, Option<String>) {
    let a = dom::testid::<HtmlTextAreaElement>("text-input").value();
    let b = dom::testid::<HtmlInputElement>("text-b-input").value();
    (a, (!b.trim().is_empty()).then_some(b))
}

/// Tokenizes the text boxes afresh (typed `[MASK]`s become masks).
fn retokenize(state: &Shared) {
    let Some(session) = state.borrow().session.clone() else {
        return;
    };
    let (a, b) = text_inputs();
    let container = dom::by_id("tokens").expect("index.html has #tokens");
    if a.trim().is_empty() {
        state.borrow_mut().tokens = TokenState::default();
        dom::clear(&container);
        return;
    }
    match session.tokenize(&a, b.as_deref()) {
        Ok(enc) => {
            let tokens = TokenState::new(&enc, session.mask_id(), session.mask_token());
            tokens::render(&container, &tokens);
            if let Some(note) = dom::by_id("token-note") {
                let text = if tokens.truncated {
                    format!(
                        "{} tokens (cut to the model's {} positions)",
                        tokens.len(),
                        session.config().max_position_embeddings
                    )
                } else {
                    format!("{} tokens · click a token to mask it", tokens.len())
                };
                dom::set_text(&note, &text);
            }
            state.borrow_mut().tokens = tokens;
        }
        Err(e) => show_error(&e),
    }
}

fn top_k() -> usize {
    dom::testid::<HtmlInputElement>("topk-input")
        .value()
        .parse::<usize>()
        .unwrap_or(5)
        .clamp(1, 50)
}

/// Runs the model on the current tokens: predictions for every mask and attentions.
async fn predict(state: &Shared) {
    let (session, tokens) = {
        let mut s = state.borrow_mut();
        if s.busy {
            // A run is under way: run again with the newest tokens when it ends.
            s.pending = true;
            return;
        }
        match &s.session {
            Some(session) if !s.tokens.is_empty() => (session.clone(), s.tokens.clone()),
            _ => return,
        }
    };
    state.borrow_mut().busy = true;
    set_status("running");
    let started = dom::now_ms();
    let result = session
        .analyze(&tokens.ids, &tokens.type_ids, top_k())
        .await;
    let ms = dom::now_ms() - started;
    state.borrow_mut().busy = false;
    let lost = result.is_err() && backend::lost_after_failure(1000).await;
    match result {
        Ok(analysis) => {
            let runs = {
                let mut s = state.borrow_mut();
                s.predictions_run += 1;
                s.predictions_run
            };
            if let Some(e) = dom::by_id("timing") {
                let note = if runs == 1 {
                    " (first run: includes compiling the GPU kernels)"
                } else {
                    ""
                };
                dom::set_text(&e, &format!("inference {ms:.0} ms{note}"));
                // Lets tests and benchmarks see that a run finished and how long it took.
                dom::set_attr(&e, "data-runs", &runs.to_string());
                dom::set_attr(&e, "data-ms", &format!("{ms:.1}"));
            }
            predictions::render(
                &dom::by_id("predictions").expect("#predictions"),
                &analysis.masks,
                &tokens.tokens,
            );
            let boundary = tokens.segment_boundary();
            let layers = analysis.layers;
            let heads = analysis.heads;
            state.borrow_mut().analysis = Some((analysis, tokens.tokens.clone(), boundary));
            fill_selects(layers, heads);
            draw_attention(state);
            set_status("ready");
        }
        Err(e) if lost => {
            show_error(&e);
            let files = state.borrow().files.clone();
            if let Some(files) = files {
                // `open` sees the lost device and gives the CPU, saying why.
                Box::pin(install(state, files, preference(), true)).await;
            }
        }
        Err(e) => show_error(&e),
    }
    let again = std::mem::take(&mut state.borrow_mut().pending);
    if again {
        Box::pin(predict(state)).await;
    }
}

/// Fills every mask, most confident first, re-running the model after each.
async fn fill_all(state: &Shared) {
    loop {
        let Some(session) = state.borrow().session.clone() else {
            return;
        };
        let tokens = state.borrow().tokens.clone();
        if tokens.mask_positions().is_empty() {
            break;
        }
        let analysis = match session.analyze(&tokens.ids, &tokens.type_ids, 1).await {
            Ok(a) => a,
            Err(e) => return show_error(&e),
        };
        let best = analysis
            .masks
            .iter()
            .filter_map(|m| m.predictions.first().map(|p| (m.position, p.clone())))
            .max_by(|a, b| a.1.probability.total_cmp(&b.1.probability));
        let Some((position, p)) = best else { break };
        state.borrow_mut().tokens.fill(position, p.id, &p.token);
        render_tokens(state);
    }
    predict(state).await;
}

fn render_tokens(state: &Shared) {
    if let Some(container) = dom::by_id("tokens") {
        tokens::render(&container, &state.borrow().tokens);
    }
}

fn fill_selects(layers: usize, heads: usize) {
    let layer = dom::testid::<HtmlSelectElement>("layer-select");
    let head = dom::testid::<HtmlSelectElement>("head-select");
    if layer.length() as usize != layers {
        dom::clear(&layer);
        for l in 0..layers {
            let o = dom::el("option", "", &format!("layer {}", l + 1));
            dom::set_attr(&o, "value", &l.to_string());
            let _ = layer.append_child(&o);
        }
    }
    if head.length() as usize != heads + 1 {
        dom::clear(&head);
        let mean = dom::el("option", "", "mean of heads");
        dom::set_attr(&mean, "value", "mean");
        let _ = head.append_child(&mean);
        for h in 0..heads {
            let o = dom::el("option", "", &format!("head {}", h + 1));
            dom::set_attr(&o, "value", &h.to_string());
            let _ = head.append_child(&o);
        }
    }
}

fn selected_layer_head() -> (usize, Option<usize>) {
    let layer = dom::testid::<HtmlSelectElement>("layer-select")
        .value()
        .parse()
        .unwrap_or(0);
    let head = dom::testid::<HtmlSelectElement>("head-select")
        .value()
        .parse()
        .ok();
    (layer, head)
}

fn hide_special() -> bool {
    dom::by_id("hide-special")
        .and_then(|e| e.dyn_into::<HtmlInputElement>().ok())
        .is_some_and(|e| e.checked())
}

/// Visible rows/columns: all tokens, or all but `[CLS]`/`[SEP]` when hidden.
fn visible_tokens(labels: &[String]) -> Vec<usize> {
    let hide = hide_special();
    (0..labels.len())
        .filter(|&i| !hide || !matches!(labels[i].as_str(), "[CLS]" | "[SEP]"))
        .collect()
}

/// Redraws the big map and the layer's head thumbnails.
fn draw_attention(state: &Shared) {
    let s = state.borrow();
    let Some((analysis, labels, boundary)) = &s.analysis else {
        return;
    };
    let (layer, head) = selected_layer_head();
    let layer = layer.min(analysis.layers.saturating_sub(1));
    let visible = visible_tokens(labels);
    let view = heatmap::View {
        seq: analysis.seq,
        visible: &visible,
        labels,
        hover: s.hover,
        boundary: *boundary,
        with_labels: true,
    };
    let canvas = dom::testid::<HtmlCanvasElement>("heatmap");
    heatmap::draw(&canvas, &heatmap::matrix(analysis, layer, head), &view);
    if let Some(e) = dom::by_id("heatmap-caption") {
        let which = head.map_or("mean of all heads".to_string(), |h| {
            format!("head {}", h + 1)
        });
        dom::set_text(
            &e,
            &format!(
                "layer {}, {which}: row = query token, column = attended token",
                layer + 1
            ),
        );
    }

    let grid = dom::by_id("head-grid").expect("#head-grid");
    dom::clear(&grid);
    let thumb_view = heatmap::View {
        with_labels: false,
        hover: None,
        ..view
    };
    for h in 0..analysis.heads {
        let cell = dom::el(
            "button",
            if head == Some(h) {
                "thumb selected"
            } else {
                "thumb"
            },
            "",
        );
        dom::set_attr(&cell, "type", "button");
        dom::set_attr(&cell, "data-head", &h.to_string());
        dom::set_attr(
            &cell,
            "title",
            &format!("layer {}, head {}: click to enlarge", layer + 1, h + 1),
        );
        let c: HtmlCanvasElement = dom::el("canvas", "", "").unchecked_into();
        c.set_width(96);
        c.set_height(96);
        heatmap::draw(&c, &heatmap::matrix(analysis, layer, Some(h)), &thumb_view);
        let _ = cell.append_child(&c);
        let _ = cell.append_child(&dom::el("span", "", &format!("head {}", h + 1)));
        let _ = grid.append_child(&cell);
    }
}

fn set_hover(state: &Shared, hover: Option<usize>) {
    if state.borrow().hover == hover {
        return;
    }
    state.borrow_mut().hover = hover;
    if let Ok(chips) = dom::document().query_selector_all("[data-testid=\"token\"]") {
        for i in 0..chips.length() {
            if let Some(chip) = chips.item(i).and_then(|n| n.dyn_into::<Element>().ok()) {
                let on = dom::data_usize(&chip, "data-index") == hover && hover.is_some();
                let _ = chip.class_list().toggle_with_force("hover", on);
            }
        }
    }
    draw_attention(state);
}

fn spawn(state: &Shared, f: impl AsyncFnOnce(&Shared) + 'static) {
    let state = state.clone();
    spawn_local(async move { f(&state).await });
}

fn wire(state: &Shared) {
    finetune_panel::wire(state);
    let s = state.clone();
    dom::on::<Event>(&dom::testid("text-input"), "input", move |_| retokenize(&s));
    let s = state.clone();
    dom::on::<Event>(&dom::testid("text-b-input"), "input", move |_| {
        retokenize(&s)
    });
    let s = state.clone();
    dom::on::<web_sys::KeyboardEvent>(&dom::testid("text-input"), "keydown", move |e| {
        if e.key() == "Enter" && !e.shift_key() {
            e.prevent_default();
            spawn(&s, async |s| predict(s).await);
        }
    });
    let s = state.clone();
    dom::on::<Event>(&dom::testid("predict-button"), "click", move |_| {
        spawn(&s, async |s| predict(s).await)
    });
    if let Some(b) = dom::by_testid("fill-all-button") {
        let s = state.clone();
        dom::on::<Event>(&b, "click", move |_| spawn(&s, async |s| fill_all(s).await));
    }

    let tokens_box = dom::by_id("tokens").expect("#tokens");
    let s = state.clone();
    dom::on::<MouseEvent>(&tokens_box, "click", move |e| {
        let Some(chip) = dom::closest(&e, "[data-testid=\"token\"]") else {
            return;
        };
        let Some(i) = dom::data_usize(&chip, "data-index") else {
            return;
        };
        let whole_word = dom::by_id("whole-word")
            .and_then(|w| w.dyn_into::<HtmlInputElement>().ok())
            .is_some_and(|w| w.checked())
            || e.shift_key();
        s.borrow_mut().tokens.toggle(i, whole_word);
        render_tokens(&s);
    });
    let s = state.clone();
    dom::on::<MouseEvent>(&tokens_box, "mouseover", move |e| {
        let hover = dom::closest(&e, "[data-testid=\"token\"]")
            .and_then(|c| dom::data_usize(&c, "data-index"));
        set_hover(&s, hover);
    });
    let s = state.clone();
    dom::on::<MouseEvent>(&tokens_box, "mouseleave", move |_| set_hover(&s, None));

    let s = state.clone();
    dom::on::<MouseEvent>(
        &dom::by_id("predictions").expect("#predictions"),
        "click",
        move |e| {
            let Some(row) = dom::closest(&e, "[data-testid=\"prediction\"]") else {
                return;
            };
            let (Some(position), Some(id)) = (
                dom::data_usize(&row, "data-mask-position"),
                dom::data_usize(&row, "data-token-id"),
            ) else {
                return;
            };
            let token = row.get_attribute("data-token").unwrap_or_default();
            s.borrow_mut().tokens.fill(position, id as u32, &token);
            render_tokens(&s);
            spawn(&s, async |s| predict(s).await);
        },
    );

    for id in ["layer-select", "head-select"] {
        let s = state.clone();
        dom::on::<Event>(&dom::testid(id), "change", move |_| draw_attention(&s));
    }
    if let Some(cb) = dom::by_id("hide-special") {
        let s = state.clone();
        dom::on::<Event>(&cb, "change", move |_| draw_attention(&s));
    }
    let s = state.clone();
    dom::on::<MouseEvent>(
        &dom::by_id("head-grid").expect("#head-grid"),
        "click",
        move |e| {
            let Some(h) =
                dom::closest(&e, "[data-head]").and_then(|c| dom::data_usize(&c, "data-head"))
            else {
                return;
            };
            dom::testid::<HtmlSelectElement>("head-select").set_value(&h.to_string());
            draw_attention(&s);
        },
    );
    let canvas = dom::testid::<HtmlCanvasElement>("heatmap");
    let s = state.clone();
    let c2 = canvas.clone();
    dom::on::<MouseEvent>(&canvas, "mousemove", move |e| {
        let hover = {
            let st = s.borrow();
            let Some((analysis, labels, boundary)) = &st.analysis else {
                return;
            };
            let visible = visible_tokens(labels);
            let view = heatmap::View {
                seq: analysis.seq,
                visible: &visible,
                labels,
                hover: None,
                boundary: *boundary,
                with_labels: true,
            };
            // The canvas may be scaled by CSS: map client pixels to canvas pixels.
            let rect = c2.get_bounding_client_rect();
            let sx = c2.width() as f64 / rect.width().max(1.0);
            let sy = c2.height() as f64 / rect.height().max(1.0);
            heatmap::token_at(
                &c2,
                e.offset_x() as f64 * sx,
                e.offset_y() as f64 * sy,
                &view,
            )
        };
        set_hover(&s, hover);
    });
    let s = state.clone();
    dom::on::<MouseEvent>(&canvas, "mouseleave", move |_| set_hover(&s, None));

    let s = state.clone();
    dom::on::<Event>(&dom::testid("load-hub-button"), "click", move |_| load_typed_model(&s));
    let s = state.clone();
    dom::on::<web_sys::KeyboardEvent>(&dom::testid("model-id-input"), "keydown", move |e| {
        if e.key() == "Enter" {
            load_typed_model(&s);
        }
    });
    let file_input = dom::testid::<HtmlInputElement>("file-input");
    let s = state.clone();
    let fi = file_input.clone();
    dom::on::<Event>(&file_input, "change", move |_| {
        if let Some(list) = fi.files() {
            load_file_list(&s, list);
        }
    });
    if let Some(zone) = dom::by_id("drop-zone") {
        dom::on::<DragEvent>(&zone, "dragover", move |e| e.prevent_default());
        let s = state.clone();
        dom::on::<DragEvent>(&zone, "drop", move |e| {
            e.prevent_default();
            if let Some(list) = e.data_transfer().and_then(|d| d.files()) {
                load_file_list(&s, list);
            }
        });
    }
}

/// Loads the Hub id or URL typed in the model box.
fn load_typed_model(state: &Shared) {
    let text = dom::testid::<HtmlInputElement>("model-id-input").value();
    match Location::parse(&text) {
        Ok(location) => spawn(state, async move |s| load_location(s, location).await),
        Err(e) => show_error(&e),
    }
}

fn load_file_list(state: &Shared, list: web_sys::FileList) {
    let files: Vec<web_sys::File> = (0..list.length()).filter_map(|i| list.get(i)).collect();
    spawn(state, async move |s| {
        set_status("reading local files");
        match model_files::from_local_files(&files).await {
            Ok(files) => install(s, Rc::new(files), preference(), false).await,
            Err(e) => show_error(&e),
        }
    });
}
