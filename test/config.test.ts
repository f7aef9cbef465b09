import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, checkRunnable, formatIni, helpText, loadConfig, parseBytes, sourceOf, type Config } from '../src/cli/config.js';
import { runInfo } from '../src/cli/open.js';
import { registry } from '../src/cli/registry.js';
import { formatDuration, parseDuration } from '../src/durations.js';
import { PCAP_DIR, SEEDS_DIR } from './data.js';

const OPTIONS = registry.options;
const findOption = (name: string) => registry.findOption(name);

const PCAP = `${PCAP_DIR}/dnscap__dns.pcap`;
const SEED = `${SEEDS_DIR}/004_ecde3941d50f1d7f.txt`;
const dir = mkdtempSync(join(tmpdir(), 'dnslens-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileNo = 0;
function iniFile(text: string): string {
  const path = join(dir, `c${++fileNo}.ini`);
  writeFileSync(path, text);
  return path;
}

/** The ConfigError loadConfig throws (fails the test when it does not throw). */
function configError(argv: string[], env: NodeJS.ProcessEnv = {}): ConfigError {
  try {
    loadConfig(argv, env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error(`no ConfigError for ${JSON.stringify(argv)} ${JSON.stringify(env)}`);
}

describe('precedence', () => {
  it('command line > DNSLENS_ env > DNSMONSTER_ env > INI file > default, for several options at once', () => {
    const ini = iniFile(
      [
        '[general]',
        'serverName = from-ini',
        '[capture]',
        'port = 5300',
        'noEtherframe = true',
        '[clickhouse_output]',
        'clickhouseBatchSize = 500',
        'clickhouseDelay = 3s',
        '[stdout_output]',
        'stdoutOutputFormat = csv',
      ].join('\n'),
    );
    const env = {
      DNSMONSTER_SERVERNAME: 'from-dnsmonster-env',
      DNSLENS_SERVERNAME: 'from-dnslens-env',
      DNSMONSTER_PORT: '5301',
      DNSMONSTER_CLICKHOUSEDELAY: '4s',
      DNSLENS_CLICKHOUSEDELAY: '5s',
    };
    const c = loadConfig(['--config', ini, '--serverName=from-cli', '--noEtherframe=false'], env);
    expect(c.serverName).toBe('from-cli'); // cli beats both env names and INI
    expect(c.noEtherframe).toBe(false); // cli beats INI
    expect(c.clickhouseDelay).toBe(5000); // DNSLENS_ beats DNSMONSTER_ beats INI
    expect(c.port).toEqual([5301]); // DNSMONSTER_ env beats INI
    expect(c.clickhouseBatchSize).toBe(500); // INI beats default
    expect(c.stdoutOutputFormat).toBe('csv');
    expect(c.clickhouseWorkers).toBe(1); // default
    expect(sourceOf(c, 'serverName')).toEqual({ kind: 'cli' });
    expect(sourceOf(c, 'clickhouseDelay')).toEqual({ kind: 'env', name: 'DNSLENS_CLICKHOUSEDELAY' });
    expect(sourceOf(c, 'port')).toEqual({ kind: 'env', name: 'DNSMONSTER_PORT' });
    expect(sourceOf(c, 'clickhouseBatchSize')).toEqual({ kind: 'ini', file: ini, line: 7 });
    expect(sourceOf(c, 'clickhouseWorkers')).toEqual({ kind: 'default' });
  });

  it('finds the INI file through DNSLENS_CONFIG or DNSMONSTER_CONFIG, the command line winning', () => {
    const a = iniFile('[general]\nserverName = a\n');
    const b = iniFile('[general]\nserverName = b\n');
    const c = iniFile('[general]\nserverName = c\n');
    expect(loadConfig([], { DNSMONSTER_CONFIG: a }).serverName).toBe('a');
    expect(loadConfig([], { DNSMONSTER_CONFIG: a, DNSLENS_CONFIG: b }).serverName).toBe('b');
    expect(loadConfig(['--config', c], { DNSMONSTER_CONFIG: a, DNSLENS_CONFIG: b }).serverName).toBe('c');
  });

  it('treats an empty environment variable as unset', () => {
    expect(loadConfig([], { DNSLENS_PORT: '', DNSMONSTER_PORT: '5353' }).port).toEqual([5353]);
    expect(loadConfig([], { DNSLENS_CLICKHOUSEBATCHSIZE: '' }).clickhouseBatchSize).toBe(100000);
  });
});

describe('command line', () => {
  it('matches flag names without case, with =value or a separate value', () => {
    expect(loadConfig(['--PCAPFILE=' + PCAP], {}).pcapFile).toBe(PCAP);
    expect(loadConfig(['--pcapfile', PCAP], {}).pcapFile).toBe(PCAP);
    expect(loadConfig(['--ServerNAME', 'x y'], {}).serverName).toBe('x y');
    expect(loadConfig(['--stdoutoutputtype', '1'], {}).stdoutOutputType).toBe(1);
  });

  it('reads booleans as --flag, --flag=true/false and --flag true/false', () => {
    expect(loadConfig(['--noEtherframe'], {}).noEtherframe).toBe(true);
    expect(loadConfig(['--NOETHERFRAME', '--serverName=s'], {}).noEtherframe).toBe(true);
    expect(loadConfig(['--noEtherframe=true'], {}).noEtherframe).toBe(true);
    expect(loadConfig(['--noEtherframe=false'], {}).noEtherframe).toBe(false);
    expect(loadConfig(['--noEtherframe', 'false'], {}).noEtherframe).toBe(false);
    expect(loadConfig(['--noEtherframe', 'TRUE'], {}).noEtherframe).toBe(true);
    expect(loadConfig([], {}).noEtherframe).toBe(false);
  });

  it('takes values that look like flags or stdin', () => {
    expect(loadConfig(['--pcapFile', '-'], {}).pcapFile).toBe('-');
    expect(loadConfig(['--gomaxprocs', '-1'], {}).gomaxprocs).toBe(-1);
    expect(loadConfig(['--stdoutOutputGoTemplate={{.Qname}} a=b'], {}).stdoutOutputGoTemplate).toBe('{{.Qname}} a=b');
  });

  it('parses port lists, comma separated and repeated, from every source', () => {
    expect(loadConfig(['--port', '53,5353'], {}).port).toEqual([53, 5353]);
    expect(loadConfig(['--port', '53', '--port=5353', '--PORT', '853'], {}).port).toEqual([53, 5353, 853]);
    expect(loadConfig(['--port', '53, 5353,53'], {}).port).toEqual([53, 5353]);
    expect(loadConfig([], { DNSLENS_PORT: '53,8053' }).port).toEqual([53, 8053]);
    expect(loadConfig(['--config', iniFile('[capture]\nport = 53\nport = 5353,853\n')], {}).port).toEqual([53, 5353, 853]);
    expect(loadConfig([], {}).port).toEqual([53]);
  });

  it('names an unknown flag and suggests the closest', () => {
    const e = configError(['--pcapFle=x']);
    expect(e.option).toBe('pcapFle');
    expect(e.message).toBe('unknown flag --pcapFle (did you mean --pcapFile?)');
    expect(configError(['--stdoutOutputTyp', '1']).message).toContain('did you mean --stdoutOutputType?');
    expect(configError(['--completelyunrelatedthing']).message).toBe('unknown flag --completelyunrelatedthing');
  });

  it('refuses stray arguments and a missing value', () => {
    expect(configError(['file.pcap']).message).toContain('unexpected argument "file.pcap"');
    expect(configError(['-pcapFile=x']).message).toContain('flags start with --');
    expect(configError(['--', 'x']).message).toContain('unexpected argument "x"');
    expect(configError(['--pcapFile', '--stdoutOutputType=1']).message).toBe('--pcapFile: expects a value');
    const e = configError(['--pcapFile']);
    expect(e.option).toBe('pcapFile');
    expect(e.message).toBe('--pcapFile: expects a value');
  });

  it('returns at once for --help and --version, and the help lists every flag', () => {
    const c = loadConfig(['-h', '--maskSize4=99'], {});
    expect(c.help).toBe(true);
    expect(loadConfig(['--version'], { DNSLENS_PORT: 'bad' }).version).toBe(true);
    const help = helpText();
    for (const o of OPTIONS) expect(help).toContain(`--${o.name}`);
    expect(help).toContain('DNSLENS_PCAPFILE');
    expect(help).not.toContain('not implemented yet');
  });
});

describe('INI file', () => {
  it('accepts dnsmonster key spellings in any case, in their sections', () => {
    const ini = iniFile(
      [
        '; a dnsmonster style file',
        '# hash comments too',
        'serverName = before-any-section',
        '',
        '[File_Output]',
        'FileOutputType = 1',
        'FileOutputPath = /tmp/out.json',
        'FileOutputFormat = csv_no_headers',
        '[parquet_output]',
        'parquetoutputtype = 0',
        'parquetflushbatchsize = 10000',
        '[stdout_output]',
        'StdoutOutputGoTemplate = {{.}}; # kept as is',
        '[clickhouse_output]',
        'clickhousePassword = " spaced; #secret "',
        'CLICKHOUSEDATABASE=dns',
        '[kafka_output]',
        'KafkaOutputBroker =',
      ].join('\r\n'),
    );
    const c = loadConfig(['--config', ini], {});
    expect(c.serverName).toBe('before-any-section');
    expect(c.fileOutputType).toBe(1);
    expect(c.fileOutputPath).toBe('/tmp/out.json');
    expect(c.fileOutputFormat).toBe('csv_no_header');
    expect(c.parquetOutputType).toBe(0);
    expect(c.stdoutOutputGoTemplate).toBe('{{.}}; # kept as is');
    expect(c.clickhousePassword).toBe(' spaced; #secret ');
    expect(c.clickhouseDatabase).toBe('dns');
    expect(c.kafkaOutputBroker).toEqual([]);
  });

  it('loads every INI block of the dnsmonster documentation', () => {
    const seed = readFileSync(SEED, 'utf8').split('\n');
    const blocks: string[] = [];
    for (let i = 0; i < seed.length; i++) {
      if (!/^\[[a-z_]+\]$/.test(seed[i].trim())) continue;
      blocks.push(seed[i].trim());
      for (i++; i < seed.length && /^(;.*|\s*|[A-Za-z0-9]+ =.*)$/.test(seed[i]); i++) blocks.push(seed[i]);
      i--;
    }
    const keys = blocks.filter((l) => / =/.test(l));
    expect(keys.length).toBeGreaterThan(70);
    const c = loadConfig(['--config', iniFile(blocks.join('\n'))], {});
    expect(c.kafkaOutputTopic).toBe('dnsmonster');
    expect(c.zincTimeout).toBe(10_000);
    expect(c.metricEndpointType).toBe('stderr');
    expect(c.splunkOutputToken).toBe('00000000-0000-0000-0000-000000000000');
  });

  it('knows every flag the dnsmonster documentation lists', () => {
    const seed = readFileSync(SEED, 'utf8');
    const names = new Set<string>();
    for (const m of seed.matchAll(/^\s*•\s+--([A-Za-z0-9]+):/gm)) names.add(m[1]);
    for (const m of seed.matchAll(/^--([A-Za-z0-9]+)=/gm)) names.add(m[1]);
    for (const m of seed.matchAll(/^([A-Za-z0-9]+) =/gm)) names.add(m[1]);
    // the general section is not listed as such in the documentation
    for (const n of ['config', 'serverName', 'logLevel', 'cpuprofile', 'memprofile', 'gomaxprocs', 'packetLimit', 'skipDomainsFile',
      'skipDomainsRefreshInterval', 'allowDomainsFile', 'allowDomainsRefreshInterval', 'skipTLSVerification', 'version', 'maskSize4', 'maskSize6']) {
      names.add(n);
    }
    expect(names.size).toBeGreaterThan(120);
    const missing = [...names].filter((n) => !findOption(n));
    expect(missing).toEqual([]);
  });

  it('reports syntax problems, unknown sections and keys with file and line', () => {
    let e = configError(['--config', iniFile('[general]\nserverName = a\nthis is not ini\n')]);
    expect(e.option).toBe('config');
    expect(e.message).toMatch(/c\d+\.ini:3: cannot parse "this is not ini"/);
    e = configError(['--config', iniFile('[general\n')]);
    expect(e.message).toMatch(/:1: cannot parse/);
    e = configError(['--config', iniFile('[outputs]\n')]);
    expect(e.message).toMatch(/:1: unknown section \[outputs\]/);
    e = configError(['--config', iniFile('[capture]\npcapFiel = x\n')]);
    expect(e.option).toBe('pcapFiel');
    expect(e.message).toMatch(/:2: unknown option "pcapFiel" \(did you mean pcapFile\?\)/);
    e = configError(['--config', iniFile('[general]\npcapFile = x\n')]);
    expect(e.option).toBe('pcapFile');
    expect(e.message).toContain('pcapFile belongs in [capture], not [general]');
    e = configError(['--config', iniFile('[general]\nserverName = a\nservername = b\n')]);
    expect(e.option).toBe('serverName');
    expect(e.message).toContain(':3: serverName is set twice (also on line 2)');
    e = configError(['--config', iniFile('[general]\nwriteConfig = /tmp/x\n')]);
    expect(e.option).toBe('writeConfig');
    e = configError(['--config', iniFile('[general]\nserverName = "unterminated\n')]);
    expect(e.message).toContain('bad quoted value');
    e = configError(['--config', join(dir, 'missing.ini')]);
    expect(e.option).toBe('config');
    expect(e.message).toContain('no such file');
  });

  it('names the file and line of a bad value', () => {
    const ini = iniFile('[general]\n\nmaskSize4 = 33\n');
    const e = configError(['--config', ini]);
    expect(e.option).toBe('maskSize4');
    expect(e.message).toBe(`--maskSize4: 33 is out of range 0..32 (in ${ini}:3)`);
  });
});

describe('writeConfig round trip', () => {
  it('formatIni output loads back to the same values', () => {
    const rules = join(dir, 'skip.csv');
    writeFileSync(rules, 'example.com.,suffix\n');
    const c = loadConfig(
      [
        '--pcapFile', PCAP,
        '--port', '53,5353',
        '--serverName', '  padded name ',
        '--stdoutOutputType=2',
        '--stdoutOutputFormat=gotemplate',
        '--stdoutOutputGoTemplate={{.qname}} ; "quoted"',
        '--fileOutputType=4',
        '--fileOutputPath', join(dir, 'out.csv'),
        '--fileOutputRotateSize=1GiB',
        '--fileOutputRotateInterval=1h30m',
        '--skipDomainsFile', rules,
        '--clickhouseOutputType=1',
        '--clickhouseDelay=250ms',
        '--logLevel=debug',
        '--clickhouseSecure',
      ],
      { DNSLENS_CLICKHOUSETTL: '90', DNSMONSTER_CLICKHOUSEPASSWORD: 'p;w#d' },
    );
    const text = formatIni(c);
    expect(text).toContain('[capture]');
    expect(text).toContain('; default: 53');
    expect(text).toContain('; set by DNSLENS_CLICKHOUSETTL');
    const path = join(dir, 'written.ini');
    writeFileSync(path, text);
    const back = loadConfig(['--config', path], {});
    for (const o of OPTIONS) {
      if (o.cliOnly) continue;
      expect(back[o.name], o.name).toEqual(c[o.name]);
    }
    expect(back.logLevel).toBe('4');
    expect(back.fileOutputRotateSize).toBe(2 ** 30);
    expect(back.fileOutputRotateInterval).toBe(5_400_000);
    // and a file of defaults loads back to the defaults
    const defaults = loadConfig([], {});
    writeFileSync(path, formatIni(defaults));
    const again = loadConfig(['--config', path], {});
    for (const o of OPTIONS) if (!o.cliOnly) expect(again[o.name], o.name).toEqual(defaults[o.name]);
  });

  it('can hide secrets for printing', () => {
    const c = loadConfig(['--clickhousePassword=hunter2'], {});
    expect(formatIni(c, { redact: true })).toContain('clickhousePassword = <redacted>');
    expect(formatIni(c, { redact: true })).not.toContain('hunter2');
    expect(formatIni(c)).toContain('clickhousePassword = hunter2');
  });
});

describe('validation', () => {
  const cases: [string[], NodeJS.ProcessEnv, string, string][] = [
    [['--sampleRatio=3:2'], {}, 'sampleRatio', '--sampleRatio: 3:2 needs 1 <= a <= b'],
    [['--sampleRatio=0:5'], {}, 'sampleRatio', '--sampleRatio: 0:5 needs 1 <= a <= b'],
    [['--sampleRatio=half'], {}, 'sampleRatio', '--sampleRatio: "half" is not a ratio a:b (e.g. 1:10)'],
    [['--maskSize4', '40'], {}, 'maskSize4', '--maskSize4: 40 is out of range 0..32'],
    [['--maskSize6=129'], {}, 'maskSize6', '--maskSize6: 129 is out of range 0..128'],
    [['--stdoutOutputFormat=xml'], {}, 'stdoutOutputFormat', '--stdoutOutputFormat: "xml" is not one of json, csv, csv_no_header, gotemplate, json-ocsf'],
    [['--fileOutputFormat=yaml'], {}, 'fileOutputFormat', '--fileOutputFormat: "yaml" is not one of json, csv, csv_no_header, gotemplate, json-ocsf'],
    [['--port=0'], {}, 'port', '--port: 0 is out of range 1..65535'],
    [['--port=53,70000'], {}, 'port', '--port: 70000 is out of range 1..65535'],
    [['--port=dns'], {}, 'port', '--port: "dns" is not a whole number'],
    [['--port='], {}, 'port', '--port: needs at least one port'],
    [['--pcapFile', '/nonexistent/x.pcap'], {}, 'pcapFile', '--pcapFile: /nonexistent/x.pcap: no such file'],
    [['--pcapFile', '/tmp'], {}, 'pcapFile', '--pcapFile: /tmp: is a directory'],
    [['--skipDomainsFile=/nonexistent/skip.csv'], {}, 'skipDomainsFile', '--skipDomainsFile: /nonexistent/skip.csv: no such file'],
    [['--clickhouseBatchSize=-5'], {}, 'clickhouseBatchSize', '--clickhouseBatchSize: -5 is below the minimum 1'],
    [['--fileOutputRetain=-1'], {}, 'fileOutputRetain', '--fileOutputRetain: -1 is below the minimum 0'],
    [['--clickhouseWorkers=two'], {}, 'clickhouseWorkers', '--clickhouseWorkers: "two" is not a whole number'],
    [['--clickhouseTTL=1.5'], {}, 'clickhouseTTL', '--clickhouseTTL: "1.5" is not a whole number'],
    [['--clickhouseTTL=0'], {}, 'clickhouseTTL', '--clickhouseTTL: 0 is out of range 1..36500'],
    [['--stdoutOutputType=5'], {}, 'stdoutOutputType', '--stdoutOutputType: 5 is out of range 0..4'],
    [['--clickhouseOutputType=-1'], {}, 'clickhouseOutputType', '--clickhouseOutputType: -1 is out of range 0..4'],
    [['--clickhouseDelay=10'], {}, 'clickhouseDelay', '--clickhouseDelay: "10" has no unit (write e.g. 10s)'],
    [['--clickhouseDelay=-1s'], {}, 'clickhouseDelay', '--clickhouseDelay: "-1s" is negative'],
    [['--matchTimeout=soon'], {}, 'matchTimeout', '--matchTimeout: "soon" is not a duration (examples: 500ms, 5s, 1h30m)'],
    [['--fileOutputRotateSize=10XB'], {}, 'fileOutputRotateSize', '--fileOutputRotateSize: "10XB" is not a size (e.g. 0, 500000, 100MB, 1GiB)'],
    [['--noEtherframe=maybe'], {}, 'noEtherframe', '--noEtherframe: "maybe" is not true or false'],
    [['--logLevel=7'], {}, 'logLevel', '--logLevel: "7" is not one of 0, 1, 2, 3, 4'],
    [['--fileOutputType=1'], {}, 'fileOutputPath', '--fileOutputPath: required when --fileOutputType is 1'],
    [[], { DNSLENS_MASKSIZE4: '64' }, 'maskSize4', '--maskSize4: 64 is out of range 0..32 (from DNSLENS_MASKSIZE4)'],
    [[], { DNSMONSTER_STDOUTOUTPUTTYPE: 'yes' }, 'stdoutOutputType', '--stdoutOutputType: "yes" is not a whole number (from DNSMONSTER_STDOUTOUTPUTTYPE)'],
    [['--packetHandlerCount=lots'], {}, 'packetHandlerCount', '--packetHandlerCount: "lots" is not a whole number'],
  ];
  for (const [argv, env, option, message] of cases) {
    it(`${[...argv, ...Object.entries(env).map(([k, v]) => `${k}=${v}`)].join(' ')} -> ${option}`, () => {
      const e = configError(argv, env);
      expect(e.option).toBe(option);
      expect(e.message).toBe(message);
    });
  }

  it('accepts what is valid at the edges', () => {
    const c = loadConfig(
      ['--maskSize6=128', '--port=65535', '--stdoutOutputType=4', '--clickhouseTTL=36500', '--gomaxprocs=-1', '--skipDomainsFile=https://example.com/skip.csv'],
      {},
    );
    expect([c.maskSize6, c.port, c.stdoutOutputType, c.clickhouseTTL, c.gomaxprocs]).toEqual([128, [65535], 4, 36500, -1]);
    expect(configError(['--gomaxprocs=-2']).message).toBe('--gomaxprocs: -2 is below the minimum -1');
    expect(loadConfig(['--fileOutputFormat=JSON-OCSF'], {}).fileOutputFormat).toBe('json-ocsf');
  });

  it('hands --skipTLSVerification, from any source, to every component (RunInfo.skipTlsVerify)', () => {
    expect(runInfo(loadConfig([], {})).skipTlsVerify).toBe(false);
    expect(runInfo(loadConfig(['--skipTLSVerification'], {})).skipTlsVerify).toBe(true);
    expect(runInfo(loadConfig([], { DNSMONSTER_SKIPTLSVERIFICATION: 'true' })).skipTlsVerify).toBe(true);
    expect(runInfo(loadConfig(['--config', iniFile('skipTLSVerification = true\n')], {})).skipTlsVerify).toBe(true);
  });

  it('accepts Go runtime tuning flags with no effect, after checking their type', () => {
    const c = loadConfig(['--gomaxprocs=4', '--packetHandlerCount', '16', '--tcpHandlerCount=2', '--cpuprofile=1', '--stdoutOutputWorkerCount=32'], {});
    expect([c.gomaxprocs, c.packetHandlerCount, c.tcpHandlerCount, c.cpuprofile, c.stdoutOutputWorkerCount]).toEqual([4, 16, 2, '1', 32]);
    expect(findOption('packetHandlerCount')?.noEffect).toBe(true);
  });
});

describe('later flags', () => {
  it('none is left: every flag dnsmonster has is built (kafka was the last)', () => {
    expect(OPTIONS.filter((o) => o.status !== 'ready').map((o) => o.name)).toEqual([]);
    const outputs = OPTIONS.filter((o) => o.kind === 'outputType' && o.status !== 'ready');
    expect(outputs).toEqual([]);
  });

  it('reads the Kafka flags from any source, with dnsmonster names, and checks them', () => {
    const c = loadConfig(['--kafkaCompress', '--kafkaOutputType=0', '--metricEndpointType=stderr'], { DNSMONSTER_KAFKAOUTPUTTOPIC: 'dns.{server}' });
    expect([c.kafkaCompress, c.kafkaOutputType, c.kafkaOutputTopic, c.kafkaCompressiontype]).toEqual([true, 0, 'dns.{server}', 'snappy']);
    const e = configError([], { DNSMONSTER_KAFKAOUTPUTTYPE: '1' });
    expect(e.option).toBe('kafkaOutputBroker');
    expect(e.message).toMatch(/^--kafkaOutputBroker: give the Kafka broker address/);
    const ini = iniFile('[kafka_output]\nKafkaOutputType = 1\nKafkaOutputBroker = k1:9092\nKafkaOutputTopic = dns.{nope}\n');
    expect(configError(['--config', ini]).message).toMatch(new RegExp(`^--kafkaOutputTopic: .*unknown field \\{nope\\}.* \\(in ${ini}:4\\)$`));
    expect(configError(['--logFormat=xml']).message).toBe('--logFormat: "xml" is not one of auto, json, text');
  });
});

describe('checkRunnable', () => {
  it('needs one input and one output', () => {
    const ok: Config = loadConfig(['--pcapFile', PCAP, '--stdoutOutputType=1'], {});
    expect(() => checkRunnable(ok)).not.toThrow();
    expect(() => checkRunnable(loadConfig(['--stdoutOutputType=1'], {}))).toThrow(/--pcapFile: no input given/);
    expect(() => checkRunnable(loadConfig(['--pcapFile', PCAP], {}))).toThrow(/no output enabled/);
  });
});

describe('units', () => {
  it('parses Go durations to milliseconds', () => {
    const table: [string, number][] = [
      ['0', 0],
      ['1s', 1000],
      ['500ms', 500],
      ['5m', 300_000],
      ['1h30m', 5_400_000],
      ['1.5h', 5_400_000],
      ['2h45m30.5s', 9_930_500],
      ['250us', 0.25],
      ['1000ns', 0.001],
    ];
    for (const [text, ms] of table) expect(parseDuration(text), text).toBeCloseTo(ms, 9);
    for (const bad of ['', '1', '1d', 's', '1s2', '-5m', '1 s']) expect(() => parseDuration(bad), bad).toThrow();
  });

  it('formats durations that parse back', () => {
    for (const ms of [0, 1, 250, 1000, 1500, 60_000, 90_000, 5_400_000, 3_600_000, 86_400_000, 0.25, 61_000.5]) {
      expect(parseDuration(formatDuration(ms)), String(ms)).toBeCloseTo(ms, 9);
    }
    expect(formatDuration(5_400_000)).toBe('1h30m');
    expect(formatDuration(60_000)).toBe('1m');
    expect(formatDuration(500)).toBe('500ms');
  });

  it('parses sizes', () => {
    expect(parseBytes('0')).toBe(0);
    expect(parseBytes('1048576')).toBe(1048576);
    expect(parseBytes('10MB')).toBe(10_000_000);
    expect(parseBytes('10mb')).toBe(10_000_000);
    expect(parseBytes('1GiB')).toBe(2 ** 30);
    expect(parseBytes('1.5 KiB')).toBe(1536);
    expect(() => parseBytes('-1MB')).toThrow();
    expect(() => parseBytes('MB')).toThrow();
  });
});
