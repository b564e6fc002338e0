use models::cluster::run;

use crate::fixture::cell;

#[test]
#[ignore]
fn explore_grid() {
    let placement = match std::env::var("PLACEMENT").as_deref() {
        Ok("both") => models::spec::NetemPlacement::Both,
        Ok("workers") => models::spec::NetemPlacement::WorkersEgress,
        _ => models::spec::NetemPlacement::MastersEgress,
    };
    for pods in [4, 20, 100] {
        for d in [100, 300, 500] {
            let mut sc = cell(pods, d);
            sc.netem.placement = placement;
            let out = run(&sc, 3, false).unwrap();
            let last = out
                .pods
                .iter()
                .max_by(|a, b| a.watched.partial_cmp(&b.watched).unwrap())
                .unwrap();
            eprintln!(
                "{pods:>3} pods {d:>3} ms: {:.2} s  last={:?}",
                out.startup_exact_s.unwrap(),
                last.watched
            );
            if std::env::var("WAITS").is_ok() {
                for w in &out.waits {
                    eprintln!("     {} {:.2} s / {}", w.name, w.total_s, w.count);
                }
            }
        }
    }
}

#[test]
#[ignore]
fn explore_faults() {
    for f in [
        models::spec::Fault::Crash {
            host: "master02".into(),
            at: models::units::Dur::secs(3),
            repair: None,
        },
        models::spec::Fault::Crash {
            host: "lb".into(),
            at: models::units::Dur::secs(2),
            repair: Some(models::units::Dur::secs(60)),
        },
        models::spec::Fault::CrashEtcdLeader {
            at: models::units::Dur::secs(1),
            repair: Some(models::units::Dur::secs(45)),
        },
    ] {
        let mut s = cell(20, 100);
        s.faults.push(f);
        let out = run(&s, 1, false).unwrap();
        eprintln!("{:#?}\nstartup {:?}", out.faults, out.startup_exact_s);
    }
}
