"""`kafka-detective serve`: run the exporter."""

from __future__ import annotations

import argparse
import logging
import signal
import threading

from kafka_detective.commands._argtypes import port, positive_float
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
    }
    config = load_config(args.config, overrides=overrides)
    logging.getLogger().setLevel(config.log_level.upper())
    # Files, variables and the listen address: serve must not start (nor --check-config say valid) without them.
    check_offline(config)
    if args.check_config:
        if config.web_config_file:
            from kafka_detective.serving.web_config import load_web_config

            load_web_config(config.web_config_file)
        print(f"configuration is valid: {len(config.clusters)} cluster(s)")
        return 0
    from kafka_detective.exporter import Exporter

    exporter = Exporter(config)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    exporter.start()
    print(f"kafka-detective: serving {exporter.server.url}/metrics", flush=True)
    stop.wait()
    exporter.stop()
    return 0
