//! One module per subcommand.

pub(crate) mod bench;
pub(crate) mod calibrate;
pub(crate) mod check;
pub(crate) mod generate;
pub(crate) mod measure;
pub(crate) mod merge;
pub(crate) mod plan;
pub(crate) mod plot;
pub(crate) mod reach;
pub(crate) mod run;
pub(crate) mod sweep;
pub(crate) mod validate;
