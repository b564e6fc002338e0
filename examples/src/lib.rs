//! Runnable examples of kubetwin's libraries, one per kind of user. Each is a small binary with
//! clap arguments and a fixed default seed; `examples/tests/run_examples.rs` runs every one at a
//! small size so they cannot rot.
//!
//! | binary | user | what it shows |
//! |---|---|---|
//! | `thesis` | validation run | the 2019 testbed against its measured cells, as `kubetwin validate` does |
//! | `latency_sweep` | researcher | start-up over a grid of pods and added delay, with 95 % intervals, as CSV |
//! | `fault_drill` | planner | a master, the load balancer and the etcd leader failing: detection and failover times |
//!
//! Run one with `cargo run --release -p kubetwin-examples --bin fault_drill`. The command-line
//! equivalents (sweeps with plots, the 32-site consortium plan, the Indexed Job) are in the
//! README and in `examples/consortium-32/` and `examples/k8s/`.
