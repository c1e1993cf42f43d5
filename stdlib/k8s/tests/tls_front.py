"""A TLS front for assay.k8s.fake (which serves plain HTTP), as a cluster's API server is
reached: HTTPS with the cluster's CA, and client certificates verified when the kubeconfig
has them. Bytes are relayed both ways unchanged.

    python3 tls_front.py CERT KEY CA BACKEND_PORT [--require-client-cert]

Prints "port N" once listening on 127.0.0.1, then one line per connection:
"client CN=<common name>" (or "client none"), or "refused <reason>" for a failed handshake.
Ends when stdin closes.
"""

import socket
import ssl
import sys
import threading


def relay(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(conn, ctx, backend_port):
    try:
        tls = ctx.wrap_socket(conn, server_side=True)
    except (ssl.SSLError, OSError) as e:
        print(f"refused {getattr(e, 'reason', None) or e}", flush=True)
        conn.close()
        return
    cert = tls.getpeercert()
    cn = "none"
    if cert:
        for rdn in cert.get("subject", ()):
            for key, value in rdn:
                if key == "commonName":
                    cn = "CN=" + value
    print(f"client {cn}", flush=True)
    back = socket.create_connection(("127.0.0.1", backend_port), timeout=30)
    back.settimeout(None)
    t = threading.Thread(target=relay, args=(back, tls), daemon=True)
    t.start()
    relay(tls, back)
    t.join(timeout=30)
    tls.close()
    back.close()


def main():
    cert, key, ca, backend = sys.argv[1:5]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ctx.load_verify_locations(ca)
    ctx.verify_mode = ssl.CERT_REQUIRED if "--require-client-cert" in sys.argv else ssl.CERT_OPTIONAL
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    print(f"port {listener.getsockname()[1]}", flush=True)

    def accept():
        while True:
            conn, _ = listener.accept()
            conn.settimeout(30)
            threading.Thread(target=serve, args=(conn, ctx, int(backend)), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    sys.stdin.read()


if __name__ == "__main__":
    main()
