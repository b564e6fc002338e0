//! kubetwin validate (being written)
