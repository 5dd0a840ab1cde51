// What the policy says about the open change request: verdict and the exact
// forge status line, the risk assessment, the evidence with its digests, the
// requirements still open and where every signature stands.

import { el, replaceChildren } from "../dom";
import { visibleNodes, visibleSpan } from "../visible";
import { localTime, shortSha } from "../format";
import type { ApiError, ConversationEntry, ForgeReviewState, Review, SignatureView, Standing, Verdict } from "../ipc/contract";

const VERDICT_TEXT: Record<Verdict, string> = {
  approved: "Approved under the policy",
  pending: "Waiting for signatures or evidence",
  rejected: "Rejected",
  failed: "A record fails verification",
  blocked: "Blocked by policy",
};

const STANDING_TEXT: Record<Standing, string> = {
  counted: "counts",
  rejects: "rejects the change",
  not_needed: "valid, not needed",
  stale: "stale",
  refused: "refused",
  invalid: "does not verify",
  withdrawn: "withdrawn by its signer",
  withdraws: "withdraws an earlier signature",
};

/// What a "Withdraw" button asks the signing panel to do (see signing.ts).
export interface WithdrawRequest {
  record: string;
  role: string;
  what: string;
}
export const WITHDRAW_EVENT = "countersign-withdraw";

function signatureRow(s: SignatureView): HTMLElement {
  return el(
    "li",
    { class: `signature standing-${s.standing}`, "data-testid": "signature-row", "data-standing": s.standing },
    el("strong", {}, visibleSpan(s.printed_name || "unreadable record")),
    ` as ${s.role || "?"}${s.meaning ? ` (${s.meaning})` : ""} · `,
    s.signed_at ? localTime(s.signed_at) : "no time",
    " · ",
    el("span", { class: "standing" }, STANDING_TEXT[s.standing]),
    s.reason ? el("div", { class: "reason" }, "Reason: ", visibleSpan(s.reason)) : null,
    s.why ? el("div", { class: "muted why" }, s.why) : null,
    withdrawButton(s),
  );
}

/// My own record that still stands can be taken back, by a signed withdrawal.
function withdrawButton(s: SignatureView): HTMLElement | null {
  const standing = s.standing !== "withdrawn" && s.standing !== "withdraws" && s.standing !== "invalid";
  if (!s.mine || !s.record || !standing || s.meaning === "withdrawal") return null;
  const button = el("button", { type: "button", class: "secondary", "data-testid": "withdraw" }, "Withdraw my signature…");
  const request: WithdrawRequest = { record: s.record, role: s.role, what: `your ${s.meaning ?? "signature"} as ${s.role} of ${new Date(s.signed_at).toLocaleString()}` };
  button.addEventListener("click", () => document.dispatchEvent(new CustomEvent<WithdrawRequest>(WITHDRAW_EVENT, { detail: request })));
  return el("div", {}, button);
}



function assessmentBlock(r: Review): HTMLElement {
  if (r.assessment_error) {
    return el("p", { class: "state error", role: "alert", "data-testid": "assessment-error" }, r.assessment_error);
  }
  const a = r.assessment;
  if (!a) return el("p", { class: "muted", "data-testid": "risk-assessment" }, "No risk assessment in the description.");
  return el(
    "dl",
    { class: "facts", "data-testid": "risk-assessment" },
    el("dt", {}, "Hazard"),
    el("dd", {}, a.hazard),
    el("dt", {}, "Hazardous situation"),
    el("dd", {}, a.hazardous_situation),
    el("dt", {}, "Harm"),
    el("dd", {}, a.harm),
    el("dt", {}, "Severity"),
    el("dd", {}, a.severity),
    el("dt", {}, "Risk before controls"),
    el("dd", { "data-testid": "risk-before" }, `${a.risk_before} (probability ${a.probability_before})`),
    el("dt", {}, "Risk controls"),
    el("dd", {}, a.risk_controls.join("; ")),
    el("dt", {}, "Risk after controls"),
    el("dd", { "data-testid": "risk-after" }, `${a.risk_after} (probability ${a.probability_after})`),
    el("dt", {}, "Verification"),
    el("dd", {}, a.verification.join("; ")),
    el("dt", {}, "Digest"),
    el("dd", { class: "mono" }, a.digest),
  );
}

