//! The Classify panel: labelled examples in, a sequence classifier trained in the
//! model's worker (Start / Stop, progress, live loss and held-out accuracy), then any
//! sentence classified — every label's probability as a bar, a token checkpoint's labels
//! as coloured chips — with what the `[CLS]` row attends to in each layer. A loaded task
//! checkpoint is used as it is. The work happens in the worker; this panel draws it
//! ([`classify_view`]).

use std::cell::RefCell;
use std::rc::Rc;

use bert_burn::train::classifier_run::ClassifierOptions;
use web_sys::{Event, KeyboardEvent};

use super::app::{App, AppRef, Phase, settled, spawn};
use super::{chart, classify_view, dom, download, stop_button};
use crate::client::RequestError;
use crate::protocol::{Event as WorkerEvent, Reply, Request};

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

async fn classify(app: &AppRef) {
    if !settled(app).await {
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
    app.set_phase(Phase::Predicting);
    app.set_status("classifying");
    let result = worker.classify(&text, None).await;
    app.set_phase(Phase::Idle);
    match result {
        Ok(c) => {
            classify_view::render(app, &c);
            app.set_status("ready");
        }
        Err(e) => app.fail(&app.el.classify_error, e),
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
    if !settled(app).await {
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
    // Its length is the worker's to check (as every text limit).
    let examples = app.el.classify_examples.value();
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
            let message = format!("training the classifier stopped: {e}");
            app.fail(&app.el.classify_error, RequestError::DeviceLost(message));
        }
        Err(e) => {
            dom::set_attr(stats, "data-finished", "error");
            dom::set_text(stats, e.message());
            app.fail(&app.el.classify_error, e);
        }
    }
}

pub fn wire(app: &AppRef) {
    let a = app.clone();
    dom::on::<Event>(&app.el.classify_start, "click", move |_| {
        spawn(&a, async |a| train(a).await)
    });
    stop_button::wire(app, &app.el.classify_stop);
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
            download::save_checkpoint(
                a,
                &Request::ExportClassifier,
                &a.el.classify_stats,
                &a.el.classify_error,
            )
            .await
        })
    });
}
