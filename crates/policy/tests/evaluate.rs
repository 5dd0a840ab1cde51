//! Evaluation of real signed records against a policy: quorum, order,
//! separation of duties, the base-branch roster, key validity, staleness,
//! tampering, evidence, the risk assessment and the status line.

use chrono::{FixedOffset, TimeZone};
use countersign_policy::evaluate::{Standing, TestTotals};
use countersign_policy::risk::{find_assessment, RiskClass};
use countersign_policy::{evaluate, parse, Contributor, Part, Verdict};
use countersign_signing::dsse::Envelope;
use countersign_signing::Meaning;

mod fixture;
use fixture::*;

#[test]
fn quorum_in_order_approves_and_names_the_signers() {
    let policy = base_policy();
    let change = dosing_change();
    let qa = record(signing(BOB, "qa", Meaning::Approval, 0));
    let cs = record(signing(
        CAROL,
        "clinical-safety",
        Meaning::Responsibility,
        5,
    ));

    let e = evaluate(&policy, &change, std::slice::from_ref(&qa));
    assert_eq!(e.risk_class, RiskClass::High);
    assert_eq!(e.verdict, Verdict::Pending);
    assert_eq!(e.status_line(), "1/2 — waiting for Clinical Safety");
    let cs_req = e
        .requirements
        .iter()
        .find(|r| r.role == "clinical-safety")
        .unwrap();
    assert!(cs_req.may_sign_now);

    let e = evaluate(&policy, &change, &[cs.clone(), qa.clone()]);
    assert_eq!(e.verdict, Verdict::Approved, "{:?}", e.signatures);
    assert_eq!(
        e.status_line(),
        "Approved 2/2 (dosing): Bob Okafor, Dr. Carol Weiss"
    );
}

#[test]
fn signing_out_of_order_does_not_count() {
    let policy = base_policy();
    let change = dosing_change();
    let cs = record(signing(
        CAROL,
        "clinical-safety",
        Meaning::Responsibility,
        0,
    ));
    let e = evaluate(&policy, &change, std::slice::from_ref(&cs));
    assert!(
        matches!(&e.signatures[0].standing, Standing::Refused(why) if why.contains("order")),
        "{:?}",
        e.signatures
    );
    assert_eq!(e.verdict, Verdict::Pending);
    assert_eq!(e.status_line(), "0/2 — waiting for QA");
    // QA signing later does not rescue a signature made too early.
    let qa = record(signing(BOB, "qa", Meaning::Approval, 5));
    let e = evaluate(&policy, &change, &[cs, qa]);
    assert_eq!(e.verdict, Verdict::Pending);
}

#[test]
fn the_author_cannot_sign_their_own_change() {
    let policy = parse(&policy_text(&[ALICE])).unwrap();
    let e = evaluate(
        &policy,
        &dosing_change(),
        &[record(signing(ALICE, "qa", Meaning::Approval, 0))],
    );
    assert!(
        matches!(&e.signatures[0].standing, Standing::Refused(why) if why.contains("contributed to this change (opened it)")),
        "{:?}",
        e.signatures
    );
    assert_eq!(e.requirements[0].signed_by, Vec::<String>::new());
}

fn contributor(user_id: Option<u64>, email: &str, part: Part) -> Contributor {
    Contributor {
        user_id,
        email: Some(email.into()),
        part,
        commit: NEW_HEAD.into(),
    }
}

