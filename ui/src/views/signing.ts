// The signing ceremony in the window: enrolment, then for each change request
// meaning, role and reason → "what you are signing" → password → the
// manifestation derived from the signed record.

import { call } from "../backend";
import { el, replaceChildren } from "../dom";
import { exactUtc, localTime } from "../format";
import type { ApiError, ChangeRequestDetail, Meaning, Review, SignatureDraft, SignerStatus } from "../ipc/contract";
import { ErrorCodes } from "../ipc/contract";
import { WITHDRAW_EVENT, type WithdrawRequest } from "./review";

const MEANINGS: { value: Meaning; label: string }[] = [
  { value: "review", label: "Review — I have reviewed this change" },
  { value: "approval", label: "Approval — I approve this change" },
  { value: "responsibility", label: "Responsibility — I take responsibility for this change" },
  { value: "authorship", label: "Authorship — I am the author of this change" },
  { value: "rejection", label: "Rejection — I reject this change" },
];
const WITHDRAWAL_LABEL = "Withdrawal — I withdraw my earlier signature of this change";

function field(label: string, control: HTMLElement, hint?: string): HTMLElement {
  return el("label", { class: "field" }, el("span", { class: "field-label" }, label), control, hint ? el("span", { class: "muted hint" }, hint) : null);
}

function errorBox(e: ApiError): HTMLElement {
  const locked = e.code === ErrorCodes.SigningLockedOut;
  return el(
    "div",
    { class: "state error", role: "alert", "data-testid": locked ? "lockout" : "sign-error", "data-code": e.code },
    locked ? "Signing is locked after repeated failed attempts. " : "",
    e.message,
  );
}

/// `reviewed` gives the roles the policy lets this signer use; `pushed` runs
/// after a record reached the forge, so the review can show the new status.
export function signingPanel(detail: ChangeRequestDetail, reviewed: Promise<Review | null>, pushed: () => void): HTMLElement {
  const root = el("section", { class: "sign-panel", "data-testid": "sign-panel", "aria-label": "Electronic signature" });
  const refresh = async (withdraw: WithdrawRequest | null = null) => {
    replaceChildren(root, el("p", { class: "muted" }, "Checking your signing key…"));
    try {
      const status = await call("signer_status");
      const review = status.enrolled ? await reviewed : null;
      replaceChildren(root, status.enrolled ? signForm(detail, status, review?.my_roles ?? [], pushed, () => void refresh(), withdraw) : enrolForm(status, () => void refresh()));
    } catch (e) {
      replaceChildren(root, el("h2", {}, "Electronic signature"), errorBox(e as ApiError));
    }
  };
  // A "Withdraw" button on the Signatures tab opens the form on that record,
  // whatever the panel shows now (a form, or the last signature made).
  const onWithdraw = (event: Event) => {
    if (!root.isConnected) {
      document.removeEventListener(WITHDRAW_EVENT, onWithdraw);
      return;
    }
    void refresh((event as CustomEvent<WithdrawRequest>).detail);
  };
  document.addEventListener(WITHDRAW_EVENT, onWithdraw);
  void refresh();
  return root;
}

function enrolForm(status: SignerStatus, done: () => void): HTMLElement {
  const name = el("input", { type: "text", "data-testid": "enrol-name", maxlength: "200", autocomplete: "name" });
  name.value = status.identity.name ?? "";
  const password = el("input", { type: "password", "data-testid": "enrol-password", autocomplete: "new-password" });
  const again = el("input", { type: "password", "data-testid": "enrol-password-again", autocomplete: "new-password" });
  const ack = el("input", { type: "checkbox", "data-testid": "enrol-acknowledge" });
  const ackText = el("span", { "data-testid": "acknowledgement-text" });
  const renderAck = () => (ackText.textContent = status.acknowledgement_template.replace("{name}", name.value.trim() || "[your printed name]"));
  name.addEventListener("input", renderAck);
  renderAck();
  const result = el("div", {});
  const submit = el("button", { type: "submit", class: "primary", "data-testid": "enrol-submit" }, "Create my signing key");
  const form = el(
    "form",
    { class: "sign-form" },
    el("h2", {}, "Enrol to sign"),
    el("p", { class: "muted" }, `You are signed in to the forge as @${status.identity.login} (user ${status.identity.id}). Enrolment creates a signing key on this device, sealed under a signing password in your OS keychain.`),
    field("Printed name", name, "Shown on every signature you make."),
    field("Signing password", password, "At least 12 characters. Not your forge password."),
    field("Repeat the signing password", again),
    el("label", { class: "ack" }, ack, ackText),
    submit,
    result,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (password.value !== again.value) {
      replaceChildren(result, errorBox({ code: "invalid_input", message: "The two passwords differ." }));
      return;
    }
    submit.disabled = true;
    try {
      const enrolment = await call("enrol", { printed_name: name.value, password: password.value, acknowledged: ack.checked });
      password.value = "";
      again.value = "";
      replaceChildren(
        form,
        el("h2", {}, "Enrolled"),
        el("p", {}, "Your key fingerprint: ", el("code", { "data-testid": "enrolled-fingerprint" }, enrolment.fingerprint)),
        el("p", { class: "muted" }, "Give this enrolment record to an administrator for the policy roster:"),
        el("textarea", { class: "record", readonly: true, rows: "8", "data-testid": "enrolment-record" }, enrolment.record_json),
        el("button", { type: "button", class: "primary", "data-testid": "enrol-continue" }, "Continue to signing"),
      );
      form.querySelector("[data-testid=enrol-continue]")?.addEventListener("click", done);
    } catch (e) {
      replaceChildren(result, errorBox(e as ApiError));
      submit.disabled = false;
    }
  });
  return form;
}

