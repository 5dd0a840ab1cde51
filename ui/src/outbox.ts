// Records waiting in the outbox reach the forge on their own while the
// window runs: tried again every few seconds, backing off to five minutes
// while the forge stays away, and at once when the system says the network
// is back. A record kept back because its change moved stays until the
// signer reviews the change again.

import { call } from "./backend";

const FIRST_DELAY_MS = 5_000;
const LONGEST_DELAY_MS = 300_000;

export function retryOutbox(pushed: () => void): void {
  let delay = FIRST_DELAY_MS;
  let timer: number | undefined;
  const schedule = () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(() => void attempt(), delay);
  };
  const attempt = async () => {
    try {
      const outbox = await call("outbox");
      if (outbox.items.some((i) => i.state === "pending")) {
        const r = await call("push_outbox");
        if (r.pushed > 0) pushed();
        delay = r.failed === 0 ? FIRST_DELAY_MS : Math.min(delay * 2, LONGEST_DELAY_MS);
      } else {
        delay = FIRST_DELAY_MS;
      }
    } catch {
      delay = Math.min(delay * 2, LONGEST_DELAY_MS);
    }
    schedule();
  };
  window.addEventListener("online", () => {
    delay = FIRST_DELAY_MS;
    void attempt();
  });
  schedule();
}
