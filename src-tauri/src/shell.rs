//! The session the window works with. Saving the forge settings replaces it
//! in place, so a new account or forge takes effect without a restart.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use countersign_api::{ApiError, Session};

pub struct Shell {
    current: RwLock<Arc<Session>>,
    data_dir: PathBuf,
}

impl Shell {
    pub fn new(session: Session, data_dir: PathBuf) -> Self {
        Self {
            current: RwLock::new(Arc::new(session)),
            data_dir,
        }
    }

    pub fn session(&self) -> Arc<Session> {
        self.current.read().expect("shell lock").clone()
    }

    /// Connect to the forge the saved settings name; the old session stays on error.
    pub async fn restart(&self) -> Result<(), ApiError> {
        let next = Session::from_settings(self.data_dir.clone()).await?;
        *self.current.write().expect("shell lock") = Arc::new(next);
        Ok(())
    }
}
