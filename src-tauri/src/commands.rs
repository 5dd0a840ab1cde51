//! IPC commands: each one hands its request to the session and returns the
//! result. Behaviour lives in `countersign-api`, where it is tested headless.

use countersign_api::contract::{AppInfo, ChangeRequestDetail, ChangeRequestRef, Queue};
use countersign_api::{ApiError, Session};
use tauri::State;

#[tauri::command]
pub fn app_info(session: State<'_, Session>) -> AppInfo {
    session.app_info()
}

#[tauri::command]
pub async fn load_queue(session: State<'_, Session>) -> Result<Queue, ApiError> {
    session.load_queue().await
}

#[tauri::command]
pub async fn open_change_request(
    session: State<'_, Session>,
    request: ChangeRequestRef,
) -> Result<ChangeRequestDetail, ApiError> {
    session.open_change_request(request).await
}
