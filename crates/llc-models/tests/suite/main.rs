//! Integration tests of llc-models, in one binary so that burn is linked once.

mod common;
mod data;
mod dln;
mod errors;
mod mlp;
mod rescale;
mod teacher;
mod train;
