//! The model panel: the embedded model at start-up, a Hub id or URL, local files;
//! download progress, the backend badge and what the model is. It owns the model's
//! worker: starting one, and after a crash or a lost GPU, a new one with the last good
//! model ([`recover`]).

use std::rc::Rc;

use js_sys::Array;
use web_sys::{DragEvent, Event, KeyboardEvent};

use super::app::{App, AppRef, LoadSource, Phase, param, spawn};
use super::{EMBEDDED_MODEL, dom, examples, refresh};
use crate::backend::Preference;
use crate::client::{ModelWorker, RequestError};
use crate::model_files::{self, Location};
use crate::protocol::{Event as WorkerEvent, ModelInfo, Request, Source};
use crate::session::task_name;
use bert_burn::Task;
use bert_burn::model::precision::Precision;

fn describe(source: &LoadSource) -> String {
    match source {
        LoadSource::Location(l) => l.describe(),
        LoadSource::Files(_) => "local files".into(),
    }
}

/// The backend the page asks for (`?backend=`).
fn preference() -> Preference {
    Preference::parse(&param("backend").unwrap_or_default())
}

/// The running worker, or a new one (watched: if it dies, the page recovers).
async fn worker_or_start(app: &AppRef) -> Result<ModelWorker, String> {
    if let Some(w) = app.worker().filter(|w| !w.is_dead()) {
        return Ok(w);
    }
    let worker = ModelWorker::start().await?;
    let weak = Rc::downgrade(app);
    worker.on_death(move |message| {
        if let Some(app) = weak.upgrade() {
            spawn(&app, async move |app| recover(app, &message, None).await);
        }
    });
    #[cfg(feature = "testing")]
    crate::testing::register_page_worker(&worker);
    app.set_worker(Some(worker.clone()));
    Ok(worker)
}

/// After the worker died (`message` says how) or lost its GPU (`cpu_reason`): a new
/// worker loads the last good model again; the text and masks stay as they are.
pub async fn recover(app: &AppRef, message: &str, cpu_reason: Option<String>) {
    if app.phase() == Phase::Recovering {
        return;
    }
    let lost_tuning = app.finetuned.replace(false) | app.classifier_trained.replace(false);
    app.set_phase(Phase::Recovering);
    // Dropping the last handle ends the old worker (if it is not gone already).
    app.set_worker(None);
    let note = if lost_tuning {
        " (the weights trained in this tab were lost with it)"
    } else {
        ""
    };
    let source = app.last_good.borrow().clone();
    let text = match &source {
        Some(_) => format!("{message}{note}; a new worker is loading the model again"),
        None => format!("{message}; load a model to continue"),
    };
    dom::set_text(&app.el.worker_notice, &text);
    dom::set_hidden(&app.el.worker_notice, false);
    app.show_error(&text);
    match source {
        Some(source) => Box::pin(load(app, source, true, cpu_reason)).await,
        None => app.set_phase(Phase::NoModel),
    }
}

/// A URL relative to the page, made absolute: the worker resolves nothing against the page.
fn absolute(location: Location) -> Location {
    match location {
        Location::Url(url) => {
            let base = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.base_uri().ok().flatten());
            let resolved = base
                .and_then(|b| web_sys::Url::new_with_base(&url, &b).ok())
                .map(|u| u.href())
                .unwrap_or(url);
            Location::Url(resolved)
        }
        hub => hub,
    }
}

/// `?model=` if given (and the embedded model if that one fails, saying why), else the
/// embedded model if this build ships one.
pub async fn load_initial(app: &AppRef) {
    if let Some(text) = param("model") {
        app.el.model_id.set_value(&text);
        let failure = match Location::parse(&text) {
            Ok(location) => {
                load(app, LoadSource::Location(absolute(location)), false, None).await;
                let loaded = app.info.borrow().is_some();
                (!loaded).then(|| app.el.status.text_content().unwrap_or_default())
            }
            Err(e) => Some(e),
        };
        let Some(failure) = failure else { return };
        load_embedded(app).await;
        let failure = failure
            .strip_prefix("error: ")
            .unwrap_or(&failure)
            .to_string();
        let fallback = if app.info.borrow().is_some() {
            "; the embedded model is loaded instead"
        } else {
            ""
        };
        return show_model_error(
            app,
            &format!("could not load “{text}”: {failure}{fallback}"),
        );
    }
    load_embedded(app).await
}

/// An error about loading, beside the model box; it stays until a model loads.
fn show_model_error(app: &App, message: &str) {
    dom::set_text(&app.el.model_error, message);
    dom::set_hidden(&app.el.model_error, false);
}

