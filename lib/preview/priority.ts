// The preview rule's priority on the preview listener. Pure: the capacity probe supplies the
// priorities already in use when it runs, at deploy time.
//
// During a deploy the outgoing release's rule and the incoming one live on the same listener, and
// a listener refuses two rules with one priority. A release's preferred priority is a hash of its
// id; when that is taken (by the outgoing release, or by a rule of the user's own), the next free
// one in the range is used. So two releases never collide, whatever their ids.

/** Priorities greenlight's preview rules use; 1–9999 are left for rules of the user's own. */
export const PREVIEW_PRIORITY_RANGE = [10_000, 49_999] as const;

/** FNV-1a, 32 bits: stable across Node versions and platforms. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** Where a release's preview rule goes on an empty listener. */
export function preferredPriority(release: string): number {
  const [lo, hi] = PREVIEW_PRIORITY_RANGE;
  return lo + (fnv1a(release) % (hi - lo + 1));
}

/** The first free priority at or after the release's preferred one, wrapping within the range. */
export function previewPriority(release: string, taken: ReadonlySet<number>): number {
  const [lo, hi] = PREVIEW_PRIORITY_RANGE;
  const size = hi - lo + 1;
  const start = preferredPriority(release) - lo;
  for (let step = 0; step < size; step++) {
    const candidate = lo + ((start + step) % size);
    if (!taken.has(candidate)) return candidate;
  }
  throw new Error(`no free preview rule priority in ${lo}–${hi}: every one is taken on the listener`);
}
