//! IPC commands: each one hands its request to the session and returns the
//! result. Behaviour lives in `countersign-api`, where it is tested headless;
//! the list of commands is `countersign_api::for_each_command`, so a command
//! is declared there once and appears here, in the handler and in the
//! capability without another edit. All are async: they wait for the session
//! to open, and none of them holds the main thread while the ledger or the
//! keychain answers.

use countersign_api::ApiError;
use tauri::State;

use crate::shell::Shell;

macro_rules! shell_commands {
    ($($name:ident $(($req:ty))? => $res:ty $([$after:ident])?;)*) => {
        $(shell_command!($name $(($req))? => $res $([$after])?);)*

        /// The handler for every command, for `Builder::invoke_handler`.
        pub fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
            tauri::generate_handler![$($name),*]
        }
    };
}

macro_rules! shell_command {
    ($name:ident => $res:ty) => {
        #[tauri::command]
        pub async fn $name(shell: State<'_, Shell>) -> Result<$res, ApiError> {
            shell.session().await?.$name().await
        }
    };
    ($name:ident($req:ty) => $res:ty) => {
        #[tauri::command]
        pub async fn $name(shell: State<'_, Shell>, request: $req) -> Result<$res, ApiError> {
            shell.session().await?.$name(request).await
        }
    };
    // Saving the settings reconnects the window to the forge they name.
    ($name:ident($req:ty) => $res:ty [reconnects]) => {
        #[tauri::command]
        pub async fn $name(shell: State<'_, Shell>, request: $req) -> Result<$res, ApiError> {
            shell.session().await?.$name(request).await?;
            shell.restart().await?;
            shell.session().await?.settings().await
        }
    };
}

countersign_api::for_each_command!(shell_commands);
