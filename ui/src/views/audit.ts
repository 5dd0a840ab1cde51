// The audit-trail viewer (filter by change request, person, event type and
// time, with a fresh verification of the chain) and the outbox of signed
// records still waiting for the forge.

import { call } from "../backend";
import { el, replaceChildren } from "../dom";
import { localTime } from "../format";
import type { ApiError, AuditFilter, AuditTrail, Outbox } from "../ipc/contract";

const KINDS = [
  "", "enrolment", "auth_succeeded", "auth_failed", "lockout", "session_ended", "sign", "reject", "revoke",
  "push", "push_failed", "policy_seen", "sync", "export", "settings_change", "key_rotation", "key_revocation",
];

function checkBanner(trail: AuditTrail): HTMLElement {
  const c = trail.check;
  return c.holds
    ? el("p", { class: "state ok", "data-testid": "audit-check", "data-holds": "true" }, `Verified: ${c.size} entries, chain head ${c.head.slice(0, 16)}…`)
    : el("p", { class: "state error", role: "alert", "data-testid": "audit-check", "data-holds": "false" }, `The audit trail does not verify: ${c.problem ?? "unknown problem"}`);
}

function trailTable(trail: AuditTrail): HTMLElement {
  if (trail.rows.length === 0) return el("p", { class: "state muted", "data-testid": "audit-empty" }, "No entries match.");
  return el(
    "table",
    { class: "audit", "data-testid": "audit-table" },
    el("thead", {}, el("tr", {}, ...["#", "When (UTC)", "What", "Who", "Object", "Change", "Reason / detail"].map((h) => el("th", {}, h)))),
    el(
      "tbody",
      {},
      ...trail.rows.map((r) =>
        el(
          "tr",
          { "data-testid": "audit-row", "data-kind": r.kind },
          el("td", {}, String(r.seq)),
          el("td", {}, localTime(r.at_utc, `recorded with local offset ${r.local_offset}${r.forge_time === null ? "" : `; forge time ${r.forge_time}`}`)),
          el("td", {}, r.kind),
          el("td", {}, r.printed_name ? `${r.printed_name} (${r.actor})` : r.actor),
          el("td", {}, r.object),
          el("td", {}, r.old_value === null && r.new_value === null ? "" : `${r.old_value ?? "—"} → ${r.new_value ?? "—"}`),
          el("td", {}, r.reason ?? r.detail ?? ""),
        ),
      ),
    ),
  );
}

function outboxList(outbox: Outbox): HTMLElement {
  if (outbox.items.length === 0) return el("p", { class: "muted", "data-testid": "outbox-empty" }, "Nothing is waiting to be pushed.");
  return el(
    "ul",
    { class: "outbox", "data-testid": "outbox" },
    ...outbox.items.map((i) =>
      el(
        "li",
        { "data-testid": "outbox-item", "data-state": i.state },
        `${i.repo}#${i.number} → ${i.target}: ${i.state === "pending" ? "waiting" : "pushed"}`,
        i.attempts > 0 ? ` (${i.attempts} attempts)` : "",
        i.last_error ? el("span", { class: "warning" }, ` last error: ${i.last_error}`) : null,
      ),
    ),
  );
}

export function auditView(): HTMLElement {
  const object = el("input", { type: "search", placeholder: "Change request, e.g. #42", "data-testid": "audit-filter-object" });
  const actor = el("input", { type: "search", placeholder: "Person (name or login)", "data-testid": "audit-filter-actor" });
  const kind = el("select", { "data-testid": "audit-filter-kind" }, ...KINDS.map((k) => el("option", { value: k }, k === "" ? "Any event" : k)));
  const since = el("input", { type: "datetime-local", "data-testid": "audit-filter-since" });
  const verify = el("button", { type: "button", class: "primary", "data-testid": "audit-verify" }, "Verify trail");
  const results = el("div", {});
  const outbox = el("div", {});

  const filter = (): AuditFilter => ({
    object: object.value || null,
    actor: actor.value || null,
    kind: kind.value || null,
    since: since.value ? new Date(since.value).toISOString() : null,
  });
  const load = async () => {
    replaceChildren(results, el("p", { class: "muted" }, "Reading the audit trail…"));
    try {
      const trail = await call("audit_trail", filter());
      replaceChildren(results, checkBanner(trail), trailTable(trail));
    } catch (e) {
      const err = e as ApiError;
      replaceChildren(results, el("p", { class: "state error", role: "alert", "data-code": err.code }, err.message));
    }
    await loadOutbox();
  };
  const pushNow = el("button", { type: "button", class: "secondary", "data-testid": "outbox-push" }, "Push now");
  const pushResult = el("span", { class: "muted" });
  const loadOutbox = async () => {
    try {
      replaceChildren(outbox, outboxList(await call("outbox")), el("p", {}, pushNow, " ", pushResult));
    } catch (e) {
      replaceChildren(outbox, el("p", { class: "state error" }, (e as ApiError).message));
    }
  };
  pushNow.addEventListener("click", async () => {
    pushNow.disabled = true;
    try {
      const r = await call("push_outbox");
      pushResult.textContent = r.failed === 0 ? `${r.pushed} pushed` : `${r.failed} still waiting: ${r.errors.join("; ")}`;
    } catch (e) {
      pushResult.textContent = (e as ApiError).message;
    } finally {
      pushNow.disabled = false;
      await loadOutbox();
    }
  });
  for (const input of [object, actor, kind, since]) input.addEventListener("change", () => void load());
  verify.addEventListener("click", () => void load());
  void load();

  return el(
    "section",
    { class: "audit-view", "data-testid": "audit-view", "aria-label": "Audit trail" },
    el("h1", {}, "Audit trail"),
    el("div", { class: "filters" }, object, actor, kind, since, verify),
    results,
    el("h2", {}, "Outbox"),
    outbox,
  );
}
