//! kubetwin topologies (being written)
