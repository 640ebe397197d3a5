//! HTTP: the browser's way in.
//!
//! - [`session`]: signing in with a token at `/login`; the session cookie.
//! - [`viewer`]: the OHIF viewer at `/viewer`.

pub mod session;
pub mod viewer;