#[test]
fn contributors_count_by_account_by_roster_email_and_by_no_reply_address() {
    let policy = parse(&policy_text(&[]).replace(
        "printed_name = \"Bob Okafor\"\n",
        "printed_name = \"Bob Okafor\"\nemails = [\"bob@acme.example\"]\n",
    ))
    .unwrap();
    let bob_signs = [record(signing(BOB, "qa", Meaning::Approval, 0))];
    for (who, part) in [
        (
            contributor(Some(BOB.0), "x@elsewhere.example", Part::Committer),
            "committer of 4f7709a",
        ),
        (
            contributor(None, "BOB@acme.example", Part::Author),
            "author of 4f7709a",
        ),
        (
            contributor(None, "5002+bob-qa@users.noreply.github.com", Part::CoAuthor),
            "co-author of 4f7709a",
        ),
    ] {
        let mut change = dosing_change();
        change.contributors.push(who.clone());
        let e = evaluate(&policy, &change, &bob_signs);
        assert!(
            matches!(&e.signatures[0].standing, Standing::Refused(why) if why.contains(part)),
            "{who:?}: {:?}",
            e.signatures
        );
        assert!(e.unknown_contributors.is_empty());
    }
}

#[test]
fn the_policy_decides_what_an_unknown_contributor_does() {
    let stranger = contributor(None, "build@ci.example", Part::Author);
    let mut change = dosing_change();
    change.contributors.push(stranger);
    let signed = [
        record(signing(BOB, "qa", Meaning::Approval, 0)),
        record(signing(
            CAROL,
            "clinical-safety",
            Meaning::Responsibility,
            5,
        )),
    ];
    let blocked = |text: &str| {
        let e = evaluate(&parse(text).unwrap(), &change, &signed);
        assert_eq!(
            e.unknown_contributors,
            ["build@ci.example (author of 4f7709a)"]
        );
        matches!(&e.verdict, Verdict::Blocked(why) if why.contains("build@ci.example"))
    };
    // Default: block on a high-risk change.
    assert!(blocked(&policy_text(&[])));
    let with = |v: &str| {
        policy_text(&[]).replace(
            "[[roles]]\nname = \"qa\"",
            &format!(
                "[separation_of_duties]\nunknown_contributors = \"{v}\"\n[[roles]]\nname = \"qa\""
            ),
        )
    };
    assert!(!blocked(&with("allow")));
    assert!(blocked(&with("block")));
    let bad = parse(&with("maybe")).unwrap_err();
    assert!(bad.message.contains("\"block\" or \"allow\""), "{bad}");

    // Default on a low-risk change: allowed, still reported.
    let mut docs = change.clone();
    docs.changed_paths = vec!["docs/readme.md".into()];
    let e = evaluate(&base_policy(), &docs, &[]);
    assert!(!matches!(e.verdict, Verdict::Blocked(_)), "{:?}", e.verdict);
    assert_eq!(e.unknown_contributors.len(), 1);
}

#[test]
fn a_signer_the_change_adds_to_the_roster_is_refused_under_the_base_policy() {
    // The change's own policy file adds Eve to QA; only the base one counts.
    let head_policy = parse(&policy_text(&[EVE])).unwrap();
    let mut change = dosing_change();
    change.changed_paths.push(".countersign/policy.toml".into());
    let eve_signs = record(signing(EVE, "qa", Meaning::Approval, 0));
    let under_head = evaluate(&head_policy, &change, std::slice::from_ref(&eve_signs));
    assert_eq!(standings(&under_head), [Standing::Counted]);
    let under_base = evaluate(&base_policy(), &change, &[eve_signs]);
    assert!(
        matches!(&under_base.signatures[0].standing, Standing::Refused(why) if why.contains("not among the trusted keys")),
        "{:?}",
        under_base.signatures
    );
}

#[test]
fn revoked_or_expired_keys_are_refused() {
    let policy = base_policy();
    let mut change = dosing_change();
    change.labels.push("release".into());
    // Dan's key was revoked on 2026-06-01; he signs in November.
    let e = evaluate(
        &policy,
        &change,
        &[record(signing(DAN, "release", Meaning::Approval, 0))],
    );
    assert!(
        matches!(&e.signatures[0].standing, Standing::Refused(why) if why.contains("revoked")),
        "{:?}",
        e.signatures
    );
    // Before the key was valid.
    let mut early = signing(DAN, "release", Meaning::Approval, 0);
    early.at = FixedOffset::east_opt(0)
        .unwrap()
        .with_ymd_and_hms(2025, 12, 1, 0, 0, 0)
        .unwrap();
    let e = evaluate(&policy, &change, &[record(early)]);
    assert!(
        matches!(&e.signatures[0].standing, Standing::Refused(why) if why.contains("valid only from")),
        "{:?}",
        e.signatures
    );
}

