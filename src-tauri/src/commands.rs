//! IPC commands: each one hands its request to the session and returns the
//! result. Behaviour lives in `countersign-api`, where it is tested headless.

use countersign_api::contract::{
    AddSigner, AppInfo, AuditFilter, AuditTrail, ChangeRequestDetail, ChangeRequestRef,
    EnrolRequest, Enrolment, Outbox, PolicyCheck, PolicyDraft, PolicyText, ProposePolicy,
    ProposedPolicy, PushOutcome, Queue, RepoRef, Review, SignRequest, SignatureDraft,
    SignaturePreview, SignedRecord, SignerStatus,
};
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

#[tauri::command]
pub async fn review_change_request(
    session: State<'_, Session>,
    request: ChangeRequestRef,
) -> Result<Review, ApiError> {
    session.review_change_request(request).await
}

#[tauri::command]
pub async fn signer_status(session: State<'_, Session>) -> Result<SignerStatus, ApiError> {
    session.signer_status().await
}

#[tauri::command]
pub async fn enrol(
    session: State<'_, Session>,
    request: EnrolRequest,
) -> Result<Enrolment, ApiError> {
    session.enrol(request).await
}

#[tauri::command]
pub async fn preview_signature(
    session: State<'_, Session>,
    request: SignatureDraft,
) -> Result<SignaturePreview, ApiError> {
    session.preview_signature(request).await
}

/// Signs only when the password in `request` re-authenticates the signer for
/// this very record; the webview cannot sign on its own.
#[tauri::command]
pub async fn sign_change_request(
    session: State<'_, Session>,
    request: SignRequest,
) -> Result<SignedRecord, ApiError> {
    session.sign_change_request(request).await
}

#[tauri::command]
pub fn audit_trail(
    session: State<'_, Session>,
    request: AuditFilter,
) -> Result<AuditTrail, ApiError> {
    session.audit_trail(request)
}

#[tauri::command]
pub fn outbox(session: State<'_, Session>) -> Result<Outbox, ApiError> {
    session.outbox()
}

#[tauri::command]
pub async fn push_outbox(session: State<'_, Session>) -> Result<PushOutcome, ApiError> {
    session.push_outbox().await
}

#[tauri::command]
pub async fn admin_policy(
    session: State<'_, Session>,
    request: RepoRef,
) -> Result<PolicyDraft, ApiError> {
    session.admin_policy(request).await
}

#[tauri::command]
pub fn check_policy(session: State<'_, Session>, request: PolicyText) -> PolicyCheck {
    session.check_policy(request)
}

#[tauri::command]
pub fn add_signer(
    session: State<'_, Session>,
    request: AddSigner,
) -> Result<PolicyCheck, ApiError> {
    session.add_signer(request)
}

#[tauri::command]
pub async fn propose_policy(
    session: State<'_, Session>,
    request: ProposePolicy,
) -> Result<ProposedPolicy, ApiError> {
    session.propose_policy(request).await
}
