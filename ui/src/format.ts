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

export function shortSha(sha: string): string {
  return sha.slice(0, 10);
}
