//! [`validate::atomic_file`]: what is replaced, what is written through, and what is left alone.

use std::fs;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;

use validate::atomic_file::{check_writable, is_temporary_name, write_atomic, write_atomic_set};

use crate::support::TempDir;

/// Names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn a_regular_file_is_replaced_and_keeps_its_permissions() {
    let dir = TempDir::new("atomic-mode");
    let path = dir.path().join("secret.toml");
    fs::write(&path, "old").unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    write_atomic(&path, b"new").unwrap();
    assert_eq!(fs::read_to_string(&path).unwrap(), "new");
    assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(names(dir.path()), ["secret.toml"], "no temporary file left");
}

#[test]
fn a_symbolic_link_is_followed_and_stays_a_link() {
    let dir = TempDir::new("atomic-link");
    let target = dir.path().join("target.toml");
    let link = dir.path().join("link.toml");
    fs::write(&target, "old").unwrap();
    std::os::unix::fs::symlink("target.toml", &link).unwrap();
    write_atomic(&link, b"new").unwrap();
    assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert_eq!(fs::read_to_string(&target).unwrap(), "new");
    // A link to a file not yet there creates that file.
    let dangling = dir.path().join("later.toml");
    std::os::unix::fs::symlink("made.toml", &dangling).unwrap();
    write_atomic(&dangling, b"made").unwrap();
    assert_eq!(fs::read_to_string(dir.path().join("made.toml")).unwrap(), "made");
    assert!(fs::symlink_metadata(&dangling).unwrap().file_type().is_symlink());
}

#[test]
fn a_fifo_is_written_through_not_replaced() {
    let dir = TempDir::new("atomic-fifo");
    let fifo = dir.path().join("fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("mkfifo is not available; skipping");
        return;
    }
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || fs::read_to_string(fifo).unwrap())
    };
    write_atomic(&fifo, b"through the pipe").unwrap();
    assert_eq!(reader.join().unwrap(), "through the pipe");
    assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
}

#[test]
fn a_directory_is_refused_and_left_alone() {
    let dir = TempDir::new("atomic-dir");
    let sub = dir.path().join("out");
    fs::create_dir(&sub).unwrap();
    let err = write_atomic(&sub, b"x").unwrap_err().to_string();
    assert!(err.contains("is a directory"), "{err}");
    assert!(sub.is_dir());
    assert_eq!(names(dir.path()), ["out"]);
}

#[test]
fn a_set_is_replaced_whole_or_not_at_all() {
    let dir = TempDir::new("atomic-set");
    let a = dir.path().join("plan.md");
    let b = dir.path().join("startup.svg");
    fs::write(&a, "old md").unwrap();
    fs::write(&b, "old svg").unwrap();
    // The second file cannot be written (its directory is missing): the first stays old too.
    let missing = dir.path().join("no/such/dir/startup.svg");
    let err = write_atomic_set(&[(&a, b"new md"), (&missing, b"new svg")]).unwrap_err();
    assert!(err.to_string().contains("no/such/dir"), "{err}");
    assert_eq!(fs::read_to_string(&a).unwrap(), "old md");
    assert_eq!(names(dir.path()), ["plan.md", "startup.svg"], "no temporary file left");
    write_atomic_set(&[(&a, b"new md"), (&b, b"new svg")]).unwrap();
    assert_eq!(fs::read_to_string(&a).unwrap(), "new md");
    assert_eq!(fs::read_to_string(&b).unwrap(), "new svg");
}

#[test]
fn a_temporary_file_left_by_a_killed_writer_is_recognised_and_never_reused() {
    let dir = TempDir::new("atomic-temp");
    let path = dir.path().join("cells.csv");
    // What the writer names its temporary files, as a killed process would leave one.
    let left = format!(".cells.csv.tmp-{}-0-0", std::process::id());
    fs::write(dir.path().join(&left), "partial").unwrap();
    assert!(is_temporary_name(&left));
    assert!(!is_temporary_name("cells.csv") && !is_temporary_name(".hidden.csv"));
    write_atomic(&path, b"whole").unwrap();
    assert_eq!(fs::read_to_string(&path).unwrap(), "whole");
    assert_eq!(
        fs::read_to_string(dir.path().join(&left)).unwrap(),
        "partial",
        "another writer's file is not touched"
    );
}

#[test]
fn a_writability_check_leaves_nothing_behind() {
    let dir = TempDir::new("atomic-check");
    check_writable(dir.path().join("params.toml")).unwrap();
    assert!(names(dir.path()).is_empty());
    fs::write(dir.path().join("old.toml"), "old").unwrap();
    check_writable(dir.path().join("old.toml")).unwrap();
    assert_eq!(fs::read_to_string(dir.path().join("old.toml")).unwrap(), "old");
    assert_eq!(names(dir.path()), ["old.toml"]);
    assert!(check_writable(dir.path()).is_err(), "a directory is no output file");
    assert!(check_writable(dir.path().join("no/such/dir/p.toml")).is_err());
}