#[test]
fn a_new_commit_or_changed_evidence_makes_signatures_stale() {
    let policy = base_policy();
    let records = [
        record(signing(BOB, "qa", Meaning::Approval, 0)),
        record(signing(
            CAROL,
            "clinical-safety",
            Meaning::Responsibility,
            5,
        )),
    ];
    let mut pushed = dosing_change();
    pushed.change_request.head_sha = NEW_HEAD.into();
    let e = evaluate(&policy, &pushed, &records);
    assert!(e
        .signatures
        .iter()
        .all(|s| matches!(s.standing, Standing::Stale(_))));
    assert_eq!(e.verdict, Verdict::Pending);
    assert_eq!(e.status_line(), "0/2 — waiting for QA");

    let mut rerun = dosing_change();
    rerun.evidence_files[0].sha256 = "00".repeat(32);
    let e = evaluate(&policy, &rerun, &records);
    assert!(e
        .signatures
        .iter()
        .all(|s| matches!(s.standing, Standing::Stale(_))));

    // A record that names the new head counts again.
    let mut fresh = signing(BOB, "qa", Meaning::Approval, 10);
    fresh.head = NEW_HEAD;
    let e = evaluate(&policy, &pushed, &[record(fresh)]);
    assert_eq!(standings(&e), [Standing::Counted]);
}

#[test]
fn an_altered_record_fails_and_says_so() {
    let policy = base_policy();
    let mut qa = record(signing(BOB, "qa", Meaning::Approval, 0));
    let payload = qa.payload_bytes().unwrap();
    let text = String::from_utf8(payload)
        .unwrap()
        .replace("HIL-17", "HIL-18");
    qa.payload = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, text);
    let e = evaluate(&policy, &dosing_change(), &[qa]);
    assert_eq!(e.verdict, Verdict::Failed);
    assert!(
        e.status_line().starts_with("A record fails verification"),
        "{}",
        e.status_line()
    );
    assert!(e.status_line().chars().count() <= 140);
}

#[test]
fn one_person_counts_for_one_role_and_rejections_reject() {
    let policy = parse(&policy_text(&[CAROL])).unwrap();
    let e = evaluate(
        &policy,
        &dosing_change(),
        &[
            record(signing(CAROL, "qa", Meaning::Approval, 0)),
            record(signing(
                CAROL,
                "clinical-safety",
                Meaning::Responsibility,
                5,
            )),
        ],
    );
    assert_eq!(e.signatures[0].standing, Standing::Counted);
    assert!(
        matches!(&e.signatures[1].standing, Standing::Refused(why) if why.contains("one role")),
        "{:?}",
        e.signatures
    );
    assert_eq!(e.verdict, Verdict::Pending);

    let e = evaluate(
        &base_policy(),
        &dosing_change(),
        &[record(signing(BOB, "qa", Meaning::Rejection, 0))],
    );
    assert_eq!(e.verdict, Verdict::Rejected);
    assert_eq!(e.status_line(), "Rejected by Bob Okafor");
}

#[test]
fn a_meaning_the_rule_does_not_allow_is_refused() {
    let e = evaluate(
        &base_policy(),
        &dosing_change(),
        &[record(signing(BOB, "qa", Meaning::Responsibility, 0))],
    );
    assert!(
        matches!(&e.signatures[0].standing, Standing::Refused(why) if why.contains("review or approval")),
        "{:?}",
        e.signatures
    );
}

