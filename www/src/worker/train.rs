//! A fine-tuning run in the worker: one step at a time, an event after each, the event
//! loop given back in between so a Stop (or any request) is read at once.

use std::rc::Rc;

use bert_burn::Head;
use bert_burn::train::finetune_run::{FineTuneOptions, FineTuneRun};

use super::{STATE, STOP, current, failure_after, one_run, post_event};
use crate::backend;
use crate::global_scope::{now_ms, sleep_ms};
use crate::protocol::{Event, Failure, FineTuneSummary, StepReport, check_training_text};
use crate::session::Session;

pub(super) async fn fine_tune(
    id: u32,
    text: &str,
    options: &FineTuneOptions,
) -> Result<FineTuneSummary, Failure> {
    check_training_text(text, "text to fine-tune on").map_err(Failure::new)?;
    let session = current()?;
    one_run(run_steps(id, &session, text, options)).await
}

async fn run_steps(
    id: u32,
    session: &Rc<Session>,
    text: &str,
    options: &FineTuneOptions,
) -> Result<FineTuneSummary, Failure> {
    let mut tuner = FineTuneRun::new(&session.pipeline, text, options)
        .await
        .map_err(|e| Failure::new(e.to_string()))?;
    let started = now_ms();
    let mut losses = Vec::with_capacity(options.steps);
    let mut failure = None;
    for step in 0..options.steps {
        if STOP.with(|s| s.get()) {
            break;
        }
        let step_started = now_ms();
        match tuner.step().await {
            Ok(loss) => losses.push(loss),
            Err(e) => {
                failure = Some(e.to_string());
                break;
            }
        }
        let seconds = (now_ms() - started) / 1000.0;
        post_event(
            id,
            &Event::Step(StepReport {
                step: step + 1,
                steps: options.steps,
                loss: losses.last().copied().unwrap_or(f32::NAN),
                step_ms: now_ms() - step_started,
                tokens_per_second: tuner.tokens_seen as f64 / seconds.max(1e-3),
                examples: tuner.examples(),
                memory: backend::memory(session.device()),
            }),
        );
        // Lets a Stop, or any other request, in between two steps.
        sleep_ms(0).await;
    }
    let done = tuner.steps_done();
    if let Some(e) = failure {
        let failure = failure_after(session, e).await;
        // The first line says what failed; wgpu's chain of causes and backtrace follow.
        let cause = failure
            .message
            .lines()
            .next()
            .unwrap_or_default()
            .to_string();
        let message = if failure.device_lost {
            format!("the WebGPU device was lost after {done} steps ({cause})")
        } else {
            format!("fine-tuning stopped after {done} steps: {cause}")
        };
        return Err(Failure { message, ..failure });
    }
    if done > 0
        && let Some(model) = tuner.into_model()
    {
        let tuned = Rc::new(session.with_head(Head::MaskedLm(model)));
        STATE.with(|s| {
            let mut s = s.borrow_mut();
            s.session = Some(tuned);
            s.finetuned = true;
        });
    }
    Ok(FineTuneSummary {
        steps_done: done,
        stopped: STOP.with(|s| s.get()),
        seconds: (now_ms() - started) / 1000.0,
        losses,
    })
}
