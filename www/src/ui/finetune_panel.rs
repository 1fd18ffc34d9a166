//! The fine-tune panel: Start / Stop (within one step) / Reset / Download, a progress
//! bar, the live loss chart, tokens/s, and predictions for the masked text before and
//! after. The run itself happens in the model's worker; this panel draws its steps.

use std::cell::RefCell;
use std::rc::Rc;

use bert_burn::inference::{AnalyzeOptions, MaskPredictions};
use web_sys::Event;

use super::app::{App, AppRef, Phase, settled, spawn};
use super::{chart, dom, download, refresh, stop_button, text_state};
use crate::client::RequestError;
use crate::protocol::{Event as WorkerEvent, Reply, Request, StepReport};
use bert_burn::train::finetune_run::FineTuneOptions;

fn read_options(app: &App) -> Result<FineTuneOptions, String> {
    let number = |input: &web_sys::HtmlInputElement, what: &str| {
        input
            .value()
            .trim()
            .parse::<usize>()
            .map_err(|_| format!("{what} must be a whole number"))
    };
    let options = FineTuneOptions {
        steps: number(&app.el.finetune_steps, "steps")?,
        lr: app
            .el
            .finetune_lr
            .value()
            .trim()
            .parse::<f64>()
            .map_err(|_| "the learning rate must be a number like 3e-4".to_string())?,
        batch: number(&app.el.finetune_batch, "the batch")?,
        ..FineTuneOptions::default()
    };
    options.validate().map_err(|e| e.to_string())?;
    Ok(options)
}

/// A compact list (not the clickable rows above): "position 6: paris 41.2 %, …".
fn render_compact(container: &web_sys::Element, masks: &[MaskPredictions]) {
    dom::clear(container);
    if masks.is_empty() {
        dom::set_text(container, "no mask in the text above");
        return;
    }
    for m in masks {
        let text = m
            .predictions
            .iter()
            .map(|p| format!("{} {:.1}%", p.token, p.probability * 100.0))
            .collect::<Vec<_>>()
            .join(", ");
        let line = dom::el("p", "compact", &format!("position {}: {text}", m.position));
        dom::set_attr(&line, "data-mask-position", &m.position.to_string());
        if let Some(best) = m.predictions.first() {
            dom::set_attr(&line, "data-top-token", &best.token);
        }
        let _ = container.append_child(&line);
    }
}

/// The model's guesses for the masks of the text on screen, for Before / After.
async fn masks_now(app: &AppRef) -> Option<Vec<MaskPredictions>> {
    let worker = app.worker()?;
    let (text, text_b) = app.texts();
    if text.trim().is_empty() {
        return None;
    }
    let options = AnalyzeOptions {
        top_k: text_state::top_k(app).ok()?,
        by_layer: false,
        words_only: true,
    };
    let analyzed = worker.analyze(&text, text_b.as_deref(), options).await;
    analyzed.ok().map(|a| a.analysis.masks)
}

/// The median of `values`, `None` when there are none.
fn median(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(sorted.len() / 2).copied()
}

/// Draws one step's report: bar, stats line, chart.
fn show_step(app: &App, r: &StepReport, losses: &[f32]) {
    app.el.finetune_progress.set_value(r.step as f64);
    // Memory is shown so a user sees the run holds steady (a leak would climb step over step).
    let gpu = r
        .memory
        .gpu_bytes_reserved
        .map(|b| format!(" · GPU {:.1} MB", b as f64 / 1e6))
        .unwrap_or_default();
    dom::set_text(
        &app.el.finetune_stats,
        &format!(
            "step {}/{} · loss {:.3} · {:.0} tokens/s · {} examples · wasm heap {:.1} MB{gpu}",
            r.step,
            r.steps,
            r.loss,
            r.tokens_per_second,
            r.examples,
            r.memory.wasm_heap_bytes as f64 / 1e6,
        ),
    );
    dom::set_attr(&app.el.finetune_stats, "data-steps", &r.step.to_string());
    chart::draw_losses(&app.el.loss_chart, losses, r.steps);
}

