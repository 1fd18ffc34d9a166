//! The Classify panel: labelled examples in, a sequence classifier trained in the
//! model's worker (Start / Stop, progress, live loss and held-out accuracy), then any
//! sentence classified — every label's probability as a bar, a token checkpoint's labels
//! as coloured chips — with what the `[CLS]` row attends to in each layer. A loaded task
//! checkpoint is used as it is. The work happens in the worker; this panel draws it.

use std::cell::RefCell;
use std::rc::Rc;

use bert_burn::Task;
use bert_burn::inference::{LabelScore, TokenLabel};
use bert_burn::train::classifier_run::ClassifierOptions;
use wasm_bindgen::JsCast;
use web_sys::{Element, Event, KeyboardEvent};

use super::{App, AppRef, Phase, chart, dom, download, recover_from_lost_gpu, spawn};
use crate::client::{Classification, RequestError};
use crate::protocol::{Event as WorkerEvent, Reply, Request};

/// The most text the panel sends (the worker also refuses more than 5,000 examples).
const MAX_EXAMPLES_CHARS: usize = 2_000_000;

fn read_options(app: &App) -> Result<ClassifierOptions, String> {
    let steps = app.el.classify_steps.value();
    let lr = app.el.classify_lr.value();
    let options = ClassifierOptions {
        steps: steps
            .trim()
            .parse()
            .map_err(|_| format!("steps must be a whole number (it is \"{steps}\")"))?,
        lr: lr.trim().parse().map_err(|_| {
            format!("the learning rate must be a number like 1e-4 (it is \"{lr}\")")
        })?,
        ..ClassifierOptions::default()
    };
    options.validate().map_err(|e| e.to_string())?;
    Ok(options)
}

/// Mean over heads of the `[CLS]` row (query 0) of every layer: `[layer][key]`, from
/// maps laid out `[layer][head][query][key]`.
pub fn cls_attention(maps: &[f32], layers: usize, heads: usize, seq: usize) -> Vec<Vec<f32>> {
    if maps.len() != layers * heads * seq * seq || heads == 0 {
        return Vec::new();
    }
    (0..layers)
        .map(|l| {
            (0..seq)
                .map(|k| {
                    let sum: f32 = (0..heads)
                        .map(|h| maps[((l * heads + h) * seq) * seq + k])
                        .sum();
                    sum / heads as f32
                })
                .collect()
        })
        .collect()
}

/// A colour per label, apart for neighbouring ids; `O` (outside any entity) is grey.
pub fn label_colour(label: &str, id: usize) -> String {
    if label == "O" {
        return "hsl(0, 0%, 90%)".into();
    }
    format!("hsl({:.0}, 70%, 82%)", (id as f64 * 137.5) % 360.0)
}

fn set_style(e: &Element, property: &str, value: &str) {
    // Through the CSSOM: the page's Content-Security-Policy refuses inline style attributes.
    if let Some(e) = e.dyn_ref::<web_sys::HtmlElement>() {
        let _ = e.style().set_property(property, value);
    }
}

fn percent(p: f32) -> String {
    format!("{:.1}%", (p * 100.0).clamp(0.0, 100.0))
}

/// Every label with its probability, most likely first, as bars.
fn render_labels(container: &Element, labels: &[LabelScore]) {
    for s in labels {
        let row = dom::el("div", "prediction label-score", "");
        dom::set_attr(&row, "data-testid", "classify-label");
        dom::set_attr(&row, "data-label", &s.label);
        dom::set_attr(&row, "data-probability", &format!("{:.6}", s.probability));
        let bar = dom::el("span", "bar", "");
        let fill = dom::el("span", "bar-fill", "");
        set_style(&fill, "width", &percent(s.probability));
        let _ = bar.append_child(&fill);
        for part in [
            dom::el("span", "prediction-token", &s.label),
            bar,
            dom::el("span", "prediction-prob", &percent(s.probability)),
        ] {
            let _ = row.append_child(&part);
        }
        let _ = container.append_child(&row);
    }
}

/// Each token as a chip coloured by its label.
fn render_token_labels(container: &Element, labels: &[TokenLabel]) {
    let chips = dom::el("div", "tokens", "");
    for t in labels {
        let chip = dom::el("span", "token labelled", &t.token);
        dom::set_attr(&chip, "data-testid", "classify-token");
        dom::set_attr(&chip, "data-label", &t.label);
        dom::set_attr(&chip, "data-probability", &format!("{:.6}", t.probability));
        dom::set_attr(
            &chip,
            "title",
            &format!("{} {}", t.label, percent(t.probability)),
        );
        set_style(&chip, "background", &label_colour(&t.label, t.id));
        let tag = dom::el("small", "chip-label", &t.label);
        let _ = chip.append_child(&tag);
        let _ = chips.append_child(&chip);
    }
    let _ = container.append_child(&chips);
}

