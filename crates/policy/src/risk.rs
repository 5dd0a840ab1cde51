//! The risk assessment a change request carries in its description, in a
//! fenced block tagged `countersign-risk` holding TOML with ISO 14971-style
//! fields, and the risk class the policy computes for the change.
//!
//! The description rather than a file in the change: the assessment is what
//! the author argues, it is visible where reviewers already read, and the
//! exact bytes of the block are hashed into every signature.

use std::fmt;

use serde::Deserialize;
use sha2::{Digest, Sha256};

/// The fence tag that marks the assessment block.
pub const FENCE_TAG: &str = "countersign-risk";

/// The risk class of a change, most severe first when sorted descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RiskClass {
    Unassessed,
    Low,
    Medium,
    High,
}

impl RiskClass {
    pub const ALL: [RiskClass; 4] = [Self::High, Self::Medium, Self::Low, Self::Unassessed];
}

impl fmt::Display for RiskClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::High => "high",
            Self::Medium => "medium",
            Self::Low => "low",
            Self::Unassessed => "unassessed",
        })
    }
}

impl std::str::FromStr for RiskClass {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|c| c.to_string() == s)
            .ok_or_else(|| {
                format!("risk class must be one of high, medium, low, unassessed, not {s:?}")
            })
    }
}

/// ISO 14971 annex-style severity scale, least severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Negligible,
    Minor,
    Serious,
    Critical,
    Catastrophic,
}

/// Probability of occurrence of harm, least likely first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Probability {
    Improbable,
    Remote,
    Occasional,
    Probable,
    Frequent,
}

/// Where a risk falls in the acceptability matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RiskLevel {
    Acceptable,
    /// Reduce as far as possible; acceptable only with a benefit-risk argument.
    ReduceFurther,
    Unacceptable,
}

impl fmt::Display for RiskLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Acceptable => "acceptable",
            Self::ReduceFurther => "reduce as far as possible",
            Self::Unacceptable => "unacceptable",
        })
    }
}

