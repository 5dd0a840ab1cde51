// How times read in the UI. A relative age for scanning the queue; the exact
// UTC time is always one hover away, because records are about exact times.

export function age(isoUtc: string, now: Date = new Date()): string {
  const then = new Date(isoUtc);
  const seconds = Math.max(0, Math.round((now.getTime() - then.getTime()) / 1000));
  if (Number.isNaN(seconds)) return "unknown";
  if (seconds < 60) return "just now";
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h`;
  return `${Math.floor(hours / 24)} d`;
}

export function exactUtc(isoUtc: string): string {
  const t = new Date(isoUtc);
  return Number.isNaN(t.getTime()) ? isoUtc : t.toISOString().replace(".000Z", "Z");
}

/// A time as the reader's clock shows it, with the exact UTC time (and
/// anything in `more`) on hover: every time in the window reads this way.
export function localTime(isoUtc: string, more = ""): HTMLTimeElement {
  const t = new Date(isoUtc);
  const node = document.createElement("time");
  node.dateTime = isoUtc;
  node.textContent = Number.isNaN(t.getTime()) ? isoUtc : t.toLocaleString();
  node.title = `${exactUtc(isoUtc)} (UTC)${more ? `; ${more}` : ""}`;
  return node;
}

export function shortSha(sha: string): string {
  return sha.slice(0, 10);
}
