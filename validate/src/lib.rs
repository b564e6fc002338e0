//! kubetwin's validation crate: measured data sets and measuring a real cluster through kubectl.
//!
//! * [`atomic_file`] writes every output file whole or not at all.
//! * [`dataset`] reads and writes the measured-data CSV files: the per-cell summary (the schema of the
//!   thesis' `pod-startup-calibration.csv`) and the raw per-pod rows, and summarizes the latter.
//! * [`kubectl`] runs the `kubectl` binary behind a trait and parses what it prints.
//! * [`measure`] measures pod start-up on a live cluster and always cleans up the namespaces it created.
//! * [`compare`] and [`phases`] set the simulation against the measurements, per cell and per phase;
//!   [`calibrate`] fits the model's unknown parameters to them.
//!
//! Each module has its own error enum, so callers can match on variants; [`Error`] gathers them for
//! callers that only propagate.

#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]
#![deny(unsafe_code)]

pub mod atomic_file;
pub mod calibrate;
pub mod compare;
pub mod dataset;
pub mod kubectl;
pub mod measure;
pub mod phases;
pub mod uncertainty;

/// Any error of this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading, writing or summarizing a data set.
    #[error(transparent)]
    Dataset(#[from] dataset::DatasetError),
    /// Running kubectl or reading its output.
    #[error(transparent)]
    Kubectl(#[from] kubectl::KubectlError),
    /// A measurement on a live cluster.
    #[error(transparent)]
    Measure(#[from] measure::MeasureError),
    /// A calibration.
    #[error(transparent)]
    Calibrate(#[from] calibrate::CalibrateError),
}