function signForm(
  detail: ChangeRequestDetail,
  status: SignerStatus,
  roles: string[],
  pushedToForge: () => void,
  refresh: () => void,
  withdrawing: WithdrawRequest | null,
): HTMLElement {
  const meaning = el("select", { "data-testid": "sign-meaning" }, ...MEANINGS.map((m) => el("option", { value: m.value }, m.label)));
  meaning.value = "approval";
  // The roles the base policy gives this signer; free text only where no policy lists any.
  const role: HTMLInputElement | HTMLSelectElement =
    roles.length > 0
      ? el("select", { "data-testid": "sign-role" }, ...roles.map((r) => el("option", { value: r }, r)))
      : el("input", { type: "text", "data-testid": "sign-role", maxlength: "200", placeholder: "e.g. QA" });
  const reason = el("textarea", { rows: "3", maxlength: "1000", "data-testid": "sign-reason", placeholder: "Why you sign, in your own words (required)" });
  const useKey = el("input", { type: "checkbox", "data-testid": "sign-use-key" });
  useKey.checked = status.security_keys > 0;
  // Several keys (a backup): which one confirms this signature.
  const whichKey = el("select", { "data-testid": "sign-key-choice", "aria-label": "Security key" }, ...status.security_key_ids.map((id, i) => el("option", { value: id }, i === 0 ? `First key (${id.slice(0, 12)}…)` : `Backup key ${i} (${id.slice(0, 12)}…)`)));
  const keySection = securityKeySection(status, refresh);
  const review = el("button", { type: "button", class: "primary", "data-testid": "sign-review" }, "Review what I am signing");
  const step = el("div", {});
  // Withdrawing one of my records (asked for from the Signatures tab): the
  // meaning and role are the record's, fixed, and the draft names it.
  if (withdrawing) {
    meaning.append(el("option", { value: "withdrawal" }, WITHDRAWAL_LABEL));
    meaning.value = "withdrawal";
    if (role instanceof HTMLSelectElement && ![...role.options].some((o) => o.value === withdrawing.role)) role.append(el("option", { value: withdrawing.role }, withdrawing.role));
    role.value = withdrawing.role;
  }
  const cancel = el("button", { type: "button", "data-testid": "withdraw-cancel" }, "Do not withdraw");
  cancel.addEventListener("click", () => refresh());
  const withdrawBanner = withdrawing
    ? el("p", { class: "state warning", "data-testid": "withdrawing" }, `Withdrawing ${withdrawing.what}. The withdrawal is a signed record too: give your reason, review it, and sign. `, cancel)
    : null;
  const draft = (): SignatureDraft => ({
    change_request: { repo: detail.item.repo, number: detail.item.number },
    meaning: meaning.value as Meaning,
    reason: reason.value,
    role: role.value,
    use_security_key: useKey.checked,
    security_key_id: useKey.checked && status.security_key_ids.length > 1 ? whichKey.value : null,
    withdraws: withdrawing?.record ?? null,
  });
  // Once previewed, the form is what is signed: it stays locked until the
  // signer chooses to edit it, which throws the preview away.
  const controls = [meaning, role, reason, useKey, whichKey];
  meaning.disabled = role.disabled = withdrawing !== null;
  const lock = (locked: boolean) => {
    for (const c of controls) c.disabled = locked || (withdrawing !== null && (c === meaning || c === role));
    review.hidden = locked;
    edit.hidden = !locked;
  };
  const edit = el("button", { type: "button", "data-testid": "sign-edit", hidden: true }, "Edit the signature");
  edit.addEventListener("click", () => {
    replaceChildren(step);
    lock(false);
  });
  const showPreview = async () => {
    review.disabled = true;
    try {
      const previewed = draft();
      const preview = await call("preview_signature", previewed);
      lock(true);
      const password = el("input", { type: "password", "data-testid": "sign-password", autocomplete: "current-password" });
      const pin = el("input", { type: "password", "data-testid": "sign-key-pin", autocomplete: "off", inputmode: "numeric" });
      const signButton = el("button", { type: "submit", class: "primary danger", "data-testid": "sign-submit" }, "Sign");
      const outcome = el("div", {});
      const confirm = el(
        "form",
        { class: "sign-confirm" },
        el("h3", {}, "What you are signing"),
        el(
          "dl",
          { class: "facts", "data-testid": "sign-preview" },
          el("dt", {}, "Signer"),
          el("dd", {}, preview.signer),
          el("dt", {}, "Meaning"),
          el("dd", {}, preview.meaning_statement),
          el("dt", {}, "Commit"),
          el("dd", { class: "mono", "data-testid": "preview-commit" }, preview.head_sha),
          el("dt", {}, "Diff SHA-256"),
          el("dd", { class: "mono", "data-testid": "preview-diff" }, preview.diff_sha256),
          el("dt", {}, "Evidence"),
          el("dd", {}, preview.evidence.length === 0 ? "none collected yet" : preview.evidence.map((e) => `${e.name} ${e.sha256}`).join("\n")),
          el("dt", {}, "Signing time"),
          el("dd", { "data-testid": "preview-signed-at" }, localTime(preview.signed_at), " (fixed now; the record carries it)"),
          el("dt", {}, "Record digest"),
          el("dd", { class: "mono", "data-testid": "preview-digest" }, preview.record_digest),
          el("dt", {}, "Valid until"),
          el("dd", { "data-testid": "preview-expires" }, localTime(preview.expires_at)),
        ),
        preview.clock_warning === null ? null : el("p", { class: "state warning", role: "alert", "data-testid": "clock-warning" }, preview.clock_warning),
        field("Signing password", password, "Re-enter it for every signature."),
        useKey.checked ? field("Security key PIN", pin, "Then touch the key when it blinks: it confirms this very record.") : null,
        signButton,
        outcome,
      );
      confirm.addEventListener("submit", async (event) => {
        event.preventDefault();
        signButton.disabled = true;
        try {
          if (Date.now() > Date.parse(preview.expires_at)) {
            replaceChildren(outcome, renewBox("This preview is more than five minutes old: renew it and check what you are signing again."));
            return;
          }
          const signed = await call("sign_change_request", {
            snapshot_id: preview.snapshot_id,
            draft: previewed,
            seen: { head_sha: preview.head_sha, diff_sha256: preview.diff_sha256 },
            password: password.value,
            security_key_pin: useKey.checked ? pin.value : null,
          });
          const pushed = el("p", { class: "muted", "data-testid": "push-result" }, "Sending the record to the forge…");
          replaceChildren(
            root,
            el("h2", {}, "Signed"),
            el("pre", { class: "manifestation", "data-testid": "manifestation" }, signed.manifestation),
            pushed,
            el("details", {}, el("summary", {}, "Signed record (DSSE envelope)"), el("pre", { class: "record" }, signed.envelope_json)),
          );
          // The record is already safe in the ledger; pushing can fail and be retried from the outbox.
          call("push_outbox").then(
            (r) => {
              pushed.textContent = r.failed === 0 ? "Pushed to the forge: records, comment and status updated." : `Waiting in the outbox: ${r.errors.join("; ")}`;
              pushed.dataset.state = r.failed === 0 ? "pushed" : "waiting";
              if (r.failed === 0) pushedToForge();
            },
            (e: ApiError) => {
              pushed.textContent = `Waiting in the outbox: ${e.message}`;
              pushed.dataset.state = "waiting";
            },
          );
        } catch (e) {
          const err = e as ApiError;
          const stale = err.code === ErrorCodes.SigningPreviewExpired || err.code === ErrorCodes.SigningChangedSincePreview;
          replaceChildren(outcome, stale ? renewBox(err.message) : errorBox(err));
          signButton.disabled = stale || err.code === ErrorCodes.SigningLockedOut;
        } finally {
          password.value = "";
        }
      });
      replaceChildren(step, confirm);
      password.focus();
    } catch (e) {
      lock(false);
      replaceChildren(step, errorBox(e as ApiError));
    } finally {
      review.disabled = false;
    }
  };
  // The preview is gone: say why and offer to look again (form still locked).
  const renewBox = (why: string) => {
    const again = el("button", { type: "button", class: "primary", "data-testid": "sign-renew" }, "Preview again");
    again.addEventListener("click", () => void showPreview());
    return el("div", { class: "state warning", role: "alert", "data-testid": "preview-stale" }, why, " ", again);
  };
  review.addEventListener("click", () => void showPreview());
  const root = el(
    "div",
    { class: "sign-form" },
    el("h2", {}, "Electronic signature"),
    el("p", { class: "muted" }, `Signing as ${status.printed_name ?? status.identity.login} · key ${status.fingerprint ?? ""}`),
    withdrawBanner,
    status.locked_until ? errorBox({ code: ErrorCodes.SigningLockedOut, message: `Locked until ${new Date(status.locked_until).toLocaleString()} (${exactUtc(status.locked_until)} UTC).` }) : null,
    field("Meaning", meaning),
    field("Role", role),
    field("Reason", reason),
    status.security_keys > 0 ? el("label", { class: "ack" }, useKey, "Also confirm with my security key (PIN and touch)") : null,
    status.security_key_ids.length > 1 ? field("Which security key", whichKey) : null,
    review,
    edit,
    step,
    keySection,
    passwordSection(),
    rotateSection(detail.item.repo),
    forgottenSection(detail.item.repo, status),
  );
  return root;
}

