// What every packet input yields: one captured link-layer frame.

export interface Frame {
  tsSec: number; // capture time, seconds since the epoch
  tsNsec: number; // nanoseconds within the second
  linkType: number; // LINKTYPE_* value (pcap / pcapng interface)
  data: Uint8Array; // captured bytes (may be shorter than origLen)
  origLen: number; // length on the wire
}
