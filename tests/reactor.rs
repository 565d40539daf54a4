//! The reactor's servers (`twisted-echo`, `obstinate-server`) run as a
//! student runs them, with real sockets.

mod util;
