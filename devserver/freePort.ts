import * as net from 'node:net';

/**
 * A loopback TCP port that was free a moment ago (the OS picks it). Like the temporal CLI's own
 * picker, it leaves the port in TIME_WAIT (our side hangs up first), so for ~60 s the OS does not
 * hand it to another bind(0) while an explicit bind with SO_REUSEADDR (Go, Node, werkzeug) still works.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer((socket) => {
      socket.destroy();
      srv.close(() => resolve(port));
    });
    let port = 0;
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      port = (srv.address() as net.AddressInfo).port;
      // The client closes by itself once our side has hung up (allowHalfOpen is off).
      net.connect({ host: '127.0.0.1', port }).on('error', reject);
    });
  });
}

/** True when something accepts TCP connections at host:port within timeoutMs. */
export function canConnect(address: string, timeoutMs = 1000): Promise<boolean> {
  const [host, portText] = [address.slice(0, address.lastIndexOf(':')), address.slice(address.lastIndexOf(':') + 1)];
  return new Promise((resolve) => {
    const socket = net.connect({ host, port: Number(portText) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