async fn run(app: &AppRef) {
    if !settled(app).await {
        return;
    }
    app.clear_error(&app.el.finetune_error);
    let Some(worker) = app.worker() else {
        return app.show_error_in(&app.el.finetune_error, "load a model before fine-tuning");
    };
    let options = match read_options(app) {
        Ok(o) => o,
        Err(e) => return app.show_error_in(&app.el.finetune_error, &e),
    };
    // Its length is the worker's to check (as every text limit).
    let text = app.el.finetune_text.value();
    app.set_phase(Phase::FineTuning);
    if let Some(before) = masks_now(app).await {
        render_compact(&app.el.predictions_before, &before);
    }
    app.set_status("fine-tuning: preparing");
    let stats = &app.el.finetune_stats;
    // A previous run's outcome must not read as this one's.
    for name in [
        "data-finished",
        "data-steps",
        "data-first-step-ms",
        "data-warm-step-ms",
        "data-losses",
    ] {
        let _ = stats.remove_attribute(name);
    }
    app.el.finetune_progress.set_max(options.steps as f64);
    app.el.finetune_progress.set_value(0.0);
    let step_ms = Rc::new(RefCell::new(Vec::with_capacity(options.steps)));
    let losses = Rc::new(RefCell::new(Vec::with_capacity(options.steps)));
    let on_event = {
        let (weak, step_ms, losses) = (Rc::downgrade(app), step_ms.clone(), losses.clone());
        move |event: WorkerEvent| {
            let (Some(app), WorkerEvent::Step(r)) = (weak.upgrade(), event) else {
                return;
            };
            if r.step == 1 {
                app.set_status("fine-tuning");
            }
            step_ms.borrow_mut().push(r.step_ms);
            losses.borrow_mut().push(r.loss);
            show_step(&app, &r, &losses.borrow());
        }
    };
    let request = Request::FineTune { text, options };
    let result = worker
        .request(&request, None, &[], Some(Rc::new(on_event)))
        .await;
    app.set_phase(Phase::Idle);
    match result.map(|(reply, _)| reply) {
        Ok(Reply::FineTuned(summary)) => {
            if summary.steps_done > 0 {
                app.finetuned.set(true);
            }
            let verb = if summary.stopped { "stopped" } else { "done" };
            // A copy: the borrow must not be held across the awaits below.
            let step_ms = step_ms.borrow().clone();
            // The first step compiles the GPU kernels: shown apart from the steady pace.
            let first = step_ms.first().copied().unwrap_or(0.0);
            let warm = median(&step_ms[step_ms.len().min(1)..]);
            let pace = match warm {
                Some(ms) => format!("first step {first:.0} ms, then {ms:.0} ms/step"),
                None => format!("{first:.0} ms/step"),
            };
            let trend = match (summary.losses.first(), summary.losses.last()) {
                (Some(a), Some(b)) => format!(", loss {a:.3} → {b:.3}"),
                _ => String::new(),
            };
            let done = summary.steps_done;
            dom::set_text(
                stats,
                &format!(
                    "{verb}: {done} steps in {:.1} s{trend} ({pace})",
                    summary.seconds
                ),
            );
            // Every step's loss, for tests and for whoever inspects the page.
            let all: Vec<String> = summary.losses.iter().map(|l| format!("{l:.4}")).collect();
            dom::set_attr(stats, "data-losses", &all.join(","));
            dom::set_attr(stats, "data-first-step-ms", &format!("{first:.1}"));
            if let Some(ms) = warm {
                dom::set_attr(stats, "data-warm-step-ms", &format!("{ms:.1}"));
            }
            dom::set_attr(stats, "data-steps", &done.to_string());
            dom::set_attr(stats, "data-finished", "true");
            if let Some(after) = masks_now(app).await {
                render_compact(&app.el.predictions_after, &after);
            }
            app.set_status("ready");
            refresh::now(app).await;
        }
        Ok(other) => app.show_error_in(
            &app.el.finetune_error,
            &format!("the model's worker answered out of turn: {other:?}"),
        ),
        Err(RequestError::DeviceLost(e)) => {
            // The steps done so far lived on the lost GPU: they are gone, the loaded weights are not.
            let message = format!("{e}; continuing on the CPU with the loaded weights");
            dom::set_text(stats, &message);
            dom::set_attr(stats, "data-finished", "lost");
            app.finetuned.set(false);
            let message = format!("fine-tuning stopped: {message}");
            app.fail(&app.el.finetune_error, RequestError::DeviceLost(message));
        }
        Err(e) => {
            dom::set_attr(stats, "data-finished", "error");
            dom::set_text(stats, e.message());
            app.fail(&app.el.finetune_error, e);
        }
    }
}

async fn reset(app: &AppRef) {
    let Some(worker) = app.worker().filter(|_| app.phase() == Phase::Idle) else {
        return;
    };
    if let Err(e) = worker.ask(Request::Reset).await {
        return app.fail(&app.el.finetune_error, e);
    }
    app.finetuned.set(false);
    for e in [
        &app.el.predictions_before,
        &app.el.predictions_after,
        &app.el.finetune_stats,
    ] {
        dom::clear(e);
    }
    app.el.finetune_progress.set_value(0.0);
    chart::draw_losses(&app.el.loss_chart, &[], 1);
    refresh::now(app).await;
}

pub fn wire(app: &AppRef) {
    let a = app.clone();
    dom::on::<Event>(&app.el.finetune_start, "click", move |_| {
        spawn(&a, async |a| run(a).await)
    });
    stop_button::wire(app, &app.el.finetune_stop);
    let a = app.clone();
    dom::on::<Event>(&app.el.finetune_reset, "click", move |_| {
        spawn(&a, async |a| reset(a).await)
    });
    let a = app.clone();
    dom::on::<Event>(&app.el.download, "click", move |_| {
        spawn(&a, async |a| {
            download::save_checkpoint(
                a,
                &Request::Export,
                &a.el.finetune_stats,
                &a.el.finetune_error,
            )
            .await
        })
    });
}
