//! Chapitre 2.2: prime servers and clients (being written).

mod util;