/// The documented 5×5 matrix: severity rank × probability rank (each 1–5);
/// 12 or more is unacceptable, 5 or more must be reduced further.
pub fn risk_level(severity: Severity, probability: Probability) -> RiskLevel {
    let score = (severity as u32 + 1) * (probability as u32 + 1);
    match score {
        12.. => RiskLevel::Unacceptable,
        5.. => RiskLevel::ReduceFurther,
        _ => RiskLevel::Acceptable,
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskAssessment {
    pub hazard: String,
    pub hazardous_situation: String,
    pub harm: String,
    pub severity: Severity,
    pub probability_before: Probability,
    pub probability_after: Probability,
    pub risk_controls: Vec<String>,
    pub verification: Vec<String>,
}

impl RiskAssessment {
    pub fn risk_before(&self) -> RiskLevel {
        risk_level(self.severity, self.probability_before)
    }

    pub fn risk_after(&self) -> RiskLevel {
        risk_level(self.severity, self.probability_after)
    }
}

/// An assessment found in a description, with the exact text that was hashed.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundAssessment {
    pub assessment: RiskAssessment,
    /// The block's content between the fences, byte for byte.
    pub text: String,
    /// `sha256:<hex>` of `text`: what a signature's `risk_assessment_digest` holds.
    pub digest: String,
}

/// Why the assessment in a description cannot be read; lines count from the
/// description's first line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("risk assessment, description line {line}: {message}")]
#[non_exhaustive]
pub struct AssessmentError {
    /// 1-based line in the change request's description.
    pub line: usize,
    /// What is wrong there.
    pub message: String,
}

/// Find and parse the `countersign-risk` block. `Ok(None)`: there is none.
/// Two blocks are an error: a reviewer must never wonder which one was signed.
/// The digest is over the block's lines joined by LF, so a description saved
/// with CRLF (as browsers send it) keeps the digest of the same block.
pub fn find_assessment(description: &str) -> Result<Option<FoundAssessment>, AssessmentError> {
    let lines: Vec<&str> = description.lines().collect();
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let open = lines[i].trim_start();
        let fence = open.chars().take_while(|c| *c == '`' || *c == '~').count();
        let tag = open[fence..].trim();
        if fence >= 3 && tag == FENCE_TAG {
            let marker = &open[..fence];
            let start = i + 1;
            let end = (start..lines.len()).find(|j| lines[*j].trim() == marker);
            let Some(end) = end else {
                return Err(AssessmentError {
                    line: i + 1,
                    message: format!("the {FENCE_TAG} block is never closed"),
                });
            };
            blocks.push((start, end));
            i = end + 1;
        } else {
            i += 1;
        }
    }
    let (start, end) = match blocks.as_slice() {
        [] => return Ok(None),
        [one] => *one,
        [_, second, ..] => {
            return Err(AssessmentError {
                line: second.0,
                message: format!("more than one {FENCE_TAG} block"),
            })
        }
    };
    let mut text = lines[start..end].join("\n");
    text.push('\n');
    let assessment: RiskAssessment = toml::from_str(&text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start).min(text.len());
        AssessmentError {
            line: start + 1 + text[..offset].matches('\n').count(),
            message: e.message().to_owned(),
        }
    })?;
    for (field, value) in [
        ("hazard", &assessment.hazard),
        ("hazardous_situation", &assessment.hazardous_situation),
        ("harm", &assessment.harm),
    ] {
        if value.trim().is_empty() {
            return Err(AssessmentError {
                line: start + 1,
                message: format!("{field} is empty"),
            });
        }
    }
    if assessment.probability_after > assessment.probability_before {
        return Err(AssessmentError {
            line: start + 1,
            message: "probability after the controls is higher than before them".into(),
        });
    }
    let digest = format!("sha256:{}", hex::encode(Sha256::digest(text.as_bytes())));
    Ok(Some(FoundAssessment {
        assessment,
        text,
        digest,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BLOCK: &str = "hazard = \"Over-infusion\"\nhazardous_situation = \"Zero duration\"\nharm = \"Overdose\"\nseverity = \"critical\"\nprobability_before = \"occasional\"\nprobability_after = \"improbable\"\nrisk_controls = [\"C1\"]\nverification = [\"unit tests\"]\n";

    #[test]
    fn the_block_is_found_and_its_risk_computed() {
        let body = format!("Fixes a bug.\n\n```countersign-risk\n{BLOCK}```\ntrailing text\n");
        let found = find_assessment(&body).unwrap().unwrap();
        assert_eq!(found.text, BLOCK);
        assert_eq!(found.assessment.severity, Severity::Critical);
        assert_eq!(found.assessment.risk_before(), RiskLevel::Unacceptable);
        assert_eq!(found.assessment.risk_after(), RiskLevel::Acceptable);
        assert!(found.digest.starts_with("sha256:"));
        // Editing the text around the block changes nothing; editing inside does.
        let other = format!("Different words.\n```countersign-risk\n{BLOCK}```\n");
        assert_eq!(
            find_assessment(&other).unwrap().unwrap().digest,
            found.digest
        );
        let edited = body.replace("Overdose", "Underdose");
        assert_ne!(
            find_assessment(&edited).unwrap().unwrap().digest,
            found.digest
        );
    }

    #[test]
    fn no_block_is_none_and_bad_blocks_say_where() {
        assert_eq!(
            find_assessment("just text\n```rust\nfn x() {}\n```\n"),
            Ok(None)
        );
        let e = find_assessment("a\n```countersign-risk\nhazard = \"x\"\n").unwrap_err();
        assert_eq!(e.line, 2, "{e}");
        let bad = BLOCK.replace("critical", "deadly");
        let e = find_assessment(&format!("a\nb\n```countersign-risk\n{bad}```\n")).unwrap_err();
        assert_eq!(e.line, 7, "{e}");
        assert!(
            e.message.contains("deadly") || e.message.contains("variant"),
            "{e}"
        );
        let missing = BLOCK.replace("harm = \"Overdose\"\n", "");
        let e = find_assessment(&format!("```countersign-risk\n{missing}```\n")).unwrap_err();
        assert!(e.message.contains("harm"), "{e}");
        let twice = format!("```countersign-risk\n{BLOCK}```\n```countersign-risk\n{BLOCK}```\n");
        assert!(find_assessment(&twice)
            .unwrap_err()
            .message
            .contains("more than one"));
        let worse = BLOCK.replace(
            "probability_after = \"improbable\"",
            "probability_after = \"frequent\"",
        );
        assert!(find_assessment(&format!("```countersign-risk\n{worse}```\n")).is_err());
    }

    #[test]
    fn the_matrix_has_its_documented_thresholds() {
        use Probability::*;
        use Severity::*;
        assert_eq!(risk_level(Critical, Occasional), RiskLevel::Unacceptable); // 4×3
        assert_eq!(risk_level(Serious, Remote), RiskLevel::ReduceFurther); // 3×2
        assert_eq!(risk_level(Minor, Remote), RiskLevel::Acceptable); // 2×2
        assert_eq!(risk_level(Negligible, Frequent), RiskLevel::ReduceFurther); // 1×5
        assert_eq!(
            risk_level(Catastrophic, Improbable),
            RiskLevel::ReduceFurther
        ); // 5×1
    }
}