/// One row per layer: the tokens shaded by how much `[CLS]` attends to each (mean of the heads).
fn render_cls_rows(container: &Element, c: &Classification) {
    dom::clear(container);
    for (layer, row) in cls_attention(&c.attentions, c.layers, c.heads, c.seq)
        .iter()
        .enumerate()
    {
        let line = dom::el("div", "cls-row", "");
        dom::set_attr(&line, "data-layer", &layer.to_string());
        let _ = line.append_child(&dom::el("span", "cls-layer", &format!("layer {layer}")));
        let max = row.iter().copied().fold(f32::MIN_POSITIVE, f32::max);
        for (token, weight) in c.tokens.iter().zip(row) {
            let chip = dom::el("span", "token", token);
            dom::set_attr(&chip, "data-weight", &format!("{weight:.4}"));
            dom::set_attr(&chip, "title", &format!("{token}: {}", percent(*weight)));
            let alpha = (weight / max).clamp(0.0, 1.0);
            set_style(
                &chip,
                "background",
                &format!("rgba(47, 95, 208, {alpha:.2})"),
            );
            if alpha > 0.55 {
                set_style(&chip, "color", "white");
            }
            let _ = line.append_child(&chip);
        }
        let _ = container.append_child(&line);
    }
}

/// Draws a classification: the labels (or token chips) and the `[CLS]` rows.
pub fn render(app: &App, c: &Classification) {
    let result = &app.el.classify_result;
    dom::clear(result);
    match c.task {
        Task::Token => render_token_labels(result, &c.token_labels),
        _ => render_labels(result, &c.labels),
    }
    render_cls_rows(&app.el.classify_attention, c);
}

async fn classify(app: &AppRef) {
    if !super::settled(app).await {
        return;
    }
    app.clear_error(&app.el.classify_error);
    let Some(worker) = app.worker() else {
        return app.show_error_in(&app.el.classify_error, "load a model first");
    };
    let text = app.el.classify_input.value();
    if text.trim().is_empty() {
        return app.show_error_in(&app.el.classify_error, "type a sentence to classify");
    }
    if text.chars().count() > super::text_panel::MAX_TEXT_CHARS {
        return app.show_error_in(
            &app.el.classify_error,
            &format!(
                "the sentence is over {} characters long",
                super::text_panel::MAX_TEXT_CHARS
            ),
        );
    }
    app.set_phase(Phase::Predicting);
    app.set_status("classifying");
    let result = worker.classify(&text, None).await;
    app.set_phase(Phase::Idle);
    match result {
        Ok(c) => {
            render(app, &c);
            app.set_status("ready");
        }
        Err(RequestError::DeviceLost(e)) => recover_from_lost_gpu(app, &e).await,
        Err(RequestError::WorkerDied(_)) => {}
        Err(RequestError::Failed(e)) => app.show_error_in(&app.el.classify_error, &e),
    }
}

fn show_step(app: &App, step: usize, steps: usize, losses: &[f32]) {
    app.el.classify_progress.set_value(step as f64);
    let loss = losses.last().copied().unwrap_or(f32::NAN);
    dom::set_text(
        &app.el.classify_stats,
        &format!("step {step}/{steps} · loss {loss:.3}"),
    );
    dom::set_attr(&app.el.classify_stats, "data-steps", &step.to_string());
    chart::draw_losses(&app.el.classify_chart, losses, steps);
}

fn show_accuracy(app: &App, accuracy: f64, held_out: Option<usize>) {
    let of = held_out
        .map(|n| format!(" ({n} examples)"))
        .unwrap_or_default();
    dom::set_text(
        &app.el.classify_accuracy,
        &format!("held-out accuracy {:.0}%{of}", accuracy * 100.0),
    );
    dom::set_attr(
        &app.el.classify_accuracy,
        "data-accuracy",
        &format!("{accuracy:.4}"),
    );
}

