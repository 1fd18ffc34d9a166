//! The page: a thin UI over the model's worker ([`ModelWorker`]). What the page is doing
//! is one explicit [`Phase`]; each panel is its own module ([`model_panel`],
//! [`text_panel`], [`attention_panel`], [`finetune_panel`]) over elements looked up once
//! ([`elements::Elements`]). Nothing here runs the model: a slow step is a message away,
//! so the page keeps painting and taking input.

pub mod attention_panel;
pub mod chart;
pub mod classify_panel;
pub mod dom;
mod download;
pub mod elements;
mod examples;
mod fill_all;
mod finetune_panel;
pub mod heatmap;
mod model_panel;
mod model_view;
pub mod predictions;
pub mod text_edits;
mod text_panel;
mod text_state;
pub mod tokens;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use bert_burn::inference::Analysis;
use wasm_bindgen_futures::spawn_local;

use crate::backend::Preference;
use crate::client::ModelWorker;
use crate::protocol::ModelInfo;
use elements::Elements;
use model_panel::LoadSource;
use tokens::TokenState;

/// Where the page looks for its embedded model (relative: works under any sub-path).
pub const EMBEDDED_MODEL: &str = "assets/";

/// What the page is doing. Actions check it instead of loose flags: only `Idle` starts
/// new model work (a Predict asked for while predicting is run once more afterwards).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// No model yet (starting, or the last load failed with none before it).
    NoModel,
    Loading,
    Idle,
    Predicting,
    /// Fill all, one mask per request; the Fill all button stops it.
    Filling,
    FineTuning,
    TrainingClassifier,
    /// The worker died or lost its GPU: a new one is loading the last good model.
    Recovering,
}

impl Phase {
    fn name(self) -> &'static str {
        match self {
            Self::NoModel => "no-model",
            Self::Loading => "loading",
            Self::Idle => "idle",
            Self::Predicting => "predicting",
            Self::Filling => "filling",
            Self::FineTuning => "fine-tuning",
            Self::TrainingClassifier => "training-classifier",
            Self::Recovering => "recovering",
        }
    }
}

/// The last forward pass, with the tokens it ran on.
pub struct Shown {
    pub analysis: Analysis,
    pub labels: Vec<String>,
    pub boundary: Option<usize>,
    /// Attention rollout of `analysis`, computed when first shown.
    pub rollout: std::cell::OnceCell<Vec<f32>>,
}

impl Shown {
    pub fn new(analysis: Analysis, labels: Vec<String>, boundary: Option<usize>) -> Self {
        Self {
            analysis,
            labels,
            boundary,
            rollout: std::cell::OnceCell::new(),
        }
    }
}

pub struct App {
    pub el: Elements,
    phase: Cell<Phase>,
    worker: RefCell<Option<ModelWorker>>,
    pub info: RefCell<Option<ModelInfo>>,
    /// The last model that loaded, loaded again after a crash or a lost GPU.
    last_good: RefCell<Option<LoadSource>>,
    pub tokens: RefCell<TokenState>,
    /// The text changed since `tokens` were made.
    pub tokens_stale: Cell<bool>,
    pub tokenize_generation: Cell<u32>,
    pub shown: RefCell<Option<Shown>>,
    pub hover: Cell<Option<usize>>,
    pub predict_again: Cell<bool>,
    pub runs: Cell<u32>,
    pub finetuned: Cell<bool>,
    /// A classifier was trained in the worker (lost with it if it dies).
    pub classifier_trained: Cell<bool>,
    /// What masks replaced and where words were filled in, following the text.
    pub spans: RefCell<Vec<text_edits::Span>>,
    /// The text boxes as last seen, to follow typing.
    pub texts: RefCell<[String; 2]>,
    /// Bumped by each change of the text or top-k; a refresh runs for the newest only.
    pub refresh_generation: Cell<u32>,
    /// The large heatmap's values as drawn (a head, the mean or rollout), for the hover readout.
    pub drawn_map: RefCell<Vec<f32>>,
    /// Set by the Fill all button while filling: stop after the fill under way.
    pub cancel_fill: Cell<bool>,
    /// Bumped by each model-view draw, so an older draw under way stops.
    pub model_view_generation: Cell<u32>,
}

pub type AppRef = Rc<App>;

thread_local! {
    static APP: RefCell<Option<AppRef>> = const { RefCell::new(None) };
}

/// The page's model worker, for the test hooks of the JavaScript API.
pub fn page_worker() -> Option<ModelWorker> {
    APP.with(|a| {
        a.borrow()
            .as_ref()
            .and_then(|app| app.worker.borrow().clone())
    })
}

pub fn param(name: &str) -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search)
        .ok()?
        .get(name)
}

pub fn preference() -> Preference {
    Preference::parse(&param("backend").unwrap_or_default())
}

pub fn spawn(app: &AppRef, f: impl AsyncFnOnce(&AppRef) + 'static) {
    let app = app.clone();
    spawn_local(async move { f(&app).await });
}

impl App {
    pub fn phase(&self) -> Phase {
        self.phase.get()
    }

