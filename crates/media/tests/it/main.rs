//! Extraction over the real fixture files in `../shared/fixtures/media`.

mod fixtures;
mod hostile;