async fn train(app: &AppRef) {
    if !super::settled(app).await {
        return;
    }
    app.clear_error(&app.el.classify_error);
    let Some(worker) = app.worker() else {
        return app.show_error_in(
            &app.el.classify_error,
            "load a model before training a classifier",
        );
    };
    let options = match read_options(app) {
        Ok(o) => o,
        Err(e) => return app.show_error_in(&app.el.classify_error, &e),
    };
    let examples = app.el.classify_examples.value();
    let chars = examples.chars().count();
    if chars > MAX_EXAMPLES_CHARS {
        return app.show_error_in(&app.el.classify_error, &format!(
            "the examples are {chars} characters long; the page takes up to {MAX_EXAMPLES_CHARS}"
        ));
    }
    app.set_phase(Phase::TrainingClassifier);
    app.set_status("training a classifier: preparing");
    let stats = &app.el.classify_stats;
    for name in ["data-finished", "data-steps", "data-losses"] {
        let _ = stats.remove_attribute(name);
    }
    dom::clear(&app.el.classify_accuracy);
    let _ = app.el.classify_accuracy.remove_attribute("data-accuracy");
    app.el.classify_progress.set_max(options.steps as f64);
    app.el.classify_progress.set_value(0.0);
    let losses = Rc::new(RefCell::new(Vec::with_capacity(options.steps)));
    let on_event = {
        let (weak, losses) = (Rc::downgrade(app), losses.clone());
        move |event: WorkerEvent| {
            let (Some(app), WorkerEvent::ClassifierStep(r)) = (weak.upgrade(), event) else {
                return;
            };
            if r.step == 1 {
                app.set_status("training a classifier");
            }
            losses.borrow_mut().push(r.loss);
            show_step(&app, r.step, r.steps, &losses.borrow());
            if let Some(a) = r.accuracy {
                show_accuracy(&app, a, None);
            }
        }
    };
    let request = Request::TrainClassifier { examples, options };
    let result = worker
        .request(&request, None, &[], Some(Rc::new(on_event)))
        .await;
    app.set_phase(Phase::Idle);
    match result.map(|(reply, _)| reply) {
        Ok(Reply::ClassifierTrained(s)) => {
            app.classifier_trained.set(s.steps_done > 0);
            // The bar ends full whether the run finished or was stopped.
            app.el.classify_progress.set_max(s.steps_done.max(1) as f64);
            app.el
                .classify_progress
                .set_value(s.steps_done.max(1) as f64);
            show_accuracy(app, s.accuracy, Some(s.held_out));
            let verb = if s.stopped { "stopped" } else { "done" };
            let trend = match (s.losses.first(), s.losses.last()) {
                (Some(a), Some(b)) => format!(", loss {a:.3} → {b:.3}"),
                _ => String::new(),
            };
            dom::set_text(
                stats,
                &format!(
                    "{verb}: {} steps in {:.1} s{trend}; {} labels ({}), {} examples trained on, {} held out",
                    s.steps_done,
                    s.seconds,
                    s.labels.len(),
                    s.labels.join(", "),
                    s.train_examples,
                    s.held_out
                ),
            );
            let all: Vec<String> = s.losses.iter().map(|l| format!("{l:.4}")).collect();
            dom::set_attr(stats, "data-losses", &all.join(","));
            dom::set_attr(stats, "data-seconds", &format!("{:.2}", s.seconds));
            dom::set_attr(stats, "data-finished", "true");
            app.set_status("ready");
            if !app.el.classify_input.value().trim().is_empty() {
                classify(app).await;
            }
        }
        Ok(other) => app.show_error_in(
            &app.el.classify_error,
            &format!("the model's worker answered out of turn: {other:?}"),
        ),
        Err(RequestError::DeviceLost(e)) => {
            dom::set_attr(stats, "data-finished", "lost");
            recover_from_lost_gpu(app, &format!("training the classifier stopped: {e}")).await;
        }
        Err(e) => {
            dom::set_attr(stats, "data-finished", "error");
            dom::set_text(stats, e.message());
            if !matches!(e, RequestError::WorkerDied(_)) {
                app.show_error_in(&app.el.classify_error, e.message());
            }
        }
    }
}

pub fn wire(app: &AppRef) {
    let a = app.clone();
    dom::on::<Event>(&app.el.classify_start, "click", move |_| {
        spawn(&a, async |a| train(a).await)
    });
    super::wire_stop(app, &app.el.classify_stop);
    let a = app.clone();
    dom::on::<Event>(&app.el.classify_button, "click", move |_| {
        spawn(&a, async |a| classify(a).await)
    });
    let a = app.clone();
    dom::on::<KeyboardEvent>(&app.el.classify_input, "keydown", move |e| {
        if e.key() == "Enter" {
            spawn(&a, async |a| classify(a).await)
        }
    });
    let a = app.clone();
    dom::on::<Event>(&app.el.classify_download, "click", move |_| {
        spawn(&a, async |a| {
            download::save_checkpoint(a, &Request::ExportClassifier, &a.el.classify_stats).await
        })
    });
}

#[cfg(test)]
mod tests {
    use super::{cls_attention, label_colour};

    #[test]
    fn the_cls_row_is_the_mean_of_the_heads_first_query_row() {
        // 2 layers, 2 heads, 3 tokens: value = layer*100 + head*10 + query*3 + key.
        let (layers, heads, seq) = (2, 2, 3);
        let maps: Vec<f32> = (0..layers * heads * seq * seq)
            .map(|i| {
                let (l, h) = (i / (heads * seq * seq), (i / (seq * seq)) % heads);
                let (q, k) = ((i / seq) % seq, i % seq);
                (l * 100 + h * 10 + q * 3 + k) as f32
            })
            .collect();
        let rows = cls_attention(&maps, layers, heads, seq);
        assert_eq!(rows, vec![vec![5.0, 6.0, 7.0], vec![105.0, 106.0, 107.0]]);
        // Maps of the wrong size give nothing rather than a wrong picture.
        assert!(cls_attention(&maps[1..], layers, heads, seq).is_empty());
    }

    #[test]
    fn labels_get_distinct_colours_and_o_is_neutral() {
        assert_eq!(label_colour("O", 0), "hsl(0, 0%, 90%)");
        let colours: Vec<String> = (0..9).map(|i| label_colour("B-PER", i)).collect();
        for (i, a) in colours.iter().enumerate() {
            assert!(!colours[i + 1..].contains(a), "{a} repeats");
        }
    }
}
