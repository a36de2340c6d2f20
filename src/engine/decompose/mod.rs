//! The decomposer (issue 13): a request turned into managers and agents by a model.

pub mod prompts;
