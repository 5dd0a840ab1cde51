//! The documented example parses, rules match, and every kind of mistake is
//! reported with its line and column.

use countersign_policy::{parse, PolicyError};

const EXAMPLE: &str = include_str!("../../../docs/policy.example.toml");

#[test]
fn the_documented_example_parses() {
    let policy = parse(EXAMPLE).unwrap();
    assert_eq!(policy.roles.len(), 2);
    assert_eq!(policy.role("qa").unwrap().members[0].user_id, 5002);
    assert_eq!(policy.session.max_failures, 3);
    assert_eq!(policy.evidence.min_coverage, Some(80.0));
    let dosing = policy.rules_for(&["firmware/src/dosing/rate.rs", "docs/x.md"], &[], "high");
    assert_eq!(dosing.len(), 2);
    assert_eq!(dosing[0].order, ["qa", "clinical-safety"]);
    use countersign_policy::risk::RiskClass;
    assert_eq!(
        policy.risk_class(&["firmware/src/dosing/rate.rs"], &[]),
        RiskClass::High
    );
    assert_eq!(
        policy.risk_class(&["ui/strings/en.json"], &["safety-critical"]),
        RiskClass::High
    );
    assert_eq!(
        policy.risk_class(&["ui/strings/en.json"], &[]),
        RiskClass::Medium
    );
    assert_eq!(policy.risk_class(&["docs/x.md"], &["docs"]), RiskClass::Low);
    let docs = policy.rules_for(&["docs/release-checklist.md"], &["docs"], "low");
    assert_eq!(
        docs.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
        ["everything else"]
    );
}

fn error_of(text: &str) -> PolicyError {
    parse(text).expect_err("the policy should be refused")
}

#[test]
fn mistakes_are_reported_where_they_are() {
    let e = error_of("version = 1\n[[roles]]\nname = \"qa\"\ncolour = \"blue\"\n");
    assert_eq!((e.line, e.column), (4, 1), "{e}");
    assert!(e.message.contains("colour"), "{e}");

    let e = error_of("version = 2\n");
    assert_eq!((e.line, e.column), (1, 11), "{e}");

    let e = error_of("version = 1\n[[rules]]\nname = \"r\"\nrequire = [{ role = \"ghost\" }]\n");
    assert_eq!(e.line, 4, "{e}");
    assert!(e.message.contains("unknown role \"ghost\""), "{e}");

    let e = error_of("version = 1\n[[roles]]\nname = \"qa\"\n[[rules]]\nname = \"r\"\nrequire = [{ role = \"qa\", meanings = [\"blessing\"] }]\n");
    assert_eq!(e.line, 6, "{e}");
    assert!(e.message.contains("unknown meaning"), "{e}");
    let e = error_of("version = 1\n[[roles]]\nname = \"qa\"\n[[rules]]\nname = \"r\"\nrequire = [{ role = \"qa\", meanings = [\"withdrawal\"] }]\n");
    assert!(
        e.message.contains("withdrawal cannot meet a requirement"),
        "{e}"
    );
    let e = error_of("version = 1\n[gate]\nallow_offline_signing = true\n");
    assert!(e.message.contains("needs max_offline_age"), "{e}");
    assert_eq!(e.line, 3);
    let e = error_of("version = 1\n[gate]\nmax_offline_age = \"72h\"\n");
    assert!(e.message.contains("needs allow_offline_signing"), "{e}");
    let e = error_of("version = 1\n[session]\nidle_timeout_minutes = 15\nmax_failures = 3\nlockout_minutes = 15\nreset_by = \"admins\"\n");
    assert!(e.message.contains("reset_by names no role"), "{e}");

    let weak = "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    let text = format!(
        "version = 1\n[[roles]]\nname = \"qa\"\n[[roles.members]]\nforge = \"github.com\"\nuser_id = 1\nlogin = \"x\"\nprinted_name = \"X\"\n[[roles.members.keys]]\npublic_key = \"{weak}\"\n"
    );
    let e = error_of(&text);
    assert_eq!((e.line, e.column), (10, 14), "{e}");
    assert!(e.message.contains("weak"), "{e}");

    let e = error_of("version = 1\n[[roles]]\nname = \"qa\"\n[[rules]]\nname = \"r\"\npaths = [\"src/[\"]\nrequire = [{ role = \"qa\" }]\n");
    assert_eq!(e.line, 6, "{e}");

    let e = error_of("version = 1\n[[roles]]\nname = \"qa\"\n[[roles]]\nname = \"qa\"\n");
    assert_eq!(e.line, 5, "{e}");

    let e = error_of("version = 1\n[risk]\ndefault = \"severe\"\n");
    assert_eq!((e.line, e.column), (3, 11), "{e}");
    let e = error_of("version = 1\n[[risk.classes]]\nclass = \"high\"\n");
    assert!(e.message.contains("paths or labels"), "{e}");

    let e = error_of("version = 1\n[session]\nidle_timeout_minutes = 15\nmax_failures = 3\nlockout_minutes = 15\npassword_max_age_days = 0\n");
    assert_eq!(e.line, 6, "{e}");
    assert!(e.message.contains("password_max_age_days"), "{e}");

    let e = error_of("version = 1\n[evidence]\nmin_coverage = 120.0\n");
    assert_eq!(e.line, 3, "{e}");

    let e = error_of("version = 1\n[[roles]]\nname = \"qa\"\n[[rules]]\nname = \"r\"\nrequire = [{ role = \"qa\" }]\norder = [\"release\"]\n");
    assert_eq!(e.line, 7, "{e}");

    let e = error_of("version = \"one\"\n");
    assert_eq!(e.line, 1, "{e}");
}
