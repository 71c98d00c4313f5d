import * as net from 'node:net';

export interface HeldPort {
  port: number;
  release(): Promise<void>;
}

/**
 * Holds a free loopback port the way another program would, until released. It hangs up on whoever
 * connects, so a start-up probe's connection cannot keep release() waiting.
 */
export async function holdPort(): Promise<HeldPort> {
  const server = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  return { port, release: () => new Promise((resolve) => server.close(() => resolve())) };
}