#[test]
fn missing_evidence_and_a_missing_assessment_hold_the_change() {
    let policy = base_policy();
    let records = [
        record(signing(BOB, "qa", Meaning::Approval, 0)),
        record(signing(
            CAROL,
            "clinical-safety",
            Meaning::Responsibility,
            5,
        )),
    ];
    let mut failing = dosing_change();
    failing.evidence.junit = Some(TestTotals {
        passed: 11,
        failed: 1,
        skipped: 0,
        failing: vec!["dosing::rate::zero_duration".into()],
    });
    failing.evidence.coverage_percent = Some(71.0);
    let e = evaluate(&policy, &failing, &records);
    assert_eq!(e.verdict, Verdict::Pending);
    let line = e.status_line();
    assert!(line.contains("dosing::rate::zero_duration"), "{line}");
    assert!(line.contains("71.0%"), "{line}");

    let mut no_assessment = dosing_change();
    no_assessment.assessment = Ok(None);
    let e = evaluate(&policy, &no_assessment, &records);
    assert!(matches!(&e.verdict, Verdict::Blocked(why) if why.contains("needs a risk assessment")));
    assert!(e.status_line().starts_with("Blocked: a high-risk change"));

    let mut unreadable = dosing_change();
    unreadable.assessment = find_assessment("```countersign-risk\nseverity = 3\n```\n");
    let e = evaluate(&policy, &unreadable, &records);
    assert!(
        matches!(&e.verdict, Verdict::Blocked(why) if why.contains("line 2")),
        "{:?}",
        e.verdict
    );

    let mut bomb = dosing_change();
    bomb.evidence_problems
        .push("evidence file test-reports.zip: compression ratio 1000:1 exceeds 200:1".into());
    let e = evaluate(&policy, &bomb, &records);
    assert!(
        e.status_line()
            .starts_with("Blocked: evidence refused: evidence file test-reports.zip"),
        "{}",
        e.status_line()
    );

    // A low-risk change with no rule asking for one needs no assessment.
    let mut docs = dosing_change();
    docs.changed_paths = vec!["docs/x.md".into()];
    docs.assessment = Ok(None);
    let e = evaluate(&policy, &docs, &[]);
    assert_eq!(e.risk_class, RiskClass::Low);
    assert!(e.rules.is_empty());
}

#[test]
fn the_status_line_never_exceeds_140_characters() {
    let mut text = policy_text(&[]);
    // Nine QA people with long names, all required.
    let long: Vec<Person> = (0..9u8)
        .map(|i| {
            let name: &'static str = Box::leak(
                format!("Dr. Maximiliane Gräfin von Hohenzollern-Sigmaringen {i}").into_boxed_str(),
            );
            (6000 + u64::from(i), "long", name, 20 + i)
        })
        .collect();
    text = text.replace("name = \"qa\"\ndescription = \"QA\"\n", &{
        let mut s = String::from("name = \"qa\"\ndescription = \"QA\"\n");
        for p in &long {
            s.push_str(&member(*p, ""));
        }
        s
    });
    text = text.replace(
        "{ role = \"qa\", meanings",
        "{ role = \"qa\", signatures = 9, meanings",
    );
    let policy = parse(&text).unwrap();
    let mut records: Vec<Envelope> = long
        .iter()
        .enumerate()
        .map(|(i, p)| record(signing(*p, "qa", Meaning::Approval, i as i64)))
        .collect();
    records.push(record(signing(
        CAROL,
        "clinical-safety",
        Meaning::Responsibility,
        30,
    )));
    let e = evaluate(&policy, &dosing_change(), &records);
    assert_eq!(e.verdict, Verdict::Approved, "{:?}", e.signatures);
    let line = e.status_line();
    assert!(line.chars().count() <= 140, "{line}");
    // The count and the rule first; then whole names, and how many more.
    let names = line
        .strip_prefix("Approved 10/10 (dosing): ")
        .unwrap_or_else(|| panic!("{line}"));
    let (shown, more) = names.rsplit_once(", +").unwrap_or_else(|| panic!("{line}"));
    let shown: Vec<&str> = shown.split(", ").collect();
    assert!(!shown.is_empty());
    for name in &shown {
        assert!(
            long.iter().any(|p| p.2 == *name),
            "cut name {name:?} in {line}"
        );
    }
    assert_eq!(shown.len() + more.parse::<usize>().unwrap(), 10, "{line}");
}

