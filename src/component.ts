// What every input, transform and output is: a descriptor in its own folder (name, INI section,
// options, counters, how it opens), listed once in src/cli/registry.ts. Components see only
// this file, the event, the stats and their own code, never src/cli/.
import type { DnsEvent, InputKind } from './event.js';
import type { Frame } from './frame.js';
import type { Log } from './log.js';
import type { OptionSpec, Settings } from './options.js';
import type { Counters, Stats } from './stats.js';

// ------------------------------------------------------------------ what flows

/** What an input yields: captured frames (decoded by the pipeline) or ready-made events.
 *  transformed: the events went through another dnslens' transforms already (a sensor's, over a
 *  bus), so they go straight to the outputs (matching again would hold them across batches). */
export type Feed =
  | { kind: 'frames'; frames: AsyncIterable<Frame[]>; inputKind: InputKind; inputName: string }
  | { kind: 'events'; events: AsyncIterable<DnsEvent[]>; transformed?: boolean };

/** A packet-level test run before IP decoding (sampling, dedup): false drops the packet. ipOffset is where the IP header starts. */
export type PacketFilter = (data: Uint8Array, ipOffset: number, end: number, frame: Frame) => boolean;

/** A stage between decoding and the outputs (masks, matching, ...). Transforms run in registry order. */
export interface EventTransform {
  readonly name: string;
  /** The events to pass on: the same array, a filtered one, or one that adds events held before. */
  apply(events: DnsEvent[]): DnsEvent[];
  /** At the end of input: whatever is still held (queries waiting for a response, say). */
  flush?(): DnsEvent[];
  /** Live inputs only: time has passed without events; release what waited too long by nowMs. */
  tick?(nowMs: number): DnsEvent[];
}

// Every sink implements this. Batches keep per-event overhead off the hot path;
// a returned promise is back-pressure: the pipeline waits before sending more.
export interface Output {
  readonly name: string;
  /** chunk: the log chunk the events came in (all of them), for an output that stores log positions. */
  /** receipt: only for an output that confirms, which sends these events as one batch and settles it
   *  when its receiver took them. */
  write(events: readonly DnsEvent[], chunk?: LogChunk, receipt?: Receipt): void | Promise<void>;
  /** write() takes receipts (see Receipt). Without it, a batch counts as stored once write() returned. */
  readonly confirms?: boolean;
  close(): Promise<void>; // flush everything, release resources
  /** True once the output can take nothing more (stdout's reader went away): a run whose outputs all ended stops reading. */
  readonly ended?: boolean;
  /** Called before close() when every input was read to its end (no stop, no failure): what was
   *  written is the whole input (a file import is then complete). */
  inputEnded?(): void;
}

/** A skip or allow list (--skipDomainsFile, --allowDomainsFile). */
export interface NameMatcher {
  matches(qname: string): boolean;
}

export interface Lists {
  skip?: NameMatcher;
  allow?: NameMatcher;
}

// ------------------------------------------------------------------ descriptors

/** What the CLI hands a component when it opens: its own settings, and the run's shared pieces. */
export interface Context<O extends readonly OptionSpec[]> {
  settings: Settings<O>;
  /** True when the option was given (command line, environment or INI), not left at its default. */
  isSet(option: O[number]['name']): boolean;
  log: Log;
  counters: Counters; // this component's own
  stats: Stats; // the pipeline's counters (drops by reason go to stats.dropped)
  run: RunInfo;
}

