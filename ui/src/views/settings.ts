// Forge settings: which forge, which repositories, and the account. The token
// goes straight to the OS keychain through the backend and is never shown
// again; the device flow shows only the short user code.

import { call } from "../backend";
import { el, replaceChildren } from "../dom";
import type { ApiError, ForgeKind, ForgeSettings, SettingsView } from "../ipc/contract";

const FORGE_KINDS: Record<ForgeKind, string> = {
  sandbox: "Sandbox (demo data)",
  github: "GitHub or GitHub Enterprise Server",
  gitea: "Gitea",
  forgejo: "Forgejo",
  gitlab: "GitLab.com or self-managed GitLab",
};

// Where each kind's REST root is, and what its token needs (docs/gate.md has the scopes).
const TEA_TOKEN = "Personal access token with read:user, read:repository, write:repository and write:issue.";
const HINTS: Record<ForgeKind, { api: string; token: string }> = {
  sandbox: { api: "Not used: the demo forge runs inside the app.", token: "The demo forge needs no token." },
  github: {
    api: "https://api.github.com/ or https://your-ghes/api/v3/",
    token: "Fine-grained token with: pull requests, contents, actions, issues and commit statuses.",
  },
  gitea: { api: "https://your-gitea/api/v1/", token: TEA_TOKEN },
  forgejo: { api: "https://your-forgejo/api/v1/", token: TEA_TOKEN },
  gitlab: {
    api: "https://gitlab.com/api/v4/ or https://your-gitlab/api/v4/",
    token: "Personal or project access token with api (read_api to read only).",
  },
};

function errorBox(e: ApiError): HTMLElement {
  return el("p", { class: "state error", role: "alert", "data-testid": "settings-error", "data-code": e.code }, e.message);
}

function field(label: string, control: HTMLElement, hint?: HTMLElement | string): HTMLElement {
  const shown = typeof hint === "string" ? el("span", { class: "muted hint" }, hint) : hint ?? null;
  return el("label", { class: "field" }, el("span", { class: "field-label" }, label), control, shown);
}

export function settingsView(): HTMLElement {
  const root = el("section", { class: "settings", "data-testid": "settings", "aria-label": "Settings" });
  replaceChildren(root, el("p", { class: "muted" }, "Loading the settings…"));
  call("settings").then(
    (view) => replaceChildren(root, form(view)),
    (e: ApiError) => replaceChildren(root, errorBox(e)),
  );
  return root;
}

