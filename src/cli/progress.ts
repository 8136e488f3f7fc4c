/** A one-line progress bar on stderr for long runs; drawn only on a terminal, at most ten times a second. */
export const PROGRESS_MIN_FILES = 20;
const WIDTH = 24;

export function progressBar(write: (s: string) => void, now: () => number = Date.now): (done: number, total: number) => void {
  let last = -Infinity;
  let drawn = false;
  return (done, total) => {
    if (total < PROGRESS_MIN_FILES) return;
    if (done >= total) {
      if (drawn) write("\r\x1b[K");
      drawn = false;
      return;
    }
    const t = now();
    if (t - last < 100) return;
    last = t;
    const filled = Math.round((done / total) * WIDTH);
    write(`\r\x1b[Kbnlint [${"#".repeat(filled)}${".".repeat(WIDTH - filled)}] ${done}/${total} files`);
    drawn = true;
  };
}
