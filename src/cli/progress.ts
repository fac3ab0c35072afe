/**
 * A one-line progress bar for a terminal: done/total, images per second and
 * the time left, redrawn in place at most every `minIntervalMs`.
 */
import type { BatchProgress } from '../batch/classify_many.js';

/** m:ss, or h:mm:ss from an hour up. */
export function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** The bar's text for `p`; `runningMs` is the time since the first worker was ready (the rate's denominator). */
export function progressLine(p: BatchProgress, runningMs: number | undefined, width = 24): string {
  const filled = p.total > 0 ? Math.round((width * p.done) / p.total) : 0;
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
  const count = `${p.done}/${p.total}`;
  const failed = p.failed > 0 ? ` (${p.failed} failed)` : '';
  if (runningMs === undefined) return `${bar} ${count}${failed}  loading the model…`;
  const rate = runningMs > 0 ? (1000 * p.done) / runningMs : 0;
  const eta = rate > 0 ? `ETA ${clock((p.total - p.done) / rate)}` : 'ETA –';
  return `${bar} ${count}${failed}  ${rate.toFixed(1)} images/s  ${eta}`;
}

export class ProgressBar {
  private last: BatchProgress | undefined;
  private drawnAt = -Infinity;
  private shown = false;
  private runningSince: number | undefined;
  private pending: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly write: (s: string) => void,
    private readonly minIntervalMs = 100,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Takes the new state; draws it now, or once the interval since the last drawing is over. */
  update(p: BatchProgress): void {
    // The rate counts from the first worker ready to classify: loading the model is not part of it.
    if (this.runningSince === undefined && p.workersReady > 0) this.runningSince = this.now();
    this.last = p;
    this.schedule();
  }

  /** Draws now when the interval since the last drawing is over (unless `later`), else on a timer. */
  private schedule(later = false): void {
    const wait = this.minIntervalMs - (this.now() - this.drawnAt);
    if (wait <= 0 && !later) this.draw();
    else if (!this.pending) {
      this.pending = setTimeout(() => this.draw(), Math.max(0, wait));
      this.pending.unref();
    }
  }

  private draw(): void {
    clearTimeout(this.pending);
    this.pending = undefined;
    if (!this.last) return;
    this.drawnAt = this.now();
    const running = this.runningSince === undefined ? undefined : this.drawnAt - this.runningSince;
    this.write(`\r\x1b[2K${progressLine(this.last, running)}`);
    this.shown = true;
  }

  /** Erases the bar for a line of other output (written right after); it is drawn again on a timer. */
  clear(): void {
    if (this.shown) this.write('\r\x1b[2K');
    this.shown = false;
    if (this.last) this.schedule(true);
  }

  /** Erases the bar for good. */
  stop(): void {
    clearTimeout(this.pending);
    this.pending = undefined;
    this.last = undefined;
    if (this.shown) this.write('\r\x1b[2K');
    this.shown = false;
  }
}