function evidenceBlock(r: Review): HTMLElement {
  const tests = r.tests
    ? `${r.tests.passed} passed, ${r.tests.failed} failed, ${r.tests.skipped} skipped`
    : "no test results";
  const coverage = r.coverage_percent === null ? "no coverage report" : `${r.coverage_percent.toFixed(1)}% of lines`;
  return el(
    "div",
    { class: "evidence" },
    el(
      "dl",
      { class: "facts" },
      el("dt", {}, "Tests"),
      el("dd", { "data-testid": "tests-summary" }, tests),
      r.tests && r.tests.failing.length > 0 ? el("dt", {}, "Failing") : null,
      r.tests && r.tests.failing.length > 0 ? el("dd", { class: "mono" }, r.tests.failing.join("\n")) : null,
      el("dt", {}, "Coverage"),
      el("dd", { "data-testid": "coverage" }, coverage),
      el("dt", {}, "Findings"),
      el("dd", {}, r.findings.length === 0 ? "no SARIF report" : r.findings.map(([l, n]) => `${n} ${l}`).join(", ")),
      el("dt", {}, "Checks"),
      el("dd", {}, r.checks.length === 0 ? "none reported" : r.checks.map((c) => `${c.name}: ${c.state} (${c.reported_by})`).join(", ")),
    ),
    ...r.evidence_problems.map((p) => el("p", { class: "state error", role: "alert", "data-testid": "evidence-problem" }, p)),
    ...r.evidence_ignored.map((p) => el("p", { class: "muted", "data-testid": "evidence-ignored" }, `Not counted: ${p}`)),
    el(
      "ul",
      { class: "evidence-files" },
      ...r.evidence.map((e) =>
        el(
          "li",
          { "data-testid": "evidence-item" },
          el("span", { class: "mono" }, e.name),
          ` · ${e.kind} · ${e.summary} · `,
          el("span", { class: "mono muted", title: e.sha256 }, `sha256 ${shortSha(e.sha256)}…`),
          e.source === null ? null : el("div", { class: "muted", "data-testid": "evidence-source" }, `from ${e.source}`),
        ),
      ),
    ),
  );
}

