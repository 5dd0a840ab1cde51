//! Laws the gate's decision obeys, checked by property tests over generated
//! policies (quorum, order, separation of duties), contributors, and sets and
//! orders of real signed records: valid ones (in and out of order, by the
//! author, by a revoked key, twice by one person), rejections, and records
//! that must never help (stale, signed for another change request, altered,
//! signed with a key the roster does not hold).
//!
//! A shrunk counterexample becomes a regular test in `evaluate.rs`.

use std::sync::OnceLock;

use base64::Engine;
use countersign_policy::evaluate::Standing;
use countersign_policy::{evaluate, parse, Contributor, Evaluation, Part, Verdict};
use countersign_signing::dsse::Envelope;
use countersign_signing::Meaning;
use proptest::prelude::*;
use proptest::sample::{select, subsequence};

mod fixture;
use fixture::*;

/// A person outside the base roster, whose records must never count.
const MALLORY: (u64, &str, &str, u8) = (5099, "mallory", "Mallory", 9);

struct Pool {
    /// Verifying records by roster members, none of them a rejection.
    valid: Vec<Envelope>,
    rejections: Vec<Envelope>,
    /// Records that must never turn a change approved.
    harmless: Vec<Envelope>,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        let at = |who, role, meaning, minute| record(signing(who, role, meaning, minute));
        let valid = vec![
            at(BOB, "qa", Meaning::Approval, 0),
            at(EVE, "qa", Meaning::Review, 3),
            at(CAROL, "clinical-safety", Meaning::Responsibility, 10),
            // Clinical Safety before QA: out of order.
            at(CAROL, "clinical-safety", Meaning::Responsibility, 1),
            at(BOB, "qa", Meaning::Approval, 20),
            // Dan's key was revoked before he signed; Alice wrote the change;
            // a meaning the rule does not allow.
            at(DAN, "release", Meaning::Approval, 5),
            at(ALICE, "qa", Meaning::Approval, 6),
            at(EVE, "qa", Meaning::Responsibility, 7),
        ];
        let rejections = vec![at(EVE, "qa", Meaning::Rejection, 30)];
        let stale = record(Signing {
            head: NEW_HEAD,
            ..signing(BOB, "qa", Meaning::Approval, 2)
        });
        let mut foreign = signing(CAROL, "clinical-safety", Meaning::Responsibility, 11);
        foreign.number = 4242;
        let foreign = record(foreign);
        let mut altered = at(CAROL, "clinical-safety", Meaning::Responsibility, 12);
        let b64 = base64::engine::general_purpose::STANDARD;
        let text = String::from_utf8(b64.decode(&altered.payload).unwrap()).unwrap();
        altered.payload = b64.encode(text.replace("Checked the controls", "Skimmed the controls"));
        let stranger = at(MALLORY, "clinical-safety", Meaning::Responsibility, 13);
        Pool {
            valid,
            rejections,
            harmless: vec![stale, foreign, altered, stranger],
        }
    })
}

/// A policy and the people who contributed to the change.
#[derive(Debug, Clone)]
struct World {
    policy: String,
    contributors: Vec<u64>,
}

fn worlds() -> impl Strategy<Value = World> {
    (1u32..=2, any::<bool>(), any::<bool>(), any::<bool>(), subsequence(vec![BOB.0, EVE.0], 0..=2))
        .prop_map(|(quorum, ordered, author_cannot_sign, one_role, contributors)| {
            let mut policy = policy_text(&[ALICE, EVE]).replacen(
                "[[roles]]",
                &format!(
                    "[separation_of_duties]\nauthor_cannot_sign = {author_cannot_sign}\none_role_per_person = {one_role}\n[[roles]]"
                ),
                1,
            );
            policy = policy.replace(
                "{ role = \"qa\", meanings",
                &format!("{{ role = \"qa\", signatures = {quorum}, meanings"),
            );
            if !ordered {
                policy = policy.replace("order = [\"qa\", \"clinical-safety\"]\n", "");
            }
            World { policy, contributors }
        })
}

fn judge_in(world: &World, records: &[Envelope]) -> Evaluation {
    let policy = parse(&world.policy).expect("a generated policy parses");
    let mut change = dosing_change();
    change
        .contributors
        .extend(world.contributors.iter().map(|&id| Contributor {
            user_id: Some(id),
            email: None,
            part: Part::Committer,
            commit: NEW_HEAD.into(),
        }));
    evaluate(&policy, &change, records)
}

fn approved_in(world: &World, records: &[Envelope]) -> bool {
    judge_in(world, records).verdict == Verdict::Approved
}

/// The fixture's own policy (QA then Clinical Safety, one each) and no other contributor.
fn plain() -> World {
    World {
        policy: policy_text(&[ALICE, EVE]),
        contributors: Vec::new(),
    }
}

