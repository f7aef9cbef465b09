// When the signals run: every --signalInterval while a live input runs (each signal over its own
// reach back from the newest event written), and once when the run ends: over everything the run
// wrote when it read files (an import), else as at every interval. The range follows the events'
// own time, not the clock, so a log or a capture replayed from the past is judged on its time.
import type { Output } from '../component.js';
import { Periodic } from '../periodic.js';
import type { DnsEvent } from '../event.js';
import type { Log } from '../log.js';
import type { Store } from '../store/connection.js';
import type { SignalDef } from './catalog.js';
import { evaluateSignals } from './evaluate.js';
import type { SignalSettings } from './options.js';

export interface SignalRunnerOptions {
  signals: readonly SignalDef[];
  settings: SignalSettings;
  server: string; // --serverName: the signals look at this capture's rows
  whole: boolean; // at the end, evaluate everything the run wrote (file inputs)
  log: Log;
}

export class SignalRunner {
  private first = Infinity; // the run's earliest and latest event time, ms
  private last = -Infinity;
  private readonly periodic = new Periodic(() => this.evaluate(this.closed && this.opts.whole));
  private closed = false; // the last evaluation is under way
  fired = 0; // stored by this run
  failures = 0; // evaluations the store refused

  /** store: the store once open (a file input starts before it is). */
  constructor(
    private readonly store: Promise<Pick<Store, 'query' | 'exec' | 'database'>>,
    private readonly opts: SignalRunnerOptions,
  ) {}

  /** The output, noting the time range of what goes through it. */
  watch(out: Output): Output {
    const seen = (events: readonly DnsEvent[]) => {
      for (const e of events) {
        const t = e.timeSec * 1000 + e.timeNsec / 1e6;
        if (t < this.first) this.first = t;
        if (t > this.last) this.last = t;
      }
    };
    return {
      name: out.name,
      get ended() {
        return out.ended;
      },
      confirms: out.confirms,
      write: (events, chunk, receipt) => {
        seen(events);
        return out.write(events, chunk, receipt);
      },
      close: () => out.close(),
      inputEnded: out.inputEnded ? () => out.inputEnded!() : undefined,
    };
  }

  /** Evaluates every interval until close() (0: never); the timer does not keep the process alive. */
  start(intervalMs: number): void {
    if (this.opts.signals.length > 0) this.periodic.start(intervalMs);
  }

  /** Stops the timer and evaluates once more (after the writer closed: everything is stored). */
  close(): Promise<void> {
    this.closed = true;
    return this.periodic.close();
  }

  /** One evaluation; never throws (a failure is logged and counted). */
  private async evaluate(whole: boolean): Promise<void> {
    if (this.last < this.first || this.opts.signals.length === 0) return; // nothing written yet
    const until = Math.floor(this.last) + 1;
    const started = Date.now();
    try {
      const fired = await evaluateSignals(await this.store, {
        signals: this.opts.signals,
        settings: this.opts.settings,
        server: this.opts.server,
        from: whole ? Math.floor(this.first) : 'reach',
        until,
        log: this.opts.log,
      });
      this.fired += fired.length;
      // the end of a run says that they ran, and how long they took, even when nothing fired
      const done = { signals: this.opts.signals.length, fired: fired.length, ms: Date.now() - started };
      if (this.closed) this.opts.log.info(done, 'signals evaluated');
      else this.opts.log.debug(done, 'signals evaluated');
    } catch (err) {
      this.failures++;
      this.opts.log.warn({ err: (err as Error).message }, 'cannot evaluate the signals');
    }
  }
}
