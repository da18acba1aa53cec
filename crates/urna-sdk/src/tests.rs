//! Unit tests of everything that needs no server: a fixture election with real keys
//! and an in-memory board stands in for what the services would send.

mod choices;
mod fixture;
mod genesis;
mod receipts;
mod styles;
