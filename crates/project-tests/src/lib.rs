//! No code: this crate only carries the project's own tests, those of no
//! lab in particular (`tests/sheets.rs`: the lab sheets replayed;
//! `tests/workshop.rs`: a student's workshop never turns `make test` red;
//! `tests/rules.rs`: `unsafe` forbidden in every crate).
