// "My signing identity": the key this device signs with, when it was
// enrolled, how old its password is, whether a signing session is open, the
// security keys registered with it, and the public enrolment record an
// administrator adds to the roster.

import { call } from "../backend";
import { el, replaceChildren } from "../dom";
import { localTime } from "../format";
import type { ApiError, SignerStatus } from "../ipc/contract";

function errorBox(e: ApiError): HTMLElement {
  return el("p", { class: "state error", role: "alert", "data-testid": "identity-error", "data-code": e.code }, e.message);
}

function daysSince(iso: string): number {
  return Math.floor((Date.now() - Date.parse(iso)) / 86_400_000);
}

export function identityView(): HTMLElement {
  const root = el("section", { class: "identity", "data-testid": "identity", "aria-label": "My signing identity" });
  const load = () => {
    replaceChildren(root, el("p", { class: "muted" }, "Reading your signing key…"));
    call("signer_status").then(
      (s) => replaceChildren(root, render(s, load)),
      (e: ApiError) => replaceChildren(root, errorBox(e)),
    );
  };
  load();
  return root;
}

function render(s: SignerStatus, reload: () => void): HTMLElement {
  const who = s.identity.name ? `${s.identity.name} (@${s.identity.login})` : `@${s.identity.login}`;
  if (!s.enrolled) {
    return el(
      "div",
      {},
      el("h1", {}, "My signing identity"),
      el("p", { "data-testid": "identity-not-enrolled" }, `${who} has no signing key on this device. Open any change request to enrol.`),
    );
  }
  const facts: [string, Node | string][] = [
    ["Printed name", s.printed_name ?? ""],
    ["Forge account", who],
    ["Signing key", el("span", { class: "mono", "data-testid": "identity-fingerprint" }, s.fingerprint ?? "")],
    ["Enrolled", s.enrolled_at ? localTime(s.enrolled_at) : "not recorded"],
    [
      "Signing password",
      s.password_set_at
        ? el("span", { "data-testid": "identity-password-age" }, "set ", localTime(s.password_set_at), ` (${daysSince(s.password_set_at)} days ago)`)
        : "set at enrolment",
    ],
    [
      "Signing session",
      s.session_ends_at
        ? el("span", { "data-testid": "identity-session" }, "open until ", localTime(s.session_ends_at), " unless used again")
        : el("span", { "data-testid": "identity-session" }, "none: the next signature asks for your forge identity and password"),
    ],
    ["Lockout", s.locked_until ? localTime(s.locked_until) : "not locked"],
  ];
  const keys = s.security_key_ids.length
    ? el("ul", { "data-testid": "identity-security-keys" }, ...s.security_key_ids.map((id) => securityKeyRow(id, reload)))
    : el("p", { class: "muted" }, "No security key registered. Register one from the signing panel of any change request.");
  const record = el("textarea", { class: "mono", rows: "8", readonly: "true", "data-testid": "identity-record", "aria-label": "Public enrolment record" }, s.enrolment_record ?? "");
  return el(
    "div",
    {},
    el("h1", {}, "My signing identity"),
    el("dl", { class: "facts" }, ...facts.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)])),
    el("h2", {}, "Security keys"),
    keys,
    el("h2", {}, "Public enrolment record"),
    el("p", { class: "muted" }, "Hand this to an administrator: it adds your key to the policy roster. It holds no secret."),
    record,
    el("p", { class: "muted" }, "Changing your password, moving to a new key and a forgotten password are in the signing panel of any change request."),
  );
}

function securityKeyRow(id: string, reload: () => void): HTMLElement {
  const reason = el("input", { type: "text", "data-testid": "remove-key-reason", placeholder: "Why (lost, replaced…)", "aria-label": `Why remove ${id}` });
  const remove = el("button", { type: "button", class: "secondary", "data-testid": "remove-key" }, "Remove");
  const outcome = el("span", { role: "status" });
  remove.addEventListener("click", async () => {
    remove.disabled = true;
    try {
      await call("remove_security_key", { credential_id: id, reason: reason.value });
      reload();
    } catch (e) {
      replaceChildren(outcome, errorBox(e as ApiError));
      remove.disabled = false;
    }
  });
  return el("li", { "data-testid": "identity-security-key" }, el("span", { class: "mono" }, id), " ", reason, " ", remove, outcome);
}