async fn load_embedded(app: &AppRef) {
    let location = absolute(Location::Url(EMBEDDED_MODEL.into()));
    match model_files::fetch_bytes(&location.file_url("config.json"), &|_, _, _| {}).await {
        Ok(_) => load(app, LoadSource::Location(location), false, None).await,
        Err(model_files::FetchError::NotFound(_)) => {
            app.set_status("no model loaded: this build has no embedded model; load one from the Hub, a URL or local files")
        }
        Err(e) => app.show_error(&e.to_string()),
    }
}

fn show_download(app: &App, file: &str, done: f64, total: Option<f64>) {
    let bar = &app.el.load_progress;
    dom::set_hidden(bar, false);
    match total {
        Some(t) if t > 0.0 => {
            bar.set_max(t);
            bar.set_value(done);
        }
        _ => {
            let _ = bar.remove_attribute("value");
        }
    }
    let mb = |b: f64| b / 1e6;
    let text = match total {
        Some(t) => format!("{file}: {:.1} / {:.1} MB", mb(done), mb(t)),
        None => format!("{file}: {:.1} MB", mb(done)),
    };
    dom::set_text(&app.el.load_progress_text, &text);
}

/// Loads `source` in the worker and makes it the page's model. The model loaded before
/// stays in use if this one fails. `keep_tokens`: the same model again (after a crash),
/// so the user's masks stay. `cpu_reason`: run on the CPU, saying why.
pub async fn load(app: &AppRef, source: LoadSource, keep_tokens: bool, cpu_reason: Option<String>) {
    if matches!(app.phase(), Phase::FineTuning | Phase::TrainingClassifier) {
        let message =
            "stop the training run before loading another model: its weights would be lost";
        show_model_error(app, message);
        return app.show_error(message);
    }
    let before = app.phase();
    let recovering = before == Phase::Recovering;
    if !recovering {
        app.set_phase(Phase::Loading);
    }
    app.set_status(&format!("loading {}", describe(&source)));
    let started = dom::now_ms();
    let worker = match worker_or_start(app).await {
        Ok(w) => w,
        Err(e) => {
            app.set_phase(if app.info.borrow().is_some() {
                Phase::Idle
            } else {
                Phase::NoModel
            });
            return app.show_error(&e);
        }
    };
    let (request_source, payload) = match &source {
        LoadSource::Location(location) => (
            Source::Location {
                location: location.clone(),
            },
            None,
        ),
        LoadSource::Files(files) => (Source::Files, Some(files.iter().collect::<Array>().into())),
    };
    let request = Request::Load {
        source: request_source,
        backend: preference(),
        cpu_reason,
    };
    let weak = Rc::downgrade(app);
    let on_event = move |event: WorkerEvent| {
        let Some(app) = weak.upgrade() else { return };
        match event {
            WorkerEvent::Download { file, done, total } => show_download(&app, &file, done, total),
            WorkerEvent::Building { source } => {
                dom::set_hidden(&app.el.load_progress, true);
                app.set_status(&format!("starting the model from {source}"));
            }
            WorkerEvent::Step(_) | WorkerEvent::ClassifierStep(_) => {}
        }
    };
    let result = worker.load(request, payload.as_ref(), on_event).await;
    dom::set_hidden(&app.el.load_progress, true);
    dom::set_text(&app.el.load_progress_text, "");
    match result {
        Ok(info) => {
            dom::set_hidden(&app.el.model_error, true);
            show_model(app, &info, dom::now_ms() - started);
            *app.info.borrow_mut() = Some(info);
            *app.last_good.borrow_mut() = Some(source);
            app.finetuned.set(false);
            app.refresh.runs.set(0);
            *app.last_pass.borrow_mut() = None;
            app.set_phase(Phase::Idle);
            // Another model's tokenizer: the chips are drawn again (after a crash, the same
            // model's chips stay as they are).
            if !keep_tokens {
                *app.tokens_text.borrow_mut() = Default::default();
            }
            app.set_status("ready");
            // Milliseconds from navigation to a usable model, for benchmarks.
            dom::set_attr(
                &app.el.status,
                "data-ready-ms",
                &format!("{:.0}", dom::now_ms()),
            );
            refresh::now(app).await;
        }
        Err(RequestError::WorkerDied(e)) if recovering => {
            // No loop of crashes: the user decides what to load next.
            app.set_phase(Phase::NoModel);
            app.show_error(&format!(
                "{e}, again, while loading the model again; load a model to continue"
            ));
        }
        // Otherwise the death is handled where it is noticed (`worker_or_start`): the
        // model loaded before this one comes back.
        Err(RequestError::WorkerDied(_)) => {}
        Err(RequestError::DeviceLost(e)) => {
            app.set_phase(before);
            Box::pin(recover(app, &e, Some(lost_reason()))).await;
        }
        Err(RequestError::Failed(e)) => {
            app.set_phase(if app.info.borrow().is_some() {
                Phase::Idle
            } else {
                Phase::NoModel
            });
            show_model_error(app, &e);
            app.show_error(&e);
        }
    }
}

