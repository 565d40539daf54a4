//! Rules of the workspace the compiler holds only if every crate asks it
//! to: `unsafe` is forbidden in every crate (the workspace's lints, which a
//! crate inherits with `[lints] workspace = true`), except in `netlabs`,
//! whose `sys` module is the one place allowed (its own lints and `lib.rs`
//! say how).

use std::path::Path;

#[test]
fn every_crate_but_netlabs_inherits_the_workspace_lints() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let workspace = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    assert!(
        workspace.contains("[workspace.lints.rust]\nunsafe_code = \"forbid\""),
        "the workspace no longer forbids unsafe"
    );
    let mut crates = 0;
    for entry in std::fs::read_dir(root.join("crates")).unwrap() {
        let dir = entry.unwrap().path();
        let Ok(manifest) = std::fs::read_to_string(dir.join("Cargo.toml")) else {
            continue;
        };
        crates += 1;
        let name = dir.file_name().unwrap().to_string_lossy();
        if name == "netlabs" {
            assert!(
                manifest.contains("[lints.rust]\nunsafe_code = \"deny\""),
                "netlabs must deny unsafe at its root"
            );
        } else {
            assert!(
                manifest.contains("[lints]\nworkspace = true"),
                "crates/{name} does not inherit the workspace's lints"
            );
        }
    }
    assert!(crates >= 10, "only {crates} crates found");
}
