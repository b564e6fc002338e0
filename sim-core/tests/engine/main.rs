//! Integration tests of the engine, one module per concern.
