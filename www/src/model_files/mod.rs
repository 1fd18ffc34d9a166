//! Getting a checkpoint's files into the page: from the Hub or any URL (with byte
//! progress and the Cache API, so a second visit loads from cache) or from local files.

mod location;

pub use location::Location;

use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Cache, Response};

use bert_burn::checkpoint::CheckpointFiles;
use bert_burn::checkpoint::files::{TOKENIZER_CONFIG, TOKENIZER_JSON, VOCAB_TXT};
use bert_burn::pipeline::TokenizerFiles;

/// The files of one BERT checkpoint, as bytes.
#[derive(Clone, Debug, Default)]
pub struct ModelFiles {
    /// Where they came from, for messages.
    pub source: String,
    pub config_json: String,
    pub weights: Vec<u8>,
    pub tokenizer_json: Option<Vec<u8>>,
    pub vocab_txt: Option<String>,
    pub tokenizer_config: Option<String>,
}

impl ModelFiles {
    pub fn tokenizer(&self) -> Result<TokenizerFiles<'_>, String> {
        if let Some(json) = &self.tokenizer_json {
            Ok(TokenizerFiles::Json(json))
        } else if let Some(vocab) = &self.vocab_txt {
            Ok(TokenizerFiles::Vocab {
                vocab_txt: vocab,
                tokenizer_config: self.tokenizer_config.as_deref(),
            })
        } else {
            Err(format!(
                "{}: no tokenizer.json or vocab.txt ({})",
                self.source,
                bert_burn::checkpoint::files::NO_TOKENIZER_HINT
            ))
        }
    }

    /// The tokenizer's files as they came, to go along with an exported model.
    pub fn tokenizer_files(&self) -> CheckpointFiles {
        let mut files = CheckpointFiles::new();
        if let Some(json) = &self.tokenizer_json {
            files.insert(TOKENIZER_JSON, json.clone());
        }
        if let Some(vocab) = &self.vocab_txt {
            files.insert(VOCAB_TXT, vocab.as_bytes().to_vec());
        }
        if let Some(config) = &self.tokenizer_config {
            files.insert(TOKENIZER_CONFIG, config.as_bytes().to_vec());
        }
        files
    }
}

/// Why a download failed, in words a user can act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FetchError {
    /// The server answered 404.
    NotFound(String),
    /// Another HTTP status.
    Status(String, u16),
    /// The request never got an answer: offline, DNS, or blocked by CORS.
    Network(String),
    /// Larger than the page can hold (the server's length, or what arrived).
    TooLarge(String, u64),
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotFound(url) => write!(f, "not found (404): {url}"),
            Self::Status(url, code) => write!(f, "the server answered HTTP {code} for {url}"),
            Self::Network(url) => write!(
                f,
                "network error fetching {url}: offline, or the server does not allow cross-origin requests (CORS)"
            ),
            Self::TooLarge(url, bytes) => write!(
                f,
                "{url} is {:.0} MB; the page holds files up to {} MB (WebAssembly's 4 GB memory must also fit the model)",
                *bytes as f64 / 1e6,
                MAX_FILE_BYTES / 1_000_000
            ),
        }
    }
}

/// Reports bytes done and total (when the server says) while downloading.
pub type Progress<'a> = &'a dyn Fn(&str, f64, Option<f64>);

pub const CACHE_NAME: &str = "bert-burn-models-v1";
/// The header each cached file is stored with: its length, checked before the entry is used.
pub const SIZE_HEADER: &str = "x-bert-burn-bytes";
/// The largest file the page downloads (bert-large in f32 is 1.34 GB).
pub const MAX_FILE_BYTES: usize = 2_000_000_000;

