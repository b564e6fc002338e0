//! Integration tests of kubetwin-validate, one module per concern.
//!
//! The kubectl captures and the thesis data are read from `shared/` beside the repository checkout
//! (`../shared` from the workspace root), as CI lays it out.

#[cfg(unix)]
mod atomic_file;
mod captures;
mod datasets;
mod live;
mod measure_fake;
mod measure_watch;
#[cfg(unix)]
mod stand_in;
mod support;