export interface RunInfo {
  server: string; // --serverName
  ports: readonly number[]; // --port: DNS ports
  metricIntervalMs: number; // --metricFlushInterval
  /** --memoryLimit in bytes (auto resolved); 0 = no limit. Components size what they hold to it. */
  memoryLimit: number;
  timezone?: string; // --timezone, when given (else a store keeps its own zone)
  /** --skipTLSVerification: every TLS connection to a server still encrypts, but accepts any certificate. */
  skipTlsVerify: boolean;
  /** Every input is a file (or stdin): outputs may open while decoding starts. */
  fileInput: boolean;
  /** The files the run reads from start to end (stdin not included): what a store records as imported. */
  files?: readonly InputFile[];
  packetLimit?: number; // --packetLimit (0: no limit): how much of a file is read
  lists: Lists;
  /** Aborted on SIGINT/SIGTERM. */
  signal?: AbortSignal;
  /** Some input reads resolver logs: an output that can keeps their read positions (logLedger). */
  logs?: boolean;
  /** Where log inputs keep their read positions (the store's import ledger), once an output offers one. */
  logLedger?: LogLedger;
}

// ------------------------------------------------------------------ log read positions

/** The store's record of where reading a log file got to (one per file content, however named). */
export interface LogLedger {
  /** The record of a file (by identity: the SHA-256 of its first line), made when there is none;
   *  with onlyKnown, null then. */
  open(file: { input: string; path: string; identity: string; inode: number }): Promise<LogRecord>;
  open(file: { input: string; path: string; identity: string; inode: number }, opts: { onlyKnown: true }): Promise<LogRecord | null>;
  /** When a file was first read under this path (ms since the epoch), or null: never. */
  firstSeen(input: string, path: string): Promise<number | null>;
}

/** A log chunk: lines [start, end) of one file, whose events go out as one insert under one token. */
export interface LogChunk {
  readonly record: LogRecord;
  readonly start: number;
  readonly end: number;
  readonly holdFrom: number; // the parser's heldFrom() after the chunk's last line (end when nothing is held)
  readonly token: string; // the insert's deduplication token: names the file and the range
  readonly indexTimeSec: number; // the IndexTime its rows get, the same when it is cut again
}

export interface LogRecord {
  readonly id: string;
  /** Events of lines before this byte offset are stored. */
  readonly resumeAt: number;
  /** Where to start reading to rebuild what the parser held at resumeAt (<= resumeAt). */
  readonly holdFrom: number;
  /** The file was read to its end before (at resumeAt). */
  readonly complete: boolean;
  /** Chunks cut after resumeAt by an earlier run that may be stored: cut again exactly so. */
  readonly pending: readonly { start: number; end: number }[];
  /** Records a chunk before its events go out (write-ahead), so a run after a crash cuts it again the same. */
  cut(start: number, end: number, holdFrom: number): Promise<LogChunk>;
  /** The file was read to its end (at offset, after the last chunk). Recorded once every chunk is stored. */
  ended(offset: number, size: number): void;
}

// A log input's batch is one chunk: the input tags the array, the pipeline hands the chunk to the
// outputs with what the transforms left of the batch (packets carry none). One tag per chunk, not
// per event.
const chunks = new WeakMap<readonly DnsEvent[], LogChunk>();
export function tagChunk(events: readonly DnsEvent[], chunk: LogChunk): void {
  chunks.set(events, chunk);
}
export function chunkOf(events: readonly DnsEvent[]): LogChunk | undefined {
  return chunks.get(events);
}

// ------------------------------------------------------------------ acknowledged batches

/** A batch its input acknowledges upstream only once the outputs have it (a NATS message: at-least-once
 *  delivery). The input tags the array (tagReceipt); the pipeline gives each output that confirms
 *  (Output.confirms) a share, and settles the others' shares once their write() returned. */
export interface Receipt {
  /** The batch's identity: delivered again, it has the same token, and a store that deduplicates
   *  inserts (ClickHouse) keeps it once. */
  readonly token: string;
  /** The intake time of its rows, the same on every delivery (ClickHouse deduplicates per partition). */
  readonly nowSec: number;
  /** Called once: the output stored the batch, or set it aside for its content (counted there). */
  settled(): void;
}

const receipts = new WeakMap<readonly DnsEvent[], Receipt>();
export function tagReceipt(events: readonly DnsEvent[], receipt: Receipt): void {
  receipts.set(events, receipt);
}
export function receiptOf(events: readonly DnsEvent[]): Receipt | undefined {
  return receipts.get(events);
}

