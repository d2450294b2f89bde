// Small formatting helpers shared by the views.

import type { Kind } from "./bindings";

/** "3:45" for a track, "1 h 52 min" for a film, "" when unknown. */
export function duration(secs: number | null | undefined): string {
  if (secs == null || !Number.isFinite(secs) || secs <= 0) return "";
  const s = Math.round(secs);
  if (s < 20 * 60) {
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  }
  const h = Math.floor(s / 3600);
  const m = Math.round((s % 3600) / 60);
  return h > 0 ? `${h} h ${m} min` : `${m} min`;
}

export function bytes(n: number): string {
  if (!Number.isFinite(n) || n <= 0) return "0 B";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 10 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

const KIND_LABELS: Record<Kind, string> = { music: "Music", book: "Book", video: "Video" };

export function kindLabel(kind: Kind): string {
  return KIND_LABELS[kind];
}

/** "Play" for what plays, "Open" for what is read. */
export function openLabel(kind: Kind): string {
  return kind === "book" ? "Open" : "Play";
}

export function timeLeft(secs: number | null | undefined): string {
  if (secs == null || !Number.isFinite(secs)) return "";
  const s = Math.max(0, Math.round(secs));
  if (s >= 3600) return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min left`;
  if (s >= 60) return `${Math.floor(s / 60)} min ${s % 60} s left`;
  return `${s} s left`;
}

export function percent(done: number, total: number | null | undefined): number | null {
  if (!total || total <= 0) return null;
  return Math.min(100, Math.round((100 * done) / total));
}

/** Whether `url` is plain http:// to another machine: requests would cross
 * the network unencrypted, so the window asks first. */
export function isPlainRemote(url: string): boolean {
  const m = /^http:\/\/([^/]*)/i.exec(url.trim());
  if (!m) return false;
  const hostPort = m[1].split("@").pop() ?? "";
  const host = (hostPort.startsWith("[") ? hostPort.slice(1).split("]")[0] : hostPort.split(":")[0]).toLowerCase();
  return !(host === "localhost" || host.startsWith("127.") || host === "::1");
}
