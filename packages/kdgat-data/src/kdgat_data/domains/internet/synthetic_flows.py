"""Synthetic network flows (the internet domain's built-in data), written as labelled Zeek conn.log.

A seeded small office: 12 internal clients (192.168.1.x), a DNS resolver and two internal servers,
30 external web hosts. Normal traffic: DNS lookups (udp/53), web sessions (tcp/80, 443), file
shares (tcp/445) with plausible sizes and durations, rate following a daily cycle. Attacks
(label ``Malicious``, the kind in ``detailedlabel``):
    port_scan      one client probes many ports of internal hosts (failed S0/REJ flows)
    ddos           many external hosts flood one internal server (SYN flood, S0)
    c2_beacon      an infected client calls one external host at a fixed period, small payloads
    exfiltration   a client sends large uploads to an external host
Layout: ``train_01_normal/conn.log``, ``train_02_with_attacks/conn.log``, ``test_0k_<attack>/conn.log``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from kdgat_schemas import atomic_write

from kdgat_data.generated_dataset import check_new_dataset

FLOW_ATTACKS = ("port_scan", "ddos", "c2_beacon", "exfiltration")
FIELDS = ("ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "service", "duration", "orig_bytes",
          "resp_bytes", "conn_state", "local_orig", "local_resp", "missed_bytes", "history", "orig_pkts", "orig_ip_bytes",
          "resp_pkts", "resp_ip_bytes", "tunnel_parents", "label", "detailedlabel")
CLIENTS = [f"192.168.1.{10 + i}" for i in range(12)]
SERVERS = ["192.168.1.2", "192.168.1.3"]
RESOLVER = "192.168.1.1"
EXTERNAL = [f"93.184.{i}.{20 + i}" for i in range(30)]


def _normal_flows(rng: np.random.Generator, flows: int, start: float) -> list[tuple]:
    rows, t = [], start
    for _ in range(flows):
        hour = (t / 3600) % 24
        t += rng.exponential(2.0 / (0.4 + np.sin(np.pi * hour / 24) ** 2))
        client = CLIENTS[rng.integers(len(CLIENTS))]
        kind = rng.choice(["dns", "web", "share"], p=[0.45, 0.45, 0.10])
        if kind == "dns":
            rows.append((t, client, RESOLVER, 53, "udp", "dns", rng.uniform(0.001, 0.05), 40 + rng.integers(30),
                         80 + rng.integers(200), "SF", 1, 1, "Benign", "-"))
        elif kind == "web":
            rows.append((t, client, EXTERNAL[rng.integers(len(EXTERNAL))], rng.choice([80, 443]), "tcp", "ssl",
                         rng.exponential(2.0), 300 + rng.integers(2000), 1000 + rng.integers(80_000), "SF",
                         5 + rng.integers(30), 5 + rng.integers(60), "Benign", "-"))
        else:
            rows.append((t, client, SERVERS[rng.integers(len(SERVERS))], 445, "tcp", "smb", rng.exponential(5.0),
                         500 + rng.integers(20_000), 500 + rng.integers(200_000), "SF", 10 + rng.integers(50),
                         10 + rng.integers(150), "Benign", "-"))
    return rows


def _attack_flows(rng: np.random.Generator, kind: str, start: float, count: int) -> list[tuple]:
    rows = []
    victim = CLIENTS[rng.integers(len(CLIENTS))]
    target = EXTERNAL[rng.integers(len(EXTERNAL))]
    for k in range(count):
        t = start + k * {"port_scan": 0.05, "ddos": 0.02, "c2_beacon": 30.0, "exfiltration": 5.0}[kind] + rng.uniform(0, 0.01)
        if kind == "port_scan":
            rows.append((t, victim, SERVERS[k % 2], int(rng.integers(1, 1024)), "tcp", "-", 0.0, 0, 0,
                         rng.choice(["S0", "REJ"]), 1, 0, "Malicious", "PartOfAHorizontalPortScan"))
        elif kind == "ddos":
            rows.append((t, EXTERNAL[rng.integers(len(EXTERNAL))], SERVERS[0], 80, "tcp", "-", 0.0, 0, 0, "S0", 2, 0,
                         "Malicious", "DDoS"))
        elif kind == "c2_beacon":
            rows.append((t, victim, target, 8443, "tcp", "ssl", 0.3, 120 + rng.integers(10), 90 + rng.integers(10), "SF",
                         4, 4, "Malicious", "C&C"))
        else:
            rows.append((t, victim, target, 443, "tcp", "ssl", 20.0 + rng.exponential(10), 2_000_000 + rng.integers(10**6),
                         2000, "SF", 1500, 40, "Malicious", "Exfiltration"))
    return rows


def _write(path: Path, rows: list[tuple], rng: np.random.Generator) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["#separator \\x09", "#set_separator\t,", "#empty_field\t(empty)", "#unset_field\t-", "#path\tconn",
             "#fields\t" + "\t".join(FIELDS)]
    for t, src, dst, port, proto, service, duration, out, back, state, packets_out, packets_in, label, detail in sorted(rows):
        uid = "C" + "".join(rng.choice(list("ABCDEFGHJKLMNPQRSTUVWXYZ23456789"), 16))
        lines.append("\t".join(map(str, (f"{t:.6f}", uid, src, int(rng.integers(30_000, 60_000)), dst, port, proto, service,
                                          f"{duration:.6f}", out, back, state, "T", "F", 0, "-", packets_out, out + 40 * packets_out,
                                          packets_in, back + 40 * packets_in, "(empty)", label, detail))))
    atomic_write(path, "\n".join(lines) + "\n")


def generate_flow_dataset(root: str | Path, flows: int = 20_000, seed: int = 0, attacks: list[str] | None = None,
                          overwrite: bool = False) -> Path:
    """A normal capture of ``flows`` flows, one with every attack, and one test scenario per attack."""
    root = Path(root)
    attacks = list(attacks or FLOW_ATTACKS)
    check_new_dataset(root, attacks, FLOW_ATTACKS, "flow", overwrite)
    rng = np.random.default_rng(seed)
    start = 1_600_000_000.0
    normal = _normal_flows(rng, flows, start)
    _write(root / "train_01_normal" / "conn.log", normal, rng)
    mixed = _normal_flows(rng, flows // 2, start + 86_400)
    span = mixed[-1][0] - mixed[0][0]
    for kind in attacks:
        for at in rng.uniform(0.1, 0.9, 2):
            mixed += _attack_flows(rng, kind, mixed[0][0] + at * span, 60)
    _write(root / "train_02_with_attacks" / "conn.log", mixed, rng)
    for k, kind in enumerate(attacks, 1):
        rows = _normal_flows(rng, flows // 4, start + 86_400 * (1 + k))
        span = rows[-1][0] - rows[0][0]
        for at in (0.3, 0.7):
            rows += _attack_flows(rng, kind, rows[0][0] + at * span, 60)
        _write(root / f"test_{k:02d}_{kind}" / "conn.log", rows, rng)
    return root
