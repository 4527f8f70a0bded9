"""`kafka-detective serve`: run the exporter."""

from __future__ import annotations

import argparse
import logging
import signal
import threading

from kafka_detective.commands._argtypes import non_negative_int, port, positive_float, positive_int
from kafka_detective.config import check_offline, load_config

NAME = "serve"
HELP = "Collect lag, offsets and cluster health from Kafka and serve them on /metrics."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="YAML configuration file (or KAFKA_DETECTIVE_CONFIG)")
    parser.add_argument("--bootstrap-server", action="append", dest="bootstrap_servers", metavar="HOST:PORT",
                        help="bootstrap server of a single PLAINTEXT cluster (repeatable)")
    parser.add_argument("--cluster-name", help="the `cluster` label of that cluster (default: default)")
    parser.add_argument("--listen-address", help="HTTP listen address (default 0.0.0.0)")
    parser.add_argument("--listen-port", type=port, help="HTTP port (default 9308)")
    parser.add_argument("--interval-seconds", type=positive_float, help="collection interval (default 15)")
    parser.add_argument("--web.config.file", dest="web_config_file", metavar="FILE",
                        help="TLS and basic auth of the HTTP endpoint, in the Prometheus exporter-toolkit format")
    parser.add_argument("--shard", type=non_negative_int,
                        help="this process's shard, 0 to --total-shards - 1 (sharding.shard; default 0)")
    parser.add_argument("--total-shards", type=positive_int,
                        help="processes the consumer groups and topics are split over (sharding.total_shards; "
                        "default 1: not sharded)")
    parser.add_argument("--pod", metavar="POD_NAME",
                        help="instead of --shard: a StatefulSet pod name, whose ordinal is the shard (sharding.pod)")
    parser.add_argument("--check-config", action="store_true", help="validate the configuration and exit")


def run(args: argparse.Namespace) -> int:
    overrides = {
        "bootstrap_servers": args.bootstrap_servers,
        "cluster_name": args.cluster_name,
        "listen_address": args.listen_address,
        "listen_port": args.listen_port,
        "interval_seconds": args.interval_seconds,
        "log_level": args.log_level,
        "web_config_file": args.web_config_file,
        "sharding": {"shard": args.shard, "total_shards": args.total_shards, "pod": args.pod},
    }
    config = load_config(args.config, overrides=overrides)
    logging.getLogger().setLevel(config.log_level.upper())
    # Files, variables and the listen address: serve must not start (nor --check-config say valid) without them.
    check_offline(config)
    if args.check_config:
        if config.web_config_file:
            from kafka_detective.serving.web_config import load_web_config

            load_web_config(config.web_config_file)
        sharding = config.sharding
        shard = f", shard {sharding.shard} of {sharding.total_shards}" if sharding.total_shards > 1 else ""
        print(f"configuration is valid: {len(config.clusters)} cluster(s){shard}")
        return 0
    from kafka_detective.exporter import Exporter

    stop = threading.Event()
    # The endpoint is served by a second process, the scrape front: should it exit, so does serve (non-zero).
    exporter = Exporter(config, on_exit=stop.set)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    exporter.start()
    print(f"kafka-detective: serving {exporter.server.url}/metrics", flush=True)
    stop.wait()
    exporter.stop()
    return 0 if exporter.front_exit_code is None else 1
