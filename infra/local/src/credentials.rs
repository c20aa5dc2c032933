use std::path::Path;

use serde::Serialize;
use uuid::Uuid;

/// What a script needs to use the running system, written by `--credentials-out`.
#[derive(Debug, Serialize)]
pub struct Credentials {
    pub base_url: String,
    pub tenant_id: Uuid,
}

impl Credentials {
    /// Writes the file readable by its owner only, since later versions hold keys.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, text)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
        }
        // Rename, so a script polling for the file never reads half of it.
        std::fs::rename(&tmp, path)
    }
}
