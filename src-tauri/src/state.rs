//! What every command runs with: the use-case layer, opened once at start-up.

use std::sync::Arc;

/// The app's use cases; managed by Tauri, handed to each command as `State<'_, Shared>`.
pub type Shared = Arc<ota_app::App>;