/// The review's parts, each shown in its own tab of the workspace.
function table(testid: string, head: string[], rows: (string | HTMLElement)[][]): HTMLElement {
  return el(
    "table",
    { class: "evidence-table", "data-testid": testid },
    el("thead", {}, el("tr", {}, ...head.map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, ...rows.map((cells) => el("tr", {}, ...cells.map((c) => el("td", {}, typeof c === "string" ? visibleSpan(c) : c))))),
  );
}

function testProblems(r: Review): HTMLElement | null {
  if (r.test_problems.length === 0) return null;
  return el(
    "div",
    {},
    el("h3", {}, "Tests that did not pass"),
    table(
      "test-problems",
      ["Test", "Outcome", "Message", "Report"],
      r.test_problems.map((p) => [p.name, p.outcome, p.message, p.file]),
    ),
  );
}

function percent(covered: number, of: number): string {
  return of === 0 ? "—" : `${((100 * covered) / of).toFixed(1)}%`;
}

function coverageTable(r: Review): HTMLElement | null {
  if (r.coverage_files.length === 0) return null;
  const c = r.changed_lines_coverage;
  return el(
    "div",
    {},
    el("h3", {}, "Coverage"),
    c === null
      ? null
      : el(
          "p",
          { "data-testid": "changed-lines-coverage" },
          `Changed-lines coverage: ${c.covered} of ${c.changed} changed lines ran (${percent(c.covered, c.changed)}); uncovered changed lines are marked in the diff.`,
        ),
    table(
      "coverage-files",
      ["File", "Lines", "Changed lines"],
      r.coverage_files.map((f) => [
        f.path,
        `${f.lines_covered}/${f.lines_valid} (${percent(f.lines_covered, f.lines_valid)})`,
        f.changed_lines === 0 ? "none changed" : `${f.changed_covered}/${f.changed_lines} (${percent(f.changed_covered, f.changed_lines)})`,
      ]),
    ),
  );
}

function findingsTable(r: Review): HTMLElement | null {
  if (r.finding_list.length === 0) return null;
  return el(
    "div",
    {},
    el("h3", {}, "Findings"),
    table(
      "finding-list",
      ["Level", "Rule", "Message", "Where", "Log"],
      r.finding_list.map((f) => [
        f.level,
        f.rule,
        f.message,
        `${f.path ?? "?"}${f.line === null ? "" : `:${f.line}`}${f.on_changed_line ? " (a changed line)" : ""}`,
        f.file,
      ]),
    ),
  );
}

export interface ReviewView {
  overview: HTMLElement;
  evidence: HTMLElement;
  signatures: HTMLElement;
  conversation: HTMLElement;
  show(review: Review): void;
  failed(error: ApiError): void;
}

function verdictBox(r: Review): HTMLElement {
  return el(
    "div",
    { class: `verdict verdict-${r.verdict}`, "data-testid": "review-verdict", "data-verdict": r.verdict, role: "status" },
    el("strong", {}, VERDICT_TEXT[r.verdict]),
    el("div", { class: "mono", "data-testid": "status-line" }, r.status_line),
    r.offline ? el("div", { class: "muted", "data-testid": "review-offline" }, "Offline copy of the review computed at ", localTime(r.synced_at), ": signatures made since are not shown.") : null,
  );
}

function requirementsList(r: Review): HTMLElement {
  return r.requirements.length === 0
    ? el("p", { class: "muted" }, "No rule of the policy applies.")
    : el(
        "ul",
        { class: "requirements" },
        ...r.requirements.map((q) =>
          el(
            "li",
            { "data-testid": "requirement", "data-role": q.role, "data-met": String(q.met) },
            el("strong", {}, q.role_title),
            ` ${q.signed_by.length}/${q.needed}`,
            q.meanings.length ? ` · ${q.meanings.join(" or ")}` : "",
            q.met ? ` · signed by ${q.signed_by.join(", ")}` : q.may_sign_now ? " · may sign now" : " · waits for an earlier role",
          ),
        ),
      );
}

export function reviewView(): ReviewView {
  const part = (label: string, testid: string) => {
    const root = el("section", { class: "review", "data-testid": testid, "aria-label": label });
    replaceChildren(root, el("p", { class: "muted", "data-testid": "review-loading" }, "Reading the policy, the evidence and the records…"));
    return root;
  };
  const overview = part("Policy review", "review");
  const evidence = part("Evidence", "review-evidence");
  const signatures = part("Signatures", "review-signatures");
  const conversation = el("section", { class: "review", "aria-label": "Reviews on the forge" });
  return {
    overview,
    evidence,
    signatures,
    conversation,
    show(r) {
      replaceChildren(
        overview,
        verdictBox(r),
        r.policy.error
          ? el("p", { class: "state error", role: "alert", "data-testid": "policy-error" }, r.policy.error)
          : el("p", { class: "muted" }, `Policy at the base commit: ${r.policy.digest ?? "none"}`),
        el("h2", {}, "Risk"),
        el("p", {}, "Class computed by the policy: ", el("strong", { "data-testid": "risk-class" }, r.risk_class), r.rules.length ? ` · rules: ${r.rules.join(", ")}` : ""),
        assessmentBlock(r),
        el("h2", {}, "Signatures required"),
        requirementsList(r),
        r.unknown_contributors.length === 0
          ? null
          : el(
              "p",
              { class: "state warning", "data-testid": "unknown-contributors" },
              `Contributors neither the forge nor the roster can name (separation of duties cannot be checked for them): ${r.unknown_contributors.join(", ")}`,
            ),
      );
      replaceChildren(
        signatures,
        r.signatures.length === 0
          ? el("p", { class: "muted" }, "No signatures yet.")
          : el("ul", { class: "signatures" }, ...r.signatures.map(signatureRow)),
      );
      replaceChildren(
        conversation,
        el("h2", {}, "Commits"),
        r.commits.length === 0
          ? el("p", { class: "muted" }, "None listed.")
          : el(
              "ol",
              { class: "commits", "data-testid": "commits" },
              ...r.commits.map((c) =>
                el(
                  "li",
                  { "data-testid": "commit" },
                  el("span", { class: "mono", title: c.sha }, shortSha(c.sha)),
                  " ",
                  visibleSpan(c.message.split("\n")[0] ?? ""),
                  el(
                    "div",
                    { class: "muted" },
                    "author ",
                    visibleSpan(c.author),
                    c.author_linked ? "" : " (no forge account linked)",
                    c.committer === c.author ? null : el("span", {}, " · committer ", visibleSpan(c.committer), c.committer_linked ? "" : " (no forge account linked)"),
                  ),
                  c.message.includes("\n") ? el("div", { class: "pre muted" }, ...visibleNodes(c.message.slice(c.message.indexOf("\n") + 1).trim())) : null,
                ),
              ),
            ),
        el("h2", {}, "Reviews and comments"),
        el("p", { class: "muted" }, "Reviews on the forge are context, not signatures."),
        r.conversation.length === 0
          ? el("p", { class: "muted" }, "None.")
          : el("ol", { class: "conversation", "data-testid": "conversation" }, ...r.conversation.map(conversationEntry)),
      );
      replaceChildren(
        evidence,
        ...r.evidence_checks.map((c) =>
          el("p", { class: c.met ? "ok" : "state warning", "data-testid": "evidence-check", "data-met": String(c.met) }, `${c.what}: ${c.detail}`),
        ),
        evidenceBlock(r),
        testProblems(r),
        coverageTable(r),
        findingsTable(r),
      );
    },
    failed(error) {
      for (const root of [overview, evidence, signatures]) {
        replaceChildren(
          root,
          el("p", { class: "state error", role: "alert", "data-testid": "review-error", "data-code": error.code }, `The policy review could not be loaded: ${error.message}`),
        );
      }
    },
  };
}

const REVIEW_STATE: Record<ForgeReviewState, string> = {
  approved: "approved",
  changes_requested: "requested changes",
  commented: "commented",
  dismissed: "review dismissed",
  pending: "review pending",
  other: "reviewed (state not known to this version)",
};

function conversationEntry(c: ConversationEntry): HTMLElement {
  const review = c.kind === "review";
  return el(
    "li",
    { "data-testid": review ? "forge-review" : "comment", "data-kind": c.kind },
    el("strong", {}, visibleSpan(`@${c.author}`)),
    review && c.review_state ? ` ${REVIEW_STATE[c.review_state]}${c.earlier_commit ? " (on an earlier commit)" : ""}` : " commented",
    " · ",
    c.at ? localTime(c.at) : el("span", { class: "muted" }, "time not given by the forge"),
    c.body ? el("div", { class: review ? "muted pre" : "pre" }, ...visibleNodes(c.body)) : null,
  );
}
