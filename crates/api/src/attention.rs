//! When to tell the signer they are needed: the tray's count and the desktop
//! notifications. The rules live here, apart from the shell that shows them,
//! so that they can be tested without a desktop.
//!
//! - A change is announced when it **newly** waits for one of my roles, or
//!   when one of my signatures on it **newly** turned stale.
//! - Never for my own actions: a change I signed or withdrew on since the
//!   last look, or whose new head I pushed myself, is taken as seen.
//! - Opening the app is not news: what was in the queue at the first look
//!   is learnt, not announced, even when the watch judges it only later.
//! - Forge text (the title) reaches the body escaped: servers may read
//!   markup there.
//! - At most [`BURST`] notifications per [`BURST_WINDOW`]; when more are due,
//!   the last one allowed says how many changes need me, and opens the queue.
//!   When none is allowed, the notices wait for room, and are shown then if
//!   they still hold.

use std::collections::{HashMap, HashSet, VecDeque};

use chrono::{DateTime, Duration, Utc};

use crate::contract::ChangeRequestRef;
use crate::forge_text::for_notification;

pub const BURST: usize = 3;
pub const BURST_WINDOW: Duration = Duration::minutes(10);

/// What a look found about one change, from its last review at its head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judged {
    pub change: ChangeRequestRef,
    pub title: String,
    pub head_sha: String,
    /// Judged at its current head at all (the watch judges a few per look);
    /// when not, the two answers below are unknown, not "no".
    pub known: bool,
    /// A requirement one of my roles may meet now is open.
    pub waiting: bool,
    /// One of my signatures on it no longer counts because the change moved.
    pub mine_stale: bool,
    /// Its head commit is mine (my own push made it move).
    pub head_is_mine: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoticeKind {
    NeedsMyRole,
    MySignatureStale,
    /// More were due than the rate allows: how many changes need me.
    Several(usize),
}

/// One desktop notification to show. `change` is what a click opens (none:
/// the queue).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub kind: NoticeKind,
    pub change: Option<ChangeRequestRef>,
    pub title: String,
    pub body: String,
}

/// What the tray shows and the notifications due after one look.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attention {
    /// The changes waiting for one of my roles, in queue order.
    pub waiting: Vec<(ChangeRequestRef, String)>,
    pub notices: Vec<Notice>,
}

#[derive(Debug, Default)]
pub struct Watch {
    looked: bool,
    seen: HashMap<(String, u32), Seen>,
    sent: VecDeque<DateTime<Utc>>,
    /// Notices the rate held back, shown once there is room again while
    /// they still hold (the change still waits for me, or my signature is
    /// still stale, and I did not act on it).
    held: HashMap<(String, u32), Notice>,
}

#[derive(Debug, Clone, Copy)]
struct Seen {
    /// (waiting, mine stale) as last known.
    known: Option<(bool, bool)>,
    /// First in the queue after the first look: its first answer is news.
    /// A change there at start and judged later is what the app opened on.
    late: bool,
}

