//! kubetwin models (being written)
