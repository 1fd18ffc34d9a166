//! The page's state, in one place: what it is doing ([`Phase`], with a signal for whoever
//! waits for it to change), the model's worker, the text's tokens and the last forward
//! pass the views draw. Panels read and change it; nothing here starts model work.

use std::cell::{Cell, OnceCell, RefCell};
use std::rc::Rc;

use bert_burn::Encoding;
use bert_burn::inference::Analysis;
use futures_channel::oneshot;
use futures_util::future::{Either, select};
use web_sys::Element;

use super::dom;
use super::elements::Elements;
use super::text_edits::Span;
use super::tokens::TokenState;
use crate::client::{ModelWorker, RequestError};
use crate::global_scope::sleep_ms;
use crate::model_files::Location;
use crate::protocol::ModelInfo;

/// What the page is doing. Actions check it instead of loose flags: only `Idle` starts
/// new model work (a refresh asked for while predicting is run once more afterwards).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// No model yet (starting, or the last load failed with none before it).
    NoModel,
    Loading,
    Idle,
    /// A forward pass of the text on screen (or a classification) is under way.
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

/// Where a model came from, kept so it can be loaded again after a crash.
#[derive(Clone)]
pub enum LoadSource {
    Location(Location),
    /// The user's files (`File`s are references: keeping them costs nothing).
    Files(Vec<web_sys::File>),
}

/// The last forward pass the views show, with the tokens it ran on.
pub struct LastPass {
    pub analysis: Analysis,
    /// What each token's row and column are called (`TokenState::labels`).
    pub labels: Vec<String>,
    /// Which tokens the tokenizer added around the text (`[CLS]`, `<s>`…), for hiding them.
    pub added: Vec<bool>,
    pub boundary: Option<usize>,
    /// Attention rollout of `analysis`, computed when first shown.
    pub rollout: OnceCell<Vec<f32>>,
}

impl LastPass {
    pub fn new(
        analysis: Analysis,
        labels: Vec<String>,
        added: Vec<bool>,
        boundary: Option<usize>,
    ) -> Self {
        Self {
            analysis,
            labels,
            added,
            boundary,
            rollout: OnceCell::new(),
        }
    }
}

/// The refresh loop's own state (`refresh.rs`).
#[derive(Default)]
pub struct RefreshState {
    /// Bumped by each change of the text or top-k: a scheduled refresh runs only if it is
    /// still the newest, and a pass that finishes after a newer change stays marked stale.
    pub generation: Cell<u32>,
    /// A refresh was asked for while one ran: run once more when it ends.
    pub again: Cell<bool>,
    /// Passes shown since the model loaded.
    pub runs: Cell<u32>,
}

/// What the text boxes hold beyond their text (`text_state.rs`).
#[derive(Default)]
pub struct TextMemory {
    /// What masks replaced and where words were filled in, following the text.
    pub spans: Vec<Span>,
    /// The text boxes as last seen, to follow typing.
    pub boxes: [String; 2],
}

pub struct App {
    pub el: Elements,
    phase: Cell<Phase>,
    /// Woken at every phase change ([`settled`]).
    phase_waiters: RefCell<Vec<oneshot::Sender<()>>>,
    worker: RefCell<Option<ModelWorker>>,
    pub info: RefCell<Option<ModelInfo>>,
    /// The last model that loaded, loaded again after a crash or a lost GPU.
    pub last_good: RefCell<Option<LoadSource>>,
    /// The chips: the tokens of `tokens_text`, the text boxes when they were made.
    pub tokens: RefCell<TokenState>,
    pub tokens_text: RefCell<[String; 2]>,
    pub text: RefCell<TextMemory>,
    pub refresh: RefreshState,
    pub last_pass: RefCell<Option<Rc<LastPass>>>,
    /// The token under the pointer (chip or map).
    pub hover: Cell<Option<usize>>,
    /// The large heatmap's values as drawn (a head, the mean or rollout), for the hover readout.
    pub drawn_map: RefCell<Vec<f32>>,
    /// Set by the Fill all button while filling: stop after the fill under way.
    pub cancel_fill: Cell<bool>,
    /// Set to stop the model-view draw under way (a newer one replaces it).
    pub model_view_cancel: RefCell<Rc<Cell<bool>>>,
    pub finetuned: Cell<bool>,
    /// A classifier was trained in the worker (lost with it if it dies).
    pub classifier_trained: Cell<bool>,
    /// What a lost GPU starts (set once by `ui::start`: the recovery in `model_panel`).
    on_device_lost: RefCell<Option<Recovery>>,
}

/// What a lost GPU starts, given what was being done.
type Recovery = Rc<dyn Fn(String)>;

pub type AppRef = Rc<App>;

