//! One window per data folder: a second launch hands its link to the
//! running window and exits, so the ledger never has two writers.

use std::path::Path;

use sha2::{Digest, Sha256};

/// The session-bus name the running window holds (the single-instance plugin
/// adds `.SingleInstance`). Named by the data folder, not only the app: two
/// windows on two data folders (two ledgers) may run side by side; two on
/// one may not.
pub fn bus_id(identifier: &str, data_dir: &Path) -> String {
    let digest = Sha256::digest(data_dir.as_os_str().as_encoded_bytes());
    // A D-Bus name element may not start with a digit.
    format!("{identifier}.d{}", &hex::encode(digest)[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_data_folder_one_name_and_every_name_is_a_bus_name() {
        let a = bus_id(
            "dev.countersign.desktop",
            Path::new("/home/a/.local/share/x"),
        );
        assert_eq!(
            a,
            bus_id(
                "dev.countersign.desktop",
                Path::new("/home/a/.local/share/x")
            )
        );
        assert_ne!(
            a,
            bus_id(
                "dev.countersign.desktop",
                Path::new("/home/b/.local/share/x")
            )
        );
        // Elements of letters, digits and '_', none starting with a digit, at most 255 bytes.
        assert!(a.len() <= 255);
        for element in a.split('.') {
            assert!(!element.is_empty() && !element.starts_with(|c: char| c.is_ascii_digit()));
            assert!(element
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_'));
        }
    }
}