function form(view: SettingsView): HTMLElement {
  const s = view.settings;
  const kind = el("select", { "data-testid": "settings-kind" }, ...(Object.keys(FORGE_KINDS) as ForgeKind[]).map((k) => el("option", { value: k }, FORGE_KINDS[k])));
  kind.value = s.kind;
  const apiUrl = el("input", { type: "url", "data-testid": "settings-api-url", value: s.api_url });
  const webUrl = el("input", { type: "url", "data-testid": "settings-web-url", value: s.web_url });
  const clientId = el("input", { type: "text", "data-testid": "settings-client-id", value: s.oauth_client_id });
  const repos = el("textarea", { rows: "4", "data-testid": "settings-repos", placeholder: "owner/repository, one per line" }, s.repos.join("\n"));
  const notify = el("input", { type: "checkbox", "data-testid": "settings-notifications" });
  notify.checked = s.notifications;
  const current = (): ForgeSettings => ({
    kind: (Object.keys(FORGE_KINDS) as ForgeKind[]).find((k) => k === kind.value) ?? "sandbox",
    api_url: apiUrl.value.trim(),
    web_url: webUrl.value.trim(),
    oauth_client_id: clientId.value.trim(),
    repos: repos.value.split("\n").map((r) => r.trim()).filter((r) => r.length > 0),
    notifications: notify.checked,
  });
  const apiHint = el("span", { class: "muted hint", "data-testid": "settings-api-hint" }, HINTS[s.kind].api);
  const tokenHint = el("span", { class: "muted hint", "data-testid": "settings-token-hint" }, HINTS[s.kind].token);

  const account = el("div", {}, el("p", { "data-testid": "token-state" }, view.token_stored ? "A token for this forge is in your OS keychain." : "No token for this forge yet."));
  const token = el("input", { type: "password", "data-testid": "settings-token", autocomplete: "off", placeholder: "Fine-grained personal access token" });
  const keep = el("button", { type: "button", "data-testid": "settings-token-save" }, "Check and keep in the keychain");
  keep.addEventListener("click", async () => {
    try {
      const me = await call("store_token", { kind: current().kind, api_url: apiUrl.value.trim(), token: token.value });
      replaceChildren(account, el("p", { class: "ok", "data-testid": "token-state" }, `Signed in as @${me.login} (user ${me.id}). The token is in your OS keychain.`));
    } catch (e) {
      replaceChildren(account, errorBox(e as ApiError));
    } finally {
      token.value = "";
    }
  });

  const device = el("button", { type: "button", "data-testid": "settings-device" }, "Sign in with the forge in your browser");
  const deviceState = el("div", {});
  device.addEventListener("click", async () => {
    device.disabled = true;
    try {
      const start = await call("start_device_flow", { kind: current().kind, web_url: webUrl.value.trim(), api_url: apiUrl.value.trim(), client_id: clientId.value.trim() });
      replaceChildren(
        deviceState,
        el("p", {}, "Open ", el("code", { "data-testid": "device-uri" }, start.verification_uri), " in your browser and enter the code ", el("strong", { class: "mono", "data-testid": "device-code" }, start.user_code)),
      );
      let wait = start.interval_seconds;
      for (;;) {
        await new Promise((r) => setTimeout(r, wait * 1000));
        const poll = await call("poll_device_flow");
        if (poll.state === "pending") {
          wait = poll.interval_seconds;
          continue;
        }
        replaceChildren(
          deviceState,
          poll.state === "approved" && poll.person
            ? el("p", { class: "ok", "data-testid": "device-result" }, `Signed in as @${poll.person.login}. The token is in your OS keychain.`)
            : el("p", { class: "state error", role: "alert", "data-testid": "device-result" }, poll.state === "denied" ? "The sign-in was declined in the browser." : "The code expired: start again."),
        );
        break;
      }
    } catch (e) {
      replaceChildren(deviceState, errorBox(e as ApiError));
    } finally {
      device.disabled = false;
    }
  });

  // The hints follow the chosen kind; signing in through the browser is GitHub's and GitLab's.
  const followKind = (): void => {
    const k = current().kind;
    apiHint.textContent = HINTS[k].api;
    tokenHint.textContent = HINTS[k].token;
    device.disabled = k !== "github" && k !== "gitlab";
  };
  kind.addEventListener("change", followKind);
  followKind();

  const save = el("button", { type: "button", class: "primary", "data-testid": "settings-save" }, "Save and connect");
  const outcome = el("div", {});
  save.addEventListener("click", async () => {
    save.disabled = true;
    try {
      await call("save_settings", current());
      // The backend now talks to the new forge: start the window over on it.
      window.location.reload();
    } catch (e) {
      replaceChildren(outcome, errorBox(e as ApiError));
      save.disabled = false;
    }
  });

  return el(
    "div",
    { class: "settings-form" },
    el("h1", {}, "Settings"),
    el("p", { class: "muted", "data-testid": "settings-connected" }, `Connected to ${view.connected_to}`),
    el("h2", {}, "Forge"),
    field("Forge", kind),
    field("API URL", apiUrl, apiHint),
    field("Web URL", webUrl, "https://github.com/ or https://your-ghes/ (for signing in in the browser)"),
    field("Repositories to watch", repos, "Empty: your most recently pushed repositories."),
    el("h2", {}, "Notifications"),
    el("label", { class: "field checkbox" }, notify, el("span", {}, "Tell me when a change newly needs my signature, or when one of my signatures no longer counts")),
    el("h2", {}, "Account"),
    account,
    field("Personal access token", token, tokenHint),
    keep,
    field("OAuth app client id (device flow)", clientId),
    device,
    deviceState,
    el("h2", {}, "Apply"),
    save,
    outcome,
  );
}
