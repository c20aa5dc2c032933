use std::path::Path;

use serde::Serialize;

/// What a script needs to use the running system, written by `--credentials-out`.
#[derive(Serialize)]
pub struct Credentials {
    pub base_url: String,
    pub tenant_id: pm_domain::TenantId,
    /// A demo key with every scope, for `/api/v1` calls.
    pub api_key: String,
    /// A dashboard session (owner of the demo tenant), for key management.
    pub session_token: String,
    /// A one-time link that signs the demo tenant's owner in to the dashboard.
    pub sign_in_url: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("base_url", &self.base_url)
            .field("tenant_id", &self.tenant_id)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// Writes the file readable by its owner only: it holds a key and a session.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        let tmp = path.with_extension("tmp");
        let _ = std::fs::remove_file(&tmp);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        std::io::Write::write_all(&mut options.open(&tmp)?, text.as_bytes())?;
        // Rename, so a script polling for the file never reads half of it.
        std::fs::rename(&tmp, path)
    }
}
