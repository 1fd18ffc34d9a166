//! A bad corpus or output directory fails with a clear error.

use super::*;

#[test]
fn bad_corpus_and_output_fail_with_clear_errors() {
    let (dir, tok) = corpus_with_tokenizer("errors");
    let out = dir.join("out");

    let missing = dir.join("no-such-dir");
    assert_clean_failure(
        &pretrain(&missing, &tok, &out, &["--steps", "1"]),
        "no-such-dir",
    );

    let no_txt = scratch("errors-no-txt");
    assert_clean_failure(
        &pretrain(&no_txt, &tok, &out, &["--steps", "1"]),
        "has no .txt files",
    );

    let empty = scratch("errors-empty");
    std::fs::write(empty.join("train-00.txt"), "\n\n   \n").unwrap();
    assert_clean_failure(
        &pretrain(&empty, &tok, &out, &["--steps", "1"]),
        "has no text",
    );
    assert_clean_failure(
        &bert(&[
            "train-tokenizer",
            "--corpus",
            empty.to_str().unwrap(),
            "--vocab-size",
            "100",
            "--out",
            out.join("t.json").to_str().unwrap(),
        ]),
        "no text",
    );

    // The output path is a file, so no directory can be made there.
    let file = dir.join("a-file");
    std::fs::write(&file, "x").unwrap();
    assert_clean_failure(
        &pretrain(&dir, &tok, &file.join("sub"), &["--steps", "1"]),
        "cannot create",
    );

    assert_clean_failure(
        &pretrain(
            &dir,
            &tok,
            &out,
            &["--steps", "1", "--resume", missing.to_str().unwrap()],
        ),
        "trainer_state.json",
    );
    assert_clean_failure(
        &bert(&[
            "eval",
            "--model",
            out.to_str().unwrap(),
            "--text",
            dir.join("nothing.txt").to_str().unwrap(),
        ]),
        "cannot read",
    );
}