#[test]
fn signing_times_are_judged_on_the_forge_clock() {
    let policy = base_policy();
    let change = dosing_change();
    // Carol's clock is 10 minutes fast: refused under the default 5 minutes.
    let fast = Signing {
        skew_seconds: 600,
        ..signing(CAROL, "clinical-safety", Meaning::Responsibility, 20)
    };
    let bob = record(signing(BOB, "qa", Meaning::Approval, 10));
    let e = evaluate(&policy, &change, &[bob.clone(), record(fast)]);
    assert!(
        matches!(&e.signatures[1].standing, Standing::Refused(why) if why.contains("10 min ahead of the forge's; max_clock_skew is 5 min")),
        "{:?}",
        e.signatures
    );
    // A policy may allow more; then order is judged on the forge's time:
    // Carol's local 14:20 was 14:10 at the forge, so QA at 14:15 came later.
    let lenient = parse(&policy_text(&[]).replace(
        "[[roles]]\nname = \"qa\"",
        "[gate]\nmax_clock_skew = \"15m\"\n[[roles]]\nname = \"qa\"",
    ))
    .unwrap();
    let carol = Signing {
        skew_seconds: 600,
        ..signing(CAROL, "clinical-safety", Meaning::Responsibility, 20)
    };
    let bob_later = record(signing(BOB, "qa", Meaning::Approval, 15));
    let e = evaluate(&lenient, &change, &[bob_later, record(carol)]);
    assert_eq!(e.signatures[0].printed_name, "Dr. Carol Weiss");
    assert!(
        matches!(&e.signatures[0].standing, Standing::Refused(why) if why.contains("order")),
        "{:?}",
        e.signatures
    );
    assert!(parse(&policy_text(&[]).replace(
        "[[roles]]\nname = \"qa\"",
        "[gate]\nmax_clock_skew = \"soon\"\n[[roles]]\nname = \"qa\"",
    ))
    .unwrap_err()
    .message
    .contains("max_clock_skew"));
}

#[test]
fn the_base_branch_tip_can_take_away_but_never_grant() {
    let change = dosing_change();
    let signed = [
        record(signing(BOB, "qa", Meaning::Approval, 10)),
        record(signing(
            CAROL,
            "clinical-safety",
            Meaning::Responsibility,
            20,
        )),
    ];
    // At the tip: Bob's key revoked from minute 5, Carol out of her role,
    // Eve added to QA.
    let tip_text = policy_text(&[EVE])
        .replace(
            &format!("public_key = \"{}\"\n", key_b64(BOB)),
            &format!(
                "public_key = \"{}\"\nrevoked_at = \"{}\"\n",
                key_b64(BOB),
                t(5).to_rfc3339()
            ),
        )
        .replace("user_id = 5003\n", "user_id = 5999\n");
    let tip = parse(&tip_text).unwrap();
    let mut policy = base_policy();
    policy.restrict_to_tip(&tip, "main");
    let mut eve_signs = signed.to_vec();
    eve_signs.push(record(signing(EVE, "qa", Meaning::Approval, 12)));
    let e = evaluate(&policy, &change, &eve_signs);
    assert_eq!(e.verdict, Verdict::Pending);
    let why = |i: usize| match &e.signatures[i].standing {
        Standing::Refused(w) => w.clone(),
        other => panic!("{other:?}"),
    };
    assert!(why(0).contains("revoked"), "{}", why(0));
    assert!(why(1).contains("not among the trusted keys"), "{}", why(1));
    assert!(
        why(2).contains("removed from \"clinical-safety\" at the tip of main"),
        "{}",
        why(2)
    );
}

