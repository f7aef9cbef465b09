// The configured transforms, in pipeline order: per-packet ones (sampling, dedup) installed as
// the decoder's keepPacket hook, per-event ones (sampling and dedup of dnstap/log messages,
// matching, then masks and client ids last), and the skip/allow lists of outputs types 2-4.
import { ConfigError, sourceOf, type Config } from './config.js';
import { OPTIONS } from './options.js';
import type { DecodeContext } from '../decode/packet.js';
import type { EventTransform } from '../pipeline.js';
import type { Stats } from '../stats.js';
import { Matcher } from '../transforms/match.js';
import { isSampling, packetSampler, sampleMessages } from '../transforms/sample.js';
import { dedupMessages, packetDeduper } from '../transforms/dedup.js';
import { AddressMasker } from '../transforms/mask.js';
import { ClientIds, readClientIdKey } from '../transforms/clientid.js';
import { privacyTransform } from '../transforms/privacy.js';
import { ReloadingList, type Lists } from '../transforms/domainlist.js';
import { log } from '../log.js';

export function openTransforms(cfg: Config, stats: Stats): EventTransform[] {
  const transforms: EventTransform[] = [];
  // dnstap and log messages are sampled and deduplicated here; packets already were, before decoding.
  if (isSampling(cfg.sampleRatio)) transforms.push(sampleMessages(cfg.sampleRatio, stats));
  if (cfg.dedup) transforms.push(dedupMessages(cfg.dedupCleanupInterval as number, stats));
  // Query/response matching; --matchTimeout 0 turns it off. Masks must come after it: it keys on whole addresses.
  if (cfg.matchTimeout > 0) transforms.push(new Matcher({ timeoutMs: cfg.matchTimeout, stats }));
  const privacy = openPrivacy(cfg);
  if (privacy) transforms.push(privacy); // last: nothing after it sees a real address
  return transforms;
}

/**
 * The keepPacket hook for --dedup and --sampleRatio, or undefined when both are off (no cost per
 * packet). One per run (per Stats): a packet seen on two interfaces is a duplicate.
 */
export function packetFilter(cfg: Config, stats: Stats): DecodeContext['keepPacket'] {
  if (!filters.has(stats)) filters.set(stats, makePacketFilter(cfg, stats));
  return filters.get(stats);
}

const filters = new WeakMap<Stats, DecodeContext['keepPacket']>();

function makePacketFilter(cfg: Config, stats: Stats): DecodeContext['keepPacket'] {
  const dedup = cfg.dedup ? packetDeduper(cfg.dedupCleanupInterval as number, stats) : undefined;
  const sample = isSampling(cfg.sampleRatio) ? packetSampler(cfg.sampleRatio, stats) : undefined;
  if (dedup && sample) return (data, ip, end, frame) => dedup(data, ip, end, frame) && sample();
  if (dedup) return dedup;
  if (sample) return () => sample();
  return undefined;
}

/** Start-up checks of transform options that loadConfig cannot make (the client id key). Throws ConfigError. */
export function checkTransforms(cfg: Config): void {
  openPrivacy(cfg);
}

/**
 * Masks and client ids, or null when neither is on. With client ids, the client address is left
 * out of the event unless --maskSize4 or --maskSize6 is set explicitly: then the masked address
 * is kept next to the id.
 */
export function openPrivacy(cfg: Config): EventTransform | null {
  let key: Buffer | null;
  try {
    key = readClientIdKey(cfg.clientIdKey as string, cfg.clientIdKeyFile as string);
  } catch (e) {
    const option = cfg.clientIdKeyFile ? 'clientIdKeyFile' : 'clientIdKey';
    throw new ConfigError(option, `--${option}: ${(e as Error).message}`);
  }
  const masker = new AddressMasker(cfg.maskSize4, cfg.maskSize6);
  if (!key && !masker.active) return null;
  // Per family: --maskSize4 alone does not keep IPv6 clients (unmasked) next to their ids.
  const maskSet = { v4: sourceOf(cfg, 'maskSize4').kind !== 'default', v6: sourceOf(cfg, 'maskSize6').kind !== 'default' };
  return privacyTransform({
    masker: masker.active ? masker : undefined,
    ids: key ? new ClientIds(key) : undefined,
    keepClientAddress: maskSet,
  });
}

export interface OpenLists {
  lists: Lists;
  /** Starts the background reloads (--skipDomainsRefreshInterval, --allowDomainsRefreshInterval). */
  start(): void;
  /** Reloads both lists now (SIGHUP); a failing reload keeps the previous list. */
  reload(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Loads the skip and allow lists the outputs need (output types 2-4). The first load must
 * succeed: a run never starts with a list it could not read.
 */
export async function openLists(cfg: Config): Promise<OpenLists> {
  for (const o of OPTIONS) {
    if (o.kind !== 'outputType') continue;
    const type = cfg[o.name] as number;
    if ((type === 2 || type === 4) && !cfg.skipDomainsFile) {
      throw new ConfigError('skipDomainsFile', `--${o.name}=${type} applies the skip list, but --skipDomainsFile is not set`);
    }
    if ((type === 3 || type === 4) && !cfg.allowDomainsFile) {
      throw new ConfigError('allowDomainsFile', `--${o.name}=${type} applies the allow list, but --allowDomainsFile is not set`);
    }
  }
  const open = async (option: string, location: string, intervalMs: number): Promise<ReloadingList | undefined> => {
    if (!location) return undefined;
    try {
      return await ReloadingList.open(location, { intervalMs });
    } catch (e) {
      throw new ConfigError(option, `--${option}: ${(e as Error).message}`);
    }
  };
  const skip = await open('skipDomainsFile', cfg.skipDomainsFile, cfg.skipDomainsRefreshInterval);
  const allow = await open('allowDomainsFile', cfg.allowDomainsFile, cfg.allowDomainsRefreshInterval);
  const all = [skip, allow].filter((l): l is ReloadingList => l !== undefined);
  return {
    lists: { skip, allow },
    start: () => all.forEach((l) => l.start()),
    reload: async () => {
      if (all.length === 0) log.info('SIGHUP: no domain lists to reload');
      await Promise.all(all.map((l) => l.reload()));
    },
    close: async () => {
      await Promise.all(all.map((l) => l.stop()));
    },
  };
}