/// A folded form that sets a new signing password, typed twice and checked
/// alike, and runs `submit` with it; every password field is emptied after,
/// whatever happened. Test ids: `<id>-section`, `<id>-new`, `<id>-again`.
function newPasswordForm(o: {
  id: string;
  summary: string;
  before: HTMLElement[];
  newLabel: string;
  newHint: string;
  againLabel: string;
  button: [string, string];
  secrets: HTMLInputElement[];
  submit: (newPassword: string) => Promise<HTMLElement>;
}): HTMLElement {
  const next = el("input", { type: "password", "data-testid": `${o.id}-new`, autocomplete: "new-password" });
  const again = el("input", { type: "password", "data-testid": `${o.id}-again`, autocomplete: "new-password" });
  const go = el("button", { type: "submit", class: "secondary", "data-testid": o.button[0] }, o.button[1]);
  const result = el("div", { role: "status" });
  const form = el("form", { class: "sign-form" }, ...o.before, field(o.newLabel, next, o.newHint), field(o.againLabel, again), go, result);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (next.value !== again.value) {
      replaceChildren(result, errorBox({ code: ErrorCodes.InvalidInput, message: "The two new passwords differ." }));
      return;
    }
    go.disabled = true;
    try {
      replaceChildren(result, await o.submit(next.value));
    } catch (e) {
      replaceChildren(result, errorBox(e as ApiError));
    } finally {
      for (const secret of [...o.secrets, next, again]) secret.value = "";
      go.disabled = false;
    }
  });
  return el("details", { class: "password-section" }, el("summary", { "data-testid": `${o.id}-section` }, o.summary), form);
}