#[test]
fn signatures_carry_the_rosters_printed_name() {
    let policy = base_policy();
    let mut renamed = signing(BOB, "qa", Meaning::Approval, 10);
    renamed.who.2 = "B. Okafor, Head of QA";
    let e = evaluate(&policy, &dosing_change(), &[record(renamed)]);
    assert_eq!(e.signatures[0].printed_name, "Bob Okafor");
    assert!(
        matches!(&e.signatures[0].standing, Standing::Invalid(why) if why.contains("\"B. Okafor, Head of QA\"")),
        "{:?}",
        e.signatures
    );
    assert_eq!(e.verdict, Verdict::Failed);
}

#[test]
fn a_recorded_risk_class_is_a_floor_only_when_a_roster_key_signed_it() {
    let policy = base_policy();
    let mut docs = dosing_change();
    docs.changed_paths = vec!["docs/readme.md".into()];
    // Bob signed when the change was high-risk; it is low-risk now.
    let high = Signing {
        risk_class: Some("high"),
        ..signing(BOB, "qa", Meaning::Approval, 0)
    };
    let e = evaluate(&policy, &docs, &[record(high)]);
    assert_eq!(e.risk_class, RiskClass::High);
    assert!(e.rules.contains(&"dosing".to_owned()), "{:?}", e.rules);
    // Eve is in no role of the base roster: her record pins nothing.
    let eve = Signing {
        risk_class: Some("high"),
        ..signing(EVE, "qa", Meaning::Approval, 0)
    };
    let e = evaluate(&policy, &docs, &[record(eve)]);
    assert_eq!(e.risk_class, RiskClass::Low);
}

/// Issue 14: a signer takes back their own signature with a signed
/// withdrawal naming it; nobody else can, and a withdrawal that names no
/// record of the change changes nothing.
#[test]
fn a_signer_withdraws_their_own_signature_and_only_theirs() {
    let policy = base_policy();
    let change = dosing_change();
    let qa = record(signing(BOB, "qa", Meaning::Approval, 0));
    let cs = record(signing(
        CAROL,
        "clinical-safety",
        Meaning::Responsibility,
        5,
    ));
    let withdrawal = |who, role, of: &Envelope| {
        record(Signing {
            withdraws: of.statement_digest(),
            ..signing(who, role, Meaning::Withdrawal, 10)
        })
    };
    let e = evaluate(&policy, &change, &[qa.clone(), cs.clone()]);
    assert_eq!(e.verdict, Verdict::Approved);

    let e = evaluate(
        &policy,
        &change,
        &[qa.clone(), cs.clone(), withdrawal(BOB, "qa", &qa)],
    );
    assert_ne!(e.verdict, Verdict::Approved, "{:?}", e.signatures);
    assert!(
        matches!(&e.signatures[0].standing, Standing::Withdrawn(why) if why.contains("Bob Okafor")),
        "{:?}",
        e.signatures
    );
    assert_eq!(e.signatures[2].standing, Standing::Withdraws);
    assert!(
        e.status_line().contains("waiting for QA"),
        "{}",
        e.status_line()
    );

    // Carol cannot take back Bob's signature.
    let e = evaluate(
        &policy,
        &change,
        &[
            qa.clone(),
            cs.clone(),
            withdrawal(CAROL, "clinical-safety", &qa),
        ],
    );
    assert_eq!(e.verdict, Verdict::Approved, "{:?}", e.signatures);
    assert!(
        matches!(&e.signatures[2].standing, Standing::Refused(why) if why.contains("someone else")),
        "{:?}",
        e.signatures
    );

    // A withdrawal of a record the change does not hold changes nothing.
    let stray = record(Signing {
        withdraws: Some(format!("sha256:{}", "0".repeat(64))),
        ..signing(BOB, "qa", Meaning::Withdrawal, 10)
    });
    let e = evaluate(&policy, &change, &[qa, cs, stray]);
    assert_eq!(e.verdict, Verdict::Approved);
    assert!(
        matches!(&e.signatures[2].standing, Standing::Refused(why) if why.contains("not among")),
        "{:?}",
        e.signatures
    );
}

