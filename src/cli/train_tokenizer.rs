//! `bert train-tokenizer`: learn an uncased WordPiece vocabulary from a corpus.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use bert_burn::BertTokenizer;
use bert_burn::train::corpus::{InterleavedLines, corpus_bytes, corpus_files};
use bert_burn::train::wordpiece::{WordPieceOptions, train_wordpiece};

use super::progress::{Progress, duration};
use bert_burn::checkpoint::write_atomic;

#[derive(clap::Args)]
pub struct TrainTokenizerArgs {
    /// A text file, or a directory of them (its train*.txt if any, else every *.txt); one paragraph per line.
    #[arg(long)]
    pub corpus: PathBuf,
    /// Vocabulary size, the five special tokens included.
    #[arg(long, default_value_t = 8192)]
    pub vocab_size: usize,
    /// Pairs seen fewer times than this are never merged.
    #[arg(long, default_value_t = 2)]
    pub min_frequency: u64,
    /// Where to write tokenizer.json.
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(args: TrainTokenizerArgs) -> anyhow::Result<()> {
    let json = train(&args.corpus, args.vocab_size, args.min_frequency)?;
    if let Some(dir) = args.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    write_atomic(&args.out, json.as_bytes())?;
    let tok = BertTokenizer::from_json(json.as_bytes(), 512)?;
    eprintln!("wrote {} ({} tokens)", args.out.display(), tok.vocab_size());
    Ok(())
}

/// Trains on every line of the corpus, showing how much has been read.
pub fn train(
    corpus: &std::path::Path,
    vocab_size: usize,
    min_frequency: u64,
) -> anyhow::Result<String> {
    let files = corpus_files(corpus)?;
    let total = corpus_bytes(&files).max(1);
    eprintln!(
        "learning a {vocab_size}-token vocabulary from {} file(s), {:.1} MB",
        files.len(),
        total as f64 / 1e6
    );
    // Progress in kilobytes read.
    let progress = Progress::new(total.div_ceil(1000), 0, "kB read", 20_000);
    let start = Instant::now();
    let (mut read, mut lines, mut error) = (0u64, 0usize, None);
    let stream = InterleavedLines::new(files, false).map_while(|line| match line {
        Ok(l) => {
            read += l.len() as u64 + 1;
            lines += 1;
            if lines % 2000 == 0 {
                progress.update(read / 1000, format!("counting words, {lines} lines"));
            }
            Some(l)
        }
        Err(e) => {
            error = Some(e);
            None
        }
    });
    let options = WordPieceOptions {
        vocab_size,
        min_frequency,
        ..WordPieceOptions::default()
    };
    let json = train_wordpiece(stream, &options);
    progress.finish();
    if let Some(e) = error {
        return Err(e.into());
    }
    progress.message(&format!(
        "vocabulary learned from {lines} lines in {}",
        duration(start.elapsed())
    ));
    Ok(json?)
}
