//! The floor of the start-up and memory benchmark (`bench-startup`): what a
//! Tauri 2 window costs before any app is in it. Same Tauri, same
//! WebKitGTK, the same content security policy, and the same rendering
//! choice as Countersign's window (the very code, included from the shell),
//! an empty page.

#[path = "../../../src-tauri/src/rendering.rs"]
mod rendering;

fn main() {
    rendering::choose();
    tauri::Builder::default()
        .run(tauri::generate_context!())
        .expect("the bare window could not start");
}
