//! The session the window works with. It is opened off the main thread, so
//! that WebKit loads the page while the forge client, the ledger and the
//! keychain are being set up; commands wait for it. Saving the forge
//! settings replaces it in place, so a new account or forge takes effect
//! without a restart.

use std::path::PathBuf;
use std::sync::Arc;

use countersign_api::links::LinkOpener;
use countersign_api::ErrorCode;
use countersign_api::{ApiError, Session};
use tokio::sync::watch;

type Opened = Option<Result<Arc<Session>, ApiError>>;

pub struct Shell {
    current: watch::Sender<Opened>,
    data_dir: PathBuf,
    /// Opens links in the system browser; given to every session.
    opener: LinkOpener,
    /// A launch link that came before the session opened.
    pending_link: std::sync::Mutex<Option<String>>,
}

impl Shell {
    /// A shell whose session is still opening; see [`Shell::opened`].
    pub fn opening(data_dir: PathBuf, opener: LinkOpener) -> Self {
        Self {
            current: watch::Sender::new(None),
            data_dir,
            opener,
            pending_link: Default::default(),
        }
    }

    /// The session has opened, or could not: commands waiting for it go on.
    pub fn opened(&self, session: Result<Session, ApiError>) {
        if let Ok(s) = &session {
            s.set_link_opener(self.opener.clone());
            // The queue is what the window asks for first; fetching it now
            // overlaps the forge's latency with WebKit's start-up.
            s.prefetch_queue();
        }
        // Held across the hand-over, so that a link arriving meanwhile is
        // either kept here and passed on, or given to the open session.
        let mut pending = self.pending_link.lock().expect("link lock");
        if let (Ok(s), Some(link)) = (&session, pending.take()) {
            s.request_change(&link);
        }
        self.current.send_replace(Some(session.map(Arc::new)));
    }

    /// The session, once it has opened; its error if it could not.
    pub async fn session(&self) -> Result<Arc<Session>, ApiError> {
        let mut opened = self.current.subscribe();
        let state = opened
            .wait_for(Option::is_some)
            .await
            .map_err(|_| ApiError::new(ErrorCode::Internal, "the session was dropped"))?;
        state.clone().expect("waited for Some")
    }

    /// The session if it is open now, without waiting (for callbacks that
    /// run outside the async runtime).
    pub fn open_session(&self) -> Option<Arc<Session>> {
        match self.current.borrow().as_ref() {
            Some(Ok(s)) => Some(s.clone()),
            _ => None,
        }
    }

    /// A launch link (this launch's, or a later launch's handed over): for
    /// the session, or kept until it opens.
    pub fn request_change(&self, link: &str) {
        let mut pending = self.pending_link.lock().expect("link lock");
        match self.open_session() {
            Some(s) => s.request_change(link),
            None => *pending = Some(link.to_owned()),
        }
    }

    /// Connect to the forge the saved settings name; the old session stays on error.
    pub async fn restart(&self) -> Result<(), ApiError> {
        let next = Session::from_settings(self.data_dir.clone()).await?;
        next.set_link_opener(self.opener.clone());
        self.current.send_replace(Some(Ok(Arc::new(next))));
        Ok(())
    }
}