export interface InputFile {
  path: string; // as given
  input: string; // the input component that reads it (pcap, dnstap)
}

interface Base<O extends readonly OptionSpec[]> {
  readonly name: string;
  readonly section: string; // INI section of its options
  readonly options: O;
  /** Counter name -> meaning: reported (also at 0) wherever counters are listed. */
  readonly counters?: Readonly<Record<string, string>>;
  /** Checks that involve several options or outside state; throws ConfigError naming the option.
   *  from(option) is where a value came from, for the message (" (in x.ini:3)", "" on the command line). */
  check?(settings: Settings<O>, from: (option: O[number]['name']) => string): void;
}

export interface OpenedInput {
  feeds: Feed[];
  /** Stops live inputs and listeners (files end by themselves). */
  close?: () => Promise<void>;
  /** The feeds stop and drain by themselves when the run's signal aborts (live capture, sockets). */
  endsOnAbort?: boolean;
  /** Events happen now (interfaces, sockets): capture time is wall time. */
  live?: boolean;
  /** A capture file read from start to end: the progress line shows a bar. */
  file?: string;
  /** Reads standard input (no progress line). */
  stdin?: boolean;
}

export interface InputComponent<O extends readonly OptionSpec[] = readonly OptionSpec[]> extends Base<O> {
  readonly kind: 'input';
  /** The option that asks for this input (for messages), or undefined when it was not asked for. */
  given(settings: Settings<O>): string | undefined;
  /** True for inputs that end by themselves (files): outputs may open meanwhile. */
  isFile?(settings: Settings<O>): boolean;
  /** The file it reads from start to end ('-': stdin), or undefined (not asked for, or not a file). */
  filePath?(settings: Settings<O>): string | undefined;
  open(ctx: Context<O>): Promise<OpenedInput>;
}

export interface OpenedTransform {
  packet?: PacketFilter; // before IP decoding (packet inputs)
  event?: EventTransform; // on decoded events (every input)
}

export interface TransformComponent<O extends readonly OptionSpec[] = readonly OptionSpec[]> extends Base<O> {
  readonly kind: 'transform';
  /** What to run, or null when the options leave it off (no cost per packet then). */
  open(ctx: Context<O>): OpenedTransform | null;
}

/** SQL access to what an output stored, for the reports (a ClickHouse store is one). */
export interface Reader {
  /** Rows of a query; params fill its {name:Type} parameters (sent apart from the SQL, never pasted in). */
  query<T = Record<string, unknown>>(sql: string, params?: Record<string, unknown>): Promise<T[]>;
}

export interface OpenedOutput {
  output: Output;
  /** Where the end-of-run report reads, when this output stores what reports read. */
  reader?: () => Promise<Reader>;
  /** After output.close(): release what the report still needed. */
  dispose?: () => Promise<void>;
  /** Read positions for log inputs, kept in this output's store. */
  logLedger?: LogLedger;
}

export interface OutputComponent<O extends readonly OptionSpec[] = readonly OptionSpec[]> extends Base<O> {
  readonly kind: 'output';
  /** The dnsmonster `<name>OutputType` option: 0 off, 1 all, 2-4 through the domain lists. */
  readonly typeOption: O[number]['name'];
  open(ctx: Context<O>): Promise<OpenedOutput>;
}

export type Component = InputComponent | TransformComponent | OutputComponent;

// Identity functions that keep each component's option names and types (Settings<O>) checked.
export function defineInput<const O extends readonly OptionSpec[]>(c: InputComponent<O>): InputComponent<O> {
  return c;
}
export function defineTransform<const O extends readonly OptionSpec[]>(c: TransformComponent<O>): TransformComponent<O> {
  return c;
}
export function defineOutput<const O extends readonly OptionSpec[]>(c: OutputComponent<O>): OutputComponent<O> {
  return c;
}
