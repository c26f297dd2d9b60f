"""The chat benchmark's tables, printed from the figures `bench/chat.py` writes."""

from __future__ import annotations

from bench.harness import print_table


def split(run: dict | None) -> str:
    return "/".join(str(count) for count in run["sockets_per_process"]) if run else "-"


def report(result: dict) -> None:
    print()
    rows = []
    for pair in result["runs"]:
        some = pair["product"] or pair["baseline"]
        empty = dict.fromkeys(
            ["stored", "delivered_per_second", "p50_ms", "p99_ms", "lost", "worker_cpu_ms_per_message"], "-"
        )
        p, b = pair["product"] or empty, pair["baseline"] or empty
        rows.append([
            f"{some['clients']} clients, {some['room_rate']:g}/s a room", some["clients"], some["rooms"],
            some["sent_per_second"], f"{p['stored']}/{some['sent']}", p["delivered_per_second"], p["p50_ms"],
            p["p99_ms"], p["lost"], b["delivered_per_second"], b["p50_ms"], b["p99_ms"], b["lost"],
            pair["throughput_ratio"], p["worker_cpu_ms_per_message"], b["worker_cpu_ms_per_message"],
            split(pair["product"]), split(pair["baseline"]),
        ])  # fmt: skip
    print_table(
        ["run", "clients", "rooms", "sent/s", "stored/sent", "delivered/s", "p50 ms", "p99 ms", "lost",
         "base deliv/s", "base p50", "base p99", "base lost", "ratio", "cpu ms/msg", "base cpu ms/msg",
         "sockets/worker", "base sockets"],
        rows,
    )  # fmt: skip
    if result["echo"]:
        print()
        print_table(
            ["round trip", "clients", "round trips", "p50 ms", "p99 ms"],
            [[e["kind"], e["clients"], e["round_trips"], e["p50_ms"], e["p99_ms"]] for e in result["echo"]],
        )
    for label, idle in (("idle", result["idle"]), ("idle bare", result["idle_baseline"])):
        if idle:
            print(
                f"\n{label}: {idle['sockets']} sockets on one worker ({idle['answering']} answering): RSS "
                f"{idle['rss_before_mb']} → {idle['rss_after_mb']} MB (+{idle['rss_delta_mb']} MB, "
                f"{idle['kib_per_socket']} KiB a socket)"
            )
