// The IPC commands, declared once. Everything else is derived from this list:
// the TypeScript `Commands` map (`contract::typescript`), the desktop shell's
// command functions and handler (`src-tauri/src/commands.rs`), the
// permissions `src-tauri/build.rs` generates and the capability granting them
// (`src-tauri/capabilities/default.json`, written by the build and committed).
// `tests/tests/ipc_surface.rs` checks that they all agree.
//
// Adding a line is a security review: the command's input comes from the
// webview, which renders attacker-controlled forge text, so the use case must
// treat it as hostile.
//
// Each line is `name(Request) => Response;`, or `name => Response;` when the
// command takes nothing. `name` is also the `Session` method that answers it:
// `async fn name(&self[, request: Request]) -> Result<Response, ApiError>`.
// `[reconnects]` asks the shell to reopen the session on the saved settings
// afterwards.
//
// This file is plain macro text so that `src-tauri/build.rs` can `include!`
// it without depending on this crate.

/// Calls `$then! { name(Request) => Response; … }` with every IPC command.
#[macro_export]
macro_rules! for_each_command {
    ($then:ident) => {
        $then! {
            app_info => $crate::contract::AppInfo;
            load_queue => $crate::contract::Queue;
            requested_change => $crate::contract::RequestedChange;
            next_requested_change => $crate::contract::RequestedChange;
            open_change_request($crate::contract::ChangeRequestRef) => $crate::contract::ChangeRequestDetail;
            open_change($crate::contract::ChangeRequestRef) => $crate::contract::ChangeRequestDetail;
            diff_files($crate::contract::DiffPage) => $crate::contract::DiffFiles;
            open_link($crate::contract::LinkRequest) => $crate::contract::LinkOpened;
            review_change_request($crate::contract::ChangeRequestRef) => $crate::contract::Review;
            write_dossier($crate::contract::ChangeRequestRef) => $crate::contract::DossierWritten;
            signer_status => $crate::contract::SignerStatus;
            enrol($crate::contract::EnrolRequest) => $crate::contract::Enrolment;
            change_password($crate::contract::PasswordChange) => $crate::contract::SignerStatus;
            preview_signature($crate::contract::SignatureDraft) => $crate::contract::SignaturePreview;
            sign_change_request($crate::contract::SignRequest) => $crate::contract::SignedRecord;
            audit_trail($crate::contract::AuditFilter) => $crate::contract::AuditTrail;
            outbox => $crate::contract::Outbox;
            push_outbox => $crate::contract::PushOutcome;
            admin_policy($crate::contract::RepoRef) => $crate::contract::PolicyDraft;
            check_policy($crate::contract::PolicyText) => $crate::contract::PolicyCheck;
            add_signer($crate::contract::AddSigner) => $crate::contract::PolicyCheck;
            propose_policy($crate::contract::ProposePolicy) => $crate::contract::ProposedPolicy;
            revoke_key($crate::contract::RevokeKey) => $crate::contract::KeyChange;
            rotate_key($crate::contract::RotateKey) => $crate::contract::KeyChange;
            authorize_reset($crate::contract::AuthorizeReset) => $crate::contract::KeyChange;
            enrol_after_reset($crate::contract::ResetEnrolment) => $crate::contract::KeyChange;
            settings => $crate::contract::SettingsView;
            save_settings($crate::contract::ForgeSettings) => $crate::contract::SettingsView [reconnects];
            store_token($crate::contract::TokenRequest) => $crate::contract::Person;
            start_device_flow($crate::contract::DeviceFlowRequest) => $crate::contract::DeviceStart;
            poll_device_flow => $crate::contract::DevicePoll;
            sync_offline => $crate::contract::SyncOutcome;
            register_security_key($crate::contract::SecurityKeyRequest) => $crate::contract::SignerStatus;
            remove_security_key($crate::contract::RemoveSecurityKey) => $crate::contract::SignerStatus;
        }
    };
}
