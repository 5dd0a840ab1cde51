// Administration of the approval policy: the file on the default branch,
// checked on every edit, signers added from their enrolment records, and the
// result proposed as a pull request that the current policy governs.

import { call } from "../backend";
import { el, replaceChildren } from "../dom";
import type { ApiError, PolicyCheck, PolicyDraft } from "../ipc/contract";

function errorBox(e: ApiError): HTMLElement {
  return el("p", { class: "state error", role: "alert", "data-testid": "admin-error", "data-code": e.code }, e.message);
}

function checkSummary(check: PolicyCheck): HTMLElement {
  if (check.problem) {
    const p = check.problem;
    return el(
      "p",
      { class: "state error", role: "alert", "data-testid": "policy-problem", "data-line": String(p.line) },
      `Line ${p.line}, column ${p.column}: ${p.message}`,
    );
  }
  return el(
    "div",
    { "data-testid": "policy-ok" },
    el("p", { class: "ok" }, `Valid: ${check.roles.length} roles, ${check.rules.length} rules.`),
    el(
      "ul",
      { class: "roster" },
      ...check.roles.map((r) =>
        el(
          "li",
          { "data-testid": "roster-role", "data-role": r.name },
          el("strong", {}, r.description ? `${r.name} — ${r.description}` : r.name),
          r.members.length === 0
            ? el("span", { class: "muted" }, " · no members")
            : el("span", {}, " · " + r.members.map((m) => `${m.printed_name} (@${m.login}, ${m.keys} key${m.keys === 1 ? "" : "s"})`).join("; ")),
        ),
      ),
    ),
  );
}

export function adminView(defaultRepo: string | null): HTMLElement {
  const root = el("section", { class: "admin", "data-testid": "admin", "aria-label": "Policy administration" });
  const repo = el("input", { type: "text", "data-testid": "admin-repo", placeholder: "owner/repository", value: defaultRepo ?? "" });
  const load = el("button", { type: "button", class: "primary", "data-testid": "admin-load" }, "Open the policy");
  const body = el("div", {});
  load.addEventListener("click", async () => {
    load.disabled = true;
    replaceChildren(body, el("p", { class: "muted" }, "Reading the policy on the default branch…"));
    try {
      replaceChildren(body, editor(await call("admin_policy", { repo: repo.value.trim() })));
    } catch (e) {
      replaceChildren(body, errorBox(e as ApiError));
    } finally {
      load.disabled = false;
    }
  });
  replaceChildren(
    root,
    el("h1", {}, "Approval policy"),
    el("p", { class: "muted" }, "Changes are proposed as a pull request: they take effect only when that pull request is approved under the current policy and merged."),
    el("div", { class: "row" }, repo, load),
    body,
  );
  return root;
}

function editor(draft: PolicyDraft): HTMLElement {
  const text = el("textarea", { class: "policy-text mono", rows: "24", spellcheck: "false", "data-testid": "policy-text" }, draft.check.text);
  const summary = el("div", {});
  const show = (check: PolicyCheck) => replaceChildren(summary, checkSummary(check));
  show(draft.check);
  let pending = 0;
  text.addEventListener("input", () => {
    const ticket = ++pending;
    void call("check_policy", { text: text.value }).then((c) => {
      if (ticket === pending) show(c);
    });
  });

  const role = el("select", { "data-testid": "signer-role" }, ...draft.check.roles.map((r) => el("option", { value: r.name }, r.name)));
  const record = el("textarea", { rows: "6", class: "mono", "data-testid": "signer-record", placeholder: "Paste the signer's enrolment record (JSON)" });
  const add = el("button", { type: "button", "data-testid": "signer-add" }, "Add to role");
  const addResult = el("div", {});
  add.addEventListener("click", async () => {
    try {
      const checked = await call("add_signer", { text: text.value, role: role.value, record_json: record.value });
      text.value = checked.text;
      record.value = "";
      show(checked);
      replaceChildren(addResult, el("p", { class: "ok" }, "Added. Review the text, then propose the change."));
    } catch (e) {
      replaceChildren(addResult, errorBox(e as ApiError));
    }
  });

  const reason = el("textarea", { rows: "3", "data-testid": "policy-reason", placeholder: "Why the policy changes (required)" });
  const propose = el("button", { type: "button", class: "primary", "data-testid": "policy-propose" }, "Propose as a pull request");
  const outcome = el("div", {});
  propose.addEventListener("click", async () => {
    propose.disabled = true;
    try {
      const p = await call("propose_policy", { repo: draft.repo, text: text.value, reason: reason.value });
      replaceChildren(outcome, el("p", { class: "ok", "data-testid": "policy-proposed" }, `Proposed as pull request #${p.number} from branch ${p.branch}.`));
    } catch (e) {
      replaceChildren(outcome, errorBox(e as ApiError));
    } finally {
      propose.disabled = false;
    }
  });

  return el(
    "div",
    { class: "policy-editor" },
    el("p", { class: "muted" }, `${draft.repo} · ${draft.base_branch} · ${draft.digest ?? "no policy yet"}`),
    summary,
    el("h2", {}, "Add a signer"),
    el("div", { class: "row" }, role, add),
    record,
    addResult,
    el("h2", {}, "Policy file (.countersign/policy.toml)"),
    text,
    el("h2", {}, "Propose"),
    reason,
    propose,
    outcome,
    revokeSection(draft),
    resetSection(draft),
  );
}

