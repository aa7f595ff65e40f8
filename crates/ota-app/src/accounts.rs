//! Cloud accounts: list, add (signed in first unless told not to), remove. Secrets go to the OS keychain
//! only.

pub use ota_core::console::AddedAccount;

use crate::{Account, ApiError, App, NewAccount, Secret};

impl App {
    pub fn accounts(&self) -> Result<Vec<Account>, ApiError> {
        self.console.accounts()
    }

    /// Checks the form (base URL, plain http) before a secret is asked for, so a wrong URL is not found
    /// after typing a password.
    pub fn check_new_account(&self, new: &NewAccount) -> Result<(), ApiError> {
        ota_core::net::validate_account_url(new.cloud, &new.base_url, new.allow_http).map(|_| ())
    }

    /// Adds the account. With `verify` it is signed in with a fresh session first, and a refusal keeps
    /// nothing (no row, no keychain entry).
    pub async fn add_account(
        &self,
        new: &NewAccount,
        secret: Secret,
        verify: bool,
    ) -> Result<AddedAccount, ApiError> {
        self.console.add_account(new, secret, verify).await
    }

    /// Removes the account, its keychain entries and its cached devices.
    pub fn remove_account(&self, name: &str) -> Result<Account, ApiError> {
        self.console.remove_account(name)
    }
}