impl Watch {
    /// One look: `judged` is every change as now judged; `acted` the changes
    /// I signed or withdrew on since the last look.
    pub fn look(
        &mut self,
        now: DateTime<Utc>,
        judged: &[Judged],
        acted: &HashSet<(String, u32)>,
    ) -> Attention {
        let mut due = Vec::new();
        self.held.retain(|key, notice| {
            judged.iter().any(|j| {
                (&j.change.repo, j.change.number) == (&key.0, key.1)
                    && j.known
                    && !acted.contains(key)
                    && match notice.kind {
                        NoticeKind::MySignatureStale => j.mine_stale,
                        _ => j.waiting,
                    }
            })
        });
        for j in judged {
            let key = (j.change.repo.clone(), j.change.number);
            let seen = self.seen.entry(key.clone()).or_insert(Seen {
                known: None,
                late: self.looked,
            });
            let before = seen.known;
            if j.known {
                seen.known = Some((j.waiting, j.mine_stale));
            }
            let (was_waiting, was_stale) = match before {
                Some(known) => known,
                None if seen.late => (false, false),
                None => continue,
            };
            if !self.looked || !j.known || acted.contains(&key) {
                continue;
            }
            let about = |kind, lead: &str, body: String| Notice {
                kind,
                change: Some(j.change.clone()),
                title: format!("{lead}: {} #{}", j.change.repo, j.change.number),
                body,
            };
            if j.mine_stale && !was_stale && !j.head_is_mine {
                due.push(about(
                    NoticeKind::MySignatureStale,
                    "Your signature no longer counts",
                    format!(
                        "{} changed after you signed. Review it again.",
                        for_notification(&j.title)
                    ),
                ));
            } else if j.waiting && !was_waiting {
                due.push(about(
                    NoticeKind::NeedsMyRole,
                    "Needs your signature",
                    for_notification(&j.title),
                ));
            }
        }
        self.looked = true;
        let waiting: Vec<_> = judged
            .iter()
            .filter(|j| j.waiting)
            .map(|j| (j.change.clone(), j.title.clone()))
            .collect();
        while self.sent.front().is_some_and(|t| now - *t >= BURST_WINDOW) {
            self.sent.pop_front();
        }
        let room = BURST.saturating_sub(self.sent.len());
        // Held back first: they are older news.
        let mut earlier: Vec<Notice> = self.held.drain().map(|(_, n)| n).collect();
        earlier.sort_by_key(|n| n.change.as_ref().map(|c| (c.repo.clone(), c.number)));
        due.splice(0..0, earlier);
        let notices = if due.len() <= room {
            due
        } else if room == 0 {
            for notice in due {
                if let Some(c) = &notice.change {
                    self.held.insert((c.repo.clone(), c.number), notice);
                }
            }
            Vec::new()
        } else {
            let mut shown: Vec<Notice> = due.drain(..room - 1).collect();
            let more = due.len();
            shown.push(Notice {
                kind: NoticeKind::Several(more),
                change: None,
                title: format!("{more} changes need you"),
                body: "Open Countersign to see them.".to_owned(),
            });
            shown
        };
        self.sent.extend(notices.iter().map(|_| now));
        Attention { waiting, notices }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn j(number: u32, waiting: bool, mine_stale: bool) -> Judged {
        Judged {
            change: ChangeRequestRef {
                repo: "acme/pump".into(),
                number,
            },
            title: format!("change {number}"),
            head_sha: "a".repeat(40),
            known: true,
            waiting,
            mine_stale,
            head_is_mine: false,
        }
    }

    fn kinds(a: &Attention) -> Vec<(NoticeKind, Option<u32>)> {
        a.notices
            .iter()
            .map(|n| (n.kind.clone(), n.change.as_ref().map(|c| c.number)))
            .collect()
    }

    #[test]
    fn the_first_look_is_not_news_and_only_changes_are_announced() {
        let mut w = Watch::default();
        let t = Utc::now();
        let none = HashSet::new();
        let first = w.look(t, &[j(1, true, false), j(2, false, false)], &none);
        assert!(first.notices.is_empty());
        assert_eq!(first.waiting.len(), 1);
        // Nothing changed: nothing to say.
        assert!(w
            .look(t, &[j(1, true, false), j(2, false, false)], &none)
            .notices
            .is_empty());
        // 2 now waits for me, and my signature on 1 went stale.
        let next = w.look(
            t,
            &[j(1, false, true), j(2, true, false), j(3, true, false)],
            &none,
        );
        assert_eq!(
            kinds(&next),
            vec![
                (NoticeKind::MySignatureStale, Some(1)),
                (NoticeKind::NeedsMyRole, Some(2)),
                (NoticeKind::NeedsMyRole, Some(3)),
            ]
        );
        assert_eq!(next.waiting.len(), 2);
    }

    #[test]
    fn what_was_there_at_start_is_not_news_when_judged_later_and_what_came_later_is() {
        let mut w = Watch::default();
        let t = Utc::now();
        let none = HashSet::new();
        let mut unknown = j(1, false, false);
        unknown.known = false;
        assert!(w.look(t, &[unknown.clone()], &none).notices.is_empty());
        // Judged on the second look: it was waiting when the app opened.
        let mut new = j(2, false, false);
        new.known = false;
        assert!(w
            .look(t, &[j(1, true, false), new], &none)
            .notices
            .is_empty());
        // #2 came after the start; judged now, it waits for me: news.
        let next = w.look(t, &[j(1, true, false), j(2, true, false)], &none);
        assert_eq!(kinds(&next), vec![(NoticeKind::NeedsMyRole, Some(2))]);
    }

    #[test]
    fn my_own_actions_are_never_announced() {
        let mut w = Watch::default();
        let t = Utc::now();
        w.look(
            t,
            &[j(1, false, false), j(2, false, false)],
            &HashSet::new(),
        );
        // I withdrew on 1 (so it waits for me again); I pushed to 2 (so my signature went stale).
        let acted = HashSet::from([("acme/pump".to_owned(), 1)]);
        let mut pushed = j(2, false, true);
        pushed.head_is_mine = true;
        let next = w.look(t, &[j(1, true, false), pushed], &acted);
        assert!(next.notices.is_empty(), "{:?}", next.notices);
        assert_eq!(next.waiting.len(), 1, "the tray still counts it");
    }

    #[test]
    fn a_burst_is_cut_to_the_rate_and_says_how_many_more() {
        let mut w = Watch::default();
        let t = Utc::now();
        let none = HashSet::new();
        w.look(t, &[], &none);
        let five: Vec<_> = (1..=5).map(|n| j(n, true, false)).collect();
        let burst = w.look(t, &five, &none);
        assert_eq!(
            kinds(&burst),
            vec![
                (NoticeKind::NeedsMyRole, Some(1)),
                (NoticeKind::NeedsMyRole, Some(2)),
                (NoticeKind::Several(3), None),
            ]
        );
        // The window is full: #6 and #8 are held back for now...
        let mut more = five.clone();
        more.push(j(6, true, false));
        more.push(j(8, true, false));
        assert!(w
            .look(t + Duration::minutes(5), &more, &none)
            .notices
            .is_empty());
        // ...#8 no longer waits for me by the time there is room, #6 does;
        // it comes first, before #7 that came meanwhile.
        more.pop();
        more.push(j(8, false, false));
        more.push(j(7, true, false));
        let later = w.look(t + Duration::minutes(10), &more, &none);
        assert_eq!(
            kinds(&later),
            vec![
                (NoticeKind::NeedsMyRole, Some(6)),
                (NoticeKind::NeedsMyRole, Some(7))
            ]
        );
    }
}
