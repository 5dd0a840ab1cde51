//! Who contributed to a change, as separation of duties must see them: every
//! commit's author and committer — by the account the forge links, else by
//! the e-mail written in the commit — and everyone a `Co-authored-by:`
//! trailer names.
//!
//! E-mail addresses in commits are claims anyone can write. Matching them can
//! only *add* people to the set who may not sign; a contributor that neither
//! the forge nor the roster can name is reported, and the policy decides
//! (`unknown_contributors`).

use std::fmt;

use crate::Policy;

/// One person's part in one commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contributor {
    /// The forge account the forge itself linked, when it did.
    pub user_id: Option<u64>,
    /// The e-mail address written in the commit or trailer.
    pub email: Option<String>,
    pub part: Part,
    /// The commit, abbreviated as people read it.
    pub commit: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Author,
    Committer,
    /// Named by a `Co-authored-by:` trailer.
    CoAuthor,
}

impl fmt::Display for Contributor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let part = match self.part {
            Part::Author => "author",
            Part::Committer => "committer",
            Part::CoAuthor => "co-author",
        };
        let short = &self.commit[..self.commit.len().min(7)];
        match &self.email {
            Some(email) => write!(f, "{email} ({part} of {short})"),
            None => write!(f, "{part} of {short}"),
        }
    }
}

/// The e-mail addresses of every `Co-authored-by:` trailer in `message`.
///
/// Git's trailer grammar is wider (folded lines, other separators), but the
/// forges write and read this one form: `Co-authored-by: Name <address>`,
/// the key in any case. Written by hand: no maintained crate parses trailers
/// without a whole git implementation.
pub fn co_authors(message: &str) -> Vec<String> {
    message
        .lines()
        .filter_map(|line| {
            let (key, value) = line.trim().split_once(':')?;
            if !key.trim().eq_ignore_ascii_case("co-authored-by") {
                return None;
            }
            let start = value.find('<')?;
            let end = value[start..].find('>')? + start;
            let email = value[start + 1..end].trim();
            (!email.is_empty()).then(|| email.to_owned())
        })
        .collect()
}

/// The account id in a forge's no-reply address (`<id>+<login>@users.noreply.<host>`).
fn no_reply_id(email: &str) -> Option<u64> {
    let (local, domain) = email.split_once('@')?;
    if !domain.to_ascii_lowercase().starts_with("users.noreply.") {
        return None;
    }
    local.split_once('+')?.0.parse().ok()
}

impl Policy {
    /// Every forge user id `c` stands for: the account the forge linked, the
    /// roster members who list its e-mail, the id in a no-reply address.
    /// Empty: nobody can name this contributor.
    pub fn people_behind(&self, host: &str, c: &Contributor) -> Vec<u64> {
        let mut ids: Vec<u64> = c.user_id.into_iter().collect();
        if let Some(email) = &c.email {
            for role in &self.roles {
                for m in &role.members {
                    if m.forge == host && m.emails.iter().any(|e| e.eq_ignore_ascii_case(email)) {
                        ids.push(m.user_id);
                    }
                }
            }
            ids.extend(no_reply_id(email));
        }
        ids.sort_unstable();
        ids.dedup();
        ids
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailers_are_read_in_any_case_and_anywhere_in_the_message() {
        let message = "dosing: pair\n\nBody.\n\nco-authored-by: Bob <Bob@Acme.example>\nCo-Authored-By:   Carol Weiss <5003+carol@users.noreply.github.com> \nSigned-off-by: Alice <alice@acme.example>\nCo-authored-by: no address\n";
        assert_eq!(
            co_authors(message),
            ["Bob@Acme.example", "5003+carol@users.noreply.github.com"]
        );
        assert!(co_authors("Co-authored-by: <>").is_empty());
    }

    #[test]
    fn no_reply_addresses_name_their_account() {
        assert_eq!(
            no_reply_id("5002+bob-qa@users.noreply.github.com"),
            Some(5002)
        );
        assert_eq!(
            no_reply_id("5002+bob@users.noreply.git.acme.example"),
            Some(5002)
        );
        assert_eq!(no_reply_id("5002+bob@acme.example"), None);
        assert_eq!(no_reply_id("bob@users.noreply.github.com"), None);
    }
}
