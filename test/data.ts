// Where the shared test data lives: ../shared beside the repository (as in CI's clone),
// or DNSLENS_SHARED_DIR.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SHARED_DIR = process.env.DNSLENS_SHARED_DIR ?? resolve(dirname(fileURLToPath(import.meta.url)), '../../shared');
export const PCAP_DIR = join(SHARED_DIR, 'data/pcap');
export const SEEDS_DIR = join(SHARED_DIR, 'seeds');
export const LOGS_DIR = join(SHARED_DIR, 'data/logs');
