//! Loading: clear errors for what cannot load, damaged Cache API entries fetched
//! again, model locations parsed.

use super::*;

#[wasm_bindgen_test]
async fn load_errors_are_clear() {
    let cpu = backend::cpu(None);
    let mut files = fixture_files();
    // A config of another family beside BERT's weights, and a family this page does not load.
    files.config_json = CONFIG.replace("\"bert\"", "\"roberta\"");
    let e = Session::load(&files, &cpu).err().unwrap();
    assert!(
        e.contains("model_type `roberta`") && e.contains("named as a `bert` checkpoint's"),
        "{e}"
    );
    files.config_json = CONFIG.replace("\"bert\"", "\"gpt2\"");
    let e = Session::load(&files, &cpu).err().unwrap();
    assert!(
        e.contains("gpt2") && e.contains("supported: bert, roberta"),
        "{e}"
    );

    let mut files = fixture_files();
    files.weights = bert_burn::checkpoint::write_safetensors(&[]).unwrap();
    let e = Session::load(&files, &cpu).err().unwrap();
    assert!(
        e.contains("not a `bert` masked-LM checkpoint") && e.contains("word_embeddings"),
        "{e}"
    );

    let mut files = fixture_files();
    files.tokenizer_json = None;
    assert!(
        Session::load(&files, &cpu)
            .err()
            .unwrap()
            .contains("no tokenizer.json or vocab.txt")
    );

    // Too large: a config whose weights could not fit the page or the GPU's buffers.
    let mut big = BertConfig::from_json(CONFIG).unwrap();
    big.vocab_size = 2_000_000;
    big.hidden_size = 1024;
    big.num_attention_heads = 16;
    let e = check_fits(&big, &cpu.info).err().unwrap();
    assert!(e.contains("too large for the browser"), "{e}");
    let mut gpu_info = cpu.info.clone();
    gpu_info.max_binding_bytes = Some(128 << 20);
    big.vocab_size = 50_000;
    let e = check_fits(&big, &gpu_info).err().unwrap();
    assert!(e.contains("too large for this GPU"), "{e}");

    // 404 from the test server, and a request that never gets an answer.
    let missing = fetch_bytes("no-such-model/config.json", &|_, _, _| {})
        .await
        .err()
        .unwrap();
    assert!(matches!(missing, FetchError::NotFound(_)), "{missing}");
    assert!(missing.to_string().contains("404"));
    let refused = fetch_bytes("http://127.0.0.1:9/config.json", &|_, _, _| {})
        .await
        .err()
        .unwrap();
    assert!(matches!(refused, FetchError::Network(_)), "{refused}");
    assert!(refused.to_string().contains("CORS"));
}

/// Puts `body` into the page's model cache under `url`, with `size` in the length header.
async fn put_cached(url: &str, body: &[u8], size: Option<usize>) {
    let caches = bert_web::global_scope::caches().expect("the Cache API");
    let cache: web_sys::Cache = wasm_bindgen_futures::JsFuture::from(caches.open(CACHE_NAME))
        .await
        .unwrap()
        .dyn_into()
        .unwrap();
    let init = web_sys::ResponseInit::new();
    let headers = web_sys::Headers::new().unwrap();
    if let Some(size) = size {
        headers.set(SIZE_HEADER, &size.to_string()).unwrap();
    }
    init.set_headers(&headers);
    let body = js_sys::Uint8Array::from(body);
    let response =
        web_sys::Response::new_with_opt_buffer_source_and_init(Some(&body), &init).unwrap();
    wasm_bindgen_futures::JsFuture::from(cache.put_with_str(url, &response))
        .await
        .unwrap();
}

async fn is_cached(url: &str) -> bool {
    let caches = bert_web::global_scope::caches().unwrap();
    let hit = wasm_bindgen_futures::JsFuture::from(caches.match_with_str(url))
        .await
        .unwrap();
    !hit.is_undefined()
}

/// A cached remote file is used only when whole: stored with its length and parsing as what
/// its name says. A damaged entry (cut short, not JSON, no length) is deleted and the file
/// fetched again — here from a host that does not exist, so the fetch fails instead.
#[wasm_bindgen_test]
async fn damaged_cache_entries_are_dropped_and_fetched_again() {
    let base = "https://no-such-host.invalid/bert";
    let good = format!("{base}/good/config.json");
    put_cached(&good, CONFIG.as_bytes(), Some(CONFIG.len())).await;
    let bytes = fetch_bytes(&good, &|_, _, _| {}).await.unwrap();
    assert_eq!(
        bytes,
        CONFIG.as_bytes(),
        "a whole entry is served from the cache"
    );

    let short = &CONFIG.as_bytes()[..100];
    for (name, body, size) in [
        ("cut-short", short, Some(CONFIG.len())),
        ("not-json", &b"{\"vocab_size\": 3"[..], Some(16)),
        ("no-length", CONFIG.as_bytes(), None),
        ("bad-header", &WEIGHTS[..4096], Some(4096)),
    ] {
        let file = if name == "bad-header" {
            "model.safetensors"
        } else {
            "config.json"
        };
        let url = format!("{base}/{name}/{file}");
        put_cached(&url, body, size).await;
        assert!(is_cached(&url).await);
        let err = fetch_bytes(&url, &|_, _, _| {}).await.err();
        assert!(
            matches!(err, Some(FetchError::Network(_))),
            "{name}: the damaged entry was used: {err:?}"
        );
        assert!(
            !is_cached(&url).await,
            "{name}: the damaged entry is still cached"
        );
    }
}

#[wasm_bindgen_test]
fn model_locations_parse() {
    assert_eq!(
        Location::parse("bert-base-uncased")
            .unwrap()
            .file_url("config.json"),
        "https://huggingface.co/bert-base-uncased/resolve/main/config.json"
    );
    assert_eq!(
        Location::parse("google/bert_uncased_L-2_H-128_A-2@v1.0")
            .unwrap()
            .file_url("model.safetensors"),
        "https://huggingface.co/google/bert_uncased_L-2_H-128_A-2/resolve/v1.0/model.safetensors"
    );
    assert_eq!(
        Location::parse("./models/mine")
            .unwrap()
            .file_url("vocab.txt"),
        "./models/mine/vocab.txt"
    );
    assert_eq!(
        Location::parse("https://example.org/m/")
            .unwrap()
            .file_url("config.json"),
        "https://example.org/m/config.json"
    );
    assert!(Location::parse("").is_err());
    assert!(
        Location::parse("a/b/c")
            .err()
            .unwrap()
            .contains("not a Hub model id")
    );
    assert!(Location::parse("bad id!").is_err());
}
