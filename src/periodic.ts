// Work done on a timer and once more at the end: the health snapshots (src/outputs/clickhouse/
// health.ts) and the signal evaluations (src/signals/runner.ts). One run at a time: a tick that
// finds a run in flight is skipped, and the last run waits for the one in flight.
export class Periodic {
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private closed = false;

  constructor(private readonly work: () => Promise<void>) {}

  /** Runs the work every intervalMs until close() (0: never); the timer does not keep the process alive. */
  start(intervalMs: number): void {
    if (this.timer || this.closed || !(intervalMs > 0)) return;
    this.timer = setInterval(() => {
      if (!this.inFlight) void this.run();
    }, intervalMs);
    this.timer.unref();
  }

  /** One run now. */
  run(): Promise<void> {
    const run = this.work().finally(() => {
      if (this.inFlight === run) this.inFlight = null;
    });
    this.inFlight = run;
    return run;
  }

  /** Stops the timer, waits for the run in flight, and runs once more (the first call only). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.inFlight) await this.inFlight;
    await this.run();
  }
}