/// Change the signing password (11.300(b)): the current one, then the new one twice.
function passwordSection(): HTMLElement {
  const current = el("input", { type: "password", "data-testid": "password-current", autocomplete: "current-password" });
  return newPasswordForm({
    id: "password",
    summary: "Change my signing password",
    before: [field("Current signing password", current)],
    newLabel: "New signing password",
    newHint: "At least 12 characters. Your key stays the same; only its seal changes.",
    againLabel: "Repeat the new signing password",
    button: ["password-change", "Change my signing password"],
    secrets: [current],
    submit: async (newPassword) => {
      await call("change_password", { old_password: current.value, new_password: newPassword });
      return el("p", { class: "ok", "data-testid": "password-changed" }, "Signing password changed. Use the new one from now on.");
    },
  });
}

/// Move to a new signing key: the roster change for `repo` is proposed with a
/// record the old key signs; the new key counts once that is merged.
function rotateSection(repo: string): HTMLElement {
  const reason = el("textarea", { rows: "2", "data-testid": "rotate-reason", placeholder: "Why (required): e.g. yearly rotation, new laptop" });
  const current = el("input", { type: "password", "data-testid": "rotate-current", autocomplete: "current-password" });
  return newPasswordForm({
    id: "rotate",
    summary: "Move to a new signing key",
    before: [
      el("p", { class: "muted" }, `The roster of ${repo} lists the new key in your roles once a pull request is approved and merged; until then you cannot sign.`),
      field("Reason", reason),
      field("Current signing password", current, "Your old key signs the rotation record."),
    ],
    newLabel: "The new key's signing password",
    newHint: "At least 12 characters.",
    againLabel: "Repeat it",
    button: ["rotate-submit", "Make a new key and propose it"],
    secrets: [current],
    submit: async (newPassword) => {
      const c = await call("rotate_key", { repo, reason: reason.value, password: current.value, new_password: newPassword });
      return el("p", { class: "ok", "data-testid": "rotate-proposed" }, `Proposed as pull request #${c.number} (${c.record_path}). This device now holds the new key.`);
    },
  });
}