/// What the backend badge says after a lost GPU.
pub fn lost_reason() -> String {
    "the WebGPU device was lost; running on the CPU".into()
}

fn show_model(app: &AppRef, info: &ModelInfo, ms: f64) {
    let backend = &info.backend;
    dom::set_text(&app.el.backend, backend.kind.name());
    app.el
        .backend
        .set_class_name(&format!("badge {}", backend.kind.name()));
    let adapter = match backend.precision {
        Precision::F16 => format!("{} · predictions in f16", backend.adapter),
        Precision::F32 => backend.adapter.clone(),
    };
    dom::set_text(&app.el.adapter, &adapter);
    // One short line; the technical reason (adapter names, wgpu's message) on demand.
    let reason = backend.fallback_reason.as_deref().unwrap_or("");
    let summary = if reason.contains("lost") {
        "The GPU was lost: running on the CPU (why?)"
    } else {
        "Running on the CPU: fast enough for this page (why not the GPU?)"
    };
    dom::set_text(&app.el.fallback_summary, summary);
    dom::set_text(&app.el.fallback_detail, reason);
    dom::set_hidden(&app.el.fallback_notice, reason.is_empty());
    let embedded = info.source.ends_with(&format!("/{EMBEDDED_MODEL}"));
    let model_type = info.config["model_type"].as_str().unwrap_or("bert");
    examples::render(
        app,
        &examples::for_model(embedded, model_type, &info.mask_token),
    );
    // The page's words about masks name this model's mask token.
    for code in dom::all(".mask-token") {
        dom::set_text(&code, &info.mask_token);
    }
    let source = if embedded {
        "the embedded model (assets/, see assets/MODEL_CARD.md)"
    } else {
        &info.source
    };
    let head = match info.task {
        Task::MaskedLm => String::new(),
        task => format!(
            "; a {} classifier ({} labels: {})",
            task_name(task),
            info.labels.len(),
            info.labels.join(", ")
        ),
    };
    let family = match info.config["architectures"][0].as_str() {
        Some(class) => format!(" ({class})"),
        None => format!(" ({model_type})"),
    };
    let text = format!(
        "{source}{family}: {} layers, hidden size {}, {} heads, vocabulary {}, {} positions, {:.1} M parameters{head}; started in {ms:.0} ms",
        info.layers,
        info.hidden_size,
        info.heads,
        info.vocab_size,
        info.max_positions,
        info.parameters as f64 / 1e6
    );
    dom::set_text(&app.el.model_info, &text);
}

/// Loads the Hub id or URL typed in the model box.
fn load_typed_model(app: &AppRef) {
    match Location::parse(&app.el.model_id.value()) {
        Ok(location) => {
            let source = LoadSource::Location(absolute(location));
            spawn(app, async move |app| load(app, source, false, None).await)
        }
        Err(e) => app.show_error(&e),
    }
}

fn load_file_list(app: &AppRef, list: web_sys::FileList) {
    let files: Vec<web_sys::File> = (0..list.length()).filter_map(|i| list.get(i)).collect();
    spawn(app, async move |app| {
        load(app, LoadSource::Files(files), false, None).await
    });
}

pub fn wire(app: &AppRef) {
    let a = app.clone();
    dom::on::<Event>(&app.el.load_button, "click", move |_| load_typed_model(&a));
    let a = app.clone();
    dom::on::<KeyboardEvent>(&app.el.model_id, "keydown", move |e| {
        if e.key() == "Enter" {
            load_typed_model(&a);
        }
    });
    let a = app.clone();
    dom::on::<Event>(&app.el.file_input, "change", move |_| {
        if let Some(list) = a.el.file_input.files() {
            load_file_list(&a, list);
        }
        // Emptied once read, so picking the same (corrected) files again loads them again.
        a.el.file_input.set_value("");
    });
    dom::on::<DragEvent>(&app.el.drop_zone, "dragover", move |e| e.prevent_default());
    let a = app.clone();
    dom::on::<DragEvent>(&app.el.drop_zone, "drop", move |e| {
        e.prevent_default();
        if let Some(list) = e.data_transfer().and_then(|d| d.files()) {
            load_file_list(&a, list);
        }
    });
}
