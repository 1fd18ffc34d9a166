//! Reading a text corpus from disk (native builds): which files, and their lines
//! interleaved in blocks, so that text stays coherent within a sequence while
//! consecutive sequences come from different books.

use std::fs::File;
use std::io::{BufRead, BufReader, Lines};
use std::path::{Path, PathBuf};

use crate::error::{BertError, Result};

/// The text files of a corpus: `path` itself if it is a file; in a directory, the
/// `train*.txt` shards if there are any (so a `valid.txt` beside them stays unseen),
/// otherwise every `*.txt`, in name order.
pub fn corpus_files(path: &Path) -> Result<Vec<PathBuf>> {
    let meta = std::fs::metadata(path)
        .map_err(|e| BertError::io(format!("corpus {}", path.display()), e))?;
    if meta.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let entries = std::fs::read_dir(path)
        .map_err(|e| BertError::io(format!("cannot list {}", path.display()), e))?;
    let mut txt: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "txt"))
        .collect();
    txt.sort();
    let is_train = |p: &PathBuf| {
        p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("train"))
    };
    let train: Vec<PathBuf> = txt.iter().filter(|p| is_train(p)).cloned().collect();
    let files = if train.is_empty() { txt } else { train };
    if files.is_empty() {
        return Err(BertError::Input(format!(
            "corpus directory {} has no .txt files (expected train-*.txt, one paragraph per line)",
            path.display()
        )));
    }
    Ok(files)
}

/// Total size in bytes of `files`.
pub fn corpus_bytes(files: &[PathBuf]) -> u64 {
    files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum()
}

/// Bytes read from one file before the next takes its turn: about eight 128-token
/// sequences, so a sequence holds neighbouring paragraphs of one book rather than
/// single lines of many.
const BLOCK_BYTES: usize = 4096;

/// Lines of several files, a block from each in turn; optionally starting over when all
/// are exhausted (epochs). An epoch that yields no text ends the stream.
pub struct InterleavedLines {
    files: Vec<PathBuf>,
    open: Vec<(PathBuf, Lines<BufReader<File>>)>,
    turn: usize,
    block_read: usize,
    cycle: bool,
    lines_this_epoch: u64,
    /// Completed passes over the corpus.
    pub epochs: u64,
    started: bool,
}

impl InterleavedLines {
    pub fn new(files: Vec<PathBuf>, cycle: bool) -> Self {
        Self {
            files,
            open: Vec::new(),
            turn: 0,
            block_read: 0,
            cycle,
            lines_this_epoch: 0,
            epochs: 0,
            started: false,
        }
    }

    fn open_all(&mut self) -> Result<()> {
        self.open.clear();
        for f in &self.files {
            let file = File::open(f)
                .map_err(|e| BertError::io(format!("cannot open {}", f.display()), e))?;
            self.open
                .push((f.clone(), BufReader::with_capacity(1 << 20, file).lines()));
        }
        self.turn = 0;
        self.block_read = 0;
        self.lines_this_epoch = 0;
        Ok(())
    }
}

impl Iterator for InterleavedLines {
    type Item = Result<String>;

    fn next(&mut self) -> Option<Self::Item> {
        if !self.started {
            self.started = true;
            if let Err(e) = self.open_all() {
                return Some(Err(e));
            }
        }
        loop {
            if self.open.is_empty() {
                if !self.cycle || self.lines_this_epoch == 0 {
                    return None;
                }
                self.epochs += 1;
                if let Err(e) = self.open_all() {
                    return Some(Err(e));
                }
                continue;
            }
            let i = self.turn % self.open.len();
            match self.open[i].1.next() {
                Some(Ok(line)) => {
                    self.block_read += line.len() + 1;
                    if self.block_read >= BLOCK_BYTES {
                        self.block_read = 0;
                        self.turn = i + 1;
                    } else {
                        self.turn = i;
                    }
                    // Blank lines don't count: a corpus of only blank lines must end, not cycle forever.
                    self.lines_this_epoch += u64::from(!line.trim().is_empty());
                    return Some(Ok(line));
                }
                Some(Err(e)) => {
                    let name = self.open[i].0.display().to_string();
                    return Some(Err(BertError::io(format!("cannot read {name}"), e)));
                }
                None => {
                    // This file is done; the next one takes its turn.
                    self.open.remove(i);
                    self.turn = i;
                    self.block_read = 0;
                }
            }
        }
    }
}