/// Downloads every file of a checkpoint: `config.json`, `model.safetensors`, and
/// `tokenizer.json` or else `vocab.txt` (+ `tokenizer_config.json` if present).
pub async fn fetch_model(
    location: &Location,
    progress: Progress<'_>,
) -> Result<ModelFiles, String> {
    let text = |bytes: Vec<u8>, name: &str| {
        String::from_utf8(bytes).map_err(|_| format!("{name} is not UTF-8 text"))
    };
    let source = location.describe();
    let config = fetch_bytes(&location.file_url("config.json"), progress)
        .await
        .map_err(|e| format!("config.json: {e}"))?;
    let mut files = ModelFiles {
        source,
        config_json: text(config, "config.json")?,
        ..ModelFiles::default()
    };
    match fetch_bytes(&location.file_url("tokenizer.json"), progress).await {
        Ok(bytes) => files.tokenizer_json = Some(bytes),
        Err(FetchError::NotFound(_)) => {
            let vocab = fetch_bytes(&location.file_url("vocab.txt"), progress)
                .await
                .map_err(|e| {
                    format!(
                        "neither tokenizer.json nor vocab.txt could be loaded: {e} ({})",
                        bert_burn::checkpoint::files::NO_TOKENIZER_HINT
                    )
                })?;
            files.vocab_txt = Some(text(vocab, "vocab.txt")?);
            if let Ok(cfg) =
                fetch_bytes(&location.file_url("tokenizer_config.json"), progress).await
            {
                files.tokenizer_config = Some(text(cfg, "tokenizer_config.json")?);
            }
        }
        Err(e) => return Err(format!("tokenizer.json: {e}")),
    }
    files.weights = fetch_bytes(&location.file_url("model.safetensors"), progress)
        .await
        .map_err(|e| format!("model.safetensors: {e}"))?;
    Ok(files)
}

async fn open_cache() -> Option<Cache> {
    let caches = crate::global_scope::caches()?;
    JsFuture::from(caches.open(CACHE_NAME))
        .await
        .ok()?
        .dyn_into()
        .ok()
}

/// One file: from the Cache API when a remote file was fetched before, else from the network
/// with progress, then stored in the cache. Caching is best effort: a browser
/// without it (or a full quota) still loads.
pub async fn fetch_bytes(url: &str, progress: Progress<'_>) -> Result<Vec<u8>, FetchError> {
    let name = url.rsplit('/').next().unwrap_or(url).to_string();
    // Remote checkpoints are cached; the page's own files (the embedded model, a
    // dev server) are left to the HTTP cache so a new deploy is seen at once.
    let cache = if url.starts_with("https://") {
        open_cache().await
    } else {
        None
    };
    if let Some(cache) = &cache
        && let Some(bytes) = cached(cache, url, &name, progress).await
    {
        return Ok(bytes);
    }
    let request = crate::global_scope::fetch(url).ok_or_else(|| FetchError::Network(url.into()))?;
    let response: Response = JsFuture::from(request)
        .await
        .map_err(|_| FetchError::Network(url.into()))?
        .dyn_into()
        .map_err(|_| FetchError::Network(url.into()))?;
    match response.status() {
        200..=299 => {}
        404 => return Err(FetchError::NotFound(url.into())),
        code => return Err(FetchError::Status(url.into(), code)),
    }
    let bytes = read_body(&response, &name, progress)
        .await
        .map_err(|e| match e {
            BodyError::TooLarge(n) => FetchError::TooLarge(url.into(), n as u64),
            BodyError::Js => FetchError::Network(url.into()),
        })?;
    if let Some(cache) = &cache {
        store(cache, url, &bytes).await;
    }
    Ok(bytes)
}

/// A cached file, if there is one and it is whole: its length equals the length stored
/// beside it and, for JSON and safetensors files, it still parses. A damaged entry (a
/// quota eviction mid-write, a disk error) is deleted, and the file is fetched again.
async fn cached(cache: &Cache, url: &str, name: &str, progress: Progress<'_>) -> Option<Vec<u8>> {
    let hit = JsFuture::from(cache.match_with_str(url)).await.ok()?;
    let response = hit.dyn_into::<Response>().ok()?;
    let stored = response
        .headers()
        .get(SIZE_HEADER)
        .ok()
        .flatten()
        .and_then(|v| v.parse::<usize>().ok());
    let bytes = read_body(&response, name, progress).await.ok();
    match bytes {
        Some(bytes) if Some(bytes.len()) == stored && looks_whole(name, &bytes) => Some(bytes),
        _ => {
            let _ = JsFuture::from(cache.delete_with_str(url)).await;
            None
        }
    }
}

/// Whether a file's bytes parse as what its name says (header only for safetensors).
fn looks_whole(name: &str, bytes: &[u8]) -> bool {
    if name.ends_with(".json") {
        serde_json::from_slice::<serde_json::Value>(bytes).is_ok()
    } else if name.ends_with(".safetensors") {
        bert_burn::checkpoint::SafetensorsFile::parse(bytes).is_ok()
    } else {
        true
    }
}

