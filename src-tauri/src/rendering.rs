//! How WebKitGTK renders the page. It composites with OpenGL by default. On
//! a machine without a GPU (a virtual machine, a remote desktop, CI under
//! Xvfb) that OpenGL is Mesa's llvmpipe, the CPU pretending to be a GPU:
//! measured here it costs about 75 MB across the app's processes and makes
//! nothing faster for a page of text and diffs. Without a GPU the window
//! therefore uses WebKit's non-composited path, painted on the CPU into
//! shared memory. A `WEBKIT_DISABLE_COMPOSITING_MODE` set by the user wins.

use std::path::Path;

/// The choice made, for the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rendering {
    /// WebKit's defaults: GPU compositing where it can.
    WebKitDefault,
    /// The user set `WEBKIT_DISABLE_COMPOSITING_MODE`; left as they set it.
    UserChoice,
    /// No GPU render node: compositing is off.
    NoGpuNoCompositing,
}

const VARIABLE: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";

/// Decide before GTK and WebKit start (they read the environment once),
/// which is also before any other thread exists.
pub fn choose() -> Rendering {
    if !cfg!(target_os = "linux") {
        return Rendering::WebKitDefault;
    }
    if std::env::var_os(VARIABLE).is_some() {
        return Rendering::UserChoice;
    }
    if has_render_node(Path::new("/dev/dri")) {
        return Rendering::WebKitDefault;
    }
    std::env::set_var(VARIABLE, "1");
    Rendering::NoGpuNoCompositing
}

/// A DRM render node (`renderD128`, …) is what a GPU driver offers to
/// unprivileged rendering; without one, Mesa falls back to software.
fn has_render_node(dri: &Path) -> bool {
    std::fs::read_dir(dri)
        .map(|entries| {
            entries
                .flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with("renderD"))
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::has_render_node;

    #[test]
    fn a_render_node_means_a_gpu() {
        let dir = std::env::temp_dir().join(format!("countersign-dri-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("card0"), b"").unwrap();
        assert!(
            !has_render_node(&dir),
            "a card node alone is not for rendering"
        );
        std::fs::write(dir.join("renderD128"), b"").unwrap();
        assert!(has_render_node(&dir));
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(!has_render_node(&dir), "no /dev/dri at all: no GPU");
    }
}
