//! The Pesto server and client (seed `pesto-twisted-client-server.txt`),
//! run as a student runs them.

mod util;