/// Issue 14: a record signed offline counts only when the policy allows it,
/// and only when its signing time (on the forge's clock) lies between the
/// forge time of the snapshot it was signed from and the forge time its
/// receipt dates its arrival; not later than max_offline_age.
#[test]
fn an_offline_record_counts_only_when_allowed_and_signed_within_its_window() {
    let allowing = parse(&policy_text(&[]).replacen(
        "version = 1\n",
        "version = 1\n[gate]\nallow_offline_signing = true\nmax_offline_age = \"72h\"\n",
        1,
    ))
    .unwrap();
    let change = |arrival: Option<i64>, record: &Envelope| {
        let mut c = dosing_change();
        if let Some(m) = arrival {
            c.arrivals.insert(record.statement_digest().unwrap(), t(m));
        }
        c
    };
    // Bob signs at minute 0 from a snapshot read at minute -60.
    let offline = |snapshot: i64| {
        record(Signing {
            offline_from: Some(t(snapshot)),
            ..signing(BOB, "qa", Meaning::Approval, 0)
        })
    };
    let qa = offline(-60);
    let standing_of =
        |policy: &countersign_policy::Policy, c: &countersign_policy::Change, r: &Envelope| {
            evaluate(policy, c, std::slice::from_ref(r)).signatures[0]
                .standing
                .clone()
        };
    assert_eq!(
        standing_of(&allowing, &change(Some(30), &qa), &qa),
        Standing::Counted
    );

    let invalid_because = |standing: Standing, why: &str| {
        assert!(
            matches!(&standing, Standing::Invalid(w) if w.contains(why)),
            "{standing:?} should be invalid for {why:?}"
        );
    };
    // No receipt: the arrival cannot be dated.
    invalid_because(
        standing_of(&allowing, &change(None, &qa), &qa),
        "cannot be dated",
    );
    // Signed before the snapshot it claims was read.
    let early = offline(10);
    invalid_because(
        standing_of(&allowing, &change(Some(30), &early), &early),
        "before the snapshot",
    );
    // Dated by its receipt before it was signed.
    invalid_because(
        standing_of(&allowing, &change(Some(-5), &qa), &qa),
        "after it reached the forge",
    );
    // Brought to the forge more than 72 h after the snapshot.
    invalid_because(
        standing_of(&allowing, &change(Some(72 * 60), &qa), &qa),
        "max_offline_age",
    );
    // A policy that does not allow offline signing refuses it, wherever it sits.
    assert!(matches!(
        standing_of(&base_policy(), &change(Some(30), &qa), &qa),
        Standing::Refused(why) if why.contains("allow_offline_signing")
    ));
}

#[test]
fn a_bare_check_is_met_by_the_forges_own_actions_and_by_no_one_else() {
    let policy = base_policy();
    let records = [
        record(signing(BOB, "qa", Meaning::Approval, 0)),
        record(signing(
            CAROL,
            "clinical-safety",
            Meaning::Responsibility,
            5,
        )),
    ];
    // The forge client says whether its own CI reported a check; the
    // policy decides from that, never from the name it gives it.
    let with_build = |app: Option<&str>, is_status: bool| {
        let mut change = dosing_change();
        // Every app named below but `ci-bot` is a forge's own CI.
        let forge_ci = app.is_some_and(|a| a != "ci-bot");
        change.evidence.checks[0].app = app.map(str::to_owned);
        change.evidence.checks[0].is_status = is_status;
        change.evidence.checks[0].forge_ci = forge_ci;
        evaluate(&policy, &change, &records).verdict
    };
    for app in [
        "github-actions",
        "gitea-actions",
        "forgejo-actions",
        "gitlab-ci",
    ] {
        assert_eq!(with_build(Some(app), false), Verdict::Approved, "{app}");
    }
    // A status anyone with write access could set, or another app's run.
    assert_eq!(with_build(None, true), Verdict::Pending);
    assert_eq!(with_build(Some("gitea-actions"), true), Verdict::Pending);
    assert_eq!(with_build(Some("ci-bot"), false), Verdict::Pending);
}
