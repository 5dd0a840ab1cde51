//! IPC commands: each one hands its request to the session and returns the
//! result. Behaviour lives in `countersign-api`, where it is tested headless.
//! All are async: they wait for the session to open, and none of them holds
//! the main thread while the ledger or the keychain answers.

use countersign_api::contract::{
    AddSigner, AppInfo, AuditFilter, AuditTrail, ChangeRequestDetail, ChangeRequestRef,
    DeviceFlowRequest, DevicePoll, DeviceStart, EnrolRequest, Enrolment, Outbox, Person,
    PolicyCheck, PolicyDraft, PolicyText, ProposePolicy, ProposedPolicy, PushOutcome, Queue,
    RepoRef, Review, SecurityKeyRequest, SettingsView, SignRequest, SignatureDraft,
    SignaturePreview, SignedRecord, SignerStatus, SyncOutcome, TokenRequest,
};
use countersign_api::settings::ForgeSettings;
use countersign_api::ApiError;

use crate::shell::Shell;
use tauri::State;

#[tauri::command]
pub async fn app_info(shell: State<'_, Shell>) -> Result<AppInfo, ApiError> {
    Ok(shell.session().await?.app_info())
}

#[tauri::command]
pub async fn load_queue(shell: State<'_, Shell>) -> Result<Queue, ApiError> {
    shell.session().await?.load_queue().await
}

#[tauri::command]
pub async fn open_change_request(
    shell: State<'_, Shell>,
    request: ChangeRequestRef,
) -> Result<ChangeRequestDetail, ApiError> {
    shell.session().await?.open_change_request(request).await
}

#[tauri::command]
pub async fn review_change_request(
    shell: State<'_, Shell>,
    request: ChangeRequestRef,
) -> Result<Review, ApiError> {
    shell.session().await?.review_change_request(request).await
}

#[tauri::command]
pub async fn signer_status(shell: State<'_, Shell>) -> Result<SignerStatus, ApiError> {
    shell.session().await?.signer_status().await
}

#[tauri::command]
pub async fn enrol(shell: State<'_, Shell>, request: EnrolRequest) -> Result<Enrolment, ApiError> {
    shell.session().await?.enrol(request).await
}

#[tauri::command]
pub async fn preview_signature(
    shell: State<'_, Shell>,
    request: SignatureDraft,
) -> Result<SignaturePreview, ApiError> {
    shell.session().await?.preview_signature(request).await
}

/// Signs only when the password in `request` re-authenticates the signer for
/// this very record; the webview cannot sign on its own.
#[tauri::command]
pub async fn sign_change_request(
    shell: State<'_, Shell>,
    request: SignRequest,
) -> Result<SignedRecord, ApiError> {
    shell.session().await?.sign_change_request(request).await
}

#[tauri::command]
pub async fn audit_trail(
    shell: State<'_, Shell>,
    request: AuditFilter,
) -> Result<AuditTrail, ApiError> {
    shell.session().await?.audit_trail(request)
}

#[tauri::command]
pub async fn outbox(shell: State<'_, Shell>) -> Result<Outbox, ApiError> {
    shell.session().await?.outbox()
}

#[tauri::command]
pub async fn push_outbox(shell: State<'_, Shell>) -> Result<PushOutcome, ApiError> {
    shell.session().await?.push_outbox().await
}

#[tauri::command]
pub async fn admin_policy(
    shell: State<'_, Shell>,
    request: RepoRef,
) -> Result<PolicyDraft, ApiError> {
    shell.session().await?.admin_policy(request).await
}

#[tauri::command]
pub async fn check_policy(
    shell: State<'_, Shell>,
    request: PolicyText,
) -> Result<PolicyCheck, ApiError> {
    Ok(shell.session().await?.check_policy(request))
}

#[tauri::command]
pub async fn add_signer(
    shell: State<'_, Shell>,
    request: AddSigner,
) -> Result<PolicyCheck, ApiError> {
    shell.session().await?.add_signer(request)
}

#[tauri::command]
pub async fn propose_policy(
    shell: State<'_, Shell>,
    request: ProposePolicy,
) -> Result<ProposedPolicy, ApiError> {
    shell.session().await?.propose_policy(request).await
}

#[tauri::command]
pub async fn settings(shell: State<'_, Shell>) -> Result<SettingsView, ApiError> {
    shell.session().await?.settings()
}

/// Saves, then reconnects the window to the forge the settings name.
#[tauri::command]
pub async fn save_settings(
    shell: State<'_, Shell>,
    request: ForgeSettings,
) -> Result<SettingsView, ApiError> {
    shell.session().await?.save_settings(request)?;
    shell.restart().await?;
    shell.session().await?.settings()
}

#[tauri::command]
pub async fn store_token(
    shell: State<'_, Shell>,
    request: TokenRequest,
) -> Result<Person, ApiError> {
    shell.session().await?.store_token(request).await
}

#[tauri::command]
pub async fn start_device_flow(
    shell: State<'_, Shell>,
    request: DeviceFlowRequest,
) -> Result<DeviceStart, ApiError> {
    shell.session().await?.start_device_flow(request).await
}

#[tauri::command]
pub async fn poll_device_flow(shell: State<'_, Shell>) -> Result<DevicePoll, ApiError> {
    shell.session().await?.poll_device_flow().await
}

#[tauri::command]
pub async fn sync_offline(shell: State<'_, Shell>) -> Result<SyncOutcome, ApiError> {
    shell.session().await?.sync_offline().await
}

#[tauri::command]
pub async fn register_security_key(
    shell: State<'_, Shell>,
    request: SecurityKeyRequest,
) -> Result<SignerStatus, ApiError> {
    shell.session().await?.register_security_key(request).await
}
