// An image sent in parts (several TS004 fragmentation sessions one after the other), as the UI
// tells it (pure; unit-tested). The API gives the plan's parts (POST /api/v1/jobs:plan), the
// job's parts and the part under way (GET /api/v1/jobs/{id}), and each device's part.
import type { Job, Plan } from '../api/client';

/** The plan's parts in words, or null when the image goes in one session. */
export interface PartsText {
  /** "in 3 parts of 1000 fragments (last: 512)" */
  fragments: string;
  /** "100 per part (last: 52), 252 in all" */
  parity: string;
}

export function planParts(p: Plan): PartsText | null {
  const parts = p.parts ?? 1;
  if (parts <= 1) return null;
  const f = p.part_fragments ?? 0;
  const lastF = p.last_part_fragments ?? f;
  const par = p.part_parity_frames ?? 0;
  const lastPar = p.last_part_parity_frames ?? par;
  return {
    fragments: `in ${parts} parts of ${f} fragments` + (lastF !== f ? ` (last: ${lastF})` : ''),
    parity:
      `${par} per part` + (lastPar !== par ? ` (last: ${lastPar})` : '') + `, ${p.parity_frames ?? par * (parts - 1) + lastPar} in all`,
  };
}

/** True when the job's image goes in more than one part. */
export function hasParts(job: Pick<Job, 'parts'> | null | undefined): boolean {
  return (job?.parts ?? 1) > 1;
}

/** "part 2 of 3" for a job in parts, else null. */
export function partOfJob(job: Pick<Job, 'parts' | 'part'>): string | null {
  if (!hasParts(job)) return null;
  const parts = job.parts ?? 1;
  const k = Math.min(Math.max(job.part ?? 1, 1), parts);
  return `part ${k} of ${parts}`;
}