fn judge(records: &[Envelope]) -> Evaluation {
    judge_in(&plain(), records)
}

/// Some valid records and rejections, in any order.
fn record_sets() -> impl Strategy<Value = Vec<Envelope>> {
    let p = pool();
    let all: Vec<Envelope> = p.valid.iter().chain(&p.rejections).cloned().collect();
    let n = all.len();
    subsequence(all, 0..=n).prop_shuffle()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn adding_a_harmless_or_duplicate_record_never_approves(
        world in worlds(),
        set in record_sets(),
        extra in select(pool().harmless.clone()),
        at in any::<prop::sample::Index>(),
        duplicate in any::<bool>(),
    ) {
        let before = approved_in(&world, &set);
        let mut more = set.clone();
        let added = match (duplicate, set.is_empty()) {
            (true, false) => set[at.index(set.len())].clone(),
            _ => extra,
        };
        more.insert(at.index(more.len() + 1), added);
        prop_assert!(before || !approved_in(&world, &more), "{:?}", judge_in(&world, &more).verdict);
    }

    #[test]
    fn removing_a_valid_record_never_approves(
        world in worlds(),
        set in record_sets(),
        at in any::<prop::sample::Index>(),
    ) {
        prop_assume!(!set.is_empty());
        let i = at.index(set.len());
        prop_assume!(!pool().rejections.contains(&set[i]));
        let mut fewer = set.clone();
        fewer.remove(i);
        prop_assert!(approved_in(&world, &set) || !approved_in(&world, &fewer));
    }

    #[test]
    fn nobody_counts_twice_for_one_requirement(world in worlds(), set in record_sets()) {
        for r in judge_in(&world, &set).requirements {
            let mut names = r.signed_by.clone();
            names.sort();
            names.dedup();
            prop_assert_eq!(names.len(), r.signed_by.len(), "{:?}", r);
        }
    }

    #[test]
    fn the_verdict_does_not_depend_on_the_order_records_are_read(
        world in worlds(),
        set in record_sets(),
        seed in any::<u64>(),
    ) {
        let mut shuffled = set.clone();
        // A deterministic shuffle of the same records.
        shuffled.sort_by_key(|e| {
            let mut h = seed;
            for b in e.signatures[0].sig.bytes() {
                h = h.wrapping_mul(31).wrapping_add(u64::from(b));
            }
            h
        });
        prop_assert_eq!(judge_in(&world, &set).verdict, judge_in(&world, &shuffled).verdict);
    }

    #[test]
    fn whether_a_record_holds_depends_on_it_the_change_and_the_policy_alone(
        world in worlds(),
        set in record_sets(),
        extra in select(pool().harmless.clone()),
    ) {
        let mut all = set.clone();
        all.push(extra);
        let together = judge_in(&world, &all);
        for (record, standing) in all.iter().zip(standings_in_record_order(&all, &together)) {
            let alone = judge_in(&world, std::slice::from_ref(record));
            let kind = |s: &Standing| std::mem::discriminant(s);
            let held = |s: &Standing| matches!(s, Standing::Invalid(_) | Standing::Stale(_));
            if held(&standing) || held(&alone.signatures[0].standing) {
                prop_assert_eq!(kind(&standing), kind(&alone.signatures[0].standing));
            }
        }
    }
}

/// The standing of each record, in the order given (evaluation sorts them by
/// signing time; every record here has its own key id and time).
fn standings_in_record_order(records: &[Envelope], e: &Evaluation) -> Vec<Standing> {
    records
        .iter()
        .map(|r| {
            let alone = judge(std::slice::from_ref(r));
            let me = &alone.signatures[0];
            e.signatures
                .iter()
                .find(|s| {
                    s.key_id == me.key_id && s.signed_at == me.signed_at && s.meaning == me.meaning
                })
                .map(|s| s.standing.clone())
                .expect("every record is in the evaluation")
        })
        .collect()
}

/// The laws say something only if the pool can approve the change and each
/// harmless record, alone with an approving pair, really is rejected as such.
#[test]
fn the_pool_can_approve_and_its_harmless_records_are_refused() {
    let p = pool();
    let pair = [p.valid[0].clone(), p.valid[2].clone()];
    assert_eq!(judge(&pair).verdict, Verdict::Approved);
    for extra in &p.harmless {
        let e = judge(std::slice::from_ref(extra));
        assert!(
            !matches!(
                e.signatures[0].standing,
                Standing::Counted | Standing::NotNeeded
            ),
            "{:?}",
            e.signatures[0]
        );
    }
    let mut rejected = pair.to_vec();
    rejected.extend(p.rejections.iter().cloned());
    assert_eq!(judge(&rejected).verdict, Verdict::Rejected);
}
