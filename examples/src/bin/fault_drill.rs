//! Planner: what fails, and for how long, when a master, the load balancer or the etcd leader
//! goes down while a Deployment scales up on the thesis testbed.
//!
//! For each drill it prints when HAProxy noticed, when etcd committed no write (its elections
//! simulated message by message), when each client
//! reconnected, and whether (and when) every pod ran.

use clap::Parser;
use models::spec::Fault;
use models::units::Dur;

/// Fault drills on the thesis testbed.
#[derive(Debug, Parser)]
struct Args {
    /// Pods to start.
    #[arg(long, default_value_t = 20)]
    pods: u32,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    let (base, _) = topologies::params::resolve("thesis-2019", None)?;
    let drills = [
        ("no fault", vec![]),
        (
            "master02 crashes at 5 s",
            vec![Fault::Crash {
                host: "master02".into(),
                at: Dur::secs(5),
                repair: None,
            }],
        ),
        (
            "the load balancer is down from 5 s to 60 s",
            vec![Fault::Crash {
                host: "lb".into(),
                at: Dur::secs(5),
                repair: Some(Dur::secs(60)),
            }],
        ),
        (
            "the etcd leader's member dies at 5 s, repaired at 45 s",
            vec![Fault::CrashEtcdLeader {
                at: Dur::secs(5),
                repair: Some(Dur::secs(45)),
            }],
        ),
    ];
    for (name, faults) in drills {
        let mut s = models::cluster::with_overrides(&base, Some(a.pods), None);
        s.faults = faults;
        let out = models::cluster::run(&s, a.seed, false)?;
        println!("== {name}");
        match out.startup_exact_s {
            Some(t) => println!("   all {} pods Running after {t:.1} s", a.pods),
            None => println!("   the pods did NOT all run within the timeout"),
        }
        for f in &out.faults {
            if let Some(d) = f.haproxy_marked_down_s {
                println!("   HAProxy marked the server down {:.1} s after the crash", d - f.at_s);
            }
            if let (Some(a), Some(b)) = (f.etcd_stall_from_s, f.etcd_leader_back_s) {
                println!("   etcd committed no write from {a:.1} s to {b:.1} s");
            }
            for fo in &f.failovers {
                let (client, to) = (&fo.client, &fo.apiserver);
                println!(
                    "   {client} reconnected to {to} {:.1} s after the crash",
                    fo.at_s - f.at_s
                );
            }
            println!("   pods created during the fault: {}", f.pods_created_during);
        }
        if let Some(e) = &out.etcd {
            println!(
                "   etcd (simulated): {} leaders elected after the first, writes stalled {:.1} s",
                e.elections, e.stalled_s
            );
        }
    }
    Ok(())
}
