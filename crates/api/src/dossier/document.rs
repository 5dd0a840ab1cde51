//! What a dossier says, once: `index.html` and `dossier.pdf` are two
//! renderings of this one document, so they cannot say different things.

use super::{evidence_path, Contents, BUNDLE, MANIFEST, POLICY, ROSTER};
use crate::forge_text::visible;

pub(super) struct Document {
    pub title: String,
    pub sections: Vec<Section>,
}

pub(super) struct Section {
    pub heading: &'static str,
    pub blocks: Vec<Block>,
}

pub(super) enum Block {
    Text(String),
    /// The one line a reader must not miss (the verdict).
    Emphasis(String),
    Table {
        head: Vec<&'static str>,
        rows: Vec<Vec<String>>,
    },
}

/// `2026-11-30T18:02:11Z` as this machine's local time, with its offset.
fn local_time(utc: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(utc).map_or_else(
        |_| utc.to_owned(),
        |t| {
            t.with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M:%S %:z")
                .to_string()
        },
    )
}

pub(super) fn build(c: &Contents<'_>) -> Document {
    let r = c.review;
    let v = visible;
    let mut sections = Vec::new();
    sections.push(Section {
        heading: "The change",
        blocks: vec![
            Block::Text(format!(
                "Repository {}, change request #{}: {}",
                v(&r.change_request.repo),
                r.change_request.number,
                v(c.title)
            )),
            Block::Text(format!(
                "Base commit {}, head commit {}.",
                v(c.base_sha),
                v(&r.head_sha)
            )),
        ],
    });
    sections.push(Section {
        heading: "Verdict",
        blocks: vec![
            Block::Emphasis(format!("{:?}", r.verdict)),
            Block::Text(format!(
                "The status on the forge reads: {}",
                v(&r.status_line)
            )),
        ],
    });
    sections.push(Section {
        heading: "Policy",
        blocks: vec![
            Block::Text(format!(
                "The policy in force at the base commit: {} ({POLICY} in this folder). Risk class {}{}.",
                v(r.policy.digest.as_deref().unwrap_or("none")),
                r.risk_class,
                if r.rules.is_empty() {
                    String::new()
                } else {
                    format!(", required by the rules: {}", v(&r.rules.join(", ")))
                }
            )),
            Block::Table {
                head: vec!["Required", "Signatures", "Met"],
                rows: r
                    .requirements
                    .iter()
                    .map(|q| {
                        vec![
                            format!("{} ({})", v(&q.role_title), v(&q.rule)),
                            format!(
                                "{}/{} {}",
                                q.signed_by.len(),
                                q.needed,
                                v(&q.signed_by.join(", "))
                            ),
                            if q.met { "yes" } else { "no" }.to_owned(),
                        ]
                    })
                    .collect(),
            },
        ],
    });
    sections.push(Section {
        heading: "Risk assessment (ISO 14971)",
        blocks: vec![Block::Text(match (&r.assessment, &r.assessment_error) {
            (Some(a), _) => format!(
                "Hazard: {}. Hazardous situation: {}. Harm: {}. Severity {}; risk {} before the controls ({}), {} after. Verification: {}. Digest {}.",
                v(&a.hazard), v(&a.hazardous_situation), v(&a.harm), v(&a.severity),
                v(&a.risk_before), v(&a.risk_controls.join("; ")), v(&a.risk_after),
                v(&a.verification.join("; ")), v(&a.digest)
            ),
            (None, Some(e)) => format!("Unreadable: {}", v(e)),
            (None, None) => "None in the description.".to_owned(),
        })],
    });
    sections.push(Section {
        heading: "Evidence",
        blocks: vec![Block::Table {
            head: vec!["File", "What it says", "SHA-256", "From"],
            rows: r
                .evidence
                .iter()
                .map(|e| {
                    vec![
                        v(&evidence_path(&e.name)),
                        v(&e.summary),
                        e.sha256.clone(),
                        v(e.source.as_deref().unwrap_or("")),
                    ]
                })
                .collect(),
        }],
    });
    sections.push(Section {
        heading: "Signatures and rejections",
        blocks: vec![Block::Table {
            head: vec![
                "Printed name",
                "Role",
                "Meaning",
                "Signed (local time)",
                "Signed (UTC)",
                "Reason",
                "Standing",
            ],
            rows: r
                .signatures
                .iter()
                .map(|s| {
                    vec![
                        v(&s.printed_name),
                        v(&s.role),
                        s.meaning.map(|m| m.to_string()).unwrap_or_default(),
                        local_time(&s.signed_at),
                        v(&s.signed_at),
                        v(&s.reason),
                        format!(
                            "{}{}",
                            s.standing,
                            s.why
                                .as_deref()
                                .map(|w| format!(": {}", v(w)))
                                .unwrap_or_default()
                        ),
                    ]
                })
                .collect(),
        }],
    });
    sections.push(Section {
        heading: "Audit trail entries about this change (this device)",
        blocks: vec![Block::Table {
            head: vec!["UTC", "Event", "Who", "Detail"],
            rows: c
                .trail
                .iter()
                .map(|(at, kind, who, detail)| vec![v(at), v(kind), v(who), v(detail)])
                .collect(),
        }],
    });
    sections.push(Section {
        heading: "How to verify",
        blocks: vec![Block::Text(format!(
            "See VERIFY.md: every file is listed with its SHA-256 in {MANIFEST}, and the signatures in {BUNDLE} verify against {ROSTER} with `countersign verify` or any DSSE implementation."
        ))],
    });
    Document {
        title: format!(
            "{}#{}: {}",
            v(&r.change_request.repo),
            r.change_request.number,
            v(c.title)
        ),
        sections,
    }
}
