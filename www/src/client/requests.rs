//! One typed method per request of the protocol, over [`ModelWorker::request`].

use std::rc::Rc;

use bert_burn::inference::{Analysis, AnalyzeOptions, FillStep, LabelScore, TokenLabel};
use bert_burn::{Encoding, Task};
use js_sys::{Float32Array, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};

use super::{ModelWorker, RequestError};
use crate::protocol::{Event, Input, ModelInfo, Reply, Request};

impl ModelWorker {
    pub async fn load(
        &self,
        request: Request,
        payload: Option<&JsValue>,
        on_event: impl Fn(Event) + 'static,
    ) -> Result<ModelInfo, RequestError> {
        match self
            .request(&request, payload, &[], Some(Rc::new(on_event)))
            .await?
            .0
        {
            Reply::Loaded(info) => Ok(info),
            other => Err(unexpected(&other)),
        }
    }

    pub async fn tokenize(
        &self,
        text: &str,
        text_b: Option<&str>,
    ) -> Result<Encoding, RequestError> {
        let request = Request::Tokenize {
            text: text.into(),
            text_b: text_b.map(String::from),
        };
        match self.ask(request).await? {
            Reply::Tokens(encoding) => Ok(encoding),
            other => Err(unexpected(&other)),
        }
    }

    /// Predictions and attention maps for `input`, the maps still as the `Float32Array`
    /// they came in.
    pub async fn analyze_maps(
        &self,
        input: Input,
        options: AnalyzeOptions,
    ) -> Result<(Reply, Float32Array), RequestError> {
        let request = Request::Analyze { input, options };
        let (reply, payload) = self.request(&request, None, &[], None).await?;
        let maps = payload
            .and_then(|p| p.dyn_into::<Float32Array>().ok())
            .ok_or_else(|| {
                RequestError::Failed("the attention maps are missing from the reply".into())
            })?;
        Ok((reply, maps))
    }

    /// The text's tokens, predictions and attention maps in one reply (and what else
    /// `options` asks for).
    pub async fn analyze(
        &self,
        text: &str,
        text_b: Option<&str>,
        options: AnalyzeOptions,
    ) -> Result<Analyzed, RequestError> {
        let input = Input::Text {
            text: text.into(),
            text_b: text_b.map(String::from),
        };
        match self.analyze_maps(input, options).await? {
            (
                Reply::Analysis {
                    encoding: Some(encoding),
                    masks,
                    layers,
                    heads,
                    seq,
                    kernels,
                    reads,
                    ..
                },
                maps,
            ) => Ok(Analyzed {
                encoding,
                analysis: Analysis {
                    masks,
                    layers,
                    heads,
                    seq,
                    attentions: maps.to_vec(),
                },
                kernels,
                reads,
            }),
            (other, _) => Err(unexpected(&other)),
        }
    }

    /// One step of Fill all on the text: the most confident mask filled (`None`: no mask
    /// left), and the tokens it was found among.
    pub async fn fill_next(
        &self,
        text: &str,
        text_b: Option<&str>,
    ) -> Result<(Option<FillStep>, Encoding), RequestError> {
        let request = Request::FillNext {
            text: text.into(),
            text_b: text_b.map(String::from),
        };
        match self.ask(request).await? {
            Reply::Filled { step, encoding } => Ok((step, encoding)),
            other => Err(unexpected(&other)),
        }
    }

    /// Every label's probability (or every token's label) for a text, and its attention maps.
    pub async fn classify(
        &self,
        text: &str,
        text_b: Option<&str>,
    ) -> Result<Classification, RequestError> {
        let request = Request::Classify {
            text: text.into(),
            text_b: text_b.map(String::from),
        };
        let (reply, payload) = self.request(&request, None, &[], None).await?;
        let Reply::Classified {
            task,
            tokens,
            labels,
            token_labels,
            layers,
            heads,
            seq,
        } = reply
        else {
            return Err(unexpected(&reply));
        };
        let attentions = payload
            .and_then(|p| p.dyn_into::<Float32Array>().ok())
            .ok_or_else(|| {
                RequestError::Failed("the attention maps are missing from the reply".into())
            })?
            .to_vec();
        Ok(Classification {
            task,
            tokens,
            labels,
            token_labels,
            layers,
            heads,
            seq,
            attentions,
        })
    }

    /// The model (`Request::Export`) or the classifier (`Request::ExportClassifier`) as a
    /// Hugging Face checkpoint: each file's name and bytes, and whether it was trained here.
    pub async fn export(&self, request: &Request) -> Result<Exported, RequestError> {
        let (reply, payload) = self.request(request, None, &[], None).await?;
        let Reply::Exported {
            files,
            weights_bytes,
            finetuned,
        } = reply
        else {
            return Err(unexpected(&reply));
        };
        let zip = payload
            .and_then(|p| p.dyn_into::<Uint8Array>().ok())
            .ok_or_else(|| RequestError::Failed("the exported files are missing".into()))?;
        Ok(Exported {
            files,
            weights_bytes,
            finetuned,
            zip,
        })
    }
}

/// A checkpoint as one `.zip` of Hugging Face files.
pub struct Exported {
    pub files: Vec<String>,
    pub weights_bytes: u64,
    /// Trained in this page (not the weights as loaded).
    pub finetuned: bool,
    pub zip: Uint8Array,
}

/// A classification, as [`Reply::Classified`] with its maps `[layer][head][query][key]`.
pub struct Classification {
    pub task: Task,
    pub tokens: Vec<String>,
    pub labels: Vec<LabelScore>,
    pub token_labels: Vec<TokenLabel>,
    pub layers: usize,
    pub heads: usize,
    pub seq: usize,
    pub attentions: Vec<f32>,
}

/// A forward pass's results, the tokens it ran on, and what it cost the device.
pub struct Analyzed {
    pub encoding: Encoding,
    pub analysis: Analysis,
    /// GPU kernels launched (0 on the CPU backend).
    pub kernels: usize,
    /// Device-to-host reads.
    pub reads: usize,
}

fn unexpected(reply: &Reply) -> RequestError {
    RequestError::Failed(format!(
        "the model's worker answered out of turn: {reply:?}"
    ))
}
