//! Classifiers in the worker: training a sequence classifier from the current model on
//! the user's labelled lines (a step at a time, like `train.rs`), classifying a text with
//! it (or with a loaded task checkpoint), and exporting it.

use std::rc::Rc;

use bert_burn::checkpoint::{HeadWeights, load_sequence_classifier};
use bert_burn::train::classifier_run::{ClassifierOptions, ClassifierRun, hold_out};
use bert_burn::train::classify::{encode_examples, label_set, parse_labelled};
use bert_burn::{BertError, Head, Task};
use js_sys::Float32Array;

use super::{Answer, STATE, STOP, current, failure_after, one_run, post_event};
use crate::global_scope::{now_ms, sleep_ms};
use crate::protocol::{
    ClassifierStepReport, ClassifierSummary, Event, Failure, Reply, check_training_text,
};
use crate::session::Session;

/// More labelled lines than anyone pastes into a page; the CLI takes large sets.
pub const MAX_EXAMPLES: usize = 5_000;
/// One in this many examples is held out for accuracy.
const HOLD_OUT_EVERY: usize = 5;

fn input(e: BertError) -> Failure {
    Failure::new(e.to_string())
}

/// The classifier trained here, else the loaded model if it is a task checkpoint.
fn classifier() -> Result<Rc<Session>, Failure> {
    if let Some(trained) = STATE.with(|s| s.borrow().classifier.clone()) {
        return Ok(trained);
    }
    let session = current()?;
    if session.task() == Task::MaskedLm {
        return Err(Failure::new(
            "no classifier yet: train one on your labelled examples first (or load a task checkpoint)",
        ));
    }
    Ok(session)
}

pub(super) async fn train(
    id: u32,
    examples: &str,
    options: &ClassifierOptions,
) -> Result<ClassifierSummary, Failure> {
    check_training_text(examples, "examples").map_err(Failure::new)?;
    let session = current()?;
    one_run(run(id, &session, examples, options)).await
}

async fn run(
    id: u32,
    session: &Rc<Session>,
    text: &str,
    options: &ClassifierOptions,
) -> Result<ClassifierSummary, Failure> {
    options.validate().map_err(input)?;
    let examples = parse_labelled(text, MAX_EXAMPLES).map_err(input)?;
    if examples.is_empty() {
        return Err(Failure::new(
            "no labelled examples: paste one per line, `label<TAB>text` or `label: text`",
        ));
    }
    let (train, held_out) = hold_out(examples, HOLD_OUT_EVERY).map_err(input)?;
    let labels = label_set(&train).map_err(input)?;
    let tokenizer = &session.pipeline.tokenizer;
    let train = encode_examples(&train, &labels, tokenizer).map_err(input)?;
    let held_out = encode_examples(&held_out, &labels, tokenizer).map_err(input)?;
    let (train_examples, held) = (train.len(), held_out.len());

    // The new classifier starts from the current model's encoder (fine-tuned or as
    // loaded), its pooler and classifier initialised as transformers does.
    let weights = session.weights().await.map_err(Failure::new)?;
    let config = session.config().with_labels(Task::Sequence, &labels);
    session.device().seed(options.seed);
    let autodiff = session.device().clone().autodiff();
    let model =
        load_sequence_classifier(&config, &weights, &autodiff, HeadWeights::New).map_err(input)?;
    drop(weights);
    let mut run =
        ClassifierRun::new(model, train, options, tokenizer.pad_id(), autodiff).map_err(input)?;

    let started = now_ms();
    let every = (options.steps / 10).max(5);
    // The held-out accuracy if it was measured at the last step taken.
    let (mut losses, mut accuracy_now) = (Vec::with_capacity(options.steps), None);
    for step in 1..=options.steps {
        if STOP.with(|s| s.get()) {
            break;
        }
        let step_started = now_ms();
        let measured = async {
            let report = run.step().await?;
            let measure = step % every == 0 || step == options.steps;
            let accuracy = match measure {
                true => Some(run.accuracy(&held_out).await?),
                false => None,
            };
            Ok::<_, BertError>((report.loss, accuracy))
        };
        let (loss, measured) = match measured.await {
            Ok(x) => x,
            Err(e) => {
                let failure = failure_after(session, e.to_string()).await;
                let message = format!(
                    "training the classifier stopped after {} steps: {}",
                    run.steps_done(),
                    failure.message.lines().next().unwrap_or_default()
                );
                return Err(Failure { message, ..failure });
            }
        };
        losses.push(loss);
        accuracy_now = measured;
        post_event(
            id,
            &Event::ClassifierStep(ClassifierStepReport {
                step,
                steps: options.steps,
                loss,
                accuracy: measured,
                step_ms: now_ms() - step_started,
            }),
        );
        // Lets a Stop, or any other request, in between two steps.
        sleep_ms(0).await;
    }
    let steps_done = run.steps_done();
    let accuracy = match accuracy_now {
        Some(a) => a,
        // Stopped between two measurements: measure the model as it is kept.
        None => run.accuracy(&held_out).await.map_err(input)?,
    };
    if steps_done > 0
        && let Some(model) = run.into_model()
    {
        let trained = session.with_head(Head::Sequence(model));
        STATE.with(|s| s.borrow_mut().classifier = Some(Rc::new(trained)));
    }
    Ok(ClassifierSummary {
        labels,
        train_examples,
        held_out: held,
        steps_done,
        stopped: STOP.with(|s| s.get()),
        seconds: (now_ms() - started) / 1000.0,
        accuracy,
        losses,
    })
}

pub(super) async fn classify(text: &str, text_b: Option<&str>) -> Answer {
    let session = classifier()?;
    let encoding = super::tokenize(&session, text, text_b)?;
    let classified = match session.classify(&encoding).await {
        Ok(c) => c,
        Err(e) => return Err(failure_after(&session, e).await),
    };
    let c = session.config();
    let maps = Float32Array::from(&classified.attentions[..]);
    let buffer = maps.buffer().into();
    let reply = Reply::Classified {
        task: session.task(),
        seq: encoding.ids.len(),
        tokens: encoding.tokens,
        labels: classified.labels,
        token_labels: classified.token_labels,
        layers: c.num_hidden_layers,
        heads: c.num_attention_heads,
    };
    Ok((reply, Some(maps.into()), vec![buffer]))
}

/// The classifier to export (trained here, or the loaded task checkpoint).
pub(super) fn to_export() -> Result<Rc<Session>, Failure> {
    classifier()
}
