//! The counting methods.

pub mod irv;
pub mod stv;