    /// Moves to `phase` and shows it: buttons that would start model work are disabled
    /// unless the page is idle or only refreshing its predictions.
    pub fn set_phase(&self, phase: Phase) {
        self.phase.set(phase);
        dom::set_attr(&self.el.app, "data-phase", phase.name());
        let idle = phase == Phase::Idle;
        for button in [
            &self.el.finetune_reset,
            &self.el.download,
            &self.el.classify_download,
        ] {
            button.set_disabled(!idle);
        }
        // A refresh runs after every edit: buttons that start work stay clickable through
        // one, and their handlers wait it out (`settled`), so a click then is not lost.
        let free = idle || phase == Phase::Predicting;
        for button in [
            &self.el.finetune_start,
            &self.el.classify_start,
            &self.el.classify_button,
        ] {
            button.set_disabled(!free);
        }
        let filling = phase == Phase::Filling;
        self.el.fill_all.set_disabled(!free && !filling);
        dom::set_text(
            &self.el.fill_all,
            if filling { "Stop filling" } else { "Fill all" },
        );
        self.el
            .finetune_stop
            .set_disabled(phase != Phase::FineTuning);
        self.el
            .classify_stop
            .set_disabled(phase != Phase::TrainingClassifier);
        // Loading stays clickable during a training run: the click explains why it is
        // refused (the run's weights would be lost) instead of doing nothing.
        let busy = matches!(phase, Phase::Loading | Phase::Recovering);
        self.el.load_button.set_disabled(busy);
        self.el.file_input.set_disabled(busy);
    }

    pub fn set_status(&self, text: &str) {
        dom::set_text(&self.el.status, text);
        self.el.status.set_class_name(if text.starts_with("error") {
            "status error"
        } else {
            "status"
        });
    }

    pub fn show_error(&self, message: &str) {
        self.set_status(&format!("error: {message}"));
    }

    /// An error in the status and beside what caused it (`slot`, in that panel), where it
    /// stays until the panel's next action ([`Self::clear_error`]).
    pub fn show_error_in(&self, slot: &web_sys::Element, message: &str) {
        self.show_error(message);
        dom::set_text(slot, message);
        dom::set_hidden(slot, false);
    }

    pub fn clear_error(&self, slot: &web_sys::Element) {
        dom::set_hidden(slot, true);
    }

    pub fn worker(&self) -> Option<ModelWorker> {
        self.worker.borrow().clone()
    }
}

/// Waits out a prediction under way (the page refreshes by itself after each change, so a
/// click often lands during one) and says whether the page is then free for new work.
pub async fn settled(app: &AppRef) -> bool {
    for _ in 0..1500 {
        if app.phase() != Phase::Predicting {
            break;
        }
        crate::event_loop::sleep_ms(20).await;
    }
    if app.phase() == Phase::Predicting {
        // Half a minute of one refresh (a large model on a slow adapter): say so rather
        // than drop the click in silence.
        app.set_status("still predicting: click again when the predictions are shown");
    }
    app.phase() == Phase::Idle
}

/// A Stop button of a training run: the run ends after the step under way.
fn wire_stop(app: &AppRef, button: &web_sys::HtmlButtonElement) {
    let (a, b) = (app.clone(), button.clone());
    dom::on::<web_sys::Event>(button, "click", move |_| {
        b.set_disabled(true);
        spawn(&a, async |a| {
            if let Some(w) = a.worker() {
                let _ = w.ask(crate::protocol::Request::StopFineTune).await;
            }
        });
    });
}

/// The running worker, or a new one (watched: if it dies, the page recovers).
pub async fn worker_or_start(app: &AppRef) -> Result<ModelWorker, String> {
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
    *app.worker.borrow_mut() = Some(worker.clone());
    Ok(worker)
}

/// After the WebGPU device was lost (`message` says doing what): the one recovery for
/// every request — a new worker loads the last good model on the CPU.
pub async fn recover_from_lost_gpu(app: &AppRef, message: &str) {
    recover(app, message, Some(model_panel::lost_reason())).await
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
    app.worker.borrow_mut().take();
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
        Some(source) => model_panel::load(app, source, true, cpu_reason).await,
        None => app.set_phase(Phase::NoModel),
    }
}

pub fn start() {
    let el = match Elements::find() {
        Ok(el) => el,
        Err(e) => return web_sys::console::error_1(&e.into()),
    };
    let app: AppRef = Rc::new(App {
        el,
        phase: Cell::new(Phase::NoModel),
        worker: RefCell::new(None),
        info: RefCell::new(None),
        last_good: RefCell::new(None),
        tokens: RefCell::new(TokenState::default()),
        tokens_stale: Cell::new(true),
        tokenize_generation: Cell::new(0),
        shown: RefCell::new(None),
        hover: Cell::new(None),
        predict_again: Cell::new(false),
        runs: Cell::new(0),
        finetuned: Cell::new(false),
        classifier_trained: Cell::new(false),
        model_view_generation: Cell::new(0),
        cancel_fill: Cell::new(false),
        drawn_map: RefCell::new(Vec::new()),
        spans: RefCell::new(Vec::new()),
        texts: RefCell::new([String::new(), String::new()]),
        refresh_generation: Cell::new(0),
    });
    app.set_phase(Phase::NoModel);
    text_state::read_url(&app);
    APP.with(|a| *a.borrow_mut() = Some(app.clone()));
    model_panel::wire(&app);
    text_panel::wire(&app);
    attention_panel::wire(&app);
    model_view::wire(&app);
    examples::wire(&app);
    finetune_panel::wire(&app);
    classify_panel::wire(&app);
    spawn(&app, async |app| model_panel::load_initial(app).await);
}
