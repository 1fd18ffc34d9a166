//! The BERT family beyond `bert`, against transformers: checkpoints made by
//! `scripts/make_family_fixtures.py` (random weights, each family's own tokenizer kind).

use super::check_model;

#[test]
fn roberta_matches_transformers() {
    check_model("family-roberta");
}

#[test]
fn xlm_roberta_matches_transformers() {
    check_model("family-xlm-roberta");
}

#[test]
fn camembert_matches_transformers() {
    check_model("family-camembert");
}

#[test]
fn distilbert_matches_transformers() {
    check_model("family-distilbert");
}

#[test]
fn albert_with_shared_layer_groups_matches_transformers() {
    check_model("family-albert");
}

#[test]
fn electra_generator_matches_transformers() {
    check_model("family-electra");
}
