//! OneNET (China Mobile): security-authentication tokens, wire types and the client.

pub mod client;
pub mod errors;
pub mod token;
pub mod wire;

pub use client::OnenetClient;
pub use token::{sign, Resource, TokenError, TokenMethod, TokenRequest};