impl App {
    pub fn new(el: Elements) -> Self {
        Self {
            el,
            phase: Cell::new(Phase::NoModel),
            phase_waiters: RefCell::default(),
            worker: RefCell::default(),
            info: RefCell::default(),
            last_good: RefCell::default(),
            tokens: RefCell::default(),
            tokens_text: RefCell::default(),
            text: RefCell::default(),
            refresh: RefreshState::default(),
            last_pass: RefCell::default(),
            hover: Cell::default(),
            drawn_map: RefCell::default(),
            cancel_fill: Cell::default(),
            model_view_cancel: RefCell::default(),
            finetuned: Cell::default(),
            classifier_trained: Cell::default(),
            on_device_lost: RefCell::default(),
        }
    }

    pub fn phase(&self) -> Phase {
        self.phase.get()
    }

    /// Moves to `phase`, shows it, and wakes whoever waits for a change. Buttons that
    /// would start model work are disabled unless the page is idle or only refreshing.
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
        // one, and their handlers wait it out ([`settled`]), so a click then is not lost.
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
        for waiter in self.phase_waiters.take() {
            let _ = waiter.send(());
        }
    }

    /// Resolves at the next phase change.
    fn phase_changed(&self) -> oneshot::Receiver<()> {
        let (tx, rx) = oneshot::channel();
        self.phase_waiters.borrow_mut().push(tx);
        rx
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
    pub fn show_error_in(&self, slot: &Element, message: &str) {
        self.show_error(message);
        dom::set_text(slot, message);
        dom::set_hidden(slot, false);
    }

    pub fn clear_error(&self, slot: &Element) {
        dom::set_hidden(slot, true);
    }

    /// How every failed request ends: a lost GPU starts the recovery (the last good
    /// model loads again, on the CPU); a dead worker is being replaced already (its own
    /// callback noticed); anything else is said beside what caused it (`slot`).
    pub fn fail(&self, slot: &Element, error: RequestError) {
        match error {
            RequestError::DeviceLost(message) => {
                let recover = self.on_device_lost.borrow().clone();
                if let Some(recover) = recover {
                    recover(message);
                }
            }
            RequestError::WorkerDied(_) => {}
            RequestError::Failed(message) => self.show_error_in(slot, &message),
        }
    }

    /// Sets what [`Self::fail`] does about a lost GPU.
    pub fn on_device_lost(&self, recover: impl Fn(String) + 'static) {
        *self.on_device_lost.borrow_mut() = Some(Rc::new(recover));
    }

    pub fn worker(&self) -> Option<ModelWorker> {
        self.worker.borrow().clone()
    }

    pub fn set_worker(&self, worker: Option<ModelWorker>) {
        *self.worker.borrow_mut() = worker;
    }

    /// The text boxes: the sentence, and the second segment when it is not blank.
    pub fn texts(&self) -> (String, Option<String>) {
        let b = self.el.text_b.value();
        (self.el.text.value(), (!b.trim().is_empty()).then_some(b))
    }

    /// The chips' view of an encoding, with the loaded model's mask token.
    pub fn token_state(&self, encoding: &Encoding) -> TokenState {
        let info = self.info.borrow();
        let (id, token) = info
            .as_ref()
            .map_or((u32::MAX, ""), |i| (i.mask_id, i.mask_token.as_str()));
        TokenState::new(encoding, id, token)
    }

    /// Whether the chips were made from the text boxes as they are now.
    pub fn tokens_current(&self) -> bool {
        *self.tokens_text.borrow() == [self.el.text.value(), self.el.text_b.value()]
    }
}

/// Waits out a prediction under way (the page refreshes by itself after each change, so a
/// click often lands during one) and says whether the page is then free for new work.
pub async fn settled(app: &App) -> bool {
    if app.phase() != Phase::Predicting {
        return app.phase() == Phase::Idle;
    }
    // Half a minute of one refresh (a large model on a slow adapter): say so rather than
    // drop the click in silence.
    let mut deadline = std::pin::pin!(sleep_ms(30_000));
    while app.phase() == Phase::Predicting {
        match select(app.phase_changed(), deadline.as_mut()).await {
            Either::Left(_) => {}
            Either::Right(_) => {
                app.set_status("still predicting: click again when the predictions are shown");
                return false;
            }
        }
    }
    app.phase() == Phase::Idle
}

/// Runs `f` on `app` as its own task (event handlers start work this way).
pub fn spawn(app: &AppRef, f: impl AsyncFnOnce(&AppRef) + 'static) {
    let app = app.clone();
    wasm_bindgen_futures::spawn_local(async move { f(&app).await });
}

/// A parameter of the page's URL.
pub fn param(name: &str) -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search)
        .ok()?
        .get(name)
}
