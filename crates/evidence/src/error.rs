use std::fmt;

/// What is wrong with an evidence file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// A `../` or absolute path, or a name that is not valid UTF-8.
    UnsafePath(String),
    /// An entry that is a symbolic link, which could point outside the archive.
    Symlink(String),
    /// An encrypted entry: it cannot be read, so it cannot be evidence.
    Encrypted(String),
    /// Two entries with one name: a reviewer must never wonder which was read.
    Duplicate(String),
    /// More entries than the limit allows.
    TooManyEntries { limit: usize },
    /// More uncompressed bytes than the limit allows.
    TooLarge { limit: u64 },
    /// Expands far more than real reports do: a zip bomb.
    CompressionRatio { ratio: u64, limit: u64 },
    /// An XML report nested deeper than any real one: refused before parsing.
    TooDeep { limit: usize },
    /// Not a zip archive the reader can open.
    NotAZip(String),
    /// A report that does not parse as the format its name says.
    Malformed {
        format: &'static str,
        detail: String,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnsafePath(p) => {
                write!(f, "entry {p:?} escapes the archive (absolute or ../ path)")
            }
            Self::Symlink(p) => write!(f, "entry {p:?} is a symbolic link"),
            Self::Encrypted(p) => write!(f, "entry {p:?} is encrypted"),
            Self::Duplicate(p) => write!(f, "entry {p:?} appears twice"),
            Self::TooManyEntries { limit } => write!(f, "more than {limit} entries"),
            Self::TooLarge { limit } => write!(f, "larger than {limit} bytes uncompressed"),
            Self::CompressionRatio { ratio, limit } => {
                write!(
                    f,
                    "compression ratio {ratio}:1 exceeds {limit}:1 (a zip bomb?)"
                )
            }
            Self::TooDeep { limit } => write!(f, "XML nested deeper than {limit} elements"),
            Self::NotAZip(e) => write!(f, "not a readable zip archive: {e}"),
            Self::Malformed { format, detail } => write!(f, "not valid {format}: {detail}"),
        }
    }
}

/// An evidence file that was refused, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("evidence file {file}: {problem}")]
#[non_exhaustive]
pub struct EvidenceError {
    /// The file, as `<artifact>.zip/<path>` or the name it was given.
    pub file: String,
    /// What is wrong with it.
    pub problem: Problem,
}

impl EvidenceError {
    pub(crate) fn new(file: &str, problem: Problem) -> Self {
        Self {
            file: file.to_owned(),
            problem,
        }
    }

    /// A stable code for the IPC error shape.
    pub fn code(&self) -> &'static str {
        match self.problem {
            Problem::UnsafePath(_)
            | Problem::Symlink(_)
            | Problem::Encrypted(_)
            | Problem::Duplicate(_) => "evidence.unsafe_entry",
            Problem::TooManyEntries { .. }
            | Problem::TooLarge { .. }
            | Problem::CompressionRatio { .. } => "evidence.too_large",
            Problem::NotAZip(_) | Problem::Malformed { .. } | Problem::TooDeep { .. } => {
                "evidence.malformed"
            }
        }
    }
}