/// A forgotten signing password: a new key, on two administrators'
/// authorizations merged into the repository; the old key is revoked.
function forgottenSection(repo: string, status: SignerStatus): HTMLElement {
  const paths = el("textarea", { rows: "2", class: "mono", "data-testid": "forgot-authorizations", placeholder: ".countersign/key-events/…-reset-authorization-….json, one per line" });
  const ack = el("input", { type: "checkbox", "data-testid": "forgot-acknowledge" });
  return newPasswordForm({
    id: "forgot",
    summary: "I forgot my signing password",
    before: [
      el("p", { class: "muted" }, `Ask two administrators of ${repo} to authorize a reset; once their pull requests are merged, give the paths of their authorizations.`),
      field("Authorizations", paths),
      el("label", { class: "ack" }, ack, status.acknowledgement_template.replace("{name}", status.printed_name ?? status.identity.login)),
    ],
    newLabel: "The new key's signing password",
    newHint: "At least 12 characters.",
    againLabel: "Repeat it",
    button: ["forgot-submit", "Enrol a new key"],
    secrets: [],
    submit: async (newPassword) => {
      const authorizations = paths.value
        .split("\n")
        .map((p) => p.trim())
        .filter((p) => p !== "");
      const c = await call("enrol_after_reset", { repo, authorizations, password: newPassword, acknowledged: ack.checked });
      return el("p", { class: "ok", "data-testid": "forgot-proposed" }, `Proposed as pull request #${c.number}: your new key joins ${c.roles.join(", ")} and the old one is revoked once it is merged.`);
    },
  });
}

/// Register a FIDO2 security key, when this build can reach one and none is registered yet.
function securityKeySection(status: SignerStatus, done: () => void): HTMLElement | null {
  if (!status.security_key_support) return null;
  const backup = status.security_keys > 0;
  const pin = el("input", { type: "password", "data-testid": "key-pin", autocomplete: "off", inputmode: "numeric" });
  const add = el("button", { type: "button", "data-testid": "key-register" }, backup ? "Register a backup security key" : "Register my security key");
  const result = el("div", {});
  add.addEventListener("click", async () => {
    add.disabled = true;
    replaceChildren(result, el("p", { class: "muted" }, "Touch your security key when it blinks…"));
    try {
      await call("register_security_key", { pin: pin.value || null });
      replaceChildren(result, el("p", { class: "ok", "data-testid": "key-registered" }, "Security key registered. Give your updated enrolment record to an administrator."));
      done();
    } catch (e) {
      replaceChildren(result, errorBox(e as ApiError));
    } finally {
      pin.value = "";
      add.disabled = false;
    }
  });
  const form = el(
    "section",
    { class: "security-key" },
    el("h3", {}, backup ? "Backup security key" : "Security key (optional)"),
    el(
      "p",
      { class: "muted" },
      backup
        ? "A second FIDO2 key, for when the first is lost or left at home. Plug it in (and only it), then register."
        : "Register a FIDO2 key to confirm each signature with its PIN and a touch, as well as your password.",
    ),
    field("Security key PIN", pin),
    add,
    result,
  );
  // With one registered, adding a backup is an occasional task: folded away.
  return backup ? el("details", { class: "password-section" }, el("summary", { "data-testid": "key-backup-section" }, "Register a backup security key"), form) : form;
}