async fn store(cache: &Cache, url: &str, bytes: &[u8]) {
    let body = Uint8Array::from(bytes);
    let init = web_sys::ResponseInit::new();
    if let Ok(headers) = web_sys::Headers::new() {
        let _ = headers.set(SIZE_HEADER, &bytes.len().to_string());
        init.set_headers(&headers);
    }
    if let Ok(response) = Response::new_with_opt_buffer_source_and_init(Some(&body), &init) {
        let _ = JsFuture::from(cache.put_with_str(url, &response)).await;
    }
}

/// Why a body could not be read.
enum BodyError {
    TooLarge(f64),
    Js,
}

impl From<JsValue> for BodyError {
    fn from(_: JsValue) -> Self {
        Self::Js
    }
}

/// Reads a response body chunk by chunk, reporting progress.
async fn read_body(
    response: &Response,
    name: &str,
    progress: Progress<'_>,
) -> Result<Vec<u8>, BodyError> {
    let total = response
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.parse::<f64>().ok());
    // The server's length is a claim: checked before anything is reserved for it.
    if let Some(total) = total.filter(|&t| t > MAX_FILE_BYTES as f64) {
        return Err(BodyError::TooLarge(total));
    }
    let Some(body) = response.body() else {
        return Ok(Vec::new());
    };
    let reader: web_sys::ReadableStreamDefaultReader =
        body.get_reader().dyn_into().map_err(JsValue::from)?;
    let mut bytes = Vec::with_capacity(total.unwrap_or(0.0) as usize);
    progress(name, 0.0, total);
    loop {
        let chunk = JsFuture::from(reader.read()).await?;
        if Reflect::get(&chunk, &"done".into())?
            .as_bool()
            .unwrap_or(true)
        {
            break;
        }
        let value: Uint8Array = Reflect::get(&chunk, &"value".into())?.dyn_into()?;
        let start = bytes.len();
        if start + value.length() as usize > MAX_FILE_BYTES {
            let _ = reader.cancel();
            return Err(BodyError::TooLarge(
                (start + value.length() as usize) as f64,
            ));
        }
        bytes.resize(start + value.length() as usize, 0);
        value.copy_to(&mut bytes[start..]);
        progress(name, bytes.len() as f64, total);
    }
    Ok(bytes)
}

async fn read_file(file: &web_sys::File) -> Result<Vec<u8>, String> {
    if file.size() > MAX_FILE_BYTES as f64 {
        return Err(FetchError::TooLarge(file.name(), file.size() as u64).to_string());
    }
    JsFuture::from(file.array_buffer())
        .await
        .map(|buf| Uint8Array::new(&buf).to_vec())
        .map_err(|_| format!("could not read {}", file.name()))
}

/// The files a user picked or dropped, matched by name.
pub async fn from_local_files(files: &[web_sys::File]) -> Result<ModelFiles, String> {
    let find = |name: &str| files.iter().find(|f| f.name() == name);
    let text = |bytes: Vec<u8>, name: &str| {
        String::from_utf8(bytes).map_err(|_| format!("{name} is not UTF-8 text"))
    };
    let names: Vec<String> = files.iter().map(|f| f.name()).collect();
    let missing = |what: &str| {
        format!(
            "{what} is missing: pick config.json, model.safetensors and tokenizer.json (or vocab.txt) together (got: {})",
            names.join(", ")
        )
    };
    let config = find("config.json").ok_or_else(|| missing("config.json"))?;
    let weights = files
        .iter()
        .find(|f| f.name().ends_with(".safetensors"))
        .ok_or_else(|| missing("model.safetensors"))?;
    let mut out = ModelFiles {
        source: "local files".into(),
        config_json: text(read_file(config).await?, "config.json")?,
        weights: read_file(weights).await?,
        ..ModelFiles::default()
    };
    if let Some(tok) = find("tokenizer.json") {
        out.tokenizer_json = Some(read_file(tok).await?);
    } else if let Some(vocab) = find("vocab.txt") {
        out.vocab_txt = Some(text(read_file(vocab).await?, "vocab.txt")?);
        if let Some(cfg) = find("tokenizer_config.json") {
            out.tokenizer_config = Some(text(read_file(cfg).await?, "tokenizer_config.json")?);
        }
    } else {
        return Err(missing("tokenizer.json or vocab.txt"));
    }
    Ok(out)
}
