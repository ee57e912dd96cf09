#!/usr/bin/env python3
"""A minimal HTTP CONNECT proxy for the tests: tunnels every CONNECT to one fixed target, whatever host it names.

Usage: connect_proxy.py TARGET_HOST TARGET_PORT
Prints "listening PORT" once ready, then one line "CONNECT host:port" per tunnel it opens.
"""
import select
import socket
import sys
import threading


def relay(client, upstream):
    sockets = [client, upstream]
    try:
        while True:
            readable, _, _ = select.select(sockets, [], [], 30)
            if not readable:
                return
            for source in readable:
                data = source.recv(65536)
                if not data:
                    return
                (upstream if source is client else client).sendall(data)
    finally:
        client.close()
        upstream.close()


def handle(client, target):
    request = b""
    while b"\r\n\r\n" not in request:
        chunk = client.recv(4096)
        if not chunk:
            client.close()
            return
        request += chunk
    line = request.split(b"\r\n", 1)[0].decode("latin-1")
    method, authority = line.split(" ")[:2]
    if method != "CONNECT":
        client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
        client.close()
        return
    print(f"CONNECT {authority}", flush=True)
    upstream = socket.create_connection(target)
    client.sendall(b"HTTP/1.1 200 Connection Established\r\n\r\n")
    relay(client, upstream)


def main():
    target = (sys.argv[1], int(sys.argv[2]))
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    print(f"listening {server.getsockname()[1]}", flush=True)
    while True:
        client, _ = server.accept()
        threading.Thread(target=handle, args=(client, target), daemon=True).start()


if __name__ == "__main__":
    main()
