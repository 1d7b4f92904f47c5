//! The core: what every model in the book is built from.

pub mod autograd;
pub mod init;
pub mod linalg;
pub mod optim;
pub mod rng;
pub mod tensor;
pub mod tolerance;
