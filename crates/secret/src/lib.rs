//! Secrets (forge tokens, passwords, private keys, PINs) wrapped so that the
//! ordinary ways of printing or persisting a value cannot reveal them.
//!
//! `Secret` deliberately implements neither `Serialize` nor `Clone`-into-string
//! conversions: the only way to read it is [`Secret::expose`], which makes every
//! use greppable in review.

use std::fmt;

use zeroize::Zeroize;

/// A secret value. Debug and Display print `[redacted]`; the memory is wiped on drop.
pub struct Secret<T: Zeroize>(T);

impl<T: Zeroize> Secret<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// Read the secret. Call only where the value must leave the process
    /// (an HTTP header, the keychain, a KDF).
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T: Zeroize + Clone> Clone for Secret<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T: Zeroize> Drop for Secret<T> {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl<T: Zeroize> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl<T: Zeroize> fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Secrets may arrive as input (a password typed in the window); they never leave as output.
#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Secret<String> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Self)
    }
}

impl From<String> for Secret<String> {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret<String> {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static_assertions::assert_not_impl_any!(Secret<String>: serde::Serialize, std::ops::Deref);

    #[test]
    fn debug_and_display_do_not_reveal_the_value() {
        let token = Secret::from("ghp_supersecretvalue");
        let debug = format!("{token:?}");
        let display = format!("{token}");
        let nested = format!("{:?}", Some(&token));
        for shown in [debug, display, nested] {
            assert!(!shown.contains("supersecret"), "leaked: {shown}");
            assert!(shown.contains("redacted"), "unexpected rendering: {shown}");
        }
        assert_eq!(token.expose(), "ghp_supersecretvalue");
    }
}
