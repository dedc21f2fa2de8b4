// Pure formatting helpers (unit-tested in tests/unit/format.test.ts).

/** 1536 -> "1.5 KiB". */
export function formatBytes(n: number | undefined | null): string {
  if (n === undefined || n === null || !Number.isFinite(n)) return '–';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

/** 3725 -> "1 h 2 min 5 s"; 0.4 -> "0.4 s". */
export function formatDuration(s: number | undefined | null): string {
  if (s === undefined || s === null || !Number.isFinite(s)) return '–';
  if (s < 10 && s % 1 !== 0) return `${s.toFixed(1)} s`;
  let rest = Math.round(s);
  const d = Math.floor(rest / 86400);
  rest -= d * 86400;
  const h = Math.floor(rest / 3600);
  rest -= h * 3600;
  const m = Math.floor(rest / 60);
  const sec = rest - m * 60;
  const parts: string[] = [];
  if (d) parts.push(`${d} d`);
  if (h) parts.push(`${h} h`);
  if (m) parts.push(`${m} min`);
  if (sec || parts.length === 0) parts.push(`${sec} s`);
  return parts.slice(0, 3).join(' ');
}

/** 869525000 -> "869.525 MHz". */
export function formatFrequency(hz: number | undefined | null): string {
  if (!hz) return '–';
  return `${(hz / 1e6).toFixed(3).replace(/\.?0+$/, '')} MHz`;
}

/** An ISO date-time as the browser's local time; "–" when absent. */
export function formatTime(iso: string | undefined | null): string {
  if (!iso) return '–';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

/** The first 12 hex digits of a SHA-256, for tables. */
export function shortHash(h: string | undefined | null): string {
  return h ? h.slice(0, 12) + '…' : '–';
}
