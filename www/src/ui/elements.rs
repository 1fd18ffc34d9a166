//! Every element of `www/index.html` the UI touches, looked up once at start-up.

use wasm_bindgen::JsCast;
use web_sys::{
    Element, HtmlButtonElement, HtmlCanvasElement, HtmlInputElement, HtmlProgressElement,
    HtmlSelectElement, HtmlTextAreaElement,
};

use super::dom;

pub struct Elements {
    pub app: Element,
    pub status: Element,
    pub backend: Element,
    pub adapter: Element,
    pub fallback_notice: Element,
    pub worker_notice: Element,
    // Model panel.
    pub model_id: HtmlInputElement,
    pub load_button: HtmlButtonElement,
    pub file_input: HtmlInputElement,
    pub drop_zone: Element,
    pub load_progress: HtmlProgressElement,
    pub load_progress_text: Element,
    pub model_info: Element,
    pub model_error: Element,
    // Text panel.
    pub text: HtmlTextAreaElement,
    pub examples: Element,
    pub text_b: HtmlInputElement,
    pub tokens: Element,
    pub token_note: Element,
    pub whole_word: HtmlInputElement,
    pub top_k: HtmlInputElement,
    pub predict: HtmlButtonElement,
    pub fill_all: HtmlButtonElement,
    pub timing: Element,
    pub predictions: Element,
    // Attention panel.
    pub layer: HtmlSelectElement,
    pub head: HtmlSelectElement,
    pub hide_special: HtmlInputElement,
    pub heatmap_caption: Element,
    pub heatmap: HtmlCanvasElement,
    pub heatmap_table_box: Element,
    pub heatmap_table: Element,
    pub head_grid: Element,
    pub model_view: Element,
    pub layer_predictions: Element,
    // Fine-tune panel.
    pub finetune_text: HtmlTextAreaElement,
    pub finetune_steps: HtmlInputElement,
    pub finetune_lr: HtmlInputElement,
    pub finetune_batch: HtmlInputElement,
    pub finetune_start: HtmlButtonElement,
    pub finetune_stop: HtmlButtonElement,
    pub finetune_reset: HtmlButtonElement,
    pub download: HtmlButtonElement,
    pub finetune_progress: HtmlProgressElement,
    pub finetune_stats: Element,
    pub loss_chart: HtmlCanvasElement,
    pub predictions_before: Element,
    pub predictions_after: Element,
    // Classify panel.
    pub classify_examples: HtmlTextAreaElement,
    pub classify_steps: HtmlInputElement,
    pub classify_lr: HtmlInputElement,
    pub classify_start: HtmlButtonElement,
    pub classify_stop: HtmlButtonElement,
    pub classify_download: HtmlButtonElement,
    pub classify_progress: HtmlProgressElement,
    pub classify_accuracy: Element,
    pub classify_stats: Element,
    pub classify_chart: HtmlCanvasElement,
    pub classify_input: HtmlInputElement,
    pub classify_button: HtmlButtonElement,
    pub classify_result: Element,
    pub classify_attention: Element,
}

/// `#id` or `[data-testid=id]`, as type `T`.
fn find<T: JsCast>(key: &str) -> Result<T, String> {
    dom::by_id(key)
        .or_else(|| dom::by_testid(key))
        .ok_or_else(|| format!("index.html lacks the element {key}"))?
        .dyn_into::<T>()
        .map_err(|_| format!("index.html has {key} as another kind of element"))
}

impl Elements {
    pub fn find() -> Result<Self, String> {
        Ok(Self {
            app: find("bert-app")?,
            status: find("status")?,
            backend: find("backend")?,
            adapter: find("adapter")?,
            fallback_notice: find("fallback-notice")?,
            worker_notice: find("worker-notice")?,
            model_id: find("model-id-input")?,
            load_button: find("load-hub-button")?,
            file_input: find("file-input")?,
            drop_zone: find("drop-zone")?,
            load_progress: find("load-progress")?,
            load_progress_text: find("load-progress-text")?,
            model_info: find("model-info")?,
            model_error: find("model-error")?,
            text: find("text-input")?,
            examples: find("examples")?,
            text_b: find("text-b-input")?,
            tokens: find("tokens")?,
            token_note: find("token-note")?,
            whole_word: find("whole-word")?,
            top_k: find("topk-input")?,
            predict: find("predict-button")?,
            fill_all: find("fill-all-button")?,
            timing: find("timing")?,
            predictions: find("predictions")?,
            layer: find("layer-select")?,
            head: find("head-select")?,
            hide_special: find("hide-special")?,
            heatmap_caption: find("heatmap-caption")?,
            heatmap: find("heatmap")?,
            heatmap_table_box: find("heatmap-table-box")?,
            heatmap_table: find("heatmap-table")?,
            head_grid: find("head-grid")?,
            model_view: find("model-view")?,
            layer_predictions: find("layer-predictions")?,
            finetune_text: find("finetune-text")?,
            finetune_steps: find("finetune-steps")?,
            finetune_lr: find("finetune-lr")?,
            finetune_batch: find("finetune-batch")?,
            finetune_start: find("finetune-start")?,
            finetune_stop: find("finetune-stop")?,
            finetune_reset: find("finetune-reset")?,
            download: find("download-weights")?,
            finetune_progress: find("finetune-progress")?,
            finetune_stats: find("finetune-stats")?,
            loss_chart: find("loss-chart")?,
            predictions_before: find("predictions-before")?,
            predictions_after: find("predictions-after")?,
            classify_examples: find("classify-examples")?,
            classify_steps: find("classify-steps")?,
            classify_lr: find("classify-lr")?,
            classify_start: find("classify-start")?,
            classify_stop: find("classify-stop")?,
            classify_download: find("classify-download")?,
            classify_progress: find("classify-progress")?,
            classify_accuracy: find("classify-accuracy")?,
            classify_stats: find("classify-stats")?,
            classify_chart: find("classify-chart")?,
            classify_input: find("classify-input")?,
            classify_button: find("classify-button")?,
            classify_result: find("classify-result")?,
            classify_attention: find("classify-attention")?,
        })
    }
}