/// Authorize a member who forgot their signing password to enrol a new key:
/// one of the two authorizations the policy's reset_by role must give.
function resetSection(draft: PolicyDraft): HTMLElement {
  const logins = [...new Set(draft.check.roles.flatMap((r) => r.members.map((m) => m.login)))];
  if (logins.length === 0) return el("div", {});
  const login = el("select", { "data-testid": "reset-login", "aria-label": "Member" }, ...logins.map((l) => el("option", { value: l }, `@${l}`)));
  const reason = el("textarea", { rows: "2", "data-testid": "reset-reason", placeholder: "How you confirmed who they are (required)" });
  const password = el("input", { type: "password", "data-testid": "reset-password", autocomplete: "current-password", "aria-label": "Your signing password" });
  const go = el("button", { type: "button", "data-testid": "reset-submit" }, "Sign the authorization and propose it");
  const outcome = el("div", {});
  go.addEventListener("click", async () => {
    go.disabled = true;
    try {
      const c = await call("authorize_reset", { repo: draft.repo, login: login.value, reason: reason.value, password: password.value });
      replaceChildren(outcome, el("p", { class: "ok", "data-testid": "reset-proposed" }, `Proposed as pull request #${c.number}: your authorization for ${c.holder} is ${c.record_path}. It counts once merged, with another member's.`));
    } catch (e) {
      replaceChildren(outcome, errorBox(e as ApiError));
    } finally {
      password.value = "";
      go.disabled = false;
    }
  });
  return el(
    "div",
    { "data-testid": "reset" },
    el("h2", {}, "Authorize a password reset"),
    el("p", { class: "muted" }, "For a member who forgot their signing password. Two members of the policy's reset_by role must each authorize it; then the member enrols a new key, and their old key is revoked."),
    el("label", { class: "field" }, el("span", { class: "field-label" }, "Member"), login),
    el("label", { class: "field" }, el("span", { class: "field-label" }, "Reason"), reason),
    el("label", { class: "field" }, el("span", { class: "field-label" }, "Your signing password"), password),
    go,
    outcome,
  );
}

/// Revoke a member's key (lost laptop, leaver): the roster edit and a
/// revocation record signed with your own key, proposed as one pull request.
function revokeSection(draft: PolicyDraft): HTMLElement {
  const keys = new Map<string, string>();
  for (const r of draft.check.roles) {
    for (const m of r.members) {
      for (const k of m.key_list) {
        if (k.revoked_at === null && k.valid_until === null && !keys.has(k.public_key)) keys.set(k.public_key, `${m.printed_name} (@${m.login}) · ${k.fingerprint}`);
      }
    }
  }
  if (keys.size === 0) return el("div", {});
  const key = el("select", { "data-testid": "revoke-key", "aria-label": "Key to revoke" }, ...[...keys].map(([value, label]) => el("option", { value }, label)));
  const reason = el("textarea", { rows: "2", "data-testid": "revoke-reason", placeholder: "Why (required): e.g. laptop lost, left the company" });
  const password = el("input", { type: "password", "data-testid": "revoke-password", autocomplete: "current-password", "aria-label": "Your signing password" });
  const revoke = el("button", { type: "button", class: "danger", "data-testid": "revoke-submit" }, "Sign the revocation and propose it");
  const outcome = el("div", {});
  revoke.addEventListener("click", async () => {
    revoke.disabled = true;
    try {
      const c = await call("revoke_key", { repo: draft.repo, public_key: key.value, reason: reason.value, password: password.value });
      replaceChildren(
        outcome,
        el("p", { class: "ok", "data-testid": "revoke-proposed" }, `Proposed as pull request #${c.number} from ${c.branch}: ${c.holder}'s key revoked in ${c.roles.join(", ")}; the signed record is ${c.record_path}.`),
      );
    } catch (e) {
      replaceChildren(outcome, errorBox(e as ApiError));
    } finally {
      password.value = "";
      revoke.disabled = false;
    }
  });
  return el(
    "div",
    { "data-testid": "revoke" },
    el("h2", {}, "Revoke a signing key"),
    el("p", { class: "muted" }, "For a lost or stolen device, or someone who left. What the key signed before stays valid; it signs nothing once the pull request is merged."),
    el("label", { class: "field" }, el("span", { class: "field-label" }, "Key"), key),
    el("label", { class: "field" }, el("span", { class: "field-label" }, "Reason"), reason),
    el("label", { class: "field" }, el("span", { class: "field-label" }, "Your signing password"), password),
    revoke,
    outcome,
  );
}
