// --pcapFile: a pcap or pcapng file (or stdin), read to its end.
import { defineInput } from '../../component.js';
import { bool, str } from '../../options.js';
import { readCapture } from './reader.js';

export const pcap = defineInput({
  kind: 'input',
  name: 'pcap',
  section: 'capture',
  options: [
    { ...str('pcapFile', 'capture', '', 'Read packets from this pcap or pcapng file ("-" for stdin)'), file: 'input', stdin: true },
    bool('noEtherframe', 'capture', 'The capture has raw IP packets, no Ethernet header'),
  ],
  given: (s) => (s.pcapFile !== '' ? 'pcapFile' : undefined),
  isFile: () => true,
  filePath: (s) => s.pcapFile || undefined,
  async open({ settings, stats }) {
    const frames = readCapture(settings.pcapFile, stats, { noEtherframe: settings.noEtherframe });
    return { feeds: [{ kind: 'frames', frames, inputKind: 'pcap', inputName: settings.pcapFile }], ...(settings.pcapFile === '-' ? { stdin: true } : { file: settings.pcapFile }) };
  },
});
