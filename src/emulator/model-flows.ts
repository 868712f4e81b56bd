// What the firewall models need to know of a batch's connections (issue 19: lantop's traffic
// classes count by protocol and port): one flow per connection with bytes in the batch, in the
// direction the packets travel — up (LAN → WAN) from the connection's source port to its
// destination (the remote service's) port, down the other way. The flows' packets add up to the
// batch's exactly (largest remainder by bytes), so a chain that walks them one by one counts the
// same packets and bytes as one walk of the whole batch. Pure.
import type { Connection } from './model-conntrack-state.js';

export interface ModelFlow {
  protocol: number;
  sourcePort: number;
  destinationPort: number;
  packets: number;
  bytes: number;
}

/** The flows of `connections` carrying `bytesOf[i]` each (0: none), `packets` in all. */
export function flowsOf(connections: readonly Connection[], bytesOf: readonly number[], packets: number, direction: 'up' | 'down'): ModelFlow[] {
  const flows: ModelFlow[] = [];
  let bytes = 0;
  for (let i = 0; i < connections.length; i++) {
    const share = bytesOf[i] ?? 0;
    if (share <= 0) continue;
    const c = connections[i] as Connection;
    const isUp = direction === 'up';
    flows.push({ protocol: c.protocol, sourcePort: isUp ? c.sourcePort : c.destinationPort, destinationPort: isUp ? c.destinationPort : c.sourcePort, packets: 0, bytes: share });
    bytes += share;
  }
  if (bytes === 0) return flows;
  let given = 0;
  const remainders: Array<[number, number]> = [];
  for (let i = 0; i < flows.length; i++) {
    const exact = (packets * (flows[i] as ModelFlow).bytes) / bytes;
    (flows[i] as ModelFlow).packets = Math.floor(exact);
    given += Math.floor(exact);
    remainders.push([exact - Math.floor(exact), i]);
  }
  remainders.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let k = 0; k < packets - given; k++) (flows[(remainders[k % remainders.length] as [number, number])[1]] as ModelFlow).packets++;
  return flows;
}
